//! `irq`: the interrupt descriptors and their actions, and with `-s` each
//! interrupt's count on each CPU with its chip, flow and actions, as crash
//! 8.0.2 prints them (`generic_dump_irq()`'s irq_data format,
//! `generic_show_interrupts()`).

use std::io::Write;

use kdive_kernel::{Finding, FindingKind};

use super::json::hex;
use super::text::center;
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "irq [-u] [IRQ ...] | -a | -b | -d | -s [-c cpu]";

/// `IRQ_DESC/_DATA` and `IRQACTION` columns: a pointer's width.
const W: usize = 16;

pub const COMMAND: Command = Command {
    name: "irq",
    aliases: &[],
    summary: "list interrupt descriptors and actions (-s counts, -a affinity, -b softirqs, -d IDT)",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let (mut stats, mut in_use) = (false, false);
    let mut cpus: Option<Vec<usize>> = None;
    let mut irqs = Vec::new();
    if s.json
        && args
            .iter()
            .any(|a| matches!(a.as_str(), "-a" | "-b" | "-d"))
    {
        return Err(format!("no JSON view for irq {} yet", args.join(" ")));
    }
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-s" => stats = true,
            "-u" => in_use = true,
            "-a" => return affinity(s, out),
            "-b" => return softirqs(s, out),
            "-d" => return idt(s, out),
            "-c" => {
                let spec = it
                    .next()
                    .ok_or_else(|| format!("option -c needs a CPU list\nUsage: {USAGE}"))?;
                cpus = Some(super::vtop::cpu_list(spec, k.nr_cpus())?);
            }
            o if o.starts_with("-c") => cpus = Some(super::vtop::cpu_list(&o[2..], k.nr_cpus())?),
            o if o.starts_with('-') => {
                return Err(format!(
                    "option {o} is not supported (only -a, -b, -d, -s, -c and -u)\nUsage: {USAGE}"
                ))
            }
            o => irqs.push(
                o.parse::<u64>()
                    .map_err(|_| format!("invalid IRQ value: {o}"))?,
            ),
        }
    }
    if stats {
        return show_interrupts(s, cpus, out);
    }
    let nr = k.nr_irqs().ok_or("cannot determine number of IRQs")?;
    if let Some(&bad) = irqs.iter().find(|&&i| i >= nr) {
        return Err(format!(
            "invalid IRQ value: {bad}  ({} max)",
            nr.saturating_sub(1)
        ));
    }
    // Named IRQs are shown even when unused.
    if !irqs.is_empty() {
        in_use = false;
    } else {
        irqs = (0..nr).collect();
    }
    let descs = k.irq_descs().map_err(|e| e.to_string())?;
    let mut notices = descs.notices.clone();
    let by_irq: std::collections::HashMap<u64, u64> = descs.entries.iter().copied().collect();
    let mut t = format!(
        " IRQ  {}  {}  NAME\n",
        center("IRQ_DESC/_DATA", W, false),
        center("IRQACTION", W, false)
    );
    // JSON: per IRQ shown `{irq, irq_desc, actions}`, each action
    // `{irqaction, name}`; `irq_desc` null where the text says (unused).
    let mut listed = Vec::new();
    for irq in irqs {
        let desc = by_irq.get(&irq).copied();
        if desc.is_none() && in_use {
            continue;
        }
        t += &format!("{}  ", center(&irq.to_string(), 4, true));
        t += &match desc {
            Some(d) => format!("{d:16x}  "),
            None => format!("{}  ", center("(unused)", W, false)),
        };
        let chain = match desc.map(|d| k.irq_actions(d)) {
            Some(Ok((chain, n))) => {
                notices.extend(n);
                chain
            }
            Some(Err(e)) => {
                notices.push(Finding::new(FindingKind::Unreadable, desc, e.to_string()));
                Vec::new()
            }
            None => Vec::new(),
        };
        if chain.is_empty() {
            t += &format!("{}  ", center("(unused)", W, false));
        }
        for (i, a) in chain.iter().enumerate() {
            if i > 0 {
                t += &format!("\n{}", " ".repeat(4 + 2 + W + 2));
            }
            t += &format!("{:16x}  ", a.addr);
            if let Some(n) = &a.name {
                t += &format!("\"{n}\"");
            }
        }
        t += "\n";
        let actions: Vec<_> = chain
            .iter()
            .map(|a| serde_json::json!({ "irqaction": hex(a.addr), "name": a.name }))
            .collect();
        listed.push(serde_json::json!({
            "irq": irq,
            "irq_desc": desc.map(hex),
            "actions": actions,
        }));
    }
    if s.json {
        super::json::emit(out, &listed)?;
    } else {
        out.write_all(t.as_bytes()).map_err(io)?;
    }
    warn(s, out, &notices);
    Ok(())
}

/// `irq -a`: each interrupt with an action and the CPUs it may go to.
/// crash 8.0.2 reads an off-stack `cpumask_var_t` as the mask itself and
/// shows no CPUs; this follows the pointer.
fn affinity(s: &Session, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let descs = k.irq_descs().map_err(|e| e.to_string())?;
    let mut notices = descs.notices.clone();
    let mut t = String::from("IRQ NAME                 AFFINITY\n");
    for &(irq, desc) in &descs.entries {
        let (chain, n) = k
            .irq_actions(desc)
            .unwrap_or_else(|e| (Vec::new(), vec![Finding::unreadable(desc, e.to_string())]));
        notices.extend(n);
        if chain.is_empty() {
            continue;
        }
        let names: Vec<&str> = chain.iter().filter_map(|a| a.name.as_deref()).collect();
        let cpus = match k.irq_affinity(desc) {
            Ok(c) => cpu_ranges(&c),
            Err(e) => {
                notices.push(Finding::unreadable(desc, e.to_string()));
                String::new()
            }
        };
        t += &format!("{irq:3} {:<20} {cpus}\n", names.join(","));
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    warn(s, out, &notices);
    Ok(())
}

/// `irq -b`: the softirq handlers (`display_bh_4()`).
fn softirqs(s: &Session, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let mut t = format!("SOFTIRQ_VEC {}\n", center("ACTION", W, true));
    for (i, &a) in k
        .softirq_actions()
        .map_err(|e| e.to_string())?
        .iter()
        .enumerate()
    {
        if a == 0 {
            continue;
        }
        let pad = if i < 10 { "    " } else { "   " };
        let sym = k
            .symbols()
            .lookup(a)
            .map_or(String::new(), |(s, _)| s.name.clone());
        t += &format!("    [{i}]{pad} {a:16x}  <{sym}>");
        if let Some(m) = k.module_at(a) {
            t += &format!("  [{}]", m.name);
        }
        t += "\n";
    }
    out.write_all(t.as_bytes()).map_err(io)
}

/// `irq -d`: each IDT vector's handler (`x86_64_display_idt_table()`).
fn idt(s: &Session, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let mut t = String::new();
    for (i, g) in k.idt_gates().map_err(|e| e.to_string())?.iter().enumerate() {
        let f = match k.symbols().lookup(g.handler) {
            Some((sym, 0)) => sym.name.clone(),
            Some((sym, off)) => format!("{}+{off}", sym.name),
            None => format!("{:016x}", g.handler),
        };
        t += &format!("{:>5} {f}\n", format!("[{i}]"));
    }
    out.write_all(t.as_bytes()).map_err(io)
}

/// CPUs as crash's `display_cpu_affinity()` writes them: `0-3,6`.
fn cpu_ranges(cpus: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        while i + 1 < cpus.len() && cpus[i + 1] == cpus[i] + 1 {
            i += 1;
        }
        parts.push(if cpus[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", cpus[i])
        });
        i += 1;
    }
    parts.join(",")
}

fn show_interrupts(s: &Session, cpus: Option<Vec<usize>>, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let nr = k.nr_cpus().max(1);
    let shown: Vec<usize> = (0..nr)
        .filter(|c| cpus.as_ref().is_none_or(|l| l.contains(c)))
        .collect();
    let (irqs, notices) = k.irq_stats().map_err(|e| e.to_string())?;
    if s.json {
        // Per IRQ, the count on each CPU shown (null where it did not read).
        let v: Vec<_> = irqs
            .iter()
            .map(|i| {
                let counts: serde_json::Map<String, serde_json::Value> = shown
                    .iter()
                    .map(|&c| (c.to_string(), i.counts.get(c).copied().flatten().into()))
                    .collect();
                serde_json::json!({
                    "irq": i.irq,
                    "irq_desc": hex(i.desc),
                    "counts": counts,
                    "chip": i.chip,
                    "flow": i.flow,
                    "actions": i.actions,
                })
            })
            .collect();
        super::json::emit(out, &v)?;
        warn(s, out, &notices);
        return Ok(());
    }
    let mut t = String::from("     ");
    for c in &shown {
        t += &format!("{:>10} ", format!("CPU{c}"));
    }
    t += "\n";
    for i in &irqs {
        t += &format!("{:3}: ", i.irq);
        for &c in &shown {
            t += &format!("{:10} ", i.counts.get(c).copied().flatten().unwrap_or(0));
        }
        if let Some(chip) = &i.chip {
            t += &format!("{chip:>8}");
        }
        if let Some(flow) = &i.flow {
            t += &format!("-{flow:<8}");
        }
        t += &format!(" {}\n", i.actions.join(","));
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    warn(s, out, &notices);
    Ok(())
}

fn warn(s: &Session, out: &mut dyn Write, notices: &[Finding]) {
    let _ = out.flush();
    super::tell(s, "irq: ", notices);
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_ranges_as_crash_writes_them() {
        assert_eq!(super::cpu_ranges(&[0, 1, 2, 3, 6, 8, 9]), "0-3,6,8-9");
        assert_eq!(super::cpu_ranges(&[1]), "1");
        assert_eq!(super::cpu_ranges(&[]), "");
    }
}
