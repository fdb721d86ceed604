//! The task list read from real dumps, with and without the vmlinux,
//! against drgn's (`drgn.txt`'s "### tasks: pid ppid cpu task state comm"
//! section: every task of the PID namespace, which leaves out the idle
//! tasks), and the active tasks against what crash printed (`crash.txt`).
//! Every expected value is read from those files.

use std::collections::BTreeSet;
use std::path::PathBuf;

use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::Crash;

/// The dumps with a drgn.txt, each opened with its vmlinux (when
/// installed) and without.
fn kernels() -> Vec<(Crash, &'static str, Kernel)> {
    let mut out = Vec::new();
    for c in kdive_testkit::require("task tests") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        if c.file("drgn.txt").is_none() {
            continue;
        }
        let release = c
            .kernel
            .strip_prefix("linux-")
            .unwrap_or(&c.kernel)
            .to_string();
        if let Some(v) = kdive_testkit::vmlinux(&release) {
            let k = Kernel::open_with(dump, VmlinuxChoice::Given(&v)).unwrap();
            out.push((c.clone(), "vmlinux", k));
        }
        let k = Kernel::open_with(dump, VmlinuxChoice::None).unwrap();
        out.push((c, "no vmlinux", k));
    }
    out
}

type Row = (i64, i64, u32, u64, char, String);

/// drgn.txt's task section.
fn drgn_tasks(path: PathBuf) -> BTreeSet<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows = BTreeSet::new();
    let mut on = false;
    for line in text.lines() {
        if line.starts_with("### ") {
            on = line.starts_with("### tasks: pid ppid cpu task state comm");
            continue;
        }
        if !on || line.trim().is_empty() {
            continue;
        }
        // The comm may hold spaces: it is everything after the fifth field.
        let mut f = line.splitn(6, ' ');
        let mut next = || f.next().unwrap_or_else(|| panic!("short line {line:?}"));
        let pid = next().parse().unwrap();
        let ppid = next().parse().unwrap();
        let cpu = next().parse().unwrap();
        let task = u64::from_str_radix(next().trim_start_matches("0x"), 16).unwrap();
        let state = next().chars().next().unwrap();
        let comm = f.next().unwrap_or("").to_string();
        rows.insert((pid, ppid, cpu, task, state, comm));
    }
    rows
}

#[test]
fn every_task_drgn_finds() {
    let all = kernels();
    assert!(!all.is_empty() || kdive_testkit::allowed("KDIVE_ALLOW_NO_CORPUS"));
    for (c, how, k) in &all {
        let want = drgn_tasks(c.file("drgn.txt").unwrap());
        assert!(
            want.len() > 10,
            "{}: drgn.txt lists {} tasks",
            c.name(),
            want.len()
        );
        let list = k.tasks();
        let got: BTreeSet<Row> = list
            .tasks()
            .iter()
            .filter(|t| t.pid != 0)
            .map(|t| {
                (
                    t.pid,
                    t.ppid,
                    t.cpu,
                    t.addr,
                    list.state_letter(t),
                    t.comm.clone(),
                )
            })
            .collect();
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{} ({how}): missing {missing:#?}\nextra {extra:#?}\nnotices {:#?}",
            c.name(),
            list.notices()
        );
        // One idle task per CPU, each on its CPU.
        let idle: Vec<u32> = list
            .tasks()
            .iter()
            .filter(|t| t.pid == 0)
            .map(|t| t.cpu)
            .collect();
        assert_eq!(
            idle,
            (0..k.nr_cpus() as u32).collect::<Vec<_>>(),
            "{}",
            c.name()
        );
        assert!(
            list.notices().is_empty(),
            "{} ({how}): {:#?}",
            c.name(),
            list.notices()
        );
    }
}
