//! `kmem -s`, `kmem -S` and `kmem ADDRESS` on SLUB: crash's lines
//! (memory.c `dump_kmem_cache_slub`, `do_kmem_cache_slub`, `do_slab_slub`),
//! and after them, on standard error, what kdive found wrong in the
//! allocator's metadata (a free pointer outside its slab, a loop, a list
//! that does not link back), which crash does not look for.

use std::io::Write;

use kdive_kernel::slab::{
    Cache, CacheState, Finding, Place, SlabAddress, SlabObjects, Slub, Usage,
};

use crate::commands::{io, CmdResult};

const CACHE_HDR: &str = "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME";
const SLAB_HDR: &str = "SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE";
const NODE_HDR: &str = "KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU";

/// Every cache on `slab_caches`: a line each (`-s`), or all their slabs (`-S`).
pub fn all(slub: &Slub, verbose: bool, out: &mut dyn Write) -> CmdResult {
    let (addrs, list_findings) = slub.cache_addrs();
    report(out, &list_findings, |_| true)?;
    writeln!(out, "{CACHE_HDR}").map_err(io)?;
    for (i, &a) in addrs.iter().enumerate() {
        let c = match slub.cache(a) {
            Ok(c) => c,
            Err(e) => {
                out.flush().map_err(io)?;
                eprintln!("kmem: kmem_cache {a:x}: cannot read it: {e}");
                continue;
            }
        };
        let st = slub.state(&c);
        cache_line(out, &c, &st.usage)?;
        if verbose {
            detail(out, &c, &st)?;
            if i + 1 < addrs.len() {
                writeln!(out, "{CACHE_HDR}").map_err(io)?;
            }
        } else {
            report(out, &st.findings, |_| true)?;
        }
    }
    Ok(())
}

/// One cache: its line, and with `verbose` its slabs.
pub fn cache(slub: &Slub, c: &Cache, verbose: bool, out: &mut dyn Write) -> CmdResult {
    let st = slub.state(c);
    writeln!(out, "{CACHE_HDR}").map_err(io)?;
    cache_line(out, c, &st.usage)?;
    if verbose {
        detail(out, c, &st)
    } else {
        report(out, &st.findings, |_| true)
    }
}

/// `kmem -s|-S ADDRESS`: a cache's address, or an address in a slab.
pub fn by_address(slub: &Slub, addr: u64, verbose: bool, out: &mut dyn Write) -> CmdResult {
    if slub.is_cache(addr) {
        let c = slub.cache(addr).map_err(|e| e.to_string())?;
        return cache(slub, &c, verbose, out);
    }
    if address(slub, addr, verbose, out)? {
        Ok(())
    } else {
        Err(format!(
            "address is not allocated in slab subsystem: {addr:x}"
        ))
    }
}

/// The cache, slab and object `addr` is in, as crash shows an address it
/// found in a slab: every object of the slab when `all_objects` or when
/// `addr` is the slab's `struct page`. `false` when it is in no slab.
pub fn address(
    slub: &Slub,
    addr: u64,
    all_objects: bool,
    out: &mut dyn Write,
) -> Result<bool, String> {
    let Some(sa) = slub.address(addr) else {
        return Ok(false);
    };
    slab_address(out, &sa, addr, all_objects)?;
    Ok(true)
}

/// The cache, slab and object of an address in a slab.
pub fn slab_address(
    out: &mut dyn Write,
    sa: &SlabAddress,
    addr: u64,
    all_objects: bool,
) -> CmdResult {
    let (c, st) = (&sa.hit.cache, &sa.state);
    writeln!(out, "{CACHE_HDR}").map_err(io)?;
    cache_line(out, c, &st.usage)?;
    let only = match sa.hit.object {
        Some((start, _)) if !all_objects => Some(start),
        Some(_) => None,
        // A struct page address shows the whole slab; an address past
        // the last object shows none.
        None if sa.hit.page == addr => None,
        None => Some(u64::MAX),
    };
    slab_lines(out, c, &sa.objects, true, only)?;
    report(out, &st.findings, |_| true)
}

/// crash's `dump_kmem_cache_info` line.
fn cache_line(out: &mut dyn Write, c: &Cache, u: &Usage) -> CmdResult {
    writeln!(
        out,
        "{:<16x} {:>8}  {:>9}  {:>8}  {:>5}  {:>4}k  {}",
        c.addr,
        c.object_size,
        u.allocated,
        u.total,
        u.slabs,
        c.slab_bytes() / 1024,
        c.name
    )
    .map_err(io)
}

/// crash's `do_kmem_cache_slub`: each CPU's slab and partial list, each
/// node's counts and lists; kdive's findings after the part they are in.
fn detail(out: &mut dyn Write, c: &Cache, st: &CacheState) -> CmdResult {
    report(out, &st.findings, |p| {
        matches!(p, Place::Cache | Place::CacheList)
    })?;
    for cpu in &st.cpus {
        let n = cpu.cpu;
        writeln!(out, "CPU {n} KMEM_CACHE_CPU:\n  {:x}", cpu.kmem_cache_cpu).map_err(io)?;
        writeln!(out, "CPU {n} SLAB:").map_err(io)?;
        match &cpu.slab {
            None => writeln!(out, "  (empty)").map_err(io)?,
            Some(so) => slab_lines(out, c, so, true, None)?,
        }
        writeln!(out, "CPU {n} PARTIAL:").map_err(io)?;
        if cpu.partial.is_empty() {
            writeln!(out, "  (empty)").map_err(io)?;
        }
        for so in &cpu.partial {
            slab_lines(out, c, so, true, None)?;
        }
        report(
            out,
            &st.findings,
            |p| matches!(p, Place::Cpu(x) | Place::CpuPartial(x) if x == n),
        )?;
    }
    super::sheaves::cpu_sheaves(out, c, st)?;
    for node in &st.nodes {
        let n = node.node;
        writeln!(out, "{NODE_HDR}").map_err(io)?;
        writeln!(
            out,
            "{:x}  {:4}  {:5}  {:7}  {:7}",
            node.addr,
            n,
            node.nr_slabs.unwrap_or(0),
            node.nr_partial,
            node.per_cpu
        )
        .map_err(io)?;
        node_list(out, c, &format!("NODE {n} PARTIAL:"), Some(&node.partial))?;
        node_list(out, c, &format!("NODE {n} FULL:"), node.full.as_deref())?;
        if let Some(barn) = &node.barn {
            super::sheaves::barn(out, c, n, barn)?;
        }
        report(
            out,
            &st.findings,
            |p| matches!(p, Place::Node(x) | Place::NodePartial(x) | Place::NodeFull(x) | Place::Barn(x) if x == n),
        )?;
    }
    writeln!(out).map_err(io)
}

fn node_list(
    out: &mut dyn Write,
    c: &Cache,
    title: &str,
    slabs: Option<&[SlabObjects]>,
) -> CmdResult {
    writeln!(out, "{title}").map_err(io)?;
    match slabs {
        None => writeln!(out, "  (not tracked)").map_err(io),
        Some([]) => writeln!(out, "  (empty)").map_err(io),
        Some(slabs) => {
            writeln!(out, "  {SLAB_HDR}").map_err(io)?;
            for so in slabs {
                slab_lines(out, c, so, false, None)?;
            }
            Ok(())
        }
    }
}

/// crash's `do_slab_slub`: the slab's line, and with `verbose` its
/// objects, free ones plain (a CPU slab's marked with the CPU), allocated
/// ones in brackets; `only` shows just the object starting there.
fn slab_lines(
    out: &mut dyn Write,
    c: &Cache,
    so: &SlabObjects,
    verbose: bool,
    only: Option<u64>,
) -> CmdResult {
    let s = &so.slab;
    if verbose {
        writeln!(out, "  {SLAB_HDR}").map_err(io)?;
    }
    let node = s.node.map_or(-1, |n| n as i64);
    writeln!(
        out,
        "  {:<16x}  {:<16x}  {:4}  {:5}  {:9}  {:4}",
        s.addr,
        s.memory,
        node,
        s.objects,
        so.allocated,
        s.objects as i64 - so.allocated as i64
    )
    .map_err(io)?;
    if !verbose {
        return Ok(());
    }
    writeln!(out, "  FREE / [ALLOCATED]").map_err(io)?;
    for (i, (addr, free)) in so.objects(c).enumerate() {
        if only.is_some_and(|o| o != addr) {
            continue;
        }
        let held = so.held.iter().find(|(j, _)| *j == i).map(|(_, h)| *h);
        if !free {
            writeln!(out, "  [{addr:x}]").map_err(io)?;
        } else if let Some(h) = held {
            writeln!(out, "   {addr:x}  ({h})").map_err(io)?;
        } else if let Some(cpu) = so.cpu {
            writeln!(out, "   {addr:x}  (cpu {cpu} cache)").map_err(io)?;
        } else {
            writeln!(out, "   {addr:x}  ").map_err(io)?;
        }
    }
    Ok(())
}

/// kdive's findings whose place matches, on standard error, after the
/// output so far.
pub(super) fn report(
    out: &mut dyn Write,
    findings: &[Finding],
    pick: impl Fn(Place) -> bool,
) -> CmdResult {
    let mut flushed = false;
    for f in findings.iter().filter(|f| pick(f.place)) {
        if !flushed {
            out.flush().map_err(io)?;
            flushed = true;
        }
        eprintln!("kmem: {f}");
    }
    Ok(())
}

/// `kmem -s [CACHE] --json`: each cache with crash's counts and what kdive
/// found wrong in it.
pub fn json(slub: &Slub, args: &[&str], slabs: bool, out: &mut dyn Write) -> CmdResult {
    use serde_json::json;
    let (addrs, list_findings) = slub.cache_addrs();
    let finding = |f: &Finding| {
        json!({
            "cache": f.cache,
            "place": format!("{:?}", f.place),
            "address": crate::commands::json::hex(f.addr),
            "what": f.what,
            "corrupt": matches!(f.kind, kdive_kernel::slab::Kind::Corrupt),
        })
    };
    let mut caches = Vec::new();
    for a in addrs {
        let Ok(c) = slub.cache(a) else { continue };
        if let [want] = args {
            if c.name != *want && super::address(want) != Some(c.addr) {
                continue;
            }
        }
        let st = slub.state(&c);
        let mut v = json!({
            "address": crate::commands::json::hex(c.addr),
            "name": c.name,
            "object_size": c.object_size,
            "allocated": st.usage.allocated,
            "total": st.usage.total,
            "slabs": st.usage.slabs,
            "slab_size": c.slab_bytes(),
            "findings": st.findings.iter().map(finding).collect::<Vec<_>>(),
        });
        if slabs {
            super::slab_json::add_lists(&mut v, &c, &st);
        }
        caches.push(v);
    }
    if caches.is_empty() && !args.is_empty() {
        return Err(format!("invalid kmem_cache name: {}", args[0]));
    }
    crate::commands::json::emit(
        out,
        &json!({ "caches": caches, "list_findings": list_findings.iter().map(finding).collect::<Vec<_>>() }),
    )
}
