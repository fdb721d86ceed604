//! `net`: the network devices of a network namespace, as crash 8.0.2
//! prints them (`show_net_devices_v3()`): by default those of PID 0's
//! namespace, with `-n` those of the current task's (or of the task or PID
//! given).

use std::io::Write;

use super::json::hex;
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "net [-a] [-n [pid | task]]";

pub const COMMAND: Command = Command {
    name: "net",
    aliases: &[],
    summary: "list the network devices of a network namespace (-a ARP table)",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: true,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    // JSON: `{devices, arp}`, each null when not asked for.
    let (mut sink, mut unused) = (std::io::sink(), std::io::sink());
    let json = s.json;
    let (out, jout): (&mut dyn Write, &mut dyn Write) = if json {
        (&mut sink, out)
    } else {
        (out, &mut unused)
    };
    let mut value = serde_json::json!({ "devices": null, "arp": null });
    let mut task = None;
    let (mut arp, mut devices) = (false, args.is_empty());
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            // The ARP table, in option order, as crash prints it.
            "-a" => {
                value["arp"] = arp_table(s, out)?.into();
                arp = true;
            }
            "-n" => {
                let cur = super::set::current_task(s).map(|t| t.addr);
                task = Some(match it.next_if(|a| !a.starts_with('-')) {
                    Some(arg) => task_arg(s, arg)?,
                    None => cur.ok_or("no current task")?,
                });
                devices = true;
            }
            o => {
                return Err(format!(
                    "invalid argument: {o} (only -a and -n are supported)\nUsage: {USAGE}"
                ))
            }
        }
    }
    if !devices {
        return if arp {
            finish(json, &value, jout)
        } else {
            Err(format!("Usage: {USAGE}"))
        };
    }
    let k = &s.kernel;
    let net = k.net_namespace(task).map_err(|e| e.to_string())?;
    let (devs, notices) = k.net_devices(net).map_err(|e| e.to_string())?;
    let mut t = String::from("   NET_DEVICE     NAME   IP ADDRESS(ES)\n");
    let mut listed = Vec::new();
    for d in &devs {
        let addrs: Vec<String> = d
            .ipv4
            .iter()
            .map(|a| format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3]))
            .collect();
        t += &format!("{:16x}  {:<6} {}\n", d.addr, d.name, addrs.join(", "));
        listed.push(serde_json::json!({
            "net_device": hex(d.addr),
            "name": d.name,
            "ipv4": addrs,
        }));
    }
    value["devices"] = listed.into();
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    super::tell(s, "net: ", &notices);
    finish(json, &value, jout)
}

fn finish(json: bool, value: &serde_json::Value, out: &mut dyn Write) -> CmdResult {
    if json {
        return super::json::emit(out, value);
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

/// `net -a`: the ARP table (`dump_arp()`, `print_neighbour_q()`), the
/// header only when there are entries. Its value for JSON: per entry
/// `{neighbour, ip, hw_type, hw_address, device, state}`.
fn arp_table(s: &Session, out: &mut dyn Write) -> Result<Vec<serde_json::Value>, String> {
    let (entries, notices) = s.kernel.arp_table().map_err(|e| e.to_string())?;
    let mut t = String::new();
    if !entries.is_empty() {
        t += "NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE\n";
    }
    let mut listed = Vec::new();
    for n in &entries {
        t += &arp_line(n);
        listed.push(serde_json::json!({
            "neighbour": hex(n.addr),
            "ip": ip(n),
            "hw_type": hw_type(n),
            "hw_address": hw_address(n).trim_end(),
            "device": n.dev_name,
            "state": nud_flags(n.state),
        }));
    }
    out.write_all(t.as_bytes()).map_err(io)?;
    let _ = out.flush();
    super::tell(s, "net: ", &notices);
    Ok(listed)
}

fn ip(n: &kdive_kernel::Neighbour) -> String {
    format!("{}.{}.{}.{}", n.ip[0], n.ip[1], n.ip[2], n.ip[3])
}

/// One ARP entry as `print_neighbour_q()` prints it: Ethernet addresses
/// with colons, others as bytes; the hardware address as long as the
/// device's.
fn arp_line(n: &kdive_kernel::Neighbour) -> String {
    let mut t = format!("{:<16x} {:<16}", n.addr, ip(n));
    t += &format!("{:<10} ", hw_type(n));
    t += &hw_address(n);
    t + &format!(" {:<6}  {}\n", n.dev_name, nud_flags(n.state))
}

/// The device type's name, as crash names it.
fn hw_type(n: &kdive_kernel::Neighbour) -> &'static str {
    match n.dev_type {
        1 => "ETHER",
        0 => "NETROM",
        2 => "EETHER",
        3 => "AX25",
        4 => "PRONET",
        5 => "CHAOS",
        6 => "IEEE802",
        7 => "ARCNET",
        8 => "APPLETLK",
        15 => "DLCI",
        23 => "METRICOM",
        _ => "UNKNOWN",
    }
}

/// The hardware address, each byte followed by `:` (Ethernet) or a space,
/// the last by a space.
fn hw_address(n: &kdive_kernel::Neighbour) -> String {
    let ha = &n.ha[..usize::from(n.dev_addr_len).min(n.ha.len())];
    let mut t = String::new();
    if n.dev_type == 1 {
        let last = ha.len().saturating_sub(1);
        for (i, b) in ha.iter().enumerate() {
            t += &format!("{b:02x}{}", if i == last { ' ' } else { ':' });
        }
    } else {
        for b in ha {
            t += &format!("{b:02x} ");
        }
    }
    t
}

/// `nud_state` as crash names its bits.
fn nud_flags(state: u8) -> String {
    const NAMES: [&str; 8] = [
        "INCOMPLETE",
        "REACHABLE",
        "STALE",
        "DELAY",
        "PROBE",
        "FAILED",
        "NOARP",
        "PERMANENT",
    ];
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| state & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arp_entries_as_crash_prints_them() {
        let mut n = kdive_kernel::Neighbour {
            addr: 0xff11_0000_0123_4500,
            ip: [10, 0, 2, 2],
            ha: vec![0x52, 0x55, 0x0a, 0, 2, 2, 0, 0],
            dev_name: "eth0".into(),
            dev_type: 1,
            dev_addr_len: 6,
            state: 0x02,
        };
        assert_eq!(
            arp_line(&n),
            "ff11000001234500 10.0.2.2        ETHER      52:55:0a:00:02:02  eth0    REACHABLE\n"
        );
        (n.dev_type, n.dev_addr_len, n.state) = (0xffff, 2, 0x44);
        assert_eq!(
            arp_line(&n),
            "ff11000001234500 10.0.2.2        UNKNOWN    52 55  eth0    STALE|NOARP\n"
        );
        n.state = 0;
        assert!(arp_line(&n).ends_with("eth0    \n"));
    }
}
