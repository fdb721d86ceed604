//! The walks on a made-up kernel: hand-written BTF for the structures they
//! read, and memory holding a few tasks, then damaged in the ways a dump
//! can be (a loop in the task list, a pointer to nowhere, a tree node that
//! holds itself).

use kdive_debuginfo::btf::Btf;

use super::offsets::Offsets;
use super::roots::Roots;
use super::walk::walk;
use super::{Found, TaskList, TaskStates};

type Fake = crate::fake_mem::FakeMem;

use kdive_debuginfo::btf::writer::kind::PTR;
use kdive_debuginfo::btf::writer::BtfWriter as BtfBuilder;

// Offsets in the made-up task_struct.
const STATE: u64 = 0;
const PID: u64 = 8;
const TGID: u64 = 12;
const PARENT: u64 = 16;
const COMM: u64 = 24;
const TASKS: u64 = 48;
const THREADS: u64 = 64;
const PID_LINKS: u64 = 80;
const CPU: u64 = 144;

/// task_struct, rq, the pid namespace's xarray and struct pid.
fn btf() -> Btf {
    let mut b = BtfBuilder::default();
    let int = b.int("int", 4, true);
    let uint = b.int("unsigned int", 4, false);
    let uchar = b.int("unsigned char", 1, false);
    let long = b.int("long", 8, true);
    let ptr = b.ty("", PTR, 0, 0, &[]);
    let list = b.st("list_head", 16, &[("next", ptr, 0), ("prev", ptr, 8)]);
    let comm = b.array(uchar, uint, 16);
    let hnode = b.st("hlist_node", 16, &[("next", ptr, 0), ("pprev", ptr, 8)]);
    let links = b.array(hnode, uint, 4);
    let hhead = b.st("hlist_head", 8, &[("first", ptr, 0)]);
    let heads = b.array(hhead, uint, 4);
    b.st(
        "task_struct",
        256,
        &[
            ("__state", uint, STATE as u32),
            ("flags", uint, 4),
            ("pid", int, PID as u32),
            ("tgid", int, TGID as u32),
            ("parent", ptr, PARENT as u32),
            ("comm", comm, COMM as u32),
            ("mm", ptr, 40),
            ("tasks", list, TASKS as u32),
            ("thread_group", list, THREADS as u32),
            ("pid_links", links, PID_LINKS as u32),
            ("cpu", uint, CPU as u32),
            ("exit_state", int, 148),
        ],
    );
    b.st(
        "rq",
        24,
        &[("curr", ptr, 0), ("idle", ptr, 8), ("clock", long, 16)],
    );
    let xa = b.st("xarray", 16, &[("xa_lock", uint, 0), ("xa_head", ptr, 8)]);
    let idr = b.st("idr", 24, &[("idr_rt", xa, 0), ("idr_base", uint, 16)]);
    b.st("pid_namespace", 32, &[("idr", idr, 0)]);
    let slots = b.array(ptr, uint, 64);
    b.st(
        "xa_node",
        8 + 64 * 8,
        &[("shift", uchar, 0), ("slots", slots, 8)],
    );
    let upid = b.st("upid", 16, &[("nr", int, 0), ("ns", ptr, 8)]);
    let numbers = b.array(upid, uint, 1);
    b.st("pid", 64, &[("tasks", heads, 8), ("numbers", numbers, 48)]);
    Btf::parse(&b.finish()).unwrap()
}

const TASK0: u64 = 0xffff_8880_0100_0000;
const RQ: u64 = 0xffff_8880_0200_0000;
const NS: u64 = 0xffff_8880_0300_0000;
const NODE: u64 = 0xffff_8880_0400_0000;
const PIDS: u64 = 0xffff_8880_0500_0000;

fn task(i: usize) -> u64 {
    TASK0 + i as u64 * 0x1000
}

/// The tasks: `(pid, tgid, parent index, cpu, comm)`. 0: init_task
/// (swapper/0); 1: init; 2: kthreadd; 3: a second thread of init; 4:
/// swapper/1; 5: a task only the PID namespace has.
const TASKS_DEF: [(u32, u32, usize, u32, &str); 6] = [
    (0, 0, 0, 0, "swapper/0"),
    (1, 1, 0, 1, "init"),
    (2, 2, 0, 0, "kthreadd"),
    (3, 1, 0, 0, "init"),
    (0, 0, 4, 1, "swapper/1"),
    (9, 9, 1, 1, "lost"),
];

/// Link `nodes` (addresses of list_heads) into a ring.
fn ring(m: &mut Fake, nodes: &[u64]) {
    for (i, &n) in nodes.iter().enumerate() {
        m.u64(n, nodes[(i + 1) % nodes.len()]);
        m.u64(n + 8, nodes[(i + nodes.len() - 1) % nodes.len()]);
    }
}

fn kernel() -> Fake {
    let mut m = Fake::default();
    for (i, &(pid, tgid, parent, cpu, comm)) in TASKS_DEF.iter().enumerate() {
        let t = task(i);
        m.region(t, 0x1000);
        m.u32(t + PID, pid);
        m.u32(t + TGID, tgid);
        m.u64(t + PARENT, task(parent));
        m.u32(t + CPU, cpu);
        m.u32(t + STATE, if i == 2 { 1 } else { 0 });
        m.write(t + COMM, comm.as_bytes());
        // Alone in its thread group unless linked below.
        ring(&mut m, &[t + THREADS]);
    }
    // The leaders: swapper/0 (the head), init, kthreadd.
    ring(&mut m, &[task(0) + TASKS, task(1) + TASKS, task(2) + TASKS]);
    ring(&mut m, &[task(1) + THREADS, task(3) + THREADS]);
    // Runqueues: CPU 0 runs kthreadd, CPU 1 init.
    m.region(RQ, 0x2000);
    for (cpu, idle, curr) in [(0u64, 0, 2), (1, 4, 1)] {
        m.u64(RQ + cpu * 0x1000, task(curr));
        m.u64(RQ + cpu * 0x1000 + 8, task(idle));
        m.u64(RQ + cpu * 0x1000 + 16, 1_000_000);
    }
    // The PID namespace: one leaf node holding PIDs 1, 2, 3 and 9.
    m.region(NS, 32);
    m.u64(NS + 8, NODE | 2);
    m.region(NODE, 8 + 64 * 8);
    m.region(PIDS, 0x1000);
    for (slot, i) in [(1u64, 1usize), (2, 2), (3, 3), (9, 5)] {
        let pid = PIDS + slot * 64;
        m.u64(NODE + 8 + slot * 8, pid);
        m.u64(pid + 8, task(i) + PID_LINKS);
        m.u32(pid + 48, TASKS_DEF[i].0);
    }
    m
}

fn roots() -> Roots {
    Roots {
        init_task: task(0),
        rqs: vec![Some(RQ), Some(RQ + 0x1000)],
        init_pid_ns: Some(NS),
        per_cpu_offsets: vec![0, 0],
        panic_cpu: Some(1),
        states: TaskStates::default(),
        total_pages: 1000,
        currents: Vec::new(),
    }
}

fn run(m: &Fake) -> TaskList {
    let o = Offsets::from_layouts(crate::offsets::test_layouts(&btf())).unwrap();
    walk(m, &o, &roots())
}

fn addrs(l: &TaskList) -> Vec<u64> {
    l.tasks().iter().map(|t| t.addr).collect()
}

/// Every task, in crash's order: PID 0 by CPU, then by PID.
const ALL: [usize; 6] = [0, 4, 1, 2, 3, 5];

#[test]
fn finds_every_task_by_every_walk() {
    let l = run(&kernel());
    assert_eq!(addrs(&l), ALL.map(task).to_vec());
    let t = |i| l.find_by_addr(task(i)).unwrap();
    assert!(t(3).found.contains(Found::THREADS) && t(3).found.contains(Found::PID_NS));
    assert!(t(4).found.contains(Found::IDLE));
    assert_eq!(t(5).found, Found::PID_NS);
    assert_eq!((t(1).ppid, t(5).ppid, t(4).ppid), (0, 1, 0));
    assert_eq!(t(3).tgid, 1);
    assert_eq!(l.state_code(t(2)), "IN");
    assert_eq!(l.active(0).unwrap().addr, task(2));
    assert_eq!(l.panic_task().unwrap().addr, task(1));
    assert!(l.is_active(task(1)) && !l.is_active(task(3)));
    assert_eq!(l.find_by_pid(0).unwrap().addr, task(0));
    assert_eq!(l.all_with_pid(0).count(), 2);
    assert_eq!(l.threads(1).count(), 2);
    assert_eq!(l.rq_clock(1), Some(1_000_000));
    // The task only the PID namespace has is reported, by address.
    assert_eq!(l.notices().len(), 1, "{:?}", l.notices());
    assert!(
        l.notices()[0].text.contains(&format!("{:#x}", task(5))),
        "{:?}",
        l.notices()
    );
}

#[test]
fn a_loop_in_the_task_list_is_reported_and_the_rest_found() {
    let mut m = kernel();
    // kthreadd's next goes back to init: a loop that never reaches the head.
    m.u64(task(2) + TASKS, task(1) + TASKS);
    let l = run(&m);
    assert_eq!(addrs(&l), ALL.map(task).to_vec());
    assert!(
        l.notices()
            .iter()
            .any(|n| n.text.contains("loop") && n.text.contains(&format!("{:#x}", task(1) + TASKS))),
        "{:?}",
        l.notices()
    );
    // Typed: a loop, at the entry the list came back to.
    assert!(
        l.notices()
            .iter()
            .any(|n| n.kind == crate::FindingKind::Loop && n.addr == Some(task(1) + TASKS)),
        "{:?}",
        l.notices()
    );
}

#[test]
fn a_bad_pointer_is_reported_and_the_list_walked_back() {
    let mut m = kernel();
    let bad = 0xffff_dead_0000_0000u64;
    m.u64(task(1) + TASKS, bad);
    // And drop kthreadd from the PID namespace: only the walk back from
    // the head (its prev) finds it now.
    m.u64(NODE + 8 + 2 * 8, 0);
    let l = run(&m);
    assert_eq!(addrs(&l), ALL.map(task).to_vec());
    assert!(
        l.notices()
            .iter()
            .any(|n| n.text.contains(&format!("{bad:#x}"))),
        "{:?}",
        l.notices()
    );
    assert!(l.find_by_addr(task(2)).unwrap().found.contains(Found::LIST));
}

#[test]
fn a_pointer_to_garbage_is_no_task() {
    let mut m = kernel();
    // A struct pid whose task link leads into memory that is no task.
    let junk = PIDS + 0x800;
    m.write(junk, &[0xff; 0x100]);
    m.u64(PIDS + 5 * 64 + 8, junk + 0x100);
    m.u64(NODE + 8 + 5 * 8, PIDS + 5 * 64);
    let l = run(&m);
    assert_eq!(l.len(), 6);
    assert!(
        l.notices()
            .iter()
            .any(|n| n.text.contains("not a task")
                || n.text.contains("invalid kernel virtual address")),
        "{:?}",
        l.notices()
    );
}

#[test]
fn a_tree_node_that_holds_itself_is_skipped() {
    let mut m = kernel();
    // Make the root a node of shift 6 whose slot 0 is itself.
    m.write(NODE, &[6]);
    m.u64(NODE + 8, NODE | 2);
    let l = run(&m);
    // Reported, once, and the node's other entries still read.
    assert_eq!(l.len(), 6);
    let n: Vec<_> = l
        .notices()
        .iter()
        .filter(|n| n.text.contains(&format!("{NODE:#x}")))
        .collect();
    assert_eq!(n.len(), 1, "{:?}", l.notices());
}

#[test]
fn no_runqueues_and_no_namespace_still_give_the_lists() {
    let o = Offsets::from_layouts(crate::offsets::test_layouts(&btf())).unwrap();
    let r = Roots {
        rqs: Vec::new(),
        init_pid_ns: None,
        ..roots()
    };
    let l = walk(&kernel(), &o, &r);
    // swapper/1 and the lost task are on no list.
    assert_eq!(addrs(&l), [0, 1, 2, 3].map(task).to_vec());
    assert!(l.panic_task().is_none());
}

#[test]
fn current_task_says_what_runs_when_the_runqueue_does_not() {
    let o = Offsets::from_layouts(crate::offsets::test_layouts(&btf())).unwrap();
    let mut m = kernel();
    // CPU 1's runqueue does not read; its current_task does.
    m.remove_region(RQ);
    m.region(RQ, 0x1000);
    m.u64(RQ, task(2));
    m.u64(RQ + 8, task(0));
    let cur = RQ + 0x800;
    m.u64(cur + 8, task(1));
    let r = Roots {
        currents: vec![Some(cur), Some(cur + 8)],
        ..roots()
    };
    let l = walk(&m, &o, &r);
    assert_eq!(l.active(0).unwrap().addr, task(2));
    assert_eq!(l.active(1).unwrap().addr, task(1));
    assert_eq!(l.panic_task().unwrap().addr, task(1));
    assert!(
        l.notices()
            .iter()
            .any(|n| n.text.contains("CPU 1's runqueue")),
        "{:?}",
        l.notices()
    );
}
