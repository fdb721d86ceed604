//! `kmem` beside crash: every `kmem -s` / `kmem -S` command of a corpus
//! crash's `crash.txt` prints, on standard output, what crash printed,
//! with the vmlinux and without; and on standard error kdive names what
//! crash misses: where the kernel faulted inside `kmem_cache_alloc`
//! (console.txt), the corrupt per-CPU freelist head it was following.

use std::collections::BTreeMap;
use std::process::Command;

use kdive_testkit::{require, Crash};
use kdive_testkit::{run_marked, sections};

/// Run `cmds` in one kdive session: (each command's output, stderr).
fn run_kdive(args: &[&str], cmds: &[&str]) -> (BTreeMap<String, String>, String) {
    let m = run_marked(env!("CARGO_BIN_EXE_kdive"), args, cmds);
    (m.sections, m.stderr)
}

fn norm(s: &str) -> String {
    format!("{}\n", s.trim_end_matches('\n'))
}

/// From console.txt's oops, when the kernel faulted inside
/// `kmem_cache_alloc*`: the CPU, the faulting address and the registers.
fn slab_fault(c: &Crash) -> Option<(usize, u64, Vec<u64>)> {
    let text = std::fs::read_to_string(c.file("console.txt")?).ok()?;
    let at = text.find("general protection fault, probably for non-canonical address 0x")?;
    let oops = &text[at..];
    let end = oops.find("Call Trace").unwrap_or(oops.len());
    let oops = &oops[..end];
    if !oops
        .lines()
        .any(|l| l.contains("RIP: ") && l.contains("kmem_cache_alloc"))
    {
        return None;
    }
    let hex =
        |s: &str| u64::from_str_radix(s.split(|c: char| !c.is_ascii_hexdigit()).next()?, 16).ok();
    let addr = hex(oops.split("address 0x").nth(1)?)?;
    let cpu_line = oops.lines().find(|l| l.contains(" CPU: "))?;
    let cpu = cpu_line
        .split("CPU: ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let regs = [
        "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R08", "R09", "R10", "R11", "R12",
    ]
    .iter()
    .filter_map(|r| hex(oops.split(&format!(" {r}: ")).nth(1)?))
    .collect();
    Some((cpu, addr, regs))
}

/// The `kmem: CACHE: CPU N: freelist head X:` findings of stderr: (N, X).
/// Pages the dump left out (makedumpfile older than the kernel drops
/// some slab pages of 6.12) are not damage.
fn head_findings(stderr: &str) -> Vec<(usize, u64)> {
    stderr
        .lines()
        .filter(|l| !l.contains("unreadable"))
        .filter_map(|l| {
            let rest = l.strip_prefix("kmem: ")?;
            let (_, rest) = rest.split_once(": CPU ")?;
            let (cpu, rest) = rest.split_once(": freelist head ")?;
            let ptr = rest.split(':').next()?;
            Some((cpu.parse().ok()?, u64::from_str_radix(ptr, 16).ok()?))
        })
        .collect()
}

/// crash's `kmem -s`, less its one known miscount: it adds up a CPU's
/// partial slabs only when that CPU also has an active slab, so the free
/// objects of a CPU with partial slabs and no active one count as
/// allocated. For each cache whose line differs only in ALLOCATED, kdive's
/// own `kmem -S CACHE` must show exactly that many free objects on such
/// CPUs (a CPU whose `SLAB:` is `(empty)`); the line is then crash's with
/// the difference taken out.
fn crash_kmem_s_corrected(args: &[&str], crash: &str, kdive: &str) -> String {
    let cols = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let mut out = String::new();
    for (c, k) in crash.lines().zip(kdive.lines()) {
        let (cc, kc) = (cols(c), cols(k));
        let only_allocated = cc.len() == 7
            && kc.len() == 7
            && (0..7).all(|i| i == 2 || cc[i] == kc[i])
            && cc[2] != kc[2];
        if only_allocated {
            let name = &cc[6];
            let (detail, _) = run_kdive(args, &[&format!("kmem -S {name}")]);
            let missed = free_on_partials_of_idle_cpus(&detail[&format!("kmem -S {name}")]);
            let (ca, ka): (u64, u64) = (cc[2].parse().unwrap(), kc[2].parse().unwrap());
            assert_eq!(ca, ka + missed, "{name}: crash {ca} allocated, kdive {ka}, {missed} free on partial slabs of CPUs with no active slab");
            out.push_str(k);
        } else {
            out.push_str(c);
        }
        out.push('\n');
    }
    // Lines beyond the shorter of the two stay crash's, and differ.
    for c in crash.lines().skip(kdive.lines().count()) {
        out.push_str(c);
        out.push('\n');
    }
    out
}

/// From `kmem -S CACHE`: the FREE column of the `CPU N PARTIAL:` slabs of
/// CPUs whose `CPU N SLAB:` is `(empty)`.
fn free_on_partials_of_idle_cpus(detail: &str) -> u64 {
    let (mut idle, mut in_partial, mut free) = (false, false, 0);
    let mut lines = detail.lines().peekable();
    while let Some(l) = lines.next() {
        if l.starts_with("CPU ") && l.ends_with(" SLAB:") {
            idle = lines.peek().is_some_and(|n| n.trim() == "(empty)");
            in_partial = false;
        } else if l.starts_with("CPU ") && l.ends_with(" PARTIAL:") {
            in_partial = true;
        } else if !l.starts_with(' ') {
            in_partial = false;
        } else if in_partial && idle {
            let c: Vec<&str> = l.split_whitespace().collect();
            if c.len() == 6 && c[0] != "SLAB" {
                free += c[5].parse::<u64>().unwrap_or(0);
            }
        }
    }
    free
}

#[test]
fn kmem_slab_commands_print_what_crash_prints() {
    let mut checked = 0;
    for crash in require("kmem against crash.txt") {
        let (Some(dump), Some(txt)) = (crash.variant("kdump-zlib"), crash.file("crash.txt")) else {
            continue;
        };
        let want = sections(&std::fs::read_to_string(txt).unwrap());
        let cmds: Vec<&str> = want
            .keys()
            .map(String::as_str)
            .filter(|c| {
                ["kmem -s", "kmem -S", "kmem -p", "kmem -v"]
                    .iter()
                    .any(|p| c.starts_with(p))
            })
            .collect();
        let dump = dump.to_str().unwrap();
        for args in [vec![dump], vec!["--no-vmlinux", dump]] {
            let (got, stderr) = run_kdive(&args, &cmds);
            for c in &cmds {
                let actual = norm(got.get(*c).map(String::as_str).unwrap_or(""));
                let expected = if *c == "kmem -s" {
                    crash_kmem_s_corrected(&args, &want[*c], &actual)
                } else {
                    want[*c].clone()
                };
                assert_eq!(actual, norm(&expected), "{} {args:?} `{c}`", crash.name());
                checked += 1;
            }
            // crash's `kmem -S` calls the cache healthy; kdive names the
            // pointer the kernel faulted on (what it read is at
            // head + kmem_cache.offset, within the first page of it).
            let found = head_findings(&stderr);
            match slab_fault(&crash) {
                Some((cpu, addr, regs)) if cmds.iter().any(|c| c.starts_with("kmem -S")) => {
                    assert!(
                        !found.is_empty(),
                        "{}: no finding in {stderr}",
                        crash.name()
                    );
                    for (fcpu, ptr) in found {
                        assert_eq!(fcpu, cpu, "{}: {stderr}", crash.name());
                        assert!(
                            regs.contains(&ptr),
                            "{}: {ptr:x} in no register",
                            crash.name()
                        );
                        assert!(
                            addr.wrapping_sub(ptr) < 0x1000,
                            "{}: {ptr:x} vs {addr:x}",
                            crash.name()
                        );
                    }
                }
                Some(_) => {}
                None => assert!(found.is_empty(), "{}: {stderr}", crash.name()),
            }
        }
    }
    eprintln!("checked {checked} outputs");
}

/// On every dump: `kmem -S CACHE` names the same corrupt head on stderr,
/// and `kmem ADDRESS` finds the object a pointer in the faulting CPU's
/// slab belongs to, in crash's format.
#[test]
fn kmem_names_the_corrupt_freelist_head() {
    for crash in require("kmem -S findings") {
        let Some((cpu, addr, regs)) = slab_fault(&crash) else {
            continue;
        };
        let dump = crash
            .variant("kdump-zlib")
            .or(crash.variants.first().map(|(_, p)| p.as_path()));
        let dump = dump.unwrap().to_str().unwrap();
        // Which cache: the one `kmem -s` flags.
        let (got, stderr) = run_kdive(&[dump], &["kmem -s"]);
        let flagged: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains(": freelist head ") && !l.contains("unreadable"))
            .filter_map(|l| l.strip_prefix("kmem: ")?.split(':').next())
            .collect();
        assert_eq!(flagged.len(), 1, "{}: {stderr}", crash.name());
        let name = flagged[0];
        assert!(got["kmem -s"]
            .lines()
            .any(|l| l.ends_with(&format!("  {name}"))));
        let cmd = format!("kmem -S {name}");
        let (got, stderr) = run_kdive(&[dump], &[&cmd]);
        let found = head_findings(&stderr);
        assert_eq!(found.len(), 1, "{}: {stderr}", crash.name());
        assert_eq!(found[0].0, cpu);
        assert!(regs.contains(&found[0].1) && addr.wrapping_sub(found[0].1) < 0x1000);
        // The CPU's slab's first object, looked up by address.
        let out = &got[&cmd];
        let at = out.find(&format!("CPU {cpu} SLAB:\n")).unwrap();
        let obj = out[at..]
            .lines()
            .find_map(|l| {
                let w = l.trim().trim_matches(|c| c == '[' || c == ']');
                (w.len() == 16).then(|| w.to_string())
            })
            .unwrap();
        let kmem = format!("kmem {obj}");
        let (got, _) = run_kdive(&[dump], &[&kmem]);
        let text = &got[&kmem];
        assert!(text.contains(&format!("  {name}\n")), "{text}");
        assert!(text.contains("FREE / [ALLOCATED]"), "{text}");
        assert!(text.contains(&obj), "{text}");
    }
}

/// drgn's reading of the kernel's slab page counters (`vm_node_stat`):
/// `None` when there is no drgn and that is allowed.
fn drgn_slab_pages(dump: &str, vmlinux: &str) -> Option<u64> {
    let python = match kdive_testkit::drgn_python() {
        Ok(p) => p,
        Err(e) if kdive_testkit::allowed("KDIVE_ALLOW_NO_DRGN") => {
            eprintln!("skipping the drgn check: {e}");
            return None;
        }
        Err(e) => panic!("{e}"),
    };
    let script = format!(
        "import drgn\np = drgn.Program()\np.set_core_dump({dump:?})\n\
         p.load_debug_info([{vmlinux:?}])\nns = p['vm_node_stat']\n\
         print(sum(ns[p[n]].counter.value_() for n in \
         ('NR_SLAB_RECLAIMABLE_B', 'NR_SLAB_UNRECLAIMABLE_B')))\n"
    );
    let out = Command::new(python).args(["-c", &script]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("drgn: {text} {}", String::from_utf8_lossy(&out.stderr))),
    )
}

/// `kmem -i` is crash's table, line for line, except SLAB: crash 8.0.2
/// counts the pages flagged PG_slab (only the first page of a multi-page
/// slab has the flag), kdive the kernel's own counters, as drgn reads them.
#[test]
fn kmem_i_is_crashs_with_the_kernels_slab_count() {
    for crash in require("kmem -i against crash.txt") {
        let (Some(dump), Some(txt)) = (crash.variant("kdump-zlib"), crash.file("crash.txt")) else {
            continue;
        };
        let want = sections(&std::fs::read_to_string(txt).unwrap());
        let Some(want) = want.get("kmem -i") else {
            continue;
        };
        let release = crash.kernel.strip_prefix("linux-").unwrap_or(&crash.kernel);
        let dump = dump.to_str().unwrap();
        let slab = kdive_testkit::vmlinux(release)
            .and_then(|v| drgn_slab_pages(dump, v.to_str().unwrap()));
        for args in [vec![dump], vec!["--no-vmlinux", dump]] {
            let (got, stderr) = run_kdive(&args, &["kmem -i"]);
            let got = got.get("kmem -i").unwrap_or_else(|| panic!("{stderr}"));
            let (mut gl, mut wl) = (got.lines(), want.lines());
            loop {
                match (gl.next(), wl.next()) {
                    (None, None) => break,
                    (Some(g), Some(w)) if w.trim_start().starts_with("SLAB ") => {
                        let pages: u64 = g.split_whitespace().nth(1).unwrap().parse().unwrap();
                        if let Some(s) = slab {
                            assert_eq!(pages, s, "{}: {g}", crash.name());
                        }
                        assert!(g.trim_start().starts_with("SLAB "));
                    }
                    (g, w) => assert_eq!(g, w, "{} {args:?}", crash.name()),
                }
            }
        }
    }
}

/// `kmem ADDR` of an address on a task's stack, or inside a task_struct,
/// names the task first, in crash's `set` block: the panic task for the
/// stack pointer of its exception frame, the task itself for its address.
#[test]
fn kmem_address_names_its_task() {
    let mut checked = 0;
    for crash in require("kmem ADDR tasks") {
        let Some(dump) = crash.variant("kdump-zlib") else {
            continue;
        };
        let dump = dump.to_str().unwrap();
        let (got, _) = run_kdive(&[dump], &["bt", "set"]);
        // A kernel stack pointer: the frames' [SP] column.
        let rsp = got["bt"]
            .lines()
            .find_map(|l| {
                l.split_once(" [")
                    .map(|(_, r)| r.split(']').next().unwrap_or("").to_string())
            })
            .expect("a frame in bt");
        let set = got["set"].clone();
        let task = set
            .lines()
            .find_map(|l| l.trim().strip_prefix("TASK: "))
            .unwrap();
        let task = task.split_whitespace().next().unwrap().to_string();
        let (stack, task_struct) = (format!("kmem {rsp}"), format!("kmem {task}"));
        let (got, _) = run_kdive(&[dump], &[&stack, &task_struct]);
        assert!(
            got[&stack].contains(&set),
            "{}: {stack}:\n{}",
            crash.name(),
            got[&stack]
        );
        assert!(
            got[&task_struct].contains(&set),
            "{}: {task_struct}:\n{}",
            crash.name(),
            got[&task_struct]
        );
        checked += 1;
    }
    eprintln!("checked {checked} dumps");
}

/// `kmem -s --json`: the same caches and counts as the text, and the
/// findings kdive prints on stderr.
#[test]
fn kmem_s_json_is_the_text() {
    let mut checked = 0;
    for crash in require("kmem -s --json") {
        let Some(dump) = crash.variant("kdump-zlib") else {
            continue;
        };
        let dump = dump.to_str().unwrap();
        let (got, stderr) = run_kdive(&[dump], &["kmem -s", "kmem -s --json"]);
        let line: serde_json::Value = serde_json::from_str(&got["kmem -s --json"]).expect("JSON");
        assert_eq!(line["command"], "kmem -s --json");
        let v = &line["result"];
        let caches = v["caches"].as_array().unwrap();
        let text: Vec<&str> = got["kmem -s"].lines().skip(1).collect();
        assert_eq!(caches.len(), text.len(), "{}", crash.name());
        for (c, line) in caches.iter().zip(&text) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(c["address"].as_str().unwrap(), format!("0x{}", cols[0]));
            assert_eq!(
                c["allocated"].as_u64().unwrap().to_string(),
                cols[2],
                "{line}"
            );
            assert_eq!(c["total"].as_u64().unwrap().to_string(), cols[3], "{line}");
            assert_eq!(c["name"].as_str().unwrap(), cols[6]);
        }
        // Every finding of the JSON is one the text run reported.
        for f in caches
            .iter()
            .flat_map(|c| c["findings"].as_array().unwrap())
        {
            let what = f["what"].as_str().unwrap();
            assert!(
                stderr.contains(what),
                "{}: {what} not in the text's findings:\n{stderr}",
                crash.name()
            );
        }
        checked += 1;
    }
    eprintln!("checked {checked}");
}
