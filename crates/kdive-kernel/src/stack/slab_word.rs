//! Which slab cache an address is in, for `bt -F`'s `[kmalloc-192]`: the
//! address's `struct page` (its compound head), `PG_slab` set (by 6.12,
//! `page_type` says slab), then the slab's `slab_cache` and that cache's
//! name.

use kdive_arch::Region;

use crate::Kernel;

impl Kernel {
    /// The name of the slab cache whose memory holds `addr` (a direct-map
    /// address), or `None`.
    pub fn slab_cache_name(&self, addr: u64) -> Option<String> {
        if self.region(addr) != Region::Direct {
            return None;
        }
        let layouts = self.layouts()?;
        let layout = self.layout();
        let page_size = layouts
            .find_aggregate("page")
            .and_then(|id| layouts.size_of(id))?;
        let pfn = (addr - layout.page_offset_base) >> 12;
        let mut page = layout
            .vmemmap_base
            .checked_add(pfn.checked_mul(page_size)?)?;
        let head = layouts
            .member_offset("page", "compound_head")
            .or_else(|| layouts.member_offset("page", "compound_info"));
        if let Some(ch) = head {
            let info = self.read_u64(page.wrapping_add(ch.offset())).ok()?;
            if let Some(head) = crate::pages::compound_head(page, info) {
                page = head;
            }
        }
        if let Some(pg_slab) = layouts.enum_value("pageflags", "PG_slab") {
            let flags = self
                .read_u64(page.wrapping_add(layouts.member_offset("page", "flags")?.offset()))
                .ok()?;
            if !(0..64).contains(&pg_slab) || flags & (1 << pg_slab) == 0 {
                return None;
            }
        } else {
            // The type in the top byte of `page_type`.
            let at = layouts.member_offset("page", "page_type")?.offset();
            let pgty = layouts.enum_value("pagetype", "PGTY_slab")?;
            if i64::from(self.read_u32(page.wrapping_add(at)).ok()? >> 24) != pgty {
                return None;
            }
        }
        let cache_off = layouts
            .member_offset("slab", "slab_cache")
            .or_else(|| layouts.member_offset("page", "slab_cache"))?
            .offset();
        let cache = self
            .read_u64(page.wrapping_add(cache_off))
            .ok()
            .filter(|&c| c != 0)?;
        let name = self
            .read_u64(cache.wrapping_add(layouts.member_offset("kmem_cache", "name")?.offset()))
            .ok()?;
        self.read_cstr(name, 64).ok().filter(|n| !n.is_empty())
    }
}
