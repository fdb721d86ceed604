//! Kernel address translation as the kernel does it: arithmetic for the
//! linear mappings (the kernel image and the direct map, which `__pa()`
//! translates without looking at a page table), the page tables for the rest.
//!
//! Linear mappings are faster to translate than a four- or five-level walk
//! and keep working where the page tables have a hole (the kernel unmaps
//! freed init pages and guard pages inside them) or the dump lacks a table.

use super::error::XlatError;
use super::paging::{is_canonical, PageTables};
use crate::PhysMem;

/// `len` bytes of virtual memory from `virt` mapped to physical memory from
/// `phys`, in one piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinearMap {
    /// First virtual address.
    pub virt: u64,
    /// Physical address of `virt`.
    pub phys: u64,
    /// Bytes mapped.
    pub len: u64,
}

impl LinearMap {
    /// Whether `vaddr` is inside.
    pub fn contains(&self, vaddr: u64) -> bool {
        vaddr.wrapping_sub(self.virt) < self.len
    }

    /// What to add to a virtual address to get the physical one, modulo 2^64.
    pub fn offset(&self) -> u64 {
        self.phys.wrapping_sub(self.virt)
    }

    /// The physical address of `vaddr`, which must be inside.
    pub fn to_phys(&self, vaddr: u64) -> u64 {
        vaddr.wrapping_add(self.offset())
    }

    /// One past the last virtual address (wraps to 0 at the top).
    pub fn end(&self) -> u64 {
        self.virt.wrapping_add(self.len)
    }
}

/// Translates kernel virtual addresses: linear mappings first, page tables
/// for the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translator {
    /// The page tables, when their root is known.
    pub tables: Option<PageTables>,
    /// Paging levels (4 or 5), for the canonical check.
    pub levels: u8,
    /// Linear mappings, tried in order before the page tables.
    pub linear: Vec<LinearMap>,
}

impl Translator {
    /// A translator that only walks `tables`.
    pub fn new(tables: PageTables) -> Translator {
        Translator {
            tables: Some(tables),
            levels: tables.levels,
            linear: Vec::new(),
        }
    }

    /// The physical address of `vaddr`.
    pub fn to_phys(&self, mem: &impl PhysMem, vaddr: u64) -> Result<u64, XlatError> {
        if !is_canonical(vaddr, self.levels) {
            return Err(XlatError::NonCanonical {
                vaddr,
                bits: super::paging::virt_bits(self.levels),
            });
        }
        if let Some(m) = self.linear.iter().find(|m| m.contains(vaddr)) {
            return Ok(m.to_phys(vaddr));
        }
        match &self.tables {
            Some(t) => t.translate(mem, vaddr).map(|t| t.phys),
            None => Err(XlatError::NoPageTables { vaddr }),
        }
    }

    /// Read `buf.len()` bytes at kernel virtual address `vaddr`, page by page
    /// (consecutive virtual pages need not be consecutive in memory).
    pub fn read_virt(
        &self,
        mem: &impl PhysMem,
        vaddr: u64,
        buf: &mut [u8],
    ) -> Result<(), ReadVirtError> {
        let mut done = 0usize;
        while done < buf.len() {
            let v = vaddr.wrapping_add(done as u64);
            let n = ((0x1000 - (v & 0xfff)) as usize).min(buf.len() - done);
            let p = self.to_phys(mem, v)?;
            mem.read_phys(p, &mut buf[done..done + n])
                .map_err(|source| ReadVirtError::Read { vaddr: v, source })?;
            done += n;
        }
        Ok(())
    }
}

/// Why a read of virtual memory failed: the address did not translate, or
/// the memory it translates to is not in the dump.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ReadVirtError {
    /// Translation failed.
    #[error(transparent)]
    Xlat(#[from] XlatError),
    /// The address translated, but the dump cannot give that memory.
    #[error("virtual address {vaddr:#x}: {source}")]
    Read {
        /// The virtual address of the first byte not read.
        vaddr: u64,
        /// What the dump said.
        #[source]
        source: kdive_dump::ReadError,
    },
}

impl From<ReadVirtError> for kdive_dump::MemError {
    fn from(e: ReadVirtError) -> kdive_dump::MemError {
        use kdive_dump::MemError;
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
