//! What a backtrace's header shows of a task: PID, command, CPU.

use crate::Kernel;

/// A task's PID, command and CPU, read with the kernel's BTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskBrief {
    pub addr: u64,
    pub pid: i32,
    pub comm: String,
    pub cpu: u32,
}

impl Kernel {
    /// The PID, command and CPU of the task at `task`.
    pub fn task_brief(&self, task: u64) -> Result<TaskBrief, String> {
        let btf = self.btf().ok_or("no BTF: cannot read a task")?;
        let off = |m: &str| btf.member_offset("task_struct", m).map(|m| m.offset());
        let err = |e: crate::MemError| format!("task {task:x}: {e}");
        let pid = self
            .read_u32(task.wrapping_add(off("pid").ok_or("no task_struct.pid")?))
            .map_err(err)? as i32;
        let comm = self
            .read_cstr(task.wrapping_add(off("comm").ok_or("no task_struct.comm")?), 16)
            .map_err(err)?;
        let cpu = match off("cpu").or_else(|| off("thread_info.cpu")) {
            Some(o) => self.read_u32(task.wrapping_add(o)).map_err(err)?,
            None => 0,
        };
        Ok(TaskBrief {
            addr: task,
            pid,
            comm,
            cpu,
        })
    }
}
