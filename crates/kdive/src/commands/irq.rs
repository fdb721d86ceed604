//! `irq -s`: each interrupt's count on each CPU, its chip and flow, and its
//! actions, as crash 8.0.2 prints them (`generic_show_interrupts()`).

use std::io::Write;

use super::{io, CmdResult};
use crate::session::Session;

pub const USAGE: &str = "irq -s [-c cpu]";

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let mut stats = false;
    let mut cpus: Option<Vec<usize>> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-s" => stats = true,
            "-c" => {
                let spec = it.next().ok_or_else(|| format!("option -c needs a CPU list\nUsage: {USAGE}"))?;
                cpus = Some(super::vtop::cpu_list(spec, k.nr_cpus())?);
            }
            o if o.starts_with("-c") => cpus = Some(super::vtop::cpu_list(&o[2..], k.nr_cpus())?),
            o => return Err(format!("invalid argument: {o} (only -s is supported)\nUsage: {USAGE}")),
        }
    }
    if !stats {
        return Err(format!("only -s is supported\nUsage: {USAGE}"));
    }
    let nr = k.nr_cpus().max(1);
    let shown: Vec<usize> = (0..nr).filter(|c| cpus.as_ref().is_none_or(|l| l.contains(c))).collect();
    let (irqs, notices) = k.irq_stats()?;
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
    let _ = out.flush();
    for n in &notices {
        eprintln!("irq: {n}");
    }
    Ok(())
}
