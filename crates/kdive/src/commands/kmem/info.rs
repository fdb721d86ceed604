//! `kmem -i`: the memory summary, in crash's table (memory.c
//! `dump_kmeminfo`). SLAB is the kernel's own count of slab pages
//! (`NR_SLAB_*` of `vm_node_stat`, what `/proc/meminfo` says); crash 8.0.2
//! counts the pages flagged `PG_slab` instead, which misses every page of
//! a multi-page slab but its first.

use std::io::Write;

use kdive_kernel::Kernel;

use crate::commands::{io, CmdResult};

const HEADER: &str = "                 PAGES        TOTAL      PERCENTAGE";

/// crash's `pages_to_size`: "0", "N KB", "N.N MB", "N.N GB", without ".0".
fn size(pages: u64) -> String {
    if pages == 0 {
        return "0".into();
    }
    let bytes = pages as f64 * 4096.0;
    let s = if bytes >= (1u64 << 30) as f64 {
        format!("{:.1} GB", bytes / (1u64 << 30) as f64)
    } else if bytes >= (1u64 << 20) as f64 {
        format!("{:.1} MB", bytes / (1u64 << 20) as f64)
    } else {
        format!("{} KB", (bytes / 1024.0) as u64)
    };
    s.replacen(".0 ", " ", 1)
}

fn pct(part: u64, whole: u64) -> u64 {
    (part * 100).checked_div(whole).unwrap_or(0)
}

fn row(out: &mut dyn Write, name: &str, pages: u64, of: Option<(u64, &str)>) -> CmdResult {
    match of {
        None => writeln!(
            out,
            "{name:>13}  {pages:>7}  {:>11}         ----",
            size(pages)
        ),
        Some((whole, what)) => writeln!(
            out,
            "{name:>13}  {pages:>7}  {:>11}  {:>3}% of {what}",
            size(pages),
            pct(pages, whole)
        ),
    }
    .map_err(io)
}

pub fn show(k: &Kernel, out: &mut dyn Write) -> CmdResult {
    let m = k.meminfo().map_err(|e| e.to_string())?;
    let total = m.total;
    let of_mem = Some((total, "TOTAL MEM"));
    writeln!(out, "{HEADER}").map_err(io)?;
    row(out, "TOTAL MEM", total, None)?;
    row(out, "FREE", m.free, of_mem)?;
    row(out, "USED", total.saturating_sub(m.free), of_mem)?;
    row(out, "SHARED", m.shared, of_mem)?;
    row(out, "BUFFERS", m.buffers, of_mem)?;
    row(out, "CACHED", m.cached, of_mem)?;
    row(out, "SLAB", m.slab.unwrap_or(m.slab_flagged), of_mem)?;
    if let Some((huge, free)) = m.huge {
        writeln!(out).map_err(io)?;
        row(out, "TOTAL HUGE", huge, None)?;
        row(out, "HUGE FREE", free, Some((huge, "TOTAL HUGE")))?;
    }
    if let Some((swap, used)) = m.swap {
        writeln!(out).map_err(io)?;
        row(out, "TOTAL SWAP", swap, None)?;
        row(out, "SWAP USED", used, Some((swap, "TOTAL SWAP")))?;
        row(
            out,
            "SWAP FREE",
            swap.saturating_sub(used),
            Some((swap, "TOTAL SWAP")),
        )?;
    }
    if let Some((limit, committed)) = m.commit {
        writeln!(out).map_err(io)?;
        row(out, "COMMIT LIMIT", limit, None)?;
        let committed = committed.max(0) as u64;
        if limit > 0 {
            row(out, "COMMITTED", committed, Some((limit, "TOTAL LIMIT")))?;
        } else {
            row(out, "COMMITTED", committed, None)?;
        }
    }
    Ok(())
}

/// `kmem -i --json`: the same totals, in pages, with the page size.
pub fn json(k: &Kernel, out: &mut dyn Write) -> CmdResult {
    let m = k.meminfo().map_err(|e| e.to_string())?;
    let v = serde_json::json!({
        "page_size": k.arch().page_size(),
        "total_mem": m.total,
        "free": m.free,
        "used": m.total.saturating_sub(m.free),
        "shared": m.shared,
        "buffers": m.buffers,
        "cached": m.cached,
        "slab": m.slab.unwrap_or(m.slab_flagged),
        "huge": m.huge.map(|(total, free)| serde_json::json!({"total": total, "free": free})),
        "swap": m.swap.map(|(total, used)| serde_json::json!({
            "total": total, "used": used, "free": total.saturating_sub(used),
        })),
        "commit": m.commit.map(|(limit, committed)| serde_json::json!({
            "limit": limit, "committed": committed.max(0),
        })),
    });
    crate::commands::json::emit(out, &v)
}
