//! What an address is (crash's `kmem ADDR`, memory.c `kmem_search`): the
//! symbol of kernel text, data or a module; the vmalloc area; the slab
//! cache, slab and object; the task whose `task_struct` or stack holds it;
//! the page. An address is often several of these at once (an object in
//! a slab is also in a page), so [`Identity`] has each, found or not.

use kdive_arch::x86_64::Region;
use kdive_debuginfo::Symbol;

use crate::slab::SlabAddress;
use crate::{Error, Kernel, Module, PageInfo, Task, VmapArea};

/// Everything [`Kernel::identify`] found an address to be.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The address asked about.
    pub addr: u64,
    /// Whether `addr` was taken for a physical address: as crash does,
    /// any address below the direct map.
    pub physical: bool,
    /// The kernel virtual address looked at: `addr`, or the direct-map
    /// address of a physical one.
    pub vaddr: u64,
    pub region: Region,
    /// The symbol and the offset from it, for an address in the kernel
    /// image (`_stext` to `_end`) or a module's memory.
    pub symbol: Option<(Symbol, u64)>,
    /// The module whose memory holds the address.
    pub module: Option<Module>,
    /// The mapped vmalloc area (or module area) that holds it.
    pub vmalloc: Option<VmapArea>,
    /// The slab cache, slab and object, and whether the object is free.
    pub slab: Option<SlabAddress>,
    /// The task whose `task_struct` holds it.
    pub task: Option<Task>,
    /// The task whose kernel stack holds it.
    pub stack_of: Option<Task>,
    /// The page structure of the address, or the one it is.
    pub page: Option<PageInfo>,
}

impl Kernel {
    /// What `addr` is: see [`Identity`]. Fails only when the slab
    /// allocator or the page array cannot be read at all.
    pub fn identify(&self, addr: u64) -> Result<Identity, Error> {
        let slub = self.slub()?;
        let pages = self.pages()?;
        let physical = addr < self.layout().page_offset_base;
        let vaddr = if physical { self.ptov(addr) } else { addr };
        let region = self.region(vaddr);
        let (symbol, module, vmalloc) = if physical {
            (None, None, None)
        } else {
            (
                self.symbol_in_image(vaddr),
                self.module_at(vaddr).cloned(),
                self.vmalloc_area_of(vaddr, region),
            )
        };
        let page = pages
            .page_of(self, addr)
            .and_then(|p| pages.read(self, p).ok());
        Ok(Identity {
            addr,
            physical,
            vaddr,
            region,
            symbol,
            module,
            vmalloc,
            slab: slub.address(vaddr),
            task: self.task_holding(vaddr),
            stack_of: self.stack_holding(vaddr),
            page,
        })
    }

    /// The symbol of an address in the kernel image or a module; other
    /// addresses (the direct map, vmalloc) would only find the nearest
    /// symbol below, which says nothing.
    fn symbol_in_image(&self, addr: u64) -> Option<(Symbol, u64)> {
        let image = matches!((self.symbol("_stext"), self.symbol("_end")),
            (Some(a), Some(b)) if (a..=b).contains(&addr));
        if !image && self.module_at(addr).is_none() {
            return None;
        }
        let (sym, off) = self.symbols().lookup(addr)?;
        Some((sym.clone(), off))
    }

    /// The vmalloc area of a mapped vmalloc or module address.
    fn vmalloc_area_of(&self, addr: u64, region: Region) -> Option<VmapArea> {
        if !matches!(region, Region::Vmalloc | Region::Modules) || self.vtop(addr).is_err() {
            return None;
        }
        let (areas, _) = self.vmap_areas().ok()?;
        areas
            .into_iter()
            .find(|a| a.vm != 0 && (a.start..a.end).contains(&addr))
    }

    /// The task whose `task_struct` holds `addr`. The type's size can
    /// exceed the allocation (the FPU state at its end is sized at boot):
    /// of the tasks whose range holds the address, the nearest below it.
    fn task_holding(&self, addr: u64) -> Option<Task> {
        let size = self
            .layouts()
            .and_then(|l| l.size("task_struct").ok())
            .unwrap_or(0);
        self.tasks()
            .tasks()
            .iter()
            .filter(|t| (t.addr..t.addr.saturating_add(size)).contains(&addr))
            .max_by_key(|t| t.addr)
            .cloned()
    }

    /// The task whose kernel stack holds `addr`.
    fn stack_holding(&self, addr: u64) -> Option<Task> {
        let size = self.thread_size();
        self.tasks()
            .tasks()
            .iter()
            .find(|t| t.stack != 0 && (t.stack..t.stack.saturating_add(size)).contains(&addr))
            .cloned()
    }
}
