//! The examples (`examples/tasks.rs`, `examples/slab_check.rs`) on every
//! dump of the corpus, their own code included here so that they cannot
//! rot: the slab check names `seed_cache`'s corrupt free pointer on the
//! `slab` crashes and finds no damage on the others (pages a dump left out
//! are unreadable, not damage); every task is listed with a PID, and the
//! crashing task's backtrace is not empty. Nothing here depends on an
//! address or a PID of one dump: KASLR moves everything.

#[allow(dead_code)]
#[path = "../examples/slab_check.rs"]
mod slab_check;
#[allow(dead_code)]
#[path = "../examples/tasks.rs"]
mod tasks;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use kdive_kernel::slab::{Kind, Place};
use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::Crash;

/// The crash's dump: the kdump-compressed one, else QEMU's, else any.
fn dump(c: &Crash) -> Option<&Path> {
    c.variant("kdump-zlib")
        .or(c.variant("qemu-kdump-zlib"))
        .or(c.variants.first().map(|(_, p)| p.as_path()))
}

/// The kernel of `c` opened with its vmlinux (when installed) and without.
fn kernels(c: &Crash, dump: &Path) -> Vec<(&'static str, Kernel)> {
    let release = c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel);
    let mut out = Vec::new();
    let v: Option<PathBuf> = kdive_testkit::vmlinux(release);
    if let Some(v) = v {
        let k = Kernel::open_with(dump, VmlinuxChoice::Given(&v)).unwrap();
        out.push(("vmlinux", k));
    }
    let k = Kernel::open_with(dump, VmlinuxChoice::None).unwrap();
    out.push(("no vmlinux", k));
    out
}

/// The `slab` crash corrupts `seed_cache`'s free pointer. It does not
/// crash 7.x, whose freed object goes to a per-CPU sheaf (scripts/README.md):
/// the corpus has `null` there instead, and no damage to find.
fn corrupts_seed_cache(c: &Crash) -> bool {
    let release = c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel);
    let major: u32 = release
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    c.scenario.starts_with("slab") && major < 7
}

#[test]
fn slab_check_names_seed_cache_only_on_slab_crashes() {
    let mut checked = 0;
    for c in kdive_testkit::require("slab check") {
        let Some(dump) = dump(&c) else { continue };
        let want = corrupts_seed_cache(&c);
        for (how, k) in kernels(&c, dump) {
            let name = format!("{} ({how})", c.name());
            let findings = match k.slab_check() {
                Ok(f) => f,
                // No BTF without a vmlinux when kallsyms was not found.
                Err(e) if how == "no vmlinux" && k.btf().is_none() => {
                    eprintln!("{name}: {e}");
                    continue;
                }
                Err(e) => panic!("{name}: {e}"),
            };
            let corrupt: Vec<_> = findings
                .iter()
                .filter(|f| f.kind == Kind::Corrupt)
                .collect();
            if want {
                // The freed object's clobbered free pointer became the
                // CPU's free list head: a pointer out of its slab.
                assert!(!corrupt.is_empty(), "{name}: seed_cache's damage not found");
                for f in &corrupt {
                    assert_eq!(f.cache, "seed_cache", "{name}: {f}");
                    assert!(matches!(f.place, Place::Cpu(_)), "{name}: {f}");
                    assert!(f.slab.is_some(), "{name}: {f}");
                    assert!(f.what.contains("not in slab"), "{name}: {f}");
                }
            } else {
                assert!(corrupt.is_empty(), "{name}: {corrupt:#?}");
            }
            let mut out = Vec::new();
            slab_check::print_findings(&findings, &mut out).unwrap();
            let out = String::from_utf8(out).unwrap();
            assert_eq!(
                out.contains("corrupt: seed_cache: CPU "),
                want,
                "{name}:\n{out}"
            );
            let unreadable = findings.len() - corrupt.len();
            let last = format!("{} corrupt, {unreadable} unreadable\n", corrupt.len());
            assert!(out.ends_with(&last), "{name}:\n{out}");
            eprintln!("{name}: {}", last.trim_end());
            checked += 1;
        }
    }
    eprintln!("checked {checked} kernels");
}

#[test]
fn tasks_have_pids_and_the_crashing_task_a_backtrace() {
    for c in kdive_testkit::require("tasks example") {
        let Some(dump) = dump(&c) else { continue };
        for (how, k) in kernels(&c, dump) {
            let name = format!("{} ({how})", c.name());
            let list = k.tasks();
            assert!(list.len() > 10, "{name}: {} tasks", list.len());
            // PIDs are unique but for the idle tasks (PID 0, one per CPU).
            let mut pids = HashSet::new();
            for t in list.tasks() {
                assert!(t.pid >= 0, "{name}: task {:x} has PID {}", t.addr, t.pid);
                assert!(
                    t.pid == 0 || pids.insert(t.pid),
                    "{name}: PID {} twice",
                    t.pid
                );
            }
            // A kdump has a panic task; QEMU's dump of a running machine
            // (no VMCOREINFO) does not: then CPU 0's task.
            let crashed = match list.panic_task() {
                Some(t) => t,
                None => {
                    assert!(k.dump().vmcoreinfo().is_none(), "{name}: no panic task");
                    list.active(0).expect("CPU 0's task")
                }
            };
            let bt = k.backtrace_task(crashed.addr, k.orc_tables()).unwrap();
            assert!(!bt.frames.is_empty(), "{name}: {bt:?}");
            let frames: Vec<String> = bt.frames.iter().map(|f| tasks::frame_name(&k, f)).collect();
            assert!(
                frames.iter().all(|f| !f.contains("no symbol")),
                "{name}: {frames:#?}"
            );
            if corrupts_seed_cache(&c) {
                // It faulted reading the corrupt free pointer.
                assert!(
                    frames.iter().any(|f| f.starts_with("kmem_cache_alloc")),
                    "{name}: {frames:#?}"
                );
            }
            let mut out = Vec::new();
            tasks::print_tasks(&k, &mut out).unwrap();
            let out = String::from_utf8(out).unwrap();
            let shown = out.lines().filter(|l| l.starts_with("PID ")).count();
            assert_eq!(shown, list.len(), "{name}");
            // Its line, then its innermost frame.
            let head = format!("(task {:x})\n    {}\n", crashed.addr, frames[0]);
            assert!(out.contains(&head), "{name}: no {head:?}");
        }
    }
}
