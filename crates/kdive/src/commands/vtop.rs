//! `vtop` and `ptov`: kernel virtual to physical and back, with crash's
//! page-walk display.

use std::io::Write;

use super::json::hex;
use super::text::center;
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const VTOP: Command = Command {
    name: "vtop",
    aliases: &[],
    summary: "translate a kernel virtual address to physical, showing the page walk",
    usage: "vtop ADDRESS ...",
    run: vtop,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: true,
};

pub fn vtop(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let addrs: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if addrs.is_empty() {
        return Err("usage: vtop [-k] ADDRESS ...".into());
    }
    // JSON: the same walk, its text to a sink and its values kept.
    let mut sink = std::io::sink();
    let json = s.json;
    let tout: &mut dyn Write = if json { &mut sink } else { &mut *out };
    let mut values = Vec::new();
    for (i, a) in addrs.iter().enumerate() {
        // crash takes only numbers here (`vtop init_task` is invalid input).
        let vaddr = crate::expr::parse_hex(a).map_err(|_| format!("invalid input: \"{a}\""))?;
        if i > 0 {
            writeln!(tout).map_err(io)?;
        }
        values.push(one(s, vaddr, tout)?);
    }
    if json {
        return super::json::emit(out, &values);
    }
    Ok(())
}

/// One address, as text, and as JSON `{virtual, physical, pgd_directory,
/// levels, page, page_size, pte, flags}` (null where the text has none).
fn one(s: &Session, vaddr: u64, out: &mut dyn Write) -> Result<serde_json::Value, String> {
    let k = &s.kernel;
    let mut v = serde_json::json!({
        "virtual": hex(vaddr),
        "physical": null,
        "pgd_directory": null,
        "levels": [],
        "page": null,
        "page_size": null,
        "pte": null,
        "flags": null,
    });
    writeln!(out, "{:<16}  {:<16}", "VIRTUAL", "PHYSICAL").map_err(io)?;
    match k.vtop(vaddr) {
        Ok(p) => {
            v["physical"] = hex(p).into();
            writeln!(out, "{vaddr:<16x}  {p:<16x}\n").map_err(io)?
        }
        Err(_) => writeln!(out, "{vaddr:<16x}  {:<16}\n", "(not mapped)").map_err(io)?,
    }
    let Some(walk) = k.walk(vaddr) else {
        return Ok(v);
    };
    let top = k.top_pgt().unwrap_or(0);
    v["pgd_directory"] = hex(top).into();
    // Every entry read, the first the text's `PAGE DIRECTORY`.
    v["levels"] = walk
        .steps
        .iter()
        .map(|st| {
            serde_json::json!({
                "table": st.table.to_string(),
                "address": hex(st.entry_addr),
                "entry": hex(st.entry & !walk.sme_mask),
            })
        })
        .collect::<Vec<_>>()
        .into();
    writeln!(out, "PGD DIRECTORY: {top:x}").map_err(io)?;
    let mut steps = walk.steps.iter();
    if let Some(first) = steps.next() {
        writeln!(out, "PAGE DIRECTORY: {:x}", first.entry & !walk.sme_mask).map_err(io)?;
    }
    for st in steps {
        writeln!(
            out,
            "   {}: {:x} => {:x}",
            st.table,
            st.entry_addr,
            st.entry & !walk.sme_mask
        )
        .map_err(io)?;
    }
    let arch = s.kernel.arch();
    let last = walk.steps.last().map(|s| s.entry & !walk.sme_mask);
    if let (Ok(t), Some(pte)) = (&walk.result, last) {
        let base = t.phys & !(t.page_size - 1);
        let size = size_label(arch, t.page_size);
        writeln!(out, "  PAGE: {base:x}{size}\n").map_err(io)?;
        write!(out, "{}", pte_line(arch, pte, base)).map_err(io)?;
        v["page"] = hex(base).into();
        v["page_size"] = t.page_size.into();
        v["pte"] = hex(pte).into();
        v["flags"] = flags(arch, pte).into();
    }
    writeln!(out).map_err(io)?;
    Ok(v)
}

/// crash's `translate_pte` block (`x86_64_translate_pte`): a header centered over each value.
fn pte_line(arch: &dyn kdive_arch::Arch, pte: u64, phys: u64) -> String {
    let (p, a) = (format!("{pte:x}"), format!("{phys:x}"));
    let (w1, w2) = (p.len().max(3), a.len().max(8));
    format!(
        "{}  {}  FLAGS\n{}  {}  ({})\n",
        center("PTE", w1, false),
        center("PHYSICAL", w2, false),
        center(&p.to_string(), w1, true),
        center(&a.to_string(), w2, true),
        flags(arch, pte)
    )
}

fn flags(arch: &dyn kdive_arch::Arch, pte: u64) -> String {
    if pte == 0 {
        return "no mapping".into();
    }
    arch.pte_flags(pte).join("|")
}

/// crash's note after a huge page's address: `  (2MB)`, `  (1GB)`.
fn size_label(arch: &dyn kdive_arch::Arch, size: u64) -> String {
    if size == arch.page_size() {
        return String::new();
    }
    match size {
        s if s >= 1 << 30 && s % (1 << 30) == 0 => format!("  ({}GB)", s >> 30),
        s if s >= 1 << 20 && s % (1 << 20) == 0 => format!("  ({}MB)", s >> 20),
        s => format!("  ({}KB)", s >> 10),
    }
}

pub const PTOV: Command = Command {
    name: "ptov",
    aliases: &[],
    summary: "translate a physical address to its kernel virtual (direct map) address",
    usage: "ptov ADDRESS ...",
    run: ptov,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

/// `ptov PADDR` (the direct-map address) or `ptov OFFSET:CPUS` (a per-CPU
/// offset in each CPU's area; `OFFSET:` alone is the panic CPU's).
pub fn ptov(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    if args.is_empty() {
        return Err("usage: ptov ADDRESS | OFFSET:CPUSPEC ...".into());
    }
    let k = &s.kernel;
    // JSON: per argument `{physical, virtual}`, or for `OFFSET:CPUS`
    // `{offset, cpus: [{cpu, virtual}]}`.
    let mut sink = std::io::sink();
    let json = s.json;
    let (jout, out): (&mut dyn Write, &mut dyn Write) = if json {
        (out, &mut sink)
    } else {
        (&mut sink, out)
    };
    let mut values = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let sep = if i > 0 { "\n" } else { "" };
        let (num, cpuspec) = match a.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (a.as_str(), None),
        };
        let value = crate::expr::parse_hex(num).map_err(|e| e.to_string())?;
        let Some(spec) = cpuspec else {
            writeln!(out, "{sep}{:<16}  {:<16}", "VIRTUAL", "PHYSICAL").map_err(io)?;
            writeln!(out, "{:<16x}  {:<16x}", k.ptov(value), value).map_err(io)?;
            values
                .push(serde_json::json!({ "physical": hex(value), "virtual": hex(k.ptov(value)) }));
            continue;
        };
        let n = k.nr_cpus().max(1);
        let cpus = if spec.is_empty() {
            vec![k.panic_cpu().unwrap_or(0)]
        } else {
            cpu_list(spec, n)?
        };
        let width = format!("[{}]", n - 1).len() + 2;
        writeln!(out, "{sep}PER-CPU OFFSET: {value:x}").map_err(io)?;
        writeln!(out, "  {:<width$}  {:<16}", "CPU", "VIRTUAL").map_err(io)?;
        let mut per_cpu = Vec::new();
        for c in cpus {
            let off = k
                .per_cpu_offset(c)
                .ok_or_else(|| format!("cannot read __per_cpu_offset[{c}]"))?;
            writeln!(
                out,
                "  {:<width$}{:x}",
                format!("[{c}]"),
                value.wrapping_add(off)
            )
            .map_err(io)?;
            per_cpu.push(serde_json::json!({ "cpu": c, "virtual": hex(value.wrapping_add(off)) }));
        }
        values.push(serde_json::json!({ "offset": hex(value), "cpus": per_cpu }));
    }
    if json {
        return super::json::emit(jout, &values);
    }
    Ok(())
}

/// crash's cpu specification: `a`/`all`, `N`, `N-M`, comma-separated.
pub fn cpu_list(spec: &str, n: usize) -> Result<Vec<usize>, String> {
    if spec == "a" || spec == "all" {
        return Ok((0..n).collect());
    }
    let mut out = Vec::new();
    for part in spec.split(',') {
        let bad = || format!("invalid cpu specification: {spec}");
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?),
            None => {
                let c: usize = part.parse().map_err(|_| bad())?;
                (c, c)
            }
        };
        if lo > hi || hi >= n {
            return Err(format!("invalid cpu specification: {spec} ({n} CPUs)"));
        }
        out.extend(lo..=hi);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
