//! The run queue walk on a made-up `struct rq`: a CFS tree of three tasks
//! and a task group holding a fourth, an RT queue of two priorities, then
//! damage (a tree node that is its own child, an RT list that loops).

use super::*;
use crate::fake_mem::FakeMem;

const RQ: u64 = 0xffff_8880_0100_0000;
const TASKS: u64 = 0xffff_8880_0200_0000;
const GROUP_RQ: u64 = 0xffff_8880_0300_0000;
const GROUP_SE: u64 = 0xffff_8880_0300_0800;

fn o() -> RunqOffsets {
    RunqOffsets {
        rq_cfs: 0x100,
        rq_rt: 0x200,
        cfs_timeline: 0x10,
        cfs_leftmost: 0x18,
        cfs_curr: 0x20,
        se_run_node: 0x8,
        se_my_q: Some(0x40),
        task_se: 0x100,
        task_rt: 0x200,
        task_prio: 0x50,
        rt_rq_active: 0x0,
        rt_queue: 0x10,
        rt_queues: 100,
        rt_se_run_list: 0x0,
        rt_se_my_q: Some(0x30),
    }
}

fn task(i: u64) -> u64 {
    TASKS + i * 0x1000
}

/// The rb_node of task `i`'s sched_entity.
fn node(i: u64) -> u64 {
    task(i) + o().task_se + o().se_run_node
}

fn set_node(m: &mut FakeMem, n: u64, left: u64, right: u64) {
    m.u64(n + 8, right);
    m.u64(n + 16, left);
}

fn rq() -> FakeMem {
    let o = o();
    let mut m = FakeMem::default();
    for i in 0..6 {
        m.u32(task(i) + o.task_prio, 100 + i as u32);
    }
    // CFS: root 2, left 1 (leftmost), right: the group's entity, whose
    // queue holds task 4; task 3 right of the group.
    let cfs = RQ + o.rq_cfs;
    m.u64(cfs + o.cfs_timeline, node(2));
    m.u64(cfs + o.cfs_leftmost, node(1));
    set_node(&mut m, node(2), node(1), GROUP_SE + o.se_run_node);
    set_node(&mut m, node(1), 0, 0);
    set_node(&mut m, GROUP_SE + o.se_run_node, 0, node(3));
    m.u64(GROUP_SE + o.se_my_q.unwrap(), GROUP_RQ);
    set_node(&mut m, node(3), 0, 0);
    m.u64(GROUP_RQ + o.cfs_timeline, node(4));
    m.u64(GROUP_RQ + o.cfs_leftmost, node(4));
    set_node(&mut m, node(4), 0, 0);
    // RT: task 5 at priority 0 and task 0 at priority 7; empty lists point
    // at themselves.
    let array = RQ + o.rq_rt + o.rt_rq_active;
    for q in 0..100u64 {
        let head = array + o.rt_queue + 16 * q;
        m.u64(head, head);
        m.u64(head + 8, head);
    }
    for (q, t) in [(0u64, 5u64), (7, 0)] {
        let head = array + o.rt_queue + 16 * q;
        let entry = task(t) + o.task_rt + o.rt_se_run_list;
        m.u64(head, entry);
        m.u64(entry, head);
    }
    m
}

#[test]
fn cfs_in_order_through_groups_and_rt_by_priority() {
    let q = read_queue(&rq(), 1, RQ, &o());
    assert_eq!(q.damage, Vec::<String>::new());
    let cfs: Vec<(i64, u64)> = q.cfs.iter().map(|e| (e.prio, e.task)).collect();
    assert_eq!(
        cfs,
        vec![
            (101, task(1)),
            (102, task(2)),
            (104, task(4)),
            (103, task(3))
        ]
    );
    let rt: Vec<(i64, u64)> = q.rt.iter().map(|e| (e.prio, e.task)).collect();
    assert_eq!(rt, vec![(0, task(5)), (7, task(0))]);
    assert_eq!(q.cfs_root, RQ + 0x100 + 0x10);
}

#[test]
fn an_empty_tree_is_not_walked() {
    let mut m = rq();
    m.u64(RQ + o().rq_cfs + o().cfs_leftmost, 0);
    assert!(read_queue(&m, 0, RQ, &o()).cfs.is_empty());
}

#[test]
fn loops_are_reported_and_end() {
    let mut m = rq();
    // Task 3 is its own right child; the RT list of priority 7 loops.
    set_node(&mut m, node(3), 0, node(3));
    let entry = task(0) + o().task_rt;
    m.u64(entry, entry);
    let q = read_queue(&m, 0, RQ, &o());
    assert!(
        q.damage.iter().any(|d| d.contains("duplicate CFS")),
        "{:?}",
        q.damage
    );
    assert!(
        q.damage.iter().any(|d| d.contains("duplicate RT")),
        "{:?}",
        q.damage
    );
    assert_eq!(q.cfs.len(), 4);
    assert_eq!(q.rt.len(), 2);
}
