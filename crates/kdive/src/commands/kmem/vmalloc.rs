//! `kmem -v`: the vmalloc areas, as crash's `dump_vmap_area` lists them.

use std::io::Write;

use kdive_kernel::VmapArea;

use crate::commands::json::hex;
use crate::commands::{io, CmdResult};
use crate::session::Session;

const HEADER: &str =
    "   VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE";

pub fn show(s: &Session, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let (areas, findings) = k.vmap_areas().map_err(|e| e.to_string())?;
    if s.json {
        // As the text: the areas with a vm_struct.
        let v: Vec<_> = areas
            .iter()
            .filter(|a| a.vm != 0)
            .map(|a| {
                serde_json::json!({
                    "vmap_area": hex(a.addr),
                    "vm_struct": hex(a.vm),
                    "start": hex(a.start),
                    "end": hex(a.end),
                    "size": a.end.wrapping_sub(a.start),
                })
            })
            .collect();
        crate::commands::json::emit(out, &v)?;
        for f in &findings {
            eprintln!("kmem: {f}");
        }
        return Ok(());
    }
    // Areas without a vm_struct (vm_map_ram) are not listed, as in crash.
    let mut shown = areas.iter().filter(|a| a.vm != 0).peekable();
    if shown.peek().is_some() {
        header(out)?;
    }
    for a in shown {
        line(out, a)?;
    }
    if !findings.is_empty() {
        out.flush().map_err(io)?;
        for f in findings {
            eprintln!("kmem: {f}");
        }
    }
    Ok(())
}

pub fn header(out: &mut dyn Write) -> CmdResult {
    writeln!(out, "{HEADER}").map_err(io)
}

/// One area's line.
pub fn line(out: &mut dyn Write, a: &VmapArea) -> CmdResult {
    writeln!(
        out,
        "{:<16x}  {:<16x}  {:>16x} - {:<16x}  {:>7}",
        a.addr,
        a.vm,
        a.start,
        a.end,
        a.end.wrapping_sub(a.start)
    )
    .map_err(io)
}
