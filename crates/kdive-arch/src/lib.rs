//! x86-64 for kernel crash dumps: address translation (4- and 5-level page
//! tables), the kernel's virtual memory layout, and finding both in a dump
//! with or without VMCOREINFO.
//!
//! Everything here reads memory through [`PhysMem`], so the same code runs on
//! a [`kdive_dump::Dump`] and on the small memory images tests build.
//!
//! # API structure
//!
//! - [`Arch`]: what the layers above need to know of an architecture
//!   (name, page sizes, the kernel's address range, the `pt_regs` layout,
//!   page-table entry flags), found with [`for_machine`] from a dump's
//!   machine type; [`X86_64`] implements it. [`Region`]: which part of the
//!   kernel's address space an address is in.
//! - [`x86_64::discover`]: the page tables, the kernel's text and direct map
//!   and the memory layout, from VMCOREINFO or, without it, from CR3 and a
//!   scan; gives a [`x86_64::Discovered`] whose [`x86_64::Translator`]
//!   reads virtual memory (its errors convert into
//!   [`kdive_dump::MemError`]).
//! - [`x86_64::PageTables`]: one translation, level by level
//!   ([`x86_64::Walk`] for `vtop`).
//! - [`x86_64::orc`], [`x86_64::unwind`], [`x86_64::prologue`]: the ORC
//!   tables, one unwind step over [`kdive_dump::Memory`], and the frame a
//!   function's first instructions leave; [`x86_64::entry`]: the entry
//!   code's exception frames.

#![warn(missing_docs)]

mod arch;
pub mod x86_64;

pub use arch::{for_elf_machine, for_machine, supported, Arch, RegsLayout, X86_64};
/// The kernel's exception frame (`struct pt_regs`) as the unwinder gives
/// it: x86-64's, the one architecture whose unwinder kdive has.
pub use x86_64::unwind::PtRegs;
pub use x86_64::Region;

use kdive_dump::{Dump, ReadError};

/// Physical memory, as page-table walkers read it.
pub trait PhysMem {
    /// Read `buf.len()` bytes at physical address `addr`, all or nothing.
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError>;

    /// Read a little-endian 64-bit word (a page-table entry) at `addr`.
    fn read_u64(&self, addr: u64) -> Result<u64, ReadError> {
        let mut b = [0u8; 8];
        self.read_phys(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

impl PhysMem for Dump {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        Dump::read_phys(self, addr, buf)
    }
}

impl<T: PhysMem + ?Sized> PhysMem for &T {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read_phys(addr, buf)
    }
}
