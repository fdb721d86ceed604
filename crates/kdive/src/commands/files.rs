//! `files`: a task's root and working directory and its open files, as
//! crash 8.0.2 prints them:
//!
//! ```text
//! PID: 1        TASK: ff36587ec11f4180  CPU: 1    COMMAND: "init"
//! ROOT: /    CWD: /
//!  FD       FILE            DENTRY           INODE       TYPE PATH
//!   0 ff36587ec20f5d00 ff36587ec1da1c00 ff36587ec18037b0 CHR  /dev/console
//! ```

use std::io::Write;

use kdive_kernel::fs::{FileInfo, OpenFile};

use super::options::{self, Options};
use super::per_task::{mkstring, pick, task_header, Just, Picked};
use super::set::current_task;
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "files [pid | taskp] ...";

pub const COMMAND: Command = Command {
    name: "files",
    aliases: &[],
    summary: "show a task's root and working directory and its open files",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: true,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let Options { opts, words } =
        options::parse(args, "c", "dRp").map_err(|e| format!("{e}\nUsage: {USAGE}"))?;
    if let Some((c, _)) = opts.first() {
        return Err(format!("option -{c} is not supported yet"));
    }
    if s.json {
        return json(s, &words, out);
    }
    if words.is_empty() {
        let t = current_task(s).ok_or("no current task: the task list could not be read")?;
        write!(out, "{}", task_header(t, false)).map_err(io)?;
        return open_files(s, t.addr, out);
    }
    for (i, w) in words.iter().enumerate() {
        let list = s.kernel.tasks();
        match pick(list, w) {
            Picked::Pid(ts) => {
                for t in ts {
                    write!(out, "{}", task_header(t, i > 0)).map_err(io)?;
                    open_files(s, t.addr, out)?;
                    writeln!(out).map_err(io)?;
                }
            }
            Picked::Task(t) => {
                write!(out, "{}", task_header(t, i > 0)).map_err(io)?;
                open_files(s, t.addr, out)?;
            }
            Picked::Invalid => {
                writeln!(out, "files: invalid task or pid value: {w}").map_err(io)?
            }
        }
    }
    Ok(())
}

/// `files --json`: per task `{pid, task, command, root, cwd, files}`, each
/// file `{fd, file, dentry, inode, type, path}` (or `{fd, file, error}`);
/// `files` null when the task has no file table.
fn json(s: &Session, words: &[String], out: &mut dyn Write) -> CmdResult {
    use super::json::hex;
    let list = s.kernel.tasks();
    let mut tasks = Vec::new();
    if words.is_empty() {
        tasks.push(current_task(s).ok_or("no current task: the task list could not be read")?);
    }
    for w in words {
        match pick(list, w) {
            Picked::Pid(ts) => tasks.extend(ts),
            Picked::Task(t) => tasks.push(t),
            Picked::Invalid => return Err(format!("invalid task or pid value: {w}")),
        }
    }
    let mut v = Vec::new();
    for t in tasks {
        let f = s.kernel.task_files(t.addr).map_err(|e| e.to_string())?;
        for n in &f.notices {
            eprintln!("files: {n}");
        }
        let files = f.files.as_ref().map(|list| {
            list.iter()
                .map(|o| match &o.info {
                    Err(e) => serde_json::json!({ "fd": o.fd, "file": hex(o.file), "error": e.to_string() }),
                    Ok(i) => serde_json::json!({
                        "fd": o.fd,
                        "file": hex(o.file),
                        "dentry": hex(i.dentry),
                        "inode": hex(i.inode),
                        "type": i.kind.crash_name().trim(),
                        "path": i.path,
                    }),
                })
                .collect::<Vec<_>>()
        });
        v.push(serde_json::json!({
            "pid": t.pid,
            "task": hex(t.addr),
            "command": t.comm,
            "root": f.root_cwd.as_ref().map(|r| &r.0),
            "cwd": f.root_cwd.as_ref().map(|r| &r.1),
            "files": files,
        }));
    }
    super::json::emit(out, &v)
}

/// crash's `open_files_dump()` for the task at `task`.
pub fn open_files(s: &Session, task: u64, out: &mut dyn Write) -> CmdResult {
    let f = s.kernel.task_files(task).map_err(|e| e.to_string())?;
    super::record(s, &f.notices);
    let mut notices: Vec<String> = f.notices.iter().map(|n| n.text.clone()).collect();
    if let Some((root, cwd)) = &f.root_cwd {
        writeln!(out, "ROOT: {root}    CWD: {cwd}").map_err(io)?;
    }
    match &f.files {
        Some(list) if !list.is_empty() => {
            writeln!(
                out,
                " FD {} {} {} TYPE PATH",
                mkstring("FILE", 16, Just::CenterL),
                mkstring("DENTRY", 16, Just::CenterL),
                mkstring("INODE", 16, Just::CenterL)
            )
            .map_err(io)?;
            for o in list {
                let (text, damage) = line(o);
                writeln!(out, "{text}").map_err(io)?;
                notices.extend(damage);
            }
        }
        _ => writeln!(out, "No open files").map_err(io)?,
    }
    if !notices.is_empty() {
        out.flush().map_err(io)?;
        let mut told = std::collections::HashSet::new();
        for n in notices.iter().filter(|n| told.insert(n.as_str())) {
            eprintln!("files: {n}");
        }
    }
    Ok(())
}

/// One open file: crash's `file_dump()` line, and what could not be read.
fn line(o: &OpenFile) -> (String, Option<String>) {
    let hex = |v: u64| mkstring(&format!("{v:x}"), 16, Just::CenterR);
    let unknown = mkstring("?", 16, Just::CenterL);
    match &o.info {
        Err(e) => (
            format!("{:3} {} {unknown} {unknown} ?    ?", o.fd, hex(o.file)),
            Some(e.to_string()),
        ),
        Ok(FileInfo { dentry: 0, .. }) => (
            format!("{:3} {} {:016x} {unknown} ?    ?", o.fd, hex(o.file), 0),
            None,
        ),
        Ok(FileInfo {
            dentry, inode: 0, ..
        }) => (
            format!(
                "{:3} {} {} {:016x} ?    ?",
                o.fd,
                hex(o.file),
                hex(*dentry),
                0
            ),
            None,
        ),
        Ok(i) => (
            format!(
                "{:3} {} {} {} {} {}",
                o.fd,
                hex(o.file),
                hex(i.dentry),
                hex(i.inode),
                i.kind.crash_name(),
                i.path
            ),
            i.damage.clone(),
        ),
    }
}
