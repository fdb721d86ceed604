//! The one interface every reader above the dump reads virtual memory
//! through: the page-table walker's users, the ORC unwinder, kallsyms, the
//! kernel walkers and the expression evaluator. Tests serve it from made-up
//! memory; the open kernel serves it from the dump.

use thiserror::Error;

use crate::ReadError;

/// Why a read of virtual memory failed.
///
/// The texts are crash's, so that commands print them as crash does.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MemError {
    /// No mapping: crash's "invalid kernel virtual address". `why` is the
    /// translation's account (which level of the page tables had no entry).
    #[error("invalid kernel virtual address: {vaddr:x}")]
    Invalid { vaddr: u64, why: String },
    /// Mapped, but the dump does not hold the page: crash's "read error".
    #[error("read error: kernel virtual address: {vaddr:x} ({source})")]
    Unreadable {
        vaddr: u64,
        #[source]
        source: ReadError,
    },
    /// A physical address the dump does not hold.
    #[error("read error: physical address: {paddr:x} ({source})")]
    Physical {
        paddr: u64,
        #[source]
        source: ReadError,
    },
}

impl MemError {
    /// The address the error is about (virtual, or physical for `Physical`).
    pub fn addr(&self) -> u64 {
        match self {
            MemError::Invalid { vaddr, .. } | MemError::Unreadable { vaddr, .. } => *vaddr,
            MemError::Physical { paddr, .. } => *paddr,
        }
    }

    /// Whether the dump left the page out (its dump level), rather than
    /// the address being invalid or the dump damaged.
    pub fn is_excluded(&self) -> bool {
        matches!(self.read_error(), Some(ReadError::Excluded { .. }))
    }

    /// The dump's account of the missing page, when the address translated.
    pub fn read_error(&self) -> Option<&ReadError> {
        match self {
            MemError::Invalid { .. } => None,
            MemError::Unreadable { source, .. } | MemError::Physical { source, .. } => Some(source),
        }
    }
}

/// Virtual memory: reads of any length at any address, all or nothing.
///
/// Only [`Memory::read`] is required; the rest are little-endian helpers.
pub trait Memory {
    /// Read `buf.len()` bytes at `addr`.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError>;

    /// A little-endian 64-bit word.
    fn read_u64(&self, addr: u64) -> Result<u64, MemError> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// A little-endian 32-bit word.
    fn read_u32(&self, addr: u64) -> Result<u32, MemError> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// A NUL-terminated string of at most `max` bytes (lossy UTF-8).
    fn read_cstr(&self, addr: u64, max: usize) -> Result<String, MemError> {
        let mut out = Vec::new();
        let mut at = addr;
        while out.len() < max {
            // Up to the end of the page, so that a string ending before an
            // unmapped page reads.
            let n = ((0x1000 - (at & 0xfff)) as usize).min(max - out.len());
            let mut b = vec![0u8; n];
            self.read(at, &mut b)?;
            if let Some(end) = b.iter().position(|&c| c == 0) {
                out.extend_from_slice(&b[..end]);
                break;
            }
            out.extend_from_slice(&b);
            at = at.wrapping_add(n as u64);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

impl<T: Memory + ?Sized> Memory for &T {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        (**self).read(addr, buf)
    }
    fn read_cstr(&self, addr: u64, max: usize) -> Result<String, MemError> {
        (**self).read_cstr(addr, max)
    }
}

/// Memory served by a function: an adapter for tests and small tools.
pub struct FnMemory<F>(pub F);

impl<F: Fn(u64, &mut [u8]) -> Result<(), MemError>> Memory for FnMemory<F> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        (self.0)(addr, buf)
    }
}
