//! `kdive --info VMCORE`: what a dump is and holds, with no vmlinux.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use kdive_dump::Dump;
use serde::Serialize;

use crate::time::crash_date;

#[derive(Serialize)]
struct Report {
    file: String,
    format: &'static str,
    flattened: bool,
    header_version: Option<i32>,
    compression: Vec<&'static str>,
    incomplete: bool,
    page_size: u64,
    dump_level: Option<i32>,
    present_pages: u64,
    max_pfn: u64,
    memory: Vec<[u64; 2]>,
    release: Option<String>,
    version: Option<String>,
    machine: Option<String>,
    build_id: Option<String>,
    crash_time: Option<i64>,
    kernel_offset: Option<u64>,
    phys_base: Option<u64>,
    nr_cpus: usize,
    /// From the kernel's `panic_cpu`, read through its own kallsyms.
    panic_cpu: Option<usize>,
    cpus: Vec<Cpu>,
    vmcoreinfo: Vec<(String, String)>,
}

#[derive(Serialize)]
struct Cpu {
    cpu: usize,
    pid: Option<i32>,
    regs: Vec<(&'static str, u64)>,
}

/// makedumpfile's dump-level bits.
const LEVEL_BITS: [(i32, &str); 5] = [
    (1, "zero"),
    (2, "cache"),
    (4, "cache private"),
    (8, "user"),
    (16, "free"),
];

pub fn run(path: &Path, json: bool) -> anyhow::Result<()> {
    // The kernel layer, from the dump alone (no vmlinux needed), also says
    // which CPU panicked: that is in kernel memory, not in the headers.
    let kernel = kdive_kernel::Kernel::open_with(path, kdive_kernel::VmlinuxChoice::None)
        .with_context(|| format!("{}", path.display()))?;
    let mut report = report(path, kernel.dump());
    report.panic_cpu = kernel.panic_cpu();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

fn report(path: &Path, dump: &Dump) -> Report {
    let vi = dump.vmcoreinfo();
    let qemu = dump.qemu_cpus();
    let mut cpus: Vec<Cpu> = dump
        .cpus()
        .iter()
        .map(|c| Cpu {
            cpu: c.cpu,
            // QEMU writes the vCPU number + 1 as pr_pid: no PID at all.
            pid: qemu.is_empty().then_some(c.pid),
            regs: gregset_names(dump)
                .iter()
                .copied()
                .zip(c.regs.iter().copied())
                .collect(),
        })
        .collect();
    // QEMU's own notes add what a dump without VMCOREINFO needs most: the
    // control registers (CR3 is the page-table root).
    for q in &qemu {
        let extra = [
            ("cr0", q.cr[0]),
            ("cr2", q.cr[2]),
            ("cr3", q.cr[3]),
            ("cr4", q.cr[4]),
            ("gs_base", q.gs_base),
        ];
        match cpus.iter_mut().find(|c| c.cpu == q.cpu) {
            Some(c) => c.regs.extend(extra),
            None => {
                const GPRS: [&str; 16] = [
                    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8", "r9", "r10",
                    "r11", "r12", "r13", "r14", "r15",
                ];
                let mut regs: Vec<(&'static str, u64)> =
                    GPRS.iter().copied().zip(q.gprs.iter().copied()).collect();
                regs.extend([("rip", q.rip), ("eflags", q.rflags)]);
                regs.extend(extra);
                cpus.push(Cpu {
                    cpu: q.cpu,
                    pid: None,
                    regs,
                });
            }
        }
    }
    Report {
        file: path.display().to_string(),
        format: dump.format().name(),
        flattened: dump.is_flattened(),
        header_version: dump.header_version(),
        compression: dump.compression().iter().map(|c| c.name()).collect(),
        incomplete: dump.is_incomplete(),
        page_size: dump.page_size(),
        dump_level: dump.dump_level(),
        present_pages: dump.present_pages(),
        max_pfn: dump.max_pfn(),
        memory: dump
            .memory_ranges()
            .iter()
            .map(|r| [r.start, r.end])
            .collect(),
        release: dump.release(),
        version: dump
            .utsname()
            .map(|u| u.version.clone())
            .filter(|v| !v.is_empty()),
        machine: dump.machine().map(str::to_string),
        build_id: vi.and_then(|v| v.get("BUILD-ID")).map(str::to_string),
        crash_time: dump.crash_time(),
        kernel_offset: vi.and_then(|v| v.kernel_offset()),
        phys_base: dump.phys_base(),
        nr_cpus: dump.nr_cpus(),
        panic_cpu: None,
        cpus,
        vmcoreinfo: vi.map(|v| v.entries().to_vec()).unwrap_or_default(),
    }
}

fn render(r: &Report) -> String {
    let mut s = String::new();
    let none = || "(unknown)".to_string();
    let mut line = |k: &str, v: String| {
        let _ = writeln!(s, "{:>15}: {}", k, v);
    };
    line("DUMPFILE", r.file.clone());
    let mut format = r.format.to_string();
    if let Some(v) = r.header_version {
        let _ = write!(format, " (header version {v})");
    }
    if r.flattened {
        format.push_str(", flattened");
    }
    if r.incomplete {
        format.push_str(", INCOMPLETE");
    }
    line("FORMAT", format);
    line(
        "COMPRESSION",
        if r.compression.is_empty() {
            "none".into()
        } else {
            r.compression.join(", ")
        },
    );
    line("PAGE SIZE", r.page_size.to_string());
    line(
        "DUMP LEVEL",
        r.dump_level.map_or_else(
            || "(not recorded)".into(),
            |l| {
                let excluded: Vec<&str> = LEVEL_BITS
                    .iter()
                    .filter(|(b, _)| l & b != 0)
                    .map(|(_, n)| *n)
                    .collect();
                if excluded.is_empty() {
                    format!("{l} (nothing excluded)")
                } else {
                    format!("{l} (excluded: {} pages)", excluded.join(", "))
                }
            },
        ),
    );
    line(
        "PAGES",
        format!("{} in the dump, max pfn {:#x}", r.present_pages, r.max_pfn),
    );
    let total: u64 = r.memory.iter().map(|[a, b]| b - a).sum();
    line(
        "MEMORY",
        format!("{} in {} ranges", human(total), r.memory.len()),
    );
    for [a, b] in &r.memory {
        let _ = writeln!(s, "{:>17}{:016x} - {:016x}  {}", "", a, b, human(b - a));
    }
    let mut line = |k: &str, v: String| {
        let _ = writeln!(s, "{:>15}: {}", k, v);
    };
    line("RELEASE", r.release.clone().unwrap_or_else(none));
    if let Some(v) = &r.version {
        line("VERSION", v.clone());
    }
    line("MACHINE", r.machine.clone().unwrap_or_else(none));
    line("BUILD-ID", r.build_id.clone().unwrap_or_else(none));
    line(
        "DATE",
        r.crash_time
            .map_or_else(none, |t| format!("{} ({t})", crash_date(t))),
    );
    line(
        "KERNEL OFFSET",
        r.kernel_offset.map_or_else(none, |o| format!("{o:#x}")),
    );
    line(
        "PHYS_BASE",
        r.phys_base.map_or_else(none, |o| format!("{o:#x}")),
    );
    line("CPUS", r.nr_cpus.to_string());
    line(
        "PANIC CPU",
        r.panic_cpu
            .map_or_else(|| "(unknown)".into(), |c| c.to_string()),
    );
    line(
        "VMCOREINFO",
        if r.vmcoreinfo.is_empty() {
            "none (the dump has no VMCOREINFO note)".into()
        } else {
            format!("{} entries", r.vmcoreinfo.len())
        },
    );
    for c in &r.cpus {
        let _ = match c.pid {
            Some(pid) if Some(c.cpu) == r.panic_cpu => {
                writeln!(s, "\nCPU {} (PID {pid}, panicked):", c.cpu)
            }
            Some(pid) => writeln!(s, "\nCPU {} (PID {pid}):", c.cpu),
            None => writeln!(s, "\nCPU {}:", c.cpu),
        };
        s.push_str(&register_block(&c.regs));
    }
    s
}

/// The names of the dump's gregset registers: its architecture's (none
/// for a machine kdive does not read).
fn gregset_names(dump: &Dump) -> &'static [&'static str] {
    kdive_arch::for_machine(dump.machine().unwrap_or("x86_64")).map_or(&[], |a| a.gregset_names())
}

/// Registers laid out as crash's exception frame block.
fn register_block(regs: &[(&str, u64)]) -> String {
    let get = |n: &str| regs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
    let mut s = String::new();
    let rows: [&[(&str, &str)]; 6] = [
        &[("RIP", "rip"), ("RSP", "rsp"), ("RFLAGS", "eflags")],
        &[("RAX", "rax"), ("RBX", "rbx"), ("RCX", "rcx")],
        &[("RDX", "rdx"), ("RSI", "rsi"), ("RDI", "rdi")],
        &[("RBP", "rbp"), ("R8", "r8"), ("R9", "r9")],
        &[("R10", "r10"), ("R11", "r11"), ("R12", "r12")],
        &[("R13", "r13"), ("R14", "r14"), ("R15", "r15")],
    ];
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .filter_map(|(label, name)| {
                let v = get(name)?;
                Some(if *label == "RFLAGS" {
                    format!("{label}: {v:08x}")
                } else {
                    format!("{label:>3}: {v:016x}")
                })
            })
            .collect();
        if !cells.is_empty() {
            let _ = writeln!(s, "    {}", cells.join("  "));
        }
    }
    let mut tail = Vec::new();
    if let Some(v) = get("orig_rax") {
        tail.push(format!("ORIG_RAX: {v:016x}"));
    }
    if let Some(v) = get("cs") {
        tail.push(format!("CS: {v:04x}"));
    }
    if let Some(v) = get("ss") {
        tail.push(format!("SS: {v:04x}"));
    }
    if !tail.is_empty() {
        let _ = writeln!(s, "    {}", tail.join("  "));
    }
    let control: Vec<String> = ["cr0", "cr2", "cr3", "cr4", "gs_base"]
        .iter()
        .filter_map(|n| Some(format!("{}: {:016x}", n.to_uppercase(), get(n)?)))
        .collect();
    if !control.is_empty() {
        let _ = writeln!(s, "    {}", control.join("  "));
    }
    s
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_block_is_crash_layout() {
        let regs: Vec<(&str, u64)> = kdive_arch::Arch::gregset_names(&kdive_arch::X86_64)
            .iter()
            .copied()
            .zip(0u64..)
            .collect();
        let b = register_block(&regs);
        let first = b.lines().next().unwrap();
        assert_eq!(
            first,
            "    RIP: 0000000000000010  RSP: 0000000000000013  RFLAGS: 00000012"
        );
        assert!(b.contains("    RBP: 0000000000000004   R8: 0000000000000009"));
        assert!(b.contains("ORIG_RAX: 000000000000000f  CS: 0011  SS: 0014"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(1 << 30), "1 GiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(10), "10 B");
    }
}
