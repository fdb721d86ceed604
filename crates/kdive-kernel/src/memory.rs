//! Reading the kernel's virtual memory, with errors that say whether the
//! address does not translate or the memory it translates to is missing.

use kdive_arch::x86_64::ReadVirtError;
pub use kdive_dump::{MemError, Memory};

use crate::Kernel;

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

    // The helpers as inherent methods too, so that callers need no `use`.

    /// A little-endian 64-bit word at `vaddr`.
    pub fn read_u64(&self, vaddr: u64) -> Result<u64, MemError> {
        Memory::read_u64(self, vaddr)
    }

    /// A little-endian 32-bit word at `vaddr`.
    pub fn read_u32(&self, vaddr: u64) -> Result<u32, MemError> {
        Memory::read_u32(self, vaddr)
    }

    /// A NUL-terminated string of at most `max` bytes.
    pub fn read_cstr(&self, vaddr: u64, max: usize) -> Result<String, MemError> {
        Memory::read_cstr(self, vaddr, max)
    }

    /// Kernel virtual to physical.
    pub fn vtop(&self, vaddr: u64) -> Result<u64, MemError> {
        self.found
            .xlat
            .to_phys(&self.dump, vaddr)
            .map_err(|x| MemError::from(ReadVirtError::Xlat(x)))
    }
}

impl Memory for Kernel {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        Kernel::read(self, addr, buf)
    }
}
