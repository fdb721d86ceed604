//! `task`: a task's `task_struct` (and its `thread_info`) as gdb prints
//! them, after crash's task header, for the current task or the tasks the
//! `PID | TASK` arguments name; `-R member[,member]` (or member names as
//! arguments) prints only those members; `-x`/`-d` choose the radix.
//!
//! ```text
//! PID: 1        TASK: ff36587ec11f4180  CPU: 1    COMMAND: "init"
//! struct task_struct {
//!   thread_info = {
//! ```

use std::io::Write;

use kdive_debuginfo::types::TypeSource;
use kdive_kernel::Task;

use super::options::{self, Options};
use super::per_task::{is_a_number, pick, task_header, Picked};
use super::set::current_task;
use super::types::datatype::{lookup, member_offset};
use super::types::members::parse_for_member_extended;
use super::types::{no_types, print_object};
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "task [-R member[,member]] [-x|-d] [pid | taskp] ...";

pub const COMMAND: Command = Command {
    name: "task",
    aliases: &[],
    summary: "show a task's task_struct (and thread_info), or some of its members",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: true,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    // JSON: per task `{pid, task, command, text}`, the text what the text
    // mode prints under the task's header; its notes go to standard error.
    let json = s.json;
    let (mut stderr, mut unused) = (std::io::stderr(), std::io::sink());
    let (out, jout): (&mut dyn Write, &mut dyn Write) = if json {
        (&mut stderr, out)
    } else {
        (out, &mut unused)
    };
    let Options { opts, words } =
        options::parse(args, "xdh", "R").map_err(|e| format!("{e}\nUsage: {USAGE}"))?;
    let mut radix = None;
    let mut refs: Vec<String> = Vec::new();
    for (c, v) in opts {
        match c {
            'x' | 'h' | 'd' => {
                let hex = c != 'd';
                if radix == Some(!hex) {
                    return Err("-d and -x are mutually exclusive".into());
                }
                radix = Some(hex);
            }
            'R' => refs.extend(
                v.unwrap_or_default()
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(String::from),
            ),
            _ => {}
        }
    }
    let Some(src) = s.kernel.types() else {
        return Err(no_types(s));
    };
    let list = s.kernel.tasks();
    let task_dt =
        lookup(src, "task_struct").ok_or("invalid data structure reference: task_struct")?;
    let mut tasks: Vec<&Task> = Vec::new();
    let mut bogus = false;
    for w in &words {
        if is_a_number(w) {
            match pick(list, w) {
                p @ (Picked::Pid(_) | Picked::Task(_)) => tasks.extend(p.tasks()),
                Picked::Invalid => {
                    bogus = true;
                    writeln!(out, "task: invalid task or pid value: {w}\n").map_err(io)?;
                }
            }
        } else if w.contains(',')
            || member_offset(src, &task_dt, w).is_some()
            || w.contains(['.', '['])
        {
            refs.extend(w.split(',').filter(|m| !m.is_empty()).map(String::from));
        } else {
            writeln!(out, "task: invalid task, pid, or task_struct member: {w}\n").map_err(io)?;
        }
    }
    if tasks.is_empty() && !bogus {
        tasks.push(current_task(s).ok_or("no current task: the task list could not be read")?);
    }
    let hex = radix == Some(true);
    let mut values = Vec::new();
    for t in tasks {
        let (task_text, ti_text) = dump(s, src, t, hex)?;
        let body = if refs.is_empty() {
            match ti_text {
                Some(ti) => format!("{task_text}\n{ti}"),
                None => task_text,
            }
        } else {
            let text = task_text + ti_text.as_deref().unwrap_or("");
            members(src, &text, &refs)
        };
        if json {
            values.push(serde_json::json!({
                "pid": t.pid,
                "task": super::json::hex(t.addr),
                "command": t.comm,
                "text": body,
            }));
        } else {
            write!(out, "{}{body}", task_header(t, false)).map_err(io)?;
            writeln!(out).map_err(io)?;
        }
    }
    if json {
        return super::json::emit(jout, &values);
    }
    Ok(())
}

/// The task's `task_struct` and, when the kernel has one, its
/// `thread_info`, as `struct` prints them, one after the other.
fn dump(
    s: &Session,
    src: &dyn TypeSource,
    t: &Task,
    hex: bool,
) -> Result<(String, Option<String>), String> {
    let one = |name: &str, addr: u64| -> Result<String, String> {
        let mut buf = Vec::new();
        print_object(s, src, name, &[], addr, hex, &mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    let task = one("task_struct", t.addr)?;
    let ti = if lookup(src, "thread_info").is_some() && t.thread_info != 0 {
        Some(one("thread_info", t.thread_info)?)
    } else {
        None
    };
    Ok((task, ti))
}

/// crash's `task_struct_member()`: each member's lines, found in the
/// printed structures.
fn members(src: &dyn TypeSource, text: &str, refs: &[String]) -> String {
    let mut out = String::new();
    let task = lookup(src, "task_struct");
    let ti = lookup(src, "thread_info");
    for m in refs {
        if m.contains(['.', '[']) {
            if let Some(lines) = parse_for_member_extended(text, m) {
                out.push_str(&lines);
            }
            continue;
        }
        let known = |dt: &Option<_>| {
            dt.as_ref()
                .is_some_and(|d| member_offset(src, d, m).is_some())
        };
        if !known(&task) && !known(&ti) {
            out.push_str(&format!(
                "task: {m}: not a task_struct or thread_info member\n"
            ));
        }
        out.push_str(&parse_task_thread(text, m));
    }
    out
}

/// crash's `parse_task_thread()`: the line `  member = ...` at the top
/// level of the printed structures (one level in, inside a randomized
/// layout's anonymous struct), and when it opens a block, the lines up to
/// the block's end.
pub fn parse_task_thread(text: &str, member: &str) -> String {
    let mut out = String::new();
    let mut randomized = false;
    let mut until_prefix: Option<String> = None;
    let mut until_contains: Option<&str> = None;
    for line in text.split_inclusive('\n') {
        if line == "  {\n" {
            randomized = true;
        } else if randomized && (line == "  }, \n" || line == "  },\n") {
            randomized = false;
        }
        if let Some(p) = &until_prefix {
            out.push_str(line);
            if line.starts_with(p.as_str()) {
                until_prefix = None;
            }
            continue;
        }
        if let Some(c) = until_contains {
            out.push_str(line);
            if line.contains(c) {
                until_contains = None;
            }
            continue;
        }
        let pad = if randomized { "  " } else { "" };
        if line.starts_with(&format!("{pad}  {member} = ")) {
            out.push_str(line);
            if line.contains("{{\n") {
                until_prefix = Some(format!("{pad}    }},"));
            } else if line.contains(" = {\n") {
                let n = line.len() - line.trim_start_matches(' ').len();
                until_prefix = Some(format!("{}}}", " ".repeat(n)));
            } else if line.contains('{') {
                until_contains = Some("},");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_task_thread;

    #[test]
    fn a_member_and_its_block() {
        let text = "struct task_struct {\n  pid = 1,\n  se = {\n    load = {\n      weight = 2\n    },\n    x = 3\n  },\n  comm = \"init\\000\",\n}\nstruct thread_info {\n  cpu = 1\n}\n";
        assert_eq!(parse_task_thread(text, "pid"), "  pid = 1,\n");
        assert_eq!(
            parse_task_thread(text, "se"),
            "  se = {\n    load = {\n      weight = 2\n    },\n    x = 3\n  },\n"
        );
        assert_eq!(parse_task_thread(text, "cpu"), "  cpu = 1\n");
        assert_eq!(parse_task_thread(text, "weight"), "");
    }
}
