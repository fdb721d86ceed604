//! The SLUB allocator as the dump holds it: the caches on `slab_caches`,
//! each cache's per-CPU slabs and partial lists, its per-node partial (and,
//! when tracked, full) lists, and every free list inside them.
//!
//! Corrupt metadata is reported, never followed: a free pointer outside
//! its slab or between two objects, a free list that loops, a list whose
//! `next->prev` does not point back, a slab pointer that is not a page, or
//! memory the dump lacks each become a [`Finding`] naming the address, the
//! cache, the CPU or node and what was expected, and the walk goes on with
//! the rest. Every loop is bounded.
//!
//! Offsets come from the kernel's BTF ([`Kernel::btf`]) once per walk
//! ([`Kernel::slub`]), the layout chosen by what exists: `struct slab`
//! (5.17 and later) or `struct page`, `slab_list` or `lru`,
//! `kmem_cache_cpu.slab` or `.page`.

mod find;
mod freelist;
mod offsets;
#[cfg(test)]
mod tests;
mod walk;

use std::cell::{Cell, OnceCell};
use std::fmt;

use crate::modules::Memory;
use crate::Kernel;
use offsets::Offsets;

pub use find::ObjectHit;
pub(crate) use walk::list as list_entries;

/// `SLAB_RED_ZONE`: objects have a red zone, and with it a left pad.
pub const SLAB_RED_ZONE: u64 = 0x0000_0400;
/// `SLAB_STORE_USER`: SLUB debugging keeps full slabs on `node->full`.
pub const SLAB_STORE_USER: u64 = 0x0001_0000;
/// `PAGE_SIZE` on x86-64.
pub const PAGE_SIZE: u64 = 4096;
/// At most this many slabs are taken from one list, and this many caches
/// from `slab_caches`: a damaged list cannot run the walk forever.
pub const MAX_LIST: usize = 1 << 20;

/// One `struct kmem_cache`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    pub addr: u64,
    pub name: String,
    pub object_size: u64,
    /// The stride of objects in a slab (`kmem_cache.size`).
    pub size: u64,
    /// Where in an object its free pointer is kept.
    pub offset: u64,
    /// Objects in a slab of the cache's preferred order (`oo`).
    pub objects: u64,
    pub order: u32,
    pub flags: u64,
    pub red_left_pad: u64,
    /// `kmem_cache.random` (`CONFIG_SLAB_FREELIST_HARDENED`).
    pub random: Option<u64>,
    /// The per-CPU offset of the cache's `struct kmem_cache_cpu`.
    pub cpu_slab: u64,
    /// `(node id, struct kmem_cache_node *)` of the nodes that have one.
    pub nodes: Vec<(usize, u64)>,
}

impl Cache {
    /// Bytes in a slab of the preferred order (crash's SSIZE).
    pub fn slab_bytes(&self) -> u64 {
        PAGE_SIZE.checked_shl(self.order).unwrap_or(0)
    }

    /// Bytes before each object: the left red zone, when there is one.
    pub fn left_pad(&self) -> u64 {
        if self.flags & SLAB_RED_ZONE != 0 {
            self.red_left_pad
        } else {
            0
        }
    }
}

/// One slab: its `struct slab` (or `struct page`) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slab {
    /// The `struct slab` / `struct page` address.
    pub addr: u64,
    /// Where its memory is (direct map).
    pub memory: u64,
    pub node: Option<usize>,
    pub objects: u64,
    pub inuse: u64,
    pub frozen: bool,
    /// The slab's own free list (raw pointer: only the links are scrambled).
    pub freelist: u64,
    /// `slab_cache`: the cache the slab says it belongs to.
    pub cache: u64,
    /// The next slab on a per-CPU partial list.
    pub next: u64,
}

/// A slab with each of its objects found free or allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlabObjects {
    pub slab: Slab,
    /// Set for a CPU's current slab: its per-CPU free list counts too.
    pub cpu: Option<usize>,
    /// Per object: on a free list.
    pub free: Vec<bool>,
    /// Objects found on the slab's own free list.
    pub own_free: u64,
    /// Objects found on the CPU's free list (a CPU slab).
    pub cpu_free: u64,
    /// crash's ALLOCATED column for this slab: the slab's `inuse`, or for
    /// a CPU slab what its free lists leave.
    pub allocated: u64,
}

impl SlabObjects {
    /// Every object's address, and whether it is free.
    pub fn objects<'a>(&'a self, cache: &'a Cache) -> impl Iterator<Item = (u64, bool)> + 'a {
        let start = self.slab.memory.wrapping_add(cache.left_pad());
        self.free
            .iter()
            .enumerate()
            .map(move |(i, &f)| (start.wrapping_add(i as u64 * cache.size), f))
    }
}

/// A CPU's view of a cache (`struct kmem_cache_cpu`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuState {
    pub cpu: usize,
    pub kmem_cache_cpu: u64,
    pub freelist: u64,
    pub slab: Option<SlabObjects>,
    pub partial: Vec<SlabObjects>,
}

/// A node's lists of a cache (`struct kmem_cache_node`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeState {
    pub node: usize,
    pub addr: u64,
    pub nr_partial: u64,
    pub nr_slabs: Option<u64>,
    pub total_objects: Option<u64>,
    /// CPU slabs on this node.
    pub per_cpu: u64,
    pub partial: Vec<SlabObjects>,
    /// `None` when full slabs are not tracked (no `SLAB_STORE_USER`).
    pub full: Option<Vec<SlabObjects>>,
}

/// crash's columns for a cache: ALLOCATED, TOTAL, SLABS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub allocated: u64,
    pub total: u64,
    pub slabs: u64,
}

/// Everything known about one cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheState {
    pub cpus: Vec<CpuState>,
    pub nodes: Vec<NodeState>,
    pub usage: Usage,
    pub findings: Vec<Finding>,
}

/// Where a finding was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The `slab_caches` list.
    CacheList,
    /// The `struct kmem_cache` itself.
    Cache,
    /// A CPU's slab and free list.
    Cpu(usize),
    CpuPartial(usize),
    NodePartial(usize),
    NodeFull(usize),
    Node(usize),
    /// A slab found from an address.
    Slab(u64),
    /// Another list of the kernel's, named by the finding's `cache`.
    List,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::CacheList => write!(f, "slab_caches"),
            Place::Cache => write!(f, "kmem_cache"),
            Place::Cpu(c) => write!(f, "CPU {c}"),
            Place::CpuPartial(c) => write!(f, "CPU {c} partial list"),
            Place::NodePartial(n) => write!(f, "node {n} partial list"),
            Place::NodeFull(n) => write!(f, "node {n} full list"),
            Place::Node(n) => write!(f, "node {n}"),
            Place::Slab(s) => write!(f, "slab {s:x}"),
            Place::List => write!(f, "list"),
        }
    }
}

/// Something wrong in the allocator's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The cache's name (empty for the cache list).
    pub cache: String,
    pub place: Place,
    /// The bad pointer, or the structure that could not be read.
    pub addr: u64,
    /// What is wrong and what was expected.
    pub what: String,
    pub kind: Kind,
}

/// Whether a finding is damage, or memory the dump does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The metadata is wrong: a bad pointer, a loop, a broken link.
    Corrupt,
    /// The metadata could not be read (a page the dump left out).
    Unreadable,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.cache.is_empty() {
            write!(f, "{}: ", self.cache)?;
        }
        write!(f, "{}: {}", self.place, self.what)
    }
}

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
    pub fn slub(&self) -> Result<Slub<'_>, String> {
        let btf = self
            .btf_result()
            .map_err(|e| format!("no kernel BTF: {e}"))?;
        let o = Offsets::from_btf(btf)?;
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
                node_spans(self, btf, nr_node_ids)
            } else {
                Vec::new()
            },
            slab_caches: self.symbol("slab_caches"),
        };
        Ok(Slub::new(self, o, env))
    }
}

/// Each node's page frames, from `node_data[]` (`struct pglist_data`).
fn node_spans(k: &Kernel, btf: &kdive_debuginfo::btf::Btf, n: usize) -> Vec<(u64, u64)> {
    let (Some(base), Some(start), Some(span)) = (
        k.symbol("node_data"),
        btf.member_offset("pglist_data", "node_start_pfn"),
        btf.member_offset("pglist_data", "node_spanned_pages"),
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

    fn read(&self, addr: u64, len: u64) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; len as usize];
        self.mem.read(addr, &mut buf)?;
        Ok(buf)
    }

    /// The slab whose `struct slab` (or `struct page`) is at `page`.
    pub fn slab(&self, page: u64) -> Result<Slab, String> {
        let o = &self.o;
        let pfn = self
            .env
            .page_pfn(page, o.page_size)
            .ok_or_else(|| format!("{page:x} is not a struct page address"))?;
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
    pub fn cache(&self, addr: u64) -> Result<Cache, String> {
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
        let mut nodes = Vec::new();
        if let Ok(ptrs) = self.read(addr + o.node, 8 * n) {
            for (i, p) in ptrs.chunks_exact(8).enumerate() {
                let p = u64::from_le_bytes(p.try_into().unwrap_or([0; 8]));
                if p != 0 {
                    nodes.push((i, p));
                }
            }
        }
        Ok(Cache {
            addr,
            name,
            object_size: get(o.object_size),
            size: get(o.size),
            offset: get(o.offset),
            // OO_SHIFT is 16 in every SLUB.
            objects: oo & 0xffff,
            order: (oo >> 16) as u32,
            flags: get(o.flags),
            red_left_pad: o.red_left_pad.map_or(0, get),
            random: o.random.map(get),
            cpu_slab: get(o.cpu_slab),
            nodes,
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
                what: "no slab_caches symbol".into(),
                kind: Kind::Unreadable,
            };
            return (Vec::new(), vec![f]);
        };
        let mut findings = Vec::new();
        let links = walk::list(self.mem, head, Place::CacheList, "", &mut findings);
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
