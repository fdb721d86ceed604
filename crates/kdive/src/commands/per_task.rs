//! What crash's per-task commands (`task`, `files`, `vm`, `foreach`) share:
//! the task header line, crash's column justification, and the tasks a
//! `PID | TASK` argument names.

use kdive_kernel::{Task, TaskList};

use super::set::{task_ref, TaskRef};

/// crash's `NR_CPUS` on x86-64 (Debian's `CONFIG_NR_CPUS`): a task's CPU
/// at or above it is printed as `?`.
const NR_CPUS: u32 = 8192;

/// crash's `print_task_header()`: `PID: 1        TASK: ff36587ec11f4180
/// CPU: 1    COMMAND: "init"`, with a newline before it when `newline`.
pub fn task_header(t: &Task, newline: bool) -> String {
    let cpu = if t.cpu < NR_CPUS {
        t.cpu.to_string()
    } else {
        "?".to_string()
    };
    format!(
        "{}PID: {:<7}  TASK: {:<16x}  CPU: {cpu:<3}  COMMAND: \"{}\"\n",
        if newline { "\n" } else { "" },
        t.pid,
        t.addr,
        t.comm
    )
}

/// How crash's `mkstring()` places text in a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Just {
    /// `CENTER|LJUST`: the odd space on the right.
    CenterL,
    /// `CENTER|RJUST`: the odd space on the left.
    CenterR,
    Right,
}

/// `s` in a column of `width` (wider text as it is).
pub fn mkstring(s: &str, width: usize, j: Just) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let extra = width - len;
    let (left, right) = match j {
        Just::CenterL => (extra / 2, extra - extra / 2),
        Just::CenterR => (extra - extra / 2, extra / 2),
        Just::Right => (extra, 0),
    };
    format!("{}{s}{}", " ".repeat(left), " ".repeat(right))
}

/// What one `PID | TASK` argument names, as crash's `str_to_context()`
/// and `pid_to_context()` read it: every task with the PID, or the task.
pub enum Picked<'a> {
    /// A PID: every task with it.
    Pid(Vec<&'a Task>),
    Task(&'a Task),
    Invalid,
}

impl<'a> Picked<'a> {
    pub fn tasks(self) -> Vec<&'a Task> {
        match self {
            Picked::Pid(v) => v,
            Picked::Task(t) => vec![t],
            Picked::Invalid => Vec::new(),
        }
    }
}

pub fn pick<'a>(list: &'a TaskList, arg: &str) -> Picked<'a> {
    match task_ref(list, arg) {
        Some(TaskRef::Pid(p)) => Picked::Pid(list.all_with_pid(p).collect()),
        Some(TaskRef::Task(a)) => list.find_by_addr(a).map_or(Picked::Invalid, Picked::Task),
        None => Picked::Invalid,
    }
}

/// crash's `IS_A_NUMBER()`: decimal or hexadecimal digits (with `0x`).
pub fn is_a_number(s: &str) -> bool {
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    !h.is_empty() && h.bytes().all(|c| c.is_ascii_hexdigit())
}
