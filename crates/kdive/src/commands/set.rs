//! `set`: the session's current task (crash's context), which `bt` and
//! other per-task commands use when given no task. It starts as the panic
//! task; `set PID` or `set TASK` changes it, `set -c CPU` makes it the task
//! running on that CPU, `set -p` goes back to the panic task, and `set`
//! alone shows it in crash's block:
//!
//! ```text
//!     PID: 1
//! COMMAND: "init"
//!    TASK: ff36587ec11f4180  [THREAD_INFO: ff36587ec11f4180]
//!     CPU: 1
//!   STATE: TASK_RUNNING (PANIC)
//! ```

use std::io::Write;

use kdive_kernel::{Task, TaskList};

use super::{io, CmdResult, Command};
use crate::session::Session;

/// What a task argument (`PID` or `TASK` address) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskRef {
    Pid(i64),
    Task(u64),
}

/// crash's `str_to_context`: the argument read as a decimal PID or task
/// address and as a hexadecimal one, whichever names a task; a decimal PID
/// first when both do.
pub fn task_ref(list: &TaskList, s: &str) -> Option<TaskRef> {
    let dec = s.parse::<u64>().ok();
    let hex = u64::from_str_radix(s.trim_start_matches("0x").trim_start_matches("0X"), 16)
        .ok()
        .filter(|_| s.len() <= 18);
    let pid = |v: u64| {
        i64::try_from(v)
            .ok()
            .filter(|&p| list.find_by_pid(p).is_some())
    };
    let task = |v: u64| list.find_by_addr(v).map(|t| t.addr);
    let (dp, dt) = (dec.and_then(pid), dec.and_then(task));
    let (hp, ht) = match hex.filter(|h| Some(*h) != dec) {
        Some(h) => (pid(h), task(h)),
        None => (None, None),
    };
    let found = [dp.is_some(), dt.is_some(), hp.is_some(), ht.is_some()]
        .iter()
        .filter(|&&b| b)
        .count();
    match found {
        2 => dp.filter(|_| hp.is_some()).map(TaskRef::Pid),
        1 => dp
            .map(TaskRef::Pid)
            .or(dt.map(TaskRef::Task))
            .or(hp.map(TaskRef::Pid))
            .or(ht.map(TaskRef::Task)),
        _ => None,
    }
}

/// The task a [`TaskRef`] names (for a PID with several tasks, the first).
pub fn resolve(list: &TaskList, r: TaskRef) -> Option<&Task> {
    match r {
        TaskRef::Pid(p) => list.find_by_pid(p),
        TaskRef::Task(a) => list.find_by_addr(a),
    }
}

/// The session's current task: the one `set` chose, else the panic task,
/// else the first CPU's active task.
pub fn current_task(s: &Session) -> Option<&Task> {
    let list = s.kernel.tasks();
    s.task
        .and_then(|a| list.find_by_addr(a))
        .or_else(|| list.panic_task())
        .or_else(|| (0..list.active_tasks().len()).find_map(|c| list.active(c)))
}

pub const COMMAND: Command = Command {
    name: "set",
    aliases: &[],
    summary: "show or change the current task; the session's scroll, radix and json settings",
    usage: "set [-p | -c cpu] [pid | task] | set scroll [on|off] | set radix [10|16] | set json [on|off]",
    run,
    without_dump: false,
    minimal: true,
    json: true,
    foreach: true,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    if s.json {
        return json(s, args, out);
    }
    if let Some(r) = session_variable(s, args, out) {
        return r;
    }
    let list = s.kernel.tasks();
    let mut rest = args;
    if let Some(first) = args.first() {
        if first == "-p" {
            let t = list.panic_task().ok_or("no panic task found!")?;
            s.task = Some(t.addr);
            return show(s, out);
        }
        if first == "-c" {
            let cpu = args
                .get(1)
                .and_then(|c| c.parse::<usize>().ok())
                .ok_or("-c needs a CPU number")?;
            let t = list
                .active(cpu)
                .ok_or_else(|| format!("no active task on cpu {cpu}"))?;
            s.task = Some(t.addr);
            return show(s, out);
        }
        if first.starts_with('-') {
            return Err(format!(
                "option {first}: not supported (set [-p | -c CPU] [PID | TASK])"
            ));
        }
    }
    if rest.is_empty() {
        return show(s, out);
    }
    while let Some((a, tail)) = rest.split_first() {
        rest = tail;
        let list = s.kernel.tasks();
        let Some(r) = task_ref(list, a) else {
            writeln!(out, "set: invalid task or pid value: {a}").map_err(io)?;
            continue;
        };
        let cur = current_task(s).map(|t| (t.addr, t.pid));
        let unchanged = match r {
            TaskRef::Pid(p) => cur.is_some_and(|c| c.1 == p),
            TaskRef::Task(a) => cur.is_some_and(|c| c.0 == a),
        };
        if !unchanged {
            let t = resolve(list, r).ok_or_else(|| format!("cannot set context for {a}"))?;
            s.task = Some(t.addr);
        }
        show(s, out)?;
    }
    Ok(())
}

/// `set --json`: the change made as the text mode makes it, then the
/// current task and the session's settings as the value.
fn json(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    s.json = false;
    let r = run(s, args, &mut std::io::sink());
    if args.first().map(String::as_str) != Some("json") || args.len() == 1 {
        s.json = true;
    }
    r?;
    let t = current_task(s);
    let v = serde_json::json!({
        "task": t.map(|t| super::json::hex(t.addr)),
        "pid": t.map(|t| t.pid),
        "command": t.map(|t| t.comm.clone()),
        "cpu": t.map(|t| t.cpu),
        "scroll": s.scroll,
        "radix": s.radix,
        "json": s.json,
    });
    super::json::emit(out, &v)
}

/// `set scroll [on|off]`, `set radix [10|16]`, `set hex`, `set dec`,
/// `set json [on|off]`: the session's settings, shown as crash shows them
/// after a change. `None`: the arguments name a task.
fn session_variable(s: &mut Session, args: &[String], out: &mut dyn Write) -> Option<CmdResult> {
    let on_off = |v: Option<&String>, cur: bool| match v.map(String::as_str) {
        None => Ok(cur),
        Some("on" | "1") => Ok(true),
        Some("off" | "0") => Ok(false),
        Some(o) => Err(format!("invalid value: {o} (on or off)")),
    };
    let r = match args.first().map(String::as_str)? {
        "scroll" => on_off(args.get(1), s.scroll).and_then(|v| {
            s.scroll = v;
            let state = if v { "on" } else { "off" };
            let pager = crate::session::pager::pager_command();
            writeln!(out, "scroll: {state} ({pager})").map_err(io)
        }),
        "json" => on_off(args.get(1), s.json).and_then(|v| {
            s.json = v;
            writeln!(out, "json: {}", if v { "on" } else { "off" }).map_err(io)
        }),
        "radix" | "hex" | "dec" => {
            let v = if args[0] == "radix" {
                args.get(1).map(String::as_str)
            } else {
                Some(args[0].as_str())
            };
            match v {
                None => Ok(()),
                Some(d) if d == "10" || d.starts_with("dec") || d.starts_with("ten") => {
                    s.radix = 10;
                    Ok(())
                }
                Some(h) if h == "16" || h.starts_with("hex") || h.starts_with("six") => {
                    s.radix = 16;
                    Ok(())
                }
                Some(o) => Err(format!("invalid radix: {o} (10 or 16)")),
            }
            .and_then(|()| {
                let name = if s.radix == 16 { "hex" } else { "decimal" };
                writeln!(out, "output radix: {} ({name})", s.radix).map_err(io)
            })
        }
        _ => return None,
    };
    Some(r)
}

/// crash's `show_context` block for the current task.
fn show(s: &Session, out: &mut dyn Write) -> CmdResult {
    let t = current_task(s).ok_or("no current task: the task list could not be read")?;
    show_context(s, t, out)
}

/// crash's `show_context` block: PID, COMMAND, TASK, CPU, STATE.
pub fn show_context(s: &Session, t: &Task, out: &mut dyn Write) -> CmdResult {
    let list = s.kernel.tasks();
    let count = list.all_with_pid(t.pid).count();
    let of = if count > 1 {
        format!("(1 of {count})  ")
    } else {
        String::new()
    };
    let activity = if list.panic_task().is_some_and(|p| p.addr == t.addr) {
        "(PANIC)"
    } else if list.is_active(t.addr) {
        "(ACTIVE)"
    } else {
        ""
    };
    write!(
        out,
        "    PID: {}\nCOMMAND: \"{}\"\n   TASK: {:x}  {of}[THREAD_INFO: {:x}]\n    CPU: {}\n  STATE: {} {activity}\n",
        t.pid,
        t.comm,
        t.addr,
        t.thread_info,
        t.cpu,
        list.state_names(t)
    )
    .map_err(io)
}
