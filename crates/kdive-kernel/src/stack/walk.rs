//! The unwind itself: from a first frame up, one ORC step at a time,
//! noting exception frames, the stack each frame is on, and where the
//! unwind meets the registers the dump saved; and the search for where
//! crash would start (a return address into a stop function).

use kdive_arch::x86_64::orc::{OrcEntry, OrcType};
use kdive_arch::x86_64::prologue;
use kdive_arch::x86_64::unwind::{self, RegsOrigin, Step, UnwindState};

use super::backtrace::{ExceptionRegs, Frame};
use super::orc::OrcTables;
use super::stacks::{Stack, StackKind};
use crate::Kernel;

/// Return addresses into the stop functions tried as starts.
const MAX_CANDIDATES: usize = 16;
/// The functions a CPU was running when the dump was taken.
const STOP_FUNCTIONS: [&str; 2] = ["machine_kexec", "crash_nmi_callback"];

/// One unwind, and where it met the registers it was looking for.
pub(super) struct Walk {
    pub frames: Vec<Frame>,
    pub matched: Option<usize>,
    pub error: Option<String>,
}

pub(super) struct Walker<'a> {
    pub k: &'a Kernel,
    pub orc: &'a OrcTables,
    pub stacks: Vec<Stack>,
}

impl Walker<'_> {
    fn stack_of(&self, addr: u64) -> StackKind {
        self.stacks
            .iter()
            .find(|s| s.contains(addr))
            .map_or(StackKind::Unknown, |s| s.kind)
    }

    fn stack_range(&self, addr: u64) -> Option<&Stack> {
        self.stacks.iter().find(|s| s.contains(addr))
    }

    /// Kernel or module text.
    fn is_text(&self, ip: u64) -> bool {
        match self.k.symbols().lookup(ip) {
            Some((s, _)) => self.k.is_code(s),
            None => false,
        }
    }

    fn same_function(&self, a: u64, b: u64) -> bool {
        let f = |x| self.k.symbols().lookup(x).map(|(s, _)| s.addr);
        matches!((f(a), f(b)), (Some(x), Some(y)) if x == y)
    }

    /// `s` is the context `t` saved: same stack pointer, same code (or the
    /// same function, for a context saved in the function's body and `s`
    /// a return address into it).
    fn is_context(&self, s: &UnwindState, t: &UnwindState) -> bool {
        s.sp == t.sp && (s.ip == t.ip || self.same_function(s.lookup_ip(), t.ip))
    }

    fn frame(&self, s: &UnwindState, guessed: bool) -> Frame {
        Frame {
            pc: s.ip,
            slot: s.slot,
            sp: s.sp,
            interrupted: s.signal,
            regs: None,
            stack: self.stack_of(s.slot),
            guessed,
        }
    }

    /// Unwind from `first`. With `target`, note where the unwind reaches
    /// that context, and go on with its full registers from there.
    pub fn walk(&self, first: UnwindState, target: Option<&UnwindState>, max: usize) -> Walk {
        let mut w = Walk {
            frames: Vec::new(),
            matched: None,
            error: None,
        };
        let mut state = first;
        if let Some(t) = target.filter(|t| self.is_context(&state, t)) {
            w.matched = Some(0);
            state = merge(state, t);
        }
        if state.regs.is_some_and(|r| r.user_mode()) && state.origin != RegsOrigin::None {
            return w;
        }
        w.frames.push(self.frame(&state, false));
        while w.frames.len() < max {
            if !self.is_text(state.ip) {
                w.error = Some(format!("{:x} is not kernel text: unwind stopped", state.ip));
                break;
            }
            let mut orc = self.orc.lookup(self.k, state.lookup_ip());
            let mut from_prologue = false;
            if orc.is_some_and(|o| o.kind == OrcType::Undefined) {
                if let Some(p) = self.prologue_frame(state.lookup_ip()) {
                    orc = Some(p);
                    from_prologue = true;
                }
            }
            let (mut next, guessed) = match unwind::step(&state, orc, self.k) {
                Err(e) => {
                    w.error = Some(e.to_string());
                    break;
                }
                Ok(Step::End) => break,
                Ok(Step::Caller { state, guessed }) => (state, guessed || from_prologue),
            };
            if let Some(st) = self.stack_range(state.sp) {
                if st.contains(next.sp) && next.sp <= state.sp {
                    w.error = Some(format!(
                        "stack going in the wrong direction at {:x}",
                        state.ip
                    ));
                    break;
                }
            }
            if let RegsOrigin::Stack(addr) | RegsOrigin::Partial(addr) = next.origin {
                let partial = matches!(next.origin, RegsOrigin::Partial(_));
                let addr = if partial {
                    addr.wrapping_sub(unwind::IRET_FRAME_OFFSET)
                } else {
                    addr
                };
                if let (Some(f), Some(regs)) = (w.frames.last_mut(), next.regs) {
                    f.regs = Some(ExceptionRegs {
                        regs,
                        addr,
                        partial,
                    });
                }
            }
            if let Some(t) = target.filter(|t| w.matched.is_none() && self.is_context(&next, t)) {
                w.matched = Some(w.frames.len());
                next = merge(next, t);
            }
            if next.origin != RegsOrigin::None && next.regs.is_some_and(|r| r.user_mode()) {
                break;
            }
            w.frames.push(self.frame(&next, guessed));
            state = next;
        }
        w
    }

    /// The frame of the function at `pc` from its prologue, for code ORC
    /// marks as having no information.
    fn prologue_frame(&self, pc: u64) -> Option<OrcEntry> {
        let (sym, off) = self.k.symbols().lookup(pc)?;
        let n = (off as usize + 1).min(prologue::MAX_PROLOGUE);
        let mut code = vec![0u8; n];
        self.k.read(sym.addr, &mut code).ok()?;
        prologue::frame_from_prologue(&code, off as usize)
    }

    /// Return addresses into the stop functions on the stacks, the most
    /// recent (lowest) of each stack first.
    pub fn candidates(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let ranges: Vec<(u64, u64)> = STOP_FUNCTIONS
            .iter()
            .filter_map(|n| self.k.symbols().by_name(n))
            .map(|s| (s.addr, s.addr + s.size.max(1)))
            .collect();
        for st in &self.stacks {
            // Page by page: a dump leaves out pages of zeros, often the
            // unused bottom of a stack.
            let mut page = st.base & !0xfff;
            let mut buf = [0u8; 4096];
            while page < st.top && page >= st.base & !0xfff {
                if self.k.read(page, &mut buf).is_ok() {
                    for (i, w) in buf.chunks_exact(8).enumerate() {
                        let v = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
                        let slot = page + 8 * i as u64;
                        if st.contains(slot) && ranges.iter().any(|&(a, e)| v > a && v < e) {
                            out.push((v, slot));
                            if out.len() >= MAX_CANDIDATES {
                                return out;
                            }
                        }
                    }
                }
                page = page.wrapping_add(4096);
            }
        }
        out
    }
}

/// `s` with the registers of `t`, the context it was found to be.
fn merge(mut s: UnwindState, t: &UnwindState) -> UnwindState {
    if s.regs.is_none() {
        s.regs = t.regs;
        s.bp = t.bp.or(s.bp);
    }
    s
}
