//! What a backtrace's header shows of a task: PID, command, CPU.

use crate::{Error, Kernel, LayoutError};

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
    pub fn task_brief(&self, task: u64) -> Result<TaskBrief, Error> {
        let layouts = self.layouts_or_err()?;
        let off = |m: &str| layouts.member_offset("task_struct", m).map(|m| m.offset());
        let need = |m: &str| off(m).ok_or_else(|| LayoutError::member("task_struct", m));
        let err = |e: crate::MemError| Error::read(format!("task {task:x}"), e);
        let pid = self
            .read_u32(task.wrapping_add(need("pid")?))
            .map_err(err)? as i32;
        let comm = self
            .read_cstr(task.wrapping_add(need("comm")?), 16)
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
