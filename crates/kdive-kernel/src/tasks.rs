//! Every task of the kernel, found so that none is missed.
//!
//! crash 8.0.2 finds 4 of the 61 tasks of our dumps (it walks the PID
//! hash it knows, and warns that the active tasks are not in it); one walk
//! over one structure is fragile. Here four walks are made, and their
//! union, by task address, is the task list:
//!
//! - `init_task.tasks`: every thread-group leader;
//! - each leader's threads: `signal->thread_head` through `thread_node`, or
//!   the `thread_group` ring on kernels without it (which exists, the BTF
//!   says);
//! - each CPU's runqueue: its idle task (`swapper/N`, PID 0: on no list but
//!   this one) and its current task;
//! - the PID namespace's IDR (`init_pid_ns.idr`: an xarray of `struct pid`),
//!   each `pid->tasks[PIDTYPE_PID]`, so that a task cut out of the lists is
//!   still found.
//!
//! A loop, a pointer that does not read, a tree node out of place: each is
//! reported ([`TaskList::notices`], naming the address) and the walk goes
//! on with what it can read. Every walk is bounded. Offsets come from the
//! kernel's BTF ([`offsets`]), read once.
//!
//! The list is in crash's order: by PID, the idle tasks (all PID 0) by CPU.

pub(crate) mod list;
mod offsets;
mod roots;
mod state;
mod usage;
mod user;
mod walk;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

pub use state::TaskStates;
pub use user::{TaskArgs, UserReadError};

use crate::Kernel;

/// `PF_KTHREAD`: the task is a kernel thread (a `#define`, the same since
/// Linux 2.6.27).
pub const PF_KTHREAD: u64 = 0x0020_0000;

/// The most tasks read: Linux's `PID_MAX_LIMIT` (4 Mi PIDs), plus the
/// idle tasks.
pub const MAX_TASKS: usize = 4 * 1024 * 1024 + 8192;

/// Which walks found a task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Found(u8);

impl Found {
    /// On `init_task.tasks`.
    pub const LIST: Found = Found(1);
    /// On a leader's thread list.
    pub const THREADS: Found = Found(2);
    /// A CPU's idle task.
    pub const IDLE: Found = Found(4);
    /// A CPU's current task.
    pub const CURRENT: Found = Found(8);
    /// In the PID namespace.
    pub const PID_NS: Found = Found(16);

    pub fn contains(self, other: Found) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: Found) {
        self.0 |= other.0;
    }
}

/// Memory use of a task, in pages, as crash counts it for `ps`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemUsage {
    /// `mm->total_vm`.
    pub total_vm: u64,
    /// Resident pages: file, anonymous and shared-memory pages of the mm,
    /// with the counts the threads have not yet folded into it.
    pub rss: u64,
}

/// One task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// The address of its `task_struct` (crash's TASK).
    pub addr: u64,
    pub pid: i64,
    pub tgid: i64,
    /// The PID of `parent` (crash's PPID): from the list, else read from the
    /// parent's `task_struct`; -1 when neither gives it.
    pub ppid: i64,
    /// `task_struct.parent` (the tracer when traced), as crash uses it.
    pub parent: u64,
    pub real_parent: u64,
    pub group_leader: u64,
    /// The CPU it last ran on (`task_struct.cpu`, or `thread_info.cpu`).
    pub cpu: u32,
    /// `__state` (or `state`) and `exit_state`.
    pub state: u64,
    pub exit_state: u64,
    pub flags: u64,
    pub comm: String,
    pub mm: u64,
    pub active_mm: u64,
    /// The kernel stack (`task_struct.stack`).
    pub stack: u64,
    /// Where its `thread_info` is (in the task on current kernels).
    pub thread_info: u64,
    /// The saved kernel stack pointer (`thread.sp`) of a task not running.
    pub ksp: Option<u64>,
    /// `sched_info.last_arrival`: when it last ran (rq clock, ns).
    pub last_arrival: Option<u64>,
    /// `start_time` (ns since boot), `utime`, `stime` (ns).
    pub start_time: Option<u64>,
    pub utime: Option<u64>,
    pub stime: Option<u64>,
    pub usage: MemUsage,
    /// Which walks found it.
    pub found: Found,
}

impl Task {
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }

    /// A CPU's idle task (PID 0).
    pub fn is_idle(&self) -> bool {
        self.pid == 0
    }

    /// The leader of its thread group.
    pub fn is_group_leader(&self) -> bool {
        self.pid == self.tgid
    }
}

/// Every task, with the CPUs' active tasks and the panic task.
#[derive(Debug, Clone, Default)]
pub struct TaskList {
    tasks: Vec<Task>,
    by_addr: HashMap<u64, usize>,
    /// Each CPU's current task (`rq->curr`).
    active: Vec<Option<u64>>,
    panic_task: Option<u64>,
    states: TaskStates,
    /// Pages of memory, for %MEM.
    total_pages: u64,
    notices: Vec<crate::Finding>,
    /// The offsets the walk used, for reading more of a task later.
    pub(crate) offsets: Option<offsets::Offsets>,
    /// Each CPU's runqueue clock (`rq->clock`, ns).
    pub(crate) rq_clock: Vec<Option<u64>>,
}

impl TaskList {
    pub(crate) fn new(
        mut tasks: Vec<Task>,
        active: Vec<Option<u64>>,
        panic_task: Option<u64>,
        states: TaskStates,
        total_pages: u64,
        notices: Vec<crate::Finding>,
    ) -> TaskList {
        // crash's order: by PID; PID 0 (the idle tasks) by CPU.
        tasks.sort_by_key(|t| (t.pid, if t.pid == 0 { t.cpu } else { 0 }, t.addr));
        let by_addr = tasks.iter().enumerate().map(|(i, t)| (t.addr, i)).collect();
        TaskList {
            tasks,
            by_addr,
            active,
            panic_task,
            states,
            total_pages,
            notices,
            offsets: None,
            rq_clock: Vec::new(),
        }
    }

    /// The tasks, in crash's order.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// What the walks could not read, each naming the address.
    pub fn notices(&self) -> &[crate::Finding] {
        &self.notices
    }

    pub fn find_by_addr(&self, addr: u64) -> Option<&Task> {
        self.by_addr.get(&addr).map(|&i| &self.tasks[i])
    }

    /// The first task with PID `pid` (for PID 0, CPU 0's idle task).
    pub fn find_by_pid(&self, pid: i64) -> Option<&Task> {
        let i = self.tasks.partition_point(|t| t.pid < pid);
        self.tasks.get(i).filter(|t| t.pid == pid)
    }

    /// Every task with PID `pid` (several only for PID 0).
    pub fn all_with_pid(&self, pid: i64) -> impl Iterator<Item = &Task> {
        let i = self.tasks.partition_point(|t| t.pid < pid);
        self.tasks[i..].iter().take_while(move |t| t.pid == pid)
    }

    /// The tasks whose `comm` is `comm`.
    pub fn find_by_comm<'a>(&'a self, comm: &'a str) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks.iter().filter(move |t| t.comm == comm)
    }

    /// The task running on `cpu` when the dump was taken.
    pub fn active(&self, cpu: usize) -> Option<&Task> {
        self.find_by_addr((*self.active.get(cpu)?)?)
    }

    /// The CPU `addr` was running on, when it was running.
    pub fn active_cpu(&self, addr: u64) -> Option<usize> {
        self.active.iter().position(|a| *a == Some(addr))
    }

    /// Whether the task was running on a CPU (or is the panic task).
    pub fn is_active(&self, addr: u64) -> bool {
        self.active_cpu(addr).is_some() || self.panic_task == Some(addr)
    }

    /// The CPUs' current tasks, by CPU.
    pub fn active_tasks(&self) -> &[Option<u64>] {
        &self.active
    }

    /// `cpu`'s runqueue clock (`rq->clock`, in ns) when the dump was
    /// taken: the time base of [`Task::last_arrival`].
    pub fn rq_clock(&self, cpu: usize) -> Option<u64> {
        self.rq_clock.get(cpu).copied().flatten()
    }

    /// The task that panicked (the active task of the CPU that panicked).
    pub fn panic_task(&self) -> Option<&Task> {
        self.find_by_addr(self.panic_task?)
    }

    /// The threads of the group of `tgid`, the leader first.
    pub fn threads(&self, tgid: i64) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(move |t| t.tgid == tgid)
    }

    /// The tasks whose `parent` is `addr`.
    pub fn children(&self, addr: u64) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(move |t| t.parent == addr)
    }

    /// The kernel's state bits.
    pub fn states(&self) -> &TaskStates {
        &self.states
    }

    /// crash's two-letter state (`RU`, `IN`, `UN`, `ID`, ...).
    pub fn state_code(&self, t: &Task) -> &'static str {
        self.states.code(t.state, t.exit_state)
    }

    /// The kernel's own state letter (`R`, `S`, `D`, `I`, ...), as
    /// `/proc/PID/stat` and drgn show it.
    pub fn state_letter(&self, t: &Task) -> char {
        self.states.letter(t.state, t.exit_state)
    }

    /// The state's names (`TASK_RUNNING`, `TASK_UNINTERRUPTIBLE|TASK_NOLOAD`).
    pub fn state_names(&self, t: &Task) -> String {
        self.states.names(t.state, t.exit_state)
    }

    /// The pages %MEM is a share of.
    pub fn total_pages(&self) -> u64 {
        self.total_pages
    }

    /// crash's %MEM of a task.
    pub fn pct_mem(&self, t: &Task) -> f64 {
        if self.total_pages == 0 {
            return 0.0;
        }
        t.usage.rss as f64 * 100.0 / self.total_pages as f64
    }
}

impl Kernel {
    /// Every task (walked on first use, then kept).
    pub fn tasks(&self) -> &TaskList {
        self.tasks.get_or_init(|| roots::load(self))
    }
}
