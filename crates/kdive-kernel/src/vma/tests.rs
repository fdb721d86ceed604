//! The VMAs of made-up `mm_struct`s: a kernel before maple trees (the
//! `mmap` list, then with a loop) and one with a maple tree.

use super::*;
use crate::fake_mem::FakeMem;
use crate::maple::MapleOffsets;

const MM: u64 = 0xffff_8880_0100_0000;
const VMAS: u64 = 0xffff_8880_0200_0000;
const NODE: u64 = 0xffff_8880_0300_0000;

fn offsets(list: VmaList) -> VmaOffsets {
    VmaOffsets {
        list,
        mm_pgd: Some(0x50),
        vm_start: 0,
        vm_end: 8,
        vm_flags: 0x20,
        vm_file: 0x28,
        size: 0x40,
    }
}

fn vma(i: u64) -> u64 {
    VMAS + i * 0x40
}

fn put(m: &mut FakeMem, i: u64, start: u64, end: u64, next: u64) {
    m.u64(vma(i), start);
    m.u64(vma(i) + 8, end);
    m.u64(vma(i) + 0x10, next);
    m.u64(vma(i) + 0x20, 0x8000071 + i);
    m.u64(
        vma(i) + 0x28,
        if i == 0 { 0xffff_8880_0900_0000 } else { 0 },
    );
}

fn list_mm() -> FakeMem {
    let mut m = FakeMem::default();
    m.u64(MM + 0x8, vma(0));
    put(&mut m, 0, 0x400000, 0x401000, vma(1));
    put(&mut m, 1, 0x401000, 0x585000, vma(2));
    put(&mut m, 2, 0x7fff0000, 0x7fff1000, 0);
    m
}

#[test]
fn the_mmap_list() {
    let o = offsets(VmaList::List {
        head: 0x8,
        next: 0x10,
    });
    let v = read_vmas(&list_mm(), MM, &o, None).unwrap();
    assert_eq!(v.damage, Vec::<crate::Finding>::new());
    let got: Vec<(u64, u64, u64, u64)> = v
        .vmas
        .iter()
        .map(|x| (x.addr, x.start, x.end, x.flags))
        .collect();
    assert_eq!(
        got,
        vec![
            (vma(0), 0x400000, 0x401000, 0x8000071),
            (vma(1), 0x401000, 0x585000, 0x8000072),
            (vma(2), 0x7fff0000, 0x7fff1000, 0x8000073)
        ]
    );
    assert_eq!(v.vmas[0].file, 0xffff_8880_0900_0000);
}

#[test]
fn a_looping_list_stops_with_a_report() {
    let mut m = list_mm();
    m.u64(vma(2) + 0x10, vma(1));
    let o = offsets(VmaList::List {
        head: 0x8,
        next: 0x10,
    });
    let v = read_vmas(&m, MM, &o, None).unwrap();
    assert_eq!(v.vmas.len(), 3);
    assert!(
        v.damage[0].text.contains(&format!("{:x}", vma(1))),
        "{:?}",
        v.damage
    );
}

#[test]
fn the_maple_tree() {
    let mo = MapleOffsets::linux_6_1();
    let mut m = list_mm();
    // A root leaf: gap, vma 0, vma 1, gap, vma 2, gap to the end.
    let pivots = [0x3fffff, 0x400fff, 0x584fff, 0x7ffeffff, 0x7fff0fff];
    let slots = [0, vma(0), vma(1), 0, vma(2), 0];
    for (i, p) in pivots.iter().enumerate() {
        m.u64(NODE + mo.range_pivot + 8 * i as u64, *p);
    }
    for (i, s) in slots.iter().enumerate() {
        m.u64(NODE + mo.range_slot + 8 * i as u64, *s);
    }
    m.write(NODE + mo.range_end, &[5]);
    m.u64(MM + 0x10, NODE | (1 << 3) | 2);
    let o = offsets(VmaList::Maple { root: 0x10 });
    let v = read_vmas(&m, MM, &o, Some(&mo)).unwrap();
    assert_eq!(v.damage, Vec::<crate::Finding>::new());
    let addrs: Vec<u64> = v.vmas.iter().map(|x| x.addr).collect();
    assert_eq!(addrs, vec![vma(0), vma(1), vma(2)]);
    // Without the maple layout, no guess.
    assert!(read_vmas(&m, MM, &o, None).is_err());
}
