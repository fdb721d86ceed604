//! `list`: walk a linked list in the dump, printing each entry's address
//! and, with `-s`, the structure around it. The walk itself (options,
//! stop rules, loops and broken back-pointers) is in [`self::walk`];
//! this joins it to the kernel's memory and the struct printer.

mod walk;

use std::io::Write;

use self::walk::{unreadable, StructSpec};
use super::types::{no_types, print_object};
use super::{CmdResult, Command};
use crate::session::Session;

pub use walk::USAGE;

pub const COMMAND: Command = Command {
    name: "list",
    aliases: &[],
    summary: "walk a linked list, showing each entry and optionally the structure around it",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let types = s.kernel.types();
    let syms = |n: &str| s.kernel.symbol(n);
    let a = walk::parse_args(args, types, &syms)?;
    if !a.structs.is_empty() && types.is_none() {
        return Err(no_types(s));
    }
    let k = &s.kernel;
    let mut read = |addr: u64, what: &str| k.read_u64(addr).map_err(|_| unreadable(addr, what));
    let mut failed = false;
    let hex = a.radix == Some(16);
    let json = s.json;
    // JSON: each `-s` print's text kept apart, `structs.len()` per entry.
    let mut texts: Vec<String> = Vec::new();
    let mut print = |spec: &StructSpec, addr: u64, out: &mut dyn Write| -> Result<(), String> {
        let src = types.ok_or("no type information")?;
        if json {
            let mut buf = Vec::new();
            failed |= print_object(s, src, &spec.name, &spec.members, addr, hex, &mut buf)?;
            texts.push(String::from_utf8_lossy(&buf).into_owned());
        } else {
            failed |= print_object(s, src, &spec.name, &spec.members, addr, hex, out)?;
        }
        Ok(())
    };
    if !json {
        walk::walk(&a, &mut read, &mut print, out)?;
    } else {
        let (mut text, mut entries) = (Vec::new(), Vec::new());
        walk::walk_keeping(&a, &mut read, &mut print, &mut text, &mut entries)?;
        // The back-pointer warnings the text shows among the entries.
        for l in String::from_utf8_lossy(&text).lines() {
            if l.starts_with("list: WARNING") {
                eprintln!("{l}");
            }
        }
        emit_entries(&entries, &texts, a.structs.len(), out)?;
    }
    if failed {
        s.failures += 1;
    }
    Ok(())
}

/// `list --json`: the entries' addresses in order; with `-s`, per entry
/// `{address, text}`, the text what the text mode prints under it.
fn emit_entries(entries: &[u64], texts: &[String], per: usize, out: &mut dyn Write) -> CmdResult {
    use super::json::{emit, hex};
    if per == 0 {
        let v: Vec<String> = entries.iter().map(|&e| hex(e)).collect();
        return emit(out, &v);
    }
    let v: Vec<serde_json::Value> = entries
        .iter()
        .zip(texts.chunks(per))
        .map(|(&e, t)| serde_json::json!({ "address": hex(e), "text": t.concat() }))
        .collect();
    emit(out, &v)
}
