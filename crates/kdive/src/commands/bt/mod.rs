//! `bt`: a task's backtrace, as crash prints it, from the kernel's ORC
//! unwind ([`kdive_kernel::stack`]).
//!
//! `bt` is the current task (the panic task unless `set` chose another),
//! `bt PID|TASKADDR` any task, `bt -a` the task on each CPU, `bt -c CPU[,CPU...]` some.
//! Frame options: `-f` the stack words of each frame, `-F` those words as
//! symbols, `-l` each frame's source line, `-s` symbol+offset (`-x` in
//! hex). `-t`/`-T` list the text addresses on the stacks, `-e` the
//! exception frames found by searching them, `-r` the raw stack. `-I`
//! (kdive's own) adds the functions inlined in each frame, from
//! the vmlinux's DWARF, as indented `[inlined: NAME]` lines, deepest first,
//! leaving the frame lines scripts parse as crash prints them.

mod format;
mod search;
mod words;

use std::io::Write;

use kdive_kernel::stack::Backtrace;

use self::format::{print_backtrace, print_header, Options};
use self::search::{print_exception_frames, print_text_symbols};
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str =
    "bt [-a | -c CPU[,CPU...]] [-f | -F] [-l] [-s [-x]] [-I] [-t | -T | -e | -r] [PID | TASKADDR] ...";

/// What `bt` shows of each task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The frames (crash's default).
    Frames,
    /// `-r`: the raw stack.
    Raw,
    /// `-t`: text addresses from the frames up.
    Text,
    /// `-T`: text addresses on the whole stacks.
    TextAll,
    /// `-e`: exception frames found by searching the stacks.
    Exceptions,
}

pub const COMMAND: Command = Command {
    name: "bt",
    aliases: &[],
    summary: "a task's backtrace: the panic task, a task, or each CPU's",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: true,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let mut o = Options::default();
    let mut all = false;
    let mut mode = Mode::Frames;
    let mut cpus: Option<Vec<usize>> = None;
    let mut tasks = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            let mut chars = flags.chars();
            while let Some(c) = chars.next() {
                match c {
                    'a' => all = true,
                    'f' => o.full = true,
                    'F' => {
                        o.full = true;
                        o.symbols = true
                    }
                    'l' => o.lines = true,
                    's' => o.offsets = true,
                    'x' => o.hex = true,
                    'd' => o.hex = false,
                    'I' => o.inlined = true,
                    'r' => mode = Mode::Raw,
                    't' => mode = Mode::Text,
                    'T' => mode = Mode::TextAll,
                    'e' => mode = Mode::Exceptions,
                    'c' => {
                        let rest: String = chars.by_ref().collect();
                        let list = if rest.is_empty() {
                            it.next().ok_or("-c needs a CPU list")?.clone()
                        } else {
                            rest
                        };
                        cpus = Some(parse_cpus(&list, s.kernel.nr_cpus())?);
                    }
                    _ => return Err(format!("invalid option: -{c}  (usage: {USAGE})")),
                }
            }
        } else {
            // A PID or a task address, as crash tells them apart.
            let list = s.kernel.tasks();
            let task = super::set::task_ref(list, a).and_then(|r| super::set::resolve(list, r));
            match task {
                Some(t) => tasks.push(t.addr),
                None => return Err(format!("invalid task or pid value: {a}")),
            }
        }
    }
    let k = &s.kernel;
    let orc = k.orc_tables();
    if let Some(p) = &orc.problem {
        writeln!(out, "bt: WARNING: {p}; following frame pointers").map_err(io)?;
    }
    let mut traces: Vec<Result<Backtrace, String>> = Vec::new();
    if all || cpus.is_some() {
        let list = cpus.unwrap_or_else(|| k.dump().cpus().iter().map(|c| c.cpu).collect());
        for cpu in list {
            traces.push(k.backtrace_cpu(cpu, orc).map_err(|e| e.to_string()));
        }
    } else if let (true, Some(t)) = (tasks.is_empty(), s.task) {
        // The task `set` made current.
        traces.push(k.backtrace_task(t, orc).map_err(|e| e.to_string()));
    } else if tasks.is_empty() {
        let cpu = k
            .panic_cpu()
            .or_else(|| k.dump().cpus().first().map(|c| c.cpu))
            .ok_or("no panic CPU")?;
        traces.push(k.backtrace_cpu(cpu, orc).map_err(|e| e.to_string()));
    } else {
        for t in tasks {
            traces.push(k.backtrace_task(t, orc).map_err(|e| e.to_string()));
        }
    }
    if s.json {
        return super::json::backtraces(s, &traces, out);
    }
    for (i, t) in traces.iter().enumerate() {
        if i > 0 {
            writeln!(out).map_err(io)?;
        }
        let bt = match t {
            Ok(bt) => bt,
            // One task asked for: the command failed.
            Err(e) if traces.len() == 1 => return Err(e.clone()),
            Err(e) => {
                writeln!(out, "bt: {e}").map_err(io)?;
                continue;
            }
        };
        if mode == Mode::Frames {
            print_backtrace(s, bt, &o, out)?;
            continue;
        }
        print_header(s, bt, out)?;
        if bt.no_stack {
            writeln!(out, "(no stack)").map_err(io)?;
            continue;
        }
        match mode {
            Mode::Text | Mode::TextAll => {
                print_text_symbols(s, bt, mode == Mode::TextAll, &o, out)?
            }
            Mode::Exceptions => print_exception_frames(s, bt, out)?,
            _ => {
                // crash's `rd -s` of the task's whole stack.
                let Some(st) = s.kernel.task_stack(bt.task) else {
                    return Err(format!("cannot find the stack of task {:x}", bt.task));
                };
                let args = [
                    "-s".to_string(),
                    format!("{:x}", st.base),
                    ((st.top - st.base) / 8).to_string(),
                ];
                super::rd::run(s, &args, out)?;
            }
        }
    }
    Ok(())
}

/// `0,2-3`: CPU numbers below `nr`.
fn parse_cpus(list: &str, nr: usize) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in list.split(',') {
        let bad = || format!("invalid cpu specification: {list}");
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?),
            None => {
                let n: usize = part.parse().map_err(|_| bad())?;
                (n, n)
            }
        };
        if a > b || b >= nr.max(1) {
            return Err(format!("invalid cpu number: {part}"));
        }
        out.extend(a..=b);
    }
    Ok(out)
}
