//! Kernel symbols: from a vmlinux's ELF symbol table, or decoded from the
//! kallsyms tables in a dump's memory when there is no vmlinux.
//!
//! - [`SymbolTable`] holds symbols sorted by address, with lookups by
//!   address (`sym` style: `schedule+16`) and by name;
//! - [`ElfFile`] reads a vmlinux's `.symtab` (with `nm`'s kinds), its build
//!   id and its `linux_banner`;
//! - [`kallsyms`] decodes the kernel's compressed kallsyms tables through a
//!   reader of kernel virtual memory.
//!
//! # API structure
//!
//! - Symbols: [`symbols`] ([`SymbolTable`], [`Symbol`]), [`elf_symbols`]
//!   (a vmlinux or `.ko` file), [`kallsyms`] (the tables in memory, given
//!   by VMCOREINFO or found by [`kallsyms::scan`]).
//! - Types: [`types`] is the one model ([`types::TypeSource`], [`types::Type`])
//!   that commands and walkers read; [`btf`] parses BTF and [`btf_types`]
//!   serves it as a `TypeSource`; [`dwarf_types`] does the same from DWARF;
//!   [`layered`] stacks the kernel's source and the modules' ones.
//! - Lines: [`lines`] maps an address to its source file and line (DWARF).
//!
//! Memory is read through [`kdive_dump::Memory`], so the same decoders run
//! on a dump, the live kernel or a test's made-up memory.

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
