//! kdive's backtraces beside drgn's and the kernel's own: on every corpus
//! crash, the chain of functions from each CPU's saved registers is the
//! one drgn printed in `drgn.txt` (inlined functions included, from the
//! vmlinux's DWARF; without the vmlinux, the same frames less those), the
//! exception registers are those the kernel printed in its oops on the
//! console, and sleeping tasks (found by a small walk of `init_task.tasks`
//! here) unwind without error to where their stacks begin.

use std::path::Path;

use kdive_arch::x86_64::unwind::PtRegs;
use kdive_kernel::stack::{Backtrace, OrcTables};
use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::{require, Crash};

/// One entry of a drgn stack trace.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// A function, by name.
    Name(String),
    /// Code with no DWARF function: `symbol+0xoff/0xsize`, as an address.
    At(String, u64),
    /// A user-space address: where the task entered the kernel from.
    User(u64),
}

/// `#3  name (file:line)`, `#12 sym+0xa6/0x1ab (file)`, `#13 0x47b7a0`.
fn parse_entry(line: &str) -> Option<Entry> {
    let rest = line.strip_prefix('#')?;
    let (n, rest) = rest.split_once(' ')?;
    n.parse::<u32>().ok()?;
    let token = rest.split_whitespace().next()?;
    if let Some(hex) = token.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(Entry::User);
    }
    if let Some((sym, off)) = token.split_once("+0x") {
        let off = off.split('/').next()?;
        return Some(Entry::At(
            sym.to_string(),
            u64::from_str_radix(off, 16).ok()?,
        ));
    }
    Some(Entry::Name(base(token)))
}

/// A function name without the suffixes of compiler clones (`.cold`,
/// `.isra.0`, `.constprop.0`): drgn names them by their DWARF function.
fn base(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_string()
}

/// drgn.txt's stack traces: the crashed thread's, and each CPU's.
struct Drgn {
    crashed: Vec<Entry>,
    /// (cpu, pid, trace)
    cpus: Vec<(usize, i32, Vec<Entry>)>,
}

fn parse_drgn(text: &str) -> Drgn {
    let mut d = Drgn {
        crashed: Vec::new(),
        cpus: Vec::new(),
    };
    let mut section = "";
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("### ") {
            section = if s.starts_with("crashed thread") {
                "crashed"
            } else if s.starts_with("active task per cpu") {
                "cpus"
            } else {
                ""
            };
            continue;
        }
        match section {
            "crashed" => d.crashed.extend(parse_entry(line)),
            "cpus" => {
                if let Some(h) = line.strip_prefix("=== cpu ") {
                    let w: Vec<&str> = h.split_whitespace().collect();
                    d.cpus
                        .push((w[0].parse().unwrap(), w[2].parse().unwrap(), Vec::new()));
                } else if let (Some(e), Some(last)) = (parse_entry(line), d.cpus.last_mut()) {
                    last.2.push(e);
                }
            }
            _ => {}
        }
    }
    d
}

/// A backtrace's chain from its saved registers, as drgn lists one: for
/// each frame the functions inlined there then its own (its own only,
/// without DWARF), then the user-space address it came from.
fn chain(k: &Kernel, bt: &Backtrace, inlined: bool) -> Vec<(Entry, u64)> {
    let mut out = Vec::new();
    for (i, f) in bt.frames.iter().enumerate().skip(bt.start) {
        // The first frame holds the saved registers: drgn looks its
        // functions up at the saved ip, which may be further in than the
        // return address the frame shows (`__crash_kexec` for a panic).
        let pc = match bt.saved {
            Some(r) if i == bt.start && !f.interrupted => r.ip(),
            _ => f.lookup_pc(),
        };
        let mut names = if inlined {
            k.functions_at(pc)
        } else {
            Vec::new()
        };
        if names.is_empty() {
            names.push(
                k.symbols()
                    .lookup(pc)
                    .map(|(s, _)| s.name.clone())
                    .unwrap_or_default(),
            );
        }
        for n in names {
            out.push((Entry::Name(base(&n)), f.pc));
        }
    }
    let user: Option<PtRegs> = bt.user_regs.or_else(|| {
        bt.frames
            .last()
            .and_then(|f| f.regs)
            .map(|e| e.regs)
            .filter(|r| r.user_mode())
    });
    if let Some(r) = user {
        out.push((Entry::User(r.ip()), r.ip()));
    }
    out
}

fn check_chain(what: &str, k: &Kernel, ours: &[(Entry, u64)], drgn: &[Entry]) {
    let show = |v: &[(Entry, u64)]| {
        v.iter()
            .map(|(e, pc)| format!("{e:?} {pc:x}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        ours.len(),
        drgn.len(),
        "{what}: kdive:\n{}\ndrgn:\n{drgn:?}",
        show(ours)
    );
    for ((e, pc), d) in ours.iter().zip(drgn) {
        match d {
            Entry::At(sym, off) => {
                let addr = k.symbol(sym).map(|a| a + off);
                assert_eq!(
                    addr,
                    Some(*pc),
                    "{what}: drgn's {sym}+{off:#x} is not kdive's {pc:x}\n{}",
                    show(ours)
                );
            }
            _ => assert_eq!(e, d, "{what}: kdive:\n{}\ndrgn:\n{drgn:?}", show(ours)),
        }
    }
}

fn open(dump: &Path, vmlinux: Option<&Path>) -> Kernel {
    let choice = vmlinux.map_or(VmlinuxChoice::None, VmlinuxChoice::Given);
    Kernel::open_with(dump, choice).unwrap_or_else(|e| panic!("{}: {e}", dump.display()))
}

fn release(c: &Crash) -> &str {
    c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel)
}

/// What drgn prints for the dump: its `drgn.txt`, or drgn run now (the
/// same script as the corpus's `transcripts.sh`, its stack-trace part)
/// when a Python with drgn is installed. Sections drgn did not finish
/// (it stops at pages a dump left out) are left out.
fn drgn_text(c: &Crash, dump: &Path, vmlinux: &Path) -> Option<String> {
    if let Some(txt) = c.file("drgn.txt") {
        return std::fs::read_to_string(txt).ok();
    }
    let python = match kdive_testkit::drgn_python() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: no drgn.txt, and {e}", c.name());
            return None;
        }
    };
    let script = std::env::temp_dir().join(format!("kdive-bt-drgn-{}.py", std::process::id()));
    std::fs::write(&script, DRGN_SCRIPT).ok()?;
    let mut cmd = std::process::Command::new(python);
    cmd.args(["-m", "drgn", "-q", "-c"])
        .arg(dump)
        .arg("-s")
        .arg(vmlinux);
    if let Some(ko) = c.file("crashme.ko") {
        cmd.arg("-s").arg(ko);
    }
    let out = cmd.arg(&script).output().ok()?;
    let _ = std::fs::remove_file(&script);
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// drgn's stack traces of the crashed thread and of each CPU's task.
const DRGN_SCRIPT: &str = r####"
from drgn.helpers.linux.sched import task_cpu
print("### crashed thread")
th = prog.crashed_thread()
print("tid", th.tid)
print(th.stack_trace())
print("### active task per cpu")
for th in prog.threads():
    try:
        t = th.object
        if t.on_cpu:
            print("=== cpu", task_cpu(t), "pid", th.tid, t.comm.string_().decode())
            print(th.stack_trace())
    except Exception:
        pass
"####;

#[test]
fn chains_match_drgn() {
    let mut n = 0;
    for c in require("bt chains against drgn") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        let Some(vmlinux) = kdive_testkit::vmlinux(release(&c)) else {
            continue;
        };
        let Some(text) = drgn_text(&c, dump, &vmlinux) else {
            continue;
        };
        let drgn = parse_drgn(&text);
        if drgn.crashed.is_empty() {
            eprintln!("{}: drgn gave no stack trace", c.name());
            continue;
        }
        let with = open(dump, Some(&vmlinux));
        let without = open(dump, None);
        let (orc_with, orc_without) = (OrcTables::load(&with), OrcTables::load(&without));
        assert!(
            orc_without.problem.is_none(),
            "{}: {:?}",
            c.name(),
            orc_without.problem
        );
        let panic_cpu = with.panic_cpu().expect("panic cpu");
        let mut traces = vec![(panic_cpu, None, &drgn.crashed)];
        traces.extend(drgn.cpus.iter().map(|(cpu, pid, t)| (*cpu, Some(*pid), t)));
        for (cpu, pid, expected) in traces {
            let what = format!("{} cpu {cpu}", c.name());
            let bt = with
                .backtrace_cpu(cpu, &orc_with)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(bt.error, None, "{what}");
            if let Some(pid) = pid {
                assert_eq!(with.task_brief(bt.task).unwrap().pid, pid, "{what}: task");
            }
            check_chain(&what, &with, &chain(&with, &bt, true), expected);
            // From memory alone: the same frames, less the inlined ones.
            let bt2 = without
                .backtrace_cpu(cpu, &orc_without)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(bt2.error, None, "{what} (no vmlinux)");
            assert_eq!(
                chain(&without, &bt2, false),
                chain(&with, &bt, false),
                "{what} (no vmlinux)"
            );
            assert_eq!(bt2.frames, bt.frames, "{what} (no vmlinux)");
            n += 1;
        }
    }
    eprintln!("{n} stack traces compared with drgn's");
}

/// The registers of the kernel's last oops report on the console:
/// `RIP: 0010:sym+0xoff/0xsize` (or `0033:0xADDR`), then `RSP: 0018:X
/// EFLAGS: Y` and `RAX: a RBX: b RCX: c` lines. (name, value) pairs, with
/// `CS` and `RIP` (kernel RIPs as `sym+off`).
fn console_regs(text: &str) -> Option<(String, Vec<(String, u64)>)> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().rposition(|l| l.contains("] RIP: "))?;
    let (_, rip) = lines[at].split_once("] RIP: ")?;
    let (cs, rip) = rip.split_once(':')?;
    let mut regs = vec![("CS".to_string(), u64::from_str_radix(cs, 16).ok()?)];
    for l in &lines[at + 1..(at + 10).min(lines.len())] {
        let Some((_, body)) = l.split_once("] ") else {
            continue;
        };
        let w: Vec<&str> = body.split_whitespace().collect();
        for pair in w.chunks(2) {
            let [name, value] = pair else { continue };
            let Some(name) = name.strip_suffix(':') else {
                continue;
            };
            // The general registers and flags; not the segment and control
            // registers of the lines after them.
            let general = name == "EFLAGS" || (name.starts_with('R') && name.len() == 3);
            if !general {
                continue;
            }
            // `RSP: 0018:ff6a...`: the stack segment, then the pointer.
            let value = value.rsplit(':').next()?;
            if let Ok(v) = u64::from_str_radix(value, 16) {
                regs.push((name.replace("R0", "R"), v));
            }
        }
    }
    Some((rip.split('/').next()?.to_string(), regs))
}

#[test]
fn exception_registers_match_the_oops() {
    let mut n = 0;
    for c in require("bt exception registers against console.txt") {
        let (Some(dump), Some(txt)) = (c.variant("kdump-zlib"), c.file("console.txt")) else {
            continue;
        };
        let Some((rip, regs)) = console_regs(&std::fs::read_to_string(txt).unwrap()) else {
            continue;
        };
        let k = open(dump, None);
        let Some(cpu) = k.panic_cpu() else { continue };
        let bt = k.backtrace_cpu(cpu, &OrcTables::load(&k)).unwrap();
        let kernel_mode = regs.iter().any(|(n, v)| n == "CS" && v & 3 == 0);
        // The oops's registers: those of the exception frame (kernel mode),
        // or those the task entered the kernel with (a panic in a syscall).
        let found = bt
            .frames
            .iter()
            .filter_map(|f| f.regs)
            .map(|e| e.regs)
            .find(|r| r.user_mode() != kernel_mode)
            .unwrap_or_else(|| panic!("{}: no exception frame in kdive's backtrace", c.name()));
        let what = c.name();
        if kernel_mode {
            let (sym, off) = rip.split_once("+0x").unwrap();
            let addr = k.symbol(sym).unwrap() + u64::from_str_radix(off, 16).unwrap();
            assert_eq!(found.ip(), addr, "{what}: RIP");
        } else {
            assert_eq!(format!("{:#x}", found.ip()), rip, "{what}: RIP");
        }
        for (name, v) in &regs {
            // The console's names to pt_regs': RAX is ax, R8 is r8.
            let lower = name.to_ascii_lowercase();
            let ours = match lower.as_str() {
                "eflags" => found.get("flags"),
                n if n.len() == 3 && !n[1..].chars().all(|c| c.is_ascii_digit()) => {
                    found.get(&n[1..])
                }
                n => found.get(n),
            };
            assert_eq!(ours, Some(*v), "{what}: {name}");
        }
        assert!(
            regs.len() >= 18,
            "{what}: the console's register lines not read: {regs:?}"
        );
        n += 1;
    }
    eprintln!("{n} oops register blocks compared");
}

/// Every task, by a small walk of `init_task.tasks` (bounded).
fn all_tasks(k: &Kernel) -> Vec<u64> {
    let btf = k.btf().expect("btf");
    let off = btf.member_offset("task_struct", "tasks").unwrap().offset();
    let head = k.symbol("init_task").unwrap();
    let mut out = vec![head];
    let mut at = head + off;
    while out.len() < 100_000 {
        match k.read_u64(at) {
            Ok(next) if next == head + off => break,
            Ok(next) => {
                out.push(next - off);
                at = next;
            }
            Err(e) => {
                eprintln!("task list: {e}: walked {} tasks", out.len());
                break;
            }
        }
    }
    out
}

/// Tasks that were not running unwind from their switch frame to where
/// their stacks begin: `ret_from_fork` for a kernel thread, the user-mode
/// registers of a system call or interrupt for a user task, with no error.
/// A running task's backtrace by its address is its CPU's. A task whose
/// `task_struct` or stack the dump left out (makedumpfile older than the
/// kernel takes slab pages for user pages at `-d 31`) cannot unwind; the
/// error must say so.
#[test]
fn sleeping_tasks_unwind_to_their_entry() {
    let left_out = |e: &str| e.contains("excluded from the dump");
    let (mut n, mut skipped) = (0, 0);
    for c in require("bt of sleeping tasks") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        for k in [
            open(dump, kdive_testkit::vmlinux(release(&c)).as_deref()),
            open(dump, None),
        ] {
            let orc = OrcTables::load(&k);
            eprintln!("{}", c.name());
            for task in all_tasks(&k) {
                let pid = match k.task_brief(task) {
                    Ok(b) => b.pid,
                    Err(e) => {
                        eprintln!("{}: {e}", c.name());
                        continue;
                    }
                };
                let what = format!("{} task {task:x} (pid {pid})", c.name());
                let bt = match k.backtrace_task(task, &orc) {
                    Ok(bt) => bt,
                    Err(e) if e.is_excluded() => {
                        assert!(left_out(&e.to_string()), "{what}: {e}");
                        skipped += 1;
                        continue;
                    }
                    Err(e) => panic!("{what}: {e}"),
                };
                if let Some(cpu) = k.task_active_cpu(task) {
                    assert_eq!(bt, k.backtrace_cpu(cpu, &orc).unwrap(), "{what}");
                    continue;
                }
                // The idle task of a CPU that never ran anything else has
                // no switch frame.
                if pid == 0 {
                    continue;
                }
                if bt.error.as_deref().is_some_and(left_out) {
                    skipped += 1;
                    continue;
                }
                assert_eq!(bt.error, None, "{what}: {:#x?}", bt.frames);
                if bt.no_stack {
                    // The kernel frees a task's stack at its last switch
                    // after exit: only a zombie or dead task has none.
                    let off = k
                        .btf()
                        .unwrap()
                        .member_offset("task_struct", "exit_state")
                        .unwrap()
                        .offset();
                    let exit_state = k.read_u32(task + off).unwrap();
                    assert_ne!(exit_state, 0, "{what}: no stack, yet it did not exit");
                    continue;
                }
                let last = bt
                    .frames
                    .last()
                    .unwrap_or_else(|| panic!("{what}: no frames"));
                let name = k
                    .symbols()
                    .lookup(last.lookup_pc())
                    .map(|(s, _)| s.name.clone())
                    .unwrap_or_default();
                let user = last.regs.is_some_and(|e| e.regs.user_mode());
                assert!(
                    user || name.starts_with("ret_from_fork"),
                    "{what}: ends in {name}: {:#x?}",
                    bt.frames
                );
                n += 1;
            }
        }
    }
    assert!(
        n > 0 || kdive_testkit::crashes().is_empty(),
        "no sleeping task"
    );
    eprintln!("{n} sleeping tasks unwound, {skipped} left out of their dump");
}
