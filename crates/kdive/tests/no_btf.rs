//! The walkers read the kernel's structures through one layout facade, from
//! the BTF or, without it, from the vmlinux's DWARF. `--no-btf` turns the
//! BTF off: on every corpus dump with a vmlinux, the commands that walk the
//! most structures (and the rest of the crash transcript) must print what
//! they print with the BTF.

use kdive_testkit::{crashes, run_marked, Crash};

const BIN: &str = env!("CARGO_BIN_EXE_kdive");

/// Commands that walk tasks, stacks, the log, slab caches, files and
/// modules: what the acceptance names, and a few more.
const COMMANDS: &[&str] = &[
    "ps",
    "bt",
    "bt -a",
    "log",
    "kmem -s",
    "files",
    "foreach files",
    "mod",
    "sys",
    "runq",
    "vm",
    "irq",
    "dev",
    "net",
    "timer",
    "kmem -i",
];

#[test]
fn no_btf_prints_what_btf_prints() {
    let mut checked = 0;
    for c in crashes() {
        let Some((_, dump)) = c.variants.first() else {
            continue;
        };
        let open = c.open_args(dump.to_str().unwrap());
        if open.len() < 2 {
            continue; // no vmlinux: nothing to take the types from
        }
        let args: Vec<&str> = open.iter().map(String::as_str).collect();
        let mut cmds: Vec<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
        for cmd in transcript_commands() {
            if !cmds.contains(&cmd) && !cmd.starts_with("mod -s") {
                cmds.push(cmd);
            }
        }
        let cmds: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let with = run_marked(BIN, &args, &cmds);
        let no_btf: Vec<&str> = ["--no-btf"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let without = run_marked(BIN, &no_btf, &cmds);
        for cmd in &cmds {
            let a = with.sections.get(*cmd);
            let b = without.sections.get(*cmd);
            assert_eq!(a, b, "{}: `{cmd}` differs with --no-btf", c.name());
        }
        for cmd in ["ps", "bt", "log", "kmem -s", "files"] {
            let out = with.sections.get(cmd).map_or("", String::as_str);
            assert!(
                out.lines().count() > 2,
                "{}: `{cmd}` printed too little:\n{out}",
                c.name()
            );
        }
        checked += 1;
    }
    assert!(
        checked > 0 || crashes().is_empty(),
        "no corpus dump has a vmlinux"
    );
}

/// The commands of the corpus's crash transcripts (`crash.txt`), once each.
fn transcript_commands() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in crashes() {
        let Some(text) = c
            .file("crash.txt")
            .and_then(|p| std::fs::read_to_string(p).ok())
        else {
            continue;
        };
        for block in text.split("@@@ crash> ").skip(1) {
            let cmd = block.lines().next().unwrap_or("").trim().to_string();
            if !cmd.is_empty() && !out.contains(&cmd) {
                out.push(cmd);
            }
        }
    }
    out
}

/// `--no-btf` does turn the BTF off: with no vmlinux either, nothing
/// knows the structures, and the walkers say so.
#[test]
fn no_btf_and_no_vmlinux_has_no_layouts() {
    let Some(c): Option<Crash> = crashes().into_iter().next() else {
        return;
    };
    let dump = c.variants[0].1.to_str().unwrap().to_string();
    let out = run_marked(BIN, &["--no-btf", "--no-vmlinux", &dump], &["ps"]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("BTF turned off (--no-btf)"),
        "{}",
        out.stderr
    );
}
