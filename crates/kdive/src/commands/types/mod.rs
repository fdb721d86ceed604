//! `struct` and `union`: a data type's declaration (`struct list_head`,
//! `-o` with offsets), or objects at an address as gdb prints them
//! (`struct task_struct ADDR`, `struct task_struct.pid,comm ADDR`, a COUNT
//! of consecutive objects, per-CPU copies with `SYMBOL:cpus`). Errors and
//! their words are crash's (its `cmd_datatype_common()`).
//!
//! The data-type commands live here: `struct`, `union` and `*` in this
//! file, `whatis` in `whatis.rs`; what they share: `datatype.rs` (finding
//! a type by name), `args.rs` (their arguments), `decl.rs` (a type's
//! declaration), `members.rs` (`.member[,member]` lists).

mod args;
pub mod datatype;
mod decl;
pub mod members;
pub mod whatis;

use std::io::Write;

use kdive_debuginfo::types::TypeSource;

use self::args::{is_a_number, stol, StructArgs};
use self::datatype::{lookup, member_offset, Class, Datatype};
use self::decl::{declaration, DeclOptions};
use self::members::{parse_for_member, parse_for_member_extended};
use super::objects::{allocated_size, format_value, read_parts};
use super::rd::format::symbol_not_found;
use super::{io, CmdResult, Command};
use crate::expr::parse_address;
use crate::session::Session;

pub const STRUCT: Command = Command {
    name: "struct",
    aliases: &[],
    summary: "show a structure's definition, or the contents of one in memory",
    usage: "struct NAME[.member[,member]] [-o] [-l offset] [-x|-d] [ADDRESS|SYMBOL][:cpuspec] [COUNT | -c COUNT]",
    run: run_struct,
    without_dump: true,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run_struct(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    run(s, "struct", args, out)
}

pub const UNION: Command = Command {
    name: "union",
    aliases: &[],
    summary: "show a union's definition, or the contents of one in memory",
    usage: "union NAME[.member[,member]] [-o] [-l offset] [-x|-d] [ADDRESS|SYMBOL][:cpuspec] [COUNT | -c COUNT]",
    run: run_union,
    without_dump: true,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run_union(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    run(s, "union", args, out)
}

pub const POINTER_TO: Command = Command {
    name: "*",
    aliases: &[],
    summary: "struct or union, whichever the name is (alias: size)",
    usage: "* NAME[.member] [-o] [-x|-d] [ADDRESS|SYMBOL] [COUNT]",
    run: run_pointer_to,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

/// `*` (and its alias `size`): `struct` or `union`, whichever NAME is.
pub fn run_pointer_to(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let name = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(|w| w.split('.').next().unwrap_or(""));
    let is_union = match (s.kernel.types(), name) {
        (Some(src), Some(n)) => lookup(src, n).is_some_and(|dt| dt.class() == Class::Union),
        _ => false,
    };
    run(s, if is_union { "union" } else { "struct" }, args, out)
}

/// What the session needs when a source of types is missing.
pub fn no_types(s: &Session) -> String {
    match s.kernel.layouts_or_err() {
        Err(why) => format!("no type information: {why}"),
        Ok(_) => "no type information".to_string(),
    }
}

/// A message crash prints and goes on after: in order with the output.
fn warn(cmd: &str, out: &mut dyn Write, msg: &str, failed: &mut bool) {
    let _ = out.flush();
    eprintln!("{cmd}: {msg}");
    *failed = true;
}

/// Where the objects are and how many.
struct Target {
    addr: u64,
    count: i64,
    /// `SYMBOL:cpus`: the CPUs whose copies to print.
    cpus: Option<Vec<usize>>,
}

fn run(s: &mut Session, cmd: &str, args: &[String], out: &mut dyn Write) -> CmdResult {
    if s.json {
        return super::json::as_text(s, "type", args, out, |s, out| run(s, cmd, args, out));
    }
    let a = match args::parse(args) {
        Ok(a) => a,
        Err(e) => {
            let mut text = String::new();
            if let Some(m) = &e.message {
                if !e.usage {
                    return Err(m.clone());
                }
                let _ = out.flush();
                eprintln!("{cmd}: {m}");
            }
            text.push_str(&args::usage(cmd));
            write!(out, "{text}").map_err(io)?;
            s.failures += 1;
            return Ok(());
        }
    };
    if let Some(c) = a.unsupported.first() {
        return Err(format!("option -{c} is not supported yet"));
    }
    let Some(src) = s.kernel.types() else {
        return Err(no_types(s));
    };
    let spec = &a.words[0];
    if spec.ends_with(',') || spec.ends_with('.') {
        return Err(format!("invalid format: {spec}"));
    }
    let list_offset = match &a.list_offset {
        None => 0,
        Some(l) => list_offset(src, l).ok_or_else(|| format!("invalid -l option: {l}"))?,
    };
    let Some(mut target) = target(s, &a, out)? else {
        return Ok(());
    };
    target.addr = target.addr.wrapping_sub(list_offset);
    let (name, members) = match spec.split_once('.') {
        Some((n, m)) => (
            n,
            m.split([',', ' '])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>(),
        ),
        None => (spec.as_str(), Vec::new()),
    };
    let dt =
        lookup(src, name).ok_or_else(|| format!("invalid data structure reference: {name}"))?;
    let wanted = if cmd == "union" {
        Class::Union
    } else {
        Class::Struct
    };
    if dt.class() != wanted {
        return Err(format!("data type mismatch: {name} is not a {cmd}"));
    }
    // `set radix 16` makes hexadecimal the default, as in crash.
    let hex = a.hex.unwrap_or(s.radix == 16);
    let mut failed = false;
    let mut members = members;
    let mut offsets = a.offsets;
    let have_addr = target.count != 0;
    if members.len() > 1 && !have_addr {
        let m = if offsets {
            "-o option not valid with multiple member format"
        } else {
            "multiple member format not supported in this syntax"
        };
        warn(cmd, out, m, &mut failed);
        members.clear();
        offsets = true;
    }
    if members.len() > 1 && offsets {
        return Err("-o option not valid with multiple member format".into());
    }
    if !have_addr {
        let member = members.first().copied();
        if let Some(m) = member {
            if m.contains('.') || member_offset(src, &dt, m).is_none() {
                return Err(format!("invalid data structure reference: {name}.{m}"));
            }
        }
        let opts = DeclOptions {
            offsets,
            member,
            vaddr: None,
            hex,
        };
        write!(out, "{}", declaration(src, &dt, opts)).map_err(io)?;
        return Ok(());
    }
    let job = Job {
        cmd,
        src,
        dt: &dt,
        members: &members,
        offsets,
        hex,
    };
    match &target.cpus {
        None => job.objects(s, target.addr, target.count, out, &mut failed)?,
        Some(cpus) => {
            for &c in cpus {
                let Some(base) = s.kernel.per_cpu_offset(c) else {
                    continue;
                };
                let addr = target.addr.wrapping_add(base);
                writeln!(out, "[{c}]: {addr:x}").map_err(io)?;
                job.objects(s, addr, target.count, out, &mut failed)?;
            }
        }
    }
    if failed {
        s.failures += 1;
    }
    Ok(())
}

/// The address and count arguments; `None` when crash printed "symbol
/// not found" (output, not an error). A count of 0 means no address.
fn target(s: &Session, a: &StructArgs, out: &mut dyn Write) -> Result<Option<Target>, String> {
    let k = &s.kernel;
    let mut addr = None;
    let mut count: Option<i64> = a
        .count
        .as_ref()
        .map(|c| c.trim().parse::<i64>().unwrap_or(0));
    let mut cpuspec: Option<String> = None;
    for w in &a.words[1..] {
        if addr.is_some() && count.is_some() {
            return Err("too many arguments!".into());
        }
        let mut w = w.as_str();
        if addr.is_none() {
            if let Some((x, c)) = w.split_once(':') {
                cpuspec = Some(c.to_string());
                w = x;
            }
        }
        if is_a_number(w) {
            if addr.is_some() {
                count = Some(stol(w).unwrap_or(0) as i64);
                continue;
            }
            let h = w
                .strip_prefix("0x")
                .or_else(|| w.strip_prefix("0X"))
                .unwrap_or(w);
            let v = if h.is_empty() {
                0
            } else {
                u64::from_str_radix(h, 16)
                    .map_err(|_| format!("invalid kernel virtual address: {w}"))?
            };
            if cpuspec.is_none() && v < k.layout().page_offset_base {
                return Err(format!("invalid kernel virtual address: {w}"));
            }
            addr = Some(v);
        } else if let Some(sym) = k.symbols().by_name(w) {
            if cpuspec.is_some() && sym.addr >= k.layout().page_offset_base {
                let _ = out.flush();
                eprintln!("WARNING: {} is not percpu; cpuspec ignored.", sym.name);
                cpuspec = None;
            }
            addr = Some(sym.addr);
        } else if let Ok(v) = parse_address(w, &|n: &str| k.symbol(n)) {
            // Not crash: an expression (`init_task+16`, `(x + 8)`).
            addr = Some(v);
        } else {
            let alternatives: Vec<String> = k
                .symbols()
                .iter()
                .filter(|sym| sym.name.contains(w))
                .map(|sym| format!("{:x} ({}) {}", sym.addr, sym.kind, sym.name))
                .collect();
            write!(out, "{}", symbol_not_found(w, &alternatives)).map_err(io)?;
            return Ok(None);
        }
    }
    let count = match (count, addr) {
        (None, None) => 0,
        (None, Some(_)) => 1,
        (Some(_), None) => return Err("no kernel virtual address argument entered".into()),
        (Some(c), Some(_)) => c,
    };
    let cpus = match cpuspec {
        None => None,
        Some(spec) => Some(cpu_list(s, &spec)?),
    };
    Ok(Some(Target {
        addr: addr.unwrap_or(0),
        count,
        cpus,
    }))
}

/// crash's cpuspec: empty for the panic task's CPU, `a` or `all` for
/// every CPU, else a list like `0,2-3`.
fn cpu_list(s: &Session, spec: &str) -> Result<Vec<usize>, String> {
    let n = s.kernel.nr_cpus().max(1);
    if spec.is_empty() {
        return Ok(vec![s.kernel.panic_cpu().unwrap_or(0)]);
    }
    if spec == "a" || spec == "all" {
        return Ok((0..n).collect());
    }
    let mut cpus = Vec::new();
    for part in spec.split(',') {
        let bad = || format!("invalid cpu specification: {spec}");
        let (lo, hi) = match part.split_once('-') {
            Some((l, h)) => (
                l.parse::<usize>().map_err(|_| bad())?,
                h.parse::<usize>().map_err(|_| bad())?,
            ),
            None => {
                let c = part.parse::<usize>().map_err(|_| bad())?;
                (c, c)
            }
        };
        if lo > hi || hi >= n {
            return Err(format!("invalid cpu number: {}", hi.max(lo)));
        }
        cpus.extend(lo..=hi);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// `-l`: a number, or `struct.member` whose offset it is.
fn list_offset(src: &dyn TypeSource, l: &str) -> Option<u64> {
    if is_a_number(l) {
        return stol(l);
    }
    let (name, member) = l.split_once('.')?;
    member_offset(src, &lookup(src, name)?, member)
}

/// Print one object (`-s STRUCT[.MEMBER,...]` of `list`): as `struct NAME
/// ADDR` or `struct NAME.m1,m2 ADDR` prints it. Messages for parts that
/// could not be read go to stderr; `true` when there were any.
pub fn print_object(
    s: &Session,
    src: &dyn TypeSource,
    spec: &str,
    members: &[String],
    addr: u64,
    hex: bool,
    out: &mut dyn Write,
) -> Result<bool, String> {
    let dt =
        lookup(src, spec).ok_or_else(|| format!("invalid data structure reference: {spec}"))?;
    let cmd = if dt.class() == Class::Union {
        "union"
    } else {
        "struct"
    };
    let members: Vec<&str> = members.iter().map(String::as_str).collect();
    let job = Job {
        cmd,
        src,
        dt: &dt,
        members: &members,
        offsets: false,
        hex,
    };
    let mut failed = false;
    job.objects(s, addr, 1, out, &mut failed)?;
    Ok(failed)
}

/// What to print for each object.
struct Job<'a> {
    cmd: &'a str,
    src: &'a dyn TypeSource,
    dt: &'a Datatype,
    members: &'a [&'a str],
    offsets: bool,
    hex: bool,
}

impl Job<'_> {
    /// crash's `do_datatype_addr()`: COUNT objects from `addr` (a negative
    /// count ends at `addr`), a blank line between them.
    fn objects(
        &self,
        s: &Session,
        addr: u64,
        count: i64,
        out: &mut dyn Write,
        failed: &mut bool,
    ) -> CmdResult {
        let len = self.dt.size;
        let n = count.unsigned_abs();
        let mut addr = addr;
        if count < 0 {
            addr = addr.wrapping_sub(len.wrapping_mul(n)).wrapping_add(len);
        }
        for c in 0..n {
            if c > 0 {
                writeln!(out).map_err(io)?;
            }
            if self.members.is_empty() {
                self.one(s, addr, None, out, failed)?;
            }
            for m in self.members {
                let plain: String = strip_indices(m);
                if member_offset(self.src, self.dt, &plain).is_none() {
                    return Err(format!(
                        "invalid data structure reference: {}.{m}",
                        self.dt.name
                    ));
                }
                self.one(s, addr, Some(m), out, failed)?;
            }
            addr = addr.wrapping_add(len);
        }
        Ok(())
    }

    fn one(
        &self,
        s: &Session,
        addr: u64,
        member: Option<&str>,
        out: &mut dyn Write,
        failed: &mut bool,
    ) -> CmdResult {
        if self.offsets {
            let opts = DeclOptions {
                offsets: true,
                member,
                vaddr: Some(addr),
                hex: self.hex,
            };
            return write!(out, "{}", declaration(self.src, self.dt, opts)).map_err(io);
        }
        let k = &s.kernel;
        let head = format!("{} {} ", self.cmd, self.dt.name);
        let tail = if self.cmd == "union" { "" } else { "\n" };
        // A member too is read with its whole object, as crash does (its
        // gdb prints the object and picks the member's lines out), but
        // only as far as the kernel allocated it: what lies past that
        // prints as zeros when the dump lacks it.
        let end = allocated_size(k, &self.dt.name, self.dt.size);
        let text =
            read_parts(k, addr, self.dt.size).and_then(|bytes| match bytes.missing(0..end) {
                Some(e) => Err(e),
                None => Ok(format!(
                    "{head}{}{tail}",
                    format_value(k, self.src, self.dt.id, &bytes.data, addr, self.hex)
                )),
            });
        match (text, member) {
            (Ok(t), None) => write!(out, "{t}").map_err(io),
            (Err(e), None) => {
                write!(out, "{head}").map_err(io)?;
                warn(self.cmd, out, &e, failed);
                write!(out, "{tail}").map_err(io)
            }
            (Err(e), Some(_)) => {
                warn(self.cmd, out, &e, failed);
                Ok(())
            }
            (Ok(t), Some(m)) if m.contains(['.', '[']) => match parse_for_member_extended(&t, m) {
                Some(lines) => write!(out, "{lines}").map_err(io),
                None => {
                    warn(
                        self.cmd,
                        out,
                        &format!("invalid data structure member reference: {m}"),
                        failed,
                    );
                    Ok(())
                }
            },
            (Ok(t), Some(m)) => write!(out, "{}", parse_for_member(&t, m)).map_err(io),
        }
    }
}

/// `a[1].b` without its indices, to look the path up.
fn strip_indices(m: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in m.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}
