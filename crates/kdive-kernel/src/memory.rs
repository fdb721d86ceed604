//! Reading the kernel's virtual memory, with errors that say whether the
//! address does not translate or the memory it translates to is missing.

use kdive_arch::x86_64::{ReadVirtError, XlatError};
use kdive_dump::ReadError;
use thiserror::Error;

use crate::Kernel;

/// Why a read of kernel memory failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MemError {
    /// No mapping: crash's "invalid kernel virtual address".
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
        matches!(
            self,
            MemError::Unreadable { source: ReadError::Excluded { .. }, .. }
                | MemError::Physical { source: ReadError::Excluded { .. }, .. }
        )
    }
}

impl From<ReadVirtError> for MemError {
    fn from(e: ReadVirtError) -> MemError {
        match e {
            // A page table the dump lacks (excluded, truncated) says nothing
            // about whether the address is mapped: a read error, not an
            // invalid address.
            ReadVirtError::Xlat(XlatError::Read { vaddr, source, .. }) => {
                MemError::Unreadable { vaddr, source }
            }
            ReadVirtError::Xlat(x) => MemError::Invalid {
                vaddr: x.vaddr(),
                why: x.to_string(),
            },
            ReadVirtError::Read { vaddr, source } => MemError::Unreadable { vaddr, source },
        }
    }
}

impl Kernel {
    /// Read `buf.len()` bytes of kernel virtual memory at `vaddr`.
    pub fn read(&self, vaddr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        if self.image_only {
            return self.read_image(vaddr, buf);
        }
        Ok(self.found.xlat.read_virt(&self.dump, vaddr, buf)?)
    }

    /// Read physical memory.
    pub fn read_phys(&self, paddr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.dump
            .read_phys(paddr, buf)
            .map_err(|source| MemError::Physical { paddr, source })
    }

    pub fn read_u64(&self, vaddr: u64) -> Result<u64, MemError> {
        let mut b = [0u8; 8];
        self.read(vaddr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    pub fn read_u32(&self, vaddr: u64) -> Result<u32, MemError> {
        let mut b = [0u8; 4];
        self.read(vaddr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// A NUL-terminated string of at most `max` bytes.
    pub fn read_cstr(&self, vaddr: u64, max: usize) -> Result<String, MemError> {
        let mut out = Vec::new();
        let mut addr = vaddr;
        while out.len() < max {
            // Up to the end of the page, so that a string ending before an
            // unmapped page reads.
            let n = ((0x1000 - (addr & 0xfff)) as usize).min(max - out.len());
            let mut b = vec![0u8; n];
            self.read(addr, &mut b)?;
            if let Some(end) = b.iter().position(|&c| c == 0) {
                out.extend_from_slice(&b[..end]);
                break;
            }
            out.extend_from_slice(&b);
            addr += n as u64;
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Kernel virtual to physical.
    pub fn vtop(&self, vaddr: u64) -> Result<u64, MemError> {
        self.found
            .xlat
            .to_phys(&self.dump, vaddr)
            .map_err(|x| MemError::from(ReadVirtError::Xlat(x)))
    }
}
