//! The maple tree walk on made-up nodes: a two-level tree, then damaged
//! (a loop, a bad type, pivots out of order, a node that does not read).

use super::*;
use crate::fake_mem::FakeMem;

const BASE: u64 = 0xffff_8880_0100_0000;

fn node(i: u64) -> u64 {
    BASE + i * 256
}

/// A child as an inner node holds it (`mt_mk_node()`).
fn enc(addr: u64, kind: u64) -> u64 {
    addr | (kind << TYPE_SHIFT) | 4
}

/// The root as `ma_root` holds it (`mte_mk_root()`).
fn enc_root(addr: u64, kind: u64) -> u64 {
    addr | (kind << TYPE_SHIFT) | 2
}

/// A leaf at `addr`: `(pivot, slot)` pairs, the last pivot unused.
fn leaf(m: &mut FakeMem, addr: u64, slots: &[(u64, u64)], end: u8) {
    let o = MapleOffsets::linux_6_1();
    for (i, &(p, s)) in slots.iter().enumerate() {
        if i < o.range_slots - 1 {
            m.u64(addr + o.range_pivot + 8 * i as u64, p);
        }
        m.u64(addr + o.range_slot + 8 * i as u64, s);
    }
    m.write(addr + o.range_end, &[end]);
}

/// An arange root over two leaves: [0, 0x1fff] and [0x2000, max].
fn tree() -> (FakeMem, u64) {
    let o = MapleOffsets::linux_6_1();
    let mut m = FakeMem::default();
    // Leaf 1: 0-0xfff empty, 0x1000-0x1fff VMA A.
    leaf(&mut m, node(1), &[(0xfff, 0), (0x1fff, 0xaaa0)], 1);
    // Leaf 2: 0x2000-0x2fff B, 0x3000-0x4fff empty, 0x5000-0x5fff C, rest empty.
    leaf(
        &mut m,
        node(2),
        &[(0x2fff, 0xbbb0), (0x4fff, 0), (0x5fff, 0xccc0), (0, 0)],
        3,
    );
    let root = node(0);
    m.u64(root + o.arange_pivot, 0x1fff);
    m.u64(root + o.arange_slot, enc(node(1), LEAF_64));
    m.u64(root + o.arange_slot + 8, enc(node(2), LEAF_64));
    m.write(root + o.arange_end, &[1]);
    (m, enc_root(root, ARANGE_64))
}

#[test]
fn entries_in_order_with_ranges() {
    let (m, root) = tree();
    let w = walk(&m, root, &MapleOffsets::linux_6_1(), 100);
    assert_eq!(w.damage, Vec::<crate::Finding>::new());
    let got: Vec<(u64, u64, u64)> = w
        .entries
        .iter()
        .map(|e| (e.first, e.last, e.entry))
        .collect();
    assert_eq!(
        got,
        vec![
            (0x1000, 0x1fff, 0xaaa0),
            (0x2000, 0x2fff, 0xbbb0),
            (0x5000, 0x5fff, 0xccc0)
        ]
    );
}

#[test]
fn single_entry_root_and_empty_tree() {
    let m = FakeMem::default();
    let o = MapleOffsets::linux_6_1();
    assert_eq!(walk(&m, 0, &o, 10), MapleWalk::default());
    let w = walk(&m, 0xffff_8880_0000_1000, &o, 10);
    assert_eq!(w.entries.len(), 1);
    assert_eq!(w.entries[0].entry, 0xffff_8880_0000_1000);
}

#[test]
fn a_loop_is_reported_and_the_walk_ends() {
    let (mut m, root) = tree();
    let o = MapleOffsets::linux_6_1();
    // Leaf 2 becomes an inner node pointing back at the root.
    m.u64(node(0) + o.arange_slot + 8, enc(node(2), RANGE_64));
    m.u64(node(2) + o.range_slot, root);
    let w = walk(&m, root, &o, 100);
    assert!(
        w.damage.iter().any(|d| d.text.contains("reached twice")),
        "{:?}",
        w.damage
    );
    // Typed: a loop, at the node reached twice.
    assert!(
        w.damage
            .iter()
            .any(|d| d.kind == crate::FindingKind::Loop && d.addr == Some(node(0))),
        "{:?}",
        w.damage
    );
    assert_eq!(w.entries.len(), 1, "leaf 1 is still read");
}

#[test]
fn bad_type_bad_pivots_and_unreadable_nodes_are_reported() {
    let (mut m, root) = tree();
    let o = MapleOffsets::linux_6_1();
    // Leaf 1 with pivots going down.
    leaf(
        &mut m,
        node(1),
        &[(0x1800, 0x1110), (0x1000, 0xaaa0), (0, 0xddd0)],
        2,
    );
    // Leaf 2 of type 9.
    m.u64(node(0) + o.arange_slot + 8, enc(node(2), 9));
    let w = walk(&m, root, &o, 100);
    assert!(
        w.damage.iter().any(|d| d.text.contains("outside")),
        "{:?}",
        w.damage
    );
    assert!(
        w.damage.iter().any(|d| d.text.contains("type 9")),
        "{:?}",
        w.damage
    );
    assert_eq!(w.entries.len(), 1, "the entry before the bad pivot");
    // A child that does not read.
    m.u64(node(0) + o.arange_slot + 8, enc(node(40), LEAF_64));
    let w = walk(&m, root, &o, 100);
    assert!(
        w.damage.iter().any(|d| d.text.contains("does not read")),
        "{:?}",
        w.damage
    );
}

#[test]
fn entries_are_bounded() {
    let (m, root) = tree();
    let w = walk(&m, root, &MapleOffsets::linux_6_1(), 2);
    assert_eq!(w.entries.len(), 2);
    assert!(w.damage.iter().any(|d| d.text.contains("more than 2")));
}
