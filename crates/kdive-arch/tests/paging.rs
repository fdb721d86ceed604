//! The walker, the scanner and the finders on small hand-built page tables.

use std::cell::RefCell;
use std::collections::HashMap;

use kdive_arch::x86_64::{
    discover, find_direct_map, find_kernel_text, find_rodata, Hints, LinearMap, PageTables, Table,
    Translation, XlatError, SIZE_1G, SIZE_2M,
};
use kdive_arch::PhysMem;
use kdive_dump::ReadError;

/// Memory that holds only the pages written.
#[derive(Default)]
struct Mem(RefCell<HashMap<u64, Vec<u8>>>);

impl Mem {
    fn set(&self, addr: u64, value: u64) -> &Self {
        let mut pages = self.0.borrow_mut();
        let page = pages.entry(addr & !0xfff).or_insert_with(|| vec![0; 4096]);
        let off = (addr & 0xfff) as usize;
        page[off..off + 8].copy_from_slice(&value.to_le_bytes());
        self
    }
}

impl PhysMem for Mem {
    fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr + i as u64;
            let pages = self.0.borrow();
            let page = pages
                .get(&(a & !0xfff))
                .ok_or(ReadError::NotInDump { addr: a })?;
            *b = page[(a & 0xfff) as usize];
        }
        Ok(())
    }
}

const TABLE: u64 = 0x63; // present, RW, accessed, dirty
const HUGE: u64 = 0x1e3; // and PS, global
const PAGE: u64 = 0x163;
const NX: u64 = 1 << 63;

/// A 4-level kernel: image at 0xffffffff81000000 -> 16 MiB (2 MiB pages,
/// then 4 KiB pages), direct map at 0xffff888000000000 (1 GiB pages).
fn kernel4() -> (Mem, PageTables) {
    let m = Mem::default();
    m.set(0x1000 + 511 * 8, 0x2000 | TABLE) // PGD: kernel image
        .set(0x2000 + 510 * 8, 0x3000 | TABLE) // PUD
        .set(0x3000 + 8 * 8, 0x100_0000 | HUGE) // PMD: 2 MiB
        .set(0x3000 + 9 * 8, 0x4000 | TABLE) // PMD: a page table
        .set(0x3000 + 11 * 8, 0x160_0000 | HUGE | NX)
        .set(0x1000 + 0x111 * 8, 0x5000 | TABLE) // PGD: direct map
        .set(0x5000, HUGE) // PUD: 1 GiB from 0
        .set(0x5008, SIZE_1G | HUGE);
    for i in 0..512 {
        m.set(0x4000 + i * 8, (0x120_0000 + i * 0x1000) | PAGE | NX);
    }
    (m, PageTables::new(0x1000, 4))
}

#[test]
fn walks_2m_4k_and_1g_pages() {
    let (m, t) = kernel4();
    let at = |v| t.translate(&m, v).unwrap();
    assert_eq!(
        at(0xffff_ffff_8100_0123),
        Translation {
            vaddr: 0xffff_ffff_8100_0123,
            phys: 0x100_0123,
            page_size: SIZE_2M
        }
    );
    assert_eq!(at(0xffff_ffff_8120_3456).phys, 0x120_3456);
    assert_eq!(at(0xffff_ffff_8120_3456).page_size, 4096);
    assert_eq!(
        at(0xffff_ffff_8160_0001).phys,
        0x160_0001,
        "NX is not part of the address"
    );
    assert_eq!(
        at(0xffff_8880_4000_0010),
        Translation {
            vaddr: 0xffff_8880_4000_0010,
            phys: 0x4000_0010,
            page_size: SIZE_1G
        }
    );
}

#[test]
fn walk_prints_like_crash_vtop() {
    let (m, t) = kernel4();
    let w = t.walk(&m, 0xffff_ffff_8100_0000);
    assert_eq!(w.steps.len(), 3);
    assert_eq!(
        w.to_string(),
        "   PGD: 1ff8 => 2063\n   PUD: 2ff0 => 3063\n   PMD: 3040 => 10001e3\n  PAGE: 1000000  (2MB)\n"
    );
    let w = t.walk(&m, 0xffff_ffff_8120_1000);
    assert_eq!(w.steps.last().map(|s| s.table), Some(Table::Pte));
    assert!(w
        .to_string()
        .ends_with("   PTE: 4008 => 8000000001201163\n  PAGE: 1201000\n"));
}

#[test]
fn failures_say_where() {
    let (m, t) = kernel4();
    let e = t.translate(&m, 0xffff_ffff_8140_0000).unwrap_err();
    assert_eq!(
        e,
        XlatError::NotPresent {
            vaddr: 0xffff_ffff_8140_0000,
            table: Table::Pmd,
            entry_addr: 0x3050,
            entry: 0
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("0xffffffff81400000") && msg.contains("PMD") && msg.contains("0x3050"),
        "{msg}"
    );
    let w = t.walk(&m, 0xffff_ffff_8140_0000);
    assert_eq!(w.steps.len(), 3, "the walk stops at the entry not present");

    m.set(0x1000 + 0x112 * 8, 0x9_0000 | TABLE); // points at a table not in memory
    let e = t.translate(&m, 0xffff_8900_0000_0000).unwrap_err();
    assert!(
        matches!(
            e,
            XlatError::Read {
                table: Table::Pud,
                entry_addr: 0x9_0000,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("0xffff890000000000"), "{e}");

    let e = t.translate(&m, 0x0000_8000_0000_0000).unwrap_err();
    assert_eq!(
        e,
        XlatError::NonCanonical {
            vaddr: 0x0000_8000_0000_0000,
            bits: 48
        }
    );
    assert!(PageTables::new(0x1000, 5).is_canonical(0x0000_8000_0000_0000));
    assert!(!PageTables::new(0x1000, 5).is_canonical(0x0100_0000_0000_0000));
}

#[test]
fn huge_pages_drop_pat_and_sme_bits() {
    const C_BIT: u64 = 1 << 47;
    let m = Mem::default();
    m.set(0x1000 + 511 * 8, 0x2000 | C_BIT | TABLE)
        .set(0x2000 + 510 * 8, 0x3000 | C_BIT | TABLE)
        // Bit 12 of a huge entry is PAT, not address.
        .set(0x3000 + 8 * 8, 0x100_0000 | C_BIT | (1 << 12) | HUGE);
    let t = PageTables::from_cr3(0x1000 | C_BIT | 0x18, 0, C_BIT);
    assert_eq!(t.root, 0x1000);
    assert_eq!(
        t.translate(&m, 0xffff_ffff_8100_0042).unwrap().phys,
        0x100_0042
    );
    assert_eq!(
        t.walk(&m, 0xffff_ffff_8100_0000).to_string().lines().nth(2),
        Some("   PMD: 3040 => 10011e3")
    );
}

#[test]
fn five_levels() {
    let m = Mem::default();
    // 0xff11000000000000: PGD (PML5) 0x111, P4D 0, PUD 0; 1 GiB page.
    m.set(0x1000 + 0x111 * 8, 0x2000 | TABLE)
        .set(0x2000, 0x3000 | TABLE)
        .set(0x3000, 0x4000_0000 | HUGE);
    let t = PageTables::from_cr3(0x1000, 1 << 12, 0);
    assert_eq!(t.levels, 5);
    assert_eq!(
        t.translate(&m, 0xff11_0000_0000_1234).unwrap().phys,
        0x4000_1234
    );
    let w = t.walk(&m, 0xff11_0000_0000_0000).to_string();
    assert!(w.starts_with("   PGD: 1888 => 2063\n   P4D: 2000 => 3063\n   PUD: 3000 => 400001e3\n  PAGE: 40000000  (1GB)"), "{w}");
}

#[test]
fn scans_find_the_linear_mappings() {
    let (m, t) = kernel4();
    let first = t
        .lowest_mapped(&m, 0xffff_ffff_8000_0000, 0xffff_ffff_bfff_ffff)
        .unwrap();
    assert_eq!(
        (first.vaddr, first.phys, first.size),
        (0xffff_ffff_8100_0000, 0x100_0000, SIZE_2M)
    );
    // 2 MiB + 512 pages linear, a hole, then 0x1600000 at 0xffffffff81600000:
    // linear too, so the run crosses the hole.
    assert_eq!(
        find_kernel_text(&m, &t),
        Some(LinearMap {
            virt: 0xffff_ffff_8100_0000,
            phys: 0x100_0000,
            len: 0x80_0000
        })
    );
    assert_eq!(
        find_direct_map(&m, &t),
        Some(LinearMap {
            virt: 0xffff_8880_0000_0000,
            phys: 0,
            len: 2 * SIZE_1G
        })
    );
    // A page mapped elsewhere ends the run.
    m.set(0x3000 + 12 * 8, 0x900_0000 | HUGE);
    assert_eq!(find_kernel_text(&m, &t).unwrap().len, 0x80_0000);
    let mut n = 0;
    t.for_each_mapping(&m, 0xffff_ffff_8120_0800, 0xffff_ffff_8120_2fff, |mp| {
        assert_eq!(mp.phys, mp.vaddr - 0xffff_ffff_8000_0000);
        n += mp.size;
        std::ops::ControlFlow::Continue(())
    });
    assert_eq!(n, 0x2800, "mappings are clipped to the range");
}

#[test]
fn rodata_is_the_first_read_only_no_execute_run_of_the_image() {
    const RW: u64 = 2;
    let m = Mem::default();
    m.set(0x1000 + 511 * 8, 0x2000 | TABLE)
        .set(0x2000 + 510 * 8, 0x3000 | TABLE)
        .set(0x3000 + 8 * 8, 0x100_0000 | (HUGE & !RW)) // text
        // Writes allowed in the PTEs but not above: read-only.
        .set(0x3000 + 9 * 8, 0x4000 | (TABLE & !RW))
        .set(0x3000 + 11 * 8, 0x160_0000 | (HUGE & !RW) | NX) // after a hole
        .set(0x3000 + 12 * 8, 0x180_0000 | HUGE | NX) // data
        .set(0x3000 + 13 * 8, 0x1a0_0000 | (HUGE & !RW) | NX);
    for i in 0..512 {
        // The end of the text, then the start of the read-only data.
        let nx = if i < 256 { 0 } else { NX };
        m.set(0x4000 + i * 8, (0x120_0000 + i * 0x1000) | PAGE | nx);
    }
    let t = PageTables::new(0x1000, 4);
    let image = find_kernel_text(&m, &t).unwrap();
    assert_eq!((image.virt, image.len), (0xffff_ffff_8100_0000, 0xc0_0000));
    let mut seen = Vec::new();
    t.for_each_mapping(&m, image.virt, image.end() - 1, |mp| {
        seen.push((mp.vaddr, mp.writable, mp.executable));
        std::ops::ControlFlow::Continue(())
    });
    assert_eq!(seen[0], (0xffff_ffff_8100_0000, false, true));
    assert_eq!(seen[1 + 256], (0xffff_ffff_8130_0000, false, false));
    assert_eq!(seen[seen.len() - 2], (0xffff_ffff_8180_0000, true, false));
    assert_eq!(
        find_rodata(&m, &t, &image),
        Some(0xffff_ffff_8130_0000..0xffff_ffff_8180_0000)
    );
    // Before mark_rodata_ro, all is writable: no such run.
    m.set(0x3000 + 11 * 8, 0x160_0000 | HUGE | NX);
    for i in 256..512 {
        m.set(0x4000 + i * 8, (0x120_0000 + i * 0x1000) | PAGE | NX);
    }
    m.set(0x3000 + 9 * 8, 0x4000 | TABLE);
    m.set(0x3000 + 13 * 8, 0x1a0_0000 | HUGE | NX);
    assert_eq!(find_rodata(&m, &t, &image), None);
}

#[test]
fn discover_leaves_a_pti_user_pgd_for_the_kernel_one() {
    let (m, _) = kernel4();
    // Kernel PGD at 0x8000 as in kernel4; the user PGD beside it (0x9000)
    // maps the image but not the direct map.
    m.set(0x8000 + 511 * 8, 0x2000 | TABLE)
        .set(0x8000 + 0x111 * 8, 0x5000 | TABLE)
        .set(0x9000 + 511 * 8, 0x2000 | TABLE);
    let hints = Hints {
        cr3: Some(0x9000 | 0x801),
        cr4: Some(0),
        ..Hints::default()
    };
    let found = discover(&m, &hints);
    assert_eq!(found.xlat.tables.map(|t| t.root), Some(0x8000));
    assert_eq!(found.layout.page_offset_base, 0xffff_8880_0000_0000);
    assert_eq!(found.layout.phys_base, Some(0));
    assert_eq!(found.layout.kernel_offset, Some(0));
    assert_eq!(
        found.xlat.to_phys(&m, 0xffff_8880_0123_4567),
        Ok(0x123_4567)
    );
}
