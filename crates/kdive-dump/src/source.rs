//! The bytes of a dump file: a read-only memory map of the file, or (for
//! makedumpfile's flattened format) the file the flattened records describe,
//! read in place.

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use crate::error::OpenError;
use crate::flat::FlatView;

/// Bytes held in memory: a map of a file or an owned buffer (tests, fuzzing).
pub(crate) enum Backing {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl Backing {
    pub(crate) fn map(path: &Path) -> Result<Backing, OpenError> {
        let io = |source| OpenError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len == 0 {
            // mmap of an empty file fails on some systems; an empty file is
            // simply not a dump.
            return Ok(Backing::Owned(Vec::new()));
        }
        // SAFETY: the map is read-only. A dump modified while we read it can
        // give us wrong bytes, never unsafety in our code, since every read
        // is bounds-checked against the length taken here.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        #[cfg(unix)]
        {
            let _ = map.advise(memmap2::Advice::Random);
        }
        Ok(Backing::Mapped(map))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => m,
            Backing::Owned(v) => v,
        }
    }
}

/// A readable byte source: either the file itself or a flattened file's view.
pub(crate) enum Source {
    Plain(Backing),
    Flat(FlatView),
}

impl Source {
    /// Length of the (logical) file.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::Plain(b) => b.bytes().len() as u64,
            Source::Flat(f) => f.len(),
        }
    }

    /// `len` bytes at `offset`, borrowed when they are contiguous in memory.
    /// `None` when any of them lies outside the file.
    pub(crate) fn get(&self, offset: u64, len: usize) -> Option<Cow<'_, [u8]>> {
        match self {
            Source::Plain(b) => {
                let bytes = b.bytes();
                let start = usize::try_from(offset).ok()?;
                let end = start.checked_add(len)?;
                bytes.get(start..end).map(Cow::Borrowed)
            }
            Source::Flat(f) => f.get(offset, len),
        }
    }

    /// Like [`Source::get`], but a missing range becomes a "truncated" error
    /// naming `what`.
    pub(crate) fn need(
        &self,
        what: &'static str,
        offset: u64,
        len: usize,
    ) -> Result<Cow<'_, [u8]>, OpenError> {
        self.get(offset, len).ok_or(OpenError::Truncated {
            what,
            offset,
            len: len as u64,
            file_len: self.len(),
        })
    }
}

/// Little-endian field readers over a byte slice already checked for length.
pub(crate) fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}

pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

pub(crate) fn i32_at(b: &[u8], off: usize) -> i32 {
    i32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}

pub(crate) fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

pub(crate) fn i64_at(b: &[u8], off: usize) -> i64 {
    i64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

/// A NUL-terminated string from a fixed-size field.
pub(crate) fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}
