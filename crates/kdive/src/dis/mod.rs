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
                text: "(bad)".into(),
            });
            decoder.set_position(pos + 1).ok();
            decoder.set_ip(at.wrapping_add(1));
            continue;
        }
        out.push(Insn {
            addr: at,
            len: insn.len(),
            text: fmt.format(&insn, &code[pos..pos + insn.len()]),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        let none = |_: u64, _: bool| None;
        let mut f = GdbFormatter::new(&none);
        decode(bytes, 0xffffffff81000000, 1, &mut f)[0].text.trim_end().to_string()
    }

    #[test]
    fn probe() {
        for b in [
            &[0x66u8, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0][..],
            &[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0],
            &[0x66, 0x90],
            &[0x66, 0x66, 0x90],
            &[0x0f, 0x1f, 0x44, 0, 0],
            &[0x3e, 0x0f, 0xae, 0x38],
        ] {
            eprintln!("{:x?} => {}", b, text(b));
        }
    }
}
