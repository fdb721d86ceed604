//! x86-64 disassembly as gdb prints it (AT&T syntax, libopcodes' layout),
//! which is what crash's `dis` shows.
//!
//! Decoding is iced-x86's; [`gas`] formats an instruction the way GNU
//! objdump and gdb do, [`rules`] fixes the few places where iced's GAS
//! syntax and libopcodes' differ.

mod gas;
mod names;
mod rules;

use iced_x86::{Decoder, DecoderOptions, Instruction};

pub use gas::GdbFormatter;
pub use names::Names;

/// One decoded instruction.
#[derive(Debug, Clone)]
pub struct Insn {
    pub addr: u64,
    pub len: usize,
    /// The instruction's text as gdb prints it after `<sym+off>:\t`.
    pub text: String,
}

/// Decode the instructions of `code` (read at `addr`) one after the other,
/// at most `max` of them, formatting each with `fmt`. An undecodable byte
/// shows as gdb's `(bad)` and decoding goes on at the next byte.
pub fn decode(code: &[u8], addr: u64, max: usize, fmt: &mut GdbFormatter<'_>) -> Vec<Insn> {
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut out = Vec::new();
    let mut insn = Instruction::default();
    while decoder.can_decode() && out.len() < max {
        let pos = decoder.position();
        decoder.decode_out(&mut insn);
        let at = addr.wrapping_add(pos as u64);
        if insn.is_invalid() {
            // A truncated instruction at the end of what was read is not
            // bad code: leave it to a longer read.
            if decoder.last_error() == iced_x86::DecoderError::NoMoreBytes {
                break;
            }
            out.push(Insn {
                addr: at,
                len: 1,
                // Padded like a mnemonic, as gdb 10 (crash's) prints it.
                text: "(bad)  ".into(),
            });
            decoder.set_position(pos + 1).ok();
            decoder.set_ip(at.wrapping_add(1));
            continue;
        }
        let mut len = insn.len();
        let mut text = fmt.format(&insn, &code[pos..pos + len]);
        if let Some((merged, with)) = wait_form(&insn, &code[pos + len..], at, fmt) {
            text = merged;
            len += with;
            decoder.set_position(pos + len).ok();
            decoder.set_ip(at.wrapping_add(len as u64));
        }
        out.push(Insn {
            addr: at,
            len,
            text,
        });
    }
    out
}

/// libopcodes reads `fwait` before an x87 control instruction of the
/// no-wait kind as one instruction, the waiting form (`9b db e3`: `finit`,
/// not `fwait` and `fninit`): its text and the length of the second part.
fn wait_form(
    insn: &Instruction,
    rest: &[u8],
    at: u64,
    fmt: &mut GdbFormatter<'_>,
) -> Option<(String, usize)> {
    use iced_x86::Mnemonic::*;
    if insn.code() != iced_x86::Code::Wait {
        return None;
    }
    let mut next = Decoder::with_ip(64, rest, at.wrapping_add(1), DecoderOptions::NONE);
    let second = next.decode();
    let no_wait = matches!(
        second.mnemonic(),
        Fninit | Fnclex | Fnstsw | Fnstcw | Fnstenv | Fnsave | Fneni | Fndisi | Fnsetpm
    );
    if second.is_invalid() || !no_wait {
        return None;
    }
    let text = fmt.format(&second, &rest[..second.len()]);
    // `fnstsw %ax` -> `fstsw  %ax`: one letter less, one more space.
    let (word, operands) = text.split_once(' ').unwrap_or((&text, ""));
    let waiting = format!("f{}", &word[2..]);
    let merged = format!("{waiting:<6} {}", operands.trim_start());
    Some((merged, second.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each instruction of `code` at address 0, as `decode` prints it.
    fn texts(code: &[u8]) -> Vec<String> {
        let none = |_: u64, _: bool| None;
        let mut f = GdbFormatter::new(&none);
        decode(code, 0, usize::MAX, &mut f)
            .into_iter()
            .map(|i| i.text)
            .collect()
    }

    /// What objdump 2.40 (gdb 13's libopcodes) prints for these bytes:
    /// one case of each rule in `rules`, and plain ones around them.
    #[test]
    fn prints_as_libopcodes() {
        let cases: &[(&[u8], &str)] = &[
            // gdb 10 (crash's) keeps the segment in the operand here, where
            // gdb 13 writes `data16 cs nopw 0x0(%rax,%rax,1)`.
            (
                &[0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0],
                "data16 nopw %cs:0x0(%rax,%rax,1)",
            ),
            (
                &[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0],
                "cs nopw 0x0(%rax,%rax,1)",
            ),
            (&[0x0f, 0x1f, 0x44, 0, 0], "nopl   0x0(%rax,%rax,1)"),
            (&[0x3e, 0x0f, 0xae, 0x38], "ds clflush (%rax)"),
            (&[0xf3, 0x48, 0xab], "rep stos %rax,%es:(%rdi)"),
            (&[0xf3, 0x48, 0xa5], "rep movsq %ds:(%rsi),%es:(%rdi)"),
            (
                &[0xff, 0x15, 0x10, 0, 0, 0],
                "call   *0x10(%rip)        # 0x16",
            ),
            (&[0xff, 0x75, 0x08], "push   0x8(%rbp)"),
            (&[0xd0, 0xe8], "shr    %al"),
            (
                &[0x48, 0x69, 0xc0, 0xe8, 0x03, 0, 0],
                "imul   $0x3e8,%rax,%rax",
            ),
            (&[0xee], "out    %al,(%dx)"),
            (&[0x66, 0xef], "out    %ax,(%dx)"),
            (&[0xed], "in     (%dx),%eax"),
            (&[0x0f, 0x23, 0xf8], "mov    %rax,%db7"),
            (&[0x0f, 0x01, 0xc8], "monitor %rax,%ecx,%edx"),
            (&[0x0f, 0x01, 0xc9], "mwait  %eax,%ecx"),
            (&[0xd1, 0x7d, 0x10], "sarl   0x10(%rbp)"),
            (&[0x48, 0xd1, 0xe0], "shl    %rax"),
            (&[0xff, 0xe0], "jmp    *%rax"),
            (&[0xff, 0x24, 0xc5, 0, 0, 0, 0], "jmp    *0x0(,%rax,8)"),
            (&[0x6a, 0x00], "push   $0x0"),
            (&[0x68, 0x00, 0x01, 0, 0], "push   $0x100"),
            (&[0xac], "lods   %ds:(%rsi),%al"),
            (&[0xa6], "cmpsb  %es:(%rdi),%ds:(%rsi)"),
            (&[0x66, 0x90], "xchg   %ax,%ax"),
            (&[0xcf], "iret   "),
            (&[0x48, 0xcf], "iretq  "),
            (&[0xcb], "lret   "),
            (&[0xca, 0x08, 0x00], "lret   $0x8"),
            // gdb 13: `sysretl`.
            (&[0x0f, 0x07], "sysret "),
            (&[0x9b, 0xdb, 0xe3], "finit  "),
            (&[0x9b, 0xdf, 0xe0], "fstsw  %ax"),
            (&[0xde, 0xe9], "fsubrp %st,%st(1)"),
            (&[0xde, 0xe1], "fsubp  %st,%st(1)"),
            (&[0xde, 0xea], "fsubrp %st,%st(2)"),
            (&[0x0f, 0x01, 0xfa], "monitorx %rax,%ecx,%edx"),
            (&[0x0f, 0x01, 0xfb], "mwaitx %eax,%ecx,%ebx"),
            (&[0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0], "mov    0x10,%rax"),
            (&[0x8b, 0x04, 0x24], "mov    (%rsp),%eax"),
            (&[0x8b, 0x44, 0x24, 0x08], "mov    0x8(%rsp),%eax"),
            (&[0xf0, 0x0f, 0xc1, 0x07], "lock xadd %eax,(%rdi)"),
            (
                &[0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0],
                "mov    %gs:0x28,%rax",
            ),
            (&[0x48, 0x8d, 0x14, 0x02], "lea    (%rdx,%rax,1),%rdx"),
        ];
        for (code, want) in cases {
            assert_eq!(texts(code), vec![want.to_string()], "{code:02x?}");
        }
    }

    /// gdb 10, crash's, keeps the padding of an instruction without
    /// operands (`ret    `, `int3   `), as crash.txt shows.
    #[test]
    fn no_operands_keep_the_column() {
        assert_eq!(
            texts(&[0xc3, 0xcc, 0x0f, 0x0b]),
            ["ret    ", "int3   ", "ud2    "]
        );
    }

    /// A byte that starts no instruction is gdb's `(bad)`, and decoding goes
    /// on after it; a truncated last instruction is left out.
    #[test]
    fn bad_and_truncated() {
        assert_eq!(texts(&[0x06, 0x90, 0x48]), ["(bad)  ", "nop"]);
    }
}
