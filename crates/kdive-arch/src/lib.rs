//! x86-64 for kernel crash dumps: address translation (4- and 5-level page
//! tables), the kernel's virtual memory layout, registers.

use kdive_dump::{Dump, ReadError};

/// Physical memory, as page-table walkers read it.
pub trait PhysMem {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError>;
}

impl PhysMem for Dump {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        Dump::read_phys(self, addr, buf)
    }
}
