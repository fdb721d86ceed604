//! `kmem -p`: page structures, one line each, as crash's `dump_mem_map`
//! prints them (PAGE, PHYSICAL, MAPPING, INDEX, CNT, FLAGS).

use std::io::Write;

use kdive_kernel::{Kernel, PageInfo, Pages};

use crate::commands::{io, CmdResult};

/// x86-64's `SECTION_SIZE_BITS` (27) less `PAGE_SHIFT`: pages per
/// sparse memory section.
const PAGES_PER_SECTION: u64 = 1 << (27 - 12);

pub const HEADER: &str = "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS";

/// One page's line.
pub fn line(out: &mut dyn Write, pages: &Pages, p: &PageInfo) -> CmdResult {
    writeln!(
        out,
        "{:<16x} {:>8x} {:>16x} {:>8x} {:>2} {}",
        p.page,
        p.phys,
        p.mapping,
        p.index,
        p.count as i32,
        pages.flags_text(p.flags)
    )
    .map_err(io)
}

/// `kmem -p [ADDRESS]`: every page, or the one of `addr`. `false` when the
/// address has no readable page structure.
pub fn show(k: &Kernel, addr: Option<u64>, out: &mut dyn Write) -> Result<bool, String> {
    let pages = k.pages().map_err(|e| e.to_string())?;
    match addr {
        Some(a) => {
            let Some(info) = pages.page_of(k, a).and_then(|p| pages.read(k, p).ok()) else {
                return Ok(false);
            };
            writeln!(out, "{HEADER}").map_err(io)?;
            line(out, &pages, &info)?;
        }
        None => {
            writeln!(out, "{HEADER}").map_err(io)?;
            let mut err = Ok(());
            // Whole memory sections, as crash walks them.
            let end = pages.max_pfn.div_ceil(PAGES_PER_SECTION) * PAGES_PER_SECTION;
            pages.walk(k, 0, end, |p| {
                err = line(out, &pages, p);
                err.is_ok()
            });
            err?;
        }
    }
    Ok(true)
}

/// `kmem -p [ADDRESS] --json`: the pages as `{page, physical, mapping,
/// index, count, flags}`, `flags` crash's names.
pub fn json(k: &Kernel, addr: Option<u64>, out: &mut dyn Write) -> CmdResult {
    use crate::commands::json::hex;
    let pages = k.pages().map_err(|e| e.to_string())?;
    let one = |p: &PageInfo| {
        serde_json::json!({
            "page": hex(p.page),
            "physical": hex(p.phys),
            "mapping": hex(p.mapping),
            "index": hex(p.index),
            "count": p.count as i32,
            "flags": pages.flags_text(p.flags),
        })
    };
    let mut v = Vec::new();
    match addr {
        Some(a) => {
            let info = pages
                .page_of(k, a)
                .and_then(|p| pages.read(k, p).ok())
                .ok_or_else(|| format!("{a:x}: address not found in mem map"))?;
            v.push(one(&info));
        }
        None => {
            let end = pages.max_pfn.div_ceil(PAGES_PER_SECTION) * PAGES_PER_SECTION;
            pages.walk(k, 0, end, |p| {
                v.push(one(p));
                true
            });
        }
    }
    crate::commands::json::emit(out, &v)
}
