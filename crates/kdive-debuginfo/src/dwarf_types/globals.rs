//! Global variables and functions: their DIE, type and address.
//!
//! In a vmlinux, a function's name alone does not pick its DIE: GCC writes
//! its out-of-line clones (`.part.0`, `.constprop.0`, `.cold`) as DIEs
//! that take their name from the same abstract instance, and a `__weak`
//! definition has a DIE beside the strong one. The ELF symbol does pick:
//! its address leads through `.debug_aranges` to the unit, and in it to
//! the DIE whose `DW_AT_low_pc` it is. That needs no name index either:
//! on a cold start, `whatis schedule` costs reading the symbols (see
//! [`DwarfTypes::set_symbols`]) and one unit.

use std::ops::ControlFlow;
use std::sync::Arc;

use gimli::SectionId;

use super::convert::Die;
use super::scan::{Found, Scanner, Space};
use super::{DwarfTypes, VOID};
use crate::types::{Global, TypeId};
use crate::{ElfFile, SymbolTable};

impl DwarfTypes {
    /// The global in `space` named `name`: its type (a variable's, or the
    /// function type for a subprogram) and address.
    pub(super) fn global(&self, space: Space, name: &str) -> Option<Global> {
        if space == Space::Function {
            if let Some(g) = self.function_by_symbol(name) {
                return Some(g);
            }
        }
        let die = self.lookup(space, name)?;
        let (d, _) = self.read(die, false)?;
        let chain = self.chain((d, Vec::new()), false);
        // A variable's DW_OP_addr is exact; a function's low_pc may be a
        // clone's, so its symbol comes first.
        let symbol = || self.symbol(name).map(|s| s.0);
        let (ty, addr) = match space {
            Space::Variable => (
                chain.iter().find_map(|(d, _)| d.ty).map_or(VOID, TypeId),
                chain.iter().find_map(|(d, _)| d.addr).or_else(symbol),
            ),
            _ => (
                TypeId(die),
                symbol().or_else(|| chain.iter().find_map(|(d, _): &(Die, _)| d.low_pc)),
            ),
        };
        let optimized_out = space == Space::Variable
            && addr.is_none()
            && !chain
                .iter()
                .any(|(d, _)| d.has_location || d.const_value.is_some());
        Some(Global {
            name: name.to_string(),
            ty,
            addr,
            optimized_out,
        })
    }

    /// Use `symbols`, the file's own (from [`ElfFile::symbols`], at
    /// link-time addresses), rather than reading them again: about 30 ms
    /// for a vmlinux, at the first function or address-less variable
    /// looked up. `false` if the symbols were already read.
    pub fn set_symbols(&self, symbols: Arc<SymbolTable>) -> bool {
        self.symbols.set(Some(symbols)).is_ok()
    }

    /// The ELF symbols of a linked file (a module's are section offsets).
    fn symbols(&self) -> Option<&SymbolTable> {
        if self.sections.relocatable() {
            return None;
        }
        let table = self
            .symbols
            .get_or_init(|| ElfFile::open(&self.path).ok()?.symbols().ok().map(Arc::new));
        table.as_deref()
    }

    /// The address and `nm` kind of the symbol `name`.
    fn symbol(&self, name: &str) -> Option<(u64, char)> {
        self.symbols()?.by_name(name).map(|s| (s.addr, s.kind))
    }

    /// A function found through its symbol (see the module documentation).
    fn function_by_symbol(&self, name: &str) -> Option<Global> {
        let (addr, kind) = self.symbol(name)?;
        if !matches!(kind, 'T' | 't' | 'W' | 'w') {
            return None;
        }
        let global = |die| Global {
            name: name.to_string(),
            ty: TypeId(die),
            addr: Some(addr),
            optimized_out: false,
        };
        // The index's choice, when it is the one.
        if let Some(die) = self
            .ready_index()
            .and_then(|i| i.lookup(Space::Function, name))
        {
            if self
                .read(die, false)
                .is_some_and(|(d, _)| d.low_pc == Some(addr))
            {
                return Some(global(die));
            }
        }
        let dwarf = self.sections.dwarf();
        let scanner = Scanner {
            dwarf: &dwarf,
            relocatable: false,
        };
        for unit in self.units_with_code(addr) {
            let Ok(header) = dwarf.unit_header(gimli::DebugInfoOffset(unit as usize)) else {
                continue;
            };
            // The DIE starting at the symbol; else one of the same name in
            // several ranges (its hot part at the symbol, the rest cold).
            let (mut exact, mut split) = (None, None);
            let mut sink = |f: Found<'_>| {
                let candidate = f.space == Space::Function && (f.low_pc == Some(addr) || f.ranges);
                if !candidate || !scanner.is(f.name, name.as_bytes()) {
                    return ControlFlow::Continue(());
                }
                if f.low_pc == Some(addr) {
                    exact = Some(f.die);
                    return ControlFlow::Break(());
                }
                split = split.or(Some(f.die));
                ControlFlow::Continue(())
            };
            let _ = scanner.unit(header, &mut sink);
            if let Some(die) = exact.or(split) {
                return Some(global(die));
            }
        }
        None
    }

    /// The units whose code `.debug_aranges` says covers `addr`.
    fn units_with_code(&self, addr: u64) -> Vec<u64> {
        let ranges = self.aranges.get_or_init(|| {
            let section = gimli::DebugAranges::new(
                self.sections.bytes(SectionId::DebugAranges),
                self.sections.endian(),
            );
            let mut out = Vec::new();
            let mut headers = section.headers();
            while let Ok(Some(h)) = headers.next() {
                let unit = h.debug_info_offset().0 as u64;
                let mut entries = h.entries();
                while let Ok(Some(e)) = entries.next() {
                    let r = e.range();
                    // Ranges at 0 are code the linker dropped.
                    if r.begin != 0 && r.end > r.begin {
                        out.push((r.begin, r.end, unit));
                    }
                }
            }
            out
        });
        let mut units: Vec<u64> = ranges
            .iter()
            .filter(|(start, end, _)| (*start..*end).contains(&addr))
            .map(|&(_, _, unit)| unit)
            .collect();
        units.sort_unstable();
        units.dedup();
        units
    }
}
