//! The functions inlined at an address, from the DWARF of its CU: the
//! chain of `DW_TAG_inlined_subroutine` DIEs whose ranges hold it, inside
//! the `DW_TAG_subprogram` it is in. What drgn shows as frames of their
//! own and crash does not show at all.

use gimli::{AttributeValue, DebugInfoOffset, EndianSlice, RunTimeEndian, Unit, UnitOffset};

use super::LineTable;

type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// DIE levels searched at most (nested inlining and lexical blocks).
const MAX_DEPTH: usize = 64;
/// `abstract_origin`/`specification` links followed at most for a name.
const MAX_ORIGINS: usize = 8;

impl LineTable {
    /// The functions the code at `addr` is in, innermost first: the
    /// functions inlined there (deepest first), then the function they
    /// were inlined into. Empty when the file has no DWARF for `addr`.
    pub fn functions_at(&self, addr: u64) -> Vec<String> {
        self.functions_at_inner(addr).unwrap_or_default()
    }

    fn functions_at_inner(&self, addr: u64) -> Option<Vec<String>> {
        let cu = match self.index.cu_for(addr) {
            Some(cu) => cu,
            None => self.extra().cu_for(addr)?,
        };
        let dwarf = self.sections.dwarf();
        let header = dwarf
            .debug_info
            .header_from_offset(DebugInfoOffset(cu))
            .ok()?;
        let unit = dwarf.unit(header).ok()?;
        let mut tree = unit.entries_tree(None).ok()?;
        let mut node = tree.root().ok()?;
        let mut names = Vec::new();
        for _ in 0..MAX_DEPTH {
            let mut children = node.children();
            let mut found = None;
            while let Some(child) = children.next().ok()? {
                let e = child.entry();
                let tag = e.tag();
                let interesting = tag == gimli::DW_TAG_subprogram
                    || tag == gimli::DW_TAG_inlined_subroutine
                    || tag == gimli::DW_TAG_lexical_block;
                if !interesting || !contains(&dwarf, &unit, e, addr) {
                    continue;
                }
                if tag != gimli::DW_TAG_lexical_block {
                    names.push(name_of(&dwarf, &unit, e.offset()).unwrap_or_else(|| "??".into()));
                }
                found = Some(child.entry().offset());
                break;
            }
            let Some(at) = found else { break };
            // Go down into the DIE found: a new tree rooted there.
            tree = unit.entries_tree(Some(at)).ok()?;
            node = tree.root().ok()?;
        }
        names.reverse();
        Some(names)
    }
}

/// Whether the ranges of DIE `e` hold `addr`.
fn contains<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    unit: &Unit<R<'a>>,
    e: &gimli::DebuggingInformationEntry<R<'a>>,
    addr: u64,
) -> bool {
    let Ok(mut ranges) = dwarf.die_ranges(unit, e) else {
        return false;
    };
    while let Ok(Some(r)) = ranges.next() {
        if r.begin <= addr && addr < r.end {
            return true;
        }
    }
    false
}

/// The name of the DIE at `at`, following `DW_AT_abstract_origin` and
/// `DW_AT_specification` within the unit.
fn name_of<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
    unit: &Unit<R<'a>>,
    mut at: UnitOffset,
) -> Option<String> {
    for _ in 0..MAX_ORIGINS {
        let e = unit.entry(at).ok()?;
        if let Some(v) = e.attr_value(gimli::DW_AT_name) {
            let s = dwarf.attr_string(unit, v).ok()?;
            return Some(String::from_utf8_lossy(s.slice()).into_owned());
        }
        let next = e
            .attr_value(gimli::DW_AT_abstract_origin)
            .or_else(|| e.attr_value(gimli::DW_AT_specification))?;
        at = match next {
            AttributeValue::UnitRef(o) => o,
            AttributeValue::DebugInfoRef(o) => o.to_unit_offset(&unit.header)?,
            _ => return None,
        };
    }
    None
}
