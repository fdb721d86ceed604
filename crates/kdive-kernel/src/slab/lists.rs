//! Kernel lists the walk follows: `list_head` lists checked link by link,
//! and crash's counts over what was found.

use super::{CacheState, Finding, Kind, Place, SlabObjects, Usage, MAX_LIST};
use crate::lists::{Fault, ListWalk};
use crate::memory::Memory;

/// The entries of the `list_head` list at `head` (their `list_head`
/// addresses), checking that each `next->prev` points back
/// ([`ListWalk`]). Stops at a loop, an unreadable entry, or [`MAX_LIST`]
/// entries, with a finding in the slab walk's words; it does not walk
/// back from the head, as its lists are counted against the allocator's
/// own counters.
pub(crate) fn list(
    mem: &dyn Memory,
    head: u64,
    place: Place,
    cache: &str,
    findings: &mut Vec<Finding>,
) -> Vec<u64> {
    let l = ListWalk::new()
        .max(MAX_LIST)
        .walk_back(false)
        .walk(mem, head);
    for f in &l.faults {
        let (addr, what, kind) = words(head, f);
        findings.push(Finding {
            cache: cache.to_string(),
            place,
            addr,
            slab: None,
            what,
            kind,
        });
    }
    l.nodes
}

/// A list fault's address, text and kind, as the slab walk reports them.
fn words(head: u64, f: &Fault) -> (u64, String, Kind) {
    use Kind::{Corrupt, Unreadable};
    match f {
        Fault::Head(e) => (
            head,
            format!("list head {head:x} unreadable: {e}"),
            Unreadable,
        ),
        Fault::Unreadable {
            entry,
            after: Some(a),
            error,
        } => (
            *entry,
            format!("list entry {entry:x} (after {a:x}) unreadable: {error}"),
            Unreadable,
        ),
        Fault::Unreadable { entry, error, .. } => (
            *entry,
            format!("list entry {entry:x} unreadable: {error}"),
            Unreadable,
        ),
        Fault::BadPointer { entry, to } => (
            *to,
            format!("list entry {entry:x} points to {to:x}, not a kernel address"),
            Corrupt,
        ),
        Fault::Loop { entry, to } => (
            *to,
            format!("list loops back to {to:x} after {entry:x}"),
            Corrupt,
        ),
        Fault::BackPointer { entry, after, prev } => (
            *entry,
            format!("list entry {entry:x} (after {after:x}): its prev is {prev:x}, not {after:x}"),
            Corrupt,
        ),
        Fault::TooMany { max } => (head, format!("more than {max} entries: stopped"), Corrupt),
        Fault::WalkedBack { count } => (
            head,
            format!("{count} more entries found walking back from the head"),
            Corrupt,
        ),
    }
}

/// crash's ALLOCATED / TOTAL / SLABS (memory.c `get_kmem_cache_slub_data`):
/// TOTAL and SLABS are the nodes' own counters (`total_objects`,
/// `nr_slabs`); the free objects are those on the CPUs' free lists (found
/// by walking them) plus what `inuse` leaves free in every CPU slab, CPU
/// partial slab and node partial slab; where there are sheaves (7.x), what they
/// hold too (in use for their slabs, free for crash's count, as a CPU free
/// list was). Without the debug counters the slabs seen are all there is
/// to count.
pub(crate) fn usage(s: &CacheState) -> Usage {
    let mut free = 0u64;
    let mut seen_objects = 0u64;
    let mut seen_slabs = 0u64;
    let mut add = |so: &SlabObjects, free_here: u64| {
        free += free_here;
        seen_objects += so.free.len() as u64;
        seen_slabs += 1;
    };
    for cpu in &s.cpus {
        if let Some(so) = &cpu.slab {
            // The CPU list's objects, and what `inuse` leaves.
            add(
                so,
                so.slab.objects.saturating_sub(so.slab.inuse) + so.cpu_free,
            );
        }
        for so in &cpu.partial {
            add(so, so.slab.objects.saturating_sub(so.slab.inuse));
        }
    }
    let mut total = 0u64;
    let mut slabs = 0u64;
    let mut counted = true;
    for n in &s.nodes {
        for so in &n.partial {
            add(so, so.slab.objects.saturating_sub(so.slab.inuse));
        }
        match (n.nr_slabs, n.total_objects) {
            (Some(ns), Some(t)) => {
                slabs += ns;
                total += t;
            }
            _ => counted = false,
        }
    }
    if counted {
        free += s
            .sheaf_objects()
            .iter()
            .filter(|(_, h)| h.is_free())
            .count() as u64;
    } else {
        // No CONFIG_SLUB_DEBUG counters: full slabs are invisible.
        slabs = seen_slabs;
        total = seen_objects;
    }
    Usage {
        allocated: total.saturating_sub(free),
        total,
        slabs,
    }
}
