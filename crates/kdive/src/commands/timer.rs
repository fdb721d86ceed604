//! `timer`: each CPU's pending timers, as crash 8 lists the timer wheel of
//! Linux 4.8 and later (its `dump_timer_data_timer_bases()`): sorted by
//! expiry, with the time to expiry in jiffies and the function's symbol.

use std::io::Write;

use super::options::{self, OptError};
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "timer [-C cpu]";

pub const COMMAND: Command = Command {
    name: "timer",
    aliases: &[],
    summary: "list each CPU's pending timers, by expiry",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let o = options::parse(args, "r", "C").map_err(|e| match e {
        OptError::Unknown(c) => format!("invalid argument: -{c}\nUsage: {USAGE}"),
        OptError::NeedsValue(_) => format!("option -C needs a CPU list\nUsage: {USAGE}"),
    })?;
    if let Some(w) = o.words.first() {
        return Err(format!("invalid argument: {w}\nUsage: {USAGE}"));
    }
    if o.has('r') {
        return Err("-r (hrtimers) is not supported yet".into());
    }
    let cpus = match o.value('C') {
        Some(spec) => Some(super::vtop::cpu_list(spec, k.nr_cpus())?),
        None => None,
    };
    let jiffies_addr = k.symbol("jiffies").ok_or("no jiffies symbol")?;
    let jiffies = k
        .read_u64(jiffies_addr)
        .map_err(|e| format!("jiffies: {e}"))?;
    let wheel = k.timer_wheel().map_err(|e| e.to_string())?;
    // JSON: the same walk, its text to a sink and its values kept.
    let json = s.json;
    let mut sink = std::io::sink();
    let tout: &mut dyn Write = if json { &mut sink } else { &mut *out };
    let mut bases = Vec::new();
    let j = jiffies.to_string();
    let flen = j.len().max("JIFFIES".len());
    writeln!(tout, "{:<flen$}\n{j:>flen$}\n", "JIFFIES").map_err(io)?;
    let names: &[&str] = match wheel.nr_bases {
        2 => &["BASE_STD", "BASE_DEF"],
        3 => &["BASE_LOCAL", "BASE_GLOBAL", "BASE_DEF"],
        _ => &["BASE_STD"],
    };
    let mut first_cpu = true;
    let mut last_cpu = None;
    for base in &wheel.bases {
        if cpus.as_ref().is_some_and(|c| !c.contains(&base.cpu)) {
            continue;
        }
        if last_cpu != Some(base.cpu) {
            if !first_cpu {
                writeln!(tout).map_err(io)?;
            }
            first_cpu = false;
            last_cpu = Some(base.cpu);
        }
        let name = names.get(base.index).copied().unwrap_or("BASE");
        writeln!(tout, "TIMER_BASES[{}][{name}]: {:x}", base.cpu, base.addr).map_err(io)?;
        // Stable: timers that expire together stay in wheel order.
        let mut timers: Vec<_> = base.timers.iter().collect();
        let mut listed = Vec::new();
        timers.sort_by_key(|t| t.expires);
        let tte = |t: &&kdive_kernel::Timer| t.expires.wrapping_sub(jiffies) as i64;
        let highest = timers
            .iter()
            .map(|t| tte(t).unsigned_abs())
            .max()
            .unwrap_or(0);
        // One more for a possible minus sign.
        let tlen = (highest.to_string().len() + 1).max(3);
        writeln!(
            tout,
            "  {:<flen$}     {:<tlen$}     TIMER_LIST     FUNCTION",
            "EXPIRES", "TTE"
        )
        .map_err(io)?;
        for t in &timers {
            // crash shows the function's symbol; where the word is not
            // code it is a pointer to the function.
            let func = if k.module_at(t.function).is_some() || is_text(s, t.function) {
                t.function
            } else {
                k.read_u64(t.function).unwrap_or(t.function)
            };
            let sym = match k.symbols().lookup(func) {
                Some((sym, 0)) => sym.name.clone(),
                Some((sym, off)) => format!("{}+{off}", sym.name),
                None => format!("{func:x}"),
            };
            listed.push(serde_json::json!({
                "expires": t.expires,
                "tte": tte(t),
                "timer_list": super::json::hex(t.addr),
                "function": super::json::hex(t.function),
                "symbol": sym,
            }));
            writeln!(
                tout,
                "  {:>flen$}  {:>tlen$}  {:^16}  {:>16x}  <{sym}>",
                t.expires,
                tte(t),
                format!("{:x}", t.addr),
                t.function
            )
            .map_err(io)?;
        }
        bases.push(serde_json::json!({
            "cpu": base.cpu,
            "base": name,
            "address": super::json::hex(base.addr),
            "timers": listed,
        }));
        if timers.is_empty() {
            writeln!(tout, "  (none)").map_err(io)?;
        }
    }
    let _ = out.flush();
    super::tell(s, "timer: ", &wheel.notices);
    if json {
        return super::json::emit(
            out,
            &serde_json::json!({ "jiffies": jiffies, "bases": bases }),
        );
    }
    Ok(())
}

/// In the kernel's own text (`_stext` to `_etext`).
fn is_text(s: &Session, addr: u64) -> bool {
    let k = &s.kernel;
    matches!((k.symbol("_stext"), k.symbol("_etext")), (Some(a), Some(b)) if (a..b).contains(&addr))
}
