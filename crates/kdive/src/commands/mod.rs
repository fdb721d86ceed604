//! The commands, one module per command or family, and the table that
//! names them.
//!
//! Where a command lives: the file or folder named as the command,
//! `commands/NAME.rs` or `commands/NAME/mod.rs` (`bt/`, `kmem/`, `ps/`,
//! `dev/`, `log/`, `search/`, `list/`, `rd/`, `dis/`; a folder's other
//! files are the command's parts, as `bt/format.rs`). The exceptions:
//! `struct`, `union`, `*` and `whatis` are in `types/` (their shared
//! type lookup too); `p`, `px`, `pd` in `print.rs`; `vtop` and `ptov` in
//! `vtop.rs`; `mod` in `modcmd.rs`; `task` in `task_cmd.rs`; `alias` in
//! `session/alias.rs`; `help` and `q` here. Each declares its
//! [`Command`] (its facts: aliases, whether it needs a dump, `--minimal`,
//! JSON, `foreach`) as `COMMAND` next to its run function; [`COMMANDS`]
//! lists them all, and `grep -rn 'name: "NAME"' crates/kdive/src` finds
//! one.

use std::io::Write;

use crate::session::Session;

mod bt;
mod dev;
mod dis;
mod eval;
mod files;
mod foreach;
mod irq;
pub mod json;
mod kmem;
mod list;
mod log;
mod mach;
mod modcmd;
mod net;
mod objects;
mod options;
mod per_task;
mod print;
mod ps;
mod rd;
mod runq;
mod search;
mod set;
mod swap;
mod sym;
mod sys;
mod task_cmd;
mod text;
mod timer;
pub mod types;
mod vm;
mod vtop;

/// What a command returns: its error message, printed after `NAME: `.
pub type CmdResult = Result<(), String>;

type Run = fn(&mut Session, &[String], &mut dyn Write) -> CmdResult;

/// A command and its facts, declared once next to its run function (each
/// module's `COMMAND`, or a few for a module with several commands). The
/// session asks these, through [`find`], for everything it decides about
/// a command.
pub struct Command {
    pub name: &'static str,
    /// Other names it answers to (crash's built-in `quit` for `q`, ...).
    pub aliases: &'static [&'static str],
    /// One line of help.
    pub summary: &'static str,
    /// Its synopsis.
    pub usage: &'static str,
    pub run: Run,
    /// Works on a vmlinux opened alone, with no dump: it reads only
    /// symbols, types, line tables, and the file's code and initialized
    /// data. Every other command needs a dump and says so.
    pub without_dump: bool,
    /// `--minimal` keeps it: it needs only memory and symbols.
    pub minimal: bool,
    /// It has a JSON view (see [`json`]); one without is not run in JSON
    /// mode.
    pub json: bool,
    /// `foreach` runs it on each task picked.
    pub foreach: bool,
}

/// Every command kdive has. `--minimal`'s error lists its commands in this
/// order.
pub const COMMANDS: &[Command] = &[
    log::COMMAND,
    dis::COMMAND,
    rd::COMMAND,
    sym::COMMAND,
    eval::COMMAND,
    set::COMMAND,
    HELP,
    QUIT,
    crate::session::alias::COMMAND,
    bt::COMMAND,
    vtop::VTOP,
    vtop::PTOV,
    modcmd::COMMAND,
    kmem::COMMAND,
    list::COMMAND,
    mach::COMMAND,
    irq::COMMAND,
    dev::COMMAND,
    net::COMMAND,
    swap::COMMAND,
    timer::COMMAND,
    types::STRUCT,
    types::UNION,
    types::POINTER_TO,
    types::whatis::COMMAND,
    print::P,
    print::PX,
    print::PD,
    ps::COMMAND,
    sys::COMMAND,
    task_cmd::COMMAND,
    files::COMMAND,
    vm::COMMAND,
    runq::COMMAND,
    foreach::COMMAND,
    search::COMMAND,
];

/// The command named `name`, or one of its aliases.
pub fn find(name: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name))
}

/// The names of the commands `--minimal` keeps, in the table's order.
pub fn minimal_names() -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter(|c| c.minimal)
        .map(|c| c.name)
        .collect()
}

/// Tell what a walker found and went past: on standard error, each after
/// `prefix` (as crash prints its warnings; the caller flushes its output
/// first), and in JSON mode also as the line's `findings`.
pub fn tell(s: &Session, prefix: &str, findings: &[kdive_kernel::Finding]) {
    for f in findings {
        eprintln!("{prefix}{f}");
    }
    record(s, findings);
}

/// Keep `findings` for the JSON line's `findings` (in JSON mode).
pub fn record(s: &Session, findings: &[kdive_kernel::Finding]) {
    if s.json {
        s.findings.borrow_mut().extend_from_slice(findings);
    }
}

pub const HELP: Command = Command {
    name: "help",
    aliases: &["?", "man"],
    summary: "list the commands, or describe one",
    usage: "help [COMMAND]",
    run: help,
    without_dump: true,
    minimal: true,
    json: true,
    foreach: false,
};

pub const QUIT: Command = Command {
    name: "q",
    aliases: &["quit", "exit"],
    summary: "leave the session (also quit, exit)",
    usage: "q",
    run: quit,
    without_dump: true,
    minimal: true,
    json: true,
    foreach: false,
};

/// Output errors (a closed pipe) end the command like any other error.
pub fn io(e: std::io::Error) -> String {
    e.to_string()
}

fn help(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    if s.json {
        let view = |c: &Command| serde_json::json!({ "name": c.name, "summary": c.summary, "usage": c.usage });
        return match args.first() {
            None => {
                let mut all: Vec<&Command> = COMMANDS.iter().collect();
                all.sort_by_key(|c| c.name);
                json::emit(out, &all.into_iter().map(view).collect::<Vec<_>>())
            }
            Some(name) => {
                let c = find(name).ok_or_else(|| format!("no such command: {name}"))?;
                json::emit(out, &view(c))
            }
        };
    }
    let text = help_text(args.first().map(String::as_str))?;
    write!(out, "{text}").map_err(io)
}

/// `help`: one line per command, by name; `help CMD`: its name, summary,
/// synopsis.
fn help_text(name: Option<&str>) -> Result<String, String> {
    match name {
        None => {
            let mut all: Vec<&Command> = COMMANDS.iter().collect();
            all.sort_by_key(|c| c.name);
            Ok(all
                .iter()
                .map(|c| format!("{:<10} {}\n", c.name, c.summary))
                .collect())
        }
        Some(name) => {
            let c = find(name).ok_or_else(|| format!("no such command: {name}"))?;
            Ok(format!(
                "NAME\n  {} - {}\n\nSYNOPSIS\n  {}\n",
                c.name, c.summary, c.usage
            ))
        }
    }
}

fn quit(s: &mut Session, _: &[String], _: &mut dyn Write) -> CmdResult {
    s.quit = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{find, help_text, minimal_names, COMMANDS};

    /// `help` lists every command, and `help CMD` describes each.
    #[test]
    fn help_covers_every_command() {
        let list = help_text(None).unwrap();
        for c in COMMANDS {
            assert!(!c.summary.is_empty() && !c.usage.is_empty(), "{}", c.name);
            assert!(
                list.lines()
                    .any(|l| l.split_whitespace().next() == Some(c.name)),
                "help lists {}",
                c.name
            );
            let one = help_text(Some(c.name)).unwrap();
            assert!(
                one.contains(c.usage) && one.contains(c.summary),
                "help {}",
                c.name
            );
            assert_eq!(
                find(c.name).map(|f| f.usage),
                Some(c.usage),
                "{} finds itself",
                c.name
            );
        }
        assert!(help_text(Some("no-such-command")).is_err());
    }

    /// The table's invariants.
    #[test]
    fn the_table_is_consistent() {
        let mut names = BTreeSet::new();
        for c in COMMANDS {
            assert!(names.insert(c.name), "{} twice", c.name);
        }
        let mut aliases = BTreeSet::new();
        for c in COMMANDS {
            for a in c.aliases {
                assert!(aliases.insert(*a), "alias {a} twice");
                assert!(!names.contains(a), "alias {a} is a command");
                assert_eq!(find(a).map(|f| f.name), Some(c.name), "{a}");
            }
            // JSON mode reaches a command through its view; `--minimal`
            // keeps only what needs no walker (and every one has a view).
            assert!(!c.minimal || c.json, "{} minimal without a view", c.name);
            // `foreach` runs per-task commands, which read a dump.
            assert!(!c.foreach || !c.without_dump, "{}", c.name);
        }
    }

    /// The facts equal what the lists said before they moved into the
    /// table: a refactor that drops one fails here.
    #[test]
    fn the_table_says_what_the_old_lists_said() {
        let set = |f: fn(&super::Command) -> bool| -> BTreeSet<&str> {
            COMMANDS.iter().filter(|c| f(c)).map(|c| c.name).collect()
        };
        let old = |l: &[&'static str]| -> BTreeSet<&'static str> { l.iter().copied().collect() };
        const WITHOUT_DUMP: &[&str] = &[
            "help", "eval", "sym", "struct", "union", "whatis", "p", "px", "pd", "rd", "dis", "q",
        ];
        const MINIMAL: &[&str] = &[
            "log", "dis", "rd", "sym", "eval", "set", "help", "q", "alias",
        ];
        const VIEWS: &[&str] = &[
            "bt", "ps", "log", "sym", "sys", "mod", "kmem", "rd", "p", "px", "pd", "set", "help",
            "q", "dis", "swap", "mach", "files", "vm", "struct", "union", "*", "whatis", "timer",
            "runq", "net", "dev", "irq", "vtop", "ptov", "eval", "list", "search", "task", "alias",
            "foreach",
        ];
        // `sig` too, which kdive has not (foreach says so).
        const FOREACH: &[&str] = &["bt", "vm", "task", "files", "net", "set", "vtop", "ps"];
        const ALIASES: &[(&str, &str)] =
            &[("quit", "q"), ("exit", "q"), ("?", "help"), ("man", "help")];
        assert_eq!(set(|c| c.without_dump), old(WITHOUT_DUMP));
        assert_eq!(set(|c| c.minimal), old(MINIMAL));
        // `--minimal`'s error lists them in the old order.
        assert_eq!(minimal_names(), MINIMAL);
        assert_eq!(set(|c| c.json), old(VIEWS));
        assert_eq!(set(|c| c.foreach), old(FOREACH));
        let aliases: BTreeSet<(&str, &str)> = COMMANDS
            .iter()
            .flat_map(|c| c.aliases.iter().map(move |a| (*a, c.name)))
            .collect();
        assert_eq!(aliases, ALIASES.iter().copied().collect());
        // `size` is the session's alias for `*` (session/alias.rs), not
        // the table's.
        assert!(find("size").is_none());
        let all: BTreeSet<&str> = COMMANDS.iter().map(|c| c.name).collect();
        assert_eq!(all.len(), 36);
    }
}
