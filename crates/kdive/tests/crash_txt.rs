//! kdive's output beside crash's: every command of a corpus crash's
//! `crash.txt` that kdive has runs in one batch session on the same dump,
//! and must print what crash printed, column for column, except where the
//! corpus README says crash is wrong (then kdive must print the right
//! answer, given here).
//!
//! The same runs with `--no-vmlinux` check the commands that need only
//! symbols against the same text, less the source lines that only DWARF
//! gives.

use std::collections::BTreeMap;

use kdive_testkit::{require, Crash};
use kdive_testkit::{run_marked, sections};

/// Run `cmds` in one kdive session: (each command's output, stderr).
fn run_kdive(args: &[&str], cmds: &[&str]) -> (BTreeMap<String, String>, String) {
    let m = run_marked(env!("CARGO_BIN_EXE_kdive"), args, cmds);
    (m.sections, m.stderr)
}

/// Commands whose crash.txt output kdive must reproduce exactly.
const EXACT: &[&str] = &[
    "sym schedule",
    "eval -b 0x4141",
    "eval -0x7fb70480",
    "ptov 0x1000000",
    "vtop init_task",
    "rd -64 init_task 8",
    "rd -a linux_banner",
    "rd -s init_task 8",
    "rd -8 init_task 16",
    "rd -32 init_task 8",
    "rd -64 objs 64",
    "whatis struct list_head",
    "whatis schedule",
    "struct list_head",
    "struct -o list_head",
    "struct task_struct.pid,comm init_task",
    "struct kmem_cache.name,offset,size,object_size,random seed_cache",
    "list task_struct.tasks -s task_struct.pid,comm -h init_task",
    "timer",
    // In crash.txt's order: gdb numbers the values it prints ($1, $2...).
    "p jiffies",
    "p init_uts_ns.name",
    "p/x init_task.pid",
    // With the module's debuginfo loaded first (`mod -s crashme`), as the
    // transcripts did: module globals and types, and `mod` showing it.
    "mod",
    "p seed_cache",
    "p *seed_cache",
    "p objs",
    "p seed_device",
    "struct seed_dev",
    "whatis seed_touch",
];

/// Commands that need the vmlinux: BTF has no type for ordinary globals,
/// and kallsyms no section symbols (`rd -s` names the start of .data).
const VMLINUX_ONLY: &[&str] = &["rd -s", "p jiffies", "p init_uts_ns", "p/x init_task"];

/// Where crash.txt is wrong (see the corpus README): the right output.
const CORRECTED: &[(&str, &str)] = &[(
    "eval (0x1000 + 0x20) * 2",
    "hexadecimal: 2040  \n    decimal: 8256  \n      octal: 20100\n     binary: 0000000000000000000000000000000000000000000000000010000001000000\n",
)];

/// Normalize what differs by construction, not by content: a missing final
/// newline, trailing blank lines.
fn norm(s: &str) -> String {
    let t = s.trim_end_matches('\n');
    format!("{t}\n")
}

/// crash prints a loaded module's object file as the path it was given
/// (older transcripts gave an absolute one); kdive prints the file's name,
/// and the tests give it the file by another path: names are compared.
fn ko_names(s: &str) -> String {
    let words = |l: &str| -> String {
        let w: Vec<&str> = l
            .split(' ')
            .map(|w| {
                if w.ends_with(".ko") {
                    w.rsplit('/').next().unwrap_or(w)
                } else {
                    w
                }
            })
            .collect();
        w.join(" ")
    };
    s.lines().map(|l| words(l) + "\n").collect()
}

/// kdive's arguments for a run with the vmlinux: kdive finds the one
/// installed where distributions put it, but a kernel of another Debian
/// suite is only unpacked (`scripts/fetch-kernel.sh`), so it is given.
fn with_vmlinux<'a>(vmlinux: &'a Option<std::path::PathBuf>, dump: &'a str) -> Vec<&'a str> {
    vmlinux
        .iter()
        .filter_map(|v| v.to_str())
        .chain([dump])
        .collect()
}

/// The vmlinux of `crash`'s kernel, where the tests know to look.
fn vmlinux_of(crash: &Crash) -> Option<std::path::PathBuf> {
    kdive_testkit::vmlinux_candidates(crash.kernel.trim_start_matches("linux-"))
        .into_iter()
        .find(|p| p.is_file())
}

/// The transcripts' first command: load the module's debuginfo when the
/// crash has one.
fn load_module(crash: &Crash) -> Option<String> {
    let ko = crash.file("crashme.ko")?;
    Some(format!("mod -s crashme {}", ko.display()))
}

/// gdb's value history numbers: without the vmlinux, the `p` commands of
/// globals BTF has no type for are left out, so the numbers differ.
fn no_history_numbers(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..=i]);
        rest = rest[i + 1..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('N');
    }
    out.push_str(rest);
    out
}

fn check(crash: &Crash, args: &[&str], strip_lines: bool) -> Vec<String> {
    let Some(txt) = crash.file("crash.txt") else {
        return Vec::new();
    };
    let want = sections(&std::fs::read_to_string(txt).unwrap());
    let prelude = load_module(crash);
    let mut cmds: Vec<&str> = prelude.iter().map(String::as_str).collect();
    cmds.extend(
        EXACT
            .iter()
            .copied()
            .filter(|c| want.contains_key(*c))
            .filter(|c| !(strip_lines && VMLINUX_ONLY.iter().any(|v| c.starts_with(v)))),
    );
    cmds.extend(
        CORRECTED
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| want.contains_key(*c)),
    );
    let (got, stderr) = run_kdive(args, &cmds);
    let mut failures = Vec::new();
    for c in cmds.into_iter().filter(|c| Some(*c) != prelude.as_deref()) {
        let expected = CORRECTED
            .iter()
            .find(|(k, _)| *k == c)
            .map_or_else(|| want[c].clone(), |(_, v)| v.to_string());
        let mut expected = norm(&expected);
        let mut actual = norm(got.get(c).map(String::as_str).unwrap_or(""));
        if c == "mod" {
            (expected, actual) = (ko_names(&expected), ko_names(&actual));
        }
        if strip_lines {
            expected = no_history_numbers(&strip_source_lines(&expected));
            actual = no_history_numbers(&actual);
        }
        // Errors go to stderr; crash.txt has them inline (2>&1). A command
        // may print several (one per member it could not read).
        let err_line = expected.lines().next().unwrap_or("");
        let inline_err = (expected.lines().count() == 1 && stderr.contains(err_line))
            || (actual.trim().is_empty() && expected.lines().all(|l| stderr.contains(l)));
        if actual != expected && !inline_err {
            failures.push(format!(
                "{} [{}] `{c}`:\n--- crash\n{expected}--- kdive\n{actual}",
                crash.name(),
                args.join(" ")
            ));
        }
    }
    failures
}

/// `sym` without DWARF has no ` FILE: LINE` tail.
fn strip_source_lines(s: &str) -> String {
    s.lines()
        .map(|l| match l.find(" (T) ").or_else(|| l.find(" (t) ")) {
            Some(_) => l.split(' ').take(3).collect::<Vec<_>>().join(" "),
            None => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect()
}

#[test]
fn commands_print_what_crash_prints() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for crash in require("commands_print_what_crash_prints") {
        let Some(dump) = crash.variant("kdump-zlib") else {
            continue;
        };
        if crash.file("crash.txt").is_none() {
            continue;
        }
        let dump = dump.to_str().unwrap();
        let vmlinux = vmlinux_of(&crash);
        failures.extend(check(&crash, &with_vmlinux(&vmlinux, dump), false));
        failures.extend(check(&crash, &["--no-vmlinux", dump], true));
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("checked {checked} crashes");
}

/// `mod`: the same modules, addresses and sizes, column for column. The
/// OBJECT FILE column differs where the transcript had loaded a module's
/// debuginfo (`mod -s`), which the listing here has not.
#[test]
fn mod_lists_what_crash_lists() {
    let mut checked = 0;
    for crash in require("mod_lists_what_crash_lists") {
        let (Some(dump), Some(txt)) = (crash.variant("kdump-zlib"), crash.file("crash.txt")) else {
            continue;
        };
        let want = sections(&std::fs::read_to_string(txt).unwrap());
        let Some(expected) = want.get("mod") else {
            continue;
        };
        for args in [
            vec![dump.to_str().unwrap()],
            vec!["--no-vmlinux", dump.to_str().unwrap()],
        ] {
            let (got, _) = run_kdive(&args, &["mod"]);
            let cut = |s: &str| -> Vec<String> {
                s.lines()
                    .map(
                        |l| match l.find("  (not loaded)").or_else(|| l.find("  OBJECT FILE")) {
                            Some(i) => l[..i].to_string(),
                            None => l
                                .split(".ko")
                                .next()
                                .unwrap_or(l)
                                .rsplit_once("  ")
                                .map_or(l, |p| p.0)
                                .to_string(),
                        },
                    )
                    .collect()
            };
            assert_eq!(cut(&got["mod"]), cut(expected), "{} {args:?}", crash.name());
            checked += 1;
        }
    }
    eprintln!("checked {checked}");
}

/// A `p` that fails (unreadable memory) prints crash's reason and takes no
/// history number, as in gdb.
#[test]
fn failed_print_takes_no_history_number() {
    let Some(crash) = require("failed_print")
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
    // `p jiffies` needs the vmlinux: BTF has no type for it.
    let vmlinux = vmlinux_of(&crash);
    let (got, stderr) = run_kdive(
        &with_vmlinux(&vmlinux, &dump),
        &["p *(long *)0", "p jiffies"],
    );
    assert!(
        stderr.contains("p: invalid kernel virtual address: 0  type: \"gdb_readmem_callback\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("p: Cannot access memory at address 0x0"),
        "{stderr}"
    );
    assert!(got["p jiffies"].starts_with("jiffies = $1 = "), "{got:?}");
}

/// `mod -s NAME FILE` prints crash's header and the module's line (the
/// transcript's first output), `mod -S DIR` finds the `.ko` in a tree, and
/// `mod -d NAME` forgets it again.
#[test]
fn mod_loads_and_forgets_module_debuginfo() {
    let mut checked = 0;
    for crash in require("mod_loads_module_debuginfo") {
        let (Some(dump), Some(txt), Some(load)) = (
            crash.variant("kdump-zlib"),
            crash.file("crash.txt"),
            load_module(&crash),
        ) else {
            continue;
        };
        let text = std::fs::read_to_string(txt).unwrap();
        let head: String = text
            .split("@@@ crash> ")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with("WARNING"))
            .map(|l| format!("{l}\n"))
            .collect();
        let ko = crash.file("crashme.ko").unwrap();
        let tree =
            std::env::temp_dir().join(format!("kdive-mod-tree-{}-{}", std::process::id(), checked));
        std::fs::create_dir_all(tree.join("extra")).unwrap();
        let _ = std::fs::remove_file(tree.join("extra/crashme.ko"));
        std::os::unix::fs::symlink(&ko, tree.join("extra/crashme.ko")).unwrap();
        let load_all = format!("mod -S {}", tree.display());
        let cmds = [
            load.as_str(),
            "mod -d crashme",
            "whatis seed_touch",
            load_all.as_str(),
            "mod",
        ];
        let (got, stderr) = run_kdive(&[dump.to_str().unwrap()], &cmds);
        std::fs::remove_dir_all(&tree).unwrap();
        assert_eq!(
            ko_names(&got[load.as_str()]),
            ko_names(&head),
            "{}",
            crash.name()
        );
        // Forgotten: the function is a symbol without debuginfo again.
        assert_eq!(
            got["whatis seed_touch"], "<text variable, no debug info> seed_touch;\n",
            "{stderr}"
        );
        assert!(
            got[load_all.as_str()]
                .lines()
                .nth(1)
                .unwrap_or("")
                .ends_with("crashme.ko "),
            "{got:?}"
        );
        let line = |out: &str| {
            out.lines()
                .find(|l| l.contains(" crashme "))
                .unwrap_or("")
                .to_string()
        };
        assert!(line(&got["mod"]).ends_with("crashme.ko "), "{got:?}");
        checked += 1;
    }
    eprintln!("checked {checked}");
}
