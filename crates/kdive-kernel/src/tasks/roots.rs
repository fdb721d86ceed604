//! Where the walks start: the kernel's symbols (`init_task`, each CPU's
//! `runqueues`, `init_pid_ns`), its table of state names, and the pages
//! %MEM is a share of.

use super::offsets::Offsets;
use super::walk::walk;
use super::{TaskList, TaskStates};
use crate::Kernel;

/// Where the walks start, read from the kernel's symbols.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roots {
    pub init_task: u64,
    /// Each CPU's `struct rq`, by CPU.
    pub rqs: Vec<Option<u64>>,
    pub init_pid_ns: Option<u64>,
    /// `__per_cpu_offset[]`, for per-CPU counters.
    pub per_cpu_offsets: Vec<u64>,
    pub panic_cpu: Option<usize>,
    pub states: TaskStates,
    pub total_pages: u64,
    /// Each CPU's `current_task` pointer (the per-CPU `current_task`, or
    /// `pcpu_hot.current_task` from 6.2): what runs there when the
    /// runqueue does not say.
    pub currents: Vec<Option<u64>>,
}

/// Walk the tasks of `kernel`.
pub(crate) fn load(kernel: &Kernel) -> TaskList {
    let layouts = match kernel.layouts_or_err() {
        Ok(l) => l,
        Err(why) => return failed(format!("tasks: {why}")),
    };
    let offsets = match Offsets::from_layouts(layouts) {
        Ok(o) => o,
        Err(why) => return failed(format!("tasks: {why}")),
    };
    let Some(init_task) = kernel.symbol("init_task") else {
        return failed("tasks: no symbol init_task".into());
    };
    let nr = kernel.nr_cpus().clamp(1, 8192);
    let per_cpu_offsets: Vec<u64> = (0..nr)
        .map(|c| kernel.per_cpu_offset(c).unwrap_or(0))
        .collect();
    let rqs = match kernel.symbol("runqueues") {
        Some(rq) => (0..nr)
            .map(|c| kernel.per_cpu_offset(c).map(|off| rq.wrapping_add(off)))
            .collect(),
        None => Vec::new(),
    };
    let current = kernel.symbol("current_task").or_else(|| {
        let hot = kernel.symbol("pcpu_hot")?;
        Some(hot + layouts.member_offset("pcpu_hot", "current_task")?.offset())
    });
    let currents = match current {
        Some(cur) => (0..nr)
            .map(|c| kernel.per_cpu_offset(c).map(|off| cur.wrapping_add(off)))
            .collect(),
        None => Vec::new(),
    };
    let roots = Roots {
        init_task,
        rqs,
        currents,
        init_pid_ns: kernel.symbol("init_pid_ns"),
        per_cpu_offsets,
        panic_cpu: kernel.panic_cpu(),
        states: state_table(kernel).unwrap_or_default(),
        total_pages: total_pages(kernel),
    };
    walk(kernel, &offsets, &roots)
}

fn failed(why: String) -> TaskList {
    TaskList::new(
        Vec::new(),
        Vec::new(),
        None,
        TaskStates::default(),
        0,
        vec![crate::Finding::truncated(why)],
    )
}

/// The strings of `task_state_array` (at most 32; they end at the first
/// that does not read as `X (name)`).
fn state_table(kernel: &Kernel) -> Option<TaskStates> {
    let base = kernel.symbol("task_state_array")?;
    let mut names = Vec::new();
    for i in 0..32u64 {
        let Ok(p) = kernel.read_u64(base + 8 * i) else {
            break;
        };
        let Ok(s) = kernel.read_cstr(p, 64) else {
            break;
        };
        let b = s.as_bytes();
        if b.len() < 4 || b[1] != b' ' || b[2] != b'(' || !s.ends_with(')') {
            break;
        }
        names.push(s);
    }
    TaskStates::from_names(&names)
}

/// The pages crash divides RSS by for %MEM: up to `high_memory`, else
/// `totalram_pages`.
fn total_pages(kernel: &Kernel) -> u64 {
    if let Some(hm) = kernel.symbol("high_memory") {
        if let Ok(v) = kernel.read_u64(hm) {
            if let Ok(p) = kernel.vtop(v) {
                return p >> 12;
            }
            // The address just past the direct map may not translate.
            if let Ok(p) = kernel.vtop(v.wrapping_sub(1)) {
                return (p + 1) >> 12;
            }
        }
    }
    ["_totalram_pages", "totalram_pages"]
        .iter()
        .find_map(|n| kernel.read_u64(kernel.symbol(n)?).ok())
        .unwrap_or(0)
}
