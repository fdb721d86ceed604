//! The message the crash left in the log, as `sys` shows it in PANIC.
//!
//! crash looks for fixed strings in a fixed order, several of which the
//! kernel no longer prints ("general protection fault: " became "general
//! protection fault, probably for non-canonical address ...: "), so on a
//! recent kernel it finds nothing for a slab corruption and only the
//! generic "Oops: " line for a NULL dereference. Here the report is found
//! by its shape instead:
//!
//! - `panic()` prints "Kernel panic - not syncing: MESSAGE": that is the
//!   message, unless it only says that an oops was fatal ("Fatal
//!   exception"), when the oops says more;
//! - `die()` heads every oops with "WHAT: ERRORCODE [#N]": with kdump
//!   loaded the dump is taken right after it, with no panic line. The
//!   first line of that report is the message: a "BUG: ..." or "kernel BUG
//!   at ..." line just before the header says what happened better than
//!   the header ("Oops: 0000 [#1] ...").

use super::LogRecord;

/// How many records before an oops header may still belong to its report
/// ("BUG: ...", then "#PF: ..." lines and the page-table walk).
const REPORT_LEAD: usize = 8;

/// The panic or oops message of the crash the log ends with, if any.
pub fn panic_message(records: &[LogRecord]) -> Option<String> {
    let lines: Vec<(usize, String)> = records
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.text_lossy()
                .lines()
                .map(|l| (i, l.trim_end().to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let panic = lines.iter().rposition(|(_, l)| is_panic(l));
    let before = panic.unwrap_or(lines.len());
    let oops = lines[..before].iter().rposition(|(_, l)| is_die_header(l));
    if let Some(p) = panic {
        let fatal_oops = lines[p].1.contains("Fatal exception");
        if !(fatal_oops && oops.is_some()) {
            return Some(lines[p].1.clone());
        }
    } else if let Some(end) = lines.iter().rev().find_map(|(_, l)| end_marker(l)) {
        // Only panic()'s closing line is left ("---[ end Kernel panic - ...
        // ]---"): the message is inside it.
        if oops.is_none() {
            return Some(end);
        }
    }
    if let Some(o) = oops {
        let start = o.saturating_sub(REPORT_LEAD);
        let lead = lines[start..o]
            .iter()
            .position(|(_, l)| is_report_start(l))
            .map(|i| start + i);
        return Some(lines[lead.unwrap_or(o)].1.clone());
    }
    // No oops and no panic(): the reports that are neither.
    lines
        .iter()
        .rev()
        .find(|(_, l)| {
            is_report_start(l) || l.contains("[Hardware Error]: ") || l.contains("Bad mode in ")
        })
        .map(|(_, l)| l.clone())
}

/// The line `panic()` starts with.
fn is_panic(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("Kernel panic - not syncing: ") || l.starts_with("Kernel panic: ")
}

/// The message in the line `panic()` ends with, `---[ end MESSAGE ]---`.
fn end_marker(line: &str) -> Option<String> {
    let inner = line
        .trim()
        .strip_prefix("---[ end ")?
        .strip_suffix(" ]---")?;
    is_panic(inner).then(|| inner.to_string())
}

/// The header `die()` prints: "WHAT: ERRORCODE [#N] FLAGS", the code in
/// hexadecimal (4 digits on x86, 8 on arm64).
fn is_die_header(line: &str) -> bool {
    line.match_indices(": ").any(|(i, _)| {
        let rest = &line[i + 2..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        hex >= 4 && rest[hex..].starts_with(" [#") && {
            let n = &rest[hex + 3..];
            let d = n.bytes().take_while(u8::is_ascii_digit).count();
            d > 0 && n[d..].starts_with(']')
        }
    })
}

/// The first line of a report that `die()` may follow.
fn is_report_start(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("BUG: ")
        || l.starts_with("kernel BUG at ")
        || l.starts_with("Kernel BUG at ")
        || l.starts_with("Unable to handle kernel ")
}
