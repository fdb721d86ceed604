//! `--json` (for the whole session), `set json on` or `CMD --json` (one
//! command): machine readable output, one line per command (JSON Lines).
//! The session wraps each command's value as `{"command": LINE, "result":
//! VALUE}` or `{"command": LINE, "error": TEXT}` (see docs/json.md). A
//! command with a view checks `s.json` and hands its value to [`emit`];
//! adding JSON to a command is that, plus `json: true` in its
//! [`Command`](super::Command). A command without is not run in JSON
//! mode: its line is the error `no JSON view for CMD yet`.

use std::io::Write;

use serde::Serialize;
use serde_json::{json, Value};

use super::{io, CmdResult};
use crate::session::Session;

/// `value` as compact JSON, one document per command: the session wraps it.
pub fn emit<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> CmdResult {
    let text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    writeln!(out, "{text}").map_err(io)
}

/// A command whose view is its text: `run` in text mode into a buffer,
/// the value `{KEY: NAME, "text": TEXT}`, NAME the first word that is
/// not an option (`task_struct` of `struct task_struct.pid ADDR`).
pub fn as_text(
    s: &mut Session,
    key: &str,
    args: &[String],
    out: &mut dyn Write,
    run: impl FnOnce(&mut Session, &mut dyn Write) -> CmdResult,
) -> CmdResult {
    let mut buf = Vec::new();
    s.json = false;
    let r = run(s, &mut buf);
    s.json = true;
    r?;
    let name = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(|w| w.split('.').next().unwrap_or(w));
    let mut v = serde_json::Map::new();
    v.insert(key.to_string(), name.into());
    v.insert("text".to_string(), String::from_utf8_lossy(&buf).into());
    emit(out, &v)
}

/// An address as JSON shows it: a hexadecimal string, as the text output
/// does (JSON numbers lose 64-bit precision in many readers).
pub fn hex(addr: u64) -> String {
    format!("{addr:#x}")
}

/// `bt --json`: each backtrace with its frames (and exception registers).
pub fn backtraces(
    s: &Session,
    traces: &[Result<kdive_kernel::stack::Backtrace, String>],
    out: &mut dyn Write,
) -> CmdResult {
    let k = &s.kernel;
    let list = k.tasks();
    let v: Vec<Value> = traces
        .iter()
        .map(|t| match t {
            Err(e) => json!({ "error": e }),
            Ok(bt) => {
                let task = list.find_by_addr(bt.task);
                // As the text shows them: an interrupted frame found by the
                // exception frame before it is that frame's `exception`.
                let shown = bt.frames.iter().enumerate().filter(|(i, f)| {
                    !(*i > 0 && f.interrupted && {
                        let prev = &bt.frames[i - 1];
                        prev.regs.is_some() && prev.stack == f.stack
                    })
                });
                let frames: Vec<Value> = shown
                    .enumerate()
                    .map(|(level, (_, f))| {
                        let sym = k.symbols().lookup(f.lookup_pc()).map(|(sym, _)| sym);
                        json!({
                            "level": level,
                            "sp": hex(f.slot),
                            "pc": hex(f.pc),
                            "function": sym.map(|s| s.name.clone()),
                            "offset": sym.map(|s| f.pc.wrapping_sub(s.addr)),
                            "module": sym.and_then(|s| s.module.clone()),
                            "source": k.source_line(f.pc).map(|l| l.to_string()),
                            "exception": f.regs.as_ref().map(|r| regs(s, &r.regs.0)),
                        })
                    })
                    .collect();
                json!({
                    "task": hex(bt.task),
                    "pid": task.map(|t| t.pid),
                    "command": task.map(|t| t.comm.clone()),
                    "cpu": bt.cpu,
                    "frames": frames,
                    "error": bt.error,
                })
            }
        })
        .collect();
    emit(out, &v)
}

/// `pt_regs` by name.
fn regs(s: &Session, words: &[u64]) -> Value {
    let names = s.kernel.arch().pt_regs().names;
    let m: serde_json::Map<String, Value> = names
        .iter()
        .zip(words)
        .map(|(n, v)| (n.to_string(), Value::String(hex(*v))))
        .collect();
    Value::Object(m)
}

/// `ps --json`: the tasks given (all when none).
pub fn tasks(s: &Session, tasks: &[&kdive_kernel::Task], out: &mut dyn Write) -> CmdResult {
    let list = s.kernel.tasks();
    let panic = list.panic_task().map(|t| t.addr);
    let v: Vec<Value> = tasks
        .iter()
        .map(|t| {
            json!({
                "pid": t.pid,
                "ppid": t.ppid,
                "tgid": t.tgid,
                "cpu": t.cpu,
                "task": hex(t.addr),
                "state": list.state_names(t),
                "active": list.is_active(t.addr),
                "panic": panic == Some(t.addr),
                "kernel_thread": t.is_kernel_thread(),
                "vsz_pages": t.usage.total_vm,
                "rss_pages": t.usage.rss,
                "comm": t.comm,
            })
        })
        .collect();
    emit(out, &v)
}

/// `log --json`: every record with its metadata.
pub fn log(s: &Session, out: &mut dyn Write) -> CmdResult {
    let log = s.kernel.log().map_err(|e| e.to_string())?;
    let v: Vec<Value> = log
        .records
        .iter()
        .map(|r| {
            json!({
                "seq": r.seq,
                "ts_nsec": r.ts_nsec,
                "level": r.level,
                "facility": r.facility,
                "caller_id": r.caller_id,
                "text": r.text_lossy(),
                "dict": r.dict,
            })
        })
        .collect();
    emit(out, &v)
}

/// `mod --json`: the loaded modules.
pub fn modules(s: &Session, out: &mut dyn Write) -> CmdResult {
    let v: Vec<Value> = s
        .kernel
        .modules()
        .iter()
        .map(|m| {
            json!({
                "name": m.name,
                "module": hex(m.addr),
                "base": hex(m.base),
                "size": m.size,
                "state": m.state,
                "nsyms": m.nsyms,
            })
        })
        .collect();
    emit(out, &v)
}

/// `sys --json`: sys's lines as an object, keyed by their labels in
/// lower case (`load_average`), numbers where they are numbers.
pub fn sys_lines(text: &str, out: &mut dyn Write) -> CmdResult {
    let mut m = serde_json::Map::new();
    for line in text.lines() {
        let Some((label, value)) = line.split_once(": ") else {
            continue;
        };
        let key = label.trim().to_lowercase().replace(' ', "_");
        let value = value.trim();
        let v = match value.parse::<u64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(value.trim_matches('"').to_string()),
        };
        m.insert(key, v);
    }
    emit(out, &Value::Object(m))
}

/// `sym --json`: each symbol as an object.
pub fn symbol(s: &Session, sym: &kdive_debuginfo::Symbol, off: u64) -> Value {
    json!({
        "address": hex(sym.addr + off),
        "type": sym.kind.to_string(),
        "name": sym.name,
        "offset": off,
        "module": sym.module,
        "source": s.kernel.is_code(sym).then(|| s.source_line(sym.addr + off, off == 0)).flatten(),
    })
}
