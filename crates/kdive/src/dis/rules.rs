//! Where libopcodes' AT&T syntax differs from iced-x86's GAS formatter.
//! The dialect is that of gdb 10.2, the one inside crash 8; where gdb 13
//! (binutils 2.40) writes otherwise, it says so. Each rule is a systematic difference, found
//! by disassembling thousands of kernel functions with both and comparing
//! instruction by instruction (see `tests/dis.rs`).

use iced_x86::{Code, Instruction, MandatoryPrefix, Mnemonic, OpKind, Register};

/// Fix the mnemonic and the operands iced formatted for `insn` (its bytes
/// are `bytes`) to read as libopcodes writes them.
pub(super) fn fix(
    insn: &Instruction,
    bytes: &[u8],
    mut mnemonic: String,
    mut operands: String,
) -> (String, String) {
    operands = scale_one(insn, operands);
    operands = string_segments(insn, operands);
    operands = port_dx(insn, operands);
    operands = debug_registers(operands);
    mnemonic = returns(no_suffix(insn, mnemonic));
    if shift_by_one(insn) {
        if let Some(rest) = operands.strip_prefix("$0x1,") {
            operands = rest.to_string();
        }
    }
    if let Some(dst) = imul_three(insn, &operands) {
        operands.push(',');
        operands.push_str(&dst);
    }
    if let Some(ops) = implicit_operands(insn) {
        operands = ops.to_string();
    }
    let (mnemonic, operands) = unused_prefixes(insn, bytes, mnemonic, operands);
    (mnemonic, operands)
}

/// libopcodes writes the scale of an index even when it is 1:
/// `(%rdx,%rax,1)` where iced writes `(%rdx,%rax)`.
fn scale_one(insn: &Instruction, operands: String) -> String {
    if insn.memory_index() == Register::None || insn.memory_index_scale() != 1 {
        return operands;
    }
    let Some(open) = operands.find('(') else {
        return operands;
    };
    let Some(close) = operands[open..].find(')').map(|c| open + c) else {
        return operands;
    };
    let inside = &operands[open + 1..close];
    if inside.matches(',').count() != 1 {
        return operands;
    }
    format!("{},1{}", &operands[..close], &operands[close..])
}

/// String instructions name their implicit segments: `%es:(%rdi)` always,
/// `%ds:(%rsi)` unless another segment overrides it.
fn string_segments(insn: &Instruction, mut operands: String) -> String {
    for i in 0..insn.op_count() {
        let (reg, seg) = match insn.op_kind(i) {
            OpKind::MemoryESRDI => ("(%rdi)", "%es:"),
            OpKind::MemoryESEDI => ("(%edi)", "%es:"),
            OpKind::MemorySegRSI if insn.segment_prefix() == Register::None => ("(%rsi)", "%ds:"),
            OpKind::MemorySegESI if insn.segment_prefix() == Register::None => ("(%esi)", "%ds:"),
            _ => continue,
        };
        if let Some(at) = find_bare(&operands, reg) {
            operands.insert_str(at, seg);
        }
    }
    operands
}

/// `reg` in `operands` not already preceded by a segment (`%es:`).
fn find_bare(operands: &str, reg: &str) -> Option<usize> {
    let at = operands.find(reg)?;
    (!operands[..at].ends_with(':')).then_some(at)
}

/// Port I/O through `%dx` is written `(%dx)`.
fn port_dx(insn: &Instruction, operands: String) -> String {
    let is_port = matches!(
        insn.mnemonic(),
        Mnemonic::In
            | Mnemonic::Out
            | Mnemonic::Insb
            | Mnemonic::Insw
            | Mnemonic::Insd
            | Mnemonic::Outsb
            | Mnemonic::Outsw
            | Mnemonic::Outsd
    );
    if !is_port {
        return operands;
    }
    operands
        .split(',')
        .map(|o| if o == "%dx" { "(%dx)" } else { o })
        .collect::<Vec<_>>()
        .join(",")
}

/// Debug registers are `%db0`..`%db7` in libopcodes, `%dr0` in iced.
fn debug_registers(operands: String) -> String {
    if !operands.contains("%dr") {
        return operands;
    }
    operands.replace("%dr", "%db")
}

/// libopcodes writes `call`, `jmp`, `push`, `pop` (and the far `ljmp`,
/// `lcall`) without a size suffix: the size is implied in 64-bit mode.
fn no_suffix(insn: &Instruction, mnemonic: String) -> String {
    let implied = matches!(
        insn.mnemonic(),
        Mnemonic::Call | Mnemonic::Jmp | Mnemonic::Push | Mnemonic::Pop
    );
    if !implied {
        return mnemonic;
    }
    let (prefixes, word) = match mnemonic.rfind(' ') {
        Some(i) => mnemonic.split_at(i + 1),
        None => ("", mnemonic.as_str()),
    };
    let word = match word {
        "callq" | "jmpq" | "pushq" | "popq" => &word[..word.len() - 1],
        "ljmpl" | "ljmpq" | "ljmpw" => "ljmp",
        "lcalll" | "lcallq" | "lcallw" => "lcall",
        w => w,
    };
    format!("{prefixes}{word}")
}

/// 32-bit returns: `iret`, `lret` in libopcodes; gdb 10 (crash's) also
/// writes `sysret` where gdb 13 writes `sysretl`.
fn returns(mnemonic: String) -> String {
    let (prefixes, word) = match mnemonic.rfind(' ') {
        Some(i) => mnemonic.split_at(i + 1),
        None => ("", mnemonic.as_str()),
    };
    let word = match word {
        "iretl" => "iret",
        "lretl" => "lret",
        "sysretl" => "sysret",
        w => w,
    };
    format!("{prefixes}{word}")
}

/// The shift and rotate forms whose count is an implied 1 (`d0`/`d1`):
/// libopcodes writes no count (`shr %al`).
fn shift_by_one(insn: &Instruction) -> bool {
    format!("{:?}", insn.code()).ends_with("_1")
}

/// `imul $imm,%src,%dst` keeps its three operands in libopcodes even when
/// `%src` is `%dst`, where iced writes two. The destination to add back.
fn imul_three(insn: &Instruction, operands: &str) -> Option<String> {
    if insn.mnemonic() != Mnemonic::Imul || insn.op_count() != 3 {
        return None;
    }
    if operands.matches(',').count() != 1 || insn.op1_kind() != OpKind::Register {
        return None;
    }
    let dst = format!("{:?}", insn.op0_register()).to_lowercase();
    Some(format!("%{dst}"))
}

/// Instructions whose operands libopcodes spells out and iced leaves
/// implicit.
fn implicit_operands(insn: &Instruction) -> Option<&'static str> {
    Some(match insn.code() {
        Code::Monitorw => "%ax,%ecx,%edx",
        Code::Monitord => "%eax,%ecx,%edx",
        Code::Monitorq => "%rax,%ecx,%edx",
        Code::Mwait => "%eax,%ecx",
        Code::Monitorxw => "%ax,%ecx,%edx",
        Code::Monitorxd => "%eax,%ecx,%edx",
        Code::Monitorxq => "%rax,%ecx,%edx",
        Code::Mwaitx => "%eax,%ecx,%ebx",
        // The x87 pops to %st(1), which iced leaves implicit.
        c if format!("{c:?}").ends_with("p_sti_st0") && insn.op0_register() == Register::ST1 => {
            "%st,%st(1)"
        }
        _ => return None,
    })
}

/// In 64-bit mode the `es`, `cs`, `ss` and `ds` overrides do nothing, and
/// libopcodes writes them as prefixes (`cs nopw 0x0(%rax,%rax,1)`,
/// `ds clflush (%rax)`), as it does an operand-size prefix the
/// instruction does not use (`data16`). iced folds them into the operand
/// (`%cs:0x0(...)`) or drops them.
fn unused_prefixes(
    insn: &Instruction,
    bytes: &[u8],
    mnemonic: String,
    mut operands: String,
) -> (String, String) {
    let legacy: Vec<u8> = bytes
        .iter()
        .copied()
        .take_while(|b| is_legacy_prefix(*b))
        .collect();
    let mut words = Vec::new();
    // One 0x66 is the operand size of a 16-bit instruction; more are unused.
    let sixty_sixes = legacy.iter().filter(|&&b| b == 0x66).count();
    let used_66 = usize::from(sixty_sixes > 0 && uses_operand_size(insn));
    for _ in used_66..sixty_sixes {
        if !mnemonic.contains("data16") {
            words.push("data16");
        }
    }
    let seg = insn.segment_prefix();
    let is_string = (0..insn.op_count()).any(|i| {
        matches!(
            insn.op_kind(i),
            OpKind::MemorySegRSI | OpKind::MemorySegESI | OpKind::MemoryESRDI | OpKind::MemoryESEDI
        )
    });
    let name = match seg {
        Register::ES => "es",
        Register::CS => "cs",
        Register::SS => "ss",
        Register::DS => "ds",
        _ => "",
    };
    // gdb 10 (crash's) leaves the segment in the operand after `data16`.
    if !name.is_empty() && !is_string && words.is_empty() {
        let shown = format!("%{name}:");
        if operands.contains(&shown) {
            operands = operands.replacen(&shown, "", 1);
            words.push(name);
        }
    }
    if words.is_empty() {
        return (mnemonic, operands);
    }
    (format!("{} {mnemonic}", words.join(" ")), operands)
}

fn is_legacy_prefix(b: u8) -> bool {
    matches!(
        b,
        0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3 | 0x2e | 0x36 | 0x3e | 0x26 | 0x64 | 0x65
    )
}

/// Whether the instruction's operand size is 16 bits (what a 0x66 prefix
/// selects), or 0x66 is part of its opcode (SSE `66 0f ...`).
fn uses_operand_size(insn: &Instruction) -> bool {
    let op = insn.op_code();
    op.operand_size() == 16 || op.mandatory_prefix() == MandatoryPrefix::P66
}
