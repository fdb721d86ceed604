//! `log` and `sys` beside crash's output on the corpus dumps (crash.txt),
//! with the vmlinux and without. `log` must be crash's byte for byte.
//! `sys` must be crash's line for line except where crash is wrong: PANIC
//! (crash prints `""` or the generic "Oops" line on recent kernels; the
//! right message is derived here from the log itself) and TASKS (crash
//! finds 4 tasks; drgn.txt lists them all, and crash counts one idle task
//! per CPU besides).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use kdive_testkit::{require, run_marked_cmd, sections, Crash};

/// Run `cmds` on the dump in `dir`, named as crash was given it (its file
/// name, from its directory): each command's output, and stderr.
fn run_kdive(dir: &Path, args: &[&str], cmds: &[&str]) -> (BTreeMap<String, String>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdive"));
    cmd.current_dir(dir).args(args);
    let m = run_marked_cmd(&mut cmd, cmds);
    (m.sections, m.stderr)
}

/// The output of `cmd` in a session's sections.
fn section<'a>(out: &'a BTreeMap<String, String>, cmd: &str) -> Option<&'a str> {
    out.get(cmd).map(String::as_str)
}

/// The panic message as the log shows it: the line `panic()` printed
/// unless it only says an oops was fatal; else the first line of the last
/// oops report (a "BUG: ..." or "kernel BUG at ..." line just before
/// `die()`'s "...: CODE [#N]" header, or that header).
fn panic_from_log(log: &str) -> Option<String> {
    let texts: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_once("] ").map(|(_, t)| t.trim_end()))
        .collect();
    if let Some(p) = texts
        .iter()
        .find(|t| t.starts_with("Kernel panic - not syncing: "))
    {
        if !p.contains("Fatal exception") {
            return Some(p.to_string());
        }
    }
    let header = texts
        .iter()
        .rposition(|t| t.contains(" [#") && t.contains("]"))?;
    let from = header.saturating_sub(8);
    let start = texts[from..header]
        .iter()
        .position(|t| t.starts_with("BUG: ") || t.starts_with("kernel BUG at "))
        .map_or(header, |i| from + i);
    Some(texts[start].to_string())
}

/// The tasks drgn lists, and the CPUs' idle tasks crash counts besides.
fn expected_tasks(c: &Crash, cpus: usize) -> Option<usize> {
    let drgn = std::fs::read_to_string(c.file("drgn.txt")?).ok()?;
    let tasks = drgn.split("### ").find(|b| b.starts_with("tasks"))?;
    let n = tasks
        .lines()
        .skip(1)
        .filter(|l| l.starts_with(|ch: char| ch.is_ascii_digit()))
        .count();
    Some(n + cpus)
}

#[test]
fn log_and_sys_print_what_crash_prints() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for c in require("log_and_sys") {
        let (Some(dump), Some(txt)) = (c.variant("kdump-zlib"), c.file("crash.txt")) else {
            continue;
        };
        let crash = sections(&std::fs::read_to_string(txt).unwrap());
        let name = dump.file_name().unwrap().to_str().unwrap();
        let vmlinux = kdive_testkit::vmlinux(c.kernel.trim_start_matches("linux-"));
        let mut runs = vec![vec!["--no-vmlinux", name]];
        if let Some(v) = &vmlinux {
            runs.push(vec![v.to_str().unwrap(), name]);
        }
        for args in runs {
            let what = format!("{} {args:?}", c.name());
            let (out, stderr) = run_kdive(&c.dir, &args, &["log", "sys", "log -t"]);
            let log = section(&out, "log").unwrap_or("");
            if Some(log) != section(&crash, "log") {
                failures.push(format!("{what}: log differs from crash.txt"));
            }
            if stderr.contains("log:") {
                failures.push(format!("{what}: log notices: {stderr}"));
            }
            let untimed: String = log
                .lines()
                .map(|l| l.get(15..).unwrap_or("").to_string() + "\n")
                .collect();
            if section(&out, "log -t") != Some(untimed.as_str()) {
                failures.push(format!("{what}: log -t is not log less its time column"));
            }
            let sys = section(&out, "sys").unwrap_or("");
            let want = section(&crash, "sys").unwrap_or("");
            let with_vmlinux = args[0] != "--no-vmlinux";
            let cpus: usize = field(want, "CPUS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            for line in want.lines() {
                let label = line.split(':').next().unwrap_or("").trim();
                let got = sys
                    .lines()
                    .find(|l| l.split(':').next().unwrap_or("").trim() == label);
                let ok = match label {
                    "PANIC" => {
                        let msg = panic_from_log(log).expect("a panic message in the log");
                        let mut expected = format!("       PANIC: \"{msg}\"");
                        if msg.contains("Oops: ") {
                            expected.push_str(" (check log for details)");
                        }
                        // Where crash found a message, it is this one.
                        if !line.ends_with("\"\"") && !line.contains("Oops: ") && line != expected {
                            failures.push(format!("{what}: PANIC {expected:?}, crash {line:?}"));
                        }
                        got == Some(expected.as_str())
                    }
                    "TASKS" => {
                        got.and_then(|g| g.split(": ").nth(1))
                            .and_then(|n| n.parse().ok())
                            == expected_tasks(&c, cpus)
                    }
                    // Without a vmlinux there is no path to show.
                    "KERNEL" if !with_vmlinux => {
                        got.is_some_and(|g| g.ends_with("[TAINTED]") == line.ends_with("[TAINTED]"))
                    }
                    _ => got == Some(line),
                };
                if !ok {
                    failures.push(format!("{what}: sys {label}: got {got:?}, crash {line:?}"));
                }
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if checked == 0 {
        eprintln!("no corpus dump with a crash.txt: nothing compared");
    }
    eprintln!("checked {checked} runs");
}

fn field<'a>(sys: &'a str, label: &str) -> Option<&'a str> {
    sys.lines()
        .find(|l| l.trim_start().starts_with(&format!("{label}:")))
        .and_then(|l| l.split_once(": ").map(|(_, v)| v.trim()))
}

/// A record buffer the kernel never finished (no dump at hand has one):
/// `log` of a made-up dump is covered by the kernel crate's tests; here,
/// the options crash does not have are refused without running.
#[test]
fn log_refuses_unknown_options() {
    let Some(c) = require("log options")
        .into_iter()
        .find(|c| c.variant("kdump-zlib").is_some())
    else {
        return;
    };
    let name = c
        .variant("kdump-zlib")
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let (out, stderr) = run_kdive(&c.dir, &["--no-vmlinux", &name], &["log -x", "log extra"]);
    assert!(stderr.contains("log: invalid option -x"), "{stderr}");
    assert!(
        stderr.contains("log: unexpected argument: extra"),
        "{stderr}"
    );
    assert_eq!(section(&out, "log -x"), Some(""));
}

/// `sys -t` and `sys -i` against what the kernel printed itself: the
/// letters of its oops's "Tainted:" field, and its boot line "DMI: VENDOR
/// PRODUCT..., BIOS VERSION DATE".
#[test]
fn taints_and_dmi_match_what_the_kernel_printed() {
    let mut checked = 0;
    for c in require("sys -t, sys -i") {
        let (Some(dump), Some(dmesg)) = (c.variant("kdump-zlib"), c.file("dmesg.txt")) else {
            continue;
        };
        let dmesg = std::fs::read_to_string(dmesg).unwrap();
        let name = dump.file_name().unwrap().to_str().unwrap();
        let (out, stderr) = run_kdive(&c.dir, &["--no-vmlinux", name], &["sys -t", "sys -i"]);
        assert!(!stderr.contains("sys:"), "{}: {stderr}", c.name());
        let taints = section(&out, "sys -t").unwrap_or("");
        let letters = taints.trim_end().split("  ").nth(1).unwrap_or("");
        // "Tainted: G           OE      6.1.0-47-cloud-amd64 #1 ...": one
        // column per flag, then the release ("Not tainted" when clean).
        let release = dmesg
            .lines()
            .find_map(|l| l.split_once("Linux version ").map(|(_, r)| r))
            .and_then(|r| r.split(' ').next())
            .expect("the boot line");
        match dmesg
            .lines()
            .find_map(|l| l.split_once(" Tainted: ").map(|(_, t)| t))
        {
            Some(t) => {
                let field = t.split(release).next().unwrap_or("");
                let shown: String = field
                    .chars()
                    .filter(|ch| ch.is_ascii_uppercase() && *ch != 'G')
                    .collect();
                assert_eq!(letters, shown, "{}: {taints}", c.name());
            }
            None => assert!(
                taints.starts_with("TAINTED_MASK: 0  "),
                "{}: {taints}",
                c.name()
            ),
        }
        // The identity line ("VENDOR PRODUCT, BIOS ..."): newer kernels
        // print other "DMI: " lines around it ("SMBIOS 2.8 present.").
        let dmi_line = dmesg
            .lines()
            .filter_map(|l| l.split_once("] DMI: ").map(|(_, t)| t))
            .find(|t| t.contains(", BIOS "))
            .expect("DMI line");
        let dmi = section(&out, "sys -i").unwrap_or("");
        let get = |k: &str| {
            dmi.lines()
                .find_map(|l| {
                    l.trim_start()
                        .strip_prefix(k)
                        .and_then(|r| r.strip_prefix(": "))
                })
                .unwrap_or_else(|| panic!("{}: no {k} in {dmi}", c.name()))
        };
        let want = format!("{} {}", get("DMI_SYS_VENDOR"), get("DMI_PRODUCT_NAME"));
        assert!(
            dmi_line.starts_with(&want),
            "{}: {dmi_line:?} vs {want:?}",
            c.name()
        );
        let bios = format!("BIOS {} {}", get("DMI_BIOS_VERSION"), get("DMI_BIOS_DATE"));
        assert!(
            dmi_line.ends_with(&bios),
            "{}: {dmi_line:?} vs {bios:?}",
            c.name()
        );
        checked += 1;
    }
    eprintln!("checked {checked}");
}

/// On every dump, crash.txt or not: PANIC is the log's own message, the
/// release is the one the log's first line names, the uptime is the time
/// of the log's last record, and every other field is known.
#[test]
fn sys_agrees_with_the_log_on_every_dump() {
    let mut checked = 0;
    for c in require("sys and log") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        let name = dump.file_name().unwrap().to_str().unwrap();
        let (out, stderr) = run_kdive(&c.dir, &["--no-vmlinux", name], &["sys", "log"]);
        let what = c.name();
        assert!(!stderr.contains("log:"), "{what}: {stderr}");
        let (sys, log) = (section(&out, "sys").unwrap(), section(&out, "log").unwrap());
        let msg = panic_from_log(log).expect("a panic message in the log");
        let panic = field(sys, "PANIC").unwrap();
        assert!(
            panic.starts_with(&format!("\"{msg}\"")),
            "{what}: {panic} vs {msg:?}"
        );
        let release = log
            .split("Linux version ")
            .nth(1)
            .and_then(|r| r.split(' ').next());
        assert_eq!(field(sys, "RELEASE"), release, "{what}");
        let last = log.lines().rev().find_map(|l| {
            l.strip_prefix('[')?
                .split('.')
                .next()?
                .trim()
                .parse::<u64>()
                .ok()
        });
        let up: Vec<u64> = field(sys, "UPTIME")
            .unwrap()
            .split(':')
            .map(|v| v.parse().unwrap())
            .collect();
        let up = up[0] * 3600 + up[1] * 60 + up[2];
        assert!(
            up.abs_diff(last.unwrap()) <= 1,
            "{what}: uptime {up} s, last record at {last:?} s"
        );
        for label in [
            "DATE",
            "LOAD AVERAGE",
            "NODENAME",
            "VERSION",
            "MACHINE",
            "MEMORY",
        ] {
            let v = field(sys, label).unwrap_or("(missing)");
            // "(none)" is the kernel's own nodename before one is set.
            assert!(
                !v.starts_with("(unknown") && !v.starts_with("(missing"),
                "{what}: {label}: {v}"
            );
        }
        checked += 1;
    }
    eprintln!("checked {checked}");
}
