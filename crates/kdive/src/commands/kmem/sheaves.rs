//! `kmem -S` on a SLUB with sheaves (7.x, where every cache has them, and
//! there is no per-CPU slab): each CPU's sheaves with the objects
//! they hold, each node's barn. crash 8 does not know them; the blocks
//! follow its style (a title line, a header, the objects one a line).

use std::io::Write;

use kdive_kernel::slab::{Barn, Cache, CacheState, Place, Sheaf};

use super::slab::report;
use crate::commands::{io, CmdResult};

const SHEAF_HDR: &str = "SHEAF             OBJECTS  CAPACITY";

/// Each CPU's `main`, `spare` and `rcu_free` sheaves, objects included,
/// then what kdive found wrong with them.
pub fn cpu_sheaves(out: &mut dyn Write, c: &Cache, st: &CacheState) -> CmdResult {
    for cpu in &st.sheaves {
        let n = cpu.cpu;
        writeln!(out, "CPU {n} SLUB_PERCPU_SHEAVES:\n  {:x}", cpu.addr).map_err(io)?;
        for (what, sheaf) in [
            ("MAIN", &cpu.main),
            ("SPARE", &cpu.spare),
            ("RCU_FREE", &cpu.rcu_free),
        ] {
            writeln!(out, "CPU {n} {what} SHEAF:").map_err(io)?;
            match sheaf {
                None => writeln!(out, "  (none)").map_err(io)?,
                Some(s) => {
                    writeln!(out, "  {SHEAF_HDR}").map_err(io)?;
                    sheaf_line(out, c, s)?;
                    // An object waiting in rcu_free is still in use.
                    let (open, close) = if what == "RCU_FREE" {
                        ("[", "]")
                    } else {
                        (" ", "")
                    };
                    for o in &s.objects {
                        writeln!(out, "  {open}{o:x}{close}").map_err(io)?;
                    }
                }
            }
        }
        report(
            out,
            &st.findings,
            |p| matches!(p, Place::CpuSheaves(x) if x == n),
        )?;
    }
    Ok(())
}

/// Node `n`'s barn: its counts and its full sheaves.
pub fn barn(out: &mut dyn Write, c: &Cache, n: usize, b: &Barn) -> CmdResult {
    writeln!(out, "NODE {n} BARN:").map_err(io)?;
    writeln!(out, "  NODE_BARN         FULL  EMPTY").map_err(io)?;
    writeln!(out, "  {:<16x}  {:4}  {:5}", b.addr, b.nr_full, b.nr_empty).map_err(io)?;
    if !b.full.is_empty() {
        writeln!(out, "  {SHEAF_HDR}").map_err(io)?;
    }
    for s in &b.full {
        sheaf_line(out, c, s)?;
    }
    Ok(())
}

fn sheaf_line(out: &mut dyn Write, c: &Cache, s: &Sheaf) -> CmdResult {
    if s.unreadable {
        return writeln!(out, "  {:<16x}  (unreadable)", s.addr).map_err(io);
    }
    writeln!(
        out,
        "  {:<16x}  {:7}  {:8}",
        s.addr,
        s.objects.len(),
        c.sheaf_capacity
    )
    .map_err(io)
}
