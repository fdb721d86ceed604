//! The walk of crash's `list` command (`cmd_list()` and `do_list()` in
//! crash's tools.c), pure over a reader of memory words.
//!
//! `list [[-o] OFFSET] [-e END] [-s|-S STRUCT[.MEMBER,...]] [-l OFFSET]
//! [-x|-d] [-r] [-h|-H] START`:
//!
//! - without `-h`/`-H`, START is an entry and the next pointer is the word
//!   at entry + OFFSET; the entries themselves are printed;
//! - `-h`: START is a struct with a `list_head` at OFFSET; each step follows
//!   `list_head.next` and prints the struct containing it (the list_head's
//!   address minus OFFSET), START included;
//! - `-H`: START is a standalone `list_head` (a `LIST_HEAD()`), not printed;
//!   an empty one prints `(empty)`. `-O OFFSET` (with `-h`) is the same for
//!   a head embedded at OFFSET in START (`dentry.d_subdirs`);
//! - `-r` walks `prev` instead of `next` (and implies `-h`).
//!
//! The walk stops at NULL (an error under `-h`/`-H`: `invalid list entry:
//! 0`), at END, back at the start or the first entry, or at an entry that
//! points to itself. An entry seen twice stops it with crash's `duplicate
//! list entry: ADDR` (crash prints the entry again first; kdive does not
//! follow the loop even that far). An unreadable pointer stops it with the
//! reader's message, crash's `invalid kernel virtual address: ADDR  type:
//! "list entry"` ([`unreadable`]).
//!
//! kdive's own check: in `list_head` walks, each step's back-pointer
//! (`next->prev`, or `prev->next` with `-r`) must lead back; when it does
//! not, a warning names the entry, and the walk goes on. A walk stops after
//! [`MAX_ENTRIES`] entries.

use std::collections::HashSet;
use std::io::Write;

use kdive_debuginfo::types::{self, Namespace, TypeSource};

use crate::expr::{self, Symbols};

pub const USAGE: &str = "list [[-o] OFFSET | -o STRUCT.MEMBER] [-e END] [-s|-S STRUCT[.MEMBER[,MEMBER]] [-l OFFSET]] [-x|-d] [-r] [-h|-H] START";

/// The most entries one walk prints.
pub const MAX_ENTRIES: usize = 1_000_000;

/// Back-pointer warnings shown before the rest are summed up.
const MAX_WARNINGS: usize = 16;

/// Where kernel virtual addresses start (crash's `IS_KVADDR()` on x86-64).
const KERNEL_START: u64 = 0xffff_8000_0000_0000;

/// What START is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Head {
    /// An entry holding the next pointer at OFFSET.
    #[default]
    None,
    /// `-h`: a struct holding a `list_head` at OFFSET.
    Embedded,
    /// `-H`: a standalone `list_head`, not printed.
    Standalone,
}

/// One `-s`/`-S` argument: `task_struct` or `task_struct.pid,comm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructSpec {
    pub name: String,
    /// Empty for the whole struct.
    pub members: Vec<String>,
}

impl StructSpec {
    pub fn parse(arg: &str) -> StructSpec {
        let (name, members) = arg.split_once('.').unwrap_or((arg, ""));
        let members = members
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect();
        StructSpec {
            name: name.to_string(),
            members,
        }
    }
}

/// `list`'s options, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListArgs {
    pub start: u64,
    /// Of the next pointer in an entry, or (`-h`/`-H`) of the `list_head`.
    pub offset: u64,
    pub end: Option<u64>,
    pub head: Head,
    pub reverse: bool,
    /// `-O`: the offset of a list head embedded in START.
    pub head_offset: Option<u64>,
    pub structs: Vec<StructSpec>,
    /// `-S` (crash reads the members itself) rather than `-s`.
    pub fast: bool,
    /// `-l`: the offset of the link inside the structs `-s` prints.
    pub struct_offset: u64,
    /// `-x` (16) or `-d` (10) for the structs printed.
    pub radix: Option<u32>,
}

/// Reads the pointer-sized word at an address; the second argument is
/// crash's name for the read (`list entry`, `first list entry`, `LIST_HEAD
/// contents`), for the message when it fails ([`unreadable`]).
pub type ReadWord<'a> = dyn FnMut(u64, &str) -> Result<u64, String> + 'a;

/// Prints one `-s`/`-S` struct of an entry: the spec, the struct's address,
/// and where to write (crash's `  pid = 1,` lines).
pub type PrintEntry<'a> = dyn FnMut(&StructSpec, u64, &mut dyn Write) -> Result<(), String> + 'a;

/// crash's message for a read that failed at `addr`.
pub fn unreadable(addr: u64, what: &str) -> String {
    format!("invalid kernel virtual address: {addr:x}  type: \"{what}\"")
}

fn usage(msg: &str) -> String {
    format!("{msg}\nUsage: {USAGE}")
}

/// crash's `IS_A_NUMBER()`: all decimal or all hex digits (`0x` allowed).
fn is_number(s: &str) -> bool {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit())
}

/// crash's `hexadecimal_only()`: a number that can only be hex.
fn hex_only(s: &str) -> bool {
    is_number(s)
        && (s.starts_with("0x")
            || s.starts_with("0X")
            || s.bytes().any(|b| b.is_ascii_alphabetic()))
}

/// `struct.member` (members may nest: `a.b.c`) to the member's byte offset.
pub fn member_offset(types: Option<&dyn TypeSource>, arg: &str) -> Option<u64> {
    let types = types?;
    let (name, path) = arg.split_once('.')?;
    let ty = [Namespace::Struct, Namespace::Union, Namespace::Plain]
        .iter()
        .find_map(|&ns| types.find(ns, name))?;
    Some(types::member(types, ty, path)?.offset_bits / 8)
}

/// Parse `list`'s arguments (after the command name), with crash's rules
/// for telling an offset from a start when `-o` is left out.
pub fn parse_args(
    args: &[String],
    types: Option<&dyn TypeSource>,
    syms: &dyn Symbols,
) -> Result<ListArgs, String> {
    let mut a = ListArgs::default();
    let (mut h, mut big_h, mut offset_set, mut l_set) = (false, false, false, false);
    let mut positional: Vec<&str> = Vec::new();
    let mut i = 0;
    let num = |s: &str| expr::parse_number(s).map_err(|e| format!("{e}"));
    while i < args.len() {
        let w = args[i].as_str();
        i += 1;
        if w == "--" {
            positional.extend(args[i..].iter().map(String::as_str));
            break;
        }
        let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) else {
            positional.push(w);
            continue;
        };
        for (k, c) in cluster.char_indices() {
            match c {
                'B' => {} // Brent's algorithm: the set of seen entries does its job.
                'H' => big_h = true,
                'h' => h = true,
                'r' => a.reverse = true,
                'x' | 'd' => {
                    let r = if c == 'x' { 16 } else { 10 };
                    if a.radix.is_some_and(|x| x != r) {
                        return Err("-d and -x are mutually exclusive".into());
                    }
                    a.radix = Some(r);
                }
                's' | 'S' | 'e' | 'o' | 'O' | 'l' => {
                    let rest = &cluster[k + c.len_utf8()..];
                    let val = if !rest.is_empty() {
                        rest
                    } else if let Some(v) = args.get(i) {
                        i += 1;
                        v.as_str()
                    } else {
                        return Err(usage(&format!("option requires an argument -- '{c}'")));
                    };
                    match c {
                        's' | 'S' => {
                            if !a.structs.is_empty() && a.fast != (c == 'S') {
                                return Err("-S and -s options are mutually exclusive".into());
                            }
                            a.fast = c == 'S';
                            a.structs.push(StructSpec::parse(val));
                        }
                        'e' => {
                            a.end =
                                Some(expr::parse_address(val, syms).map_err(|e| format!("{e}"))?)
                        }
                        'o' | 'O' | 'l' => {
                            let off = if is_number(val) {
                                Some(num(val)?)
                            } else {
                                member_offset(types, val)
                            };
                            let off = off.ok_or_else(|| format!("invalid -{c} argument: {val}"))?;
                            match c {
                                'o' if offset_set => return Err(already(a.offset)),
                                'o' => (a.offset, offset_set) = (off, true),
                                'O' if a.head_offset.is_some() => {
                                    return Err(already(a.head_offset.unwrap_or(off)))
                                }
                                'O' => a.head_offset = Some(off),
                                _ => (a.struct_offset, l_set) = (off, true),
                            }
                        }
                        _ => unreachable!(),
                    }
                    break;
                }
                _ => return Err(usage(&format!("invalid option -- '{c}'"))),
            }
        }
    }
    if positional.len() > 2 {
        return Err(usage("too many arguments"));
    }
    if l_set && a.structs.is_empty() {
        return Err(usage("-l option can only be used with -s or -S option"));
    }
    let mut start: Option<u64> = None;
    for (idx, &arg) in positional.iter().enumerate() {
        let next = positional.get(idx + 1).copied();
        if arg.contains('.') {
            if let Some(off) = member_offset(types, arg) {
                if offset_set {
                    return Err(already(a.offset));
                }
                (a.offset, offset_set) = (off, true);
                continue;
            }
        }
        let set_start = |start: &mut Option<u64>, v: u64| {
            if start.is_some() {
                return Err("list start already entered".to_string());
            }
            *start = Some(v);
            Ok(())
        };
        if let Some(v) = syms.value(arg) {
            set_start(&mut start, v)?;
            continue;
        }
        if !is_number(arg) {
            match expr::eval(arg, syms) {
                Ok(v) if v >= KERNEL_START => set_start(&mut start, v)?,
                _ => return Err(format!("invalid argument: {arg}")),
            }
            continue;
        }
        if start.is_some() {
            (a.offset, offset_set) = (num(arg)?, true);
            break;
        }
        let Some(next) = next.filter(|_| !offset_set) else {
            let v = expr::parse_hex(arg).map_err(|e| format!("{e}"))?;
            if v < KERNEL_START {
                return Err(format!("invalid kernel virtual address: {arg}"));
            }
            start = Some(v);
            break;
        };
        // Two words, the first a number: it is the offset when the second
        // is a symbol, or when it cannot be an address.
        if syms.value(next).is_none() {
            if !is_number(next) && expr::eval(next, syms).is_err() && !next.contains('.') {
                return Err(format!("symbol not found: {next}"));
            }
            if hex_only(arg) {
                let v = expr::parse_hex(arg).map_err(|e| format!("{e}"))?;
                if v >= KERNEL_START {
                    start = Some(v);
                    continue;
                }
            }
        }
        (a.offset, offset_set) = (num(arg)?, true);
    }
    a.start = start.ok_or_else(|| usage("starting address required"))?;
    if offset_set && l_set {
        return Err(usage("-l and -o are mutually exclusive"));
    }
    a.head = match (big_h, h || a.reverse) {
        (true, _) => Head::Standalone,
        (false, true) => Head::Embedded,
        _ => Head::None,
    };
    Ok(a)
}

fn already(off: u64) -> String {
    format!("offset value {off} ({off:#x}) already entered")
}

/// Walk the list, writing each entry's address (`ffff888003a2c040`, a line)
/// and, for each `-s` struct, what `print` writes. Returns how many entries
/// were printed; an error is the message after `list: `.
pub fn walk(
    a: &ListArgs,
    read: &mut ReadWord,
    print: &mut PrintEntry,
    out: &mut dyn Write,
) -> Result<usize, String> {
    walk_limited(a, read, print, out, MAX_ENTRIES, &mut Vec::new())
}

/// [`walk`], keeping each entry's address in `entries` (for JSON).
pub fn walk_keeping(
    a: &ListArgs,
    read: &mut ReadWord,
    print: &mut PrintEntry,
    out: &mut dyn Write,
    entries: &mut Vec<u64>,
) -> Result<usize, String> {
    walk_limited(a, read, print, out, MAX_ENTRIES, entries)
}

fn walk_limited(
    a: &ListArgs,
    read: &mut ReadWord,
    print: &mut PrintEntry,
    out: &mut dyn Write,
    limit: usize,
    entries: &mut Vec<u64>,
) -> Result<usize, String> {
    let io = |e: std::io::Error| format!("write error: {e}");
    let linked = a.head != Head::None || a.reverse;
    // In list_head walks the link is `next` (or `prev`) of the list_head,
    // and entries print as the struct around it.
    let (link, container) = if linked {
        (if a.reverse { 8 } else { 0 }, a.offset)
    } else {
        (a.offset, 0)
    };
    let mut start = a.start;
    let mut end = a.end;
    let mut checks = BackPointers { link, shown: 0 };
    if linked {
        // With -O, crash reads the head's `next` even under -r; the head's
        // `prev` is the right start for a reverse walk, so kdive reads that.
        let head = match (a.head, a.head_offset) {
            (Head::Standalone, _) => Some(start),
            (_, Some(o)) => Some(start.wrapping_add(o)),
            _ => None,
        };
        match head {
            Some(head) => {
                end.get_or_insert(head);
                start = read(head.wrapping_add(link), "LIST_HEAD contents")?;
                if Some(start) == end {
                    writeln!(out, "(empty)").map_err(io)?;
                    return Ok(0);
                }
                checks.check(read, out, head, start, "list head", head)?;
            }
            None => start = start.wrapping_add(container),
        }
    }
    let first = read(start.wrapping_add(link), "first list entry")?;
    let mut seen = HashSet::new();
    let mut next = start;
    let mut count = 0;
    loop {
        let entry = next.wrapping_sub(container);
        if next != 0 && !seen.insert(entry) {
            return Err(format!("duplicate list entry: {next:x}"));
        }
        writeln!(out, "{entry:x}").map_err(io)?;
        entries.push(entry);
        for s in &a.structs {
            print(s, entry.wrapping_sub(a.struct_offset), out)?;
        }
        count += 1;
        if count >= limit {
            return Err(format!(
                "stopped after {count} entries (kdive's limit): is the list corrupt?"
            ));
        }
        let last = next;
        next = read(next.wrapping_add(link), "list entry")?;
        if next == 0 {
            if linked {
                return Err("invalid list entry: 0".into());
            }
            break;
        }
        if linked {
            checks.check(read, out, last, next, "list entry", entry)?;
        }
        if Some(next) == end || next == start || next == last || (next == first && count != 1) {
            break;
        }
    }
    Ok(count)
}

/// kdive's check of `list_head` back-pointers.
struct BackPointers {
    /// Offset of the link followed (0: next, 8: prev); the back-pointer is
    /// the other one.
    link: u64,
    shown: usize,
}

impl BackPointers {
    /// The link `from` -> `to` must have `to`'s back-pointer at `from`.
    /// An unreadable back-pointer is left to the walk to report.
    fn check(
        &mut self,
        read: &mut ReadWord,
        out: &mut dyn Write,
        from: u64,
        to: u64,
        what: &str,
        name: u64,
    ) -> Result<(), String> {
        let back_at = to.wrapping_add(8 - self.link);
        let Ok(back) = read(back_at, "list entry") else {
            return Ok(());
        };
        if back == from {
            return Ok(());
        }
        self.shown += 1;
        let (fwd, bwd) = if self.link == 0 {
            ("next", "prev")
        } else {
            ("prev", "next")
        };
        let text = match self.shown {
            n if n <= MAX_WARNINGS => {
                format!(
                    "list: WARNING: {what} {name:x}: {fwd} {to:x} has {bwd} {back:x}, not {from:x}"
                )
            }
            n if n == MAX_WARNINGS + 1 => {
                "list: WARNING: more broken back-pointers not shown".into()
            }
            _ => return Ok(()),
        };
        writeln!(out, "{text}").map_err(|e| format!("write error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Arc;

    use kdive_debuginfo::types::{Global, IntEncoding, Kind, Member, Type, TypeId};

    // Offsets of the fake task_struct (not the real 6.1 ones).
    const TASKS: u64 = 0x4e8;
    const PID: u64 = 0x5c0;
    const INIT_TASK: u64 = 0xffff_ffff_a1e1_aa40;

    /// `struct list_head` (id 1, its pointer 2) and `struct task_struct` (3).
    struct Types;

    impl TypeSource for Types {
        fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
            match (ns, name) {
                (Namespace::Struct, "list_head") => Some(TypeId(1)),
                (Namespace::Struct, "task_struct") => Some(TypeId(3)),
                _ => None,
            }
        }
        fn get(&self, id: TypeId) -> Option<Arc<Type>> {
            let m = |name: &str, ty, off: u64| Member {
                name: Some(name.into()),
                ty: TypeId(ty),
                offset_bits: off * 8,
                bit_size: None,
            };
            let (name, size, kind) = match id.0 {
                1 => (
                    Some("list_head"),
                    16,
                    Kind::Struct {
                        members: vec![m("next", 2, 0), m("prev", 2, 8)],
                    },
                ),
                2 => (None, 8, Kind::Pointer { target: TypeId(1) }),
                3 => (
                    Some("task_struct"),
                    0x800,
                    Kind::Struct {
                        members: vec![m("tasks", 1, TASKS), m("pid", 4, PID)],
                    },
                ),
                4 => (
                    Some("int"),
                    4,
                    Kind::Int {
                        signed: true,
                        encoding: IntEncoding::Plain,
                    },
                ),
                _ => return None,
            };
            Some(Arc::new(Type {
                name: name.map(str::to_string),
                size: Some(size),
                kind,
            }))
        }
        fn variable(&self, _: &str) -> Option<Global> {
            None
        }
        fn function(&self, _: &str) -> Option<Global> {
            None
        }
        fn describe(&self) -> String {
            "test".into()
        }
    }

    /// Memory as words, and each fake task's pid and comm.
    #[derive(Default)]
    struct Mem {
        words: HashMap<u64, u64>,
        tasks: HashMap<u64, (i32, Vec<u8>)>,
    }

    impl Mem {
        /// A ring of `list_head`s at these addresses, `next` in order.
        fn ring(&mut self, heads: &[u64]) {
            for (i, &h) in heads.iter().enumerate() {
                self.words.insert(h, heads[(i + 1) % heads.len()]);
                self.words
                    .insert(h + 8, heads[(i + heads.len() - 1) % heads.len()]);
            }
        }
    }

    fn syms(name: &str) -> Option<u64> {
        match name {
            "init_task" => Some(INIT_TASK),
            "modules" => Some(0xffff_ffff_a1f0_0000),
            _ => None,
        }
    }

    fn parse(line: &str) -> Result<ListArgs, String> {
        let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse_args(&args, Some(&Types), &syms)
    }

    /// gdb's text for a `char [16]`: one final NUL dropped, the rest octal.
    fn comm_text(bytes: &[u8]) -> String {
        let b = bytes.strip_suffix(&[0]).unwrap_or(bytes);
        b.iter()
            .map(|&c| {
                if (0x20..0x7f).contains(&c) {
                    (c as char).to_string()
                } else {
                    format!("\\{c:03o}")
                }
            })
            .collect()
    }

    /// Run `list LINE` over `mem`, printing structs as crash does for
    /// `task_struct.pid,comm`: the output, and the walk's result.
    fn run(line: &str, mem: &Mem) -> (String, Result<usize, String>) {
        let a = parse(line).unwrap();
        walk_with(&a, mem, MAX_ENTRIES)
    }

    fn walk_with(a: &ListArgs, mem: &Mem, limit: usize) -> (String, Result<usize, String>) {
        let mut read = |addr: u64, what: &str| {
            mem.words
                .get(&addr)
                .copied()
                .ok_or_else(|| unreadable(addr, what))
        };
        let mut print = |s: &StructSpec, addr: u64, out: &mut dyn Write| {
            let (pid, comm) = mem
                .tasks
                .get(&addr)
                .ok_or_else(|| unreadable(addr, "gdb_readmem_callback"))?;
            for m in &s.members {
                let line = match m.as_str() {
                    "pid" => format!("  pid = {pid},"),
                    _ => format!("  comm = \"{}\",", comm_text(comm)),
                };
                writeln!(out, "{line}").map_err(|e| e.to_string())?;
            }
            Ok(())
        };
        let mut out = Vec::new();
        let r = walk_limited(a, &mut read, &mut print, &mut out, limit, &mut Vec::new());
        (String::from_utf8(out).unwrap(), r)
    }

    /// Fake memory shaped like crash's output for `list task_struct.tasks
    /// -s task_struct.pid,comm -h init_task`: tasks at the addresses
    /// printed, linked in that order.
    fn memory_from(output: &str) -> Mem {
        let mut mem = Mem::default();
        let mut heads = Vec::new();
        let mut lines = output.lines();
        while let Some(addr) = lines.next() {
            let addr = u64::from_str_radix(addr, 16).unwrap();
            let pid = lines.next().unwrap().trim().strip_prefix("pid = ").unwrap();
            let comm = lines
                .next()
                .unwrap()
                .trim()
                .strip_prefix("comm = \"")
                .unwrap();
            let comm = comm.strip_suffix("\",").unwrap();
            let mut bytes = comm.replace("\\000", "\0").into_bytes();
            bytes.resize(16, 0);
            mem.tasks
                .insert(addr, (pid.trim_end_matches(',').parse().unwrap(), bytes));
            heads.push(addr + TASKS);
        }
        mem.ring(&heads);
        mem
    }

    /// The start and end of crash 8.0.2's output on the corpus's 6.1 dump.
    const REFERENCE: &str = r#"ffffffffa1e1aa40
  pid = 0,
  comm = "swapper/0\000\000\000\000\000\000",
ff29412bc11f0000
  pid = 1,
  comm = "init\000\000\000\000\000\000\000\000\000\000\000",
ff29412bc11f4180
  pid = 2,
  comm = "kthreadd\000\000\000\000\000\000\000",
ff29412bc123a0c0
  pid = 11,
  comm = "rcu_tasks_kthre",
ff29412bc2178000
  pid = 119,
  comm = "sleep\000\000\000\000\000\000\000\000\000\000",
"#;

    #[test]
    fn walks_tasks_as_crash_prints_them() {
        let mem = memory_from(REFERENCE);
        let (out, r) = run(
            "task_struct.tasks -s task_struct.pid,comm -h init_task",
            &mem,
        );
        assert_eq!(out, REFERENCE);
        assert_eq!(r, Ok(5));
        // -H from init_task's own list_head: the same tasks but init_task.
        let (out, _) = run(
            &format!("-H {:x} -o task_struct.tasks", INIT_TASK + TASKS),
            &mem,
        );
        assert_eq!(
            out,
            "ff29412bc11f0000\nff29412bc11f4180\nff29412bc123a0c0\nff29412bc2178000\n"
        );
        // -r: backwards from init_task.
        let (out, _) = run("-r -o task_struct.tasks init_task", &mem);
        assert_eq!(
            out,
            "ffffffffa1e1aa40\nff29412bc2178000\nff29412bc123a0c0\nff29412bc11f4180\nff29412bc11f0000\n"
        );
    }

    /// The whole transcript of the corpus, when there is one.
    #[test]
    fn walks_like_the_corpus_transcripts() {
        for (cmd, output) in kdive_testkit::crash_transcripts("list") {
            if cmd != "list task_struct.tasks -s task_struct.pid,comm -h init_task" {
                continue;
            }
            let mem = memory_from(&output);
            // init_task is where this kernel had it: the first entry.
            let init_task = u64::from_str_radix(output.lines().next().unwrap(), 16).unwrap();
            let syms = |name: &str| (name == "init_task").then_some(init_task);
            let args: Vec<String> = cmd.split_whitespace().skip(1).map(str::to_string).collect();
            let a = parse_args(&args, Some(&Types), &syms).unwrap();
            let (out, r) = walk_with(&a, &mem, MAX_ENTRIES);
            assert_eq!(out, output);
            assert_eq!(r, Ok(output.lines().count() / 3));
        }
    }

    #[test]
    fn options_as_crash_reads_them() {
        let a = parse("task_struct.tasks -s task_struct.pid,comm -h init_task").unwrap();
        let spec = StructSpec {
            name: "task_struct".into(),
            members: vec!["pid".into(), "comm".into()],
        };
        let want = ListArgs {
            start: INIT_TASK,
            offset: TASKS,
            head: Head::Embedded,
            structs: vec![spec],
            ..Default::default()
        };
        assert_eq!(a, want);
        let plain = |start, offset| ListArgs {
            start,
            offset,
            ..Default::default()
        };
        assert_eq!(
            parse("-o 8 ffff888003a2c040"),
            Ok(plain(0xffff888003a2c040, 8))
        );
        assert_eq!(
            parse("8 ffff888003a2c040"),
            Ok(plain(0xffff888003a2c040, 8))
        );
        assert_eq!(
            parse("ffff888003a2c040 8"),
            Ok(plain(0xffff888003a2c040, 8))
        );
        assert_eq!(parse("ffff888003a2c040"), Ok(plain(0xffff888003a2c040, 0)));
        assert_eq!(parse("16 init_task"), Ok(plain(INIT_TASK, 16)));
        assert_eq!(
            parse("-o list_head.prev init_task"),
            Ok(plain(INIT_TASK, 8))
        );
        assert_eq!(
            parse("-otask_struct.pid (init_task+8)"),
            Ok(plain(INIT_TASK + 8, PID))
        );
        let a = parse("-H modules").unwrap();
        assert_eq!((a.head, a.start), (Head::Standalone, 0xffff_ffff_a1f0_0000));
        let a = parse("-rx -e ffff888003a2c040 init_task -S task_struct -l 8").unwrap();
        assert_eq!(
            (a.head, a.reverse, a.radix, a.fast),
            (Head::Embedded, true, Some(16), true)
        );
        assert_eq!((a.end, a.struct_offset), (Some(0xffff888003a2c040), 8));
        let a = parse("-O task_struct.tasks -h init_task").unwrap();
        assert_eq!(a.head_offset, Some(TASKS));
    }

    #[test]
    fn option_errors() {
        let u = |m: &str| Err(format!("{m}\nUsage: {USAGE}"));
        assert_eq!(parse(""), u("starting address required"));
        assert_eq!(
            parse("-o 8 -o 8 init_task"),
            Err("offset value 8 (0x8) already entered".into())
        );
        assert_eq!(parse("a b c"), u("too many arguments"));
        assert_eq!(
            parse("-s task_struct -S task_struct init_task"),
            Err("-S and -s options are mutually exclusive".into())
        );
        assert_eq!(
            parse("-x -d init_task"),
            Err("-d and -x are mutually exclusive".into())
        );
        assert_eq!(
            parse("-l 8 init_task"),
            u("-l option can only be used with -s or -S option")
        );
        assert_eq!(
            parse("-s task_struct -l 8 -o 8 init_task"),
            u("-l and -o are mutually exclusive")
        );
        assert_eq!(parse("-q init_task"), u("invalid option -- 'q'"));
        assert_eq!(
            parse("init_task -o"),
            u("option requires an argument -- 'o'")
        );
        assert_eq!(
            parse("-o task_struct.nope init_task"),
            Err("invalid -o argument: task_struct.nope".into())
        );
        assert_eq!(parse("nosuch"), Err("invalid argument: nosuch".into()));
        assert_eq!(
            parse("task_struct.nope init_task"),
            Err("invalid argument: task_struct.nope".into())
        );
        assert_eq!(
            parse("1000"),
            Err("invalid kernel virtual address: 1000".into())
        );
        assert_eq!(parse("8 nosuch"), Err("symbol not found: nosuch".into()));
        assert_eq!(
            parse("init_task init_task"),
            Err("list start already entered".into())
        );
    }

    const A: u64 = 0xffff_8880_0000_1000;
    const B: u64 = 0xffff_8880_0000_2000;
    const C: u64 = 0xffff_8880_0000_3000;
    const D: u64 = 0xffff_8880_0000_4000;

    #[test]
    fn singly_linked_lists() {
        let mut mem = Mem::default();
        // Next pointer at +0x10; C ends the list with NULL.
        mem.words
            .extend([(A + 0x10, B), (B + 0x10, C), (C + 0x10, 0)]);
        let (out, r) = run(&format!("-o 0x10 {A:x}"), &mem);
        assert_eq!(
            (out.as_str(), r),
            (
                "ffff888000001000\nffff888000002000\nffff888000003000\n",
                Ok(3)
            )
        );
        let (out, _) = run(&format!("0x10 {A:x} -e {C:x}"), &mem);
        assert_eq!(out, "ffff888000001000\nffff888000002000\n");
        // An entry pointing to itself ends the list quietly, as in crash.
        mem.words.insert(C + 0x10, C);
        assert_eq!(run(&format!("-o 16 {A:x}"), &mem).1, Ok(3));
    }

    #[test]
    fn loops_and_bad_pointers_are_reported() {
        let mut mem = Mem::default();
        // A -> B -> C -> B ends quietly (crash stops at the entry START
        // points to), but A -> B -> C -> D -> C is a loop.
        mem.words.extend([(A, B), (B, C), (C, B)]);
        assert_eq!(run(&format!("{A:x}"), &mem).1, Ok(3));
        mem.words.extend([(C, D), (D, C)]);
        let (out, r) = run(&format!("{A:x}"), &mem);
        assert_eq!(
            out,
            "ffff888000001000\nffff888000002000\nffff888000003000\nffff888000004000\n"
        );
        assert_eq!(r, Err("duplicate list entry: ffff888000003000".into()));
        // An unreadable next pointer, as crash words it.
        mem.words.insert(D, 0xffff_8880_dead_0000);
        let (out, r) = run(&format!("{A:x}"), &mem);
        assert_eq!(out.lines().last(), Some("ffff8880dead0000"));
        assert_eq!(
            r,
            Err("invalid kernel virtual address: ffff8880dead0000  type: \"list entry\"".into())
        );
        let (out, r) = run("ffff8880beef0000", &mem);
        assert_eq!(
            (out.as_str(), r),
            (
                "",
                Err(
                    "invalid kernel virtual address: ffff8880beef0000  type: \"first list entry\""
                        .into()
                )
            )
        );
        // NULL inside a list_head list is an error.
        let mut mem = Mem::default();
        mem.words.extend([(A, B), (B, 0), (B + 8, A)]);
        assert_eq!(
            run(&format!("-h {A:x}"), &mem).1,
            Err("invalid list entry: 0".into())
        );
    }

    #[test]
    fn list_heads() {
        let mut mem = Mem::default();
        let head = 0xffff_ffff_a1f0_0000;
        mem.ring(&[head, A + 0x20, B + 0x20, C + 0x20]);
        let (out, r) = run(&format!("-H {head:x} -o 0x20"), &mem);
        assert_eq!(
            (out.as_str(), r),
            (
                "ffff888000001000\nffff888000002000\nffff888000003000\n",
                Ok(3)
            )
        );
        let (out, _) = run(&format!("-H {head:x} -o 0x20 -r"), &mem);
        assert_eq!(
            out,
            "ffff888000003000\nffff888000002000\nffff888000001000\n"
        );
        let (out, _) = run(&format!("-h {:x} -o 0x20", B), &mem);
        assert_eq!(out, format!("{B:x}\n{C:x}\n{:x}\n{A:x}\n", head - 0x20));
        // An empty LIST_HEAD().
        mem.ring(&[head]);
        assert_eq!(
            run(&format!("-H {head:x}"), &mem),
            ("(empty)\n".into(), Ok(0))
        );
        assert_eq!(
            run("-H ffffffffa1f10000", &mem).1,
            Err(unreadable(0xffff_ffff_a1f1_0000, "LIST_HEAD contents"))
        );
    }

    #[test]
    fn broken_back_pointers_are_named() {
        let mut mem = Mem::default();
        let head = 0xffff_ffff_a1f0_0000;
        mem.ring(&[head, A, B, C]);
        // B's prev should be A.
        mem.words.insert(B + 8, C);
        let (out, r) = run(&format!("-H {head:x}"), &mem);
        let want = "ffff888000001000\n\
                    list: WARNING: list entry ffff888000001000: next ffff888000002000 has prev ffff888000003000, not ffff888000001000\n\
                    ffff888000002000\nffff888000003000\n";
        assert_eq!((out.as_str(), r), (want, Ok(3)));
        // The head's own link is checked too.
        mem.words.insert(A + 8, C);
        let (out, _) = run(&format!("-H {head:x}"), &mem);
        assert!(out.starts_with("list: WARNING: list head ffffffffa1f00000: next ffff888000001000 has prev ffff888000003000, not ffffffffa1f00000\n"), "{out}");
    }

    #[test]
    fn long_lists_stop_at_the_limit() {
        // Every entry points to a new one: no loop, no end.
        let mut read = |addr: u64, _: &str| Ok(addr + 0x40);
        let mut print = |_: &StructSpec, _: u64, _: &mut dyn Write| Ok(());
        let a = ListArgs {
            start: A,
            ..Default::default()
        };
        let mut out = Vec::new();
        let r = walk_limited(&a, &mut read, &mut print, &mut out, 1000, &mut Vec::new());
        assert_eq!(
            r,
            Err("stopped after 1000 entries (kdive's limit): is the list corrupt?".into())
        );
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1000);
        // And many warnings are summed up.
        let mut read = |addr: u64, _: &str| Ok(if addr % 0x40 == 8 { 1 } else { addr + 0x40 });
        let a = ListArgs {
            start: A,
            head: Head::Embedded,
            ..Default::default()
        };
        let mut out = Vec::new();
        let _ = walk_limited(&a, &mut read, &mut print, &mut out, 100, &mut Vec::new());
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("WARNING").count(), MAX_WARNINGS + 1);
    }
}
