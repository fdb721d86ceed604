//! `task`, `files`, `vm` and `runq` against crash.txt, on every corpus dump
//! that has one, with the vmlinux and without.
//!
//! `task` and `files` must match crash 8.0.2 byte for byte. Where crash
//! 8.0.2 is wrong, kdive is held to the right answer:
//!
//! - `vm` of a user task: crash 8.0.2 fails on Linux 6.1 ("invalid
//!   structure member offset: mm_struct_mmap": the VMAs moved to a maple
//!   tree); kdive prints the same header and values (RSS counting shared
//!   memory pages, as `ps` does, so it may only be larger) and the VMAs,
//!   which `task_cmds_drgn.rs` checks against drgn. Where crash reads the
//!   VMAs (Linux 5.10's VMA list), its lines, RSS again at least its own.
//! - `runq`: crash drops the queued tasks it does not know, and it knows 4
//!   of the ~60 (see the corpus README); kdive lists them. The tasks queued
//!   on a CPU must be drgn.txt's runnable tasks of that CPU but its running
//!   one; every other line is crash's.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{arg_sets, run_kdive};
use kdive_testkit::{require, Crash};

const CMDS: &[&str] = &["task", "files", "vm", "runq"];

/// drgn.txt's runnable tasks (pid -> cpu) and each CPU's running task.
fn drgn_runnable(c: &Crash) -> (BTreeMap<i64, u32>, BTreeMap<u32, i64>) {
    let text = std::fs::read_to_string(c.file("drgn.txt").unwrap()).unwrap();
    let (mut runnable, mut active) = (BTreeMap::new(), BTreeMap::new());
    let mut section = "";
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("### ") {
            section = if s.starts_with("tasks:") {
                "tasks"
            } else if s.starts_with("active task per cpu") {
                "active"
            } else {
                ""
            };
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        match section {
            "tasks" if f.len() >= 5 && f[4] == "R" => {
                let pid: i64 = f[0].parse().unwrap();
                if pid != 0 {
                    runnable.insert(pid, f[2].parse().unwrap());
                }
            }
            "active" if f.len() >= 5 && f[0] == "===" && f[1] == "cpu" => {
                active.insert(f[2].parse().unwrap(), f[4].parse().unwrap());
            }
            _ => {}
        }
    }
    (runnable, active)
}

/// The PIDs kdive's `runq` lists as queued, by CPU.
fn queued(text: &str) -> BTreeMap<u32, BTreeSet<i64>> {
    let mut out: BTreeMap<u32, BTreeSet<i64>> = BTreeMap::new();
    let mut cpu = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("CPU ") {
            cpu = rest.split_whitespace().next().unwrap().parse().unwrap();
            out.entry(cpu).or_default();
        } else if line.starts_with("     [") && line.contains("PID: ") {
            let pid = line
                .split("PID: ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            out.entry(cpu).or_default().insert(pid.parse().unwrap());
        }
    }
    out
}

fn check_runq(c: &Crash, crash: &str, got: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let frame = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| !l.starts_with("     ["))
            .map(String::from)
            .collect()
    };
    if frame(crash) != frame(got) {
        bad.push(format!(
            "runq: lines other than queued tasks differ:\n{got}\ncrash:\n{crash}"
        ));
    }
    for l in crash
        .lines()
        .filter(|l| l.starts_with("     [") && l.contains("PID:"))
    {
        if !got.lines().any(|g| g == l) {
            bad.push(format!("runq: crash's line {l:?} missing"));
        }
    }
    let (runnable, active) = drgn_runnable(c);
    let got = queued(got);
    for (cpu, pids) in &got {
        let want: BTreeSet<i64> = runnable
            .iter()
            .filter(|(pid, c)| **c == *cpu && active.get(cpu) != Some(pid))
            .map(|(pid, _)| *pid)
            .collect();
        if *pids != want {
            bad.push(format!(
                "runq: CPU {cpu} queues {pids:?}; drgn.txt's runnable tasks: {want:?}"
            ));
        }
    }
    bad
}

/// `vm` where crash failed: the same task header and memory line (RSS at
/// least crash's), then a VMA table.
fn check_vm_header(crash: &str, got: &str) -> Vec<String> {
    let lines: Vec<&str> = got.lines().collect();
    let pid_line = crash.lines().find(|l| l.starts_with("PID: ")).unwrap();
    let values = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    let cl = crash
        .lines()
        .skip_while(|l| !l.contains("TOTAL_VM"))
        .nth(1)
        .unwrap();
    let mut bad = Vec::new();
    if lines.len() < 4 || lines[0] != pid_line || !lines[1].contains("TOTAL_VM") {
        return vec![format!("vm: header differs:\n{got}")];
    }
    let (c, g) = (values(cl), values(lines[2]));
    let kb = |s: &str| s.trim_end_matches('k').parse::<u64>().unwrap();
    if c[0] != g[0] || c[1] != g[1] || c[3] != g[3] || kb(&g[2]) < kb(&c[2]) {
        bad.push(format!("vm: {:?} is not crash's {:?}", lines[2], cl));
    }
    if !lines[3].starts_with("      VMA           START       END     FLAGS FILE") {
        bad.push(format!("vm: no VMA table: {:?}", lines[3]));
    }
    bad
}

/// `vm` where crash read the VMAs (a VMA list, before the maple tree of
/// 6.1): crash's lines, but for the RSS, which may only be larger (crash
/// 8.0.2 leaves shared-memory pages out of it, as in `ps`).
fn check_vm(crash: &str, got: &str) -> Vec<String> {
    let mut bad = check_vm_header(crash, got);
    let (c, g): (Vec<&str>, Vec<&str>) = (crash.lines().collect(), got.lines().collect());
    if c.len() != g.len()
        || c.iter()
            .zip(&g)
            .enumerate()
            .any(|(i, (a, b))| i != 2 && a != b)
    {
        bad.push(format!("vm: got\n{got}\ncrash printed\n{crash}"));
    }
    bad
}

#[test]
fn task_files_vm_runq_match_crash_txt() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for c in require("task, files, vm, runq against crash.txt") {
        let Some(txt) = c.file("crash.txt") else {
            continue;
        };
        let crash = common::sections(&std::fs::read_to_string(txt).unwrap());
        for args in arg_sets(&c) {
            let run = run_kdive(&args, CMDS, Duration::from_secs(300));
            let what = format!("{} {}", c.name(), args[0]);
            for cmd in CMDS {
                let (Some(want), Some(got)) = (crash.get(*cmd), run.sections.get(*cmd)) else {
                    failures.push(format!("{what}: no {cmd} section"));
                    continue;
                };
                let bad = match *cmd {
                    "runq" => check_runq(&c, want, got),
                    "vm" if want.contains("invalid structure member offset: mm_struct_mmap") => {
                        check_vm_header(want, got)
                    }
                    "vm" if want != got => check_vm(want, got),
                    _ if want == got => Vec::new(),
                    _ => vec![format!("{cmd}: got\n{got}\ncrash printed\n{want}")],
                };
                failures.extend(bad.into_iter().map(|b| format!("{what}: {b}")));
                checked += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!("{checked} sections checked");
}

#[test]
fn task_arguments_and_members() {
    for c in require("task with arguments") {
        if c.file("crash.txt").is_none() {
            continue;
        }
        let args = arg_sets(&c).pop().unwrap();
        let cmds = [
            "task 1",
            "task -R pid,comm 1",
            "task pid comm 1",
            "task -x -R pid 1",
            "task 999999",
        ];
        let run = run_kdive(&args, &cmds, Duration::from_secs(120));
        let s = &run.sections;
        let header = s["task 1"].lines().next().unwrap().to_string();
        assert!(
            header.starts_with("PID: 1        TASK: "),
            "{}: {header}",
            c.name()
        );
        assert!(s["task 1"].contains("struct task_struct {\n"));
        let comm = s["task 1"]
            .lines()
            .find(|l| l.starts_with("  comm = "))
            .unwrap()
            .to_string();
        let want = format!("{header}\n  pid = 1,\n{comm}\n\n");
        assert_eq!(s["task -R pid,comm 1"], want, "{}", c.name());
        assert_eq!(s["task pid comm 1"], want, "{}", c.name());
        assert_eq!(s["task -x -R pid 1"], format!("{header}\n  pid = 0x1,\n\n"));
        assert_eq!(
            s["task 999999"],
            "task: invalid task or pid value: 999999\n\n"
        );
    }
}

#[test]
fn foreach_picks_tasks_as_ps_does() {
    for c in require("foreach selections") {
        if c.file("crash.txt").is_none() {
            continue;
        }
        let args = arg_sets(&c).pop().unwrap();
        let cmds = [
            "ps -A",
            "foreach active ps",
            "ps -k",
            "foreach kernel ps",
            "task -R pid,comm 1",
            "foreach 1 task -R pid,comm",
            "files 1",
            "foreach init files",
            "ps init",
            "foreach nosuchthing files",
        ];
        let run = run_kdive(&args, &cmds, Duration::from_secs(120));
        let s = &run.sections;
        let what = c.name();
        assert_eq!(s["foreach active ps"], s["ps -A"], "{what}");
        assert_eq!(s["foreach kernel ps"], s["ps -k"], "{what}");
        assert_eq!(
            s["foreach 1 task -R pid,comm"], s["task -R pid,comm 1"],
            "{what}"
        );
        // `foreach init files`: PID 1's block first, one block per task named init.
        let init = &s["foreach init files"];
        assert!(init.starts_with(&s["files 1"]), "{what}: {init}");
        let blocks = init.matches("COMMAND: \"init\"").count();
        let inits = s["ps init"].lines().count() - 1;
        assert_eq!(blocks, inits, "{what}: {init}");
        assert_eq!(
            s["foreach nosuchthing files"],
            "foreach: unknown argument: \"nosuchthing\"\n"
        );
    }
}

#[test]
fn runq_options() {
    for c in require("runq options") {
        if c.file("crash.txt").is_none() {
            continue;
        }
        let args = arg_sets(&c).pop().unwrap();
        let cmds = [
            "runq",
            "runq -c 1",
            "runq -c 0-1",
            "runq -c 99",
            "runq -t",
            "runq -t -c 1",
        ];
        let run = run_kdive(&args, &cmds, Duration::from_secs(120));
        let s = &run.sections;
        let what = c.name();
        let cpu1 = s["runq"].split("\n\n").nth(1).unwrap();
        assert_eq!(s["runq -c 1"], cpu1, "{what}");
        assert_eq!(s["runq -c 0-1"], s["runq"], "{what}");
        assert_eq!(s["runq -c 99"], "", "{what}");
        assert!(
            run.stderr.contains("runq: invalid cpu specification: 99"),
            "{what}"
        );
        // -t: each CPU's clock, then its running task's last arrival.
        let t: Vec<&str> = s["runq -t"].lines().collect();
        assert_eq!(t.len(), 4, "{what}: {t:?}");
        assert!(
            t[0].starts_with(" CPU 0: ") && t[2].starts_with(" CPU 1: "),
            "{what}"
        );
        assert!(t[3].ends_with(&s["runq -c 1"].lines().nth(1).unwrap()["  CURRENT: ".len()..]));
        assert_eq!(s["runq -t -c 1"], format!("{}\n{}\n", t[2], t[3]));
    }
}
