//! `net`: the network devices of a network namespace, as crash 8.0.2
//! prints them (`show_net_devices_v3()`): by default those of PID 0's
//! namespace, with `-n` those of the current task's (or of the task or PID
//! given).

use std::io::Write;

use super::{io, CmdResult};
use crate::session::Session;

pub const USAGE: &str = "net [-n [pid | task]]";

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let mut task = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-n" => {
                let cur = super::set::current_task(s).map(|t| t.addr);
                task = Some(match it.next_if(|a| !a.starts_with('-')) {
                    Some(arg) => task_arg(s, arg)?,
                    None => cur.ok_or("no current task")?,
                });
            }
            o => return Err(format!("invalid argument: {o} (only -n is supported)\nUsage: {USAGE}")),
        }
    }
    let k = &s.kernel;
    let net = k.net_namespace(task)?;
    let (devs, notices) = k.net_devices(net)?;
    let mut t = String::from("   NET_DEVICE     NAME   IP ADDRESS(ES)\n");
    for d in &devs {
        let addrs: Vec<String> =
            d.ipv4.iter().map(|a| format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])).collect();
        t += &format!("{:16x}  {:<6} {}\n", d.addr, d.name, addrs.join(", "));
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    for n in &notices {
        eprintln!("net: {n}");
    }
    Ok(())
}

/// A PID (decimal) or a task address (hexadecimal).
fn task_arg(s: &Session, arg: &str) -> Result<u64, String> {
    let tasks = s.kernel.tasks();
    if let Ok(pid) = arg.parse::<i64>() {
        if let Some(t) = tasks.find_by_pid(pid) {
            return Ok(t.addr);
        }
    }
    let hex = arg.trim_start_matches("0x");
    u64::from_str_radix(hex, 16)
        .ok()
        .and_then(|a| tasks.find_by_addr(a))
        .map(|t| t.addr)
        .ok_or_else(|| format!("invalid task or pid value: {arg}"))
}
