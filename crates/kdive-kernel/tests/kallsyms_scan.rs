//! With no vmlinux and VMCOREINFO not locating kallsyms (before Linux 6.0,
//! QEMU dumps), kallsyms is found by scanning the kernel's read-only data.
//! `KDIVE_KALLSYMS_SCAN=1` makes the open path scan on dumps whose
//! VMCOREINFO does locate it: the symbols must be the same, modules
//! included, and agree with the vmlinux where it is installed. The one
//! test of this file sets that variable: keep it alone here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kdive_kernel::{Kernel, SymbolSource, VmlinuxChoice};

const SCAN: &str = "KDIVE_KALLSYMS_SCAN";

/// The dump of a crash to open: one with VMCOREINFO, or a QEMU one.
fn variant(c: &kdive_testkit::Crash) -> Option<PathBuf> {
    ["kdump-zlib", "qemu-kdump-zlib", "qemu-elf"]
        .iter()
        .find_map(|v| c.variant(v))
        .map(PathBuf::from)
}

/// The installed vmlinux of `release`, if any: not required here.
fn vmlinux(release: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("KDIVE_VMLINUX_DIR").unwrap_or_else(|| "/usr/lib/debug/boot".into());
    Some(PathBuf::from(dir).join(format!("vmlinux-{release}"))).filter(|p| p.is_file())
}

fn open(path: &Path, scan: bool) -> (Kernel, std::time::Duration) {
    if scan {
        std::env::set_var(SCAN, "1");
    } else {
        std::env::remove_var(SCAN);
    }
    let t = Instant::now();
    let k = Kernel::open_with(path, VmlinuxChoice::None).unwrap();
    (k, t.elapsed())
}

type Sym = (u64, char, String, u64, Option<String>);

fn table(k: &Kernel) -> Vec<Sym> {
    k.symbols()
        .iter()
        .map(|s| (s.addr, s.kind, s.name.clone(), s.size, s.module.clone()))
        .collect()
}

/// Every kernel symbol of `k` is the vmlinux's, moved by the KASLR offset.
fn check_vmlinux(what: &str, k: &Kernel, path: &Path) {
    let mut v = kdive_debuginfo::ElfFile::open(path)
        .unwrap()
        .symbols()
        .unwrap();
    v.relocate(k.kernel_offset());
    let at: HashMap<(u64, &str), char> = v
        .iter()
        .map(|s| ((s.addr, s.name.as_str()), s.kind))
        .collect();
    let bad: Vec<_> = k
        .symbols()
        .iter()
        .filter(|s| s.module.is_none())
        // kallsyms marks per-CPU symbols absolute ('A'); nm says data.
        .filter(|s| {
            at.get(&(s.addr, s.name.as_str()))
                .is_none_or(|&c| c != s.kind && s.kind != 'A')
        })
        .map(|s| format!("{:x} {} {}", s.addr, s.kind, s.name))
        .collect();
    assert!(
        bad.is_empty(),
        "{what}: {} symbols not the vmlinux's: {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
}

#[test]
fn scanned_kallsyms_are_the_located_ones() {
    let mut checked = 0;
    for crash in kdive_testkit::require("kallsyms scan") {
        let Some(path) = variant(&crash) else {
            continue;
        };
        let what = format!("{} ({})", crash.name(), path.display());
        let (k, took) = open(&path, true);
        let scans: Vec<_> = k
            .notices()
            .iter()
            .filter(|n| n.contains("kallsyms found by scanning"))
            .collect();
        assert_eq!(scans.len(), 1, "{what}: {:?}", k.notices());
        eprintln!("{what}: opened in {took:?}: {}", scans[0]);
        assert_eq!(k.symbol_source(), SymbolSource::Kallsyms, "{what}");
        assert!(
            k.symbol("schedule").is_some() && k.symbol("init_task").is_some(),
            "{what}"
        );
        assert!(
            k.btf().is_some(),
            "{what}: no BTF through __start_BTF: {:?}",
            k.btf_result().err()
        );

        let located = k
            .dump()
            .vmcoreinfo()
            .is_some_and(|i| i.symbol("kallsyms_names").is_some());
        if located {
            let (v, took) = open(&path, false);
            eprintln!("{what}: opened through VMCOREINFO in {took:?}");
            assert!(
                table(&k) == table(&v),
                "{what}: the scanned symbols differ from VMCOREINFO's"
            );
        }
        let release = crash.kernel.trim_start_matches("linux-");
        if let Some(p) = vmlinux(release) {
            check_vmlinux(&what, &k, &p);
            eprintln!("{what}: the vmlinux agrees");
        }
        checked += 1;
    }
    std::env::remove_var(SCAN);
    eprintln!("{checked} dumps checked");
}
