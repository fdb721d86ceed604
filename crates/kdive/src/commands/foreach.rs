//! `foreach`: run a per-task command on each task picked, as crash's
//! `foreach [pid | taskp | name | state | [kernel | user | gleader] |
//! active] command [flag] [argument]`.
//!
//! The command is any of kdive's that crash allows here (`task`, `files`,
//! `vm`, `bt`, `set`, `ps`, `sig`, `net`, `vtop`), run by its own run
//! function with the session's current task set to each task in turn
//! (restored after), so a command added later works here unchanged. Each
//! task's output follows crash's task header (a blank line between tasks);
//! a header the command printed itself is not repeated. `ps` runs with
//! the task as its argument and one column header, as crash's `foreach ps`.
//! Options (`-R member`, `-x`, ...) go to the command.

use std::io::Write;

use kdive_kernel::Task;

use super::per_task::{is_a_number, task_header};
use super::set::{task_ref, TaskRef};
use super::{find, io, CmdResult, Command, COMMANDS};
use crate::session::Session;

pub const USAGE: &str =
    "foreach [pid | taskp | name | state | [kernel | user | gleader] | active] command [flag] [argument]";

/// The commands crash's `foreach` runs that kdive has not: named, they
/// say so. Those it has say `foreach: true` in their [`Command`].
const NOT_YET: &[&str] = &["sig"];

/// Options of crash's foreach that take an argument.
const WITH_ARG: &[&str] = &["-R", "-y"];

#[derive(Default)]
struct Select {
    pids: Vec<i64>,
    tasks: Vec<u64>,
    comms: Vec<String>,
    kernel: bool,
    user: bool,
    gleader: bool,
    active: bool,
    state: Option<String>,
}

impl Select {
    fn specified(&self) -> bool {
        !self.pids.is_empty() || !self.tasks.is_empty() || !self.comms.is_empty()
    }

    fn wants(&self, s: &Session, t: &Task) -> bool {
        let list = s.kernel.tasks();
        if self.active && !list.is_active(t.addr) {
            return false;
        }
        if self.user && t.is_kernel_thread() || self.kernel && !t.is_kernel_thread() {
            return false;
        }
        if self.gleader && t.pid != t.tgid {
            return false;
        }
        if let Some(st) = &self.state {
            if list.state_code(t) != st {
                return false;
            }
        }
        !self.specified()
            || self.tasks.contains(&t.addr)
            || self.pids.contains(&t.pid)
            || self.comms.contains(&t.comm)
    }
}

const STATES: &[&str] = &[
    "RU", "IN", "UN", "ST", "TR", "ZO", "DE", "PA", "WA", "ID", "NE", "SW",
];

pub const COMMAND: Command = Command {
    name: "foreach",
    aliases: &[],
    summary: "run a per-task command (task, files, vm, bt, set, ps, ...) on each task picked",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let mut sel = Select::default();
    let mut keys: Vec<&str> = Vec::new();
    let mut cmd_args: Vec<String> = Vec::new();
    let list = s.kernel.tasks();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a.starts_with('-') && a.len() > 1 {
            cmd_args.push(a.clone());
            if WITH_ARG.contains(&a.as_str()) {
                cmd_args.push(
                    it.next()
                        .ok_or_else(|| format!("option {a} needs an argument"))?
                        .clone(),
                );
            }
            continue;
        }
        if !keys.is_empty() {
            cmd_args.push(a.clone());
            continue;
        }
        if let Some(k) = COMMANDS
            .iter()
            .find(|c| c.foreach && c.name == a)
            .map(|c| c.name)
            .or_else(|| NOT_YET.iter().copied().find(|k| k == a))
        {
            keys.push(k);
            continue;
        }
        if is_a_number(a) && a != "DE" {
            match task_ref(list, a) {
                Some(TaskRef::Pid(p)) => {
                    sel.pids.push(p);
                    continue;
                }
                Some(TaskRef::Task(t)) => {
                    sel.tasks.push(t);
                    continue;
                }
                None => {}
            }
        }
        let word = a.strip_prefix('\\').unwrap_or(a);
        match word {
            "kernel" if sel.user => return Err("user and kernel are mutually exclusive!".into()),
            "kernel" => sel.kernel = true,
            "user" | "gleader" if sel.kernel => {
                return Err(format!("{word} and kernel are mutually exclusive!"))
            }
            "user" => sel.user = true,
            "gleader" => {
                sel.user = true;
                sel.gleader = true;
            }
            "active" => sel.active = true,
            w if STATES.contains(&w) => {
                if sel.state.is_some() {
                    return Err("only one task state allowed".into());
                }
                sel.state = Some(w.to_string());
            }
            w if w.len() >= 2 && w.starts_with('\'') && w.ends_with('\'') => {
                return Err(format!(
                    "{w}: regular expressions are not supported by kdive yet"
                ))
            }
            w if list.find_by_comm(w).next().is_some() => sel.comms.push(w.to_string()),
            _ if s.json => return Err(format!("unknown argument: \"{a}\"")),
            _ => {
                writeln!(out, "foreach: unknown argument: \"{a}\"").map_err(io)?;
                return Ok(());
            }
        }
    }
    if keys.is_empty() {
        return Err(format!("no command given\nUsage: {USAGE}"));
    }
    let mut cmds = Vec::new();
    for k in &keys {
        let c = find(k).ok_or_else(|| format!("{k}: not available in kdive yet"))?;
        cmds.push(c);
    }
    let picked: Vec<(u64, String)> = list
        .tasks()
        .iter()
        .filter(|t| sel.wants(s, t))
        .map(|t| (t.addr, task_header(t, false)))
        .collect();
    let saved = s.task;
    let result = if s.json {
        each_json(s, &picked, &cmds, &cmd_args, out)
    } else {
        each(s, &picked, &cmds, &cmd_args, out)
    };
    s.task = saved;
    result
}

/// `foreach --json`: per task and command, in order, `{pid, task, command,
/// run, result}`, `run` the command's name and `result` its JSON value
/// for that task, or `error` in place of `result` where it failed (or has
/// no JSON view).
fn each_json(
    s: &mut Session,
    picked: &[(u64, String)],
    cmds: &[&super::Command],
    cmd_args: &[String],
    out: &mut dyn Write,
) -> CmdResult {
    let mut values = Vec::new();
    for (addr, _) in picked {
        s.task = Some(*addr);
        for c in cmds {
            let mut args = cmd_args.to_vec();
            if c.name == "ps" {
                args.push(format!("{addr:#x}"));
            }
            let r = if c.json {
                let mut buf = Vec::new();
                (c.run)(s, &args, &mut buf).and_then(|()| {
                    serde_json::from_slice::<serde_json::Value>(&buf)
                        .map_err(|_| format!("no JSON view for {} {} yet", c.name, args.join(" ")))
                })
            } else {
                Err(format!("no JSON view for {} yet", c.name))
            };
            let t = s.kernel.tasks().find_by_addr(*addr);
            let mut v = serde_json::json!({
                "pid": t.map(|t| t.pid),
                "task": super::json::hex(*addr),
                "command": t.map(|t| t.comm.clone()),
                "run": c.name,
            });
            match r {
                Ok(r) => v["result"] = r,
                Err(e) => {
                    s.failures += 1;
                    v["error"] = e.into();
                }
            }
            values.push(v);
        }
    }
    super::json::emit(out, &values)
}

/// Run the commands on each task picked.
fn each(
    s: &mut Session,
    picked: &[(u64, String)],
    cmds: &[&super::Command],
    cmd_args: &[String],
    out: &mut dyn Write,
) -> CmdResult {
    let only_ps = cmds.iter().all(|c| c.name == "ps");
    let mut ps_runs = 0;
    for (n, (addr, header)) in picked.iter().enumerate() {
        s.task = Some(*addr);
        if !only_ps {
            if n > 0 {
                writeln!(out).map_err(io)?;
            }
            write!(out, "{header}").map_err(io)?;
        }
        for c in cmds {
            let mut args = cmd_args.to_vec();
            if c.name == "ps" {
                if ps_runs > 0 {
                    args.push("-H".into());
                }
                ps_runs += 1;
                args.push(format!("{addr:#x}"));
            }
            let mut buf = Vec::new();
            let r = (c.run)(s, &args, &mut buf);
            let text = String::from_utf8_lossy(&buf);
            // The command's own header, when it printed one, is ours.
            let body = match c.name {
                "ps" => &text,
                _ => text.strip_prefix(header.as_str()).unwrap_or(&text),
            };
            out.write_all(body.as_bytes()).map_err(io)?;
            if let Err(e) = r {
                out.flush().map_err(io)?;
                eprintln!("{}: {e}", c.name);
                s.failures += 1;
            }
        }
    }
    Ok(())
}
