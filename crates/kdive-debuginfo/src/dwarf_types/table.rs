//! The name index in its one form, the same in memory and in the cache
//! file: a cached index is mapped and checked, never decoded or copied (a
//! copy of its 5 MB costs more in page faults than the rest of a start).
//!
//! ```text
//! header   magic "KDIVEDWT", version u32, build id length u32,
//!          .debug_info length u64, entries u64, units u64, string bytes u64,
//!          build id
//! entries  key u64, name offset u32, name length u16, space u8, 0 u8, DIE u64
//!          sorted by (key, space, name): one per (space, name)
//! units    offset u64, increasing
//! strings  the names, back to back
//! checksum u64 over all of the above
//! ```
//!
//! All little-endian. The key is a hash of the space and name, so that the
//! sort and the binary search compare integers, not strings.

use std::hash::Hasher;
use std::ops::Deref;

use super::scan::{Fx, Space};

const MAGIC: &[u8; 8] = b"KDIVEDWT";
/// Bumped whenever the format, the key or the choice of DIEs changes
/// (2: enum constants, [`Space::Enumerator`]).
const VERSION: u32 = 2;
const HEADER: usize = 48;
const ENTRY: usize = 24;

/// The sort key of a name: a hash of it and its space, fixed (it is in the
/// cache files).
pub(super) fn key(space: u8, name: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write_u8(space);
    h.write(name);
    h.finish()
}

/// Where the index's bytes live.
pub(super) enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// One name to put in an index: (key, space, name, DIE), sorted.
pub(super) type Row<'a> = (u64, u8, &'a [u8], u64);

/// A checked index.
pub(super) struct NameIndex {
    bytes: Bytes,
    entries: usize,
    n_entries: usize,
    units: usize,
    n_units: usize,
    strings: usize,
}

impl NameIndex {
    /// The index of `rows` (sorted, one per (space, name), names of at
    /// most 64 KB) and `units`, for the file with `build_id` and a
    /// `.debug_info` of `info_len` bytes.
    pub(super) fn new(rows: &[Row<'_>], units: &[u64], build_id: &str, info_len: u64) -> NameIndex {
        let strings_len: usize = rows.iter().map(|r| r.2.len()).sum();
        let id = build_id.as_bytes();
        let mut out = Vec::with_capacity(
            HEADER + id.len() + rows.len() * ENTRY + units.len() * 8 + strings_len + 8,
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(id.len() as u32).to_le_bytes());
        for n in [
            info_len,
            rows.len() as u64,
            units.len() as u64,
            strings_len as u64,
        ] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(id);
        let mut name_off = 0u32;
        for &(key, space, name, die) in rows {
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&name_off.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[space, 0]);
            out.extend_from_slice(&die.to_le_bytes());
            name_off += name.len() as u32;
        }
        for u in units {
            out.extend_from_slice(&u.to_le_bytes());
        }
        for r in rows {
            out.extend_from_slice(r.2);
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        let n_entries = rows.len();
        let entries = HEADER + id.len();
        NameIndex {
            bytes: Bytes::Owned(out),
            entries,
            n_entries,
            units: entries + n_entries * ENTRY,
            n_units: units.len(),
            strings: entries + n_entries * ENTRY + units.len() * 8,
        }
    }

    /// `bytes` as the index of the file with `build_id` and `info_len`
    /// bytes of `.debug_info`, if they are a sound one: see the module
    /// documentation for the checks.
    pub(super) fn from_bytes(bytes: Bytes, build_id: &str, info_len: u64) -> Option<NameIndex> {
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(8)?)?;
        if checksum(body) != u64::from_le_bytes(sum.try_into().ok()?) {
            return None;
        }
        let header = body.get(..HEADER)?;
        let id_len = u32_at(header, 12) as usize;
        let [file_info_len, n_entries, n_units, n_strings] =
            [16, 24, 32, 40].map(|at| usize::try_from(u64_at(header, at)).unwrap_or(usize::MAX));
        let entries = HEADER.checked_add(id_len)?;
        let units = entries.checked_add(n_entries.checked_mul(ENTRY)?)?;
        let strings = units.checked_add(n_units.checked_mul(8)?)?;
        let sound = &header[..8] == MAGIC
            && u32_at(header, 8) == VERSION
            && file_info_len as u64 == info_len
            && body.get(HEADER..entries) == Some(build_id.as_bytes())
            && strings.checked_add(n_strings) == Some(body.len());
        let index = NameIndex {
            bytes,
            entries,
            n_entries,
            units,
            n_units,
            strings,
        };
        (sound && index.entries_sound(info_len) && index.units_sound(info_len)).then_some(index)
    }

    /// Every entry's name and DIE in range, and all in order.
    fn entries_sound(&self, info_len: u64) -> bool {
        let n_strings = self.bytes.len() - 8 - self.strings;
        let mut last: Option<(u64, u8, &[u8])> = None;
        for i in 0..self.n_entries {
            let (key, off, len, space, die) = self.entry(i);
            if Space::from_u8(space).is_none() || off + len > n_strings || die >= info_len {
                return false;
            }
            let this = (key, space, self.name(off, len));
            if last.is_some_and(|l| l >= this) {
                return false;
            }
            last = Some(this);
        }
        true
    }

    fn units_sound(&self, info_len: u64) -> bool {
        let units = self.units();
        units.windows(2).all(|w| w[0] < w[1]) && units.iter().all(|&u| u < info_len)
    }

    /// The whole index, as the cache file holds it.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Entry `i`: key, name offset and length, space, DIE.
    fn entry(&self, i: usize) -> (u64, usize, usize, u8, u64) {
        let e = &self.bytes[self.entries + i * ENTRY..][..ENTRY];
        let len = u16::from_le_bytes([e[12], e[13]]);
        (
            u64_at(e, 0),
            u32_at(e, 8) as usize,
            usize::from(len),
            e[14],
            u64_at(e, 16),
        )
    }

    fn name(&self, off: usize, len: usize) -> &[u8] {
        self.bytes
            .get(self.strings + off..self.strings + off + len)
            .unwrap_or_default()
    }

    /// The DIE for `name` in `space`.
    pub(super) fn lookup(&self, space: Space, name: &str) -> Option<u64> {
        let k = key(space as u8, name.as_bytes());
        // partition_point by hand: the entries are not a slice of structs.
        let (mut lo, mut hi) = (0, self.n_entries);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entry(mid).0 < k {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        (lo..self.n_entries)
            .map(|i| self.entry(i))
            .take_while(|e| e.0 == k)
            .find(|e| e.3 == space as u8 && self.name(e.1, e.2) == name.as_bytes())
            .map(|e| e.4)
    }

    /// How many names it holds.
    pub(super) fn len(&self) -> usize {
        self.n_entries
    }

    /// The offset of every unit, increasing.
    pub(super) fn units(&self) -> Vec<u64> {
        (0..self.n_units)
            .map(|i| u64_at(&self.bytes, self.units + i * 8))
            .collect()
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or_default())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
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
        let mut rows = vec![
            (key(0, b"list_head"), 0, &b"list_head"[..], 0x10),
            (key(4, b"jiffies"), 4, &b"jiffies"[..], 0x20),
            (key(6, b"PIDTYPE_PID"), 6, &b"PIDTYPE_PID"[..], 0x30),
        ];
        rows.sort();
        NameIndex::new(&rows, &[0, 8], "abcd", 0x100)
    }

    fn reread(bytes: &[u8], id: &str, info_len: u64) -> Option<NameIndex> {
        NameIndex::from_bytes(Bytes::Owned(bytes.to_vec()), id, info_len)
    }

    #[test]
    fn round_trip() {
        let index = reread(sample().bytes(), "abcd", 0x100).unwrap();
        assert_eq!(index.lookup(Space::Variable, "jiffies"), Some(0x20));
        assert_eq!(index.lookup(Space::Struct, "list_head"), Some(0x10));
        assert_eq!(index.lookup(Space::Struct, "jiffies"), None);
        assert_eq!(index.lookup(Space::Enumerator, "PIDTYPE_PID"), Some(0x30));
        assert_eq!((index.len(), index.units()), (3, vec![0, 8]));
    }

    #[test]
    fn refuses_stale_or_damaged() {
        let bytes = sample().bytes().to_vec();
        assert!(reread(&bytes, "abce", 0x100).is_none(), "another build id");
        assert!(
            reread(&bytes, "abcd", 0x101).is_none(),
            "another .debug_info"
        );
        assert!(
            reread(&bytes[..bytes.len() - 1], "abcd", 0x100).is_none(),
            "truncated"
        );
        for i in [0, 8, HEADER + 4, bytes.len() - 12] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(reread(&bad, "abcd", 0x100).is_none(), "flipped byte {i}");
        }
        // A file of format 1 (no enum constants: it would answer none)
        // with a sound checksum.
        let mut old = bytes.clone();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        let body = old.len() - 8;
        let sum = checksum(&old[..body]);
        old[body..].copy_from_slice(&sum.to_le_bytes());
        assert!(reread(&old, "abcd", 0x100).is_none(), "format 1");
        // A sound checksum over entries out of order, or pointing outside
        // `.debug_info`, is refused too.
        let mut rows = [(1, 0, &b"b"[..], 0x10), (2, 0, &b"a"[..], 0x10)];
        assert!(reread(
            NameIndex::new(&rows, &[0], "abcd", 0x100).bytes(),
            "abcd",
            0x100
        )
        .is_some());
        rows.swap(0, 1);
        assert!(reread(
            NameIndex::new(&rows, &[0], "abcd", 0x100).bytes(),
            "abcd",
            0x100
        )
        .is_none());
        let far = [(1, 0, &b"b"[..], 0x100)];
        assert!(reread(
            NameIndex::new(&far, &[0], "abcd", 0x100).bytes(),
            "abcd",
            0x100
        )
        .is_none());
    }
}
