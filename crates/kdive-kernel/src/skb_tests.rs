//! The queue walk on made-up memory: a good queue, then one damaged in
//! each way a dump can show it.

use super::{walk, Offsets, Skb};
use crate::fake_mem::FakeMem;
use crate::FindingKind;

const O: Offsets = Offsets {
    head_next: 0,
    qlen: 16,
    next: 0,
    len: 0x70,
    data: 0xc8,
};
const HEAD: u64 = 0xffff_8880_0000_1000;
const A: u64 = 0xffff_8880_0000_2000;
const B: u64 = 0xffff_8880_0000_3000;

/// HEAD -> A -> B -> HEAD, two buffers counted.
fn queue() -> FakeMem {
    let mut m = FakeMem::default();
    for (at, next, prev) in [(HEAD, A, B), (A, B, HEAD), (B, HEAD, A)] {
        m.u64(at, next);
        m.u64(at + 8, prev);
    }
    m.u32(HEAD + O.qlen, 2);
    m.u32(A + O.len, 40);
    m.u64(A + O.data, 0xffff_8880_0000_4000);
    m.u32(B + O.len, 60);
    m.u64(B + O.data, 0xffff_8880_0000_5000);
    m
}

fn kinds(m: &FakeMem) -> (Vec<u64>, Vec<FindingKind>) {
    let q = walk(m, &O, HEAD).unwrap();
    (
        q.skbs.iter().map(|s| s.addr).collect(),
        q.findings.iter().map(|f| f.kind).collect(),
    )
}

#[test]
fn a_good_queue_is_read_in_order() {
    let q = walk(&queue(), &O, HEAD).unwrap();
    assert_eq!(q.qlen, 2);
    assert_eq!(
        q.skbs,
        [
            Skb {
                addr: A,
                len: 40,
                data: 0xffff_8880_0000_4000
            },
            Skb {
                addr: B,
                len: 60,
                data: 0xffff_8880_0000_5000
            }
        ]
    );
    assert!(q.findings.is_empty(), "{:?}", q.findings);
}

#[test]
fn an_empty_queue_has_nothing() {
    let mut m = FakeMem::default();
    m.u64(HEAD, HEAD);
    m.u64(HEAD + 8, HEAD);
    let q = walk(&m, &O, HEAD).unwrap();
    assert!(q.skbs.is_empty() && q.findings.is_empty());
}

#[test]
fn a_loop_stops_the_walk() {
    let mut m = queue();
    m.u64(B, A);
    assert_eq!(kinds(&m), (vec![A, B], vec![FindingKind::Loop]));
}

#[test]
fn a_bad_pointer_stops_the_walk() {
    let mut m = queue();
    m.u64(A, 0x4141_4141);
    assert_eq!(kinds(&m), (vec![A], vec![FindingKind::Corrupt]));
}

#[test]
fn an_unreadable_buffer_stops_the_walk() {
    let mut m = queue();
    m.hole(B);
    let (skbs, k) = kinds(&m);
    assert_eq!((skbs, k), (vec![A], vec![FindingKind::Unreadable]));
}

#[test]
fn a_count_that_disagrees_is_reported() {
    let mut m = queue();
    m.u32(HEAD + O.qlen, 3);
    assert_eq!(kinds(&m), (vec![A, B], vec![FindingKind::Corrupt]));
}

#[test]
fn an_unreadable_head_fails() {
    let mut m = queue();
    m.hole(HEAD);
    assert!(walk(&m, &O, HEAD).is_err());
}
