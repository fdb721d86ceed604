//! `runq`: each CPU's run queue as crash 8.0.2 prints it (its CFS form):
//! the `struct rq`, the task running, the real-time queues by priority and
//! the CFS tree's tasks, leftmost first (a task group's tasks in its
//! place). `-c CPUS` picks CPUs (`1`, `0,2-3`), `-t` prints each queue's
//! clock and its running task's last arrival, `-m` how long that task has
//! been running, `-T` each CPU's lag behind the most recent clock.
//!
//! ```text
//! CPU 0 RUNQUEUE: ff36587eff831800
//!   CURRENT: PID: 111    TASK: ff36587ee5838000  COMMAND: "cat"
//!   RT PRIO_ARRAY: ff36587eff831a40
//!      [no tasks queued]
//!   CFS RB_ROOT: ff36587eff8318b0
//!      [no tasks queued]
//! ```

use std::io::Write;

use kdive_kernel::runq::Queued;

use super::json::hex;
use super::options::{self, Options};
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "runq [-t] [-T] [-m] [-c cpu(s)]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Queues,
    Timestamps,
    Lag,
    Running,
}

pub const COMMAND: Command = Command {
    name: "runq",
    aliases: &[],
    summary: "show each CPU's run queue: the running task and the queued ones",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let Options { opts, words } =
        options::parse(args, "dtTgm", "c").map_err(|e| format!("{e}\nUsage: {USAGE}"))?;
    if !words.is_empty() {
        return Err(format!("Usage: {USAGE}"));
    }
    let nr = s.kernel.nr_cpus().max(1);
    let mut view = View::Queues;
    let mut cpus: Option<Vec<usize>> = None;
    for (c, v) in opts {
        match c {
            't' => view = View::Timestamps,
            'T' => view = View::Lag,
            'm' => view = View::Running,
            'c' if cpus.is_some() => return Err("only one -c option allowed".into()),
            'c' => cpus = Some(cpu_list(&v.unwrap_or_default(), nr)?),
            _ => return Err(format!("option -{c} is not supported yet")),
        }
    }
    let cpus = cpus.unwrap_or_else(|| (0..nr).collect());
    if s.json && view != View::Queues {
        return Err(format!("no JSON view for runq {} yet", args.join(" ")));
    }
    match view {
        View::Queues => queues(s, &cpus, out),
        View::Timestamps => timestamps(s, &cpus, out),
        View::Lag => lag(s, nr, out),
        View::Running => running(s, &cpus, nr, out),
    }
}

/// crash's `make_cpumask()`: `3`, `1,8,9`, `1-23`, `1,8,9-14`, `a`/`all`;
/// a CPU the dump does not have is an error.
fn cpu_list(spec: &str, nr: usize) -> Result<Vec<usize>, String> {
    let bad = || format!("invalid cpu specification: {spec}");
    let mut v = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (lo, hi) = if part == "a" || part == "all" {
            (0, nr - 1)
        } else {
            let num = |x: &str| x.trim().parse::<usize>().map_err(|_| bad());
            match part.split_once('-') {
                Some((a, b)) => (num(a)?, num(b)?),
                None => (num(part)?, num(part)?),
            }
        };
        if lo >= nr || hi >= nr {
            return Err(bad());
        }
        v.extend(lo..=hi);
    }
    if v.is_empty() {
        return Err(bad());
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

/// A task as runq names it: pid, address and name.
struct Who {
    pid: i64,
    task: u64,
    comm: String,
}

impl Who {
    /// `PID: 1      TASK: ff36587ec11f4180  COMMAND: "init"`.
    fn line(&self) -> String {
        format!(
            "PID: {:<5}  TASK: {:x}  COMMAND: \"{}\"",
            self.pid, self.task, self.comm
        )
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "pid": self.pid, "task": hex(self.task), "command": self.comm })
    }
}

/// The task at `addr`, or `None` when no task is known there.
fn who(s: &Session, addr: u64) -> Option<Who> {
    match s.kernel.tasks().find_by_addr(addr) {
        Some(t) => Some(Who {
            pid: t.pid,
            task: t.addr,
            comm: t.comm.clone(),
        }),
        None => part_task(s, addr),
    }
}

/// The queues, as text or (JSON) per CPU `{cpu, runqueue, current,
/// rt_prio_array, rt, cfs_rb_root, cfs}`.
fn queues(s: &Session, cpus: &[usize], out: &mut dyn Write) -> CmdResult {
    let list = s.kernel.tasks();
    // JSON: the same walk, its text to a sink and its values kept.
    let mut sink = std::io::sink();
    let json = s.json;
    let tout: &mut dyn Write = if json { &mut sink } else { &mut *out };
    let mut values = Vec::new();
    for (n, &cpu) in cpus.iter().enumerate() {
        let rq = s.kernel.run_queue(cpu).map_err(|e| e.to_string())?;
        let nl = if n > 0 { "\n" } else { "" };
        writeln!(tout, "{nl}CPU {cpu} RUNQUEUE: {:x}", rq.addr).map_err(io)?;
        // Where the task list has no current task (its task_struct did not
        // read), the runqueue's own `curr`.
        let current = match list.active_tasks().get(cpu).copied().flatten() {
            Some(t) => t,
            None => rq_curr(s, rq.addr).unwrap_or(0),
        };
        let cur = who(s, current);
        match &cur {
            Some(w) => writeln!(tout, "  CURRENT: {}", w.line()).map_err(io)?,
            None => {
                writeln!(tout, "  CURRENT: {current:x}").map_err(io)?;
                if current != 0 {
                    tout.flush().map_err(io)?;
                    eprintln!("runq: CPU {cpu}: the task_struct of its current task {current:x} does not read");
                }
            }
        }
        writeln!(tout, "  RT PRIO_ARRAY: {:x}", rq.rt_array).map_err(io)?;
        let rt = entries(s, &rq.rt, tout)?;
        writeln!(tout, "  CFS RB_ROOT: {:x}", rq.cfs_root).map_err(io)?;
        let cfs = entries(s, &rq.cfs, tout)?;
        if !rq.damage.is_empty() {
            tout.flush().map_err(io)?;
            for d in &rq.damage {
                eprintln!("runq: WARNING: CPU {cpu}: {d}");
            }
        }
        values.push(serde_json::json!({
            "cpu": cpu,
            "runqueue": hex(rq.addr),
            "current": cur.map_or_else(
                || serde_json::json!({ "pid": null, "task": hex(current), "command": null }),
                |w| w.json()
            ),
            "rt_prio_array": hex(rq.rt_array),
            "rt": rt,
            "cfs_rb_root": hex(rq.cfs_root),
            "cfs": cfs,
        }));
    }
    if json {
        return super::json::emit(out, &values);
    }
    Ok(())
}

/// `rq->curr` of the runqueue at `rq`.
fn rq_curr(s: &Session, rq: u64) -> Option<u64> {
    let off = s.kernel.layouts()?.member_offset("rq", "curr")?.offset();
    s.kernel.read_u64(rq + off).ok()
}

/// A queued task the task list has not, because the dump left part of its
/// `task_struct` out: its pid and name where they read.
fn part_task(s: &Session, task: u64) -> Option<Who> {
    let layouts = s.kernel.layouts()?;
    let size = layouts
        .find_aggregate("task_struct")
        .and_then(|id| layouts.size_of(id))?;
    let mut b = vec![0u8; usize::try_from(size).ok()?];
    match s.kernel.read(task, &mut b) {
        Err(e) if e.is_excluded() => {
            let t = s.kernel.task_brief(task).ok()?;
            Some(Who {
                pid: t.pid.into(),
                task: t.addr,
                comm: t.comm,
            })
        }
        _ => None,
    }
}

/// The queued tasks shown, each also as JSON `{prio, pid, task, command}`.
fn entries(
    s: &Session,
    q: &[Queued],
    out: &mut dyn Write,
) -> Result<Vec<serde_json::Value>, String> {
    let mut shown = Vec::new();
    for e in q {
        // As crash, entries that are no task it knows are left out (a task
        // the dump holds part of is known by its pid and name).
        let Some(w) = who(s, e.task) else { continue };
        writeln!(out, "     [{:3}] {}", e.prio, w.line()).map_err(io)?;
        let mut v = w.json();
        v["prio"] = e.prio.into();
        shown.push(v);
    }
    if shown.is_empty() {
        writeln!(out, "     [no tasks queued]").map_err(io)?;
    }
    Ok(shown)
}

/// `rq->clock` of `cpu`.
fn clock(s: &Session, cpu: usize) -> Result<u64, String> {
    s.kernel
        .tasks()
        .rq_clock(cpu)
        .ok_or_else(|| format!("cpu {cpu}: runqueue clock does not read"))
}

/// crash's `dump_on_rq_timestamp()`.
fn timestamps(s: &Session, cpus: &[usize], out: &mut dyn Write) -> CmdResult {
    let list = s.kernel.tasks();
    for &cpu in cpus {
        let ts = format!("{:x}", clock(s, cpu)?);
        let pad = if cpu < 10 { " " } else { "" };
        writeln!(out, "{pad}CPU {cpu}: {ts}").map_err(io)?;
        match list.active(cpu) {
            Some(t) => {
                let indent = match cpu {
                    0..=9 => 8,
                    10..=99 => 8,
                    100..=999 => 9,
                    _ => 0,
                };
                let last = t.last_arrival.unwrap_or(0);
                writeln!(
                    out,
                    "{}{last:0width$x}  PID: {:<5}  TASK: {:x}  COMMAND: \"{}\"",
                    " ".repeat(indent),
                    t.pid,
                    t.addr,
                    t.comm,
                    width = ts.len()
                )
                .map_err(io)?;
            }
            None => writeln!(out).map_err(io)?,
        }
    }
    Ok(())
}

fn log10(mut x: usize) -> usize {
    let mut r = 1;
    while x > 9 {
        r += 1;
        x /= 10;
    }
    r
}

/// crash's `dump_on_rq_lag()`: every CPU, the most recent clock first.
fn lag(s: &Session, nr: usize, out: &mut dyn Write) -> CmdResult {
    let mut ts = Vec::new();
    for cpu in 0..nr {
        ts.push((cpu, clock(s, cpu)?));
    }
    ts.sort_by_key(|t| std::cmp::Reverse(t.1));
    let top = ts.first().map_or(0, |t| t.1);
    for (cpu, t) in ts {
        let pad = " ".repeat(2 + log10(nr) - log10(cpu));
        let secs = (top as f64 - t as f64) / 1e9;
        writeln!(out, "{pad}CPU {cpu}: {secs:.2} secs").map_err(io)?;
    }
    Ok(())
}

/// crash's `translate_nanoseconds()`: `[DAYS HH:MM:SS.mmm]`.
fn days_hms(ns: u64) -> String {
    let ms = ns / 1_000_000;
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    format!(
        "{days} {:02}:{:02}:{:02}.{:03}",
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000
    )
}

/// crash's `dump_on_rq_milliseconds()`.
fn running(s: &Session, cpus: &[usize], nr: usize, out: &mut dyn Write) -> CmdResult {
    let list = s.kernel.tasks();
    let max_indent: usize = match nr {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        _ => 4,
    };
    let mut max_days = 0;
    for &cpu in cpus {
        let now = clock(s, cpu)?;
        if max_days == 0 {
            max_days = days_hms(now).find(' ').unwrap_or(0);
        }
        let indent = match cpu {
            0..=9 => max_indent,
            10..=99 => max_indent - 1,
            100..=999 => max_indent.saturating_sub(2),
            _ => max_indent.saturating_sub(4),
        };
        let pad = " ".repeat(indent);
        let Some(t) = list.active(cpu) else {
            writeln!(out, "{pad}CPU {cpu}: [unknown]").map_err(io)?;
            continue;
        };
        let delta = now.saturating_sub(t.last_arrival.unwrap_or(0));
        let text = days_hms(delta);
        let days = text.find(' ').unwrap_or(0);
        writeln!(
            out,
            "{pad}CPU {cpu}: [{}{text}]  PID: {:<5}  TASK: {:x}  COMMAND: \"{}\"",
            " ".repeat(max_days.saturating_sub(days)),
            t.pid,
            t.addr,
            t.comm
        )
        .map_err(io)?;
    }
    Ok(())
}
