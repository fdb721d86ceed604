//! Kernel symbols: from a vmlinux's ELF symbol table, or decoded from the
//! kallsyms tables in a dump's memory when there is no vmlinux.
//!
//! - [`SymbolTable`] holds symbols sorted by address, with lookups by
//!   address (`sym` style: `schedule+16`) and by name;
//! - [`ElfFile`] reads a vmlinux's `.symtab` (with `nm`'s kinds), its build
//!   id and its `linux_banner`;
//! - [`kallsyms`] decodes the kernel's compressed kallsyms tables through a
//!   reader of kernel virtual memory.

pub mod btf;
pub mod btf_types;
pub mod dwarf_types;
pub mod elf_symbols;
pub mod kallsyms;
pub mod layered;
pub mod lines;
mod nm_kind;
pub mod symbols;
pub mod types;

pub use elf_symbols::{Banner, ElfError, ElfFile};
pub use kallsyms::{Kallsyms, KallsymsError, KallsymsLocations};
pub use nm_kind::{nm_kind, Place, SectionInfo};
pub use symbols::{is_noise, Symbol, SymbolTable, MAX_LOOKUP_DISTANCE};
