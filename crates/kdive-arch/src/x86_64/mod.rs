//! x86-64 (AMD64, Intel 64) address translation for Linux kernel dumps.
//!
//! - [`PageTables`]: the hardware page walk, 4- or 5-level, with every
//!   level's entry for `vtop`-style output ([`Walk`]).
//! - [`Layout`] and [`Region`]: where the kernel puts its direct map, text,
//!   vmalloc, vmemmap, modules and the fixed areas.
//! - [`Translator`]: page tables plus the linear mappings (kernel text,
//!   direct map) the kernel itself translates by arithmetic.
//! - [`discover`]: all of the above from what a dump offers, VMCOREINFO
//!   symbols or just a CPU's CR3 and CR4 ([`find_kernel_text`],
//!   [`find_direct_map`]).
//! - [`orc`], [`unwind`], [`prologue`]: the kernel's ORC tables and one
//!   unwind step.

mod discover;
pub mod entry;
mod error;
mod find;
mod layout;
pub mod orc;
mod paging;
pub mod prologue;
mod region;
mod scan;
pub mod unwind;
mod version;
mod walk;
mod xlat;

pub use discover::{discover, Discovered, Hints};
pub use error::XlatError;
pub use find::{find_direct_map, find_kernel_text, find_rodata};
pub use layout::{
    direct_to_phys, ktext_to_phys, per_cpu_addr, phys_to_direct, Layout, CPU_ENTRY_AREA_BASE,
    DEFAULT_TEXT_START, EFI_BASE, ESPFIX_BASE, FIXMAP_END, KTEXT_END, MODULES_END,
    PAGE_OFFSET_BASE_L4, PAGE_OFFSET_BASE_L5, START_KERNEL_MAP, VMALLOC_BASE_L4, VMALLOC_BASE_L5,
    VMEMMAP_BASE_L4, VMEMMAP_BASE_L5, VSYSCALL_ADDR,
};
pub use paging::{PageTables, Table, Translation, PAGE_SIZE, SIZE_1G, SIZE_2M};
pub use region::Region;
pub use scan::Mapping;
pub use version::KernelVersion;
pub use walk::{Walk, WalkStep};
pub use xlat::{LinearMap, ReadVirtError, Translator};
