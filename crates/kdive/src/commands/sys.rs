//! `sys`: the system's vital signs, as crash 8.0.2 prints them, with the
//! panic message found in the log the way [`kdive_kernel::printk::panic_message`]
//! describes (crash prints `""` for a slab corruption on recent kernels).
//! `sys -i`: the DMI strings; `sys -t`: the taint mask and its letters.

use std::io::Write;

use kdive_dump::Format;
use kdive_kernel::Kernel;

use super::{io, CmdResult, Command};
use crate::session::Session;
use crate::time::crash_date;

pub const USAGE: &str = "sys [-i] [-t]";

pub const COMMAND: Command = Command {
    name: "sys",
    aliases: &[],
    summary: "the system: kernel, dump, CPUs, date, uptime, load, memory, panic message (-i DMI, -t taints)",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    match args.first().map(String::as_str) {
        None if s.json => {
            let mut text = Vec::new();
            stats(&s.kernel, &s.dump_path, &mut text)?;
            super::json::sys_lines(&String::from_utf8_lossy(&text), out)
        }
        None => stats(&s.kernel, &s.dump_path, out),
        Some("-i") => dmi(&s.kernel, out),
        Some("-t") => taints(&s.kernel, out),
        Some(a) => Err(format!("unsupported argument: {a} (usage: {USAGE})")),
    }
}

fn stats(k: &Kernel, dump_path: &str, out: &mut dyn Write) -> CmdResult {
    let mut w = |label: &str, value: String| writeln!(out, "{label:>12}: {value}").map_err(io);
    let mut kernel = k.vmlinux().map_or_else(
        || "(no vmlinux: symbols from the dump's kallsyms)".into(),
        |p| p.display().to_string(),
    );
    if k.is_livepatched() {
        kernel.push_str("  [LIVEPATCH]");
    }
    if k.taint_mask().is_some_and(|m| m != 0) {
        kernel.push_str("  [TAINTED]");
    }
    w("KERNEL", kernel)?;
    w("DUMPFILE", dumpfile(k, dump_path))?;
    w("CPUS", k.nr_cpus().to_string())?;
    w(
        "DATE",
        k.crash_date()
            .map_or_else(|| "(unknown)".into(), crash_date),
    )?;
    w(
        "UPTIME",
        k.uptime().map_or_else(
            || "(cannot calculate: unknown HZ value)".into(),
            |u| super::text::convert_time(u.jiffies, u.hz),
        ),
    )?;
    w(
        "LOAD AVERAGE",
        k.avenrun()
            .map_or_else(|| "(unknown)".into(), |a| load_average(&a)),
    )?;
    w(
        "TASKS",
        task_count(k).map_or_else(|e| format!("(unknown: {e})"), |n| n.to_string()),
    )?;
    let uts = k.utsname();
    let dump_uts = k.dump().utsname();
    // The kernel's own, else the kdump header's copy.
    let name = |f: fn(&kdive_kernel::Utsname) -> &String| {
        uts.as_ref()
            .or(dump_uts)
            .map(|u| f(u).clone())
            .unwrap_or_else(|| "(unknown)".into())
    };
    w("NODENAME", name(|u| &u.nodename))?;
    w("RELEASE", name(|u| &u.release))?;
    w("VERSION", name(|u| &u.version))?;
    let mhz = k
        .cpu_mhz()
        .map_or_else(|| "unknown".into(), |m| m.to_string());
    w("MACHINE", format!("{}  ({mhz} Mhz)", name(|u| &u.machine)))?;
    w("MEMORY", memory(k))?;
    let panic = match k.log() {
        Ok(log) => match log.panic_message() {
            // crash's words for the bare oops header (`Oops: 0000 [#1] ...`),
            // which says nothing of the cause.
            Some(m) if bare_oops(&m) => format!("\"{m}\" (check log for details)"),
            Some(m) => format!("\"{m}\""),
            None => "\"\"".into(),
        },
        Err(e) => format!("(the log is unreadable: {e})"),
    };
    w("PANIC", panic)
}

/// The dump's name and crash's remarks on it.
fn dumpfile(k: &Kernel, path: &str) -> String {
    let d = k.dump();
    let partial = d.dump_level().is_some_and(|l| l > 0);
    match d.format() {
        // crash's diskdump line: a space, then each remark with its own.
        Format::Kdump if partial || d.is_incomplete() => format!(
            "{path} {}{}",
            if partial { " [PARTIAL DUMP]" } else { "" },
            if d.is_incomplete() {
                " [INCOMPLETE]"
            } else {
                ""
            }
        ),
        Format::Elf if d.is_incomplete() => format!("{path}  [INCOMPLETE]"),
        _ => path.to_string(),
    }
}

/// crash's `get_loadavg`: the kernel's fixed point (11 bits), rounded to
/// hundredths.
pub fn load_average(a: &[u64; 3]) -> String {
    const FSHIFT: u32 = 11;
    const FIXED_1: u64 = 1 << FSHIFT;
    let one = |x: u64| {
        let x = x.wrapping_add(FIXED_1 / 200);
        format!(
            "{}.{:02}",
            x >> FSHIFT,
            ((x & (FIXED_1 - 1)) * 100) >> FSHIFT
        )
    };
    format!("{}, {}, {}", one(a[0]), one(a[1]), one(a[2]))
}

/// The memory size as crash's `get_memory_size`: the nodes' present pages,
/// rounded up to a whole GiB when within 64 MiB of it.
fn memory(k: &Kernel) -> String {
    let total = k.node_present_bytes().unwrap_or_else(|| {
        k.dump()
            .memory_ranges()
            .iter()
            .map(|r| r.end - r.start)
            .sum()
    });
    super::text::memory_size(total)
}

/// TASKS: every task the walker found (idle tasks included, one per CPU,
/// as crash counts them). `Err`: why there is no list.
fn task_count(k: &Kernel) -> Result<usize, String> {
    let list = k.tasks();
    if list.is_empty() {
        return Err(list
            .notices()
            .first()
            .map_or_else(|| "no tasks found".into(), |n| n.text.clone()));
    }
    Ok(list.len())
}

/// `sys -i`: the DMI strings, names right-aligned as crash aligns them.
fn dmi(k: &Kernel, out: &mut dyn Write) -> CmdResult {
    let fields = k
        .dmi_strings()
        .ok_or("dmi_ident does not exist in this kernel")?;
    let width = fields.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, value) in &fields {
        if let Some(v) = value {
            writeln!(out, "  {name:>width$}: {v}").map_err(io)?;
        }
    }
    Ok(())
}

/// `sys -t`: the taint mask and its letters, from the kernel's own table
/// `taint_flags[]` (`struct taint_flag`: the letter when set, the one when
/// not), as crash shows them (a letter for each set bit; of the unset
/// ones only those that are not blank, `-` or `G`).
fn taints(k: &Kernel, out: &mut dyn Write) -> CmdResult {
    let mask = k.taint_mask().ok_or("the kernel has no tainted_mask")?;
    let btf = k
        .layouts_or_err()
        .map_err(|e| format!("the kernel's types are unknown ({e})"))?;
    let sym = k
        .symbols()
        .by_name("taint_flags")
        .ok_or("the kernel has no taint_flags table")?;
    let size = btf
        .find_aggregate("taint_flag")
        .and_then(|id| btf.size_of(id))
        .filter(|&s| s > 0)
        .ok_or("the kernel's types have no struct taint_flag")?;
    let off = |m: &str| btf.member_offset("taint_flag", m).map(|i| i.offset());
    let (t, f) = off("c_true")
        .zip(off("c_false"))
        .or_else(|| off("true").zip(off("false")))
        .ok_or("struct taint_flag has no c_true/c_false")?;
    // The symbol's size bounds the table (from kallsyms, it may include
    // padding: the table ends at the first entry that is not a letter).
    let n = if sym.size > 0 { sym.size / size } else { 64 }.min(64);
    let mut letters = String::new();
    for i in 0..n {
        let mut e = vec![0u8; size as usize];
        k.read(sym.addr + i * size, &mut e)
            .map_err(|e| e.to_string())?;
        let (on, off) = (e[t as usize], e[f as usize]);
        if !on.is_ascii_uppercase() {
            break;
        }
        if mask & (1 << i) != 0 {
            letters.push(on as char);
        } else if !matches!(off, b' ' | b'-' | b'G') {
            letters.push(off as char);
        }
    }
    writeln!(out, "TAINTED_MASK: {mask:x}  {letters}").map_err(io)
}

/// `Oops: 0002 [#1] ...`: the error code and count, no description (6.12
/// puts the description after `Oops: `).
fn bare_oops(m: &str) -> bool {
    m.split_once("Oops: ").is_some_and(|(_, rest)| {
        let code = rest.get(..4).unwrap_or("");
        code.len() == 4
            && code.bytes().all(|b| b.is_ascii_hexdigit())
            && rest[4..].starts_with(" [#")
    })
}
