//! Scanning page tables for what they map over a range of addresses, in
//! address order: how the kernel's text and direct map are found without
//! symbols.
//!
//! Entries that are not present, and tables the dump cannot give, are
//! skipped: a scan reports what it can see.

use std::ops::ControlFlow;

use super::entry::{is_huge, is_present, target, NX, WRITABLE};
use super::paging::{is_canonical, level_shift, virt_bits, PageTables};
use super::xlat::LinearMap;
use crate::PhysMem;

/// A mapped piece of the range scanned: one page or huge page, clipped to
/// the range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// First virtual address.
    pub vaddr: u64,
    /// Where it maps.
    pub phys: u64,
    /// Bytes.
    pub size: u64,
    /// Writable: every entry of the walk allows writes.
    pub writable: bool,
    /// Executable: no entry of the walk sets NX.
    pub executable: bool,
}

impl PageTables {
    /// Call `f` for each mapped page between `first` and `last` (inclusive,
    /// both canonical), lowest first, until it breaks.
    pub fn for_each_mapping(
        &self,
        mem: &impl PhysMem,
        first: u64,
        last: u64,
        mut f: impl FnMut(Mapping) -> ControlFlow<()>,
    ) {
        if first > last || !self.is_canonical(first) || !self.is_canonical(last) {
            return;
        }
        // Stripped of their sign extension, canonical addresses in order are
        // one contiguous index space, lower half first.
        let mask = u64::MAX >> (64 - self.virt_bits());
        let top = Access {
            writable: true,
            executable: true,
        };
        let _ = self.visit(
            mem,
            self.root,
            (0, 0, top),
            first & mask,
            last & mask,
            &mut f,
        );
    }

    /// The lowest mapped page between `first` and `last`.
    pub fn lowest_mapped(&self, mem: &impl PhysMem, first: u64, last: u64) -> Option<Mapping> {
        let mut found = None;
        self.for_each_mapping(mem, first, last, |m| {
            found = Some(m);
            ControlFlow::Break(())
        });
        found
    }

    /// The linear run that starts at the lowest mapped page between `first`
    /// and `last`: it goes on for as long as the pages mapped after it keep
    /// the same virtual-to-physical offset. Holes do not end it (the kernel
    /// unmaps pages inside its linear mappings, which stay linear); a page
    /// mapped elsewhere does.
    pub fn linear_run(&self, mem: &impl PhysMem, first: u64, last: u64) -> Option<LinearMap> {
        let mut run: Option<LinearMap> = None;
        self.for_each_mapping(mem, first, last, |m| match &mut run {
            None => {
                run = Some(LinearMap {
                    virt: m.vaddr,
                    phys: m.phys,
                    len: m.size,
                });
                ControlFlow::Continue(())
            }
            Some(r) if m.phys.wrapping_sub(m.vaddr) == r.offset() => {
                r.len = m.vaddr - r.virt + m.size;
                ControlFlow::Continue(())
            }
            Some(_) => ControlFlow::Break(()),
        });
        run
    }

    /// Visit the entries of the table at `table` (`depth` below the top,
    /// covering index space from `base`, with the access the entries above
    /// allow) that overlap `lo..=hi`.
    fn visit(
        &self,
        mem: &impl PhysMem,
        table: u64,
        (depth, base, above): (usize, u64, Access),
        lo: u64,
        hi: u64,
        f: &mut impl FnMut(Mapping) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let shift = level_shift(self.levels, depth);
        let last_level = depth + 1 == self.levels as usize;
        let first_idx = (lo.max(base) - base) >> shift;
        let last_idx = ((hi - base) >> shift).min(511);
        let entries = read_entries(mem, table, first_idx, last_idx);
        for (i, entry) in (first_idx..=last_idx).zip(entries) {
            let Some(entry) = entry.filter(|&e| is_present(e)) else {
                continue;
            };
            let start = base + (i << shift);
            let size = 1u64 << shift;
            let next = target(entry, self.sme_mask);
            let access = Access {
                writable: above.writable && entry & WRITABLE != 0,
                executable: above.executable && entry & NX == 0,
            };
            // Huge pages only at PUD and PMD level (2 and 3 levels up from
            // the bottom); PS is reserved above.
            let huge = !last_level && depth + 3 >= self.levels as usize && is_huge(entry);
            if last_level || huge {
                let page = next & !(size - 1);
                let from = start.max(lo);
                let to = (start + (size - 1)).min(hi);
                f(Mapping {
                    vaddr: self.sign_extend(from),
                    phys: page + (from - start),
                    size: to - from + 1,
                    writable: access.writable,
                    executable: access.executable,
                })?;
            } else {
                self.visit(mem, next, (depth + 1, start, access), lo, hi, f)?;
            }
        }
        ControlFlow::Continue(())
    }

    fn sign_extend(&self, index: u64) -> u64 {
        let shift = 64 - virt_bits(self.levels);
        let v = (((index << shift) as i64) >> shift) as u64;
        debug_assert!(is_canonical(v, self.levels));
        v
    }
}

/// What the entries of a walk so far allow.
#[derive(Debug, Clone, Copy)]
struct Access {
    writable: bool,
    executable: bool,
}

/// Entries `first..=last` of a table: one read for all when the dump has
/// them all, else one by one (a missing entry reads as `None`).
fn read_entries(mem: &impl PhysMem, table: u64, first: u64, last: u64) -> Vec<Option<u64>> {
    let n = (last - first + 1) as usize;
    let mut buf = vec![0u8; n * 8];
    if mem.read_phys(table + first * 8, &mut buf).is_ok() {
        return buf
            .chunks_exact(8)
            .map(|c| Some(u64::from_le_bytes(c.try_into().unwrap())))
            .collect();
    }
    (first..=last)
        .map(|i| mem.read_u64(table + i * 8).ok())
        .collect()
}
