//! iced-x86's GAS formatter, set up to print as libopcodes (gdb, objdump):
//! `mnemonic` padded to six columns and a space, operands without spaces
//! after commas, lowercase hex with `0x`, displacements shown when encoded
//! (`0x0(%rbp)`), the scale always shown with an index (`(%rax,%rax,1)`),
//! branch targets as `0xADDR <sym+off>` and RIP-relative operands followed
//! by `        # 0xADDR <sym+off>`.

use iced_x86::{Formatter, GasFormatter, Instruction, OpKind};

use super::rules;

/// The name of an operand's address, `sym` or `sym+off`, as written
/// inside `<...>`: given the address and whether the instruction is a
/// direct jump (not a call); `None` to print the bare address.
pub type Symbolizer<'a> = dyn Fn(u64, bool) -> Option<String> + 'a;

/// Formats instructions as gdb does, naming addresses with a symbolizer.
pub struct GdbFormatter<'a> {
    iced: GasFormatter,
    symbolize: &'a Symbolizer<'a>,
}

impl<'a> GdbFormatter<'a> {
    pub fn new(symbolize: &'a Symbolizer<'a>) -> GdbFormatter<'a> {
        let mut iced = GasFormatter::new();
        let o = iced.options_mut();
        o.set_uppercase_hex(false);
        o.set_hex_prefix("0x");
        o.set_hex_suffix("");
        o.set_space_after_operand_separator(false);
        o.set_always_show_scale(false);
        o.set_rip_relative_addresses(true);
        o.set_branch_leading_zeros(false);
        o.set_displacement_leading_zeros(false);
        o.set_leading_zeros(false);
        o.set_small_hex_numbers_in_decimal(false);
        o.set_signed_immediate_operands(false);
        o.set_signed_memory_displacements(true);
        o.set_show_branch_size(false);
        o.set_gas_show_mnemonic_size_suffix(false);
        o.set_gas_space_after_memory_operand_comma(false);
        o.set_show_useless_prefixes(true);
        GdbFormatter { iced, symbolize }
    }

    /// The text gdb prints for `insn`, whose bytes are `bytes`.
    pub fn format(&mut self, insn: &Instruction, bytes: &[u8]) -> String {
        let rip_relative = insn.is_ip_rel_memory_operand();
        // libopcodes prints a displacement the encoding has, zero or not.
        let shown = rip_relative || insn.memory_displ_size() > 0;
        self.iced.options_mut().set_show_zero_displacements(shown);
        let mut mnemonic = String::new();
        self.iced.format_mnemonic(insn, &mut mnemonic);
        let mut operands = String::new();
        self.iced.format_all_operands(insn, &mut operands);
        let (mnemonic, operands) = rules::fix(insn, bytes, mnemonic, operands);
        let mut text = column(&mnemonic, &operands, bytes);
        if let Some(target) = branch_target(insn) {
            // crash's filter names the targets gdb left bare of `j*` only.
            let jump = format!("{:?}", insn.mnemonic()).starts_with('J');
            if let Some(name) = (self.symbolize)(target, jump) {
                text.push_str(&format!(" <{name}>"));
            }
        } else if rip_relative {
            let target = insn.ip_rel_memory_address();
            text.push_str(&format!("        # {target:#x}"));
            if let Some(name) = (self.symbolize)(target, false) {
                text.push_str(&format!(" <{name}>"));
            }
        }
        text
    }
}

/// libopcodes' layout: the mnemonic (with its prefixes) padded to six
/// characters, a space, the operands. gdb 10 (crash's) keeps the padding
/// of an instruction without operands (`ret    `), except for the
/// one-byte `nop`, which its libopcodes writes over the padded buffer.
fn column(mnemonic: &str, operands: &str, bytes: &[u8]) -> String {
    if bytes == [0x90] {
        return mnemonic.to_string();
    }
    format!("{mnemonic:<6} {operands}")
}

/// The target of a direct call or jump.
fn branch_target(insn: &Instruction) -> Option<u64> {
    match insn.op0_kind() {
        OpKind::NearBranch64 | OpKind::NearBranch32 | OpKind::NearBranch16 => {
            Some(insn.near_branch_target())
        }
        _ => None,
    }
}
