//! The `<sym+off>` names of `dis`: which addresses get one, and which name.
//!
//! crash asks gdb to disassemble, and gdb names an address (a branch
//! target, the target of a RIP-relative operand) by its minimal symbols;
//! crash then replaces every name gdb printed by its own (`value_to_symstr`:
//! the closest symbol below, a `.part.0`/`.isra.0` clone by its function's
//! name, a `.cold` part by its own),
//! and names the target of a direct jump gdb left bare (`x86_64_dis_filter`,
//! `load_module_filter`). So whether a name is shown is gdb's rule, and the
//! name is crash's:
//!
//! - gdb names only an address inside one of the file's sections (in a
//!   dump, sections as relocated by the KASLR offset: per-CPU offsets,
//!   small numbers, are then in none), by the symbols of that section;
//! - of those, the closest sized symbol below that contains the address,
//!   else a label (a symbol of size 0) between it and the address; an
//!   address past the end of a sized symbol with no label after it has no
//!   name (`minsyms.c: lookup_minimal_symbol_by_pc_section`).
//!
//! Module code is named by the module's symbols (gdb knows them once
//! crash's `mod -s` loaded the module; kdive always has them).
//!
//! On a vmlinux alone there is no crash: gdb's rule alone, no names added
//! to jumps.

use std::ops::Range;

use kdive_debuginfo::Symbol;
use kdive_kernel::Kernel;
use object::read::elf::{ElfFile64, SectionHeader};
use object::LittleEndian;

/// Names addresses as crash's `dis` does.
pub struct Names<'a> {
    kernel: &'a Kernel,
    /// The vmlinux's allocated sections, at link-time addresses, sorted.
    sections: Vec<Range<u64>>,
    /// Offsets in hex (`dis -x`).
    hex: bool,
    /// Whether crash's filters run (a dump): jumps get names gdb left out.
    crash: bool,
}

impl<'a> Names<'a> {
    pub fn new(kernel: &'a Kernel, hex: bool) -> Names<'a> {
        Names {
            kernel,
            sections: kernel
                .vmlinux_file()
                .map(|f| sections(f.bytes()))
                .unwrap_or_default(),
            hex,
            crash: kernel.has_dump(),
        }
    }

    /// crash's `sym` or `sym+off` for `addr`, as in the `<...>` before an
    /// instruction's colon.
    pub fn name(&self, addr: u64) -> Option<String> {
        let (sym, off) = self.crash_symbol(addr)?;
        // crash names a clone (`.part.0`, `.isra.0`) as its function.
        let name = sym.base_name();
        Some(match (off, self.hex) {
            (0, _) => name.to_string(),
            (_, false) => format!("{name}+{off}"),
            (_, true) => format!("{name}+{off:#x}"),
        })
    }

    /// The symbol crash's `value_search` names `addr` by: at the address,
    /// the symbol table's choice; inside, of the symbols at the closest
    /// address below, the last by name (crash's table is sorted so, and it
    /// takes the entry before the first one past `addr`): so
    /// `ftrace_ops_list_func+2`, not `arch_ftrace_ops_list_func+2`, at an
    /// address both name.
    fn crash_symbol(&self, addr: u64) -> Option<(&'a Symbol, u64)> {
        let k = self.kernel;
        let found = k.symbols().lookup(addr)?;
        if found.1 == 0 || k.module_at(addr).is_some() {
            return Some(found);
        }
        let below = k.symbols().range(0..addr);
        let real = |s: &&Symbol| !matches!(s.kind, 'A' | 'a' | 'U' | 'w' | 'v' | 'N' | 'n' | '?');
        let closest = below.iter().rev().find(real)?.addr;
        let last = (below.iter().rev())
            .take_while(|s| s.addr == closest)
            .filter(real)
            .max_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()))?;
        Some((last, addr - closest))
    }

    /// The name shown after an operand's address: a branch target
    /// (`jump`: a direct jump, not a call) or a RIP-relative address.
    pub fn target(&self, addr: u64, jump: bool) -> Option<String> {
        if self.gdb_names(addr) || (jump && self.crash) {
            self.name(addr)
        } else {
            None
        }
    }

    /// Whether gdb prints a name for `addr` (see the module's doc).
    fn gdb_names(&self, addr: u64) -> bool {
        let k = self.kernel;
        if let Some(m) = k.modules().iter().find(|m| m.contains(addr)) {
            let Some(mem) = m.mem.iter().find(|r| r.contains(addr)) else {
                return false;
            };
            return by_sizes(k.symbols().range(mem.base..addr + 1), addr);
        }
        // Without a vmlinux there is no gdb to follow: any symbol will do.
        if self.sections.is_empty() {
            return addr >= 1 << 63 && k.symbols().lookup(addr).is_some();
        }
        // Sections are at link-time addresses; the dump's are moved by KASLR.
        let offset = k.kernel_offset();
        let link = addr.wrapping_sub(offset);
        let i = self.sections.partition_point(|s| s.start <= link);
        let Some(sec) = i.checked_sub(1).map(|i| &self.sections[i]) else {
            return false;
        };
        if !sec.contains(&link) {
            return false;
        }
        // A label at a section's start that is also another's end (`_einittext`
        // before `.altinstr_aux`) is the end marker of the one before.
        let abuts = self.sections.iter().any(|s| s.end == sec.start);
        let start = sec.start.wrapping_add(offset);
        let syms = k.symbols().range(start..addr + 1);
        let skip = syms
            .iter()
            .take_while(|s| abuts && s.addr == start && s.size == 0)
            .count();
        by_sizes(&syms[skip..], addr)
    }
}

/// gdb's choice among the symbols of one section at or below `addr`
/// (`syms`, by address): is there one it would name `addr` by? The
/// closest sized symbol if it contains `addr`, else the closest label
/// above it; a label of data (not code) is no name (`printcmd.c:
/// build_address_symbolic`).
fn by_sizes(syms: &[Symbol], addr: u64) -> bool {
    let mut label: Option<&Symbol> = None;
    let mut chosen = None;
    // gdb looks back past labels for a sized symbol; bounded here.
    for s in syms
        .iter()
        .rev()
        .filter(|s| !matches!(s.kind, 'A' | 'a'))
        .take(256)
    {
        if s.size == 0 {
            label = label.or(Some(s));
            continue;
        }
        chosen = if s.contains(addr) { Some(s) } else { label };
        break;
    }
    chosen.or(label).is_some_and(|c| c.size > 0 || c.is_text())
}

/// The allocated sections of an ELF file, at their addresses, sorted.
fn sections(bytes: &[u8]) -> Vec<Range<u64>> {
    let Ok(elf) = ElfFile64::<LittleEndian>::parse(bytes) else {
        return Vec::new();
    };
    let mut out: Vec<Range<u64>> = (elf.elf_section_table().iter())
        .filter(|s| s.sh_flags(LittleEndian).contains(object::elf::SHF_ALLOC))
        .map(|s| {
            let start = s.sh_addr(LittleEndian);
            start..start.saturating_add(s.sh_size(LittleEndian))
        })
        .filter(|r| !r.is_empty())
        .collect();
    out.sort_by_key(|r| r.start);
    out
}
