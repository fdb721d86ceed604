//! Each CPU's run queue (`struct rq`, per CPU `runqueues`) as crash's
//! `runq` reads it: the real-time queues of `rq->rt.active` (one list per
//! priority, of `sched_rt_entity.run_list`) and the CFS red-black tree
//! `rq->cfs.tasks_timeline` (of `sched_entity.run_node`). A scheduling
//! entity that is a task group (`my_q` set) stands for the queue of that
//! group, whose tasks are listed in its place, as crash lists them.
//!
//! Every list and tree is bounded; an entry seen twice, or memory that does
//! not read, is reported ([`RunQueue::damage`]) and the walk goes on.

use std::collections::HashSet;

use crate::offsets::Layouts;

use crate::memory::Memory;
use crate::{CpuState, Error, Kernel, LayoutError};

/// The most entries read of one queue, and the deepest group nesting.
const MAX_ENTRIES: usize = 1 << 20;
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunqOffsets {
    pub rq_cfs: u64,
    pub rq_rt: u64,
    pub cfs_timeline: u64,
    pub cfs_leftmost: u64,
    pub cfs_curr: u64,
    pub se_run_node: u64,
    pub se_my_q: Option<u64>,
    pub task_se: u64,
    pub task_rt: u64,
    pub task_prio: u64,
    pub rt_rq_active: u64,
    pub rt_queue: u64,
    pub rt_queues: usize,
    pub rt_se_run_list: u64,
    pub rt_se_my_q: Option<u64>,
}

impl RunqOffsets {
    pub(crate) fn from_layouts(layouts: Layouts<'_>) -> Option<RunqOffsets> {
        let off = |s: &str, p: &str| layouts.member_offset(s, p).map(|m| m.offset());
        let queue = layouts.member_offset("rt_prio_array", "queue")?;
        let timeline = off("cfs_rq", "tasks_timeline")?;
        Some(RunqOffsets {
            rq_cfs: off("rq", "cfs")?,
            rq_rt: off("rq", "rt")?,
            cfs_timeline: timeline,
            cfs_leftmost: off("cfs_rq", "tasks_timeline.rb_leftmost")
                .or_else(|| off("cfs_rq", "rb_leftmost"))?,
            cfs_curr: off("cfs_rq", "curr")?,
            se_run_node: off("sched_entity", "run_node")?,
            se_my_q: off("sched_entity", "my_q"),
            task_se: off("task_struct", "se")?,
            task_rt: off("task_struct", "rt")?,
            task_prio: off("task_struct", "prio")?,
            rt_rq_active: off("rt_rq", "active")?,
            rt_queue: queue.offset(),
            rt_queues: (layouts.array_info(queue.type_id)?.len as usize).min(1024),
            rt_se_run_list: off("sched_rt_entity", "run_list")?,
            rt_se_my_q: off("sched_rt_entity", "my_q"),
        })
    }
}

/// A queued task: its priority (the RT queue's index, or for CFS the
/// task's `prio`) and its `task_struct`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub prio: i64,
    pub task: u64,
}

/// One CPU's run queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunQueue {
    pub cpu: usize,
    /// The `struct rq`.
    pub addr: u64,
    /// `&rq->rt.active` and its tasks.
    pub rt_array: u64,
    pub rt: Vec<Queued>,
    /// `&rq->cfs.tasks_timeline` and its tasks, leftmost first.
    pub cfs_root: u64,
    pub cfs: Vec<Queued>,
    pub damage: Vec<String>,
}

struct Walk<'a> {
    k: &'a dyn Memory,
    o: &'a RunqOffsets,
    seen: HashSet<u64>,
    out: RunQueue,
}

impl Walk<'_> {
    fn u64(&mut self, addr: u64, what: &str) -> Option<u64> {
        match self.k.read_u64(addr) {
            Ok(v) => Some(v),
            Err(e) => {
                self.out
                    .damage
                    .push(format!("{what} at {addr:x} does not read: {e}"));
                None
            }
        }
    }

    fn first_visit(&mut self, addr: u64, what: &str) -> bool {
        if self.seen.len() >= MAX_ENTRIES {
            self.out
                .damage
                .push(format!("more than {MAX_ENTRIES} entries: read no more"));
            return false;
        }
        if !self.seen.insert(addr) {
            self.out
                .damage
                .push(format!("duplicate {what} node: {addr:x}"));
            return false;
        }
        true
    }

    fn prio(&mut self, task: u64) -> i64 {
        let mut b = [0u8; 4];
        match self.k.read(task + self.o.task_prio, &mut b) {
            Ok(()) => i64::from(i32::from_le_bytes(b)),
            Err(_) => -1,
        }
    }

    /// crash's `dump_RT_prio_array()`.
    fn rt(&mut self, array: u64, depth: usize) {
        if depth > MAX_DEPTH {
            self.out
                .damage
                .push(format!("rt_prio_array {array:x}: groups nested too deep"));
            return;
        }
        for i in 0..self.o.rt_queues {
            let head = array + self.o.rt_queue + 16 * i as u64;
            let Some(mut next) = self.u64(head, "rt queue") else {
                return;
            };
            while next != head && next != 0 {
                if !self.first_visit(next, "RT runqueue") {
                    break;
                }
                let rt_se = next.wrapping_sub(self.o.rt_se_run_list);
                let my_q = match self.o.rt_se_my_q {
                    Some(off) => self.u64(rt_se + off, "sched_rt_entity").unwrap_or(0),
                    None => 0,
                };
                if my_q != 0 {
                    self.rt(my_q + self.o.rt_rq_active, depth + 1);
                } else {
                    let task = rt_se.wrapping_sub(self.o.task_rt);
                    self.out.rt.push(Queued {
                        prio: i as i64,
                        task,
                    });
                }
                let Some(n) = self.u64(next, "rt list entry") else {
                    break;
                };
                next = n;
            }
        }
    }

    /// crash's `dump_tasks_in_cfs_rq()`: the running group's queue, then
    /// the tree in order.
    fn cfs(&mut self, cfs_rq: u64, depth: usize) {
        if depth > MAX_DEPTH {
            self.out
                .damage
                .push(format!("cfs_rq {cfs_rq:x}: groups nested too deep"));
            return;
        }
        if let Some(my_q_off) = self.o.se_my_q {
            let curr = self.u64(cfs_rq + self.o.cfs_curr, "cfs_rq").unwrap_or(0);
            if curr != 0 {
                let q = self.u64(curr + my_q_off, "sched_entity").unwrap_or(0);
                if q != 0 {
                    self.cfs(q, depth + 1);
                }
            }
        }
        let leftmost = self
            .u64(cfs_rq + self.o.cfs_leftmost, "cfs_rq")
            .unwrap_or(0);
        let root = self
            .u64(cfs_rq + self.o.cfs_timeline, "cfs_rq")
            .unwrap_or(0);
        if leftmost == 0 {
            return;
        }
        // In order, with an explicit stack.
        let mut stack = Vec::new();
        let mut node = root;
        loop {
            while node != 0 {
                if !self.first_visit(node, "CFS runqueue") {
                    break;
                }
                stack.push(node);
                node = self.u64(node + 16, "rb_node").unwrap_or(0);
            }
            let Some(n) = stack.pop() else { break };
            let se = n.wrapping_sub(self.o.se_run_node);
            let my_q = match self.o.se_my_q {
                Some(off) => self.u64(se + off, "sched_entity").unwrap_or(0),
                None => 0,
            };
            if my_q != 0 {
                self.cfs(my_q, depth + 1);
            } else {
                let task = se.wrapping_sub(self.o.task_se);
                let prio = self.prio(task);
                self.out.cfs.push(Queued { prio, task });
            }
            node = self.u64(n + 8, "rb_node").unwrap_or(0);
        }
    }
}

impl Kernel {
    /// The run queue of `cpu`.
    pub fn run_queue(&self, cpu: usize) -> Result<RunQueue, Error> {
        let o = self
            .proc_offsets()
            .runq
            .as_ref()
            .ok_or_else(|| LayoutError::Incomplete("rq".into()))?;
        let rqs = self
            .symbol("runqueues")
            .ok_or_else(|| Error::no_symbol_said("runqueues", "per-cpu runqueues do not exist"))?;
        let off = self.per_cpu_offset(cpu).ok_or(Error::NoCpuState {
            cpu,
            what: CpuState::PerCpuOffset,
        })?;
        Ok(read_queue(self, cpu, rqs.wrapping_add(off), o))
    }
}

/// The queues of the `struct rq` at `addr`.
fn read_queue(mem: &dyn Memory, cpu: usize, addr: u64, o: &RunqOffsets) -> RunQueue {
    let cfs_rq = addr + o.rq_cfs;
    let mut w = Walk {
        k: mem,
        o,
        seen: HashSet::new(),
        out: RunQueue {
            cpu,
            addr,
            rt_array: addr + o.rq_rt + o.rt_rq_active,
            cfs_root: cfs_rq + o.cfs_timeline,
            ..RunQueue::default()
        },
    };
    let array = w.out.rt_array;
    w.rt(array, 0);
    w.cfs(cfs_rq, 0);
    w.out
}

#[cfg(test)]
mod tests;
