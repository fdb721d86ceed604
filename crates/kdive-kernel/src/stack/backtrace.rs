//! A task's backtrace: where the unwind starts (a CPU's saved registers, or
//! a sleeping task's switch frame) and the ORC unwind from there, across
//! exception frames and stack switches.
//!
//! For a task that was running on a CPU, the dump's `NT_PRSTATUS` note for
//! that CPU holds the registers the kernel saved at the crash: the
//! interrupted context for an oops or for a CPU stopped by NMI, or
//! `__crash_kexec`'s own for a `panic()`. crash starts its backtrace further
//! up, at the code that was really running when the CPU stopped
//! (`machine_kexec` on the panicking CPU, `crash_nmi_callback` on the
//! others), which shows how the CPU got from the saved context to there.
//! [`Kernel::backtrace_cpu`] does the same, safely: it finds a return
//! address into one of those functions on the CPU's stacks and keeps that
//! start only when unwinding from it reaches the saved registers, and
//! [`Backtrace::start`] says which frame that was.

use kdive_arch::x86_64::unwind::{self, PtRegs, RegsOrigin, UnwindState};

use super::orc::OrcTables;
use super::stacks::{Stack, StackKind};
use super::walk::Walker;
use crate::{CpuState, Error, Kernel, LayoutError};

/// Frames one backtrace shows at most.
pub const MAX_FRAMES: usize = 256;

/// Registers saved in an exception frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionRegs {
    pub regs: PtRegs,
    /// Where the `struct pt_regs` is on the stack.
    pub addr: u64,
    /// Only the hardware's iret frame is real; the other registers are not
    /// saved there.
    pub partial: bool,
}

/// One frame of a backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The code address: a return address, or where the code was
    /// interrupted when `interrupted`.
    pub pc: u64,
    /// The stack address `pc` was found at (for an interrupted frame, its
    /// stack pointer): crash's `[SP]`.
    pub slot: u64,
    /// The stack pointer of the frame.
    pub sp: u64,
    /// `pc` is exact (saved registers, or a new task's first instruction),
    /// not a return address.
    pub interrupted: bool,
    /// The exception frame unwinding from this frame found: the registers
    /// of the code it interrupted (the next frame, unless it was user mode).
    pub regs: Option<ExceptionRegs>,
    /// The stack `slot` is on.
    pub stack: StackKind,
    /// Found by following the frame pointer, no ORC entry covering the
    /// code of the frame below.
    pub guessed: bool,
}

impl Frame {
    /// The address whose function the frame is in (`pc - 1` for a return
    /// address: a call can be the last instruction of a function).
    pub fn lookup_pc(&self) -> u64 {
        if self.interrupted {
            self.pc
        } else {
            self.pc.wrapping_sub(1)
        }
    }
}

/// A task's backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backtrace {
    pub task: u64,
    /// The CPU whose saved registers it started from.
    pub cpu: Option<usize>,
    pub frames: Vec<Frame>,
    /// The first frame unwound from the saved registers (a CPU's note, or
    /// a sleeping task's switch frame); frames before it show the code the
    /// CPU ran after saving them (see the module documentation).
    pub start: usize,
    /// The registers the dump saved for the task's CPU, when it was running.
    pub saved: Option<PtRegs>,
    /// The registers the task was interrupted in user mode with, when its
    /// saved context is user mode itself (no kernel frame).
    pub user_regs: Option<PtRegs>,
    /// Why the unwind stopped early.
    pub error: Option<String>,
    /// The task exited and the kernel freed its stack at its last switch
    /// (`task_struct.stack` is NULL): no frames, and no error.
    pub no_stack: bool,
    /// The stacks the task could use: its own, and its CPU's.
    pub stacks: Vec<Stack>,
}

impl Kernel {
    /// The backtrace of the task running on `cpu`, from the dump's saved
    /// registers for that CPU.
    pub fn backtrace_cpu(&self, cpu: usize, orc: &OrcTables) -> Result<Backtrace, Error> {
        let lacks = |what| Error::NoCpuState { cpu, what };
        let task = self
            .cpu_current_task(cpu)
            .ok_or_else(|| lacks(CpuState::CurrentTask))?;
        let note = self
            .dump()
            .cpus()
            .iter()
            .find(|c| c.cpu == cpu)
            .ok_or_else(|| lacks(CpuState::Registers))?;
        let mut r = [0u64; unwind::PT_REGS_WORDS];
        r.copy_from_slice(
            note.regs
                .get(..unwind::PT_REGS_WORDS)
                .ok_or_else(|| lacks(CpuState::ShortRegisters))?,
        );
        let regs = PtRegs(r);
        if regs.ip() == 0 && regs.sp() == 0 {
            return Err(lacks(CpuState::EmptyRegisters));
        }
        let mut stacks = self.cpu_stacks(cpu);
        stacks.extend(self.task_stack(task));
        let wk = Walker {
            k: self,
            orc,
            stacks,
        };
        let saved = UnwindState::from_regs(regs);
        let mut best = None;
        for (ip, slot) in wk.candidates() {
            let w = wk.walk(
                UnwindState::from_return_address(ip, slot, None),
                Some(&saved),
                MAX_FRAMES,
            );
            if let Some(m) = w.matched {
                best = Some((w, m));
                break;
            }
        }
        let (w, start) = match best {
            Some(b) => b,
            None => (wk.walk(saved, None, MAX_FRAMES), 0),
        };
        let user_regs = (w.frames.is_empty() && regs.user_mode()).then_some(regs);
        Ok(Backtrace {
            task,
            cpu: Some(cpu),
            frames: w.frames,
            start,
            saved: Some(regs),
            user_regs,
            error: w.error,
            no_stack: false,
            stacks: wk.stacks,
        })
    }

    /// The CPU whose current task is `task`, among those the dump has
    /// registers for.
    pub fn task_active_cpu(&self, task: u64) -> Option<usize> {
        self.dump()
            .cpus()
            .iter()
            .map(|c| c.cpu)
            .find(|&c| self.cpu_current_task(c) == Some(task))
    }

    /// The backtrace of the task at `task`: from its CPU's saved registers
    /// if it was running, else from the frame it switched out with
    /// (`thread.sp` pointing at a `struct inactive_task_frame`).
    pub fn backtrace_task(&self, task: u64, orc: &OrcTables) -> Result<Backtrace, Error> {
        if let Some(cpu) = self.task_active_cpu(task) {
            return self.backtrace_cpu(cpu, orc);
        }
        let layouts = self.layouts_or_err()?;
        let off = |s: &str, m: &str| {
            layouts
                .member_offset(s, m)
                .map(|m| m.offset())
                .ok_or_else(|| LayoutError::member(s, m))
        };
        let read = |addr: u64| {
            self.read_u64(addr)
                .map_err(|e| Error::read(format!("task {task:x}"), e))
        };
        let sp = read(task.wrapping_add(off("task_struct", "thread.sp")?))?;
        let Some(stack) = self.task_stack(task) else {
            let field = task.wrapping_add(off("task_struct", "stack")?);
            if self.read_u64(field).ok() != Some(0) {
                return Err(Error::corrupt(
                    format!("task {task:x}: cannot find its stack (not a task?)"),
                    task,
                ));
            }
            return Ok(Backtrace {
                task,
                cpu: None,
                frames: Vec::new(),
                start: 0,
                saved: None,
                user_regs: None,
                error: None,
                no_stack: true,
                stacks: Vec::new(),
            });
        };
        if !stack.contains(sp) {
            return Err(Error::corrupt(
                format!(
                    "task {task:x}: saved stack pointer {sp:x} is not on its stack {:x}-{:x} (not a task?)",
                    stack.base, stack.top
                ),
                sp,
            ));
        }
        let ret_off = off("inactive_task_frame", "ret_addr")?;
        let bp = read(sp.wrapping_add(off("inactive_task_frame", "bp")?))?;
        let ip = read(sp.wrapping_add(ret_off))?;
        let size = layouts
            .find_aggregate("inactive_task_frame")
            .and_then(|id| layouts.size_of(id))
            .unwrap_or(ret_off + 8);
        let new_task = ["ret_from_fork_asm", "ret_from_fork"]
            .iter()
            .any(|n| self.symbol(n) == Some(ip));
        let first = UnwindState {
            ip,
            sp: sp.wrapping_add(size),
            bp: Some(bp),
            regs: None,
            origin: RegsOrigin::None,
            signal: new_task,
            slot: sp.wrapping_add(ret_off),
        };
        let wk = Walker {
            k: self,
            orc,
            stacks: vec![stack],
        };
        let w = wk.walk(first, None, MAX_FRAMES);
        Ok(Backtrace {
            task,
            cpu: None,
            frames: w.frames,
            start: 0,
            saved: None,
            user_regs: None,
            error: w.error,
            no_stack: false,
            stacks: wk.stacks,
        })
    }
}
