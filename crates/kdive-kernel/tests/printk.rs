//! The kernel log read from every dump of the corpus (every variant
//! without the vmlinux, the usual one, kdump-zlib, with it too) against
//! what makedumpfile extracted (`dmesg.txt`) and what crash printed
//! (`crash.txt`'s `log`). Dumps with neither (QEMU's) must read with no
//! notice and hold a panic report that the serial console (`console.txt`)
//! also shows.

use kdive_kernel::{Kernel, KernelLog, VmlinuxChoice};
use kdive_testkit::Crash;

/// The log as crash prints it by default: `[SSSSS.UUUUUU] TEXT`, a
/// record's further lines indented under its text, unprintable bytes as
/// dots, a record with no text block as an empty line.
fn crash_format(log: &KernelLog) -> String {
    let mut s = String::new();
    for r in &log.records {
        if r.dataless {
            s.push('\n');
            continue;
        }
        let stamp = format!(
            "[{:5}.{:06}] ",
            r.ts_nsec / 1_000_000_000,
            r.ts_nsec % 1_000_000_000 / 1000
        );
        s.push_str(&stamp);
        for &b in &r.text {
            match b {
                b'\n' => {
                    s.push('\n');
                    s.push_str(&" ".repeat(stamp.len()));
                }
                0x20..=0x7e | b'\t' | 0x0b | 0x0c | b'\r' => s.push(b as char),
                _ => s.push('.'),
            }
        }
        s.push('\n');
    }
    s
}

/// crash.txt's `log` section.
fn crash_log(c: &Crash) -> Option<String> {
    let text = std::fs::read_to_string(c.file("crash.txt")?).ok()?;
    let block = text.split("@@@ crash> ").find(|b| b.starts_with("log\n"))?;
    Some(block["log\n".len()..].to_string())
}

fn release(c: &Crash) -> &str {
    c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel)
}

#[test]
fn the_log_is_what_makedumpfile_and_crash_extracted() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for c in kdive_testkit::require("printk") {
        let vmlinux = kdive_testkit::vmlinux(release(&c));
        let dmesg = c
            .file("dmesg.txt")
            .map(|p| std::fs::read_to_string(p).unwrap());
        let crash = crash_log(&c);
        for (variant, path) in &c.variants {
            // The variants differ only in how the dump is stored: each is
            // read without the vmlinux, one (or those of a crash without
            // the usual one) with it as well.
            let mut ways = vec![("no vmlinux", VmlinuxChoice::None)];
            if let Some(v) = vmlinux
                .as_ref()
                .filter(|_| variant == "kdump-zlib" || c.variant("kdump-zlib").is_none())
            {
                ways.push(("vmlinux", VmlinuxChoice::Given(v)));
            }
            for (how, choice) in ways {
                let what = format!("{} {variant} ({how})", c.name());
                let k = Kernel::open_with(path, choice).unwrap_or_else(|e| panic!("{what}: {e}"));
                // No symbols: no vmlinux, and kallsyms neither located by
                // VMCOREINFO nor found by scanning memory.
                if k.symbols().is_empty() && k.dump().vmcoreinfo().is_none() {
                    eprintln!("{what}: no symbols, no log to read");
                    continue;
                }
                let log = match k.log() {
                    Ok(l) => l,
                    Err(e) => {
                        failures.push(format!("{what}: {e}"));
                        continue;
                    }
                };
                if !log.notices.is_empty() {
                    failures.push(format!("{what}: notices {:?}", log.notices));
                }
                let text = crash_format(&log);
                for (name, want) in [("dmesg.txt", &dmesg), ("crash.txt", &crash)] {
                    if let Some(want) = want {
                        if text != *want {
                            failures.push(format!(
                                "{what}: differs from {name}:\n{}",
                                first_difference(&text, want)
                            ));
                        }
                    }
                }
                check_panic_report(&c, &log, &what, &mut failures);
                checked += 1;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("checked {checked} logs");
}

/// The log ends with the crash's report: its panic message is one of the
/// last records, and the console printed that line too.
fn check_panic_report(c: &Crash, log: &KernelLog, what: &str, failures: &mut Vec<String>) {
    let Some(msg) = log.panic_message() else {
        failures.push(format!("{what}: no panic message in the log"));
        return;
    };
    if msg.starts_with("---[") {
        failures.push(format!(
            "{what}: the panic message is panic()'s closing line {msg:?}"
        ));
    }
    let tail = log.records.len().saturating_sub(80);
    if !log.records[tail..]
        .iter()
        .any(|r| r.text_lossy().contains(&msg))
    {
        failures.push(format!(
            "{what}: the panic message {msg:?} is not near the log's end"
        ));
    }
    if let Some(console) = c.file("console.txt") {
        let console = String::from_utf8_lossy(&std::fs::read(console).unwrap()).into_owned();
        if !console.contains(&msg) {
            failures.push(format!("{what}: the console never printed {msg:?}"));
        }
    }
}

fn first_difference(got: &str, want: &str) -> String {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let i = g
        .iter()
        .zip(&w)
        .position(|(a, b)| a != b)
        .unwrap_or(g.len().min(w.len()));
    format!(
        "line {}: got {:?}, want {:?} ({} lines vs {})",
        i + 1,
        g.get(i),
        w.get(i),
        g.len(),
        w.len()
    )
}

/// The clocks `sys` and `log -T` use agree with the log and the dump: the
/// uptime (jiffies at the tick rate read from the kernel) is the time of
/// the last record, and the timekeeper's wall clock is the dump's crash
/// time.
#[test]
fn uptime_and_wall_clock_agree_with_the_log_and_the_dump() {
    let mut checked = 0;
    for c in kdive_testkit::require("clocks") {
        let Some(path) = c.variant("kdump-zlib") else {
            continue;
        };
        let k = Kernel::open_with(path, VmlinuxChoice::None).unwrap();
        let last = k.log().unwrap().records.last().unwrap().ts_nsec / 1_000_000_000;
        let up = k.uptime().expect("uptime");
        assert_eq!(
            k.hz_from_clocks(),
            Some(up.hz),
            "{}: two ways to the tick rate",
            c.name()
        );
        assert!(
            up.seconds().abs_diff(last) <= 1,
            "{}: uptime {up:?}, last record at {last} s",
            c.name()
        );
        let (Some(crash), Some(wall)) = (k.dump().crash_time(), k.wall_clock()) else {
            panic!("{}: no crash time or wall clock", c.name());
        };
        assert!(
            crash.abs_diff(wall) <= 1,
            "{}: crash time {crash}, wall clock {wall}",
            c.name()
        );
        checked += 1;
    }
    eprintln!("checked {checked}");
}
