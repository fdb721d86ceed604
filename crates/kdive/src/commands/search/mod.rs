//! `search`: memory searched for values or strings, as crash 8.0.2 prints
//! the matches (`ADDR: VALUE`, or `ADDR: text...` for `-c`).
//!
//! Kernel virtual memory by default: the direct map over every range of
//! physical memory the dump holds, then the kernel image; `-p` physical
//! memory; `-u` the current task's user memory (a range is needed there:
//! `-s` with `-e` or `-l`); `-t` every task's kernel stack (`-T` the active
//! tasks'), each task's matches under crash's task header. `-s`, `-e`,
//! `-l` narrow the range. Ranges that
//! are walked page by page (outside the direct map and the kernel image)
//! are limited to [`MAX_PAGES`]. Ctrl-C stops the search; at a terminal a
//! progress bar shows on standard error until the first match.

mod scan;

use std::io::{IsTerminal, Write};
use std::ops::Range;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use self::scan::{Matcher, Target};
use super::{io, CmdResult, Command};
use crate::expr::{parse_address, parse_number};
use crate::session::{interrupt, Session};

pub const USAGE: &str = "search [-s start] [-k | -u | -p | -t | -T] [-e end | -l length] [-m mask] -[cwh] [value | (expression) | symbol | string] ...";

/// The most pages a range walked page by page may span (16 GiB).
const MAX_PAGES: u64 = 1 << 22;
const PAGE: u64 = 4096;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Space {
    Kernel,
    User,
    Physical,
}

/// One range of the search and how to read it.
struct Span {
    range: Range<u64>,
    /// Read as physical memory, shown at `shown + (addr - range.start)`.
    phys: bool,
    shown: u64,
    /// `-t`: the task header printed before the stack's first match.
    header: Option<String>,
    /// `-t`: the task, for JSON.
    task: Option<u64>,
}

pub const COMMAND: Command = Command {
    name: "search",
    aliases: &[],
    summary: "search memory for a value or a string",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let syms = |n: &str| k.symbol(n);
    let (mut space, mut start, mut end, mut len, mut mask) =
        (Space::Kernel, None, None, None, 0u64);
    let (mut width, mut chars) = (8usize, false);
    // -t: every task's kernel stack; -T: the active tasks' only.
    let mut stacks: Option<bool> = None;
    let mut words: Vec<&String> = Vec::new();
    let mut it = args.iter();
    let addr = |w: Option<&String>, o: &str| -> Result<u64, String> {
        let w = w.ok_or_else(|| format!("{o} needs a value"))?;
        parse_address(w, &syms).map_err(|e| format!("{w}: {e}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "-k" | "-K" | "-V" => space = Space::Kernel,
            "-u" => space = Space::User,
            "-p" => space = Space::Physical,
            "-s" => start = Some(addr(it.next(), "-s")?),
            "-e" => end = Some(addr(it.next(), "-e")?),
            "-l" => {
                let w = it.next().ok_or("-l needs a length")?;
                len = Some(parse_number(w).map_err(|e| format!("{w}: {e}"))?);
            }
            "-m" => mask = addr(it.next(), "-m")?,
            "-c" => chars = true,
            "-w" => width = 4,
            "-h" => width = 2,
            "-t" => stacks = Some(false),
            "-T" => stacks = Some(true),
            "-x" => return Err(format!("option {a} is not supported yet")),
            _ => words.push(a),
        }
    }
    if words.is_empty() {
        return Err(format!("no value to search for (usage: {USAGE})"));
    }
    let mut targets = Vec::new();
    for w in words {
        targets.push(if chars {
            Target::Chars(w.as_bytes().to_vec())
        } else {
            let v = parse_address(w, &syms).map_err(|e| format!("{w}: {e}"))?;
            if width < 8 && v >> (width * 8) != 0 {
                return Err(format!(
                    "value too large for -{} option: {v:x}",
                    if width == 4 { 'w' } else { 'h' }
                ));
            }
            let hex_word = w
                .trim_start_matches("0x")
                .bytes()
                .all(|b| b.is_ascii_hexdigit());
            let note = match () {
                _ if hex_word => String::new(),
                _ if w.starts_with('(') => w.to_string(),
                _ => format!("({w})"),
            };
            Target::Value { value: v, note }
        });
    }
    if let (Some(_), Some(_)) = (end, len) {
        return Err("-e and -l cannot be used together".into());
    }
    let end = end.or(len.and_then(|l| start.map(|s| s.saturating_add(l))));
    let spans = match stacks {
        Some(active_only) => task_stacks(s, active_only),
        None => spans(s, space, start, end)?,
    };
    let total: u64 = spans.iter().map(|sp| sp.range.end - sp.range.start).sum();
    let bar = progress(s, total);
    let mut m = Matcher::new(targets, width, mask, bar);
    let task = (space == Space::User)
        .then(|| super::set::current_task(s).cloned())
        .flatten();
    let k = &s.kernel;
    let mut buf = vec![0u8; PAGE as usize];
    // JSON: the text to a sink, the matches kept, each with its span's task.
    let json = s.json;
    let (mut sink, mut unused) = (std::io::sink(), std::io::sink());
    let (tout, jout): (&mut dyn Write, &mut dyn Write) = if json {
        (&mut sink, out)
    } else {
        (out, &mut unused)
    };
    let mut tasks = Vec::new();
    for sp in &spans {
        let mut at = sp.range.start;
        m.break_run();
        m.header = sp.header.clone();
        while at < sp.range.end {
            interrupt::check()?;
            let n = (PAGE - at % PAGE).min(sp.range.end - at) as usize;
            let ok = match (&task, sp.phys) {
                (_, true) => k.read_phys(at, &mut buf[..n]).is_ok(),
                (Some(t), false) => k.read_user(t, at, &mut buf[..n]).is_ok(),
                (None, false) => k.read(at, &mut buf[..n]).is_ok(),
            };
            if ok {
                m.scan(sp.shown + (at - sp.range.start), &buf[..n], tout)
                    .map_err(io)?;
            } else {
                m.break_run();
            }
            m.advance(n as u64);
            at += n as u64;
        }
        tasks.resize(m.found.len(), sp.task);
    }
    m.done();
    if json {
        return emit_found(s, &m.found, &tasks, jout);
    }
    Ok(())
}

/// `search --json`: per match `{address, value}` (`{address, text}` with
/// `-c`), with `-t`/`-T` also the stack's `{pid, task, command}`.
fn emit_found(
    s: &Session,
    found: &[self::scan::Found],
    tasks: &[Option<u64>],
    out: &mut dyn Write,
) -> CmdResult {
    use super::json::hex;
    let list = s.kernel.tasks();
    let v: Vec<serde_json::Value> = found
        .iter()
        .zip(tasks)
        .map(|(f, t)| {
            let mut v = serde_json::json!({ "address": hex(f.address) });
            match (&f.text, f.value) {
                (Some(text), _) => v["text"] = text.clone().into(),
                (None, value) => v["value"] = value.map(hex).into(),
            }
            if let Some(addr) = t {
                let task = list.find_by_addr(*addr);
                v["pid"] = task.map(|t| t.pid).into();
                v["task"] = hex(*addr).into();
                v["command"] = task.map(|t| t.comm.clone()).into();
            }
            v
        })
        .collect();
    super::json::emit(out, &v)
}

/// A progress bar on standard error, at a terminal only.
fn progress(s: &Session, total: u64) -> Option<ProgressBar> {
    if !s.terminal || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
    let style =
        ProgressStyle::with_template("search {bar:40} {bytes}/{total_bytes} ({eta}, Ctrl-C stops)")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// The ranges to search, in address order.
fn spans(
    s: &Session,
    space: Space,
    start: Option<u64>,
    end: Option<u64>,
) -> Result<Vec<Span>, String> {
    let k = &s.kernel;
    let lo = start.unwrap_or(0);
    let hi = end.unwrap_or(u64::MAX);
    if lo >= hi {
        return Err(format!("invalid range: {lo:x} to {hi:x}"));
    }
    let clip = |r: Range<u64>| r.start.max(lo)..r.end.min(hi);
    let ram = k.dump().memory_ranges();
    let mut spans: Vec<Span> = match space {
        Space::Physical => ram
            .into_iter()
            .map(clip)
            .map(|r| Span {
                shown: r.start,
                range: r,
                phys: true,
                header: None,
                task: None,
            })
            .collect(),
        Space::User => {
            let (Some(s), Some(e)) = (start, end) else {
                return Err("-u needs a range: -s START with -e END or -l LENGTH".into());
            };
            vec![walked(s, e)?]
        }
        Space::Kernel => {
            // The direct map, as physical ranges shown at their virtual
            // addresses; then the kernel image.
            let mut v: Vec<Span> = ram
                .iter()
                .filter_map(|r| {
                    let (vs, ve) = (k.ptov(r.start), k.ptov(r.start) + (r.end - r.start));
                    let c = clip(vs..ve);
                    (c.start < c.end).then(|| Span {
                        range: r.start + (c.start - vs)..r.start + (c.end - vs),
                        phys: true,
                        shown: c.start,
                        header: None,
                        task: None,
                    })
                })
                .collect();
            if let (Some(t), Some(e)) = (k.symbol("_text"), k.symbol("_end")) {
                let c = clip(t..e);
                if c.start < c.end {
                    v.push(Span {
                        shown: c.start,
                        range: c,
                        phys: false,
                        header: None,
                        task: None,
                    });
                }
            }
            if v.is_empty() {
                // A range elsewhere (vmalloc, modules): walked page by page.
                let (Some(s), Some(e)) = (start, end) else {
                    return Err(
                        "the start is outside the direct map and kernel image: give -e END or -l LENGTH".into(),
                    );
                };
                v.push(walked(s, e)?);
            }
            v
        }
    };
    spans.retain(|sp| sp.range.start < sp.range.end);
    spans.sort_by_key(|sp| sp.shown);
    Ok(spans)
}

/// A virtual range read page by page, bounded.
fn walked(start: u64, end: u64) -> Result<Span, String> {
    if (end - start) / PAGE > MAX_PAGES {
        return Err(format!(
            "range {start:x}-{end:x} too large: at most {} GiB are searched page by page",
            (MAX_PAGES * PAGE) >> 30
        ));
    }
    Ok(Span {
        range: start..end,
        phys: false,
        shown: start,
        header: None,
        task: None,
    })
}

/// `-t`/`-T`: each task's kernel stack, in the task list's order, with
/// crash's task header.
fn task_stacks(s: &Session, active_only: bool) -> Vec<Span> {
    let k = &s.kernel;
    let list = k.tasks();
    list.tasks()
        .iter()
        .filter(|t| !active_only || list.is_active(t.addr))
        .filter_map(|t| {
            let st = k.task_stack(t.addr)?;
            let header = format!(
                "PID: {:<7}  TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"\n",
                t.pid, t.addr, t.cpu, t.comm
            );
            Some(Span {
                range: st.base..st.top,
                phys: false,
                shown: st.base,
                header: Some(header),
                task: Some(t.addr),
            })
        })
        .collect()
}
