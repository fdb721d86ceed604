//! The maple tree walk on made-up memory: ranges from pivots over two
//! levels, and damaged trees.

use super::*;
use crate::radix_tree::tests::Fake;

/// 6.1's layouts: `ma_root` at 8; range nodes with 15 pivots at 8 and 16
/// slots at 128; allocation-range nodes with 9 pivots and 10 slots at 80.
const LAYOUT: MapleLayout = MapleLayout {
    root: 8,
    range: NodeLayout {
        pivot: 8,
        slot: 128,
        slots: 16,
    },
    arange: NodeLayout {
        pivot: 8,
        slot: 80,
        slots: 10,
    },
    dense_slot: 8,
    dense_slots: 31,
};
const TREE: u64 = 0xffff_8880_0100_0000;
const ROOT: u64 = 0xffff_8880_0200_0000;
const L1: u64 = 0xffff_8880_0200_0100;
const L2: u64 = 0xffff_8880_0200_0200;
const A: u64 = 0xffff_8880_0300_0000;
const B: u64 = 0xffff_8880_0300_0100;
const C: u64 = 0xffff_8880_0300_0200;

/// A node pointer: the node, bit 2, the type.
fn enode(node: u64, kind: u64) -> u64 {
    node | (kind << 3) | 4
}

fn memory() -> Fake {
    let mut m = Fake::default();
    m.region(TREE, 16);
    m.region(ROOT, 0x300);
    m
}

fn walk(m: &Fake) -> (Vec<(u64, u64)>, Vec<String>) {
    let mut notices = Vec::new();
    let e = maple_entries(m, TREE, &LAYOUT, "test tree", &mut notices);
    (e, notices)
}

/// Root (range node): slot 0 holds 0-9 (leaf L1), slot 1 holds 10-max
/// (leaf L2). L1: nothing at 0-3, A at 4-5, B at 6-9. L2: C at 10, nothing
/// after.
fn two_levels(m: &mut Fake) {
    m.u64(TREE + 8, enode(ROOT, 2) | 2);
    m.u64(ROOT + 8, 9);
    m.u64(ROOT + 128, enode(L1, 1));
    m.u64(ROOT + 136, enode(L2, 1));
    m.u64(L1 + 8, 3);
    m.u64(L1 + 16, 5);
    m.u64(L1 + 24, 9);
    m.u64(L1 + 136, A);
    m.u64(L1 + 144, B);
    m.u64(L2 + 8, 10);
    m.u64(L2 + 128, C);
}

#[test]
fn a_lone_entry_is_index_0() {
    let mut m = memory();
    m.u64(TREE + 8, A);
    assert_eq!(walk(&m), (vec![(0, A)], vec![]));
}

#[test]
fn pivots_give_each_entry_its_first_index() {
    let mut m = memory();
    two_levels(&mut m);
    assert_eq!(walk(&m), (vec![(4, A), (6, B), (10, C)], vec![]));
}

#[test]
fn a_child_that_comes_back_is_skipped() {
    let mut m = memory();
    two_levels(&mut m);
    m.u64(ROOT + 136, enode(ROOT, 2));
    let (e, n) = walk(&m);
    assert_eq!(e, vec![(4, A), (6, B)]);
    assert_eq!(n.len(), 1, "{n:?}");
}

#[test]
fn unreadable_nodes_and_strange_slots_are_reported() {
    let mut m = memory();
    two_levels(&mut m);
    m.u64(ROOT + 128, enode(0xffff_8880_0900_0000, 1));
    m.u64(ROOT + 136, 0x41);
    let (e, n) = walk(&m);
    assert!(e.is_empty(), "{e:?}");
    assert_eq!(n.len(), 2, "{n:?}");
    assert!(n.iter().any(|s| s.contains("no memory at")), "{n:?}");
    assert!(n.iter().any(|s| s.contains("0x41 is not a node")), "{n:?}");
}

/// An allocation-range root (type 3, as trees with `MT_FLAGS_ALLOC_RANGE`
/// have: 9 pivots, slots at 80) over a leaf, and a dense leaf (type 0:
/// one index a slot).
#[test]
fn allocation_range_and_dense_nodes() {
    let mut m = memory();
    m.u64(TREE + 8, enode(ROOT, 3) | 2);
    m.u64(ROOT + 8, 99);
    m.u64(ROOT + 80, enode(L1, 0));
    m.u64(ROOT + 88, enode(L2, 1));
    // Dense: slots at 8, indices 0, 1, 2...
    m.u64(L1 + 8 + 8 * 2, A);
    m.u64(L1 + 8 + 8 * 5, B);
    // Range leaf from 100: C at 100-104.
    m.u64(L2 + 8, 104);
    m.u64(L2 + 128, C);
    assert_eq!(walk(&m), (vec![(2, A), (5, B), (100, C)], vec![]));
}
