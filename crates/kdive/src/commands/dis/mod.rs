//! `dis`: disassemble kernel code as crash does (crash asks its gdb for
//! `x/Ni ADDR` and filters the lines; see `cmd_dis()` in crash's kernel.c).
//!
//! ```text
//! crash> dis -l schedule 2
//! debian/build/build_amd64_none_cloud-amd64/kernel/sched/core.c: 6632
//! 0xffffffff8d406090 <schedule>:  nopl   0x0(%rax,%rax,1) [FTRACE NOP]
//! debian/build/build_amd64_none_cloud-amd64/arch/x86/include/asm/current.h: 15
//! 0xffffffff8d406095 <schedule+5>:  push   %rbp
//! ```
//! (crash puts a tab after the colon; two spaces here.)
//!
//! What is shown, by crash's rules:
//! - `dis ADDR COUNT`: COUNT instructions from ADDR;
//! - `dis SYMBOL` (or the address of a function's start), no count: the
//!   whole function, to the end of its symbol (or the next symbol);
//! - `dis SYMBOL+OFF` or an address inside a function, no count: the one
//!   instruction there;
//! - `-r`: from the function's start up to and including the instruction
//!   at the address (with a count: the last COUNT of those);
//! - `-f`: from the address to the function's end.
//!
//! The code is read from the dump, so it shows as the running kernel had
//! it (ftrace's NOPs, alternatives, static keys), and crash's
//! `[FTRACE NOP]` mark follows an ftrace NOP at a function's start. With
//! `-l`, each change of source line (from the DWARF line table) is printed
//! as a `FILE: LINE` line before the instruction.

use kdive_kernel::tasks::UserReadError;
use std::io::Write;

use super::{io, objects, CmdResult, Command};
use crate::dis::{self, GdbFormatter, Insn, Names};
use crate::expr;
use crate::session::Session;
use target::resolve;

mod target;

pub const USAGE: &str = "dis [-r|-f] [-l] [-u] [-x|-d] [-b N] ADDRESS|SYMBOL[+OFFSET] [COUNT]";

/// Longest x86 instruction.
const MAX_INSN: u64 = 15;
/// The most code one `dis` reads (a function larger than this is cut).
const MAX_BYTES: u64 = 4 << 20;
/// The most instructions one `dis` prints.
const MAX_COUNT: u64 = 1 << 20;

/// The options of one `dis`.
#[derive(Default)]
struct Opts {
    reverse: bool,
    forward: bool,
    lines: bool,
    hex: bool,
    bug_bytes: usize,
    /// `-u`: a user address of the current task.
    user: bool,
}

pub const COMMAND: Command = Command {
    name: "dis",
    aliases: &[],
    summary: "disassemble kernel code, with source lines (-l)",
    usage: USAGE,
    run,
    without_dump: true,
    minimal: true,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let mut o = Opts::default();
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            words.push(a.as_str());
            continue;
        };
        for (i, c) in flags.char_indices() {
            match c {
                'r' => o.reverse = true,
                'f' => o.forward = true,
                'l' => o.lines = true,
                'x' | 'h' => o.hex = true,
                'd' => o.hex = false,
                'U' => {}
                'b' | 'B' => {
                    let n = match &flags[i + 1..] {
                        "" => it.next().ok_or("-b needs a number of bytes")?.as_str(),
                        rest => rest,
                    };
                    o.bug_bytes = n.parse().map_err(|_| format!("-b: not a number: {n}"))?;
                    break;
                }
                'u' => o.user = true,
                's' => {
                    return Err(
                        "-s (source listing) is not supported: kdive prints source lines with -l"
                            .into(),
                    )
                }
                _ => return Err(format!("invalid option: -{c}  (usage: {USAGE})")),
            }
        }
    }
    if o.reverse && o.forward {
        return Err("-r and -f are mutually exclusive".into());
    }
    let (target, count) = match words.as_slice() {
        [a] => (*a, None),
        [a, c] => {
            let n =
                expr::parse_number(c).map_err(|e| format!("invalid count argument: {c}: {e}"))?;
            if n == 0 {
                return Err("invalid count argument: 0".into());
            }
            (*a, Some(n.min(MAX_COUNT)))
        }
        _ => return Err(format!("usage: {USAGE}")),
    };
    if o.lines && s.kernel.vmlinux().is_none() {
        // crash's notice; the disassembly goes on without the lines.
        let _ = out.flush();
        eprintln!("dis: line numbers are not available");
    }
    if o.user {
        return user(s, target, count, &o, out);
    }
    let Some((addr, whole)) = resolve(s, target, out)? else {
        return Ok(());
    };
    let plan = plan(s, addr, whole, count, &o)?;
    let (insns, error) = disassemble(s, &plan, &o);
    print(s, &insns, &o, out)?;
    error.map_or(Ok(()), Err)
}

/// What to disassemble: from `start`, stopping before `end` or after
/// `count` instructions; with `-r`, through the instruction at `target`.
struct Plan {
    start: u64,
    end: u64,
    count: u64,
    /// `-r`: the last instruction is the one at or after this address.
    target: Option<u64>,
    /// `-r` with a count: keep only the last `count`.
    keep_last: Option<u64>,
    /// `-f`: skip the instructions before this address.
    from: Option<u64>,
    /// Whether `end` ends the listing (a function's end), or only the read.
    bounded: bool,
}

fn plan(s: &Session, addr: u64, whole: bool, count: Option<u64>, o: &Opts) -> Result<Plan, String> {
    if !is_kernel_addr(s, addr) {
        return Err(format!("{addr:x} is not a kernel virtual address"));
    }
    let needs_range = o.reverse || o.forward || (whole && count.is_none());
    let range = needs_range.then(|| function_range(s, addr)).flatten();
    if needs_range && range.is_none() {
        return Err(format!(
            "gdb unable to disassemble kernel virtual address {addr:x}"
        ));
    }
    let (lo, hi) = range.unwrap_or((addr, addr));
    let cut = |end: u64| end.min(lo.saturating_add(MAX_BYTES));
    Ok(if o.reverse {
        Plan {
            start: lo,
            end: cut(addr.saturating_add(MAX_INSN)),
            count: MAX_COUNT,
            target: Some(addr),
            keep_last: count,
            from: None,
            bounded: false,
        }
    } else if let Some(n) = count {
        Plan {
            start: addr,
            end: addr.saturating_add(n.saturating_mul(MAX_INSN)),
            count: n,
            target: None,
            keep_last: None,
            from: None,
            bounded: false,
        }
    } else if o.forward {
        Plan {
            start: lo,
            end: cut(hi),
            count: MAX_COUNT,
            target: None,
            keep_last: None,
            from: Some(addr),
            bounded: true,
        }
    } else if whole {
        Plan {
            start: lo,
            end: cut(hi),
            count: MAX_COUNT,
            target: None,
            keep_last: None,
            from: None,
            bounded: true,
        }
    } else {
        Plan {
            start: addr,
            end: addr.saturating_add(MAX_INSN),
            count: 1,
            target: None,
            keep_last: None,
            from: None,
            bounded: false,
        }
    })
}

/// The function holding `addr`: its symbol's address and size, or up to
/// the next symbol when the size is unknown.
fn function_range(s: &Session, addr: u64) -> Option<(u64, u64)> {
    let (sym, _) = s.kernel.symbols().lookup(addr)?;
    if sym.size > 0 {
        return Some((sym.addr, sym.addr + sym.size));
    }
    let next = s.kernel.symbols().range(sym.addr + 1..u64::MAX).first()?;
    Some((sym.addr, next.addr))
}

fn is_kernel_addr(s: &Session, addr: u64) -> bool {
    s.kernel.arch().is_kernel_address(addr)
}

/// `dis -u ADDR [COUNT]`: user code of the current task (`set`), read
/// through its page tables; COUNT instructions (one by default).
fn user(s: &Session, target: &str, count: Option<u64>, o: &Opts, out: &mut dyn Write) -> CmdResult {
    let addr =
        expr::parse_hex(target).map_err(|e| format!("invalid user address: {target}: {e}"))?;
    if is_kernel_addr(s, addr) {
        return Err(format!("{addr:x} is not a user virtual address"));
    }
    let task =
        super::set::current_task(s).ok_or("no current task: the task list could not be read")?;
    let count = count.unwrap_or(1);
    let plan = Plan {
        start: addr,
        end: addr.saturating_add(count.saturating_mul(MAX_INSN)),
        count,
        target: None,
        keep_last: None,
        from: None,
        bounded: false,
    };
    // crash's words for user memory gdb could not read.
    let read = |at: u64, buf: &mut [u8]| {
        s.kernel.read_user(task, at, buf).map_err(|e| {
            ReadFail::User(match e {
                UserReadError::Excluded(a) => {
                    format!("page excluded: user virtual address: {a:x}  type: \"gdb_readmem_callback\"")
                }
                UserReadError::Unreadable(a) => {
                    format!("invalid user virtual address: {a:x}  type: \"gdb_readmem_callback\"")
                }
                UserReadError::NoMm => format!("{}: a kernel thread has no user memory", task.comm),
                other => other.to_string(),
            })
        })
    };
    let (insns, error) = decode(s, &plan, o, &read);
    // gdb's own lines, which crash prints unfiltered for user code: the
    // address indented by gdb's three-column `=> ` marker.
    let mut text = Vec::new();
    print(s, &insns, o, &mut text)?;
    for line in String::from_utf8_lossy(&text).lines() {
        let pad = if line.starts_with("0x") { "   " } else { "" };
        writeln!(out, "{pad}{line}").map_err(super::io)?;
    }
    error.map_or(Ok(()), Err)
}

/// Read the code of `plan` from kernel memory and decode it.
fn disassemble(s: &Session, plan: &Plan, o: &Opts) -> (Vec<Insn>, Option<String>) {
    let read = |at: u64, buf: &mut [u8]| s.kernel.read(at, buf).map_err(ReadFail::Kernel);
    decode(s, plan, o, &read)
}

/// Reads code: kernel memory, or a task's user memory.
type ReadCode<'a> = dyn Fn(u64, &mut [u8]) -> Result<(), ReadFail> + 'a;

/// Why code could not be read: crash's words for kernel memory.
enum ReadFail {
    Kernel(kdive_kernel::MemError),
    User(String),
}

/// Read the code of `plan` with `read` and decode it.
fn decode(s: &Session, plan: &Plan, o: &Opts, read: &ReadCode) -> (Vec<Insn>, Option<String>) {
    let k = &s.kernel;
    // The last instruction before `end` may reach past it.
    let len = plan.end.saturating_sub(plan.start).saturating_add(MAX_INSN);
    // Read as far as the memory goes; decoding stops where it ends.
    let mut code = vec![0u8; len as usize];
    let mut got = 0usize;
    let mut unreadable = None;
    while got < code.len() {
        let at = plan.start + got as u64;
        let n = ((0x1000 - (at & 0xfff)) as usize).min(code.len() - got);
        if let Err(e) = read(at, &mut code[got..got + n]) {
            // The end of a section or of a mapping inside the page: keep
            // the bytes before it.
            got += (0..n)
                .take_while(|&i| read(at + i as u64, &mut code[got + i..got + i + 1]).is_ok())
                .count();
            unreadable = Some(e);
            break;
        }
        got += n;
    }
    code.truncate(got);
    let names = Names::new(k, o.hex);
    let name = |a: u64, jump: bool| names.target(a, jump);
    let mut fmt = GdbFormatter::new(&name);
    let mut insns = Vec::new();
    let mut at = 0usize;
    let finished = loop {
        let addr = plan.start + at as u64;
        if (insns.len() as u64) >= plan.count || (plan.bounded && addr >= plan.end) {
            break true;
        }
        let Some(insn) = dis::decode(&code[at..], addr, 1, &mut fmt).pop() else {
            break false;
        };
        at += insn.len;
        let done = plan.target.is_some_and(|t| insn.addr >= t);
        if o.bug_bytes > 0 && insn.text.starts_with("ud2") {
            at += o.bug_bytes;
        }
        if plan.from.is_none_or(|f| insn.addr >= f) {
            insns.push(insn);
        }
        if done {
            break true;
        }
    };
    // Memory that ends before the listing does: crash's read error, after
    // the instructions before it.
    let error = match unreadable {
        Some(ReadFail::Kernel(e)) if !finished => {
            Some(objects::read_error(&e, plan.start + got as u64))
        }
        Some(ReadFail::User(e)) if !finished => Some(e),
        _ => None,
    };
    if let Some(n) = plan.keep_last {
        let drop = insns.len().saturating_sub(n as usize);
        insns.drain(..drop);
    }
    (insns, error)
}

fn print(s: &Session, insns: &[Insn], o: &Opts, out: &mut dyn Write) -> CmdResult {
    let names = Names::new(&s.kernel, o.hex);
    if s.json {
        return json(s, insns, o, &names, out);
    }
    let mut last_line = String::new();
    for insn in insns {
        if o.lines {
            let line = s.source_line(insn.addr, false).unwrap_or_default();
            if line != last_line {
                writeln!(out, "{line}").map_err(io)?;
                last_line = line;
            }
        }
        let at_symbol = s
            .kernel
            .symbols()
            .lookup(insn.addr)
            .is_some_and(|(_, off)| off == 0);
        let mark = if at_symbol && is_ftrace_nop(&insn.text) {
            " [FTRACE NOP]"
        } else {
            ""
        };
        match names.name(insn.addr) {
            Some(name) => writeln!(out, "{:#x} <{name}>:\t{}{mark}", insn.addr, insn.text),
            None => writeln!(out, "{:#x}:\t{}{mark}", insn.addr, insn.text),
        }
        .map_err(io)?;
    }
    Ok(())
}

/// `dis --json`: per instruction `{address, symbol, length, text,
/// ftrace_nop}`, and `source` with `-l`.
fn json(s: &Session, insns: &[Insn], o: &Opts, names: &Names, out: &mut dyn Write) -> CmdResult {
    let v: Vec<serde_json::Value> = insns
        .iter()
        .map(|insn| {
            let at_symbol = s
                .kernel
                .symbols()
                .lookup(insn.addr)
                .is_some_and(|(_, off)| off == 0);
            let mut v = serde_json::json!({
                "address": super::json::hex(insn.addr),
                "symbol": names.name(insn.addr),
                "length": insn.len,
                "text": insn.text,
                "ftrace_nop": at_symbol && is_ftrace_nop(&insn.text),
            });
            if o.lines {
                v["source"] = s.source_line(insn.addr, false).into();
            }
            v
        })
        .collect();
    super::json::emit(out, &v)
}

/// The 5-byte NOPs ftrace puts over the `call __fentry__` that starts a
/// traceable function, as crash recognizes them.
fn is_ftrace_nop(text: &str) -> bool {
    text.starts_with("nopl   0x0(%rax,%rax,1)")
        || text.starts_with("data32 data32 data32 xchg %ax,%ax")
}
