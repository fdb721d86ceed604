//! Debuginfo found right or not at all, on real dumps with made-up system
//! trees (`KDIVE_SYSROOT`): the BTF-only vmlinux a linux-headers package
//! ships is refused, and kdive answers as with `--no-vmlinux`.

use std::path::{Path, PathBuf};
use std::process::Command;

use kdive_debuginfo::btf::writer::BtfWriter;
use kdive_testkit::{elf, require, run_marked_cmd, Crash};

/// A fresh directory for one test (also HOME, so no startup file counts).
fn scratch(name: &str, c: &Crash) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "kdive-debuginfo-{name}-{}-{}-{}",
        c.kernel,
        c.scenario,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The crashes with a kdump-compressed dump, as `(crash, dump, release)`.
fn dumps() -> Vec<(Crash, PathBuf, String)> {
    require("debuginfo")
        .into_iter()
        .filter_map(|c| {
            let d = c.variant("kdump-zlib")?.to_path_buf();
            let r = c.kernel.strip_prefix("linux-")?.to_string();
            Some((c, d, r))
        })
        .collect()
}

fn kdive(dir: &Path, sysroot: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kdive"));
    cmd.current_dir(dir)
        .env("HOME", dir)
        .env("KDIVE_SYSROOT", sysroot)
        .env_remove("XDG_STATE_HOME")
        .env_remove("DEBUGINFOD_URLS");
    cmd
}

/// The commands whose answers need the kernel's symbols.
const CMDS: [&str; 4] = ["sym schedule", "bt", "ps", "log"];

#[test]
fn btf_only_vmlinux_is_refused() {
    for (c, dump, release) in dumps() {
        let d = scratch("btfonly", &c);
        let mut w = BtfWriter::new();
        let int = w.int("int", 4, true);
        w.st("made_up", 4, &[("x", int, 0)]);
        let build = d.join("root/lib/modules").join(&release).join("build");
        std::fs::create_dir_all(&build).unwrap();
        std::fs::write(build.join("vmlinux"), elf::btf_only_vmlinux(&w.finish())).unwrap();
        let dump = dump.to_str().unwrap();

        let with = run_marked_cmd(kdive(&d, &d.join("root")).arg(dump), &CMDS);
        let without = run_marked_cmd(kdive(&d, &d.join("root")).args(["--no-vmlinux", dump]), &CMDS);
        let refused: Vec<&str> = with
            .stderr
            .lines()
            .filter(|l| l.contains("is not the kernel's vmlinux"))
            .collect();
        assert_eq!(refused.len(), 1, "{}: one notice: {}", c.name(), with.stderr);
        assert!(refused[0].contains("build/vmlinux"), "{}", refused[0]);
        assert!(with.ok && without.ok, "{}: {}", c.name(), with.stderr);
        for cmd in CMDS {
            let (a, b) = (&with.sections[cmd], &without.sections[cmd]);
            assert!(!a.trim().is_empty(), "{}: {cmd} printed nothing", c.name());
            assert_eq!(a, b, "{}: {cmd} differs from --no-vmlinux", c.name());
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
