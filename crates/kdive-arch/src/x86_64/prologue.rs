//! A function's frame from its prologue, for code ORC has no entry for
//! (functions objtool was told to skip, `STACK_FRAME_NON_STANDARD`, such as
//! `__crash_kexec`): decode the instructions from the function's start up
//! to the address, as long as they are ones that set up a frame (pushes,
//! `sub $N,%rsp`, `mov %rsp,%rbp`) or plainly do not touch the stack
//! pointer, and describe the frame as an ORC entry would.

use super::orc::{OrcEntry, OrcReg, OrcType};

/// Bytes of prologue decoded at most.
pub const MAX_PROLOGUE: usize = 64;

/// The frame at `pc` of the function whose code from its start is `code`
/// (`pc` is `code`'s start plus `at`). The prologue ends at the first
/// instruction this decoder does not know; the frame is what it set up.
/// `None` only when the frame would not fit an ORC entry.
pub fn frame_from_prologue(code: &[u8], at: usize) -> Option<OrcEntry> {
    let mut i = 0usize;
    // Bytes below the return address: pushes and subtractions so far.
    let mut depth: i64 = 0;
    let mut saved_bp: Option<i64> = None;
    let mut bp_frame = false;
    let end = at.min(code.len()).min(MAX_PROLOGUE);
    while i < end {
        let b = &code[i..];
        let byte = |n: usize| b.get(n).copied();
        let Some(first) = byte(0) else { break };
        let len = match (first, byte(1), byte(2), byte(3)) {
            // endbr64
            (0xf3, Some(0x0f), Some(0x1e), Some(0xfa)) => 4,
            // multi-byte nops (ftrace's patched call, endbr64 patched out)
            (0x66 | 0x0f, ..) if nop_len(b).is_some() => nop_len(b).unwrap_or(1),
            // call __fentry__, not patched
            (0xe8, ..) if i == 0 || i == 4 => 5,
            // nop
            (0x90, ..) => 1,
            // push %reg
            (r @ 0x50..=0x57, ..) => {
                if r == 0x55 {
                    saved_bp = Some(depth);
                }
                depth += 8;
                1
            }
            (0x41, Some(0x50..=0x57), ..) => {
                depth += 8;
                2
            }
            // mov %rsp,%rbp
            (0x48, Some(0x89), Some(0xe5), _) => {
                bp_frame = saved_bp.is_some();
                3
            }
            // sub $imm8,%rsp; sub $imm32,%rsp
            (0x48, Some(0x83), Some(0xec), Some(n)) => {
                depth += n as i8 as i64;
                4
            }
            (0x48, Some(0x81), Some(0xec), _) => {
                let Some(n) = b.get(3..7).and_then(|x| x.try_into().ok()) else {
                    break;
                };
                let n = i32::from_le_bytes(n);
                depth += n as i64;
                7
            }
            // mov $imm32,%r32 (and %r8d-%r15d)
            (0xb8..=0xbf, ..) => 5,
            (0x41, Some(0xb8..=0xbf), ..) => 6,
            // mov/xor between registers, not writing %rsp
            (0x48 | 0x49 | 0x4c | 0x4d, Some(0x89 | 0x8b | 0x31 | 0x33), Some(m), _)
                if m >> 6 == 3 && !writes_rsp(b[1], m) =>
            {
                3
            }
            (0x31 | 0x33 | 0x89 | 0x8b, Some(m), ..) if m >> 6 == 3 && !writes_rsp(b[0], m) => 2,
            (0x45 | 0x44 | 0x41, Some(0x31 | 0x33 | 0x89 | 0x8b), Some(m), _) if m >> 6 == 3 => 3,
            // Anything else ends the prologue: the body is taken to keep
            // the stack pointer where the prologue left it.
            _ => break,
        };
        i += len;
    }
    let (sp_reg, sp_offset) = if bp_frame {
        (OrcReg::Bp, 16)
    } else {
        (OrcReg::Sp, depth + 8)
    };
    let (bp_reg, bp_offset) = match saved_bp {
        // The caller's %rbp was pushed with `d` bytes already below the
        // return address: it is at CFA - 16 - d.
        Some(d) => (OrcReg::PrevSp, -16 - d),
        None => (OrcReg::Undefined, 0),
    };
    Some(OrcEntry {
        sp_offset: i16::try_from(sp_offset).ok()?,
        bp_offset: i16::try_from(bp_offset).ok()?,
        sp_reg,
        bp_reg,
        kind: OrcType::Call,
        signal: false,
    })
}

/// The length of a multi-byte `nop` at the start of `b`: `66* 0f 1f /0`,
/// or `66* 90` (the `data16 data16 data16 xchg %ax,%ax` that 5.10's ftrace
/// leaves at a function's start).
fn nop_len(b: &[u8]) -> Option<usize> {
    let prefixes = b.iter().take_while(|&&c| c == 0x66).count();
    let rest = &b[prefixes..];
    if prefixes > 0 && rest.first() == Some(&0x90) {
        return Some(prefixes + 1);
    }
    if rest.first() != Some(&0x0f) || rest.get(1) != Some(&0x1f) {
        return None;
    }
    let modrm = *rest.get(2)?;
    let (md, rm) = (modrm >> 6, modrm & 7);
    if md == 3 || (modrm >> 3) & 7 != 0 {
        return None;
    }
    let sib = usize::from(rm == 4);
    let disp = match md {
        1 => 1,
        2 => 4,
        _ if rm == 5 => 4,
        _ => 0,
    };
    Some(prefixes + 3 + sib + disp)
}

/// Whether a `mov`/`xor` with this opcode and register-to-register ModRM
/// writes `%rsp`.
fn writes_rsp(op: u8, modrm: u8) -> bool {
    let dest = match op {
        // op r/m, reg: the destination is r/m
        0x89 | 0x31 => modrm & 7,
        _ => (modrm >> 3) & 7,
    };
    dest == 4
}
