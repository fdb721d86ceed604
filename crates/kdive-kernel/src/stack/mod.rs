//! Stacks and backtraces: the ORC tables ([`OrcTables`]), the kernel's
//! stacks ([`Stack`]), and a task's frames
//! ([`Kernel::backtrace_task`](crate::Kernel::backtrace_task),
//! [`Kernel::backtrace_cpu`](crate::Kernel::backtrace_cpu)).

mod backtrace;
mod orc;
mod slab_word;
mod stacks;
mod task;
mod walk;

pub use backtrace::{Backtrace, ExceptionRegs, Frame, MAX_FRAMES};
pub use orc::OrcTables;
pub use stacks::{Stack, StackKind};
pub use task::TaskBrief;
