//! `ps`: the tasks, in crash's format and order (by PID; the idle tasks,
//! all PID 0, by CPU), `>` marking the tasks running on a CPU and kernel
//! threads' names in brackets:
//!
//! ```text
//!       PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM
//! >       1       0   1  ff36587ec11f4180  RU   0.0     2260       64  init
//! ```
//!
//! Options as crash 8 has them: `-k`/`-u` (kernel threads or user tasks
//! only), `-G` (thread-group leaders), `-s` (kernel stack pointer instead
//! of the task), `-A` (active tasks), `-I` (no idle tasks), `-H` (no
//! header), and the mutually exclusive views `-t` (run times), `-l` (last
//! run), `-m` (time since it last ran), `-p` (parents), `-c` (children), `-g` (threads), `-a` (arguments
//! and environment), `-S` (count by state). Arguments pick tasks: a PID, a
//! task address, a command name (`\name` for a name that looks like a
//! number).

mod times;
mod views;

use std::io::Write;

use kdive_kernel::Task;

use super::set::{task_ref, TaskRef};
use super::{io, CmdResult, Command};
use crate::session::Session;

/// The options of one `ps`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub kernel: bool,
    pub user: bool,
    pub group: bool,
    pub kstackp: bool,
    pub no_header: bool,
    pub exclude_idle: bool,
    pub view: View,
}

/// The mutually exclusive views.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum View {
    #[default]
    Table,
    Active,
    Times,
    LastRun,
    /// `-m`: how long ago each task last ran, by its CPU's runqueue clock.
    Since,
    Parents,
    Children,
    Threads,
    Args,
    Summary,
}

/// How an argument picks tasks.
#[derive(Debug, Clone)]
enum Pick {
    Pid(i64),
    Task(u64),
    Comm(String),
}

const EXCLUSIVE: &str =
    "-a, -t, -c, -p, -g, -l, -m, -S, -r and -A flags are all mutually-exclusive";

const USAGE: &str = "Usage:\n  ps [-k|-u|-G] [-s] [-p|-c|-t|-l|-m|-a|-g|-S|-A] [-I] [-H]\n     [pid | task | command] ...\nEnter \"help ps\" for details.";

pub const COMMAND: Command = Command {
    name: "ps",
    aliases: &[],
    summary:
        "list the tasks, as crash's ps (also their parents, children, threads, times, arguments)",
    usage: "ps [-k|-u|-G] [-s] [-p|-c|-t|-l|-m|-a|-g|-S|-A] [-I] [-H] [pid | task | command] ...",
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: true,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let (flags, rest) = parse(args)?;
    let list = s.kernel.tasks();
    if list.is_empty() {
        return Err(list
            .notices()
            .first()
            .map_or_else(|| "no tasks found".into(), |n| n.text.clone()));
    }
    // What the walks could not read: told, once per command, beside the
    // output (crash prints its warnings when it starts).
    if !list.notices().is_empty() {
        out.flush().map_err(io)?;
        super::tell(s, "WARNING: ", list.notices());
    }
    let mut picks = Vec::new();
    for a in &rest {
        if a.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
            match task_ref(list, a) {
                Some(TaskRef::Pid(p)) => picks.push(Pick::Pid(p)),
                Some(TaskRef::Task(t)) => picks.push(Pick::Task(t)),
                None => writeln!(out, "ps: invalid task or pid value: {a}\n").map_err(io)?,
            }
        } else if a.len() >= 2 && a.starts_with('\'') && a.ends_with('\'') {
            return Err(format!(
                "{a}: regular expressions are not supported by kdive yet"
            ));
        } else {
            let name = a.strip_prefix('\\').unwrap_or(a);
            // crash keeps TASK_COMM_LEN - 1 characters.
            picks.push(Pick::Comm(name.chars().take(15).collect()));
        }
    }
    if flags.view == View::Summary && !rest.is_empty() {
        return Err("-S option takes no arguments".into());
    }
    if s.json {
        let picked: Vec<&Task> = list
            .tasks()
            .iter()
            .filter(|t| {
                rest.is_empty()
                    || picks.iter().any(|p| match p {
                        Pick::Pid(pid) => t.pid == *pid,
                        Pick::Task(a) => t.addr == *a,
                        Pick::Comm(c) => t.comm == *c,
                    })
            })
            .collect();
        return super::json::tasks(s, &picked, out);
    }
    let header = !flags.no_header && matches!(flags.view, View::Table | View::Active);
    if header {
        let col = if flags.kstackp {
            super::text::center("KSTACKP", 16, true)
        } else {
            super::text::center("TASK", 16, true)
        };
        writeln!(
            out,
            "      PID    PPID  CPU {col}  ST  %MEM      VSZ      RSS  COMM"
        )
        .map_err(io)?;
    }
    let mut order: Vec<&Task> = list.tasks().iter().collect();
    if matches!(flags.view, View::LastRun | View::Since) {
        if order.iter().all(|t| t.last_arrival.is_none()) {
            return Err("last-run timestamps do not exist in this kernel".into());
        }
        // Most recent first; a stable sort keeps crash's order for ties.
        order.sort_by_key(|t| std::cmp::Reverse(t.last_arrival));
    }
    let mut ctx = views::Ctx::new(&s.kernel, list, flags, !rest.is_empty(), &order);
    if rest.is_empty() {
        match flags.view {
            View::Times => return self::times::times(&mut ctx, &order, out),
            View::Summary => return self::times::summary(list, out),
            _ => {}
        }
        for t in &order {
            ctx.show(t, out)?;
        }
        return Ok(());
    }
    for t in &order {
        for p in &picks {
            let hit = match p {
                Pick::Pid(pid) => t.pid == *pid,
                Pick::Task(a) => t.addr == *a,
                Pick::Comm(c) => t.comm == *c && leader_ok(t, flags),
            };
            if hit {
                if flags.view == View::Times {
                    self::times::times(&mut ctx, &[t], out)?;
                } else {
                    ctx.show(t, out)?;
                }
            }
        }
    }
    Ok(())
}

/// With `-g` or `-G`, a name picks only thread-group leaders.
fn leader_ok(t: &Task, f: Flags) -> bool {
    !(f.view == View::Threads || f.group) || t.is_group_leader()
}

/// Parse the options (crash's getopt string `HAISgstcpkuGlmarC:y:Y`, of
/// which kdive has those in [`Flags`]).
pub fn parse(args: &[String]) -> Result<(Flags, Vec<String>), String> {
    let mut f = Flags::default();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            rest.extend(args[i + 1..].iter().cloned());
            break;
        }
        // As getopt, options may come after arguments too.
        if !a.starts_with('-') || a.len() < 2 {
            rest.push(a.clone());
            i += 1;
            continue;
        }
        for c in a[1..].chars() {
            let view = match c {
                'k' if f.user => return Err("-u and -k are mutually exclusive".into()),
                'u' if f.kernel => return Err("-u and -k are mutually exclusive".into()),
                'k' => {
                    f.kernel = true;
                    None
                }
                'u' => {
                    f.user = true;
                    None
                }
                'G' => {
                    f.group = true;
                    None
                }
                's' => {
                    f.kstackp = true;
                    None
                }
                'H' => {
                    f.no_header = true;
                    None
                }
                'I' => {
                    f.exclude_idle = true;
                    None
                }
                'A' => Some(View::Active),
                't' => Some(View::Times),
                'l' => Some(View::LastRun),
                'm' => Some(View::Since),
                'p' => Some(View::Parents),
                'c' => Some(View::Children),
                'g' => Some(View::Threads),
                'a' => Some(View::Args),
                'S' => Some(View::Summary),
                'r' | 'C' | 'y' | 'Y' => {
                    return Err(format!(
                        "option -{c} is not supported by kdive yet\n{USAGE}"
                    ))
                }
                _ => return Err(format!("invalid option -- '{c}'\n{USAGE}")),
            };
            if let Some(v) = view {
                if f.view != View::Table && f.view != v {
                    return Err(EXCLUSIVE.into());
                }
                f.view = v;
            }
        }
        i += 1;
    }
    if f.group && matches!(f.view, View::LastRun | View::Since) {
        let c = if f.view == View::LastRun { 'l' } else { 'm' };
        return Err(format!("-G not supported with -{c} option"));
    }
    Ok((f, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_as_crash_reads_them() {
        let a = args("-kG -s 1 cat");
        let (f, rest) = parse(&a).unwrap();
        assert!(f.kernel && f.group && f.kstackp && !f.user);
        assert_eq!(f.view, View::Table);
        assert_eq!(rest, ["1", "cat"]);
        let a = args("-t -t");
        assert_eq!(parse(&a).unwrap().0.view, View::Times);
        let a = args("-p -c");
        assert_eq!(parse(&a).unwrap_err(), EXCLUSIVE);
        let a = args("-ku");
        assert_eq!(parse(&a).unwrap_err(), "-u and -k are mutually exclusive");
        let a = args("-G -l");
        assert_eq!(parse(&a).unwrap_err(), "-G not supported with -l option");
        let a = args("-q");
        assert!(parse(&a).unwrap_err().starts_with("invalid option -- 'q'"));
        // Options after arguments, as getopt permutes them; after `--`,
        // everything is an argument.
        let a = args("1 -k cat -- -x");
        let (f, rest) = parse(&a).unwrap();
        assert!(f.kernel);
        assert_eq!(rest, ["1", "cat", "-x"]);
    }
}
