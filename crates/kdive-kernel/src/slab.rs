//! The SLUB allocator as the dump holds it: the caches on `slab_caches`,
//! each cache's per-CPU slabs and partial lists, its per-node partial (and,
//! when tracked, full) lists, and every free list inside them.
//!
//! Corrupt metadata is reported, never followed: a free pointer outside
//! its slab or between two objects, a free list that loops, a list whose
//! `next->prev` does not point back, a slab pointer that is not a page, or
//! memory the dump lacks each become a [`Finding`] naming the address, the
//! cache, the CPU or node and what was expected, and the walk goes on with
//! the rest. Every loop is bounded. [`Kernel::slab_check`] gathers them
//! for every cache.
//!
//! Offsets come from the kernel's BTF ([`Kernel::layouts`]) once per walk
//! ([`Kernel::slub`]), the layout chosen by what exists: `struct slab`
//! (5.17 and later) or `struct page`, `slab_list` or `lru`,
//! `kmem_cache_cpu.slab` or `.page`.

mod check;
mod find;
mod freelist;
mod lists;
mod model;
mod offsets;
mod sheaf_check;
mod sheaves;
#[cfg(test)]
mod sheaves_tests;
#[cfg(test)]
mod tests;
mod walk;

use std::cell::{Cell, OnceCell};

use crate::memory::{MemError, Memory};
use crate::{Error, Kernel};
use offsets::Offsets;

pub use find::{ObjectHit, SlabAddress};
pub(crate) use lists::list as list_entries;
pub use model::{
    Cache, CacheState, CpuState, Finding, Kind, NodeState, Place, Slab, SlabObjects, Usage,
};
pub use sheaves::{Barn, CpuSheaves, Sheaf, SheafHolder};

/// `SLAB_RED_ZONE` of older kernels (by 6.12 a bit of `enum
/// _slab_flag_bits`): objects have a red zone, and with it a left pad.
pub const SLAB_RED_ZONE: u64 = 0x0000_0400;
/// `SLAB_STORE_USER` of older kernels: SLUB debugging keeps full slabs on
/// `node->full`.
pub const SLAB_STORE_USER: u64 = 0x0001_0000;
/// `PAGE_SIZE` on x86-64.
pub const PAGE_SIZE: u64 = 4096;
/// At most this many slabs are taken from one list, and this many caches
/// from `slab_caches`: a damaged list cannot run the walk forever.
pub const MAX_LIST: usize = 1 << 20;

/// What the walk needs of the kernel besides memory and offsets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    pub page_offset: u64,
    pub direct_size: u64,
    pub vmemmap: u64,
    pub vmemmap_size: u64,
    /// `__per_cpu_offset[cpu]`, `None` where unreadable.
    pub cpu_offsets: Vec<Option<u64>>,
    pub nr_node_ids: usize,
    /// `[start, end)` page frame numbers of each node; empty: one node.
    pub node_spans: Vec<(u64, u64)>,
    /// The address of the `slab_caches` list head.
    pub slab_caches: Option<u64>,
}

impl Env {
    /// The `struct page` of direct-map address `vaddr`.
    pub fn virt_to_page(&self, vaddr: u64, page_size: u64) -> Option<u64> {
        let off = vaddr.checked_sub(self.page_offset)?;
        (off < self.direct_size).then(|| self.vmemmap.wrapping_add((off / PAGE_SIZE) * page_size))
    }

    /// The page frame number of a `struct page` address, if it is one.
    pub fn page_pfn(&self, page: u64, page_size: u64) -> Option<u64> {
        let off = page.checked_sub(self.vmemmap)?;
        (page_size > 0 && off < self.vmemmap_size && off % page_size == 0).then(|| off / page_size)
    }

    pub fn node_of(&self, pfn: u64) -> Option<usize> {
        if self.node_spans.is_empty() {
            return Some(0);
        }
        self.node_spans
            .iter()
            .position(|&(s, e)| (s..e).contains(&pfn))
    }
}

/// A walk of the SLUB allocator: offsets found, ready to read caches.
pub struct Slub<'a> {
    mem: &'a dyn Memory,
    o: Offsets,
    env: Env,
    /// Whether scrambled free pointers mix in the byte-swapped address
    /// (5.7 and later) or the plain one: learned from the first pointer
    /// that decodes to an object one way and not the other.
    swab: Cell<Option<bool>>,
    /// `slab_caches`, walked once.
    cache_list: OnceCell<(Vec<u64>, Vec<Finding>)>,
}

impl Kernel {
    /// Start a walk of the SLUB allocator. Fails without BTF, on a kernel
    /// with another allocator, or without `slab_caches`.
    pub fn slub(&self) -> Result<Slub<'_>, Error> {
        let layouts = self.layouts_or_err()?;
        let o = Offsets::from_layouts(layouts)?;
        let layout = self.layout();
        let nr_node_ids = self
            .symbol("nr_node_ids")
            .and_then(|a| self.read_u32(a).ok())
            .map_or(1, |n| n as usize)
            .clamp(1, o.node_len as usize);
        let env = Env {
            page_offset: layout.page_offset_base,
            direct_size: layout.direct_size,
            vmemmap: layout.vmemmap_base,
            vmemmap_size: layout.vmemmap_size,
            cpu_offsets: (0..self.nr_cpus())
                .map(|c| self.per_cpu_offset(c))
                .collect(),
            nr_node_ids,
            node_spans: if nr_node_ids > 1 {
                node_spans(self, layouts, nr_node_ids)
            } else {
                Vec::new()
            },
            slab_caches: self.symbol("slab_caches"),
        };
        Ok(Slub::new(self, o, env))
    }
}

/// Each node's page frames, from `node_data[]` (`struct pglist_data`).
fn node_spans(k: &Kernel, layouts: crate::offsets::Layouts<'_>, n: usize) -> Vec<(u64, u64)> {
    let (Some(base), Some(start), Some(span)) = (
        k.symbol("node_data"),
        layouts.member_offset("pglist_data", "node_start_pfn"),
        layouts.member_offset("pglist_data", "node_spanned_pages"),
    ) else {
        return Vec::new();
    };
    (0..n)
        .map(|i| {
            let pgdat = k.read_u64(base + 8 * i as u64).unwrap_or(0);
            if pgdat == 0 {
                return (0, 0);
            }
            let s = k.read_u64(pgdat + start.offset()).unwrap_or(0);
            let len = k.read_u64(pgdat + span.offset()).unwrap_or(0);
            (s, s.saturating_add(len))
        })
        .collect()
}

impl<'a> Slub<'a> {
    pub(crate) fn new(mem: &'a dyn Memory, o: Offsets, env: Env) -> Slub<'a> {
        Slub {
            mem,
            o,
            env,
            swab: Cell::new(None),
            cache_list: OnceCell::new(),
        }
    }

    fn read(&self, addr: u64, len: u64) -> Result<Vec<u8>, MemError> {
        let mut buf = vec![0u8; len as usize];
        self.mem.read(addr, &mut buf)?;
        Ok(buf)
    }

    /// The slab whose `struct slab` (or `struct page`) is at `page`.
    pub fn slab(&self, page: u64) -> Result<Slab, Error> {
        let o = &self.o;
        let pfn = self.env.page_pfn(page, o.page_size).ok_or_else(|| {
            Error::corrupt(format!("{page:x} is not a struct page address"), page)
        })?;
        let buf = self.read(page, o.slab_len)?;
        let get = |f: offsets::Field| f.get(&buf).unwrap_or(0);
        Ok(Slab {
            addr: page,
            memory: self
                .env
                .page_offset
                .wrapping_add(pfn.wrapping_mul(PAGE_SIZE)),
            node: self.env.node_of(pfn),
            objects: get(o.objects),
            inuse: get(o.inuse),
            frozen: o.frozen.is_some_and(|f| get(f) != 0),
            freelist: get(o.slab_freelist),
            cache: get(o.slab_cache),
            next: o.slab_next.map_or(0, get),
        })
    }

    /// The `struct kmem_cache` at `addr`.
    pub fn cache(&self, addr: u64) -> Result<Cache, Error> {
        let o = &self.o;
        let buf = self.read(addr, o.cache_len)?;
        let get = |f: offsets::Field| f.get(&buf).unwrap_or(0);
        let name_ptr = get(o.name);
        let name = self
            .mem
            .read_cstr(name_ptr, 64)
            .unwrap_or_else(|_| "(unknown)".into());
        let oo = get(o.oo);
        let n = self.env.nr_node_ids as u64;
        let (mut nodes, mut barns) = (Vec::new(), Vec::new());
        if let Ok(ptrs) = self.read(addr + o.node, o.node_stride * n) {
            let at = |i: usize, off: u64| -> u64 {
                let s = i * o.node_stride as usize + off as usize;
                ptrs.get(s..s + 8)
                    .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            };
            for i in 0..n as usize {
                if at(i, o.node_ptr) != 0 {
                    nodes.push((i, at(i, o.node_ptr)));
                }
                if let Some(b) = o.sheaves.as_ref().and_then(|s| s.barn) {
                    if at(i, b) != 0 {
                        barns.push((i, at(i, b)));
                    }
                }
            }
        }
        let flags = get(o.flags);
        Ok(Cache {
            addr,
            name,
            object_size: get(o.object_size),
            size: get(o.size),
            offset: get(o.offset),
            // OO_SHIFT is 16 in every SLUB.
            objects: oo & 0xffff,
            order: (oo >> 16) as u32,
            flags,
            red_zone: flags & o.red_zone_flag != 0,
            store_user: flags & o.store_user_flag != 0,
            red_left_pad: o.red_left_pad.map_or(0, get),
            random: o.random.map(get),
            cpu_slab: o.cpu.as_ref().map_or(0, |c| get(c.cpu_slab)),
            cpu_sheaves: o.sheaves.as_ref().map(|s| get(s.cpu_sheaves)),
            sheaf_capacity: o.sheaves.as_ref().and_then(|s| s.capacity).map_or(0, get),
            nodes,
            barns,
        })
    }

    /// The caches on `slab_caches`, in list order, and what was wrong with
    /// the list.
    pub fn cache_addrs(&self) -> (Vec<u64>, Vec<Finding>) {
        self.cache_list
            .get_or_init(|| self.walk_cache_list())
            .clone()
    }

    /// Whether `addr` is a cache on `slab_caches`.
    pub fn is_cache(&self, addr: u64) -> bool {
        self.cache_list
            .get_or_init(|| self.walk_cache_list())
            .0
            .contains(&addr)
    }

    fn walk_cache_list(&self) -> (Vec<u64>, Vec<Finding>) {
        let Some(head) = self.env.slab_caches else {
            let f = Finding {
                cache: String::new(),
                place: Place::CacheList,
                addr: 0,
                slab: None,
                what: "no slab_caches symbol".into(),
                kind: Kind::Unreadable,
            };
            return (Vec::new(), vec![f]);
        };
        let mut findings = Vec::new();
        let links = lists::list(self.mem, head, Place::CacheList, "", &mut findings);
        (
            links.into_iter().map(|l| l - self.o.list).collect(),
            findings,
        )
    }

    /// The cache named `name` on `slab_caches`.
    pub fn cache_named(&self, name: &str) -> Option<Cache> {
        self.cache_addrs()
            .0
            .into_iter()
            .filter_map(|a| self.cache(a).ok())
            .find(|c| c.name == name)
    }
}
