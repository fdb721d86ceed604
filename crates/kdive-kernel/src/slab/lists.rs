//! Kernel lists the walk follows: `list_head` lists checked link by link,
//! and crash's counts over what was found.

use std::collections::HashSet;

use super::{CacheState, Finding, Kind, Place, SlabObjects, Usage, MAX_LIST};
use crate::memory::Memory;

/// The entries of the `list_head` list at `head` (their `list_head`
/// addresses), checking that each `next->prev` points back. Stops at a
/// loop, an unreadable entry, or [`MAX_LIST`] entries, with a finding.
pub(crate) fn list(
    mem: &dyn Memory,
    head: u64,
    place: Place,
    cache: &str,
    findings: &mut Vec<Finding>,
) -> Vec<u64> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut prev = head;
    let mut finding = |addr: u64, what: String, kind: Kind| {
        findings.push(Finding {
            cache: cache.to_string(),
            place,
            addr,
            slab: None,
            what,
            kind,
        })
    };
    let mut next = match mem.read_u64(head) {
        Ok(n) => n,
        Err(e) => {
            finding(
                head,
                format!("list head {head:x} unreadable: {e}"),
                Kind::Unreadable,
            );
            return out;
        }
    };
    while next != head {
        if out.len() >= MAX_LIST {
            finding(
                next,
                format!("more than {MAX_LIST} entries: stopped"),
                Kind::Corrupt,
            );
            break;
        }
        if !seen.insert(next) {
            finding(
                next,
                format!("list loops back to {next:x} after {prev:x}"),
                Kind::Corrupt,
            );
            break;
        }
        match mem.read_u64(next.wrapping_add(8)) {
            Ok(back) if back == prev => {}
            Ok(back) => finding(
                next,
                format!("list entry {next:x} (after {prev:x}): its prev is {back:x}, not {prev:x}"),
                Kind::Corrupt,
            ),
            Err(e) => {
                finding(
                    next,
                    format!("list entry {next:x} (after {prev:x}) unreadable: {e}"),
                    Kind::Unreadable,
                );
                break;
            }
        }
        out.push(next);
        prev = next;
        next = match mem.read_u64(next) {
            Ok(n) => n,
            Err(_) => break,
        };
    }
    out
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
