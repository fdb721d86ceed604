//! SLUB's per-CPU sheaves (7.x, where every cache has them and there is
//! no per-CPU slab; opt-in for some caches just before): arrays of free objects each CPU allocates from
//! and frees to (`struct slab_sheaf`, a `main` and a `spare` per CPU, and
//! `rcu_free` for `kfree_rcu()`), with each node's barn of full and empty
//! sheaves behind them (mm/slub.c). A slab counts an object in a sheaf as
//! in use (`slab->inuse`); for crash's ALLOCATED it is free, as an object
//! on a CPU's free list was. An object in `rcu_free` waits for a grace
//! period: still in use.
//!
//! Checked: a sheaf belongs to its cache and holds no more than the
//! cache's capacity; each object it holds is an object of a slab of that
//! cache, in no other sheaf, and not on its slab's free list (an object
//! freed twice).

use std::fmt;

use crate::offsets::Layouts;

use super::lists::list;
use super::offsets::Field;
use super::{Cache, CacheState, Finding, Kind, Place, Slub};
use crate::LayoutError;

/// At most this many objects are read from one sheaf (capacities are some
/// tens to hundreds): more is damage.
const MAX_SHEAF: u64 = 1 << 12;

/// Where the sheaves' fields are.
#[derive(Debug, Clone)]
pub(crate) struct SheafOffsets {
    /// `kmem_cache.cpu_sheaves`, `.sheaf_capacity`.
    pub cpu_sheaves: Field,
    pub capacity: Option<Field>,
    /// `struct slub_percpu_sheaves`.
    pub pcs_len: u64,
    pub main: Field,
    pub spare: Option<Field>,
    pub rcu_free: Option<Field>,
    /// `struct slab_sheaf`: its cache, size, the `objects[]` after it, its
    /// link on a barn's lists.
    pub sheaf_cache: Field,
    pub sheaf_size: Field,
    pub sheaf_objects: u64,
    pub barn_list: u64,
    /// Where a node's barn pointer is: in `kmem_cache_per_node_ptrs`
    /// (7.x), or in `kmem_cache_node` (the first kernels with sheaves).
    pub barn: Option<u64>,
    pub node_barn: Option<Field>,
    /// `struct node_barn`.
    pub barn_len: u64,
    pub barn_full: u64,
    pub nr_full: Field,
    pub nr_empty: Field,
}

impl SheafOffsets {
    /// `None` for a kernel without sheaves.
    pub fn from_layouts(layouts: Layouts<'_>) -> Result<Option<SheafOffsets>, LayoutError> {
        if layouts.member_offset("kmem_cache", "cpu_sheaves").is_none() {
            return Ok(None);
        }
        let opt = |outer: &str, path: &str| {
            layouts
                .member_offset(outer, path)
                .and_then(|m| Field::of(layouts, m))
        };
        let field = |outer: &str, path: &str| {
            opt(outer, path).ok_or_else(|| LayoutError::member(outer, path))
        };
        let size = |name: &str| {
            layouts
                .find_aggregate(name)
                .and_then(|id| layouts.size_of(id))
                .ok_or_else(|| LayoutError::ty(name))
        };
        let byte = |outer: &str, path: &str| field(outer, path).map(|f| f.byte());
        let list = |outer: &str, path: &str| {
            layouts
                .member_offset(outer, path)
                .map(|m| m.offset())
                .ok_or_else(|| LayoutError::member(outer, path))
        };
        Ok(Some(SheafOffsets {
            cpu_sheaves: field("kmem_cache", "cpu_sheaves")?,
            capacity: opt("kmem_cache", "sheaf_capacity"),
            pcs_len: size("slub_percpu_sheaves")?,
            main: field("slub_percpu_sheaves", "main")?,
            spare: opt("slub_percpu_sheaves", "spare"),
            rcu_free: opt("slub_percpu_sheaves", "rcu_free"),
            sheaf_cache: field("slab_sheaf", "cache")?,
            sheaf_size: field("slab_sheaf", "size")?,
            sheaf_objects: list("slab_sheaf", "objects")?,
            barn_list: list("slab_sheaf", "barn_list")?,
            barn: byte("kmem_cache_per_node_ptrs", "barn").ok(),
            node_barn: opt("kmem_cache_node", "barn"),
            barn_len: size("node_barn")?,
            barn_full: list("node_barn", "sheaves_full")?,
            nr_full: field("node_barn", "nr_full")?,
            nr_empty: field("node_barn", "nr_empty")?,
        }))
    }
}

/// One sheaf and the objects it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheaf {
    pub addr: u64,
    pub objects: Vec<u64>,
    /// The dump lacks it (a finding says why): its objects are unknown.
    pub unreadable: bool,
}

impl Sheaf {
    fn unreadable(addr: u64) -> Sheaf {
        Sheaf {
            addr,
            objects: Vec::new(),
            unreadable: true,
        }
    }
}

/// A CPU's sheaves (`struct slub_percpu_sheaves`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuSheaves {
    pub cpu: usize,
    pub addr: u64,
    pub main: Option<Sheaf>,
    pub spare: Option<Sheaf>,
    pub rcu_free: Option<Sheaf>,
}

/// A node's barn (`struct node_barn`): its full sheaves, and how many
/// empty ones it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barn {
    pub addr: u64,
    pub nr_full: u64,
    pub nr_empty: u64,
    pub full: Vec<Sheaf>,
}

/// Which sheaf holds an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheafHolder {
    Main(usize),
    Spare(usize),
    RcuFree(usize),
    Barn(usize),
}

impl SheafHolder {
    /// Free for crash's counts: every sheaf but `rcu_free`.
    pub fn is_free(self) -> bool {
        !matches!(self, SheafHolder::RcuFree(_))
    }

    pub(crate) fn place(self) -> Place {
        match self {
            SheafHolder::Main(c) | SheafHolder::Spare(c) | SheafHolder::RcuFree(c) => {
                Place::CpuSheaves(c)
            }
            SheafHolder::Barn(n) => Place::Barn(n),
        }
    }
}

impl fmt::Display for SheafHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SheafHolder::Main(c) => write!(f, "cpu {c} sheaf"),
            SheafHolder::Spare(c) => write!(f, "cpu {c} spare sheaf"),
            SheafHolder::RcuFree(c) => write!(f, "cpu {c} rcu_free sheaf"),
            SheafHolder::Barn(n) => write!(f, "node {n} barn"),
        }
    }
}

impl CacheState {
    /// Every object a sheaf holds, with its sheaf.
    pub fn sheaf_objects(&self) -> Vec<(u64, SheafHolder)> {
        let mut out = Vec::new();
        let mut add = |s: &Option<Sheaf>, h: SheafHolder| {
            for &o in s.iter().flat_map(|s| &s.objects) {
                out.push((o, h));
            }
        };
        for c in &self.sheaves {
            add(&c.main, SheafHolder::Main(c.cpu));
            add(&c.spare, SheafHolder::Spare(c.cpu));
            add(&c.rcu_free, SheafHolder::RcuFree(c.cpu));
        }
        for n in &self.nodes {
            for s in n.barn.iter().flat_map(|b| &b.full) {
                out.extend(s.objects.iter().map(|&o| (o, SheafHolder::Barn(n.node))));
            }
        }
        out
    }
}

impl Slub<'_> {
    /// The sheaf at `addr` (`None` for NULL, or one that is not read).
    fn sheaf(&self, c: &Cache, addr: u64, place: Place, f: &mut Vec<Finding>) -> Option<Sheaf> {
        let s = self.o.sheaves.as_ref()?;
        if addr == 0 {
            return None;
        }
        let head = match self.read(addr, s.sheaf_objects) {
            Ok(b) => b,
            Err(e) => {
                let what = format!("sheaf {addr:x} unreadable: {e}");
                f.push(self.finding_of(c, place, addr, what, Kind::Unreadable));
                return Some(Sheaf::unreadable(addr));
            }
        };
        let cache = s.sheaf_cache.get(&head).unwrap_or(0);
        let size = s.sheaf_size.get(&head).unwrap_or(0);
        // Caches without sheaves point at the static, empty bootstrap sheaf.
        if size == 0 && cache == 0 {
            return Some(Sheaf {
                addr,
                objects: Vec::new(),
                unreadable: false,
            });
        }
        if cache != c.addr {
            let what = format!(
                "sheaf {addr:x} belongs to cache {cache:x}, not {:x}",
                c.addr
            );
            f.push(self.finding_of(c, place, addr, what, Kind::Corrupt));
            return None;
        }
        let mut n = size;
        if size > c.sheaf_capacity || size > MAX_SHEAF {
            let what = format!(
                "sheaf {addr:x} holds {size} objects, its cache's capacity is {}",
                c.sheaf_capacity
            );
            f.push(self.finding_of(c, place, addr, what, Kind::Corrupt));
            n = c.sheaf_capacity.min(MAX_SHEAF);
        }
        let at = addr + s.sheaf_objects;
        match self.read(at, 8 * n) {
            Ok(b) => Some(Sheaf {
                addr,
                objects: b
                    .chunks_exact(8)
                    .map(|w| u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
                    .collect(),
                unreadable: false,
            }),
            Err(e) => {
                let what = format!("sheaf {addr:x}: its objects are unreadable: {e}");
                f.push(self.finding_of(c, place, at, what, Kind::Unreadable));
                Some(Sheaf::unreadable(addr))
            }
        }
    }

    /// Each CPU's sheaves of cache `c`.
    pub(crate) fn cpu_sheaves(&self, c: &Cache, f: &mut Vec<Finding>) -> Vec<CpuSheaves> {
        let (Some(s), Some(pcs)) = (self.o.sheaves.as_ref(), c.cpu_sheaves) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (cpu, off) in self.env.cpu_offsets.iter().enumerate() {
            let Some(off) = *off else { continue };
            let addr = pcs.wrapping_add(off);
            let place = Place::CpuSheaves(cpu);
            let buf = match self.read(addr, s.pcs_len) {
                Ok(b) => b,
                Err(e) => {
                    let what = format!("slub_percpu_sheaves {addr:x} unreadable: {e}");
                    f.push(self.finding_of(c, place, addr, what, Kind::Unreadable));
                    continue;
                }
            };
            let mut at = |fl: Option<Field>| {
                let p = fl.and_then(|x| x.get(&buf)).unwrap_or(0);
                self.sheaf(c, p, place, f)
            };
            out.push(CpuSheaves {
                cpu,
                addr,
                main: at(Some(s.main)),
                spare: at(s.spare),
                rcu_free: at(s.rcu_free),
            });
        }
        out
    }

    /// Node `node`'s barn: its full sheaves walked, its empty ones counted.
    pub(crate) fn barn(
        &self,
        c: &Cache,
        node: usize,
        node_buf: Option<&[u8]>,
        f: &mut Vec<Finding>,
    ) -> Option<Barn> {
        let s = self.o.sheaves.as_ref()?;
        let addr = match c.barns.iter().find(|(n, _)| *n == node) {
            Some(&(_, b)) => b,
            None => s.node_barn.and_then(|fl| fl.get(node_buf?))?,
        };
        if addr == 0 {
            return None;
        }
        let place = Place::Barn(node);
        let buf = match self.read(addr, s.barn_len) {
            Ok(b) => b,
            Err(e) => {
                let what = format!("node_barn {addr:x} unreadable: {e}");
                f.push(self.finding_of(c, place, addr, what, Kind::Unreadable));
                return None;
            }
        };
        let mut barn = Barn {
            addr,
            nr_full: s.nr_full.get(&buf).unwrap_or(0),
            nr_empty: s.nr_empty.get(&buf).unwrap_or(0),
            full: Vec::new(),
        };
        for link in list(self.mem, addr + s.barn_full, place, &c.name, f) {
            if let Some(sheaf) = self.sheaf(c, link.wrapping_sub(s.barn_list), place, f) {
                barn.full.push(sheaf);
            }
        }
        Some(barn)
    }
}
