//! Check every slab cache of a crash dump for damaged metadata.
//!
//! ```text
//! cargo run -p kdive-kernel --example slab_check -- VMCORE [VMLINUX]
//! ```
//!
//! Prints each corrupt free pointer, slab or list link: the cache, where
//! it is (a CPU's slab and free list, a CPU's sheaves, a node's partial or
//! full list, with the slab), and the bad pointer. Memory the dump left
//! out is reported as unreadable: a hole in the dump is not damage.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use kdive_kernel::slab::{Finding, Kind, Place};
use kdive_kernel::Kernel;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dump, vmlinux) = match args.as_slice() {
        [d] => (d, None),
        [d, v] => (d, Some(Path::new(v))),
        _ => {
            eprintln!("usage: slab_check VMCORE [VMLINUX]");
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
    let findings = match kernel.slab_check() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{dump}: cannot walk the slab allocator: {e}");
            return ExitCode::FAILURE;
        }
    };
    match print_findings(&findings, &mut io::stdout().lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// One finding a line, with what the walk said below it; then the counts.
pub fn print_findings(findings: &[Finding], out: &mut impl Write) -> io::Result<()> {
    let mut corrupt = 0;
    for f in findings {
        let cache = if f.cache.is_empty() { "-" } else { &f.cache };
        let place = place_name(f.place);
        let slab = f.slab.map(|s| format!(", slab {s:x}")).unwrap_or_default();
        match f.kind {
            Kind::Corrupt => {
                corrupt += 1;
                writeln!(
                    out,
                    "corrupt: {cache}: {place}{slab}: bad pointer {:x}",
                    f.addr
                )?;
            }
            Kind::Unreadable => {
                writeln!(out, "unreadable: {cache}: {place}{slab}: at {:x}", f.addr)?;
            }
        }
        writeln!(out, "    {}", f.what)?;
    }
    let unreadable = findings.len() - corrupt;
    writeln!(out, "{corrupt} corrupt, {unreadable} unreadable")
}

/// Where, in the allocator's words.
pub fn place_name(p: Place) -> String {
    match p {
        Place::Cpu(c) => format!("CPU {c} freelist and slab"),
        Place::CpuPartial(c) => format!("CPU {c} partial slab"),
        Place::CpuSheaves(c) => format!("CPU {c} sheaf"),
        Place::NodePartial(n) => format!("node {n} partial slab"),
        Place::NodeFull(n) => format!("node {n} full slab"),
        Place::Barn(n) => format!("node {n} barn sheaf"),
        other => other.to_string(),
    }
}
