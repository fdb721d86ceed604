//! The address `dis` starts at, read from its argument as crash reads it
//! (`cmd_dis()` and `resolve_text_symbol()` in crash's kernel.c).

use std::io::Write;

use kdive_debuginfo::Symbol;

use super::super::{io, sym};
use crate::expr;
use crate::session::Session;

/// `ARG` as crash reads it: an expression (`schedule+8`), a hex address
/// that is not also a symbol's name, or a symbol. Also whether it names a
/// function's start (a text symbol, or a hex address where one starts):
/// without a count, the whole function is shown.
pub(super) fn resolve(
    s: &Session,
    arg: &str,
    out: &mut dyn Write,
) -> Result<Option<(u64, bool)>, String> {
    let k = &s.kernel;
    let syms = |name: &str| k.symbol(name);
    let is_start = |addr: u64| {
        k.symbols()
            .lookup(addr)
            .is_some_and(|(sym, off)| off == 0 && k.is_code(sym))
    };
    const OPERATORS: &str = "()+-*/%&|^<>~";
    if arg.contains(|c: char| OPERATORS.contains(c)) {
        // `NAME+OFF` of a name several functions have is ambiguous too.
        let first = arg
            .trim_start_matches('(')
            .split(|c: char| c == ' ' || OPERATORS.contains(c));
        if let Some(dups) = first
            .into_iter()
            .next()
            .and_then(|name| duplicates(s, name))
        {
            return Err(dups);
        }
        let addr = expr::eval(arg, &syms).map_err(|e| format!("{arg}: {e}"))?;
        return Ok(Some((addr, false)));
    }
    if k.symbols().by_name(arg).is_none() {
        if let Ok(addr) = expr::parse_hex(arg) {
            return Ok(Some((addr, is_start(addr))));
        }
        writeln!(out, "symbol not found: {arg}\npossible alternatives:").map_err(io)?;
        let mut n = 0;
        for sym in k
            .symbols()
            .iter()
            .filter(|sym| sym.name.contains(arg))
            .take(1000)
        {
            write!(out, "  ").map_err(io)?;
            sym::show(s, sym, 0, false, out)?;
            n += 1;
        }
        if n == 0 {
            writeln!(out, "  (none found)").map_err(io)?;
        }
        return Ok(None);
    }
    if let Some(dups) = duplicates(s, arg) {
        return Err(dups);
    }
    let text: Vec<&Symbol> = k
        .symbols()
        .all_by_name(arg)
        .filter(|x| k.is_code(x))
        .collect();
    match text.first() {
        Some(sym) => Ok(Some((sym.addr, true))),
        None => Ok(Some((k.symbol(arg).unwrap_or(0), false))),
    }
}

/// crash refuses a name several functions have (static functions of one
/// name in different files), listing them: their addresses tell them apart.
fn duplicates(s: &Session, name: &str) -> Option<String> {
    let text: Vec<&Symbol> = (s.kernel.symbols().all_by_name(name))
        .filter(|x| s.kernel.is_code(x))
        .collect();
    if text.len() < 2 {
        return None;
    }
    let mut list = Vec::new();
    for sym in text {
        let _ = sym::show(s, sym, 0, true, &mut list);
    }
    Some(format!(
        "{name}: duplicate text symbols found:\n{}",
        String::from_utf8_lossy(&list).trim_end()
    ))
}
