//! `vm` and `files` of every user task against drgn's reading of the same
//! dump (its maple tree and file table helpers: an independent reader),
//! and `foreach task|files|vm` and `runq` over every task of every dump,
//! with the vmlinux and without: no panic, no hang, every task shown.
//!
//! drgn cannot read some tasks of the 6.12 dumps (their makedumpfile left
//! out pages it needs: "Excluded page"); those tasks are compared where
//! drgn read them, and skipped (counted) where it did not.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{arg_sets, dump, release, run_kdive};
use kdive_testkit::{allowed, drgn_python, require};

/// Each user task's VMAs (`V pid vma start end flags path`) and open files
/// (`F pid fd file dentry inode path`); `X task why` for a task drgn could
/// not read.
const ORACLE: &str = r#"
import sys, drgn
from drgn import Program
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.mapletree import mt_for_each
from drgn.helpers.linux.fs import d_path, for_each_file
prog = Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
PF_KTHREAD, PF_EXITING = 0x00200000, 0x4
def one(t):
    if t.flags & (PF_KTHREAD | PF_EXITING) or not t.mm:
        return []
    pid = t.pid.value_()
    lines = []
    for first, last, e in mt_for_each(t.mm.mm_mt.address_of_()):
        v = drgn.Object(prog, "struct vm_area_struct *", e.value_())
        f = v.vm_file
        path = d_path(f.f_path).decode() if f else ""
        lines.append("V %d %x %x %x %x %s" % (pid, v.value_(), v.vm_start, v.vm_end, v.vm_flags, path))
    for fd, f in for_each_file(t):
        d = f.f_path.dentry
        lines.append("F %d %d %x %x %x %s" % (pid, fd, f.value_(), d.value_(), d.d_inode.value_(), d_path(f.f_path).decode()))
    return lines
try:
    for t in for_each_task(prog):
        try:
            lines = one(t)
            if lines:
                print("\n".join(lines))
        except drgn.FaultError as e:
            print("X %x %s" % (t.value_(), e))
except drgn.FaultError as e:
    print("X walk %s" % e)
"#;

/// Rows by PID: drgn's, or kdive's in the same form.
type Rows = BTreeMap<i64, BTreeSet<String>>;

fn drgn_rows(text: &str) -> (Rows, usize) {
    let mut rows = Rows::new();
    let mut unread = 0;
    for l in text.lines() {
        let f: Vec<&str> = l.splitn(3, ' ').collect();
        match f[0] {
            "V" | "F" => {
                let pid: i64 = f[1].parse().unwrap();
                rows.entry(pid)
                    .or_default()
                    .insert(format!("{} {}", f[0], f[2].trim_end()));
            }
            "X" => unread += 1,
            _ => {}
        }
    }
    (rows, unread)
}

/// kdive's `foreach user vm` and `foreach user files` in drgn's form.
fn kdive_rows(vm: &str, files: &str) -> Rows {
    let mut rows = Rows::new();
    let mut pid = 0;
    let mut table = false;
    for l in vm.lines().chain(files.lines()) {
        if let Some(r) = l.strip_prefix("PID: ") {
            pid = r.split_whitespace().next().unwrap().parse().unwrap();
            table = false;
            continue;
        }
        if l.starts_with("      VMA ") || l.starts_with(" FD ") {
            table = true;
            continue;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if !table || f.is_empty() {
            continue;
        }
        let row = if f.len() >= 4 && f[0].len() == 16 {
            // VMA START END FLAGS [FILE]
            format!(
                "V {} {} {} {} {}",
                f[0],
                f[1],
                f[2],
                f[3],
                f.get(4).unwrap_or(&"")
            )
        } else if f.len() >= 5 {
            // FD FILE DENTRY INODE TYPE [PATH]
            format!(
                "F {} {} {} {} {}",
                f[0],
                f[1],
                f[2],
                f[3],
                f.get(5).unwrap_or(&"")
            )
        } else {
            continue;
        };
        rows.entry(pid)
            .or_default()
            .insert(row.trim_end().to_string());
    }
    rows
}

/// Paths kdive names as crash does and drgn as the kernel's `d_path()`
/// does (pipes, sockets, anonymous inodes, deleted files) are not
/// compared; the rest of the row is.
fn comparable(row: &str) -> String {
    match row.rsplit_once(' ') {
        Some((head, path)) if row.starts_with('F') && !path.starts_with('/') => head.to_string(),
        _ => row.to_string(),
    }
}

#[test]
fn vm_and_files_match_drgn() {
    let python = match drgn_python() {
        Ok(p) => p,
        Err(why) if allowed("KDIVE_ALLOW_NO_DRGN") => return eprintln!("skipping: {why}"),
        Err(why) => panic!("{why}"),
    };
    let mut failures = Vec::new();
    let mut compared = 0;
    for c in require("vm and files against drgn") {
        let Some(vmlinux) = kdive_testkit::vmlinux(release(&c)) else {
            continue;
        };
        let Some(out) = drgn_run(&python, ORACLE, &c, &vmlinux) else {
            continue;
        };
        let (want, unread) = drgn_rows(&out);
        for args in arg_sets(&c) {
            let run = run_kdive(
                &args,
                &["foreach user vm", "foreach user files"],
                Duration::from_secs(300),
            );
            let got = kdive_rows(
                &run.sections["foreach user vm"],
                &run.sections["foreach user files"],
            );
            for (pid, rows) in &want {
                let w: BTreeSet<String> = rows.iter().map(|r| comparable(r)).collect();
                let g: BTreeSet<String> = got
                    .get(pid)
                    .into_iter()
                    .flatten()
                    .map(|r| comparable(r))
                    .collect();
                if w != g {
                    failures.push(format!(
                        "{} {} PID {pid}: drgn only {:?}; kdive only {:?}",
                        c.name(),
                        args[0],
                        w.difference(&g).collect::<Vec<_>>(),
                        g.difference(&w).collect::<Vec<_>>()
                    ));
                }
                compared += 1;
            }
        }
        eprintln!(
            "{}: {} tasks compared, {unread} drgn could not read",
            c.name(),
            want.len()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared > 0 || allowed("KDIVE_ALLOW_NO_CORPUS"),
        "nothing compared"
    );
}

#[test]
fn foreach_over_every_task_of_every_dump() {
    for c in require("foreach over every task") {
        for args in arg_sets(&c) {
            let count = run_kdive(&args, &["ps"], Duration::from_secs(300));
            // The whole task_struct of each of thousands of tasks is a
            // gigabyte of text: there, each task's PID only (the task
            // command still reads and prints every task_struct).
            let big = count.sections["ps"].lines().count() > 2000;
            let task_cmd = if big {
                "foreach task -R pid"
            } else {
                "foreach task"
            };
            let cmds = [
                "ps",
                task_cmd,
                "foreach files",
                "foreach vm",
                "runq",
                "runq -t",
                "runq -m",
                "runq -T",
            ];
            let run = run_kdive(&args, &cmds, Duration::from_secs(900));
            let s = &run.sections;
            let tasks = s["ps"].lines().count().saturating_sub(1);
            if tasks == 0 && run.stderr.contains("no symbols") {
                // No vmlinux, and no kallsyms found in the dump either.
                eprintln!(
                    "{} {}: skipped, no symbols: {}",
                    c.name(),
                    args[0],
                    run.stderr
                );
                continue;
            }
            assert!(tasks > 0, "{}: ps shows no task: {}", c.name(), run.stderr);
            for cmd in [task_cmd, "foreach files", "foreach vm"] {
                let headers = s[cmd].lines().filter(|l| l.starts_with("PID: ")).count();
                assert_eq!(
                    headers,
                    tasks,
                    "{} {}: {cmd} shows {headers} of {tasks} tasks",
                    c.name(),
                    args[0]
                );
            }
            let cpus = s["runq"].lines().filter(|l| l.starts_with("CPU ")).count();
            assert!(cpus > 0, "{}: runq shows no CPU", c.name());
            assert_eq!(
                s["runq -t"].lines().filter(|l| l.contains("CPU ")).count(),
                cpus
            );
            assert_eq!(
                s["runq -T"].lines().filter(|l| l.contains("secs")).count(),
                cpus
            );
            eprintln!(
                "{} {}: {tasks} tasks in {:?}",
                c.name(),
                args[0],
                run.elapsed
            );
        }
    }
}

/// Each CPU's CFS tree in order, a group's queue in its place:
/// `cpu pid prio task`.
const RUNQ_ORACLE: &str = r#"
import sys, drgn
from drgn import Program
from drgn.helpers.linux.rbtree import rbtree_inorder_for_each_entry
from drgn.helpers.linux.percpu import per_cpu
from drgn.helpers.linux.cpumask import for_each_possible_cpu
prog = Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
def walk(cpu, cfs):
    for se in rbtree_inorder_for_each_entry("struct sched_entity", cfs.tasks_timeline.rb_root.address_of_(), "run_node"):
        if hasattr(se, "my_q") and se.my_q:
            walk(cpu, se.my_q)
            continue
        t = drgn.container_of(se, "struct task_struct", "se")
        print(cpu, t.pid.value_(), t.prio.value_(), "%x" % t.value_())
for cpu in for_each_possible_cpu(prog):
    walk(cpu, per_cpu(prog["runqueues"], cpu).cfs)
"#;

#[test]
fn runq_cfs_order_matches_drgn() {
    let python = match drgn_python() {
        Ok(p) => p,
        Err(why) if allowed("KDIVE_ALLOW_NO_DRGN") => return eprintln!("skipping: {why}"),
        Err(why) => panic!("{why}"),
    };
    let mut compared = 0;
    for c in require("runq against drgn") {
        let Some(vmlinux) = kdive_testkit::vmlinux(release(&c)) else {
            continue;
        };
        let Some(out) = drgn_run(&python, RUNQ_ORACLE, &c, &vmlinux) else {
            continue;
        };
        let mut want: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for l in out.lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            want.entry(f[0].parse().unwrap())
                .or_default()
                .push(format!("{} {} {}", f[1], f[2], f[3]));
        }
        for args in arg_sets(&c) {
            let run = run_kdive(&args, &["runq"], Duration::from_secs(300));
            let mut got: BTreeMap<u32, Vec<String>> = BTreeMap::new();
            let (mut cpu, mut cfs) = (0u32, false);
            for l in run.sections["runq"].lines() {
                if let Some(r) = l.strip_prefix("CPU ") {
                    cpu = r.split_whitespace().next().unwrap().parse().unwrap();
                } else if l.starts_with("  ") && !l.starts_with("     ") {
                    cfs = l.starts_with("  CFS RB_ROOT:");
                } else if cfs && l.contains("PID: ") {
                    // `     [120] PID: 110    TASK: ff2adeb5c2060000  COMMAND: "cat"`
                    let prio = l
                        .trim()
                        .trim_start_matches('[')
                        .split(']')
                        .next()
                        .unwrap()
                        .trim();
                    let f: Vec<&str> = l.split_whitespace().collect();
                    let pid = f[f.iter().position(|w| *w == "PID:").unwrap() + 1];
                    let task = f[f.iter().position(|w| *w == "TASK:").unwrap() + 1];
                    got.entry(cpu)
                        .or_default()
                        .push(format!("{pid} {prio} {task}"));
                }
            }
            want.retain(|_, v| !v.is_empty());
            assert_eq!(got, want, "{} {}: CFS queues", c.name(), args[0]);
            compared += 1;
        }
    }
    assert!(
        compared > 0 || allowed("KDIVE_ALLOW_NO_CORPUS"),
        "nothing compared"
    );
}

/// What drgn's `script` printed for crash `c` (given the dump and the
/// vmlinux); `None`, with the reason on stderr, when drgn failed.
fn drgn_run(
    python: &std::path::Path,
    script: &str,
    c: &kdive_testkit::Crash,
    vmlinux: &std::path::Path,
) -> Option<String> {
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(dump(c))
        .arg(vmlinux)
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!(
            "{}: drgn failed: {}",
            c.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
