//! How `bt` prints a backtrace: crash's frame lines, exception blocks,
//! stack-switch lines and `-f`/`-F`/`-l` additions.

use std::io::Write;

use kdive_arch::PtRegs;
use kdive_kernel::stack::{Backtrace, Frame, StackKind};

use crate::commands::{io, CmdResult};
use crate::session::Session;

/// `bt`'s frame options.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `-f`: the stack words of each frame.
    pub full: bool,
    /// `-F`: those words as symbols.
    pub symbols: bool,
    /// `-l`: source lines.
    pub lines: bool,
    /// `-s`: symbol+offset.
    pub offsets: bool,
    /// `-x`: offsets in hex.
    pub hex: bool,
    /// `-I`: the functions inlined in each frame.
    pub inlined: bool,
}

/// Words of one frame shown by `-f` at most.
const MAX_FRAME_WORDS: u64 = 8192;

/// Print one task's backtrace.
pub fn print_backtrace(s: &Session, bt: &Backtrace, o: &Options, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let w = |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(io);
    print_header(s, bt, out)?;
    if bt.no_stack {
        return w(out, "(no stack)".into());
    }
    if let Some(regs) = &bt.user_regs {
        print_regs(out, regs)?;
    }
    // The frames crash shows: not an interrupted frame on the stack of the
    // exception frame that found it (the exception block shows it). Each
    // with the hidden frames after it, for `-I`.
    let mut shown: Vec<(&Frame, Vec<&Frame>)> = Vec::new();
    for (i, f) in bt.frames.iter().enumerate() {
        let hidden = i > 0 && f.interrupted && {
            let prev = &bt.frames[i - 1];
            prev.regs.is_some() && prev.stack == f.stack
        };
        match shown.last_mut() {
            Some((_, h)) if hidden => h.push(f),
            _ => shown.push((f, Vec::new())),
        }
    }
    for (level, (f, hidden)) in shown.iter().enumerate() {
        let (name, module) = match k.symbols().lookup(f.lookup_pc()) {
            Some((sym, _)) => {
                let off = f.pc.wrapping_sub(sym.addr);
                let name = if o.offsets && off != 0 {
                    if o.hex {
                        format!("{}+0x{off:x}", sym.name)
                    } else {
                        format!("{}+{off}", sym.name)
                    }
                } else {
                    sym.name.clone()
                };
                (name, sym.module.clone())
            }
            None => ("(unknown)".to_string(), None),
        };
        let mut line = format!(
            "{}#{} [{:x}] {} at {:x}",
            if level < 10 { " " } else { "" },
            level,
            f.slot,
            name,
            f.pc
        );
        if let Some(m) = module {
            line.push_str(&format!(" [{m}]"));
        }
        w(out, line)?;
        // crash prints the line of the return address itself (the
        // statement after the call), not of the call.
        if o.lines {
            if let Some(l) = s.source_line(f.pc, false) {
                w(out, format!("    {l}"))?;
            }
        }
        if o.inlined {
            print_inlined(s, f, out)?;
        }
        if let Some(e) = &f.regs {
            let user = e.regs.user_mode();
            if !user {
                let rip = e.regs.ip();
                let what = match k.symbols().lookup(rip) {
                    Some((sym, 0)) => sym.name.clone(),
                    Some((sym, off)) => format!("{}+{off}", sym.name),
                    None => "unknown or invalid address".to_string(),
                };
                w(out, format!("    [exception RIP: {what}]"))?;
            }
            print_regs(out, &e.regs)?;
            if o.lines && !user {
                if let Some(l) = s.source_line(e.regs.ip(), false) {
                    w(out, format!("    {l}"))?;
                }
            }
        }
        if o.inlined {
            for h in hidden {
                print_inlined(s, h, out)?;
            }
        }
        let next = shown.get(level + 1).map(|(n, _)| n);
        if let Some(n) = next {
            if n.stack != f.stack {
                match f.stack {
                    StackKind::Exception(name) => {
                        w(out, format!("--- <{name} exception stack> ---"))?
                    }
                    StackKind::Irq => w(out, "--- <IRQ stack> ---".to_string())?,
                    _ => {}
                }
            } else if o.full {
                print_words(s, f.slot.wrapping_add(8), n.slot, o.symbols, out)?;
            }
        }
    }
    if let Some(e) = &bt.error {
        w(out, format!("    [unwind stopped: {e}]"))?;
    }
    Ok(())
}

/// `-I`: the functions inlined where frame `f` is, deepest first, one
/// indented line each (drgn shows them as frames of their own; crash does
/// not show them).
fn print_inlined(s: &Session, f: &Frame, out: &mut dyn Write) -> CmdResult {
    let names = s.kernel.functions_at(f.lookup_pc());
    for n in names.iter().take(names.len().saturating_sub(1)) {
        writeln!(out, "    [inlined: {n}]").map_err(io)?;
    }
    Ok(())
}

/// The task line: `PID: 50       TASK: ff29...  CPU: 1    COMMAND: "kworker/1:2"`.
pub fn print_header(s: &Session, bt: &Backtrace, out: &mut dyn Write) -> CmdResult {
    let brief = s.kernel.task_brief(bt.task).map_err(|e| e.to_string())?;
    let cpu = bt.cpu.map_or(brief.cpu as usize, |c| c);
    writeln!(
        out,
        "PID: {:<7}  TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"",
        brief.pid, bt.task, cpu, brief.comm
    )
    .map_err(io)
}

/// crash's register block.
pub fn print_regs(out: &mut dyn Write, r: &PtRegs) -> CmdResult {
    let g = |n: &str| r.get(n).unwrap_or(0);
    let lines = [
        format!(
            "    RIP: {:016x}  RSP: {:016x}  RFLAGS: {:08x}",
            g("ip"),
            g("sp"),
            g("flags")
        ),
        format!(
            "    RAX: {:016x}  RBX: {:016x}  RCX: {:016x}",
            g("ax"),
            g("bx"),
            g("cx")
        ),
        format!(
            "    RDX: {:016x}  RSI: {:016x}  RDI: {:016x}",
            g("dx"),
            g("si"),
            g("di")
        ),
        format!(
            "    RBP: {:016x}   R8: {:016x}   R9: {:016x}",
            g("bp"),
            g("r8"),
            g("r9")
        ),
        format!(
            "    R10: {:016x}  R11: {:016x}  R12: {:016x}",
            g("r10"),
            g("r11"),
            g("r12")
        ),
        format!(
            "    R13: {:016x}  R14: {:016x}  R15: {:016x}",
            g("r13"),
            g("r14"),
            g("r15")
        ),
        format!(
            "    ORIG_RAX: {:016x}  CS: {:04x}  SS: {:04x}",
            g("orig_ax"),
            g("cs"),
            g("ss")
        ),
    ];
    for l in lines {
        writeln!(out, "{l}").map_err(io)?;
    }
    Ok(())
}

/// `-f`: the words from `from` to `to` inclusive, two a line.
fn print_words(s: &Session, from: u64, to: u64, symbols: bool, out: &mut dyn Write) -> CmdResult {
    if to < from || (to - from) / 8 >= MAX_FRAME_WORDS {
        return Ok(());
    }
    let n = ((to - from) / 8 + 1) as usize;
    let mut buf = vec![0u8; n * 8];
    if s.kernel.read(from, &mut buf).is_err() {
        return Ok(());
    }
    let mut line = String::new();
    for (i, c) in buf.chunks_exact(8).enumerate() {
        let v = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        if i % 2 == 0 {
            if i > 0 {
                writeln!(out, "{line}").map_err(io)?;
            }
            line = format!("    {:x}: ", from.wrapping_add(8 * i as u64));
        }
        let word = if symbols {
            super::words::symbolic(&s.kernel, v)
        } else {
            format!("{v:016x}")
        };
        line.push_str(&word);
        line.push(' ');
    }
    writeln!(out, "{line}").map_err(io)
}
