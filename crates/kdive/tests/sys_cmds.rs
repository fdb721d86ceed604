//! The system-wide commands (`net`, `dev`, `irq -s`, `swap`, `mach`):
//! exactly crash 8.0.2's output on every crash that has a `crash.txt`, with
//! and without the vmlinux; on the others (6.12 dumps crash cannot open,
//! QEMU dumps without VMCOREINFO), the same output in every variant of a
//! dump and numbers that agree with the kernel's own log.

use std::collections::BTreeMap;
use std::process::Command;

use kdive_testkit::{require, Crash};
use kdive_testkit::{run_marked, run_marked_cmd, sections};

/// Run `cmds` in one kdive session: (each command's output, stderr).
fn run_kdive(args: &[&str], cmds: &[&str]) -> (BTreeMap<String, String>, String) {
    let m = run_marked(env!("CARGO_BIN_EXE_kdive"), args, cmds);
    (m.sections, m.stderr)
}

const CMDS: &[&str] = &["net", "dev", "dev -d", "irq -s", "swap", "mach"];

fn norm(s: &str) -> String {
    format!("{}\n", s.trim_end_matches('\n'))
}

#[test]
fn sys_commands_print_what_crash_prints() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for crash in require("sys_commands_print_what_crash_prints") {
        let (Some(dump), Some(txt)) = (crash.variant("kdump-zlib"), crash.file("crash.txt")) else {
            continue;
        };
        let want = sections(&std::fs::read_to_string(txt).unwrap());
        let dump = dump.to_str().unwrap();
        for args in [vec![dump], vec!["--no-vmlinux", dump]] {
            let cmds: Vec<&str> = CMDS
                .iter()
                .copied()
                .filter(|c| want.contains_key(*c))
                .collect();
            let (got, stderr) = run_kdive(&args, &cmds);
            for c in cmds {
                let (w, g) = (norm(&want[c]), norm(got.get(c).map_or("", String::as_str)));
                if w != g {
                    failures.push(format!(
                        "{} {args:?} `{c}`:\n--- crash\n{w}--- kdive\n{g}{stderr}",
                        crash.name()
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("checked {checked} outputs");
}

/// kdive's arguments for the dump files of a crash worth running, one per
/// format; QEMU's dumps (no VMCOREINFO to find the vmlinux by) with the
/// vmlinux of the crash's release.
fn dumps(crash: &Crash) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for v in ["kdump-zlib", "elf", "qemu-kdump-zlib", "qemu-elf"] {
        let Some(d) = crash.variant(v) else { continue };
        let d = d.display().to_string();
        if v.starts_with("qemu") {
            let release = crash.kernel.trim_start_matches("linux-");
            let Some(vmlinux) = kdive_testkit::vmlinux(release) else {
                continue;
            };
            out.push(vec![vmlinux.display().to_string(), d]);
        } else {
            out.push(vec![d]);
        }
    }
    out
}

/// The first number after `key` in `text`.
fn number_after(text: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(key)? + key.len()..];
    let n: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    n.parse().ok()
}

/// On dumps without a transcript: every format of one dump gives the same
/// output, with no command failing, and the numbers agree with the log.
#[test]
fn sys_commands_agree_with_the_kernel_log() {
    let mut checked = 0;
    for crash in require("sys_commands_agree_with_the_kernel_log") {
        if crash.file("crash.txt").is_some() {
            continue;
        }
        let log = crash
            .file("dmesg.txt")
            .or_else(|| crash.file("console.txt"));
        let log = log
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .unwrap_or_default();
        // (output, whether pages it wanted were missing)
        let mut runs = Vec::new();
        for args in dumps(&crash) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (got, stderr) = run_kdive(&args, CMDS);
            let ctx = format!("{} {args:?}:\n{got:#?}\n{stderr}", crash.name());
            assert!(!stderr.contains("command(s) failed"), "{ctx}");
            let partial = stderr.contains("excluded");
            check_sensible(&got, &log, partial, &ctx);
            runs.push((got, partial, ctx, stderr));
            checked += 1;
        }
        // A variant that holds every page gives the whole answer; one whose
        // makedumpfile left pages out gives part of it, never other lines.
        let Some((whole, _, _, _)) = runs.iter().find(|r| !r.1) else {
            continue;
        };
        for (got, partial, ctx, stderr) in &runs {
            if !partial {
                assert_eq!(got, whole, "{ctx}");
                continue;
            }
            assert_eq!(got["mach"], whole["mach"], "{ctx}");
            // A device whose operations did not read shows the rest.
            for c in ["dev", "dev -d", "net"] {
                for l in got[c].lines() {
                    let l = if l.ends_with("(unreadable)") {
                        &l[..24]
                    } else {
                        l
                    };
                    assert!(
                        whole[c].lines().any(|w| w.starts_with(l)),
                        "{c}: {l:?} not in {:?}\n{ctx}",
                        whole[c]
                    );
                }
            }
            // The same interrupts and counts; actions may be missing, and
            // an interrupt whose descriptor the dump left out is named on
            // stderr instead.
            let counts = |s: &str| -> Vec<Vec<String>> {
                let cols = 1 + s.lines().next().map_or(0, |h| h.split_whitespace().count());
                s.lines()
                    .map(|l| l.split_whitespace().take(cols).map(String::from).collect())
                    .collect()
            };
            let (got_irqs, mut want) = (counts(&got["irq -s"]), counts(&whole["irq -s"]));
            want.retain(|row| {
                got_irqs.contains(row) || {
                    let irq = row[0].trim_end_matches(':');
                    !stderr.contains(&format!("irq: irq {irq}: "))
                }
            });
            assert_eq!(got_irqs, want, "{ctx}");
        }
    }
    eprintln!("checked {checked} dumps");
}

/// `partial`: the dump left out pages kdive wanted (and said so).
fn check_sensible(got: &BTreeMap<String, String>, log: &str, partial: bool, ctx: &str) {
    let mach = &got["mach"];
    let cpus = number_after(mach, "CPUS:").expect(ctx) as usize;
    if let Some(n) = number_after(log, "Total of ") {
        assert_eq!(cpus, n as usize, "{ctx}");
    }
    if let Some(mhz) = number_after(log, "tsc: Detected ") {
        assert!(
            mach.contains(&format!("PROCESSOR SPEED: {} Mhz", mhz as u64)),
            "{ctx}"
        );
    }
    // The log's physical pages ("Memory: A/BK available"), rounded as
    // crash rounds them.
    if let Some(i) = log.find("Memory: ") {
        let kb = number_after(&log[i..], "/").expect(ctx) as u64;
        let gb = kb.div_ceil(1 << 20);
        if (gb << 20) - kb <= 64 << 10 {
            assert!(mach.contains(&format!("MEMORY SIZE: {gb} GB\n")), "{ctx}");
        }
    }
    // Every CPU has an IRQ stack in vmalloc space, and exception stacks.
    let irq_stacks = mach.split("IRQ STACKS:\n").nth(1).expect(ctx);
    for c in 0..cpus {
        let line = irq_stacks.lines().nth(c).expect(ctx);
        assert!(
            line.trim_start().starts_with(&format!("CPU {c}: ff")),
            "{ctx}"
        );
    }
    assert!(mach.contains("NMI STACKS:"), "{ctx}");

    // irq -s: a column per CPU, the timer on IRQ 0, interrupts counted.
    let irq = &got["irq -s"];
    let mut lines = irq.lines();
    assert_eq!(
        lines.next().expect(ctx).split_whitespace().count(),
        cpus,
        "{ctx}"
    );
    let mut total = 0u64;
    let mut rows = 0;
    for l in lines {
        let (n, rest) = l.split_once(':').expect(ctx);
        n.trim().parse::<u64>().expect(ctx);
        let counts: Vec<u64> = rest
            .split_whitespace()
            .take(cpus)
            .map(|c| c.parse().expect(ctx))
            .collect();
        total += counts.iter().sum::<u64>();
        rows += 1;
    }
    assert!(rows > 0 && total > 0, "{ctx}");
    assert!(
        irq.lines()
            .any(|l| l.starts_with("  0:") && l.ends_with(" timer")),
        "{ctx}"
    );

    // net: the loopback device; dev: both tables, with file operations.
    assert!(
        got["net"].starts_with("   NET_DEVICE     NAME   IP ADDRESS(ES)\n"),
        "{ctx}"
    );
    assert!(
        got["net"]
            .lines()
            .any(|l| l.split_whitespace().nth(1) == Some("lo")),
        "{ctx}"
    );
    let dev = &got["dev"];
    assert!(dev.starts_with("CHRDEV    NAME"), "{ctx}");
    assert!(dev.contains("\n\nBLKDEV    NAME"), "{ctx}");
    assert!(dev.lines().any(|l| l.ends_with("_fops")), "{ctx}");
    assert!(got["swap"].starts_with("SWAP_INFO_STRUCT    TYPE"), "{ctx}");
    // The disks the kernel named at boot, with their queues (unless the
    // dump left their devices out: makedumpfile older than the kernel
    // takes slab pages for user pages at -d 31).
    let disks = &got["dev -d"];
    assert!(disks.starts_with("MAJOR GENDISK"), "{ctx}");
    for name in ["vda", "sda", "nvme0n1"] {
        if log.contains(&format!("[{name}]")) && !partial {
            assert!(
                disks
                    .lines()
                    .any(|l| l.split_whitespace().nth(2) == Some(name)),
                "{ctx}"
            );
        }
    }
}

/// `irq -s -c 1` shows CPU 1's column of the full table.
#[test]
fn irq_counts_of_one_cpu() {
    let Some(crash) = require("irq_counts_of_one_cpu")
        .into_iter()
        .find(|c| c.variant("kdump-zlib").is_some())
    else {
        return;
    };
    let dump = crash
        .variant("kdump-zlib")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let cmds = [
        "irq -s",
        "irq -s -c 1",
        "irq -u",
        "irq -x",
        "irq 100000",
        "net -x",
    ];
    let (got, stderr) = run_kdive(&[&dump], &cmds);
    let all = &got["irq -s"];
    let one = &got["irq -s -c 1"];
    assert_eq!(one.lines().next(), Some("           CPU1 "), "{one}");
    for (a, o) in all.lines().skip(1).zip(one.lines().skip(1)) {
        let a: Vec<&str> = a.split_whitespace().collect();
        let o: Vec<&str> = o.split_whitespace().collect();
        assert_eq!(o[0], a[0]);
        assert_eq!(o[1], a[2], "{all}\n{one}");
        assert_eq!(o[2..], a[3..]);
    }
    // Each counted interrupt is in the descriptor list, with its actions
    // (a chain continues on the lines after).
    let list = &got["irq -u"];
    for l in all.lines().skip(1) {
        let irq = l.split(':').next().unwrap().trim();
        let actions = l.rsplit(' ').next().unwrap();
        let at = list
            .lines()
            .position(|d| d.split_whitespace().next() == Some(irq))
            .unwrap_or_else(|| panic!("{irq} not in {list}"));
        let names: Vec<&str> = list
            .lines()
            .skip(at)
            .take(actions.split(',').count())
            .map(|d| d.rsplit(' ').next().unwrap())
            .collect();
        let names: Vec<String> = names
            .iter()
            .map(|n| n.trim_matches('"').to_string())
            .collect();
        assert_eq!(names.join(","), actions, "{list}");
    }
    assert!(
        stderr.contains("irq: option -x is not supported"),
        "{stderr}"
    );
    assert!(
        stderr.contains("irq: invalid IRQ value: 100000  ("),
        "{stderr}"
    );
    assert!(stderr.contains("net: invalid argument: -x"), "{stderr}");
}

/// Options crash.txt has no section for, against crash 8.0.2 itself when
/// it is installed (`crash -s VMLINUX VMCORE`, ~10 s to start), on the
/// first crash of the corpus it can open.
#[test]
fn more_options_print_what_crash_8_prints() {
    const MORE: &[&str] = &[
        "irq",
        "irq 1",
        "irq -u",
        "irq -s -c 1",
        "irq -b",
        "irq -d",
        "net -a",
        "net -n 1",
        "dev -d",
        "dev -D",
        "dev -i",
        "dev -p",
        "mach -c",
        "mach -m",
    ];
    let version = Command::new("crash").arg("--version").output();
    let Ok(version) = version else {
        eprintln!("skipping: no crash to compare with");
        return;
    };
    if !String::from_utf8_lossy(&version.stdout).contains("crash 8.0.2") {
        eprintln!("skipping: the format reference is crash 8.0.2");
        return;
    }
    let Some(crash) = require("more_options_print_what_crash_8_prints")
        .into_iter()
        .find(|c| c.variant("kdump-zlib").is_some() && c.file("crash.txt").is_some())
    else {
        return;
    };
    let Some(vmlinux) = kdive_testkit::vmlinux(crash.kernel.trim_start_matches("linux-")) else {
        return;
    };
    let dump = crash
        .variant("kdump-zlib")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let mut crash_cmd = Command::new("crash");
    crash_cmd.args(["-s", vmlinux.to_str().unwrap(), &dump]);
    // crash ends its session at the end of its input.
    let want = run_marked_cmd(&mut crash_cmd, MORE).sections;
    // The vmlinux given: a kernel of another Debian suite is only unpacked,
    // where kdive does not look.
    for args in [
        vec![vmlinux.to_str().unwrap(), dump.as_str()],
        vec!["--no-vmlinux", dump.as_str()],
    ] {
        let (got, stderr) = run_kdive(&args, MORE);
        for c in MORE {
            assert_eq!(
                norm(got.get(*c).map_or("", String::as_str)),
                norm(&want[*c]),
                "{} {args:?} `{c}`\n{stderr}",
                crash.name()
            );
        }
    }
}
