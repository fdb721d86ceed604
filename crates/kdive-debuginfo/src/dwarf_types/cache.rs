//! The name index on disk, keyed by the file's build id, so that only the
//! first start on a vmlinux pays for the scan.
//!
//! A cache file is used only when everything about it checks out: magic,
//! format version, build id, the length of `.debug_info`, its own length,
//! a checksum over all of it, and every entry pointing inside the strings
//! and `.debug_info`, sorted. Anything else (a truncated write, another
//! version of kdive, a disk error) and the index is rebuilt and the file
//! replaced. Writes go to a temporary file renamed over the old one, so a
//! reader never sees half a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::index::{Entry, NameIndex};
use super::scan::Space;

const MAGIC: &[u8; 8] = b"KDIVEDWT";
/// Bumped whenever the format or the choice of DIEs changes.
const VERSION: u32 = 1;
const HEADER: usize = 48;
const ENTRY: usize = 16;

/// The default directory: `$XDG_CACHE_HOME/kdive`, else `~/.cache/kdive`.
pub(super) fn default_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from);
    let base = match xdg.filter(|p| p.is_absolute()) {
        Some(p) => p,
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("kdive"))
}

/// The cache file of the file with `build_id` in `dir`.
pub(super) fn path(dir: &Path, build_id: &str) -> PathBuf {
    dir.join(format!("{build_id}.types"))
}

/// The index in `file`, if it is a sound cache of a file with `build_id`
/// and a `.debug_info` of `info_len` bytes.
pub(super) fn load(file: &Path, build_id: &str, info_len: u64) -> Option<NameIndex> {
    let bytes = std::fs::read(file).ok()?;
    decode(&bytes, build_id, info_len)
}

/// Write `index` to `file`, atomically; errors are for the caller to
/// ignore (a cache that cannot be written only costs time).
pub(super) fn store(file: &Path, build_id: &str, info_len: u64, index: &NameIndex) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("index"),
        std::process::id()
    ));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&encode(index, build_id, info_len)))
        .and_then(|()| std::fs::rename(&tmp, file));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn encode(index: &NameIndex, build_id: &str, info_len: u64) -> Vec<u8> {
    let id = build_id.as_bytes();
    let mut out = Vec::with_capacity(
        HEADER + id.len() + index.entries.len() * ENTRY + index.units.len() * 8 + index.strings.len() + 8,
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(id.len() as u32).to_le_bytes());
    for n in [info_len, index.entries.len() as u64, index.units.len() as u64, index.strings.len() as u64] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out.extend_from_slice(id);
    for e in &index.entries {
        out.extend_from_slice(&e.name_off.to_le_bytes());
        out.extend_from_slice(&(e.name_len as u16).to_le_bytes());
        out.extend_from_slice(&[e.space, 0]);
        out.extend_from_slice(&e.die.to_le_bytes());
    }
    for u in &index.units {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out.extend_from_slice(&index.strings);
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// A little-endian reader over a byte slice.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }
}

fn decode(bytes: &[u8], build_id: &str, info_len: u64) -> Option<NameIndex> {
    let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
    if checksum(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let mut c = Cursor(body);
    if c.take(8)? != MAGIC || c.u32()? != VERSION {
        return None;
    }
    let id_len = c.u32()? as usize;
    let (file_info_len, n_entries, n_units, n_strings) = (c.u64()?, c.len()?, c.len()?, c.len()?);
    if file_info_len != info_len || c.take(id_len)? != build_id.as_bytes() {
        return None;
    }
    let need = n_entries.checked_mul(ENTRY)?.checked_add(n_units.checked_mul(8)?)?.checked_add(n_strings)?;
    if c.0.len() != need {
        return None;
    }
    let mut entries = Vec::with_capacity(n_entries);
    for _ in 0..n_entries {
        let (name_off, name_len) = (c.u32()?, u32::from(c.u16()?));
        let space = c.take(2)?[0];
        let die = c.u64()?;
        let end = (name_off as usize).checked_add(name_len as usize)?;
        if Space::from_u8(space).is_none() || end > n_strings || die >= info_len {
            return None;
        }
        entries.push(Entry { name_off, name_len, space, die });
    }
    let units = (0..n_units).map(|_| c.u64()).collect::<Option<Vec<u64>>>()?;
    let index = NameIndex {
        entries,
        strings: c.take(n_strings)?.to_vec(),
        units,
    };
    let sorted = index
        .entries
        .windows(2)
        .all(|w| (w[0].space, index.name(&w[0])) < (w[1].space, index.name(&w[1])));
    let units_ok = index.units.windows(2).all(|w| w[0] < w[1]) && index.units.iter().all(|&u| u < info_len);
    (sorted && units_ok).then_some(index)
}

/// A 64-bit checksum of `bytes`, a word at a time (a few GB/s): it is
/// there to catch damaged files, not forgery.
fn checksum(bytes: &[u8]) -> u64 {
    let mut h = 0x9e37_79b9_7f4a_7c15u64 ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
        h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NameIndex {
        NameIndex {
            entries: vec![
                Entry { name_off: 0, name_len: 9, space: 0, die: 0x10 },
                Entry { name_off: 9, name_len: 7, space: 4, die: 0x20 },
            ],
            strings: b"list_headjiffies".to_vec(),
            units: vec![0, 0x8],
        }
    }

    #[test]
    fn round_trip() {
        let bytes = encode(&sample(), "abcd", 0x100);
        assert_eq!(decode(&bytes, "abcd", 0x100), Some(sample()));
        assert_eq!(sample().lookup(Space::Variable, "jiffies"), Some(0x20));
        assert_eq!(sample().lookup(Space::Struct, "jiffies"), None);
    }

    #[test]
    fn refuses_stale_or_damaged() {
        let bytes = encode(&sample(), "abcd", 0x100);
        assert_eq!(decode(&bytes, "abce", 0x100), None, "another build id");
        assert_eq!(decode(&bytes, "abcd", 0x101), None, "another .debug_info");
        assert_eq!(decode(&bytes[..bytes.len() - 1], "abcd", 0x100), None, "truncated");
        for i in [0, 8, HEADER + 4, bytes.len() - 12] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert_eq!(decode(&bad, "abcd", 0x100), None, "flipped byte {i}");
        }
        // A sound checksum over entries out of order is refused too.
        let mut unsorted = sample();
        unsorted.entries.swap(0, 1);
        assert_eq!(decode(&encode(&unsorted, "abcd", 0x100), "abcd", 0x100), None);
    }

    #[test]
    fn store_then_load() {
        let dir = std::env::temp_dir().join(format!("kdive-cache-test-{}", std::process::id()));
        let file = path(&dir, "abcd");
        store(&file, "abcd", 0x100, &sample()).unwrap();
        assert_eq!(load(&file, "abcd", 0x100), Some(sample()));
        std::fs::write(&file, b"garbage").unwrap();
        assert_eq!(load(&file, "abcd", 0x100), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
