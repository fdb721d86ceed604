//! `bt` beside crash and the kernel: on every corpus crash with a
//! `crash.txt`, kdive's `bt`, `bt -a`, `bt -f`, `bt -F` and `bt -l` print
//! what crash printed, except crash's stale frames (the corpus README:
//! frames crash found by scanning the stack, which kdive's ORC unwind does
//! not show); and the exception block of each crash's oops matches the
//! registers the kernel itself printed on its console. With and without
//! the vmlinux.
//!
//! The chains of functions against drgn are in `bt_chains.rs`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use kdive_testkit::{require, Crash};

/// The sections of a transcript: command -> output lines (the timing
/// lines and blank lines at the end left out).
fn sections(text: &str) -> BTreeMap<String, Vec<String>> {
    kdive_testkit::sections(text)
        .into_iter()
        .map(|(cmd, body)| {
            let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
            while lines.last().is_some_and(|l| {
                l.is_empty()
                    || l.starts_with("real\t")
                    || l.starts_with("user\t")
                    || l.starts_with("sys\t")
            }) {
                lines.pop();
            }
            (cmd, lines)
        })
        .collect()
}

/// Run `cmds` in one kdive session; each command's output lines.
fn run_kdive(args: &[&str], cmds: &[&str]) -> BTreeMap<String, Vec<String>> {
    let m = kdive_testkit::run_marked(env!("CARGO_BIN_EXE_kdive"), args, cmds);
    assert!(m.ok, "kdive {args:?} failed: {}", m.stderr);
    m.sections
        .into_iter()
        .map(|(cmd, body)| {
            let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
            while lines.last().is_some_and(|l| l.is_empty()) {
                lines.pop();
            }
            (cmd, lines)
        })
        .collect()
}

/// A frame line without its number: `[SP] func at ADDR [module]`.
fn unnumbered(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let rest = t.strip_prefix('#')?;
    let (n, rest) = rest.split_once(' ')?;
    n.parse::<u32>().ok()?;
    Some(rest)
}

/// kdive's output must be crash's less some whole frames (stale ones),
/// with the frames numbered again: every kdive frame line is among crash's
/// in order; where no crash frame was dropped after it, the lines under it
/// (words, registers, source) are crash's too; where some were, the words
/// run on to a different next frame, so only its registers are compared.
fn check_without_stale(what: &str, crash: &[String], kdive: &[String]) {
    let blocks = |lines: &[String]| -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = vec![Vec::new()];
        for l in lines {
            match unnumbered(l) {
                Some(u) => out.push(vec![u.to_string()]),
                None => out.last_mut().unwrap().push(l.clone()),
            }
        }
        out
    };
    let regs = |b: &[String]| -> Vec<String> {
        b.iter()
            .filter(|l| {
                l.starts_with("    R")
                    || l.starts_with("    ORIG_RAX")
                    || l.starts_with("    [exception")
            })
            .cloned()
            .collect()
    };
    let (c, k) = (blocks(crash), blocks(kdive));
    assert_eq!(k[0], c[0], "{what}: header differs");
    let mut ci = 1;
    for i in 1..k.len() {
        let Some(off) = c[ci..].iter().position(|cb| cb[0] == k[i][0]) else {
            panic!(
                "{what}: kdive's frame {:?} is not among crash's\nkdive:\n{}\ncrash:\n{}",
                k[i][0],
                kdive.join("\n"),
                crash.join("\n")
            );
        };
        let cb = &c[ci + off];
        let dropped_after = c.get(ci + off + 1).map(|b| &b[0]) != k.get(i + 1).map(|b| &b[0]);
        if dropped_after {
            assert_eq!(
                regs(&k[i]),
                regs(cb),
                "{what}: registers under {:?} differ",
                k[i][0]
            );
        } else {
            assert_eq!(k[i], *cb, "{what}: lines under {:?} differ", k[i][0]);
        }
        ci += off + 1;
    }
}

fn compare_crash(c: &Crash, args: &[&str], vmlinux: bool) {
    let Some(txt) = c.file("crash.txt") else {
        return;
    };
    let crash = sections(&std::fs::read_to_string(txt).unwrap());
    let cmds: Vec<&str> = ["bt", "bt -a", "bt -f", "bt -F", "bt -l"]
        .into_iter()
        .filter(|c| crash.contains_key(*c))
        .filter(|c| vmlinux || *c != "bt -l")
        .collect();
    // crash.txt's session loaded the module's debuginfo first (`bt -l`
    // shows its source lines).
    let load = c
        .file("crashme.ko")
        .map(|ko| format!("mod -s crashme {}", ko.display()));
    let mut session: Vec<&str> = load.iter().map(String::as_str).collect();
    session.extend(&cmds);
    let got = run_kdive(args, &session);
    let stale = c.scenario == "sysrq";
    for cmd in cmds {
        let what = format!(
            "{} {cmd}{}",
            c.name(),
            if vmlinux { "" } else { " (no vmlinux)" }
        );
        let mut expected = crash[cmd].clone();
        let ours = &got[cmd];
        if cmd == "bt -F" {
            // crash names string literals by the assembler's local labels
            // (`.LC3+673`), which no symbol table of kdive keeps.
            for (e, o) in expected.iter_mut().zip(ours) {
                if e.contains(".LC") {
                    *e = o.clone();
                }
            }
        }
        if ours == &expected {
            continue;
        }
        // Frames crash found by scanning: the README lists them for
        // `sysrq`; `bt -a`'s CPU stopped in a `read` shows more.
        assert!(
            stale || cmd == "bt -a",
            "{what}: differs from crash.txt\nkdive:\n{}\ncrash:\n{}",
            ours.join("\n"),
            expected.join("\n")
        );
        check_without_stale(&what, &expected, ours);
    }
}

#[test]
fn bt_matches_crash_txt() {
    let mut n = 0;
    for c in require("bt against crash.txt") {
        let release = c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel);
        let Some(vmlinux) = kdive_testkit::vmlinux(release) else {
            continue;
        };
        let Some(dump) = c.variant("kdump-zlib").and_then(|p| p.to_str()) else {
            continue;
        };
        if c.file("crash.txt").is_none() {
            continue;
        }
        let v = vmlinux.to_str().unwrap();
        compare_crash(&c, &[dump, v], true);
        compare_crash(&c, &["--no-vmlinux", dump], false);
        n += 1;
    }
    if n == 0 {
        eprintln!("skipping: no crash with a crash.txt");
    }
}

/// `bt -t` and `bt -e` search the stacks, not the unwind: what they find
/// includes every return address and every exception frame the unwind
/// found (`bt -a` on each CPU).
#[test]
fn stack_searches_find_the_unwound_frames() {
    let mut n = 0;
    for c in require("bt -t and bt -e") {
        let Some(dump) = c.variant("kdump-zlib").and_then(|p| p.to_str()) else {
            continue;
        };
        let nr =
            kdive_kernel::Kernel::open_with(Path::new(dump), kdive_kernel::VmlinuxChoice::None)
                .map(|k| k.dump().cpus().len())
                .unwrap_or(0);
        for cpu in 0..nr {
            let cmds = [
                format!("bt -c {cpu}"),
                format!("bt -t -c {cpu}"),
                format!("bt -e -c {cpu}"),
            ];
            let refs: Vec<&str> = cmds.iter().map(String::as_str).collect();
            let got = run_kdive(&["--no-vmlinux", dump], &refs);
            let (bt, text, eframes) = (
                &got[&cmds[0]],
                got[&cmds[1]].join("\n"),
                got[&cmds[2]].join("\n"),
            );
            let what = format!("{} cpu {cpu}", c.name());
            for (i, l) in bt.iter().enumerate() {
                // A return address at [SP]; not frame #0 or the frame after
                // a stack switch, which may be interrupted code (their [SP]
                // is the stack pointer).
                if let Some(u) = unnumbered(l) {
                    if i > 1 && !bt[i - 1].starts_with("---") {
                        assert!(
                            text.contains(&format!("  {u}")),
                            "{what}: bt -t lacks {u}\n{text}"
                        );
                    }
                }
                if l.starts_with("    RIP:") {
                    let block = bt[i..i + 7].join("\n");
                    assert!(
                        eframes.contains(&block),
                        "{what}: bt -e lacks\n{block}\n{eframes}"
                    );
                    n += 1;
                }
            }
        }
    }
    eprintln!("{n} exception frames found by bt -e");
}

/// Every format a crash was saved in (ELF, kdump with each compression,
/// flattened) gives the same `bt -a`.
#[test]
fn same_backtraces_in_every_format() {
    let mut n = 0;
    for c in require("bt in every dump format") {
        let mut first: Option<(String, Vec<String>)> = None;
        for (variant, path) in &c.variants {
            let Some(p) = path.to_str() else { continue };
            // QEMU's own dumps are of another crash than kexec's.
            if variant.starts_with("qemu") {
                continue;
            }
            let got = run_kdive(&["--no-vmlinux", p], &["bt -a"]);
            let lines = got["bt -a"].clone();
            assert!(
                lines.iter().any(|l| unnumbered(l).is_some()),
                "{} {variant}: no frames: {lines:?}",
                c.name()
            );
            match &first {
                None => first = Some((variant.clone(), lines)),
                Some((v0, l0)) => {
                    assert_eq!(&lines, l0, "{}: {variant} and {v0} differ", c.name());
                    n += 1;
                }
            }
        }
    }
    eprintln!("{n} dump variants compared");
}

/// `bt PID` and `bt TASKADDR` name the same task as `ps` does and give its
/// backtrace; `set PID` makes a plain `bt` show that task; a value that is
/// neither is refused.
#[test]
fn bt_takes_pids_and_the_current_task() {
    let mut n = 0;
    for c in require("bt_takes_pids") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        let dump = dump.to_str().unwrap();
        // The first kernel thread that is not an idle task: kthreadd, by
        // what ps says, not by its number.
        let ps = run_kdive(&[dump], &["ps -k"]);
        let line = ps["ps -k"]
            .iter()
            .find(|l| l.contains("[kthreadd]"))
            .expect("kthreadd in ps")
            .clone();
        let cols: Vec<&str> = line.trim_start_matches('>').split_whitespace().collect();
        let (pid, task) = (cols[0], cols[3]);
        let set = format!("set {pid}");
        let by_pid = format!("bt {pid}");
        let by_task = format!("bt {task}");
        let got = run_kdive(&[dump], &[&by_pid, &by_task, &set, "bt"]);
        assert!(
            got[&by_pid][0].starts_with(&format!("PID: {pid} ")),
            "{}: {:?}",
            c.name(),
            got[&by_pid]
        );
        assert!(
            got[&by_pid][0].contains(&format!("TASK: {task}")),
            "{}",
            c.name()
        );
        assert!(
            got[&by_pid].iter().any(|l| l.contains(" kthreadd at ")),
            "{}: {:?}",
            c.name(),
            got[&by_pid]
        );
        assert_eq!(got[&by_pid], got[&by_task], "{}", c.name());
        assert_eq!(got["bt"], got[&by_pid], "{}: set {pid}; bt", c.name());
        let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
            .args([dump])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"bt 99999999\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr)
            .contains("bt: invalid task or pid value: 99999999"));
        n += 1;
    }
    eprintln!("checked {n} dumps");
}
