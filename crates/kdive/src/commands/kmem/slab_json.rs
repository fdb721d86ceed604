//! `kmem -S --json`: a cache's per-CPU slabs and node lists as data, what
//! `kmem -S` prints as text: each CPU's slab (with its objects, free or
//! allocated) and partial list, each node's counts, partial and full lists.
//! Per-CPU sheaves and barns (7.x) are not in the view yet.

use kdive_kernel::slab::{Cache, CacheState, SlabObjects};
use serde_json::{json, Value};

use crate::commands::json::hex;

/// Add `cpus` and `nodes` to the cache's value `v`.
pub fn add_lists(v: &mut Value, c: &Cache, st: &CacheState) {
    v["cpus"] = st
        .cpus
        .iter()
        .map(|cpu| {
            json!({
                "cpu": cpu.cpu,
                "kmem_cache_cpu": hex(cpu.kmem_cache_cpu),
                "slab": cpu.slab.as_ref().map(|so| slab(c, so, true)),
                "partial": cpu.partial.iter().map(|so| slab(c, so, true)).collect::<Vec<_>>(),
            })
        })
        .collect();
    v["nodes"] = st
        .nodes
        .iter()
        .map(|n| {
            let list =
                |l: &[SlabObjects]| l.iter().map(|so| slab(c, so, false)).collect::<Vec<_>>();
            json!({
                "node": n.node,
                "address": hex(n.addr),
                "slabs": n.nr_slabs,
                "partial_count": n.nr_partial,
                "per_cpu": n.per_cpu,
                "partial": list(&n.partial),
                "full": n.full.as_deref().map(list),
            })
        })
        .collect();
}

/// A slab's line (`{slab, memory, node, total, allocated, free}`), and
/// with `objects` each object `{address, free}` (`cpu` where a CPU's free
/// list holds it), as the text lists a CPU slab's.
fn slab(c: &Cache, so: &SlabObjects, objects: bool) -> Value {
    let s = &so.slab;
    let mut v = json!({
        "slab": hex(s.addr),
        "memory": hex(s.memory),
        "node": s.node,
        "total": s.objects,
        "allocated": so.allocated,
        "free": s.objects as i64 - so.allocated as i64,
    });
    if objects {
        v["objects"] = so
            .objects(c)
            .map(|(addr, free)| json!({ "address": hex(addr), "free": free, "cpu": so.cpu.filter(|_| free) }))
            .collect();
    }
    v
}
