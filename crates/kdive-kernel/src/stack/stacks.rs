//! The kernel's stacks: each task's, and each CPU's IRQ stack and exception
//! stacks (NMI, double fault, debug, machine check, VC), so that a
//! backtrace knows which stack each frame is on and where it ends.

use crate::Kernel;

/// Which stack an address is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackKind {
    /// A task's kernel stack.
    Task,
    /// A CPU's hard IRQ stack.
    Irq,
    /// A CPU's exception stack, by crash's name for it (`NMI`,
    /// `DOUBLEFAULT`, `DEBUG`, `MCE`, `VC`).
    Exception(&'static str),
    /// None the kernel layer knows of.
    Unknown,
}

/// One stack: `base..top`, growing down from `top`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    pub kind: StackKind,
    pub base: u64,
    pub top: u64,
}

impl Stack {
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base && addr < self.top
    }
}

/// The largest stack believed (against damaged type information).
const MAX_STACK: u64 = 1 << 20;

/// THREAD_SIZE when the kernel does not show it.
const DEFAULT_THREAD_SIZE: u64 = 16 << 10;

/// `cea_exception_stacks` members, with crash's names.
const EXCEPTION_STACKS: [(&str, &str); 6] = [
    ("NMI_stack", "NMI"),
    ("DF_stack", "DOUBLEFAULT"),
    ("DB_stack", "DEBUG"),
    ("MCE_stack", "MCE"),
    ("VC_stack", "VC"),
    ("VC2_stack", "VC"),
];

impl Kernel {
    /// The size of a task's kernel stack (`THREAD_SIZE`): the size of the
    /// boot task's, `__end_init_task - __start_init_task`.
    pub fn thread_size(&self) -> u64 {
        let start = self
            .symbol("__start_init_task")
            .or_else(|| self.symbol("init_stack"));
        match (start, self.symbol("__end_init_task")) {
            (Some(s), Some(e)) if e > s && (e - s).is_power_of_two() && e - s <= 1 << 20 => e - s,
            _ => DEFAULT_THREAD_SIZE,
        }
    }

    /// The address of per-CPU variable `name` (or `pcpu_hot.NAME`, where
    /// Linux 6.2 on keeps the hot ones) for `cpu`.
    pub fn per_cpu_var(&self, name: &str, cpu: usize) -> Option<u64> {
        let base = self.per_cpu_offset(cpu)?;
        if let Some(off) = self.symbol(name) {
            return Some(base.wrapping_add(off));
        }
        let hot = self.symbol("pcpu_hot")?;
        let m = self.layouts()?.member_offset("pcpu_hot", name)?;
        Some(base.wrapping_add(hot).wrapping_add(m.offset()))
    }

    /// The task running on `cpu` at the crash: its `current_task`.
    pub fn cpu_current_task(&self, cpu: usize) -> Option<u64> {
        let addr = self.per_cpu_var("current_task", cpu)?;
        self.read_u64(addr).ok().filter(|&t| t != 0)
    }

    /// The kernel stack of the task at `task` (`task->stack`).
    pub fn task_stack(&self, task: u64) -> Option<Stack> {
        let off = self
            .layouts()?
            .member_offset("task_struct", "stack")?
            .offset();
        let base = self
            .read_u64(task.wrapping_add(off))
            .ok()
            .filter(|&b| b != 0)?;
        Some(Stack {
            kind: StackKind::Task,
            base,
            top: base.checked_add(self.thread_size())?,
        })
    }

    /// `cpu`'s IRQ and exception stacks.
    pub fn cpu_stacks(&self, cpu: usize) -> Vec<Stack> {
        let mut out = Vec::new();
        // The exception stacks, in the CPU entry area.
        let layouts = self.layouts();
        let cea = self
            .per_cpu_var("cea_exception_stacks", cpu)
            .and_then(|a| self.read_u64(a).ok())
            .filter(|&a| a != 0);
        if let (Some(layouts), Some(cea)) = (layouts, cea) {
            for (member, name) in EXCEPTION_STACKS {
                let Some(m) = layouts.member_offset("cea_exception_stacks", member) else {
                    continue;
                };
                let Some(size) = layouts.size_of(m.type_id).filter(|&s| s > 0) else {
                    continue;
                };
                let base = cea.wrapping_add(m.offset());
                let Some(top) = base.checked_add(size.min(MAX_STACK)) else {
                    continue;
                };
                out.push(Stack {
                    kind: StackKind::Exception(name),
                    base,
                    top,
                });
            }
        }
        // The IRQ stack: `hardirq_stack_ptr` points at (or 8 bytes below)
        // its top; it is as large as a task's stack.
        let irq = self
            .per_cpu_var("hardirq_stack_ptr", cpu)
            .and_then(|a| self.read_u64(a).ok())
            .filter(|&a| a != 0);
        if let Some(top) = irq
            .and_then(|p| p.checked_add(8 + 0xfff))
            .map(|t| t & !0xfff)
        {
            out.push(Stack {
                kind: StackKind::Irq,
                base: top.saturating_sub(self.thread_size()),
                top,
            });
        }
        out
    }
}
