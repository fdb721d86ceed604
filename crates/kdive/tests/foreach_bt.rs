//! `foreach bt` over every task of every corpus dump: one backtrace per
//! task `ps` lists, each ending where a kernel stack begins (a new task's
//! `ret_from_fork`, a system call's entry, an idle task's startup, or the
//! user-mode registers of an interrupt taken in user mode), with no error
//! and no loop; a zombie's stack is freed, and it has none. In a dump that left out
//! some task's pages (a makedumpfile older than its kernel: the 6.12
//! build), those tasks may fail, each with a message naming the address,
//! and the rest must still unwind.

use std::process::{Command, Stdio};

use kdive_testkit::require;

/// The functions a kernel stack starts in (its outermost frame).
const BOTTOMS: &[&str] = &[
    "ret_from_fork",
    "ret_from_fork_asm",
    "secondary_startup_64_no_verify",
    "secondary_startup_64",
    "common_startup_64",
    "entry_SYSCALL_64_after_hwframe",
    "entry_SYSCALL_64",
];

fn run(dump: &str, extra: &[&str], script: &str) -> (String, String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .args(extra)
        .arg(dump)
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
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (text(&out.stdout), text(&out.stderr), out.status.success())
}

#[test]
fn foreach_bt_unwinds_every_task() {
    let mut n = 0;
    for c in require("foreach_bt") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        let dump = dump.to_str().unwrap();
        let complete = c.file("drgn.txt").is_some();
        for extra in [&[][..], &["--no-vmlinux"][..]] {
            let (ps, _, _) = run(dump, extra, "ps\n");
            let tasks = ps.lines().skip(1).count();
            let (out, err, ok) = run(dump, extra, "foreach bt\n");
            let what = format!("{} {extra:?}", c.name());
            assert!(!err.contains("panicked"), "{what}: {err}");
            let traces: Vec<&str> = out.split("\nPID: ").collect();
            assert_eq!(traces.len(), tasks, "{what}: one backtrace per task of ps");
            // ps's state of each PID.
            let states: std::collections::HashMap<&str, &str> = ps
                .lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.trim_start_matches('>').split_whitespace().collect();
                    Some((*f.first()?, *f.get(4)?))
                })
                .collect();
            let mut failed = 0;
            for t in &traces {
                let frames: Vec<&str> = t
                    .lines()
                    .filter(|l| l.trim_start().starts_with('#'))
                    .collect();
                let Some(last) = frames.last() else {
                    // A task that exited: the kernel freed its stack at
                    // its last switch, and crash says "(no stack)".
                    let pid = t
                        .trim_start_matches("PID: ")
                        .split_whitespace()
                        .next()
                        .unwrap_or("");
                    if t.lines().nth(1) == Some("(no stack)") {
                        let state = states.get(pid).copied().unwrap_or("");
                        assert!(
                            ["ZO", "DE"].contains(&state),
                            "{what}: no stack, state {state}:\n{t}"
                        );
                        continue;
                    }
                    failed += 1;
                    continue;
                };
                let func = last
                    .split(" at ")
                    .next()
                    .unwrap_or("")
                    .rsplit(' ')
                    .next()
                    .unwrap_or("");
                // Or the task was in user mode when it entered the kernel
                // last (an NMI stopped it there): the user registers end it.
                let tail = t.rsplit_once(last).map_or("", |(_, after)| after);
                let from_user = tail.contains("CS: 0033");
                assert!(
                    BOTTOMS.contains(&func) || from_user,
                    "{what}: a backtrace ends in {func}:\n{t}"
                );
            }
            if complete {
                assert!(
                    ok && failed == 0,
                    "{what}: {failed} tasks without a backtrace: {err}"
                );
            } else {
                // Each failure says why, naming an address.
                assert!(
                    err.lines().filter(|l| l.starts_with("bt:")).count() >= failed,
                    "{what}: {err}"
                );
            }
            eprintln!("{what}: {tasks} tasks, {failed} without a backtrace");
        }
        n += 1;
    }
    eprintln!("checked {n} dumps");
}
