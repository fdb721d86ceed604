//! `ps -t` (each task's run, start and CPU times, by start time) and `ps
//! -S` (how many tasks are in each state), after crash's
//! `show_task_times` and `show_ps_summary`.

use std::io::Write;

use kdive_kernel::{Kernel, Task, TaskList};

use super::views::{header, Ctx};
use crate::commands::{io, CmdResult};

/// `-t`: each task's run time, start time and CPU times, by start time.
pub fn times<'a>(ctx: &mut Ctx<'a>, tasks: &[&'a Task], out: &mut dyn Write) -> CmdResult {
    // crash's default when the kernel does not say.
    let hz = ctx.kernel.hz().unwrap_or(1000);
    let uptime = uptime_jiffies(ctx.kernel, hz);
    let mut shown: Vec<&Task> = Vec::new();
    for &t in tasks {
        if ctx.filtered(t) {
            continue;
        }
        let Some(t) = ctx.group_leader(t) else {
            if ctx.specified {
                return Ok(());
            }
            continue;
        };
        shown.push(t);
    }
    shown.sort_by_key(|t| t.start_time.unwrap_or(0));
    for t in shown {
        let start = t.start_time.unwrap_or(0);
        let secs = start / 1_000_000_000;
        let run = uptime.saturating_sub(secs.saturating_mul(hz));
        header(t, out)?;
        writeln!(
            out,
            "    RUN TIME: {}\n  START TIME: {start}\n       UTIME: {}\n       STIME: {}\n",
            crate::commands::text::convert_time(run, hz),
            t.utime.unwrap_or(0),
            t.stime.unwrap_or(0)
        )
        .map_err(io)?;
    }
    Ok(())
}

/// `-S`: how many tasks are in each state, in the order first seen.
pub fn summary(list: &TaskList, out: &mut dyn Write) -> CmdResult {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for t in list.tasks() {
        let code = list.state_code(t);
        match counts.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => counts.push((code, 1)),
        }
    }
    for (code, n) in counts {
        writeln!(out, "  {code}: {n}").map_err(io)?;
    }
    Ok(())
}

/// Jiffies since boot: `jiffies_64` less `INITIAL_JIFFIES` (-300 s, as a
/// 32-bit value).
fn uptime_jiffies(k: &Kernel, hz: u64) -> u64 {
    let initial = u64::from((300u32.wrapping_mul(hz as u32)).wrapping_neg());
    k.symbol("jiffies_64")
        .and_then(|a| k.read_u64(a).ok())
        .map_or(0, |j| j.wrapping_sub(initial))
}
