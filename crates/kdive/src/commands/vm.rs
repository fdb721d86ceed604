//! `vm`: a task's memory map, as crash prints it: the task header, its
//! `mm_struct`, page directory and sizes, then each VMA (address, start,
//! end, flags, file). A kernel thread has no `mm_struct`: crash prints the
//! sizes as 0 and no VMAs. `-m` prints the `mm_struct`, `-v` each
//! `vm_area_struct`.
//!
//! crash 8.0.2 cannot list the VMAs of Linux 6.1 and later (it looks for
//! `mm_struct.mmap`, which became the maple tree `mm_mt`; it fails with
//! "invalid structure member offset: mm_struct_mmap"); kdive reads the
//! maple tree and prints them in crash's format. RSS counts shared-memory
//! pages as `ps` does (crash 8.0.2 leaves `MM_SHMEMPAGES` out; 8.0.4
//! counts them), so it may be larger than crash 8.0.2's.
//!
//! ```text
//!        MM               PGD          RSS    TOTAL_VM
//! ff36587ec1821680  ff36587ec2138000   64k     2260k
//!       VMA           START       END     FLAGS FILE
//! ff36587ec2172000     400000     401000 8000875 /init
//! ```

use std::io::Write;

use kdive_kernel::Task;

use super::options::{self, Options};
use super::per_task::{mkstring, pick, task_header, Just, Picked};
use super::set::current_task;
use super::types::{no_types, print_object};
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "vm [-m | -v] [-x | -d] [pid | taskp] ...";

/// crash's column for user addresses on x86-64.
const UVADDR_PRLEN: usize = 10;

/// `PF_EXITING`: crash shows an exiting task's memory as none.
const PF_EXITING: u64 = 0x4;

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    mm_struct: bool,
    vma_structs: bool,
    hex: bool,
}

pub const COMMAND: Command = Command {
    name: "vm",
    aliases: &[],
    summary: "show a task's memory map: its mm_struct, page directory, sizes and VMAs",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: true,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let Options { opts, words } =
        options::parse(args, "pmvxd", "fRPM").map_err(|e| format!("{e}\nUsage: {USAGE}"))?;
    let mut f = Flags::default();
    let mut radix = None;
    for (c, _) in opts {
        match c {
            'm' | 'v' if f.mm_struct || f.vma_structs => return Err(format!("Usage: {USAGE}")),
            'm' => f.mm_struct = true,
            'v' => f.vma_structs = true,
            'x' | 'd' => {
                let hex = c == 'x';
                if radix == Some(!hex) {
                    return Err("-d and -x are mutually exclusive".into());
                }
                radix = Some(hex);
            }
            _ => return Err(format!("option -{c} is not supported yet")),
        }
    }
    f.hex = radix == Some(true);
    if s.json && !f.mm_struct && !f.vma_structs {
        return json(s, &words, out);
    }
    if words.is_empty() {
        let t = current_task(s).ok_or("no current task: the task list could not be read")?;
        write!(out, "{}", task_header(t, false)).map_err(io)?;
        return dump(s, t, f, out);
    }
    let mut subsequent = false;
    for w in &words {
        let list = s.kernel.tasks();
        match pick(list, w) {
            Picked::Invalid => {
                let nl = if subsequent { "\n" } else { "" };
                subsequent = true;
                writeln!(out, "vm: {nl}invalid task or pid value: {w}").map_err(io)?;
            }
            p => {
                for t in p.tasks() {
                    write!(out, "{}", task_header(t, subsequent)).map_err(io)?;
                    subsequent = true;
                    dump(s, t, f, out)?;
                }
            }
        }
    }
    Ok(())
}

/// `vm --json`: per task `{pid, task, command, mm, pgd, rss_pages,
/// total_vm_pages, vmas}`, each VMA `{vma, start, end, flags, file}`.
fn json(s: &Session, words: &[String], out: &mut dyn Write) -> CmdResult {
    use super::json::hex;
    let k = &s.kernel;
    let list = k.tasks();
    let mut tasks = Vec::new();
    if words.is_empty() {
        tasks.push(current_task(s).ok_or("no current task: the task list could not be read")?);
    }
    for w in words {
        match pick(list, w) {
            Picked::Invalid => return Err(format!("invalid task or pid value: {w}")),
            p => tasks.extend(p.tasks()),
        }
    }
    let mut v = Vec::new();
    for t in tasks {
        let gone = list.state_code(t) == "ZO" || t.flags & PF_EXITING != 0 || t.mm == 0;
        let (mm, pgd, rss, total) = if gone {
            (0, 0, 0, 0)
        } else {
            (
                t.mm,
                k.mm_pgd(t.mm).unwrap_or(0),
                t.usage.rss,
                t.usage.total_vm,
            )
        };
        let mut vmas = Vec::new();
        if mm != 0 {
            let found = k.vmas(mm).map_err(|e| e.to_string())?;
            for d in &found.damage {
                eprintln!("vm: {d}");
            }
            for a in &found.vmas {
                let file = (a.file != 0).then(|| {
                    k.file_path(a.file).unwrap_or_else(|e| {
                        eprintln!("vm: {e}");
                        "?".into()
                    })
                });
                vmas.push(serde_json::json!({
                    "vma": hex(a.addr),
                    "start": hex(a.start),
                    "end": hex(a.end),
                    "flags": hex(a.flags),
                    "file": file,
                }));
            }
        }
        v.push(serde_json::json!({
            "pid": t.pid,
            "task": hex(t.addr),
            "command": t.comm,
            "mm": hex(mm),
            "pgd": hex(pgd),
            "rss_pages": rss,
            "total_vm_pages": total,
            "vmas": vmas,
        }));
    }
    super::json::emit(out, &v)
}

/// crash's `vm_area_dump()` of one task.
fn dump(s: &Session, t: &Task, f: Flags, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let list = k.tasks();
    let gone = list.state_code(t) == "ZO" || t.flags & PF_EXITING != 0 || t.mm == 0;
    let (mm, pgd, rss, total) = if gone {
        (0, 0, 0, 0)
    } else {
        let pgd = k.mm_pgd(t.mm).unwrap_or(0);
        (t.mm, pgd, t.usage.rss, t.usage.total_vm)
    };
    if !f.mm_struct && !f.vma_structs {
        let page_kb = 4;
        writeln!(
            out,
            "{}  {}  {}  {}",
            mkstring("MM", 16, Just::CenterL),
            mkstring("PGD", 16, Just::CenterL),
            mkstring("RSS", 6, Just::CenterL),
            mkstring("TOTAL_VM", 8, Just::CenterL)
        )
        .map_err(io)?;
        writeln!(
            out,
            "{}  {}  {}  {}",
            mkstring(&format!("{mm:x}"), 16, Just::CenterL),
            mkstring(&format!("{pgd:x}"), 16, Just::CenterL),
            mkstring(&format!("{}k", rss * page_kb), 6, Just::CenterL),
            mkstring(&format!("{}k", total * page_kb), 8, Just::CenterL)
        )
        .map_err(io)?;
    }
    if mm == 0 {
        return Ok(());
    }
    if f.mm_struct {
        let src = k.types().ok_or_else(|| no_types(s))?;
        print_object(s, src, "mm_struct", &[], mm, f.hex, out)?;
        return Ok(());
    }
    let vmas = k.vmas(mm).map_err(|e| e.to_string())?;
    if !f.vma_structs {
        writeln!(
            out,
            "{} {} {}  FLAGS FILE",
            mkstring("VMA", 16, Just::CenterL),
            mkstring("START", UVADDR_PRLEN, Just::CenterR),
            mkstring("END", UVADDR_PRLEN, Just::CenterR)
        )
        .map_err(io)?;
    }
    for v in &vmas.vmas {
        if f.vma_structs {
            let src = k.types().ok_or_else(|| no_types(s))?;
            print_object(s, src, "vm_area_struct", &[], v.addr, f.hex, out)?;
            continue;
        }
        let file = if v.file == 0 {
            String::new()
        } else {
            k.file_path(v.file).unwrap_or_else(|e| {
                let _ = out.flush();
                eprintln!("vm: {e}");
                "?".into()
            })
        };
        writeln!(
            out,
            "{} {} {} {:6x} {file}",
            mkstring(&format!("{:x}", v.addr), 16, Just::CenterL),
            mkstring(&format!("{:x}", v.start), UVADDR_PRLEN, Just::Right),
            mkstring(&format!("{:x}", v.end), UVADDR_PRLEN, Just::Right),
            v.flags
        )
        .map_err(io)?;
    }
    if !vmas.damage.is_empty() {
        out.flush().map_err(io)?;
        for d in &vmas.damage {
            eprintln!("vm: {d}");
        }
    }
    Ok(())
}
