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
/// installed) and without; opened once for all the tests.
fn kernels() -> &'static [(Crash, &'static str, Kernel)] {
    static KERNELS: std::sync::OnceLock<Vec<(Crash, &'static str, Kernel)>> =
        std::sync::OnceLock::new();
    KERNELS.get_or_init(open_kernels)
}

fn open_kernels() -> Vec<(Crash, &'static str, Kernel)> {
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
    for (c, how, k) in all {
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

/// drgn's reading of each task's memory counters: `pid tgid total_vm` and
/// the mm's and the task's own file, anonymous and shared-memory counts.
const DRGN_RSS: &str = r#"
import sys
from drgn import Program
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.percpu import percpu_counter_sum
p = Program()
p.set_core_dump(sys.argv[1])
p.load_debug_info([sys.argv[2]])
kinds = [p["MM_FILEPAGES"].value_(), p["MM_ANONPAGES"].value_(), p["MM_SHMEMPAGES"].value_()]
for t in for_each_task(p):
    if not t.mm:
        continue
    rs = t.mm.rss_stat
    if hasattr(rs, "count"):
        mm = [rs.count[k].counter.value_() for k in kinds]
    else:
        mm = [percpu_counter_sum(rs[k].address_of_()) for k in kinds]
    try:
        own = [t.rss_stat.count[k].value_() for k in kinds]
    except (AttributeError, LookupError):
        own = [0, 0, 0]
    print(t.pid.value_(), t.tgid.value_(), t.mm.total_vm.value_(), *mm, *own)
"#;

/// VSZ and RSS as crash 8.0.4 on (and the kernel's `get_mm_rss`) count
/// them, from drgn's reading of the counters.
#[test]
fn memory_use_is_what_drgn_reads() {
    let python = match kdive_testkit::drgn_python() {
        Ok(p) => p,
        Err(why) if kdive_testkit::allowed("KDIVE_ALLOW_NO_DRGN") => {
            eprintln!("skipping: {why}");
            return;
        }
        Err(why) => panic!("{why}"),
    };
    let mut checked = 0;
    for (c, how, k) in kernels() {
        if *how != "vmlinux" {
            continue;
        }
        let out = std::process::Command::new(&python)
            .args(["-c", DRGN_RSS])
            .arg(c.variant("kdump-zlib").unwrap())
            .arg(k.vmlinux().unwrap())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            c.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<Vec<i64>> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split_whitespace().map(|w| w.parse().unwrap()).collect())
            .collect();
        assert!(rows.len() > 3, "{}: {} user tasks", c.name(), rows.len());
        let pos = |v: &[i64]| v.iter().filter(|&&x| x > 0).sum::<i64>();
        let list = k.tasks();
        for r in &rows {
            let own: i64 = rows
                .iter()
                .filter(|o| o[1] == r[1])
                .map(|o| pos(&o[6..9]))
                .sum();
            let t = list.find_by_pid(r[0]).unwrap();
            assert_eq!(
                t.usage.total_vm as i64,
                r[2],
                "{}: VSZ of {}",
                c.name(),
                r[0]
            );
            assert_eq!(
                t.usage.rss as i64,
                pos(&r[3..6]) + own,
                "{}: RSS of {}",
                c.name(),
                r[0]
            );
            checked += 1;
        }
        // Kernel threads have none.
        assert!(list
            .tasks()
            .iter()
            .filter(|t| t.mm == 0)
            .all(|t| t.usage.rss == 0));
    }
    eprintln!("checked {checked} tasks");
}
