//! Every task of a crash dump: PID, state, command, and its backtrace.
//!
//! ```text
//! cargo run -p kdive-kernel --example tasks -- VMCORE [VMLINUX]
//! ```
//!
//! Without VMLINUX, the one installed for the dump's kernel is used, or
//! none: symbols then come from the kallsyms in the dump's memory.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use kdive_kernel::stack::Frame;
use kdive_kernel::Kernel;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dump, vmlinux) = match args.as_slice() {
        [d] => (d, None),
        [d, v] => (d, Some(Path::new(v))),
        _ => {
            eprintln!("usage: tasks VMCORE [VMLINUX]");
            return ExitCode::from(2);
        }
    };
    let kernel = match Kernel::open(Path::new(dump), vmlinux) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{dump}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for note in kernel.notices() {
        eprintln!("note: {note}");
    }
    match print_tasks(&kernel, &mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Each task, then its frames, innermost first, one per line.
pub fn print_tasks(k: &Kernel, out: &mut impl Write) -> io::Result<()> {
    let list = k.tasks();
    // The walks go on past what they cannot read; say what that was.
    for note in list.notices() {
        writeln!(out, "unreadable: {note}")?;
    }
    let orc = k.orc_tables();
    for t in list.tasks() {
        let state = list.state_code(t);
        writeln!(out, "PID {} {state} {} (task {:x})", t.pid, t.comm, t.addr)?;
        match k.backtrace_task(t.addr, orc) {
            Ok(bt) => {
                for f in &bt.frames {
                    writeln!(out, "    {}", frame_name(k, f))?;
                }
                if let Some(why) = &bt.error {
                    writeln!(out, "    (unwind stopped: {why})")?;
                }
            }
            Err(why) => writeln!(out, "    (no backtrace: {why})")?,
        }
    }
    Ok(())
}

/// `function+0xoff [module]`, or the bare address without a symbol.
pub fn frame_name(k: &Kernel, f: &Frame) -> String {
    // `lookup_pc`: a return address can be just past its function's end.
    match k.symbols().lookup(f.lookup_pc()) {
        Some((sym, _)) => {
            let name = format!("{}+{:#x}", sym.name, f.pc.wrapping_sub(sym.addr));
            match &sym.module {
                Some(m) => format!("{name} [{m}]"),
                None => name,
            }
        }
        None => format!("{:#x} (no symbol)", f.pc),
    }
}
