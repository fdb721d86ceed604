//! `kmem ADDRESS`: what an address is, in crash's order (memory.c
//! `kmem_search`): the symbol, for kernel text, data and modules; the
//! vmalloc area; the slab cache, slab and object; the page.

use std::io::Write;

use kdive_arch::Region;
use kdive_kernel::slab::Slub;

use super::{pages, slab};
use crate::commands::{io, CmdResult};
use crate::session::Session;

pub fn show(s: &Session, slub: &Slub, addr: u64, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    // crash takes an address below the kernel's half for a physical one.
    let physical = addr < k.layout().page_offset_base;
    let vaddr = if physical { k.ptov(addr) } else { addr };
    let on_stack = |a: u64| {
        let size = k.thread_size();
        k.tasks()
            .tasks()
            .iter()
            .find(|t| t.stack != 0 && (t.stack..t.stack.saturating_add(size)).contains(&a))
    };
    if !physical {
        symbol(s, vaddr, out)?;
        // A vmalloc'd kernel stack: its task first, as crash shows it.
        if matches!(k.region(vaddr), Region::Vmalloc) {
            if let Some(t) = on_stack(vaddr) {
                crate::commands::set::show_context(s, t, out)?;
                writeln!(out).map_err(io)?;
            }
        }
        vmalloc(s, vaddr, out)?;
    }
    if slab::address(slub, vaddr, false, out)? {
        writeln!(out).map_err(io)?;
    }
    // Inside a task_struct, or on a stack in the direct map.
    let task_size = k
        .layouts()
        .and_then(|b| b.find_aggregate("task_struct").and_then(|id| b.size_of(id)))
        .unwrap_or(0);
    // The type's size can exceed the allocation (the FPU state at its end
    // is sized at boot): of the tasks whose range holds the address, the
    // nearest below it.
    let in_task = k
        .tasks()
        .tasks()
        .iter()
        .filter(|t| (t.addr..t.addr.saturating_add(task_size)).contains(&vaddr))
        .max_by_key(|t| t.addr);
    let direct_stack = (!matches!(k.region(vaddr), Region::Vmalloc))
        .then(|| on_stack(vaddr))
        .flatten();
    if let Some(t) = in_task.or(direct_stack) {
        crate::commands::set::show_context(s, t, out)?;
        writeln!(out).map_err(io)?;
    }
    if pages::show(k, Some(addr), out)? {
        return Ok(());
    }
    let kind = if physical {
        "physical"
    } else {
        "kernel virtual"
    };
    writeln!(out, "{addr:x}: {kind} address not found in mem map").map_err(io)
}

/// The symbol of an address in the kernel image or a module: crash's
/// `show_symbol` with the source line of text (a space where it has none).
fn symbol(s: &Session, addr: u64, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let image = matches!((k.symbol("_stext"), k.symbol("_end")), (Some(a), Some(b)) if (a..=b).contains(&addr));
    if !image && k.module_at(addr).is_none() {
        return Ok(());
    }
    let Some((sym, off)) = k.symbols().lookup(addr) else {
        return Ok(());
    };
    let mut line = format!("{addr:x} ({}) {}", sym.kind, sym.name);
    if off != 0 {
        line.push_str(&format!("+{off}"));
    }
    if let Some(m) = &sym.module {
        line.push_str(&format!(" [{m}]"));
    }
    if k.is_code(sym) {
        line.push(' ');
        if let Some(loc) = s.source_line(addr, off == 0) {
            line.push_str(&loc);
        }
    }
    writeln!(out, "{line}\n").map_err(io)
}

/// The vmalloc area a mapped vmalloc or module address is in.
fn vmalloc(s: &Session, addr: u64, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    if !matches!(k.region(addr), Region::Vmalloc | Region::Modules) || k.vtop(addr).is_err() {
        return Ok(());
    }
    let Ok((areas, _)) = k.vmap_areas() else {
        return Ok(());
    };
    if let Some(a) = areas
        .iter()
        .find(|a| a.vm != 0 && (a.start..a.end).contains(&addr))
    {
        super::vmalloc::header(out)?;
        super::vmalloc::line(out, a)?;
        writeln!(out).map_err(io)?;
    }
    Ok(())
}
