//! The name index on disk, keyed by the file's build id, so that only the
//! first start on a vmlinux pays for the scan.
//!
//! A cache file is used only when everything about it checks out (see
//! `table.rs`: magic, format version, build id, the length of
//! `.debug_info`, its own length, a checksum over all of it, every entry
//! inside the strings and `.debug_info`, in order). Anything else (a
//! truncated write, another version of kdive, a disk error) and the index
//! is rebuilt and the file replaced. Writes go to a temporary file renamed
//! over the old one, so a reader never sees half a file, and one mapping
//! the old file keeps reading the old file.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::table::{Bytes, NameIndex};

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
    let f = std::fs::File::open(file).ok()?;
    // SAFETY: read-only, and only read as plain bytes. The file is only
    // ever replaced by a rename, never written in place, so the mapping
    // keeps the contents it was checked with.
    let map = unsafe { memmap2::Mmap::map(&f) }.ok()?;
    NameIndex::from_bytes(Bytes::Mapped(map), build_id, info_len)
}

/// Write `index` to `file`, atomically; errors are for the caller to
/// ignore (a cache that cannot be written only costs time).
pub(super) fn store(file: &Path, index: &NameIndex) -> std::io::Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("index"),
        std::process::id()
    ));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(index.bytes()))
        .and_then(|()| std::fs::rename(&tmp, file));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dwarf_types::scan::Space;
    use crate::dwarf_types::table::key;

    #[test]
    fn store_then_load() {
        let dir = std::env::temp_dir().join(format!("kdive-cache-test-{}", std::process::id()));
        let file = path(&dir, "abcd");
        let index = NameIndex::new(
            &[(key(4, b"jiffies"), 4, b"jiffies", 0x20)],
            &[0],
            "abcd",
            0x100,
        );
        store(&file, &index).unwrap();
        let loaded = load(&file, "abcd", 0x100).unwrap();
        assert_eq!(loaded.lookup(Space::Variable, "jiffies"), Some(0x20));
        assert!(load(&file, "abce", 0x100).is_none());
        std::fs::write(&file, b"garbage").unwrap();
        assert!(load(&file, "abcd", 0x100).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
