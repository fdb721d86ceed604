//! `kmem ADDRESS`: what an address is ([`kdive_kernel::Identity`]), shown
//! in crash's order (memory.c `kmem_search`): the symbol, for kernel text,
//! data and modules; the vmalloc area; the slab cache, slab and object;
//! the task; the page.

use std::io::Write;

use kdive_arch::Region;
use kdive_kernel::Identity;

use super::{pages, slab};
use crate::commands::{io, CmdResult};
use crate::session::Session;

pub fn show(s: &Session, addr: u64, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let id = k.identify(addr).map_err(|e| e.to_string())?;
    if s.json {
        return crate::commands::json::emit(out, &json(&id));
    }
    let vmalloc = matches!(id.region, Region::Vmalloc);
    if !id.physical {
        symbol(s, &id, out)?;
        // A vmalloc'd kernel stack: its task first, as crash shows it.
        if let Some(t) = id.stack_of.as_ref().filter(|_| vmalloc) {
            crate::commands::set::show_context(s, t, out)?;
            writeln!(out).map_err(io)?;
        }
        if let Some(a) = &id.vmalloc {
            super::vmalloc::header(out)?;
            super::vmalloc::line(out, a)?;
            writeln!(out).map_err(io)?;
        }
    }
    if let Some(sa) = &id.slab {
        slab::slab_address(out, sa, id.vaddr, false)?;
        writeln!(out).map_err(io)?;
    }
    // Inside a task_struct, or on a stack in the direct map.
    let direct_stack = id.stack_of.as_ref().filter(|_| !vmalloc);
    if let Some(t) = id.task.as_ref().or(direct_stack) {
        crate::commands::set::show_context(s, t, out)?;
        writeln!(out).map_err(io)?;
    }
    if let Some(p) = &id.page {
        let pages = k.pages().map_err(|e| e.to_string())?;
        writeln!(out, "{}", pages::HEADER).map_err(io)?;
        return pages::line(out, &pages, p);
    }
    let kind = if id.physical {
        "physical"
    } else {
        "kernel virtual"
    };
    writeln!(out, "{addr:x}: {kind} address not found in mem map").map_err(io)
}

/// The symbol line: crash's `show_symbol` with the source line of text (a
/// space where it has none).
fn symbol(s: &Session, id: &Identity, out: &mut dyn Write) -> CmdResult {
    let Some((sym, off)) = &id.symbol else {
        return Ok(());
    };
    let mut line = format!("{:x} ({}) {}", id.addr, sym.kind, sym.name);
    if *off != 0 {
        line.push_str(&format!("+{off}"));
    }
    if let Some(m) = &sym.module {
        line.push_str(&format!(" [{m}]"));
    }
    if s.kernel.is_code(sym) {
        line.push(' ');
        if let Some(loc) = s.source_line(id.addr, *off == 0) {
            line.push_str(&loc);
        }
    }
    writeln!(out, "{line}\n").map_err(io)
}

/// `kmem ADDRESS --json`: what the address is, each part null when it is
/// not that: `{address, physical, virtual, region, symbol, module,
/// vmalloc, slab, task, stack_of, page}`.
fn json(id: &Identity) -> serde_json::Value {
    use crate::commands::json::hex;
    use serde_json::json;
    let task =
        |t: &kdive_kernel::Task| json!({ "pid": t.pid, "task": hex(t.addr), "command": t.comm });
    json!({
        "address": hex(id.addr),
        "physical": id.physical,
        "virtual": hex(id.vaddr),
        "region": format!("{:?}", id.region),
        "symbol": id.symbol.as_ref().map(|(sym, off)| json!({
            "name": sym.name, "address": hex(sym.addr), "offset": off,
        })),
        "module": id.module.as_ref().map(|m| m.name.clone()),
        "vmalloc": id.vmalloc.as_ref().map(|a| json!({
            "vmap_area": hex(a.addr), "vm_struct": hex(a.vm), "start": hex(a.start), "end": hex(a.end),
        })),
        "slab": id.slab.as_ref().map(|sa| json!({
            "cache": sa.hit.cache.name,
            "kmem_cache": hex(sa.hit.cache.addr),
            "slab": hex(sa.hit.slab.addr),
            "object": sa.hit.object.map(|(start, _)| hex(start)),
            "free": sa.free(),
        })),
        "task": id.task.as_ref().map(task),
        "stack_of": id.stack_of.as_ref().map(task),
        "page": id.page.as_ref().map(|p| json!({ "page": hex(p.page), "physical": hex(p.phys) })),
    })
}
