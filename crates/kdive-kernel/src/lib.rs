//! The open kernel: a dump's memory seen through the kernel's page tables,
//! with its symbols, and the walkers built on them.
//!
//! [`Kernel::open`] finds the vmlinux for the dump (or goes without one),
//! discovers the kernel's virtual memory layout (KASLR included, with or
//! without VMCOREINFO), and loads the symbols: the vmlinux's, relocated, or
//! the kernel's own kallsyms from the dump's memory, then the loaded
//! modules' own symbol tables ([`modules`]), read with the layout of
//! `struct module` that the kernel's types give ([`Layouts`]).
//!
//! # API structure
//!
//! Everything starts from a [`Kernel`]; the walkers are its methods, each
//! returning plain data (and what it could not read, rather than failing).
//! A walker that cannot start fails with an [`Error`] that says why: memory
//! that did not read, a symbol or type the kernel lacks ([`LayoutError`]),
//! damage, or a kernel shape kdive does not read.
//!
//! - [`Kernel`]: open with [`Kernel::open`], [`Kernel::open_with`]
//!   ([`VmlinuxChoice`]) or [`Kernel::open_with_options`] ([`OpenOptions`]:
//!   without BTF); [`KernelError`] says why not. Memory:
//!   [`Kernel::read`], [`Kernel::read_u64`], [`Kernel::vtop`], failing with
//!   a [`MemError`] that tells an invalid address from a page the dump left
//!   out ([`MemError::is_excluded`]). Symbols: [`Kernel::symbols`],
//!   [`Kernel::symbol`]; types: [`Kernel::types`] (the model commands
//!   print from), [`Kernel::layouts`] (offsets, sizes and enum constants by
//!   name: what every walker reads structures with, from the BTF or else
//!   the vmlinux's DWARF), [`Kernel::btf`]; source lines:
//!   [`Kernel::source_line`].
//! - [`tasks`]: every task ([`Kernel::tasks`]: a [`TaskList`] of [`Task`]),
//!   found by four walks so that none is missed.
//! - [`stack`]: backtraces ([`Kernel::backtrace_task`],
//!   [`Kernel::backtrace_cpu`]: a [`stack::Backtrace`] of
//!   [`stack::Frame`]s) unwound with the ORC tables
//!   ([`Kernel::orc_tables`]).
//! - [`slab`]: the SLUB allocator ([`Kernel::slub`]: caches, slabs, free
//!   lists, per-CPU sheaves), its damage as typed [`slab::Finding`]s
//!   ([`Kernel::slab_check`]).
//! - [`lists`]: the one walk of a kernel `list_head` list
//!   ([`Kernel::list`], [`lists::ListWalk`]: a [`lists::List`] of the
//!   entries, and a loop, a bad pointer, a broken back-pointer or an
//!   unreadable entry as [`lists::Fault`]s, worded as [`Finding`]s by
//!   [`lists::List::findings`]), which the task, module, slab, device
//!   and network walkers use.
//! - What an address is ([`Kernel::identify`]: an [`Identity`], crash's
//!   `kmem ADDR`): its symbol, module, vmalloc area, slab object (allocated
//!   or free: [`slab::SlabAddress`]), task or stack, and page.
//! - Socket buffer queues ([`Kernel::skb_queue`]: an [`SkbQueue`] of
//!   [`Skb`]s, with a loop or a bad link as [`Finding`]s), and a buffer's
//!   bytes ([`Kernel::skb_bytes`]).
//! - [`modules`]: the loaded modules ([`Kernel::modules`], [`Module`]),
//!   their symbols, and their debuginfo on request
//!   ([`Kernel::load_module_debuginfo`]).
//! - [`printk`]: the kernel log ([`Kernel::log`], [`KernelLog`]).
//! - [`vma`], [`maple`], [`fs`]: a process's memory map
//!   ([`Kernel::vmas`]) and files ([`Kernel::dentry_path`]).
//! - [`runq`]: each CPU's run queue ([`Kernel::run_queue`]).
//! - [`vmlinux`]: where a release's vmlinux is looked for, and whether one
//!   fits the dump.
//! - The rest, re-exported here: the machine ([`Machine`], [`MemInfo`],
//!   [`Utsname`], [`Uptime`]), pages ([`Pages`]), vmalloc areas
//!   ([`VmapArea`]), interrupts ([`IrqStat`], [`Gate`]), timers
//!   ([`TimerBase`]), devices ([`BlockDev`], [`CharDev`], [`PciBus`],
//!   [`DiskIo`]), network ([`NetDevice`], [`Neighbour`]), swap
//!   ([`SwapArea`]), resources ([`Resource`]).
//!
//! `examples/tasks.rs` and `examples/slab_check.rs` use this API as a
//! program outside the project would.

mod arp;
mod cpus;
mod debuginfod;
mod devices;
mod diskio;
mod error;
#[cfg(test)]
mod fake_mem;
mod finding;
pub mod fs;
mod identify;
mod image;
mod irqs;
pub mod lists;
mod machine;
mod makedumpfile;
pub mod maple;
mod meminfo;
mod memory;
mod module_debug;
pub mod modules;
mod netdev;
mod offsets;
mod open;
mod pages;
mod pci;
pub mod printk;
mod proc_offsets;
mod radix_tree;
mod resources;
pub mod runq;
mod skb;
pub mod slab;
pub mod stack;
mod swap;
mod system;
pub mod tasks;
mod timers;
mod types;
mod vectors;
pub mod vma;
mod vmalloc;
pub mod vmlinux;

use std::path::Path;
use std::sync::Arc;

use kdive_arch::x86_64::{Discovered, Layout, Region, Walk};
use std::sync::OnceLock;

use kdive_debuginfo::btf::Btf;
use kdive_debuginfo::lines::{LineTable, Location};
use kdive_debuginfo::{ElfFile, Symbol, SymbolTable};
use kdive_dump::{Dump, OpenError};

pub use arp::Neighbour;
pub use devices::{BlockDev, CharDev};
pub use diskio::DiskIo;
pub use error::{CpuState, Error, LayoutError};
pub use finding::{Finding, FindingKind};
pub use identify::Identity;
pub use irqs::{IrqAction, IrqStat};
pub use machine::{ExceptionStack, Machine};
pub use meminfo::MemInfo;
pub use memory::{MemError, Memory};
pub use module_debug::{ModuleDebug, ModuleDebugError};
pub use modules::{MemKind, Module, ModuleMemory};
pub use netdev::NetDevice;
pub use offsets::{ArrayInfo, Layouts, MemberInfo};
pub use pages::{PageInfo, Pages};
pub use pci::{PciBus, PciDev};
pub use printk::{KernelLog, LogFormat, LogRecord};
pub use radix_tree::TreeEntries;
pub use resources::Resource;
pub use skb::{Skb, SkbQueue};
pub use swap::SwapArea;
pub use system::{Uptime, Utsname};
pub use tasks::{Task, TaskList};
pub use timers::{Timer, TimerBase, TimerWheel};
pub use vectors::Gate;
pub use vmalloc::VmapArea;

/// Why a kernel could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error(transparent)]
    Dump(#[from] OpenError),
    /// A vmlinux given that is not the dump's kernel's.
    #[error(transparent)]
    Unfit(#[from] vmlinux::Unfit),
    #[error("{path}: {why}")]
    Vmlinux { path: String, why: String },
    /// A dump (or vmlinux) of a machine kdive does not read.
    #[error("a dump of {machine}: kdive reads {supported} dumps only")]
    Architecture { machine: String, supported: String },
}

/// Which vmlinux to use.
#[derive(Debug, Clone, Copy)]
pub enum VmlinuxChoice<'a> {
    /// This one.
    Given(&'a Path),
    /// The one installed for the dump's release, if any.
    Find,
    /// None: symbols from the dump's own kallsyms.
    None,
}

/// How to open a kernel, besides which vmlinux.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// Read the kernel's BTF (the default). Without it the walkers take
    /// their layouts from the vmlinux's DWARF, as on a kernel built
    /// without BTF: `--no-btf` tests that path on kernels that have both.
    pub btf: bool,
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions { btf: true }
    }
}

/// Where the symbols came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolSource {
    Vmlinux,
    Kallsyms,
    None,
}

/// A kernel opened from a dump, with or without its vmlinux.
pub struct Kernel {
    dump: Dump,
    vmlinux: Option<ElfFile>,
    found: Discovered,
    symbols: SymbolTable,
    symbol_source: SymbolSource,
    /// Things the user should know about how the kernel was opened.
    notices: Vec<String>,
    /// The vmlinux's line table, opened on first use.
    lines: OnceLock<Option<LineTable>>,
    /// The kernel's BTF, loaded on first use (opening loads it to read the
    /// modules), or why there is none.
    btf: OnceLock<Result<Arc<Btf>, String>>,
    /// The BTF as a type source for the walkers ([`offsets::Layouts`]).
    btf_types: OnceLock<Arc<kdive_debuginfo::btf_types::BtfTypes>>,
    /// The type source commands use, built on first use ([`Self::types`]),
    /// with the modules' DWARF added by [`Self::load_module_debuginfo`].
    types: OnceLock<kdive_debuginfo::layered::Layered>,
    /// Modules' debuginfo loaded so far (crash's `mod -s`).
    module_debug: std::sync::RwLock<Vec<module_debug::ModuleDebug>>,
    /// Modules' line tables found by themselves, for `bt -l` and the like.
    auto_lines: module_debug::AutoLines,
    /// The loaded modules, read at open time.
    modules: Vec<Module>,
    /// The ORC unwind tables, found on first use ([`Kernel::orc_tables`]).
    orc: OnceLock<stack::OrcTables>,
    /// Every task, walked on first use ([`Kernel::tasks`]).
    tasks: OnceLock<tasks::TaskList>,
    /// The processor architecture, from the dump's machine type.
    arch: &'static dyn kdive_arch::Arch,
    /// Opened from a vmlinux alone: memory is the file's (see `image`).
    image_only: bool,
    /// Offsets of the per-task walkers (files, VMAs, runqueues), from BTF.
    proc_offsets: OnceLock<proc_offsets::ProcOffsets>,
}

impl Kernel {
    /// Open the dump at `dump`, with `vmlinux` or the one installed for the
    /// dump's release.
    pub fn open(dump: &Path, vmlinux: Option<&Path>) -> Result<Kernel, KernelError> {
        let choice = match vmlinux {
            Some(p) => VmlinuxChoice::Given(p),
            None => VmlinuxChoice::Find,
        };
        open::open(Dump::open(dump)?, choice, OpenOptions::default())
    }

    /// Open with an explicit choice of vmlinux (`None`: work from the
    /// dump alone, with kallsyms from its memory).
    pub fn open_with(dump: &Path, vmlinux: VmlinuxChoice<'_>) -> Result<Kernel, KernelError> {
        Self::open_with_options(dump, vmlinux, OpenOptions::default())
    }

    /// [`Self::open_with`], with [`OpenOptions`].
    pub fn open_with_options(
        dump: &Path,
        vmlinux: VmlinuxChoice<'_>,
        options: OpenOptions,
    ) -> Result<Kernel, KernelError> {
        open::open(Dump::open(dump)?, vmlinux, options)
    }

    /// The architecture of the kernel ([`kdive_arch::Arch`]): page sizes,
    /// its address range, the exception frame's layout.
    pub fn arch(&self) -> &'static dyn kdive_arch::Arch {
        self.arch
    }

    /// crash's `in_ksymbol_range()`: whether `addr` is between the first
    /// kernel symbol and the end of the last one (module symbols included):
    /// a value there may name a symbol, a smaller one (a per-CPU offset, a
    /// count) does not.
    pub fn in_symbol_range(&self, addr: u64) -> bool {
        let syms = self.symbols();
        let first = syms
            .iter()
            .find(|s| self.arch.is_kernel_address(s.addr))
            .map(|s| s.addr);
        let last = syms.iter().next_back().map(|s| s.addr + s.size.max(1));
        matches!((first, last), (Some(a), Some(b)) if addr >= a && addr < b)
    }

    pub fn dump(&self) -> &Dump {
        &self.dump
    }

    pub fn vmlinux(&self) -> Option<&Path> {
        self.vmlinux.as_ref().map(|v| v.path())
    }

    /// The opened vmlinux, for debuginfo readers.
    pub fn vmlinux_file(&self) -> Option<&ElfFile> {
        self.vmlinux.as_ref()
    }

    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    pub fn layout(&self) -> &Layout {
        &self.found.layout
    }

    /// The KASLR offset of the kernel text (0 without KASLR or when unknown).
    pub fn kernel_offset(&self) -> u64 {
        self.found.layout.kernel_offset.unwrap_or(0)
    }

    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    pub fn symbol_source(&self) -> SymbolSource {
        self.symbol_source
    }

    /// The address of a symbol, by name.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.symbols.by_name(name).map(|s| s.addr)
    }

    /// Whether `sym` names code: its letter says text, and it is not in
    /// the kernel's `.data` (`_sdata` to `_edata`). Linux 7.3's vmlinux has
    /// an executable `.data`, so `nm`, and kallsyms after it, give the
    /// objects there `T` and `t`.
    pub fn is_code(&self, sym: &Symbol) -> bool {
        let data = match (self.symbol("_sdata"), self.symbol("_edata")) {
            (Some(a), Some(b)) => a..b,
            _ => 0..0,
        };
        sym.is_text() && (sym.module.is_some() || !data.contains(&sym.addr))
    }

    /// What kind of kernel address `vaddr` is.
    pub fn region(&self, vaddr: u64) -> Region {
        self.found.layout.classify(vaddr)
    }

    /// The page walk of `vaddr` through the kernel's page tables.
    pub fn walk(&self, vaddr: u64) -> Option<Walk> {
        let tables = self.found.xlat.tables.as_ref()?;
        Some(tables.walk(&self.dump, vaddr))
    }

    /// The virtual address of the kernel's top-level page table.
    pub fn top_pgt(&self) -> Option<u64> {
        self.symbol("init_top_pgt")
            .or_else(|| self.symbol("swapper_pg_dir"))
            .or_else(|| {
                self.dump.vmcoreinfo().and_then(|v| {
                    v.symbol("init_top_pgt")
                        .or_else(|| v.symbol("swapper_pg_dir"))
                })
            })
    }

    /// The source file and line of the code at `addr` (a kernel address as
    /// the dump has it), from the vmlinux's DWARF.
    pub fn source_line(&self, addr: u64) -> Option<Location> {
        if let Some(m) = self.module_at(addr) {
            return self.module_source_line(&m.name, addr);
        }
        let lines = self
            .lines
            .get_or_init(|| LineTable::open(self.vmlinux.as_ref()?.path()).ok());
        lines
            .as_ref()?
            .lookup(addr.wrapping_sub(self.kernel_offset()))
    }

    /// The functions the kernel code at `addr` is in, innermost first: those
    /// inlined there, then the one they were inlined into (from the
    /// vmlinux's DWARF, or the module's when its debuginfo is loaded; empty
    /// without them).
    pub fn functions_at(&self, addr: u64) -> Vec<String> {
        if let Some(m) = self.module_at(addr) {
            return self.module_functions_at(&m.name, addr);
        }
        let lines = self
            .lines
            .get_or_init(|| LineTable::open(self.vmlinux.as_ref()?.path()).ok());
        lines
            .as_ref()
            .map(|l| l.functions_at(addr.wrapping_sub(self.kernel_offset())))
            .unwrap_or_default()
    }

    /// The kernel's type information in BTF form: the vmlinux's `.BTF`
    /// section, or without a vmlinux (or one without `.BTF`) the copy in
    /// the dump's memory, `__start_BTF` to `__stop_BTF`. `None` for a kernel
    /// built without `CONFIG_DEBUG_INFO_BTF` (before 5.2, or configured
    /// out).
    pub fn btf(&self) -> Option<&Btf> {
        self.btf_result().ok()
    }

    /// [`Self::btf`], or why there is none ([`LayoutError::NoBtf`]).
    pub fn btf_result(&self) -> Result<&Btf, LayoutError> {
        self.btf_arc()
            .map(|b| &**b)
            .map_err(|why| LayoutError::NoBtf(why.to_string()))
    }

    /// [`Self::btf_result`], shared.
    pub(crate) fn btf_arc(&self) -> Result<&Arc<Btf>, &str> {
        self.btf
            .get_or_init(|| open::load_btf(self).map(Arc::new))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Physical address to its direct-map virtual address.
    pub fn ptov(&self, paddr: u64) -> u64 {
        self.found.layout.phys_to_direct(paddr)
    }
}

/// A path for messages.
fn show(p: &Path) -> String {
    p.display().to_string()
}
