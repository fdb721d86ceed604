//! Error types. Opening a dump and reading a page fail in different ways, so
//! they get different types: an [`OpenError`] means the file is unusable as a
//! whole, a [`ReadError`] concerns one address and the session goes on.

use thiserror::Error;

/// Why a dump could not be opened. Offsets are byte offsets in the file (for a
/// flattened dump, in the rebuilt file the records describe).
#[derive(Debug, Error)]
pub enum OpenError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not a vmcore: no ELF, kdump-compressed or flattened signature at offset 0")]
    UnknownFormat,
    #[error("unsupported dump: {0}")]
    Unsupported(String),
    #[error("truncated: {what} at offset {offset:#x} (+{len:#x} bytes) is past the end of the file ({file_len:#x} bytes)")]
    Truncated {
        what: &'static str,
        offset: u64,
        len: u64,
        file_len: u64,
    },
    #[error("bad {what} at offset {offset:#x}: {why}")]
    BadHeader {
        what: &'static str,
        offset: u64,
        why: String,
    },
}

/// Why a read of physical memory failed. Every variant names the physical
/// address, so that callers can report it without more context.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The page was RAM, but the dump level (makedumpfile `-d`) left it out.
    #[error(
        "physical address {addr:#x}: page excluded from the dump (left out by its dump level)"
    )]
    Excluded { addr: u64 },
    /// The address is inside the dump's physical range but is not memory the
    /// dump holds (a hole between RAM ranges, or a page of another split file).
    #[error("physical address {addr:#x}: not in the dump (no memory there)")]
    NotInDump { addr: u64 },
    /// The address is past the highest physical address the dump describes.
    #[error("physical address {addr:#x}: beyond the dump's memory (which ends at {end:#x})")]
    BeyondMemory { addr: u64, end: u64 },
    /// The page's data lies past the end of the file: the dump is truncated
    /// or was left incomplete by its writer.
    #[error("physical address {addr:#x}: page data at file offset {offset:#x} is past the end of the file (truncated dump)")]
    Truncated { addr: u64, offset: u64 },
    /// The page's descriptor or data is damaged.
    #[error("physical address {addr:#x}: corrupt page at file offset {offset:#x}: {why}")]
    Corrupt { addr: u64, offset: u64, why: String },
}

impl ReadError {
    /// The physical address the error is about.
    pub fn addr(&self) -> u64 {
        match self {
            ReadError::Excluded { addr }
            | ReadError::NotInDump { addr }
            | ReadError::BeyondMemory { addr, .. }
            | ReadError::Truncated { addr, .. }
            | ReadError::Corrupt { addr, .. } => *addr,
        }
    }
}
