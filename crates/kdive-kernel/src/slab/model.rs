//! What the SLUB walk finds: caches, slabs, each CPU's and node's view of
//! a cache, crash's counts, and the findings.

use std::fmt;

use super::sheaves::{Barn, CpuSheaves, SheafHolder};
use super::PAGE_SIZE;

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
    /// `SLAB_RED_ZONE` and `SLAB_STORE_USER` set in `flags`.
    pub red_zone: bool,
    pub store_user: bool,
    pub red_left_pad: u64,
    /// `kmem_cache.random` (`CONFIG_SLAB_FREELIST_HARDENED`).
    pub random: Option<u64>,
    /// The per-CPU offset of the cache's `struct kmem_cache_cpu` (0 on 7.x,
    /// which has none).
    pub cpu_slab: u64,
    /// With sheaves (7.x): the per-CPU offset of its `struct
    /// slub_percpu_sheaves`, and how many objects a sheaf holds (0: the
    /// cache has no sheaves).
    pub cpu_sheaves: Option<u64>,
    pub sheaf_capacity: u64,
    /// `(node id, struct kmem_cache_node *)` of the nodes that have one.
    pub nodes: Vec<(usize, u64)>,
    /// `(node id, struct node_barn *)`: each node's spare sheaves (7.x).
    pub barns: Vec<(usize, u64)>,
}

impl Cache {
    /// Bytes in a slab of the preferred order (crash's SSIZE).
    pub fn slab_bytes(&self) -> u64 {
        PAGE_SIZE.checked_shl(self.order).unwrap_or(0)
    }

    /// Bytes before each object: the left red zone, when there is one.
    pub fn left_pad(&self) -> u64 {
        if self.red_zone {
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
    /// a CPU slab what its free lists leave (less, on 7.x, what
    /// sheaves hold).
    pub allocated: u64,
    /// Objects the slab counts in use that a sheaf holds: their index and
    /// which sheaf (7.x).
    pub held: Vec<(usize, SheafHolder)>,
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
    /// The node's barn of full and empty sheaves (7.x).
    pub barn: Option<Barn>,
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
    /// Each CPU's sheaves (7.x, where `cpus` is empty).
    pub sheaves: Vec<CpuSheaves>,
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
    /// A CPU's sheaves (7.x).
    CpuSheaves(usize),
    NodePartial(usize),
    NodeFull(usize),
    Node(usize),
    /// A node's barn of sheaves.
    Barn(usize),
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
            Place::CpuSheaves(c) => write!(f, "CPU {c} sheaves"),
            Place::NodePartial(n) => write!(f, "node {n} partial list"),
            Place::NodeFull(n) => write!(f, "node {n} full list"),
            Place::Node(n) => write!(f, "node {n}"),
            Place::Barn(n) => write!(f, "node {n} barn"),
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
    /// The slab it is in (its `struct slab` / `struct page`), when the
    /// finding is about one slab.
    pub slab: Option<u64>,
    /// What is wrong and what was expected.
    pub what: String,
    pub kind: Kind,
}

impl Finding {
    /// The same finding, placed in slab `slab`.
    pub(crate) fn in_slab(self, slab: u64) -> Finding {
        Finding {
            slab: Some(slab),
            ..self
        }
    }
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
