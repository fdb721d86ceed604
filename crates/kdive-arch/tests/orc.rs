//! ORC tables and unwind steps: the two layouts of `struct orc_entry`,
//! lookups in a table with self-relative addresses, one step for each kind
//! of frame on a synthetic stack, the prologue decoder; and, on the
//! installed vmlinux, the kernel's own table against facts the symbol table
//! gives independently (every C function starts with only its return
//! address on the stack).

use std::collections::HashMap;

use kdive_arch::x86_64::orc::{OrcEntry, OrcLayout, OrcReg, OrcTable, OrcType};
use kdive_arch::x86_64::prologue::frame_from_prologue;
use kdive_arch::x86_64::unwind::{step, PtRegs, RegsOrigin, Step, StepError, UnwindState};
use kdive_dump::{MemError, Memory};

/// Memory made of 8-byte words.
#[derive(Default)]
struct Words(HashMap<u64, u64>);

impl Memory for Words {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr + i as u64;
            let Some(w) = self.0.get(&(a & !7)) else {
                return Err(MemError::Invalid {
                    vaddr: a,
                    why: "no word there".into(),
                });
            };
            *b = w.to_le_bytes()[(a & 7) as usize];
        }
        Ok(())
    }
}

fn entry_bytes(sp_offset: i16, bp_offset: i16, word: u16) -> [u8; 6] {
    let mut b = [0u8; 6];
    b[..2].copy_from_slice(&sp_offset.to_le_bytes());
    b[2..4].copy_from_slice(&bp_offset.to_le_bytes());
    b[4..].copy_from_slice(&word.to_le_bytes());
    b
}

#[test]
fn both_layouts_decode() {
    // sp_reg SP (5), bp_reg PREV_SP (1), type REGS: 1 in the old layout,
    // 3 in the new one.
    let old = OrcLayout::TypeEnd.decode(&entry_bytes(8, -16, 5 | 1 << 4 | 1 << 8));
    assert_eq!(
        (
            old.sp_reg,
            old.bp_reg,
            old.kind,
            old.sp_offset,
            old.bp_offset
        ),
        (OrcReg::Sp, OrcReg::PrevSp, OrcType::Regs, 8, -16)
    );
    let new = OrcLayout::TypeSignal.decode(&entry_bytes(8, -16, 5 | 1 << 4 | 3 << 8));
    assert_eq!((new.sp_reg, new.kind), (OrcReg::Sp, OrcType::Regs));
    // Old: sp_reg undefined is end of stack with `end` (bit 10), no
    // information without. New: types 1 and 0.
    assert_eq!(
        OrcLayout::TypeEnd.decode(&entry_bytes(0, 0, 1 << 10)).kind,
        OrcType::EndOfStack
    );
    assert_eq!(
        OrcLayout::TypeEnd.decode(&entry_bytes(0, 0, 0)).kind,
        OrcType::Undefined
    );
    assert_eq!(
        OrcLayout::TypeSignal
            .decode(&entry_bytes(0, 0, 1 << 8))
            .kind,
        OrcType::EndOfStack
    );
    assert_eq!(
        OrcLayout::TypeSignal
            .decode(&entry_bytes(16, 0, 5 | 2 << 8))
            .kind,
        OrcType::Call
    );
    // The new layout's signal bit (11) makes a call frame's ip exact.
    assert!(
        OrcLayout::TypeSignal
            .decode(&entry_bytes(16, 0, 5 | 2 << 8 | 1 << 11))
            .signal
    );
    assert!(
        !OrcLayout::TypeSignal
            .decode(&entry_bytes(16, 0, 5 | 2 << 8))
            .signal
    );
}

#[test]
fn linux_6_3_and_7_1_layouts_decode() {
    // 6.3: type:2 at bit 8, signal at bit 10, end at bit 11.
    let e = OrcLayout::TypeSignalEnd.decode(&entry_bytes(16, 0, 5 | 1 << 10));
    assert_eq!(
        (e.sp_reg, e.kind, e.signal),
        (OrcReg::Sp, OrcType::Call, true)
    );
    assert_eq!(
        OrcLayout::TypeSignalEnd
            .decode(&entry_bytes(0, 0, 1 << 11))
            .kind,
        OrcType::EndOfStack
    );
    assert_eq!(
        OrcLayout::TypeSignalEnd.decode(&entry_bytes(0, 0, 0)).kind,
        OrcType::Undefined
    );
    // 7.1: the bits of 6.4, registers renumbered: 3 is %rsp, 8 the
    // caller's sp, 1 %rax, 5 %rdi (under the old numbers: %rdi, the
    // indirect bp, the caller's sp, %rsp).
    let e = OrcLayout::Regs71.decode(&entry_bytes(8, -16, 3 | 8 << 4 | 2 << 8));
    assert_eq!(
        (e.sp_reg, e.bp_reg, e.kind),
        (OrcReg::Sp, OrcReg::PrevSp, OrcType::Call)
    );
    let e = OrcLayout::Regs71.decode(&entry_bytes(0, 0, 1 | 5 << 4 | 3 << 8));
    assert_eq!(
        (e.sp_reg, e.bp_reg, e.kind),
        (OrcReg::Ax, OrcReg::Di, OrcType::Regs)
    );
    let old = OrcLayout::TypeSignal.decode(&entry_bytes(8, -16, 3 | 8 << 4 | 2 << 8));
    assert_eq!((old.sp_reg, old.bp_reg), (OrcReg::Di, OrcReg::BpIndirect));
}

#[test]
fn layout_from_header_and_members() {
    let h71 = [
        0x13, 0x7c, 0x36, 0xad, 0x76, 0x27, 0xc4, 0xdd, 0x55, 0x93, 0x21, 0x76, 0xbb, 0x0e, 0xcd,
        0xbd, 0x50, 0x41, 0xfc, 0x82,
    ];
    assert_eq!(OrcLayout::from_header(&h71), Some(OrcLayout::Regs71));
    assert_eq!(OrcLayout::from_header(&[0; 20]), None);
    assert_eq!(
        OrcLayout::from_members(true, false, (5, 10)),
        OrcLayout::TypeEnd
    );
    assert_eq!(
        OrcLayout::from_members(true, true, (6, 3)),
        OrcLayout::TypeSignalEnd
    );
    assert_eq!(
        OrcLayout::from_members(false, true, (6, 12)),
        OrcLayout::TypeSignal
    );
    assert_eq!(
        OrcLayout::from_members(false, true, (7, 3)),
        OrcLayout::Regs71
    );
}

/// A table at `base` covering `starts` (any order), entry i with sp_offset
/// 8 * (i + 1).
fn table(base: u64, starts: &[u64]) -> OrcTable {
    let mut ips = Vec::new();
    let mut orcs = Vec::new();
    for (i, s) in starts.iter().enumerate() {
        let rel = s.wrapping_sub(base + 4 * i as u64) as i64 as i32;
        ips.extend_from_slice(&rel.to_le_bytes());
        orcs.extend_from_slice(&entry_bytes(8 * (i as i16 + 1), 0, 5));
    }
    OrcTable::from_bytes(base, ips, base + 0x10000, orcs, OrcLayout::TypeEnd)
}

#[test]
fn lookup_finds_the_last_entry_at_or_below() {
    let mem = Words::default();
    let base = 0xffff_ffff_8200_0000;
    let t = table(
        base,
        &[
            0xffff_ffff_8100_0000,
            0xffff_ffff_8100_0010,
            0xffff_ffff_8100_0040,
        ],
    );
    assert_eq!(t.len(), 3);
    assert_eq!(t.lookup(0xffff_ffff_8100_0000, &mem).unwrap().sp_offset, 8);
    assert_eq!(t.lookup(0xffff_ffff_8100_000f, &mem).unwrap().sp_offset, 8);
    assert_eq!(t.lookup(0xffff_ffff_8100_0010, &mem).unwrap().sp_offset, 16);
    assert_eq!(t.lookup(0xffff_ffff_8100_9999, &mem).unwrap().sp_offset, 24);
    assert_eq!(t.lookup(0xffff_ffff_80ff_ffff, &mem), None);
    // Unsorted (a file built without build-time sorting): sorted with its
    // entries.
    let u = table(
        base,
        &[
            0xffff_ffff_8100_0040,
            0xffff_ffff_8100_0000,
            0xffff_ffff_8100_0010,
        ],
    );
    assert_eq!(u.lookup(0xffff_ffff_8100_0041, &mem).unwrap().sp_offset, 8);
    assert_eq!(u.lookup(0xffff_ffff_8100_0001, &mem).unwrap().sp_offset, 16);
    assert_eq!(u.lookup(0xffff_ffff_8100_0011, &mem).unwrap().sp_offset, 24);
}

#[test]
fn table_in_memory_reads_in_place() {
    let base = 0xffff_ffff_8200_0000u64;
    let mut mem = Words::default();
    // Two entries: ips at base, entries at base + 0x100.
    let starts = [0xffff_ffff_8100_0000u64, 0xffff_ffff_8100_0100];
    let mut bytes = Vec::new();
    for (i, s) in starts.iter().enumerate() {
        bytes.extend_from_slice(&(s.wrapping_sub(base + 4 * i as u64) as i64 as i32).to_le_bytes());
    }
    mem.0
        .insert(base, u64::from_le_bytes(bytes.try_into().unwrap()));
    let e = [entry_bytes(8, 0, 5), entry_bytes(24, -16, 5 | 1 << 4)].concat();
    for (i, c) in e.chunks(8).enumerate() {
        let mut w = [0u8; 8];
        w[..c.len()].copy_from_slice(c);
        mem.0
            .insert(base + 0x100 + 8 * i as u64, u64::from_le_bytes(w));
    }
    let t = OrcTable::in_memory(base, base + 0x100, 2, OrcLayout::TypeEnd);
    assert_eq!(
        t.lookup(0xffff_ffff_8100_0100 + 5, &mem).unwrap().sp_offset,
        24
    );
    assert_eq!(
        t.lookup(0xffff_ffff_8100_0005, &mem).unwrap().bp_reg,
        OrcReg::Undefined
    );
}

fn call(sp_offset: i16, sp_reg: OrcReg, bp_reg: OrcReg, bp_offset: i16) -> OrcEntry {
    OrcEntry {
        sp_offset,
        bp_offset,
        sp_reg,
        bp_reg,
        kind: OrcType::Call,
        signal: false,
    }
}

fn caller(s: Result<Step, StepError>) -> UnwindState {
    match s {
        Ok(Step::Caller { state, .. }) => state,
        other => panic!("not a caller: {other:?}"),
    }
}

#[test]
fn steps_through_each_kind_of_frame() {
    let mut mem = Words::default();
    let sp = 0xffff_c900_0000_3e00u64;
    // A call frame of 0x20 bytes with %rbp saved at CFA - 16.
    mem.0.insert(sp + 0x18, 0xffff_ffff_8100_1234); // return address
    mem.0.insert(sp + 0x10, 0xdead_beef); // saved %rbp
    let s0 = UnwindState::from_return_address(0xffff_ffff_8100_0042, sp - 8, None);
    assert_eq!(s0.sp, sp);
    let s1 = caller(step(
        &s0,
        Some(call(0x20, OrcReg::Sp, OrcReg::PrevSp, -16)),
        &mem,
    ));
    assert_eq!(
        (s1.ip, s1.sp, s1.bp, s1.slot),
        (
            0xffff_ffff_8100_1234,
            sp + 0x20,
            Some(0xdead_beef),
            sp + 0x18
        )
    );
    assert_eq!(s1.lookup_ip(), 0xffff_ffff_8100_1233);

    // A full pt_regs at the stack pointer.
    let mut regs = PtRegs::default();
    regs.0[16] = 0xffff_ffff_8100_5000; // ip
    regs.0[17] = 0x10; // cs
    regs.0[19] = sp + 0x400; // sp
    regs.0[4] = 0x4444; // bp
    for (i, w) in regs.0.iter().enumerate() {
        mem.0.insert(s1.sp + 8 * i as u64, *w);
    }
    let regs_entry = OrcEntry {
        kind: OrcType::Regs,
        sp_offset: 0,
        ..call(0, OrcReg::Sp, OrcReg::Undefined, 0)
    };
    let s2 = caller(step(&s1, Some(regs_entry), &mem));
    assert_eq!(
        (s2.ip, s2.sp, s2.bp, s2.origin, s2.signal),
        (
            regs.ip(),
            sp + 0x400,
            Some(0x4444),
            RegsOrigin::Stack(s1.sp),
            true
        )
    );
    assert_eq!(s2.lookup_ip(), regs.ip());

    // An iret frame only, 8 bytes up (after an error code).
    let iret = s2.sp + 0x100;
    for (i, w) in [0xffff_ffff_8100_6000u64, 0x10, 0x246, sp + 0x800, 0x18]
        .iter()
        .enumerate()
    {
        mem.0.insert(iret + 8 * i as u64, *w);
    }
    let partial = OrcEntry {
        kind: OrcType::RegsPartial,
        sp_offset: 0x100,
        ..call(0, OrcReg::Sp, OrcReg::Undefined, 0)
    };
    let s3 = caller(step(&s2, Some(partial), &mem));
    assert_eq!(
        (s3.ip, s3.sp, s3.origin, s3.bp),
        (
            0xffff_ffff_8100_6000,
            sp + 0x800,
            RegsOrigin::Partial(iret),
            Some(0x4444)
        )
    );

    // Indirect: the caller's sp is saved at the top of another stack.
    let other = 0xffff_c900_0010_0000u64;
    mem.0.insert(other, sp + 0x900);
    mem.0.insert(sp + 0x900 + 8, 0xffff_ffff_8100_7000);
    let s4 = UnwindState { sp: other, ..s1 };
    let s5 = caller(step(
        &s4,
        Some(call(16, OrcReg::SpIndirect, OrcReg::Undefined, 0)),
        &mem,
    ));
    assert_eq!((s5.ip, s5.sp), (0xffff_ffff_8100_7000, sp + 0x900 + 16));

    // No ORC entry: the frame pointer.
    let fp = sp + 0xa00;
    mem.0.insert(fp, 0x7777);
    mem.0.insert(fp + 8, 0xffff_ffff_8100_8000);
    let s6 = UnwindState { bp: Some(fp), ..s1 };
    match step(&s6, None, &mem) {
        Ok(Step::Caller { state, guessed }) => {
            assert!(guessed);
            assert_eq!(
                (state.ip, state.sp, state.bp),
                (0xffff_ffff_8100_8000, fp + 16, Some(0x7777))
            );
        }
        other => panic!("{other:?}"),
    }
    // The end, and code without information.
    let end = OrcEntry {
        kind: OrcType::EndOfStack,
        ..call(0, OrcReg::Undefined, OrcReg::Undefined, 0)
    };
    assert_eq!(step(&s1, Some(end), &mem), Ok(Step::End));
    let undef = OrcEntry {
        kind: OrcType::Undefined,
        ..end
    };
    assert_eq!(step(&s1, Some(undef), &mem), Err(StepError::NoInfo(s1.ip)));
    // A register the frame does not have.
    assert!(matches!(
        step(&s1, Some(call(0, OrcReg::R10, OrcReg::Undefined, 0)), &mem),
        Err(StepError::NoRegister(..))
    ));
    // Unreadable stack.
    assert!(matches!(
        step(
            &s1,
            Some(call(0x5000, OrcReg::Sp, OrcReg::Undefined, 0)),
            &mem
        ),
        Err(StepError::Unreadable(_))
    ));
}

#[test]
fn prologue_gives_the_frame() {
    // __crash_kexec of Linux 6.1 and 6.12: (endbr64 or its nop) call
    // __fentry__ (or its nop), push %rbx, mov $1,%edx, sub $0xb0,%rsp.
    let body = [
        0x53, 0xba, 1, 0, 0, 0, 0x48, 0x81, 0xec, 0xb0, 0, 0, 0, 0x65, 0x48, 0x8b,
    ];
    for head in [
        &[0xe8u8, 1, 2, 3, 4][..],
        &[0x0f, 0x1f, 0x44, 0, 0],
        &[0x66, 0x0f, 0x1f, 0x00, 0x0f, 0x1f, 0x44, 0, 0],
        &[0xf3, 0x0f, 0x1e, 0xfa, 0xe8, 1, 2, 3, 4],
    ] {
        let code = [head, &body[..]].concat();
        let e = frame_from_prologue(&code, code.len()).unwrap();
        assert_eq!(
            (e.sp_reg, e.sp_offset, e.bp_reg),
            (OrcReg::Sp, 8 + 8 + 0xb0, OrcReg::Undefined),
            "{head:x?}"
        );
        // Before the sub: only the push.
        let e = frame_from_prologue(&code, head.len() + 6).unwrap();
        assert_eq!(e.sp_offset, 16);
    }
    // Linux 5.10's: the 5-byte `66 66 66 66 90` nop, push %rbp, mov $1,%edx,
    // sub $0xb0,%rsp, then the body.
    let code = [
        0x66, 0x66, 0x66, 0x66, 0x90, 0x55, 0xba, 1, 0, 0, 0, 0x48, 0x81, 0xec, 0xb0, 0, 0, 0,
        0x65, 0x48, 0x8b,
    ];
    let e = frame_from_prologue(&code, code.len()).unwrap();
    assert_eq!(
        (e.sp_reg, e.sp_offset, e.bp_reg, e.bp_offset),
        (OrcReg::Sp, 8 + 8 + 0xb0, OrcReg::PrevSp, -16)
    );
    // A frame-pointer prologue: push %rbp; mov %rsp,%rbp.
    let e = frame_from_prologue(&[0x55, 0x48, 0x89, 0xe5, 0x41, 0x54, 0xcc], 7).unwrap();
    assert_eq!(
        (e.sp_reg, e.sp_offset, e.bp_reg, e.bp_offset),
        (OrcReg::Bp, 16, OrcReg::PrevSp, -16)
    );
}

/// The installed vmlinux's own table: C functions start with just the
/// return address on the stack (`CALL`, `%rsp + 8`); 95% of them in
/// 6.1, the rest being assembler entry code and unannotated functions.
#[test]
fn vmlinux_table_agrees_with_its_symbols() {
    let Some(path) = kdive_testkit::vmlinux("6.1.0-47-cloud-amd64") else {
        return;
    };
    let elf = kdive_debuginfo::ElfFile::open(&path).unwrap();
    let syms = elf.symbols().unwrap();
    let addr = |n: &str| syms.by_name(n).unwrap().addr;
    let (ip, stop, orc) = (
        addr("__start_orc_unwind_ip"),
        addr("__stop_orc_unwind_ip"),
        addr("__start_orc_unwind"),
    );
    let n = ((stop - ip) / 4) as usize;
    let ips = elf.read_at(ip, n * 4).unwrap().unwrap().to_vec();
    let orcs = elf.read_at(orc, n * 6).unwrap().unwrap().to_vec();
    let t = OrcTable::from_bytes(ip, ips, orc, orcs, OrcLayout::TypeEnd);
    assert_eq!(t.len(), n);
    let mem = Words::default();
    let (stext, etext) = (addr("_stext"), addr("_etext"));
    let funcs: Vec<u64> = syms
        .iter()
        .filter(|s| {
            s.is_text()
                && s.size > 0
                && s.addr >= stext
                && s.addr < etext
                && !s.name.starts_with("__pfx_")
        })
        .map(|s| s.addr)
        .collect();
    let plain = funcs
        .iter()
        .filter(|&&a| {
            t.lookup(a, &mem).is_some_and(|e| {
                e.kind == OrcType::Call && e.sp_reg == OrcReg::Sp && e.sp_offset == 8
            })
        })
        .count();
    assert!(funcs.len() > 10_000, "{} functions", funcs.len());
    assert!(
        plain * 100 >= funcs.len() * 90,
        "{plain} of {} functions start with a plain call frame",
        funcs.len()
    );
}
