//! A page walk kept step by step, for `vtop`-style output.

use std::fmt;

use super::error::XlatError;
use super::paging::{Table, Translation, SIZE_1G, SIZE_2M};

/// One entry read during a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkStep {
    /// Which level.
    pub table: Table,
    /// Physical address of the entry.
    pub entry_addr: u64,
    /// The entry as stored (with the SME bit, if set).
    pub entry: u64,
}

/// Every level's entry for one virtual address, as far as the walk went: it
/// stops at an entry that is not present or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    /// The address walked.
    pub vaddr: u64,
    /// Physical address of the top-level table.
    pub root: u64,
    /// The SME bit of these tables (0 without SME).
    pub sme_mask: u64,
    /// The entries read, top first.
    pub steps: Vec<WalkStep>,
    /// Where the walk ended.
    pub result: Result<Translation, XlatError>,
}

/// crash's `vtop` lines: `   PGD: 1e10ff8 => 1ffc9067` per level, then
/// `  PAGE: 1000000  (2MB)`. Like crash, entries are shown without the SME
/// bit.
impl fmt::Display for Walk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.steps {
            writeln!(
                f,
                "   {}: {:x} => {:x}",
                s.table,
                s.entry_addr,
                s.entry & !self.sme_mask
            )?;
        }
        match &self.result {
            Ok(t) => {
                let base = t.phys & !(t.page_size - 1);
                match t.page_size {
                    SIZE_1G => writeln!(f, "  PAGE: {base:x}  (1GB)"),
                    SIZE_2M => writeln!(f, "  PAGE: {base:x}  (2MB)"),
                    _ => writeln!(f, "  PAGE: {base:x}"),
                }
            }
            Err(e) => writeln!(f, "  {e}"),
        }
    }
}
