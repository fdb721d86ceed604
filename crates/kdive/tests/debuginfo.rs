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
        let without = run_marked_cmd(
            kdive(&d, &d.join("root")).args(["--no-vmlinux", dump]),
            &CMDS,
        );
        let refused: Vec<&str> = with
            .stderr
            .lines()
            .filter(|l| l.contains("is not the kernel's vmlinux"))
            .collect();
        assert_eq!(
            refused.len(),
            1,
            "{}: one notice: {}",
            c.name(),
            with.stderr
        );
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

/// A made-up `.ko` with DWARF sections and another build id: a module of
/// the same name from another build, which must not be taken.
fn decoy_ko() -> Vec<u8> {
    let mut w = elf::ElfWriter::new();
    let info = w.section(".debug_info", elf::SHT_PROGBITS, 0, 0, &[0u8; 16]);
    w.build_id(&[0x11; 20]);
    w.symbol("seed_touch", 0, 1, elf::FUNC, info);
    w.finish(elf::ET_REL)
}

/// The crashes whose module `crashme` has its `.ko` beside the dump.
fn with_module() -> Vec<(Crash, PathBuf, String, PathBuf)> {
    dumps()
        .into_iter()
        .filter_map(|(c, d, r)| {
            let ko = c.file("crashme.ko")?;
            Some((c, d, r, ko))
        })
        .collect()
}

/// The line `bt -l` prints under the frame or exception in `crashme`.
fn crashme_line(bt: &str) -> Option<&str> {
    bt.lines().find(|l| l.contains("crashme.c: "))
}

#[test]
fn module_debuginfo_found_by_build_id() {
    for (c, dump, release, ko) in with_module() {
        let d = scratch("moddebug", &c);
        let dump = dump.to_str().unwrap();
        let id = kdive_debuginfo::ElfFile::open(&ko)
            .unwrap()
            .build_id()
            .unwrap()
            .unwrap();
        let loaded = format!("mod -s crashme {}", ko.display());
        let reference = run_marked_cmd(
            kdive(&d, &d.join("none")).args(["--no-vmlinux", dump]),
            &[&loaded, "bt -l"],
        );
        let want = &reference.sections["bt -l"];
        assert!(crashme_line(want).is_some(), "{}: {want}", c.name());

        // Debian's layout, with a module of that name from another build
        // found first; Fedora's by build id.
        let debian = d.join("debian");
        let tree = debian.join("usr/lib/debug/lib/modules").join(&release);
        std::fs::create_dir_all(tree.join("a-decoy")).unwrap();
        std::fs::create_dir_all(tree.join("kernel/extra")).unwrap();
        std::fs::write(tree.join("a-decoy/crashme.ko"), decoy_ko()).unwrap();
        std::fs::copy(&ko, tree.join("kernel/extra/crashme.ko")).unwrap();
        let fedora = d.join("fedora");
        let by_id = fedora.join("usr/lib/debug/.build-id").join(&id[..2]);
        std::fs::create_dir_all(&by_id).unwrap();
        std::fs::copy(&ko, by_id.join(format!("{}.debug", &id[2..]))).unwrap();

        for (root, file) in [(&debian, "crashme.ko "), (&fedora, ".debug ")] {
            let got = run_marked_cmd(
                kdive(&d, root).args(["--no-vmlinux", dump]),
                &["bt -l", "mod -S"],
            );
            assert_eq!(
                &got.sections["bt -l"],
                want,
                "{}: bt -l under {}",
                c.name(),
                root.display()
            );
            let line = got.sections["mod -S"]
                .lines()
                .find(|l| l.contains(" crashme "))
                .unwrap_or("")
                .to_string();
            assert!(
                line.ends_with(file),
                "{}: mod -S: {:?}",
                c.name(),
                got.sections["mod -S"]
            );
        }
        // The decoy alone: no lines, and `mod -s` says why.
        std::fs::remove_file(tree.join("kernel/extra/crashme.ko")).unwrap();
        let got = run_marked_cmd(
            kdive(&d, &debian).args(["--no-vmlinux", dump]),
            &["bt -l", "mod -s crashme"],
        );
        assert!(
            crashme_line(&got.sections["bt -l"]).is_none(),
            "{}: {}",
            c.name(),
            got.sections["bt -l"]
        );
        assert!(
            got.stderr.contains(&format!(
                "build id {}, the loaded module's is {id}",
                "11".repeat(20)
            )),
            "{}",
            got.stderr
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}

/// With nothing installed, a debuginfod server on 127.0.0.1 gives the
/// vmlinux (by VMCOREINFO's build id) and the module's debuginfo (by the
/// build id in memory): kdive answers as with them given, and the second
/// session reads them from the cache.
#[test]
fn debuginfod_gives_the_vmlinux_and_modules() {
    use kdive_testkit::http::{Reply, Server};
    let Some((c, dump, release, ko)) = with_module().into_iter().next() else {
        return;
    };
    let Some(vmlinux) = kdive_testkit::vmlinux(&release) else {
        return;
    };
    let id = |p: &Path| {
        kdive_debuginfo::ElfFile::open(p)
            .unwrap()
            .build_id()
            .unwrap()
            .unwrap()
    };
    let (vid, kid) = (id(&vmlinux), id(&ko));
    let server = Server::start(
        [(&vid, &vmlinux), (&kid, &ko)]
            .into_iter()
            .map(|(i, p)| (format!("/buildid/{i}/debuginfo"), Reply::File(p.clone())))
            .collect(),
    );
    let d = scratch("debuginfod", &c);
    let dump = dump.to_str().unwrap();
    let cmds = ["sym schedule", "bt -l"];
    let loaded = format!("mod -s crashme {}", ko.display());
    let reference = run_marked_cmd(
        kdive(&d, &d.join("empty")).args([vmlinux.to_str().unwrap(), dump]),
        &[loaded.as_str(), cmds[0], cmds[1]],
    );
    for round in 0..2 {
        let got = run_marked_cmd(
            kdive(&d, &d.join("empty"))
                .env(
                    "DEBUGINFOD_URLS",
                    format!("http://127.0.0.1:1 {}", server.url()),
                )
                .env("DEBUGINFOD_CACHE_PATH", d.join("cache"))
                .env("DEBUGINFOD_TIMEOUT", "5")
                .arg(dump),
            &cmds,
        );
        assert!(got.ok, "{}: {}", c.name(), got.stderr);
        assert!(
            got.stderr.contains("vmlinux from debuginfod: "),
            "{}",
            got.stderr
        );
        for cmd in cmds {
            assert_eq!(
                got.sections[cmd],
                reference.sections[cmd],
                "{}: {cmd} (round {round})",
                c.name()
            );
        }
        assert_eq!(server.hits().len(), 2, "round {round}: {:?}", server.hits());
    }
    assert!(d.join("cache").join(&vid).join("debuginfo").is_file());
    let _ = std::fs::remove_dir_all(&d);
}
