//! `bt -t`/`-T` (the text addresses on a task's stacks) and `bt -e` (the
//! exception frames on them), as crash prints them: searches of the stack
//! words, not the unwind, for when the unwind cannot be trusted.

use std::io::Write;

use kdive_arch::PtRegs;
use kdive_kernel::stack::{Backtrace, Stack};

use super::format::{print_regs, Options};
use crate::commands::{io, CmdResult};
use crate::session::Session;

/// The stacks the backtrace's frames are on, in the order it reached them,
/// each with the lowest frame address on it; then the task's own stack if
/// no frame was on it.
fn stacks_in_order(bt: &Backtrace) -> Vec<(Stack, u64)> {
    let mut out: Vec<(Stack, u64)> = Vec::new();
    for f in &bt.frames {
        if let Some(st) = bt.stacks.iter().find(|s| s.contains(f.slot)) {
            match out.iter_mut().find(|(s, _)| s == st) {
                Some((_, low)) => *low = (*low).min(f.slot),
                None => out.push((*st, f.slot)),
            }
        }
    }
    for st in &bt.stacks {
        if st.kind == kdive_kernel::stack::StackKind::Task && !out.iter().any(|(s, _)| s == st) {
            out.push((*st, st.base));
        }
    }
    out
}

/// The words of `from..to` that could be read, page by page.
fn words(s: &Session, from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut addr = from & !7;
    while addr < to {
        let page_end = (addr | 0xfff).saturating_add(1).min(to);
        let mut buf = vec![0u8; (page_end - addr) as usize];
        if s.kernel.read(addr, &mut buf).is_ok() {
            for (i, c) in buf.chunks_exact(8).enumerate() {
                out.push((
                    addr.wrapping_add(8 * i as u64),
                    u64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
                ));
            }
        }
        addr = page_end;
    }
    out
}

/// `-t`/`-T`: every word that is a kernel text address, from the frames
/// up (`-T`: from the bottom of each stack).
pub fn print_text_symbols(
    s: &Session,
    bt: &Backtrace,
    all: bool,
    o: &Options,
    out: &mut dyn Write,
) -> CmdResult {
    let k = &s.kernel;
    if !all {
        if let Some(f) = bt.frames.first() {
            let name = k
                .symbols()
                .lookup(f.pc)
                .map_or("(unknown)".into(), |(sym, _)| sym.name.clone());
            writeln!(out, "{}START: {name} at {:x}", " ".repeat(14), f.pc).map_err(io)?;
        }
    }
    for (st, low) in stacks_in_order(bt) {
        let from = if all { st.base } else { low };
        for (addr, v) in words(s, from, st.top) {
            let Some((sym, _)) = k
                .symbols()
                .lookup(v.wrapping_sub(1))
                .filter(|(sym, _)| k.is_code(sym))
            else {
                continue;
            };
            let name = if o.offsets {
                let off = v - sym.addr;
                if o.hex {
                    format!("{}+0x{off:x}", sym.name)
                } else {
                    format!("{}+{off}", sym.name)
                }
            } else {
                sym.name.clone()
            };
            let module = sym
                .module
                .as_ref()
                .map(|m| format!(" [{m}]"))
                .unwrap_or_default();
            writeln!(out, "  [{addr:16x}] {name} at {v:x}{module}").map_err(io)?;
        }
    }
    Ok(())
}

/// Whether `r` looks like an exception frame (the architecture says),
/// its kernel instruction pointer in code.
fn plausible(s: &Session, r: &[u64]) -> bool {
    let k = &s.kernel;
    let code = |ip: u64| {
        k.symbols()
            .lookup(ip)
            .is_some_and(|(sym, _)| k.is_code(sym))
    };
    k.arch().is_exception_frame(r, &code)
}

/// `-e`: every plausible exception frame on the task's stacks.
pub fn print_exception_frames(s: &Session, bt: &Backtrace, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    for (st, _) in stacks_in_order(bt) {
        let all = words(s, st.base, st.top);
        let size = k.arch().pt_regs().size;
        let n = (size / 8) as usize;
        for i in 0..all.len().saturating_sub(n - 1) {
            let w = &all[i..i + n];
            if w[n - 1].0 - w[0].0 != size - 8 {
                continue;
            }
            let words: Vec<u64> = w.iter().map(|(_, v)| *v).collect();
            if !plausible(s, &words) {
                continue;
            }
            let Some(r) = PtRegs::from_words(&words) else {
                continue;
            };
            let user = k.arch().user_mode(&words);
            writeln!(
                out,
                "\n  {}-MODE EXCEPTION FRAME AT: {:x}",
                if user { "USER" } else { "KERNEL" },
                w[0].0
            )
            .map_err(io)?;
            if !user {
                let what = match k.symbols().lookup(r.ip()) {
                    Some((sym, 0)) => sym.name.clone(),
                    Some((sym, off)) => format!("{}+{off}", sym.name),
                    None => "unknown or invalid address".into(),
                };
                writeln!(out, "    [exception RIP: {what}]").map_err(io)?;
            }
            print_regs(out, &r)?;
        }
    }
    Ok(())
}
