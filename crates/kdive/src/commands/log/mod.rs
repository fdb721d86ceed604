//! `log`: the kernel log, as crash 8.0.2 prints it.
//!
//! Each record is `[SSSSS.UUUUUU] TEXT`; the lines of a record after its
//! first are indented under the text. Options as crash's: `-t` no time,
//! `-T` the time as a date (boot time plus the record's seconds), `-m` the
//! level as `<N>`, `-d` the device lines (`SUBSYSTEM=`, `DEVICE=`), `-c`
//! the caller (`[T123]` or `[C1]`, crash 8.0.3), `-a` the audit records
//! still queued, `-s` the printk_safe buffers of kernels before 5.11.

mod audit;

use std::io::Write;

use kdive_kernel::{Kernel, LogRecord};

use super::{io, CmdResult, Command};
use crate::session::Session;
use crate::time::crash_date;

pub const USAGE: &str = "log [-Ttdmacs]";

/// What the options ask for.
#[derive(Debug, Default, Clone, Copy)]
pub struct Show {
    pub no_time: bool,
    pub date: bool,
    pub level: bool,
    pub dict: bool,
    pub caller: bool,
}

pub const COMMAND: Command = Command {
    name: "log",
    aliases: &[],
    summary: "the kernel log (-t no time, -T dates, -m levels, -d devices, -c callers, -a audit)",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: true,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let mut show = Show::default();
    let (mut audit, mut safe) = (false, false);
    for a in args {
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Err(format!("unexpected argument: {a} (usage: {USAGE})"));
        };
        for c in flags.chars() {
            match c {
                'T' => show.date = true,
                't' => show.no_time = true,
                'm' => show.level = true,
                'd' => show.dict = true,
                'c' => show.caller = true,
                'a' => audit = true,
                's' => safe = true,
                _ => return Err(format!("invalid option -{c} (usage: {USAGE})")),
            }
        }
    }
    if s.json {
        return super::json::log(s, out);
    }
    let k = &s.kernel;
    if audit {
        return self::audit::run(k, out);
    }
    if safe {
        // The per-CPU printk_safe buffers went away in Linux 5.11 (their
        // messages go to the ring directly); crash prints nothing then.
        if k.layouts()
            .is_some_and(|b| b.find_aggregate("printk_safe_seq_buf").is_some())
        {
            return Err("-s: the printk_safe buffers of this kernel are not read yet".into());
        }
        return Ok(());
    }
    let log = k.log().map_err(|e| e.to_string())?;
    let boot = if show.date && !show.no_time {
        Some(boot_time(k).ok_or("-T: the crash time or the uptime is unknown")?)
    } else {
        None
    };
    let caller_width = caller_width(k);
    let mut line = Vec::new();
    for r in &log.records {
        line.clear();
        format_record(r, show, boot, caller_width, &mut line);
        out.write_all(&line).map_err(io)?;
    }
    let _ = out.flush();
    for n in &log.notices {
        eprintln!("log: {}", n.text.strip_prefix("log: ").unwrap_or(&n.text));
    }
    super::record(s, &log.notices);
    Ok(())
}

/// When the kernel booted, as crash computes it for `-T`: the crash time
/// less the uptime in whole seconds.
pub fn boot_time(k: &Kernel) -> Option<i64> {
    let date = k.crash_date()?;
    let up = k.uptime()?;
    Some(date - (up.jiffies / up.hz) as i64)
}

/// crash's width for the caller column: from `pid_max`.
fn caller_width(k: &Kernel) -> usize {
    match k.symbol("pid_max").and_then(|a| k.read_u32(a).ok()) {
        Some(p) if p <= 99_999 => 6,
        Some(p) if p <= 999_999 => 7,
        _ => 8,
    }
}

/// One record as crash's `dump_record` prints it, newline included.
pub fn format_record(
    r: &LogRecord,
    show: Show,
    boot: Option<i64>,
    caller_width: usize,
    out: &mut Vec<u8>,
) {
    if r.dataless {
        out.push(b'\n');
        return;
    }
    let start = out.len();
    if !show.no_time {
        let secs = r.ts_nsec / 1_000_000_000;
        let micros = r.ts_nsec % 1_000_000_000 / 1000;
        match boot {
            Some(b) => {
                out.extend_from_slice(format!("[{}] ", crash_date(b + secs as i64)).as_bytes())
            }
            None => out.extend_from_slice(format!("[{secs:5}.{micros:06}] ").as_bytes()),
        }
    }
    if show.caller {
        let id = r.caller_id.unwrap_or(0);
        let who = if id & 0x8000_0000 != 0 {
            format!("C{}", id & 0x7fff_ffff)
        } else {
            format!("T{id}")
        };
        out.extend_from_slice(format!("[{who:>caller_width$}] ").as_bytes());
    }
    if show.level {
        out.extend_from_slice(format!("<{:x}>", r.level).as_bytes());
    }
    let indent = out.len() - start;
    for &b in &r.text {
        if b == b'\n' {
            out.push(b'\n');
            out.resize(out.len() + indent, b' ');
        } else if (0x20..0x7f).contains(&b) || matches!(b, b'\t' | 0x0b | 0x0c | b'\r') {
            out.push(b);
        } else {
            out.push(b'.');
        }
    }
    if show.dict {
        for d in &r.dict {
            out.push(b'\n');
            out.resize(out.len() + indent, b' ');
            out.extend_from_slice(d.as_bytes());
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str) -> LogRecord {
        LogRecord {
            ts_nsec: 2_153_157_000,
            level: 4,
            caller_id: Some(0x8000_0001),
            text: text.as_bytes().to_vec(),
            dict: vec!["SUBSYSTEM=acpi".into(), "DEVICE=+acpi:PNP0A03:00".into()],
            ..LogRecord::default()
        }
    }

    fn show(r: &LogRecord, s: Show, boot: Option<i64>) -> String {
        let mut out = Vec::new();
        format_record(r, s, boot, 6, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn lines_of_a_record_are_indented_under_its_text() {
        let r = rec("first\n  second");
        assert_eq!(
            show(&r, Show::default(), None),
            "[    2.153157] first\n                 second\n"
        );
        let m = Show {
            level: true,
            ..Show::default()
        };
        assert_eq!(
            show(&r, m, None),
            "[    2.153157] <4>first\n                    second\n"
        );
        let t = Show {
            no_time: true,
            level: true,
            ..Show::default()
        };
        assert_eq!(show(&r, t, None), "<4>first\n     second\n");
    }

    #[test]
    fn options_add_their_columns() {
        let r = rec("text");
        let d = Show {
            dict: true,
            ..Show::default()
        };
        assert_eq!(
            show(&r, d, None),
            "[    2.153157] text\n               SUBSYSTEM=acpi\n               DEVICE=+acpi:PNP0A03:00\n"
        );
        let c = Show {
            caller: true,
            no_time: true,
            ..Show::default()
        };
        assert_eq!(show(&r, c, None), "[    C1] text\n");
        let date = Show {
            date: true,
            ..Show::default()
        };
        // Booted at 00:24:32; the record is 2 s later (whole seconds).
        assert_eq!(
            show(&r, date, Some(1795566272)),
            "[Wed Nov 25 00:24:34 UTC 2026] text\n"
        );
    }

    #[test]
    fn unprintable_bytes_are_dots_and_a_dataless_record_an_empty_line() {
        let mut r = rec("a\u{1}b\tc");
        r.text.push(0xc3);
        assert_eq!(show(&r, Show::default(), None), "[    2.153157] a.b\tc.\n");
        let empty = LogRecord {
            dataless: true,
            ..rec("")
        };
        assert_eq!(show(&empty, Show::default(), None), "\n");
    }
}
