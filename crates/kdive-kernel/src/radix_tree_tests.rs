//! The radix-tree / xarray walk on made-up memory: index arithmetic over
//! two levels, the entries that are not pointers, and damaged trees.

use super::*;

/// Made-up memory (see [`crate::fake_mem`]).
pub(crate) type Fake = crate::fake_mem::FakeMem;

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

fn walk(m: &Fake, t: &TreeLayout) -> (Vec<(u64, u64)>, Vec<crate::Finding>) {
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
    assert!(n[0].text.contains("comes back to node"), "{n:?}");
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
    assert!(n[0].text.contains(&format!("{N2:#x} has shift 0")), "{n:?}");
    assert!(
        n[1].text.contains("invalid kernel virtual address"),
        "{n:?}"
    );
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
