//! Reads through every kind of kernel mapping agree with drgn's
//! (`prog.read`, with no debug info: drgn walks the page tables VMCOREINFO
//! locates). Addresses are derived from each dump, never written down:
//! kernel text and data by symbol, the direct map, vmalloc areas from
//! `vmap_area_list` (or a task's stack where it is gone, 6.9 on), module
//! memory from the `modules` list, the struct pages of vmemmap, and each
//! CPU's per-CPU area.

use std::io::Write;
use std::process::{Command, Stdio};

use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::{allowed, drgn_python, repo_root, require};

const LEN: usize = 64;

/// (kind, address) pairs to read on this kernel.
fn addresses(k: &Kernel) -> Vec<(&'static str, u64)> {
    let mut v = Vec::new();
    for name in ["schedule", "do_syscall_64"] {
        v.extend(k.symbol(name).map(|a| ("kernel text", a)));
    }
    for name in ["init_task", "linux_banner", "jiffies_64"] {
        v.extend(k.symbol(name).map(|a| ("kernel data", a)));
    }
    let dump = k.dump();
    let pfns: Vec<u64> = dump.present_pfns().step_by(997).take(12).collect();
    for &pfn in &pfns {
        v.push(("direct map", k.ptov(pfn * dump.page_size()) + 0x40));
        v.push(("vmemmap", k.layout().vmemmap_base + pfn * 64));
    }
    if let (Some(info), Some(head)) = (dump.vmcoreinfo(), k.symbol("vmap_area_list")) {
        let list = info.decimal("OFFSET(vmap_area.list)").unwrap_or(40);
        let start = info.decimal("OFFSET(vmap_area.va_start)").unwrap_or(0);
        let mut next = k.read_u64(head).unwrap_or(head);
        for _ in 0..8 {
            if next == head {
                break;
            }
            if let Ok(va) = k.read_u64(next - list + start) {
                v.push(("vmalloc", va));
            }
            next = match k.read_u64(next) {
                Ok(n) => n,
                Err(_) => break,
            };
        }
    }
    // Linux 6.9 dropped vmap_area_list: a task's stack (CONFIG_VMAP_STACK)
    // is in vmalloc space too.
    if !v.iter().any(|(kind, _)| *kind == "vmalloc") {
        if let (Some(btf), Some(init)) = (k.btf(), k.symbol("init_task")) {
            let tasks = btf
                .member_offset("task_struct", "tasks")
                .map(|m| m.offset());
            let stack = btf
                .member_offset("task_struct", "stack")
                .map(|m| m.offset());
            if let (Some(tasks), Some(stack)) = (tasks, stack) {
                let task = k.read_u64(init + tasks).map(|n| n - tasks);
                if let Ok(s) = task.and_then(|t| k.read_u64(t + stack)) {
                    v.push(("vmalloc", s + 0x100));
                }
            }
        }
    }
    if let Some(head) = k.symbol("modules") {
        if let Ok(first) = k.read_u64(head) {
            if first != head {
                v.push(("module", first));
            }
        }
    }
    if let Some(rq) = k.symbol("runqueues") {
        for cpu in 0..k.nr_cpus() {
            if let Some(off) = k.per_cpu_offset(cpu) {
                v.push(("per-CPU", rq.wrapping_add(off)));
            }
        }
    }
    v
}

/// drgn's answer for each address: `Some(bytes)` or `None` (a fault).
fn drgn_reads(
    python: &std::path::Path,
    dump: &std::path::Path,
    addrs: &[u64],
) -> Vec<Option<Vec<u8>>> {
    let script = repo_root().join("tests/drgn/vread.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(dump)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run drgn");
    let input: String = addrs.iter().map(|a| format!("{a:x} {LEN}\n")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "vread.py failed on {}",
        dump.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (_, rest) = l.split_once(' ').unwrap();
            (!rest.starts_with("ERROR")).then(|| {
                (0..rest.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&rest[i..i + 2], 16).unwrap())
                    .collect()
            })
        })
        .collect()
}

#[test]
fn reads_agree_with_drgn() {
    let python = match drgn_python() {
        Ok(p) => p,
        Err(e) if allowed("KDIVE_ALLOW_NO_DRGN") => {
            eprintln!("skipping: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    for crash in require("reads_agree_with_drgn") {
        // drgn needs VMCOREINFO; one variant per crash is enough here.
        let Some(path) = crash.variant("kdump-zlib") else {
            continue;
        };
        let k = Kernel::open_with(path, VmlinuxChoice::None).unwrap();
        let addrs = addresses(&k);
        let kinds: std::collections::BTreeSet<&str> = addrs.iter().map(|(k, _)| *k).collect();
        for kind in [
            "kernel text",
            "kernel data",
            "direct map",
            "vmemmap",
            "vmalloc",
            "module",
            "per-CPU",
        ] {
            assert!(
                kinds.contains(kind),
                "{}: no {kind} address found",
                crash.name()
            );
        }
        let theirs = drgn_reads(
            &python,
            path,
            &addrs.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
        );
        let mut agreed = 0;
        for ((kind, addr), drgn) in addrs.iter().zip(theirs) {
            let mut buf = vec![0u8; LEN];
            let ours = k.read(*addr, &mut buf).ok().map(|()| buf);
            assert_eq!(
                ours.is_some(),
                drgn.is_some(),
                "{}: {kind} {addr:#x}: kdive {} but drgn {}",
                crash.name(),
                if ours.is_some() { "reads it" } else { "cannot" },
                if drgn.is_some() { "does" } else { "does not" }
            );
            if let (Some(a), Some(b)) = (&ours, &drgn) {
                assert_eq!(a, b, "{}: {kind} {addr:#x}: bytes differ", crash.name());
                agreed += 1;
            }
        }
        eprintln!(
            "{}: {agreed} of {} reads agree with drgn",
            crash.name(),
            addrs.len()
        );
        assert!(
            agreed * 2 > addrs.len(),
            "{}: too few readable addresses",
            crash.name()
        );
    }
}
