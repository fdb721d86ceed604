//! `sym`: symbol to address and back, as crash prints it:
//! `ffffffff81a06090 (T) schedule+16 [module] file: line`.

use std::io::Write;

use kdive_debuginfo::Symbol;

use super::{io, CmdResult, Command};
use crate::session::Session;

pub const COMMAND: Command = Command {
    name: "sym",
    aliases: &[],
    summary: "translate a symbol to its address, or an address to its symbol",
    usage: "sym [-l] [-q STRING] SYMBOL|ADDRESS ...",
    run,
    without_dump: true,
    minimal: true,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let mut words = Vec::new();
    let mut list = false;
    let mut query: Vec<&str> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-l" | "-L" => list = true,
            "-q" => query.push(it.next().ok_or("-q needs a string")?),
            "-s" | "-n" | "-p" => {}
            o if o.starts_with('-')
                && o.len() > 1
                && !o[1..].starts_with(|c: char| c.is_ascii_hexdigit()) =>
            {
                return Err(format!(
                    "invalid option: {o}  (usage: sym [-l] [-q STRING] SYMBOL|ADDRESS ...)"
                ))
            }
            w => words.push(w),
        }
    }
    let k = &s.kernel;
    if s.json {
        return json(s, &words, list, &query, out);
    }
    if list {
        for sym in k.symbols().iter() {
            show(s, sym, 0, false, out)?;
        }
    }
    for q in query {
        let mut n = 0;
        for sym in k.symbols().iter().filter(|sym| sym.name.contains(q)) {
            show(s, sym, 0, false, out)?;
            n += 1;
        }
        if n == 0 {
            writeln!(out, "(none found)").map_err(io)?;
        }
    }
    if words.is_empty() && !list && args.iter().all(|a| a != "-q") {
        return Err("usage: sym [-l] [-q STRING] SYMBOL|ADDRESS ...".into());
    }
    for w in words {
        one(s, w, out)?;
    }
    Ok(())
}

/// `sym --json`: for each word, the symbols it names or the one an address
/// is in; `-l` and `-q` as lists.
fn json(s: &Session, words: &[&str], list: bool, query: &[&str], out: &mut dyn Write) -> CmdResult {
    use super::json::symbol;
    let k = &s.kernel;
    let mut v = Vec::new();
    if list {
        v.extend(k.symbols().iter().map(|sym| symbol(s, sym, 0)));
    }
    for q in query {
        let hits = k.symbols().iter().filter(|sym| sym.name.contains(q));
        v.extend(hits.map(|sym| symbol(s, sym, 0)));
    }
    for w in words {
        let named: Vec<serde_json::Value> = k
            .symbols()
            .all_by_name(w)
            .map(|sym| symbol(s, sym, 0))
            .collect();
        if !named.is_empty() {
            v.extend(named);
            continue;
        }
        let hex = w.strip_prefix("0x").unwrap_or(w);
        let found = u64::from_str_radix(hex, 16)
            .ok()
            .filter(|&a| s.kernel.in_symbol_range(a))
            .and_then(|a| k.symbols().lookup(a));
        match found {
            Some((sym, off)) => v.push(symbol(s, sym, off)),
            None => v.push(serde_json::json!({ "query": w, "error": "symbol not found" })),
        }
    }
    super::json::emit(out, &v)
}

/// `sym WORD`: a symbol name first (crash's order), else a hex address.
fn one(s: &Session, w: &str, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let named: Vec<&Symbol> = k.symbols().all_by_name(w).collect();
    if !named.is_empty() {
        for sym in named {
            show(s, sym, 0, true, out)?;
        }
        return Ok(());
    }
    let hex = w.strip_prefix("0x").unwrap_or(w);
    match u64::from_str_radix(hex, 16) {
        // crash: a number outside the kernel's symbols is not an address.
        Ok(addr) if !s.kernel.in_symbol_range(addr) => Err(format!("invalid address: {w}")),
        Ok(addr) => match k.symbols().lookup(addr) {
            Some((sym, off)) => show(s, sym, off, true, out),
            None => writeln!(out, "symbol not found: {w}").map_err(io),
        },
        Err(_) => {
            writeln!(out, "symbol not found: {w}\npossible alternatives:").map_err(io)?;
            let mut n = 0;
            for sym in k.symbols().iter().filter(|sym| sym.name.contains(w)) {
                write!(out, "  ").map_err(io)?;
                show(s, sym, 0, false, out)?;
                n += 1;
            }
            if n == 0 {
                writeln!(out, "  (none found)").map_err(io)?;
            }
            Ok(())
        }
    }
}

/// One symbol line; with `lines`, crash's source file and line for text.
pub(super) fn show(
    s: &Session,
    sym: &Symbol,
    off: u64,
    lines: bool,
    out: &mut dyn Write,
) -> CmdResult {
    let mut line = format!("{:x} ({}) {}", sym.addr + off, sym.kind, sym.name);
    if off != 0 {
        // crash shows offsets in its output radix, decimal by default.
        line.push_str(&format!("+{off}"));
    }
    if let Some(m) = &sym.module {
        line.push_str(&format!(" [{m}]"));
    }
    if lines && s.kernel.is_code(sym) {
        if let Some(loc) = s.source_line(sym.addr + off, off == 0) {
            line.push(' ');
            line.push_str(&loc);
        }
    }
    writeln!(out, "{line}").map_err(io)
}
