//! The hardware page walk: from the root table (CR3) down to the page.

use std::fmt;

use super::entry::{is_huge, is_present, target, PHYS_MASK};
use super::error::XlatError;
use super::walk::{Walk, WalkStep};
use crate::PhysMem;

/// A base page: 4 KiB.
pub const PAGE_SIZE: u64 = 1 << 12;
/// A huge page mapped by a PMD entry: 2 MiB.
pub const SIZE_2M: u64 = 1 << 21;
/// A huge page mapped by a PUD entry: 1 GiB.
pub const SIZE_1G: u64 = 1 << 30;

/// Bit 12 of CR4: LA57, 5-level paging.
const CR4_LA57: u64 = 1 << 12;

/// One level of the page tables, by the kernel's (and crash's) names: PGD is
/// always the top (PML4 with 4 levels, PML5 with 5); P4D exists only with 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Top level: PML5 (5-level) or PML4 (4-level).
    Pgd,
    /// PML4 under 5-level paging.
    P4d,
    /// Page directory pointer table: entries map 1 GiB.
    Pud,
    /// Page directory: entries map 2 MiB.
    Pmd,
    /// Page table: entries map 4 KiB.
    Pte,
}

impl Table {
    /// The name crash prints in `vtop` output.
    pub fn name(self) -> &'static str {
        match self {
            Table::Pgd => "PGD",
            Table::P4d => "P4D",
            Table::Pud => "PUD",
            Table::Pmd => "PMD",
            Table::Pte => "PTE",
        }
    }

    /// The tables a walk goes through, top first.
    pub fn path(levels: u8) -> &'static [Table] {
        use Table::*;
        if levels == 5 {
            &[Pgd, P4d, Pud, Pmd, Pte]
        } else {
            &[Pgd, Pud, Pmd, Pte]
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A translated address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Translation {
    /// The virtual address asked for.
    pub vaddr: u64,
    /// Where it is in physical memory.
    pub phys: u64,
    /// The size of the page that maps it: 4 KiB, 2 MiB or 1 GiB.
    pub page_size: u64,
}

/// A set of x86-64 page tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageTables {
    /// Physical address of the top-level table (CR3 without its flag bits).
    pub root: u64,
    /// 4 or 5.
    pub levels: u8,
    /// The AMD SME encryption bit (`NUMBER(sme_mask)`), cleared from every
    /// entry before it is used as an address; 0 without SME.
    pub sme_mask: u64,
}

impl PageTables {
    /// Tables rooted at physical address `root`, with `levels` levels (4 or
    /// 5; anything else is taken as 4). The low 12 bits of `root` are
    /// dropped.
    pub fn new(root: u64, levels: u8) -> PageTables {
        PageTables {
            root: root & PHYS_MASK,
            levels: if levels == 5 { 5 } else { 4 },
            sme_mask: 0,
        }
    }

    /// The tables CR3 and CR4 describe. CR3's low bits (PCID, or PWT/PCD) and
    /// bit 63 (no-flush) are not part of the address, nor is the C-bit.
    pub fn from_cr3(cr3: u64, cr4: u64, sme_mask: u64) -> PageTables {
        let levels = if cr4 & CR4_LA57 != 0 { 5 } else { 4 };
        PageTables::new(cr3 & !sme_mask, levels).with_sme_mask(sme_mask)
    }

    /// The same tables, clearing `sme_mask` from entries.
    pub fn with_sme_mask(self, sme_mask: u64) -> PageTables {
        PageTables {
            root: self.root & !sme_mask,
            sme_mask,
            ..self
        }
    }

    /// Implemented virtual address bits: 48 or 57.
    pub fn virt_bits(&self) -> u32 {
        virt_bits(self.levels)
    }

    /// Whether bits 63 down to the top implemented bit are all equal.
    pub fn is_canonical(&self, vaddr: u64) -> bool {
        is_canonical(vaddr, self.levels)
    }

    /// Translate `vaddr` by walking the tables.
    pub fn translate(&self, mem: &impl PhysMem, vaddr: u64) -> Result<Translation, XlatError> {
        self.walk_with(mem, vaddr, |_| {})
    }

    /// Walk the tables for `vaddr`, keeping every entry read on the way.
    pub fn walk(&self, mem: &impl PhysMem, vaddr: u64) -> Walk {
        let mut steps = Vec::with_capacity(self.levels as usize);
        let result = self.walk_with(mem, vaddr, |s| steps.push(s));
        Walk {
            vaddr,
            root: self.root,
            sme_mask: self.sme_mask,
            steps,
            result,
        }
    }

    fn walk_with(
        &self,
        mem: &impl PhysMem,
        vaddr: u64,
        mut on_step: impl FnMut(WalkStep),
    ) -> Result<Translation, XlatError> {
        if !self.is_canonical(vaddr) {
            return Err(XlatError::NonCanonical {
                vaddr,
                bits: self.virt_bits(),
            });
        }
        let path = Table::path(self.levels);
        let mut table = self.root;
        for (depth, &kind) in path.iter().enumerate() {
            let shift = level_shift(self.levels, depth);
            let entry_addr = table + ((vaddr >> shift) & 0x1ff) * 8;
            let entry = mem.read_u64(entry_addr).map_err(|source| XlatError::Read {
                vaddr,
                table: kind,
                entry_addr,
                source,
            })?;
            on_step(WalkStep {
                table: kind,
                entry_addr,
                entry,
            });
            if !is_present(entry) {
                return Err(XlatError::NotPresent {
                    vaddr,
                    table: kind,
                    entry_addr,
                    entry,
                });
            }
            let leaf =
                kind == Table::Pte || (matches!(kind, Table::Pud | Table::Pmd) && is_huge(entry));
            let next = target(entry, self.sme_mask);
            if leaf {
                let size = 1u64 << shift;
                // The low bits of a huge entry's address field hold PAT and
                // reserved bits, not address.
                let base = next & !(size - 1);
                return Ok(Translation {
                    vaddr,
                    phys: base | (vaddr & (size - 1)),
                    page_size: size,
                });
            }
            table = next;
        }
        unreachable!("the path ends with the PTE level")
    }
}

/// Implemented virtual address bits for `levels`-level paging.
pub(crate) fn virt_bits(levels: u8) -> u32 {
    if levels == 5 {
        57
    } else {
        48
    }
}

/// Whether `vaddr` is canonical under `levels`-level paging.
pub(crate) fn is_canonical(vaddr: u64, levels: u8) -> bool {
    let shift = 64 - virt_bits(levels);
    (((vaddr << shift) as i64) >> shift) as u64 == vaddr
}

/// The address shift of the table `depth` levels below the top.
pub(crate) fn level_shift(levels: u8, depth: usize) -> u32 {
    12 + 9 * (levels as u32 - 1 - depth as u32)
}
