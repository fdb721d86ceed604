//! One step of the kernel's ORC unwind: from the registers of a frame to
//! those of its caller, as `arch/x86/kernel/unwind_orc.c` does it.
//!
//! Knows the x86-64 `struct pt_regs` and the ORC rules, nothing of the
//! kernel's stacks or tasks: the caller gives the table lookup and the
//! memory, and decides when to stop (see `kdive_kernel`'s backtrace).

use kdive_dump::Memory;

use super::orc::{OrcEntry, OrcReg, OrcType};

/// Words in x86-64's `struct pt_regs`.
pub const PT_REGS_WORDS: usize = 21;
/// Bytes in `struct pt_regs`.
pub const PT_REGS_SIZE: u64 = 8 * PT_REGS_WORDS as u64;
/// Offset of `ip` in `struct pt_regs`: the hardware's iret frame starts here.
pub const IRET_FRAME_OFFSET: u64 = 16 * 8;

/// `struct pt_regs` names, in order (the order of `elf_gregset_t`'s first
/// 21 registers too).
pub const PT_REGS_NAMES: [&str; PT_REGS_WORDS] = [
    "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di",
    "orig_ax", "ip", "cs", "flags", "sp", "ss",
];

/// A full register set in `struct pt_regs` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PtRegs(pub [u64; PT_REGS_WORDS]);

impl PtRegs {
    /// From the 168 bytes of a `struct pt_regs`.
    pub fn from_bytes(b: &[u8]) -> Option<PtRegs> {
        let mut r = [0u64; PT_REGS_WORDS];
        for (i, w) in r.iter_mut().enumerate() {
            *w = u64::from_le_bytes(b.get(8 * i..8 * i + 8)?.try_into().ok()?);
        }
        Some(PtRegs(r))
    }

    /// From the words of a `struct pt_regs`, in order.
    pub fn from_words(w: &[u64]) -> Option<PtRegs> {
        Some(PtRegs(w.get(..PT_REGS_WORDS)?.try_into().ok()?))
    }

    /// A register by its `pt_regs` name (`"ip"`, `"r8"`...).
    pub fn get(&self, name: &str) -> Option<u64> {
        PT_REGS_NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| self.0[i])
    }

    /// The instruction pointer.
    pub fn ip(&self) -> u64 {
        self.0[16]
    }
    /// The stack pointer.
    pub fn sp(&self) -> u64 {
        self.0[19]
    }
    /// The frame pointer.
    pub fn bp(&self) -> u64 {
        self.0[4]
    }
    /// The code segment selector.
    pub fn cs(&self) -> u64 {
        self.0[17]
    }

    /// Saved from user mode (the CPL bits of CS).
    pub fn user_mode(&self) -> bool {
        self.cs() & 3 != 0
    }
}

/// Where a frame's registers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegsOrigin {
    /// Only ip, sp and maybe bp are known (an ordinary call frame).
    None,
    /// All registers are known but were not on the stack (a CPU note).
    Note,
    /// A full `pt_regs` at this stack address.
    Stack(u64),
    /// Only the iret frame (ip, cs, flags, sp, ss) at this address is real;
    /// the `pt_regs` it would belong to starts [`IRET_FRAME_OFFSET`] below.
    Partial(u64),
}

/// The registers of one frame, as far as they are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnwindState {
    /// The instruction pointer: a return address, or where the code was
    /// interrupted when `signal`.
    pub ip: u64,
    /// The stack pointer.
    pub sp: u64,
    /// The frame pointer, when known.
    pub bp: Option<u64>,
    /// The full register set, when the frame was interrupted (or is the
    /// starting frame of a CPU note).
    pub regs: Option<PtRegs>,
    /// Where `regs` came from.
    pub origin: RegsOrigin,
    /// `ip` is where the code was interrupted (or stopped), not a return
    /// address: the ORC entry is that of `ip` itself, not of `ip - 1`.
    pub signal: bool,
    /// The stack address `ip` was read from (the return address's slot);
    /// for a frame from registers, `sp`.
    pub slot: u64,
}

impl UnwindState {
    /// A starting frame from a full register set (a CPU's note).
    pub fn from_regs(regs: PtRegs) -> UnwindState {
        UnwindState {
            ip: regs.ip(),
            sp: regs.sp(),
            bp: Some(regs.bp()),
            regs: Some(regs),
            origin: RegsOrigin::Note,
            signal: true,
            slot: regs.sp(),
        }
    }

    /// A starting frame from a return address found at `slot` on a stack:
    /// the frame of the function that address returns into.
    pub fn from_return_address(ip: u64, slot: u64, bp: Option<u64>) -> UnwindState {
        UnwindState {
            ip,
            sp: slot.wrapping_add(8),
            bp,
            regs: None,
            origin: RegsOrigin::None,
            signal: false,
            slot,
        }
    }

    /// The address whose ORC entry describes this frame.
    pub fn lookup_ip(&self) -> u64 {
        if self.signal {
            self.ip
        } else {
            self.ip.wrapping_sub(1)
        }
    }

    fn reg(&self, r: OrcReg) -> Option<u64> {
        let regs = self.regs?;
        Some(match r {
            OrcReg::Ax => regs.0[10],
            OrcReg::Dx => regs.0[12],
            OrcReg::Di => regs.0[14],
            OrcReg::R10 => regs.0[7],
            OrcReg::R13 => regs.0[2],
            _ => return None,
        })
    }
}

/// Why a step could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// ORC says the code at this address has no unwind information.
    NoInfo(u64),
    /// The rule needs a register this frame does not have.
    NoRegister(u64, OrcReg),
    /// A stack word could not be read.
    Unreadable(u64),
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StepError::NoInfo(ip) => write!(f, "no unwind information at {ip:x}"),
            StepError::NoRegister(ip, r) => {
                write!(f, "unwind at {ip:x} needs register {r:?}, unknown")
            }
            StepError::Unreadable(a) => write!(f, "cannot read the stack at {a:x}"),
        }
    }
}

/// What one step found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // one short-lived value a step
pub enum Step {
    /// The caller's frame; `guessed` when no ORC entry covered the code
    /// and the frame pointer was followed instead.
    Caller {
        /// The caller's registers.
        state: UnwindState,
        /// No ORC entry covered the code: the frame pointer was followed.
        guessed: bool,
    },
    /// ORC marks this frame the outermost one.
    End,
}

/// Unwind one frame: `orc` is the entry for `state.lookup_ip()` (`None`
/// when no table covers it: the frame-pointer rule is used).
pub fn step(
    state: &UnwindState,
    orc: Option<OrcEntry>,
    mem: &dyn Memory,
) -> Result<Step, StepError> {
    let guessed = orc.is_none();
    let orc = orc.unwrap_or(OrcEntry::FRAME_POINTER);
    let ip = state.ip;
    match orc.kind {
        OrcType::Undefined => return Err(StepError::NoInfo(ip)),
        OrcType::EndOfStack => return Ok(Step::End),
        _ => {}
    }
    let read = |a: u64| mem.read_u64(a).map_err(|_| StepError::Unreadable(a));
    let off = orc.sp_offset as i64 as u64;
    let bp = || state.bp.ok_or(StepError::NoRegister(ip, OrcReg::Bp));
    let mut sp = match orc.sp_reg {
        OrcReg::Sp => state.sp.wrapping_add(off),
        OrcReg::Bp => bp()?.wrapping_add(off),
        OrcReg::SpIndirect => read(state.sp)?.wrapping_add(off),
        OrcReg::BpIndirect => bp()?.wrapping_add(off),
        r @ (OrcReg::Ax | OrcReg::Dx | OrcReg::Di | OrcReg::R10 | OrcReg::R13) => {
            state.reg(r).ok_or(StepError::NoRegister(ip, r))?
        }
        r => return Err(StepError::NoRegister(ip, r)),
    };
    if orc.sp_reg == OrcReg::BpIndirect {
        sp = read(sp)?;
    }
    let mut next = match orc.kind {
        OrcType::Call => {
            let slot = sp.wrapping_sub(8);
            UnwindState {
                ip: read(slot)?,
                sp,
                bp: state.bp,
                regs: None,
                origin: RegsOrigin::None,
                signal: orc.signal,
                slot,
            }
        }
        OrcType::Regs => {
            let mut b = [0u8; PT_REGS_SIZE as usize];
            if mem.read(sp, &mut b).is_err() {
                return Err(StepError::Unreadable(sp));
            }
            let regs = PtRegs::from_bytes(&b).ok_or(StepError::Unreadable(sp))?;
            UnwindState {
                ip: regs.ip(),
                sp: regs.sp(),
                bp: Some(regs.bp()),
                regs: Some(regs),
                origin: RegsOrigin::Stack(sp),
                signal: true,
                slot: regs.sp(),
            }
        }
        _ => {
            // The iret frame: ip, cs, flags, sp, ss.
            let ip = read(sp)?;
            let new_sp = read(sp.wrapping_add(24))?;
            let mut regs = state.regs.unwrap_or_default();
            for (i, w) in (16..21).enumerate() {
                regs.0[w] = read(sp.wrapping_add(8 * i as u64))?;
            }
            UnwindState {
                ip,
                sp: new_sp,
                bp: state.bp,
                regs: Some(regs),
                origin: RegsOrigin::Partial(sp),
                signal: true,
                slot: new_sp,
            }
        }
    };
    match orc.bp_reg {
        OrcReg::PrevSp => next.bp = Some(read(sp.wrapping_add(orc.bp_offset as i64 as u64))?),
        OrcReg::Bp => {
            next.bp = Some(read(bp()?.wrapping_add(orc.bp_offset as i64 as u64))?);
        }
        _ => {}
    }
    Ok(Step::Caller {
        state: next,
        guessed,
    })
}
