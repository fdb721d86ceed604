//! The commands, one module per family, and the table that names them.
//! To find where a command lives, look it up in [`COMMANDS`].

use std::io::Write;

use crate::session::Session;

mod bt;
mod bt_format;
mod bt_search;
mod bt_words;
pub mod datatype;
mod dev;
mod dev_pci;
mod dis;
mod eval;
mod files;
mod foreach;
mod irq;
pub mod json;
mod kmem;
mod kmem_addr;
mod kmem_info;
mod kmem_pages;
mod kmem_sheaves;
mod kmem_slab;
mod kmem_slab_json;
mod kmem_vmalloc;
mod list;
mod list_walk;
mod log;
mod log_audit;
mod mach;
mod modcmd;
mod net;
mod objects;
mod per_task;
mod print;
mod ps;
mod ps_times;
mod ps_views;
mod rd;
mod rd_format;
mod runq;
mod search;
mod search_scan;
mod set;
mod struct_args;
mod struct_cmd;
mod struct_decl;
mod struct_members;
mod swap;
mod sym;
mod sys;
mod task_cmd;
mod text;
mod timer;
mod vm;
mod vtop;
mod whatis;

/// What a command returns: its error message, printed after `NAME: `.
pub type CmdResult = Result<(), String>;

type Run = fn(&mut Session, &[String], &mut dyn Write) -> CmdResult;

/// A command: its name, one line of help, its synopsis, and the function.
pub struct Command {
    pub name: &'static str,
    pub summary: &'static str,
    pub usage: &'static str,
    pub run: Run,
}

/// Every command kdive has.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "help",
        summary: "list the commands, or describe one",
        usage: "help [COMMAND]",
        run: help,
    },
    Command {
        name: "eval",
        summary: "evaluate an expression, shown in hexadecimal, decimal, octal and binary",
        usage: "eval [-b] [-l] EXPRESSION",
        run: eval_cmd,
    },
    Command {
        name: "bt",
        summary: "a task's backtrace: the panic task, a task, or each CPU's",
        usage: bt::USAGE,
        run: bt::run,
    },
    Command {
        name: "rd",
        summary: "read memory: words, bytes, symbols or text",
        usage: rd_format::USAGE,
        run: rd::run,
    },
    Command {
        name: "sym",
        summary: "translate a symbol to its address, or an address to its symbol",
        usage: "sym [-l] [-q STRING] SYMBOL|ADDRESS ...",
        run: sym::run,
    },
    Command {
        name: "vtop",
        summary: "translate a kernel virtual address to physical, showing the page walk",
        usage: "vtop ADDRESS ...",
        run: vtop::vtop,
    },
    Command {
        name: "ptov",
        summary: "translate a physical address to its kernel virtual (direct map) address",
        usage: "ptov ADDRESS ...",
        run: vtop::ptov,
    },
    Command {
        name: "mod",
        summary: "list the loaded modules; load or forget their debuginfo",
        usage: modcmd::USAGE,
        run: modcmd::run,
    },
    Command {
        name: "kmem",
        summary: "the slab allocator's caches, slabs and objects, and what an address is",
        usage: kmem::USAGE,
        run: kmem::run,
    },
    Command {
        name: "list",
        summary: "walk a linked list, showing each entry and optionally the structure around it",
        usage: list::USAGE,
        run: list::run,
    },
    Command {
        name: "mach",
        summary: "show the machine: memory, CPUs, layout, IRQ and exception stacks (-m e820 map, -c cpuinfo)",
        usage: mach::USAGE,
        run: mach::run,
    },
    Command {
        name: "irq",
        summary: "list interrupt descriptors and actions (-s counts, -a affinity, -b softirqs, -d IDT)",
        usage: irq::USAGE,
        run: irq::run,
    },
    Command {
        name: "dev",
        summary: "list device majors (-d disk I/O, -i I/O resources, -p PCI devices)",
        usage: dev::USAGE,
        run: dev::run,
    },
    Command {
        name: "net",
        summary: "list the network devices of a network namespace (-a ARP table)",
        usage: net::USAGE,
        run: net::run,
    },
    Command {
        name: "swap",
        summary: "list the swap areas in use",
        usage: swap::USAGE,
        run: swap::run,
    },
    Command {
        name: "timer",
        summary: "list each CPU's pending timers, by expiry",
        usage: timer::USAGE,
        run: timer::run,
    },
    Command {
        name: "struct",
        summary: "show a structure's definition, or the contents of one in memory",
        usage: "struct NAME[.member[,member]] [-o] [-l offset] [-x|-d] [ADDRESS|SYMBOL][:cpuspec] [COUNT | -c COUNT]",
        run: struct_cmd::run_struct,
    },
    Command {
        name: "union",
        summary: "show a union's definition, or the contents of one in memory",
        usage: "union NAME[.member[,member]] [-o] [-l offset] [-x|-d] [ADDRESS|SYMBOL][:cpuspec] [COUNT | -c COUNT]",
        run: struct_cmd::run_union,
    },
    Command {
        name: "whatis",
        summary: "show the definition of a structure, union, typedef or enum, or a symbol's type",
        usage: "whatis [-o] [struct|union|enum] NAME[.member] | SYMBOL",
        run: whatis::run,
    },
    Command {
        name: "p",
        summary: "print the value of a C expression (p/x, px: hexadecimal; p/d, pd: decimal)",
        usage: "p [-x|-d] EXPRESSION",
        run: print::p,
    },
    Command {
        name: "px",
        summary: "p in hexadecimal",
        usage: "px EXPRESSION",
        run: print::px,
    },
    Command {
        name: "pd",
        summary: "p in decimal",
        usage: "pd EXPRESSION",
        run: print::pd,
    },
    Command {
        name: "ps",
        summary: "list the tasks, as crash's ps (also their parents, children, threads, times, arguments)",
        usage: "ps [-k|-u|-G] [-s] [-p|-c|-t|-l|-m|-a|-g|-S|-A] [-I] [-H] [pid | task | command] ...",
        run: ps::run,
    },
    Command {
        name: "set",
        summary: "show or change the current task; the session's scroll, radix and json settings",
        usage: "set [-p | -c cpu] [pid | task] | set scroll [on|off] | set radix [10|16] | set json [on|off]",
        run: set::run,
    },
    Command {
        name: "log",
        summary: "the kernel log (-t no time, -T dates, -m levels, -d devices, -c callers, -a audit)",
        usage: log::USAGE,
        run: log::run,
    },
    Command {
        name: "sys",
        summary: "the system: kernel, dump, CPUs, date, uptime, load, memory, panic message (-i DMI, -t taints)",
        usage: sys::USAGE,
        run: sys::run,
    },
    Command {
        name: "dis",
        summary: "disassemble kernel code, with source lines (-l)",
        usage: dis::USAGE,
        run: dis::run,
    },
    Command {
        name: "task",
        summary: "show a task's task_struct (and thread_info), or some of its members",
        usage: task_cmd::USAGE,
        run: task_cmd::run,
    },
    Command {
        name: "files",
        summary: "show a task's root and working directory and its open files",
        usage: files::USAGE,
        run: files::run,
    },
    Command {
        name: "vm",
        summary: "show a task's memory map: its mm_struct, page directory, sizes and VMAs",
        usage: vm::USAGE,
        run: vm::run,
    },
    Command {
        name: "runq",
        summary: "show each CPU's run queue: the running task and the queued ones",
        usage: runq::USAGE,
        run: runq::run,
    },
    Command {
        name: "foreach",
        summary: "run a per-task command (task, files, vm, bt, set, ps, ...) on each task picked",
        usage: foreach::USAGE,
        run: foreach::run,
    },
    Command {
        name: "alias",
        summary: "list the aliases, or make one: alias NAME COMMAND...",
        usage: "alias [NAME [COMMAND ...]]",
        run: crate::session::alias::run,
    },
    Command {
        name: "search",
        summary: "search memory for a value or a string",
        usage: search::USAGE,
        run: search::run,
    },
    Command {
        name: "*",
        summary: "struct or union, whichever the name is (alias: size)",
        usage: "* NAME[.member] [-o] [-x|-d] [ADDRESS|SYMBOL] [COUNT]",
        run: struct_cmd::run_pointer_to,
    },
    Command {
        name: "q",
        summary: "leave the session (also quit, exit)",
        usage: "q",
        run: quit,
    },
];

/// Aliases crash has built in, as the command they stand for.
const ALIASES: &[(&str, &str)] = &[("quit", "q"), ("exit", "q"), ("?", "help"), ("man", "help")];

pub fn find(name: &str) -> Option<&'static Command> {
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, c)| c);
    COMMANDS.iter().find(|c| c.name == name)
}

/// The commands that work on a vmlinux opened alone, with no dump: they
/// read symbols, types, line tables, and the file's code and initialized
/// data. Every other command needs a dump and says so.
const WITHOUT_DUMP: &[&str] = &[
    "help", "eval", "sym", "struct", "union", "whatis", "p", "px", "pd", "rd", "dis", "q",
];

/// Whether the command named `name` works without a dump.
pub fn works_without_dump(name: &str) -> bool {
    WITHOUT_DUMP.contains(&name)
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

fn eval_cmd(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    if s.json {
        let v = eval::value(args, &|name: &str| k.symbol(name))?;
        return json::emit(out, &v);
    }
    let text = eval::eval(args, &|name: &str| k.symbol(name))?;
    write!(out, "{text}").map_err(io)
}

#[cfg(test)]
mod tests {
    use super::{find, help_text, COMMANDS};

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
}
