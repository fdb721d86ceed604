//! The radix-tree / xarray walk on made-up memory: index arithmetic over
//! two levels, the entries that are not pointers, and damaged trees.

use std::collections::BTreeMap;

use super::*;

/// Memory made of a few regions.
#[derive(Default)]
pub(crate) struct Fake {
    regions: BTreeMap<u64, Vec<u8>>,
}

impl Fake {
    pub fn region(&mut self, base: u64, len: usize) {
        self.regions.insert(base, vec![0; len]);
    }

    pub fn u64(&mut self, addr: u64, v: u64) {
        let (base, r) = self.regions.range_mut(..=addr).next_back().unwrap();
        let off = (addr - base) as usize;
        r[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }

    pub fn u32(&mut self, addr: u64, v: u32) {
        for (i, b) in v.to_le_bytes().into_iter().enumerate() {
            self.u8(addr + i as u64, b);
        }
    }

    pub fn write16(&mut self, addr: u64, v: u16) {
        for (i, b) in v.to_le_bytes().into_iter().enumerate() {
            self.u8(addr + i as u64, b);
        }
    }

    pub fn u8(&mut self, addr: u64, v: u8) {
        let (base, r) = self.regions.range_mut(..=addr).next_back().unwrap();
        r[(addr - base) as usize] = v;
    }
}

impl Memory for Fake {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        let bad = || format!("no memory at {addr:#x}");
        let (base, r) = self.regions.range(..=addr).next_back().ok_or_else(bad)?;
        let off = (addr - base) as usize;
        buf.copy_from_slice(r.get(off..off + buf.len()).ok_or_else(bad)?);
        Ok(())
    }

    fn read_cstr(&self, addr: u64, max: usize) -> Result<String, String> {
        let mut out = Vec::new();
        for i in 0..max as u64 {
            let mut b = [0u8];
            self.read(addr + i, &mut b)?;
            if b[0] == 0 {
                break;
            }
            out.push(b[0]);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// 6.1's `struct xarray` and `struct xa_node`.
const XA: TreeLayout = TreeLayout {
    xarray: true,
    head: 8,
    node_shift: 0,
    node_slots: 40,
    nr_slots: 64,
};
const ROOT: u64 = 0xffff_8880_0100_0000;
const N1: u64 = 0xffff_8880_0200_0000;
const N2: u64 = 0xffff_8880_0200_1000;
const A: u64 = 0xffff_8880_0300_0000;
const B: u64 = 0xffff_8880_0300_0100;
const C: u64 = 0xffff_8880_0300_0200;

fn memory() -> Fake {
    let mut m = Fake::default();
    m.region(ROOT, 64);
    m.region(N1, 576);
    m.region(N2, 576);
    m
}

fn walk(m: &Fake, t: &TreeLayout) -> (Vec<(u64, u64)>, Vec<String>) {
    let mut notices = Vec::new();
    let e = tree_entries(m, ROOT, t, "test tree", &mut notices);
    (e, notices)
}

fn slot(node: u64, i: u64) -> u64 {
    node + 40 + 8 * i
}

#[test]
fn a_lone_entry_is_index_0() {
    let mut m = memory();
    m.u64(ROOT + 8, A);
    assert_eq!(walk(&m, &XA), (vec![(0, A)], vec![]));
    m.u64(ROOT + 8, 0);
    assert_eq!(walk(&m, &XA), (vec![], vec![]));
}

/// Root node (shift 6): a multi-index entry at 0, a child at slot 1 (indices
/// 64-127), a value entry and a sibling entry that are no pointers. Child
/// (shift 0): entries at slots 3 and 5, so indices 67 and 69.
#[test]
fn two_levels_give_each_entry_its_index() {
    let mut m = memory();
    m.u64(ROOT + 8, N1 | 2);
    m.u8(N1, 6);
    m.u64(slot(N1, 0), A);
    m.u64(slot(N1, 1), N2 | 2);
    m.u64(slot(N1, 2), (7 << 1) | 1);
    m.u64(slot(N1, 3), 2);
    m.u64(slot(N2, 3), B);
    m.u64(slot(N2, 5), C);
    assert_eq!(walk(&m, &XA), (vec![(0, A), (67, B), (69, C)], vec![]));
}

#[test]
fn a_tree_that_comes_back_is_cut_where_it_does() {
    let mut m = memory();
    m.u64(ROOT + 8, N1 | 2);
    m.u8(N1, 6);
    m.u64(slot(N1, 1), N1 | 2);
    m.u64(slot(N1, 2), N2 | 2);
    m.u64(slot(N2, 0), A);
    let (e, n) = walk(&m, &XA);
    assert_eq!(e, vec![(128, A)]);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(n[0].contains("comes back to node"), "{n:?}");
}

#[test]
fn bad_shifts_and_unreadable_nodes_are_skipped_with_a_notice() {
    let mut m = memory();
    m.u64(ROOT + 8, N1 | 2);
    m.u8(N1, 12);
    // Its child should have shift 6, has 0.
    m.u64(slot(N1, 0), N2 | 2);
    m.u64(slot(N2, 0), A);
    // A node in memory the dump lacks.
    m.u64(slot(N1, 1), 0xffff_8880_0900_0000 | 2);
    m.u64(slot(N1, 2), B);
    let (e, n) = walk(&m, &XA);
    assert_eq!(e, vec![(2 << 12, B)]);
    assert_eq!(n.len(), 2, "{n:?}");
    assert!(n[0].contains(&format!("{N2:#x} has shift 0")), "{n:?}");
    assert!(n[1].contains("no memory at"), "{n:?}");
    // A root that does not read.
    let mut notices = Vec::new();
    assert!(tree_entries(&m, 0x1000, &XA, "t", &mut notices).is_empty());
    assert_eq!(notices.len(), 1);
}

/// 4.7-4.19: `rnode`, nodes tagged with bit 0, exceptional entries bit 1.
#[test]
fn old_radix_trees_tag_nodes_with_bit_0() {
    let old = TreeLayout {
        xarray: false,
        head: 8,
        node_shift: 0,
        node_slots: 40,
        nr_slots: 64,
    };
    let mut m = memory();
    m.u64(ROOT + 8, N1 | 1);
    m.u8(N1, 6);
    m.u64(slot(N1, 2), N2 | 1);
    m.u64(slot(N2, 1), A);
    m.u64(slot(N2, 2), 0x1234 << 2 | 2);
    assert_eq!(walk(&m, &old), (vec![(129, A)], vec![]));
}
