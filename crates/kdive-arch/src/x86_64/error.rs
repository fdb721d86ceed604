//! Why a virtual address did not translate. Every message names the virtual
//! address, and where a table entry is at fault, that entry.

use kdive_dump::ReadError;
use thiserror::Error;

use super::paging::Table;

/// A failed translation.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum XlatError {
    /// The address is in the hole between the two canonical halves.
    #[error("virtual address {vaddr:#x} is not canonical ({bits}-bit virtual addresses)")]
    NonCanonical {
        /// The address asked for.
        vaddr: u64,
        /// Implemented virtual address bits (48 or 57).
        bits: u32,
    },
    /// An entry on the way has its present bit clear.
    #[error("virtual address {vaddr:#x} is not mapped: its {table} entry at physical address {entry_addr:#x} is {entry:#x} (not present)")]
    NotPresent {
        /// The address asked for.
        vaddr: u64,
        /// The level whose entry is not present.
        table: Table,
        /// Physical address of the entry.
        entry_addr: u64,
        /// The entry's value.
        entry: u64,
    },
    /// A page table could not be read from the dump.
    #[error("virtual address {vaddr:#x}: cannot read its {table} entry at physical address {entry_addr:#x}: {source}")]
    Read {
        /// The address asked for.
        vaddr: u64,
        /// The level whose entry could not be read.
        table: Table,
        /// Physical address of the entry.
        entry_addr: u64,
        /// What the dump said.
        #[source]
        source: ReadError,
    },
    /// No page tables were found, and no linear mapping covers the address.
    #[error("virtual address {vaddr:#x}: no page tables to translate it with (the page-table root is unknown)")]
    NoPageTables {
        /// The address asked for.
        vaddr: u64,
    },
}

impl XlatError {
    /// The virtual address that failed.
    pub fn vaddr(&self) -> u64 {
        match self {
            XlatError::NonCanonical { vaddr, .. }
            | XlatError::NotPresent { vaddr, .. }
            | XlatError::Read { vaddr, .. }
            | XlatError::NoPageTables { vaddr } => *vaddr,
        }
    }
}
