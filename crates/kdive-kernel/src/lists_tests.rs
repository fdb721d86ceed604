//! The list walk on made-up memory: a good list, then one damaged in each
//! way a dump can show it.

use super::{Fault, List, ListWalk};
use crate::fake_mem::FakeMem;
use crate::FindingKind::{self, BackPointer, Corrupt, Loop, Truncated, Unreadable};

const HEAD: u64 = 0xffff_8880_0000_1000;
const A: u64 = 0xffff_8880_0000_2000;
const B: u64 = 0xffff_8880_0000_3000;
const C: u64 = 0xffff_8880_0000_4000;

/// HEAD -> A -> B -> C -> HEAD, each `prev` leading back.
fn list() -> FakeMem {
    let mut m = FakeMem::default();
    let ring = [HEAD, A, B, C];
    for (i, &at) in ring.iter().enumerate() {
        m.u64(at, ring[(i + 1) % 4]);
        m.u64(at + 8, ring[(i + 3) % 4]);
    }
    m
}

fn walk(m: &FakeMem) -> List {
    ListWalk::new().walk(m, HEAD)
}

fn kinds(l: &List) -> Vec<FindingKind> {
    l.findings("test list").iter().map(|f| f.kind).collect()
}

fn addr(l: &List, i: usize) -> Option<u64> {
    l.findings("test list")[i].addr
}

#[test]
fn a_good_list_is_read_in_order() {
    let l = walk(&list());
    assert_eq!(l.nodes, [A, B, C]);
    assert!(l.faults.is_empty(), "{:?}", l.faults);
    assert_eq!(l.iter().collect::<Vec<_>>(), [A, B, C]);
}

#[test]
fn an_empty_list_has_no_entries() {
    let mut m = FakeMem::default();
    m.u64(HEAD, HEAD);
    m.u64(HEAD + 8, HEAD);
    let l = walk(&m);
    assert!(l.nodes.is_empty() && l.faults.is_empty());
}

#[test]
fn a_loop_is_reported_where_it_closes() {
    let mut m = list();
    m.u64(C, A);
    let l = walk(&m);
    assert_eq!(l.nodes, [A, B, C]);
    assert_eq!(kinds(&l), [Loop]);
    assert_eq!(l.faults, [Fault::Loop { entry: C, to: A }]);
    assert_eq!(addr(&l, 0), Some(A));
}

#[test]
fn a_bad_pointer_is_walked_around_from_the_head() {
    let mut m = list();
    m.u64(B, 0x4141_4141);
    let l = walk(&m);
    // C comes from walking back from the head.
    assert_eq!(l.nodes, [A, B, C]);
    assert_eq!(kinds(&l), [Corrupt, Truncated]);
    assert_eq!(addr(&l, 0), Some(0x4141_4141));
    let l = ListWalk::new().walk_back(false).walk(&m, HEAD);
    assert_eq!((kinds(&l), l.nodes), (vec![Corrupt], vec![A, B]));
}

#[test]
fn a_back_pointer_that_does_not_lead_back_is_reported() {
    let mut m = list();
    m.u64(B + 8, C);
    let l = walk(&m);
    assert_eq!(l.nodes, [A, B, C]);
    assert_eq!(kinds(&l), [BackPointer]);
    let bad = Fault::BackPointer {
        entry: B,
        after: A,
        prev: C,
    };
    assert_eq!(l.faults, [bad]);
    assert_eq!(addr(&l, 0), Some(B));
    let l = ListWalk::new().back_pointers(false).walk(&m, HEAD);
    assert!(l.faults.is_empty());
}

#[test]
fn an_unreadable_entry_is_skipped_from_the_head() {
    let mut m = list();
    m.hole(B);
    let l = walk(&m);
    assert_eq!(l.nodes, [A, C]);
    assert_eq!(kinds(&l), [Unreadable, Truncated]);
    assert_eq!(addr(&l, 0), Some(B));
}

#[test]
fn an_unreadable_head_is_one_finding() {
    let mut m = list();
    m.hole(HEAD);
    let l = walk(&m);
    assert!(l.nodes.is_empty());
    assert_eq!(kinds(&l), [Unreadable]);
}

#[test]
fn a_long_list_is_cut_at_the_bound() {
    let l = ListWalk::new().max(2).walk(&list(), HEAD);
    assert_eq!((kinds(&l), l.nodes), (vec![Truncated], vec![A, B]));
}
