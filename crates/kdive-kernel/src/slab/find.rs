//! From an address to its slab, cache and object (crash's `kmem ADDR`
//! and `kmem -s ADDR`).

use super::{Cache, CacheState, Place, Slab, SlabObjects, Slub};
use crate::pages::compound_head;

/// A slab address, or an address inside a slab's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHit {
    pub cache: Cache,
    pub slab: Slab,
    /// The `struct page` of the address (a tail page of a compound slab,
    /// or the slab's own).
    pub page: u64,
    /// The object the address is in: its start and index. `None` for a
    /// `struct slab` address, or an address past the last object.
    pub object: Option<(u64, usize)>,
}

impl Slub<'_> {
    /// The `struct page` of direct-map address `vaddr`.
    pub fn virt_to_page(&self, vaddr: u64) -> Option<u64> {
        self.env.virt_to_page(vaddr, self.o.page_size)
    }

    /// Whether `addr` is a `struct page` address.
    pub fn is_page(&self, addr: u64) -> bool {
        self.env.page_pfn(addr, self.o.page_size).is_some()
    }

    /// The physical address a `struct page` stands for.
    pub fn page_to_phys(&self, page: u64) -> Option<u64> {
        Some(self.env.page_pfn(page, self.o.page_size)? * super::PAGE_SIZE)
    }

    /// The head of the compound page `page` belongs to (itself if none).
    fn compound_head(&self, page: u64) -> u64 {
        let Some(f) = self.o.compound_head else {
            return page;
        };
        match self
            .mem
            .read_u64(page + f.byte())
            .map(|i| compound_head(page, i))
        {
            Ok(Some(h)) if self.is_page(h) => h,
            _ => page,
        }
    }

    /// Whether `page.flags` has `PG_slab`, or (by 6.12) its `page_type`
    /// says slab (true when neither is known).
    fn is_slab_page(&self, page: u64) -> bool {
        if let Some(bit) = self.o.pg_slab {
            return self
                .mem
                .read_u64(page + self.o.page_flags.byte())
                .is_ok_and(|f| f & (1 << bit) != 0);
        }
        let Some((f, slab)) = self.o.page_type else {
            return true;
        };
        // The type is the top byte of the 32-bit `page_type`.
        let mut b = [0u8; 4];
        f.bits == 32
            && self.mem.read(page + f.byte(), &mut b).is_ok()
            && u64::from(u32::from_le_bytes(b) >> 24) == slab
    }

    /// The cache, slab and object of `addr`: a `struct slab` address, or
    /// a direct-map address inside a slab of a cache on `slab_caches`.
    pub fn find(&self, addr: u64) -> Option<ObjectHit> {
        let (page, is_struct) = if self.is_page(addr) {
            (addr, true)
        } else {
            (self.virt_to_page(addr)?, false)
        };
        let head = self.compound_head(page);
        if !self.is_slab_page(head) {
            return None;
        }
        let slab = self.slab(head).ok()?;
        if !self.is_cache(slab.cache) {
            return None;
        }
        let cache = self.cache(slab.cache).ok()?;
        let object = (!is_struct)
            .then(|| self.index_in(&cache, &slab, addr))
            .flatten()
            .map(|i| (slab.memory + cache.left_pad() + i as u64 * cache.size, i));
        Some(ObjectHit {
            cache,
            slab,
            page,
            object,
        })
    }
}

/// An address in a slab with what `kmem ADDR` tells of it: the hit, the
/// cache's walk (its counts and findings), and the slab's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlabAddress {
    pub hit: ObjectHit,
    pub state: CacheState,
    pub objects: SlabObjects,
}

impl SlabAddress {
    /// Whether the object the address is in is free (on a free list, or
    /// held by a sheaf); `None` when the address is in no object.
    pub fn free(&self) -> Option<bool> {
        let (_, i) = self.hit.object?;
        self.objects.free.get(i).copied()
    }
}

impl Slub<'_> {
    /// [`Slub::find`], with the cache walked and the slab's objects read.
    pub fn address(&self, addr: u64) -> Option<SlabAddress> {
        let hit = self.find(addr)?;
        let mut state = self.state(&hit.cache);
        let objects = self.objects_in(&hit.cache, &mut state, &hit.slab);
        Some(SlabAddress {
            hit,
            state,
            objects,
        })
    }

    /// The objects of `slab` as `kmem ADDR` shows them: a CPU's slab as
    /// the walk of `st` found it (its free list counts), else walked now,
    /// with the objects that sheaves hold marked.
    pub fn objects_in(&self, c: &Cache, st: &mut CacheState, slab: &Slab) -> SlabObjects {
        let cpu_slab = st
            .cpus
            .iter()
            .find_map(|cpu| cpu.slab.as_ref().filter(|s| s.slab.addr == slab.addr));
        if let Some(so) = cpu_slab {
            return so.clone();
        }
        let place = Place::Slab(slab.addr);
        let mut so = self.objects_of(c, slab.clone(), None, place, &mut st.findings);
        for (obj, holder) in st.sheaf_objects() {
            // Objects of other slabs do not fit; what is wrong with one
            // of this slab the walk of `st` has reported.
            let _ = self.hold(c, &mut so, obj, holder);
        }
        so
    }
}
