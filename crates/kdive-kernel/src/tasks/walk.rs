//! The walks that find the tasks, on any [`Memory`] (a dump, or the
//! made-up kernels of the tests).

use std::collections::{HashMap, HashSet};

use super::list::list_nodes;
use super::offsets::{Field, Offsets, Threads};
use super::roots::Roots;
use super::usage::mm_usage;
use super::{Found, MemUsage, Task, TaskList, MAX_TASKS};
use crate::memory::Memory;

/// The longest a PID can be in any kernel (`PID_MAX_LIMIT`).
const PID_MAX_LIMIT: i64 = 4 * 1024 * 1024;

/// The tasks found so far.
struct Collector<'a, M> {
    mem: &'a M,
    o: &'a Offsets,
    tasks: Vec<Task>,
    index: HashMap<u64, usize>,
    /// Addresses that did not read as tasks: not tried again.
    bad: HashSet<u64>,
    /// `signal` of each task (for the thread lists).
    signal: HashMap<u64, u64>,
    /// Per-task RSS counts not yet folded into the mm (`SPLIT_RSS_COUNTING`).
    split_rss: HashMap<u64, u64>,
    notices: Vec<crate::Finding>,
    buf: Vec<u8>,
    full: bool,
}

/// Walk every structure that leads to tasks.
pub(crate) fn walk(mem: &impl Memory, o: &Offsets, roots: &Roots) -> TaskList {
    let mut c = Collector {
        mem,
        o,
        tasks: Vec::new(),
        index: HashMap::new(),
        bad: HashSet::new(),
        signal: HashMap::new(),
        split_rss: HashMap::new(),
        notices: Vec::new(),
        buf: vec![0; o.task_len],
        full: false,
    };
    // 1. The leaders, through init_task.tasks.
    c.add(roots.init_task, Found::LIST, "init_task");
    let head = roots.init_task + o.tasks as u64;
    for node in list_nodes(mem, head, "the task list (init_task.tasks)", &mut c.notices) {
        c.add(
            node.wrapping_sub(o.tasks as u64),
            Found::LIST,
            "on the task list",
        );
    }
    // 2. Each leader's threads.
    let leaders: Vec<u64> = c.tasks.iter().map(|t| t.addr).collect();
    for leader in leaders {
        c.threads(leader);
    }
    // 3. Each CPU's idle and current task.
    let ncpu = roots.rqs.len().max(roots.currents.len());
    let mut active = vec![None; ncpu];
    let mut clocks = vec![None; ncpu];
    if let Some(rq) = &o.rq {
        for (cpu, base) in roots.rqs.iter().enumerate() {
            let Some(base) = *base else { continue };
            if let Some(clock) = rq.clock {
                clocks[cpu] = mem.read_u64(base + clock.off as u64).ok();
            }
            for (field, how) in [(rq.idle, Found::IDLE), (rq.curr, Found::CURRENT)] {
                match mem.read_u64(base + field.off as u64) {
                    Ok(0) => {}
                    Ok(t) => {
                        if c.add(t, how, &format!("CPU {cpu}'s runqueue")) && how == Found::CURRENT
                        {
                            active[cpu] = Some(t);
                        }
                    }
                    Err(e) => c.notices.push(crate::Finding::unreadable(
                        base,
                        format!("tasks: CPU {cpu}'s runqueue at {base:#x}: {e}"),
                    )),
                }
            }
        }
    }
    // Where the runqueue did not say what ran, the CPU's `current_task`.
    for (cpu, at) in roots.currents.iter().enumerate() {
        let Some(at) = *at else { continue };
        if active[cpu].is_some() {
            continue;
        }
        match mem.read_u64(at) {
            Ok(0) => {}
            Ok(t) => {
                if c.add(t, Found::CURRENT, &format!("CPU {cpu}'s current_task")) {
                    active[cpu] = Some(t);
                }
            }
            Err(e) => c.notices.push(crate::Finding::unreadable(
                at,
                format!("tasks: CPU {cpu}'s current_task at {at:#x}: {e}"),
            )),
        }
    }
    // 4. The PID namespace.
    if let (Some(ns), Some(po), Some(link)) = (roots.init_pid_ns, &o.pid_ns, o.pid_link) {
        let root = ns + po.root as u64;
        let what = format!("tasks: init_pid_ns's IDR at {root:#x}");
        let pids = crate::radix_tree::tree_entries(mem, root, &po.tree, &what, &mut c.notices);
        let mut unread = Vec::new();
        for (_, pid) in pids {
            match mem.read_u64(pid + po.pid_first as u64) {
                Ok(0) => {}
                Ok(first) => {
                    let t = first.wrapping_sub(link as u64);
                    if c.add(t, Found::PID_NS, &format!("struct pid {pid:#x}")) {
                        c.check_pid_nr(t, pid);
                    }
                }
                Err(e) => unread.push((pid, e)),
            }
        }
        if let Some((_, e)) = unread.first() {
            let addrs: Vec<String> = unread.iter().map(|u| format!("{:#x}", u.0)).collect();
            c.notices.push(crate::Finding::new(
                crate::FindingKind::Unreadable,
                unread.first().map(|u| u.0),
                format!(
                    "tasks: {} struct pid of the PID namespace do not read ({e}): {}",
                    unread.len(),
                    few(&addrs)
                ),
            ));
        }
    }
    c.report_partial();
    let mut list = c.finish(roots, active);
    list.offsets = Some(o.clone());
    list.rq_clock = clocks;
    list
}

impl<M: Memory> Collector<'_, M> {
    /// Read the task at `addr` unless known; mark how it was found. False
    /// when it does not read as a task.
    fn add(&mut self, addr: u64, how: Found, from: &str) -> bool {
        if let Some(&i) = self.index.get(&addr) {
            self.tasks[i].found.insert(how);
            return true;
        }
        if self.bad.contains(&addr) || self.full {
            return false;
        }
        if self.tasks.len() >= MAX_TASKS {
            self.notices.push(crate::Finding::truncated(format!(
                "tasks: more than {MAX_TASKS}: damaged? read no more"
            )));
            self.full = true;
            return false;
        }
        match self.read(addr, how) {
            Ok(t) => {
                self.index.insert(addr, self.tasks.len());
                self.tasks.push(t);
                true
            }
            Err(why) => {
                self.bad.insert(addr);
                self.notices.push(crate::Finding::corrupt(
                    addr,
                    format!("tasks: {from}: task_struct at {addr:#x}: {why}"),
                ));
                false
            }
        }
    }

    fn read(&mut self, addr: u64, how: Found) -> Result<Task, String> {
        if addr < 1 << 63 {
            return Err("not a kernel address".into());
        }
        self.mem
            .read(addr, &mut self.buf)
            .map_err(|e| e.to_string())?;
        let b = &self.buf;
        let o = self.o;
        let get = |f: Field| f.get(b).unwrap_or(0);
        let opt = |f: Option<Field>| f.and_then(|f| f.get(b));
        let pid = o.pid.get_signed(b).unwrap_or(-1);
        let tgid = o.tgid.get_signed(b).unwrap_or(-1);
        if !(0..=PID_MAX_LIMIT).contains(&pid) || !(0..=PID_MAX_LIMIT).contains(&tgid) {
            return Err(format!("PID {pid}, TGID {tgid}: not a task"));
        }
        let comm = o.comm.bytes(b).unwrap_or(&[]);
        let comm = &comm[..comm.iter().position(|&c| c == 0).unwrap_or(comm.len())];
        if let Threads::SignalList { signal, .. } = o.threads {
            self.signal.insert(addr, get(signal));
        }
        if let Some(f) = o.task_rss {
            let n: u64 = o
                .rss_kinds
                .iter()
                .filter_map(|&k| {
                    Field {
                        off: f.off + 4 * k,
                        size: 4,
                    }
                    .get_signed(b)
                })
                .filter(|&v| v > 0)
                .map(|v| v as u64)
                .sum();
            self.split_rss.insert(addr, n);
        }
        Ok(Task {
            addr,
            pid,
            tgid,
            ppid: -1,
            parent: get(o.parent),
            real_parent: opt(o.real_parent).unwrap_or(0),
            group_leader: opt(o.group_leader).unwrap_or(0),
            cpu: opt(o.cpu).unwrap_or(0) as u32,
            state: get(o.state),
            exit_state: opt(o.exit_state).unwrap_or(0),
            flags: get(o.flags),
            comm: String::from_utf8_lossy(comm).into_owned(),
            mm: get(o.mm),
            active_mm: opt(o.active_mm).unwrap_or(0),
            stack: opt(o.stack).unwrap_or(0),
            thread_info: o
                .thread_info
                .map_or_else(|| opt(o.stack).unwrap_or(0), |off| addr + off as u64),
            ksp: opt(o.ksp),
            last_arrival: opt(o.last_arrival),
            start_time: opt(o.start_time),
            utime: opt(o.utime),
            stime: opt(o.stime),
            usage: MemUsage::default(),
            found: how,
        })
    }

    /// Add the threads of the group `leader` leads.
    fn threads(&mut self, leader: u64) {
        let (head, node) = match self.o.threads {
            Threads::SignalList { head, node, .. } => {
                let Some(&sig) = self.signal.get(&leader) else {
                    return;
                };
                if sig == 0 {
                    return;
                }
                (sig + head as u64, node)
            }
            Threads::Ring { node } => (leader + node as u64, node),
            Threads::None => return,
        };
        let what = format!("the threads of task {leader:#x}");
        for n in list_nodes(self.mem, head, &what, &mut self.notices) {
            self.add(n.wrapping_sub(node as u64), Found::THREADS, &what);
        }
    }

    /// A task found through `struct pid` should have that PID.
    fn check_pid_nr(&mut self, task: u64, pid: u64) {
        let (Some(po), Some(&i)) = (&self.o.pid_ns, self.index.get(&task)) else {
            return;
        };
        let Some(nr) = po.pid_nr else { return };
        let mut b = [0u8; 4];
        if self.mem.read(pid + nr.off as u64, &mut b).is_ok() {
            let nr = i64::from(i32::from_le_bytes(b));
            let t = &self.tasks[i];
            if nr != t.pid {
                self.notices.push(crate::Finding::corrupt(pid, format!(
                    "tasks: struct pid {pid:#x} (PID {nr}) leads to task {task:#x}, whose PID is {}",
                    t.pid
                )));
            }
        }
    }

    /// Tasks one walk found and another should have: a sign of damage (or
    /// of memory the dump left out), told in one line for each walk.
    fn report_partial(&mut self) {
        let ns =
            self.o.pid_ns.is_some() && self.tasks.iter().any(|t| t.found.contains(Found::PID_NS));
        let named = |t: &Task| format!("{:#x} (PID {} \"{}\")", t.addr, t.pid, t.comm);
        let mut unlisted = Vec::new();
        let mut outside = Vec::new();
        for t in self.tasks.iter().filter(|t| t.pid != 0) {
            if !t.found.contains(Found::LIST) && !t.found.contains(Found::THREADS) {
                unlisted.push(named(t));
            } else if ns && !t.found.contains(Found::PID_NS) {
                outside.push(named(t));
            }
        }
        if !unlisted.is_empty() {
            self.notices.push(crate::Finding::new(
                crate::FindingKind::Corrupt,
                None,
                format!(
                    "tasks: {} on no task list, found by the other walks: {}",
                    unlisted.len(),
                    few(&unlisted)
                ),
            ));
        }
        if !outside.is_empty() {
            self.notices.push(crate::Finding::new(
                crate::FindingKind::Corrupt,
                None,
                format!(
                    "tasks: {} on the task lists but not in the PID namespace: {}",
                    outside.len(),
                    few(&outside)
                ),
            ));
        }
    }

    fn finish(mut self, roots: &Roots, active: Vec<Option<u64>>) -> TaskList {
        let pid_of: HashMap<u64, i64> = self.tasks.iter().map(|t| (t.addr, t.pid)).collect();
        // Unfolded RSS counts by thread group.
        let mut group_rss: HashMap<i64, u64> = HashMap::new();
        for t in &self.tasks {
            *group_rss.entry(t.tgid).or_default() +=
                self.split_rss.get(&t.addr).copied().unwrap_or(0);
        }
        let mut mm_cache: HashMap<u64, Option<MemUsage>> = HashMap::new();
        for i in 0..self.tasks.len() {
            let t = &self.tasks[i];
            let ppid = pid_of.get(&t.parent).copied().or_else(|| {
                let mut b = [0u8; 4];
                self.mem
                    .read(t.parent.checked_add(self.o.pid.off as u64)?, &mut b)
                    .ok()?;
                Some(i64::from(i32::from_le_bytes(b)))
            });
            let zombie = roots.states.is_zombie(t.state, t.exit_state);
            let usage = if t.mm == 0 || zombie {
                MemUsage::default()
            } else {
                let mm = t.mm;
                let u = *mm_cache
                    .entry(mm)
                    .or_insert_with(|| mm_usage(self.mem, self.o, mm, &roots.per_cpu_offsets));
                match u {
                    Some(u) => MemUsage {
                        total_vm: u.total_vm,
                        rss: u.rss + group_rss.get(&t.tgid).copied().unwrap_or(0),
                    },
                    None => MemUsage::default(),
                }
            };
            let t = &mut self.tasks[i];
            t.ppid = ppid.unwrap_or(-1);
            t.usage = usage;
        }
        let panic_task = roots
            .panic_cpu
            .and_then(|c| active.get(c).copied().flatten());
        TaskList::new(
            self.tasks,
            active,
            panic_task,
            roots.states.clone(),
            roots.total_pages,
            self.notices,
        )
    }
}

/// The first few of a list of things, for a notice.
fn few(items: &[String]) -> String {
    const SHOWN: usize = 6;
    let mut s = items[..items.len().min(SHOWN)].join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}
