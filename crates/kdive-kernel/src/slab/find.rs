//! From an address to its slab, cache and object (crash's `kmem ADDR`
//! and `kmem -s ADDR`).

use super::{Cache, Slab, Slub};

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
        match self.mem.read_u64(page + f.byte()) {
            Ok(h) if h & 1 == 1 && self.is_page(h - 1) => h - 1,
            _ => page,
        }
    }

    /// Whether `page.flags` has `PG_slab` (true when the bit is unknown).
    fn is_slab_page(&self, page: u64) -> bool {
        let Some(bit) = self.o.pg_slab else {
            return true;
        };
        self.mem
            .read_u64(page + self.o.page_flags.byte())
            .is_ok_and(|f| f & (1 << bit) != 0)
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
