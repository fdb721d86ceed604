//! Finding the kernel's two linear mappings, its image and the direct map,
//! in page tables alone: what a dump without VMCOREINFO (QEMU's
//! `dump-guest-memory`) leaves to go by.

use std::ops::{ControlFlow, Range};

use super::layout::{KTEXT_END, START_KERNEL_MAP};
use super::paging::{PageTables, SIZE_1G};
use super::xlat::LinearMap;
use crate::PhysMem;

/// Direct-map bases that never moved, oldest kernels first checked last:
/// 2.6.11 to 2.6.26, then before 2.6.11 (in the lower half).
const DIRECT_2_6_11: (u64, u64) = (0xffff_8100_0000_0000, 0xffff_c0ff_ffff_ffff);
const DIRECT_2_6_0: (u64, u64) = (0x0000_0100_0000_0000, 0x0000_01ff_ffff_ffff);

/// Where the direct map can start from 2.6.27 on, with KASLR or without, up
/// to where it can end: the region before vmalloc space.
const DIRECT_SEARCH_L4: (u64, u64) = (0xffff_8800_0000_0000, 0xffff_c87f_ffff_ffff);
const DIRECT_SEARCH_L5: (u64, u64) = (0xff10_0000_0000_0000, 0xff90_ffff_ffff_ffff);

/// How many mappings the direct-map search looks at before giving up: the
/// direct map is the first thing mapped in its region, but for an LDT
/// remapped in a process's page tables.
const DIRECT_SEARCH_TRIES: usize = 64;

/// The kernel image mapping: the lowest page mapped between
/// `__START_KERNEL_map` and the end of the largest image (1 GiB), and all
/// that follows it at the same offset. The kernel maps its image from
/// `_text` (it unmaps the 2 MiB pages below), so `virt` is `_text` and
/// `phys - (virt - __START_KERNEL_map)` is `phys_base`.
pub fn find_kernel_text(mem: &impl PhysMem, tables: &PageTables) -> Option<LinearMap> {
    tables.linear_run(mem, START_KERNEL_MAP, KTEXT_END - 1)
}

/// The kernel's read-only data (`.rodata`, kallsyms and BTF among it) in
/// its image mapping: the first run of pages mapped neither writable nor
/// executable, holes allowed. Linux maps it so once it has booted
/// (`mark_rodata_ro`: text read-only, everything after `_etext` NX); before
/// that, or with those protections off, there is no such run: `None`.
pub fn find_rodata(
    mem: &impl PhysMem,
    tables: &PageTables,
    image: &LinearMap,
) -> Option<Range<u64>> {
    let mut run: Option<Range<u64>> = None;
    tables.for_each_mapping(mem, image.virt, image.end().wrapping_sub(1), |m| {
        match (&mut run, !m.writable && !m.executable) {
            (None, true) => run = Some(m.vaddr..m.vaddr + m.size),
            (Some(r), true) => r.end = m.vaddr + m.size,
            (Some(_), false) => return ControlFlow::Break(()),
            (None, false) => {}
        }
        ControlFlow::Continue(())
    });
    run
}

/// The direct map of physical memory: `virt` is `page_offset_base` (the
/// address of physical 0) and `len` reaches the last page mapped at that
/// offset, holes included. It is found at one of its fixed old places, or,
/// with KASLR or a newer layout, as the lowest mapping of its region whose
/// offset is a whole number of GiB (KASLR moves it in 1 GiB steps).
pub fn find_direct_map(mem: &impl PhysMem, tables: &PageTables) -> Option<LinearMap> {
    let maps_zero = |v: u64| tables.translate(mem, v).is_ok_and(|t| t.phys == 0);
    if tables.levels == 4 && maps_zero(DIRECT_2_6_11.0) {
        return direct_extent(mem, tables, DIRECT_2_6_11.0, DIRECT_2_6_11.1);
    }
    let (first, last) = if tables.levels == 5 {
        DIRECT_SEARCH_L5
    } else {
        DIRECT_SEARCH_L4
    };
    if let Some(base) = search_direct_base(mem, tables, first, last) {
        return direct_extent(mem, tables, base, last);
    }
    if tables.levels == 4 && maps_zero(DIRECT_2_6_0.0) {
        return direct_extent(mem, tables, DIRECT_2_6_0.0, DIRECT_2_6_0.1);
    }
    None
}

/// The direct map from a known `page_offset_base` (a symbol's value, say):
/// its extent, if the page tables map it at all.
pub(crate) fn direct_map_at(
    mem: &impl PhysMem,
    tables: &PageTables,
    base: u64,
) -> Option<LinearMap> {
    let last = if tables.levels == 5 {
        DIRECT_SEARCH_L5.1
    } else {
        DIRECT_SEARCH_L4.1
    };
    direct_extent(mem, tables, base, last.max(base))
}

fn search_direct_base(
    mem: &impl PhysMem,
    tables: &PageTables,
    first: u64,
    last: u64,
) -> Option<u64> {
    let mut found = None;
    let mut tries = 0;
    tables.for_each_mapping(mem, first, last, |m| {
        let base = m.vaddr.wrapping_sub(m.phys);
        if base % SIZE_1G == 0 && base >= first && base <= m.vaddr {
            found = Some(base);
            return ControlFlow::Break(());
        }
        tries += 1;
        if tries < DIRECT_SEARCH_TRIES {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    });
    found
}

/// The linear run at offset `-base` from `base`, as a map from physical 0.
fn direct_extent(
    mem: &impl PhysMem,
    tables: &PageTables,
    base: u64,
    last: u64,
) -> Option<LinearMap> {
    let run = tables.linear_run(mem, base, last)?;
    (run.offset() == base.wrapping_neg()).then(|| LinearMap {
        virt: base,
        phys: 0,
        len: run.end().wrapping_sub(base),
    })
}

/// The randomized bases of vmalloc space and of the vmemmap, found after the
/// direct map ending at `direct_end`. KASLR places the three regions in
/// order, each at a whole GiB, and the first things mapped in the next two
/// are at their very starts (the first vmalloc allocation, and the
/// `struct page` of page frame 0). Both must be found, vmemmap at least
/// `vmalloc_size` above vmalloc, or neither is believed.
pub(crate) fn find_vmalloc_vmemmap(
    mem: &impl PhysMem,
    tables: &PageTables,
    direct_end: u64,
    vmalloc_size: u64,
    vaddr_end: u64,
) -> Option<(u64, u64)> {
    let base_from = |from: u64| {
        let m = tables.lowest_mapped(mem, from, vaddr_end - 1)?;
        Some((m.vaddr & !(SIZE_1G - 1)).max(from))
    };
    let vmalloc = base_from(direct_end)?;
    let vmemmap = base_from(vmalloc.checked_add(vmalloc_size)?.min(vaddr_end - 1))?;
    Some((vmalloc, vmemmap))
}
