//! What `ps` prints of one task in each of its views, after crash's
//! `show_ps_data`, `show_task_times`, `parent_list`, `child_list`,
//! `show_tgid_list`, `show_task_args` and `show_last_run`.

use std::collections::HashSet;
use std::io::Write;

use kdive_kernel::tasks::UserReadError;
use kdive_kernel::{Kernel, Task, TaskList};

use super::{Flags, View};
use crate::commands::{io, CmdResult};

/// crash's `NR_CPUS` for x86-64: a CPU number at or past it prints as `?`.
const NR_CPUS: u32 = 8192;

/// The page size of x86-64, for VSZ and RSS in KiB.
const PAGE_KB: u64 = 4;

/// The longest parent chain followed (`ps -p`).
const MAX_DEPTH: usize = 10_000;

/// The state of one `ps` run across its tasks.
pub struct Ctx<'a> {
    pub(super) kernel: &'a Kernel,
    list: &'a TaskList,
    flags: Flags,
    /// Tasks were named on the command line (crash's TASK_SPECIFIED).
    pub(super) specified: bool,
    /// Groups shown already (`-G`).
    groups: HashSet<u64>,
    /// An idle task was listed as another's thread (`-g`).
    idle_shown: bool,
    /// The width of the last-run stamps (`-l`): the first task's.
    stamp_width: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(
        kernel: &'a Kernel,
        list: &'a TaskList,
        flags: Flags,
        specified: bool,
        order: &[&Task],
    ) -> Ctx<'a> {
        let stamp_width = order
            .first()
            .map_or(1, |t| t.last_arrival.unwrap_or(0).to_string().len());
        Ctx {
            kernel,
            list,
            flags,
            specified,
            groups: HashSet::new(),
            idle_shown: false,
            stamp_width,
        }
    }

    /// Whether the filters (`-k`, `-u`, `-I`) leave `t` out.
    pub(super) fn filtered(&self, t: &Task) -> bool {
        (self.flags.user && t.is_kernel_thread())
            || (self.flags.kernel && !t.is_kernel_thread())
            || (self.flags.exclude_idle && t.is_idle())
    }

    /// With `-G`: the group leader to show for `t`, once per group.
    pub(super) fn group_leader(&mut self, t: &'a Task) -> Option<&'a Task> {
        if !self.flags.group {
            return Some(t);
        }
        let t = if t.pid != t.tgid {
            if !self.specified {
                return None;
            }
            self.list.find_by_pid(t.tgid)?
        } else {
            t
        };
        self.groups.insert(t.addr).then_some(t)
    }

    /// Show `t` in the chosen view.
    pub fn show(&mut self, t: &'a Task, out: &mut dyn Write) -> CmdResult {
        if self.filtered(t) {
            return Ok(());
        }
        let Some(t) = self.group_leader(t) else {
            return Ok(());
        };
        match self.flags.view {
            View::Parents => {
                self.parents(t, out)?;
                writeln!(out).map_err(io)
            }
            View::Children => {
                self.children(t, out)?;
                writeln!(out).map_err(io)
            }
            View::LastRun => {
                write!(
                    out,
                    "[{:>w$}] [{}]  ",
                    t.last_arrival.unwrap_or(0),
                    self.list.state_code(t),
                    w = self.stamp_width
                )
                .map_err(io)?;
                header(t, out)
            }
            View::Since => {
                let clock = self.list.rq_clock(t.cpu as usize).unwrap_or(0);
                let ago = translate_ns(clock.saturating_sub(t.last_arrival.unwrap_or(0)));
                let pad = if self.specified {
                    // Aligned on the days of the clock itself.
                    let days = |s: &str| s.find(' ').unwrap_or(0);
                    " ".repeat(days(&translate_ns(clock)).saturating_sub(days(&ago)))
                } else {
                    String::new()
                };
                write!(out, "[{pad}{ago}] [{}]  ", self.list.state_code(t)).map_err(io)?;
                header(t, out)
            }
            View::Args => self.args(t, out),
            View::Threads => self.threads(t, out),
            View::Active if !self.specified && !self.list.is_active(t.addr) => Ok(()),
            _ => self.line(t, out),
        }
    }

    /// The table line.
    fn line(&self, t: &Task, out: &mut dyn Write) -> CmdResult {
        let active = self.list.is_active(t.addr);
        let ptr = if !self.flags.kstackp {
            format!("{:>16x}", t.addr)
        } else {
            match t.ksp {
                Some(sp) if !active && sp != 0 => format!("{sp:>16x}"),
                _ => crate::commands::text::center("--", 16, true),
            }
        };
        let code = self.list.state_code(t);
        let mut pct = format!("{:.1}", self.list.pct_mem(t));
        if pct.len() == 3 {
            pct.insert(0, ' ');
        }
        let comm = if t.is_kernel_thread() {
            format!("[{}]", t.comm)
        } else {
            t.comm.clone()
        };
        writeln!(
            out,
            "{}{:7} {:7} {:>3}  {ptr} {code:>3}{}{pct} {:8} {:8}  {comm}",
            if active { "> " } else { "  " },
            t.pid,
            t.ppid,
            cpu(t),
            if code.len() > 3 { " " } else { "  " },
            t.usage.total_vm * PAGE_KB,
            t.usage.rss * PAGE_KB,
        )
        .map_err(io)
    }

    /// `-p`: the chain of parents down to `t`, each one space further in.
    fn parents(&self, t: &Task, out: &mut dyn Write) -> CmdResult {
        let mut chain = vec![t];
        let mut child = t;
        while child.parent != child.addr && chain.len() < MAX_DEPTH {
            let Some(p) = self.list.find_by_addr(child.parent) else {
                break;
            };
            if chain.iter().any(|c| c.addr == p.addr) {
                break;
            }
            chain.push(p);
            child = p;
        }
        for (depth, t) in chain.iter().rev().enumerate() {
            write!(out, "{}", " ".repeat(depth)).map_err(io)?;
            header(t, out)?;
        }
        Ok(())
    }

    /// `-c`: the task and its children.
    fn children(&self, t: &Task, out: &mut dyn Write) -> CmdResult {
        header(t, out)?;
        let mut n = 0;
        for c in self.list.children(t.addr) {
            write!(out, "  ").map_err(io)?;
            header(c, out)?;
            n += 1;
        }
        if n == 0 {
            writeln!(out, "  (no children)").map_err(io)?;
        }
        Ok(())
    }

    /// `-g`: a thread group's leader and its other threads.
    fn threads(&mut self, t: &'a Task, out: &mut dyn Write) -> CmdResult {
        let tgid = t.tgid;
        let t = if t.pid != tgid {
            if !self.specified {
                return Ok(());
            }
            match self.list.find_by_pid(tgid) {
                Some(l) => l,
                None => return Ok(()),
            }
        } else {
            t
        };
        if t.pid == 0 && self.idle_shown {
            return Ok(());
        }
        header(t, out)?;
        let mut n = 0;
        for c in self.list.threads(tgid).filter(|c| c.addr != t.addr) {
            write!(out, "  ").map_err(io)?;
            header(c, out)?;
            n += 1;
            if c.pid == 0 {
                self.idle_shown = true;
            }
        }
        if n == 0 {
            writeln!(out, "  (no threads)").map_err(io)?;
        }
        writeln!(out).map_err(io)
    }

    /// `-a`: the arguments and environment, from user memory.
    fn args(&self, t: &Task, out: &mut dyn Write) -> CmdResult {
        header(t, out)?;
        let a = match self.kernel.task_args(t) {
            Ok(a) => a,
            Err(
                e @ (UserReadError::NoMm
                | UserReadError::Unreadable(_)
                | UserReadError::Excluded(_)),
            ) => return write!(out, "ps: {e}\n\n").map_err(io),
            Err(e) => return write!(out, "ps: {e}\n\n").map_err(io),
        };
        let mut text = String::from("ARG: ");
        let mut c = 0;
        for &b in &a.args {
            if b == 0 {
                if c > 0 {
                    text.push(' ');
                }
                c = 0;
            } else {
                text.push(char::from(b));
                c += 1;
            }
        }
        text.push_str("\nENV: ");
        let (mut c, mut d) = (0, 0);
        for (i, &b) in a.env.iter().enumerate() {
            if b == 0 {
                if c > 0 {
                    text.push('\n');
                }
                c = 0;
            } else {
                if c == 0 && i > 0 {
                    text.push_str("     ");
                }
                text.push(char::from(b));
                c += 1;
                d += 1;
            }
        }
        text.push('\n');
        if d == 0 {
            text.push('\n');
        }
        write!(out, "{text}").map_err(io)
    }
}

/// crash's `print_task_header`.
pub fn header(t: &Task, out: &mut dyn Write) -> CmdResult {
    writeln!(
        out,
        "PID: {:<7}  TASK: {:<16x}  CPU: {:<3}  COMMAND: \"{}\"",
        t.pid,
        t.addr,
        cpu(t),
        t.comm
    )
    .map_err(io)
}

fn cpu(t: &Task) -> String {
    if t.cpu < NR_CPUS {
        t.cpu.to_string()
    } else {
        "?".into()
    }
}

/// crash's `translate_nanoseconds`: `D HH:MM:SS.mmm`.
fn translate_ns(ns: u64) -> String {
    let ms = ns / 1_000_000;
    let s = ms / 1000;
    format!(
        "{} {:02}:{:02}:{:02}.{:03}",
        s / 86400,
        s % 86400 / 3600,
        s % 3600 / 60,
        s % 60,
        ms % 1000
    )
}
