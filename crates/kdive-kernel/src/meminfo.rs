//! The kernel's memory summary (crash's `kmem -i`, the kernel's
//! `/proc/meminfo`): total and free pages, page cache, slab, huge pages,
//! swap and committed memory, from the kernel's own counters
//! (`vm_zone_stat`, `vm_node_stat`, `_totalram_pages`...) and, for what
//! the kernel keeps no counter of, the page array.

use crate::offsets::Layouts;

use crate::slab::MAX_LIST;
use crate::{Error, Kernel};

/// The summary, in pages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemInfo {
    pub total: u64,
    pub free: u64,
    /// Pages not reserved with more than one reference (crash's SHARED).
    pub shared: u64,
    /// Block devices' page cache (`nr_blockdev_pages()`).
    pub buffers: u64,
    /// File pages less swap cache and buffers.
    pub cached: u64,
    /// `NR_SLAB_RECLAIMABLE_B + NR_SLAB_UNRECLAIMABLE_B` (older:
    /// `NR_SLAB_RECLAIMABLE + NR_SLAB_UNRECLAIMABLE`, `NR_SLAB`).
    pub slab: Option<u64>,
    /// Pages with `PG_slab` set: the first page of each slab only.
    pub slab_flagged: u64,
    /// Huge pages: (total, free), in base pages.
    pub huge: Option<(u64, u64)>,
    /// Swap: (total, used).
    pub swap: Option<(u64, u64)>,
    /// Commit limit and committed pages.
    pub commit: Option<(u64, i64)>,
}

/// x86-64's sparse memory section, in pages.
const PAGES_PER_SECTION: u64 = 1 << (27 - 12);

impl Kernel {
    /// crash's `kmem -i` numbers.
    pub fn meminfo(&self) -> Result<MemInfo, Error> {
        let layouts = self.layouts_or_err()?;
        let mut m = MemInfo::default();
        let pages = self.pages()?;
        // The page array: reserved, shared and slab pages.
        let bit = |name: &str| {
            layouts
                .enum_value("pageflags", name)
                .map(|v| 1u64 << (v & 63))
        };
        let (reserved, slab) = (bit("PG_reserved").unwrap_or(0), bit("PG_slab").unwrap_or(0));
        let mut not_reserved = 0;
        let end = pages.max_pfn.div_ceil(PAGES_PER_SECTION) * PAGES_PER_SECTION;
        pages.walk(self, 0, end, |p| {
            if p.flags & reserved == 0 {
                not_reserved += 1;
                if p.count as i32 > 1 {
                    m.shared += 1;
                }
            }
            if p.flags & slab != 0 {
                m.slab_flagged += 1;
            }
            true
        });
        m.total = ["_totalram_pages", "totalram_pages"]
            .iter()
            .find_map(|s| self.read_u64(self.symbol(s)?).ok())
            .filter(|&t| t != 0)
            .unwrap_or(not_reserved);
        let zone = |item: &str| self.vm_stat(layouts, "vm_zone_stat", "zone_stat_item", item);
        let node = |item: &str| self.vm_stat(layouts, "vm_node_stat", "node_stat_item", item);
        m.free = zone("NR_FREE_PAGES").unwrap_or(0);
        m.slab = match (
            node("NR_SLAB_RECLAIMABLE_B"),
            node("NR_SLAB_UNRECLAIMABLE_B"),
        ) {
            (Some(r), Some(u)) => Some(r + u),
            _ => match (zone("NR_SLAB_RECLAIMABLE"), zone("NR_SLAB_UNRECLAIMABLE")) {
                (Some(r), Some(u)) => Some(r + u),
                _ => zone("NR_SLAB"),
            },
        };
        if self.symbol("nr_blockdev_pages").is_some() {
            m.buffers = self.blockdev_pages(layouts);
        }
        let file = node("NR_FILE_PAGES").unwrap_or(0);
        let swapcache = node("NR_SWAPCACHE").unwrap_or(0);
        m.cached = file.saturating_sub(swapcache + m.buffers);
        if self.symbol("hstates").is_some() {
            m.huge = Some(self.huge_pages(layouts));
        }
        if self.symbol("swap_info").is_some() {
            m.swap = Some(self.swap_pages(layouts));
        }
        if self.symbol("sysctl_overcommit_memory").is_some() {
            m.commit = self.commit(layouts, &m);
        }
        Ok(m)
    }

    /// One item of a vm_stat array, by its enum constant's name; negative
    /// counts (per-CPU drift) read as 0, as the kernel reads them.
    fn vm_stat(&self, layouts: Layouts<'_>, array: &str, kind: &str, item: &str) -> Option<u64> {
        let i = layouts.enum_value(kind, item)?;
        let v = self
            .read_u64(self.symbol(array)? + 8 * u64::try_from(i).ok()?)
            .ok()? as i64;
        Some(v.max(0) as u64)
    }

    /// `nr_blockdev_pages()` of 5.9 and later: the page cache of every
    /// inode of the block device superblock.
    fn blockdev_pages(&self, layouts: Layouts<'_>) -> u64 {
        let off = |s: &str, m: &str| layouts.member_offset(s, m).map(|i| i.offset());
        let (Some(sb), Some(s_inodes), Some(sb_list), Some(mapping), Some(nrpages)) = (
            self.symbol("blockdev_superblock"),
            off("super_block", "s_inodes"),
            off("inode", "i_sb_list"),
            off("inode", "i_mapping"),
            off("address_space", "nrpages"),
        ) else {
            return 0;
        };
        let Ok(sb) = self.read_u64(sb) else { return 0 };
        let head = sb + s_inodes;
        let mut total = 0;
        let mut next = self.read_u64(head).unwrap_or(head);
        let mut n = 0;
        while next != head && n < MAX_LIST {
            let inode = next - sb_list;
            if let Ok(map) = self.read_u64(inode + mapping) {
                total += self.read_u64(map + nrpages).unwrap_or(0);
            }
            next = match self.read_u64(next) {
                Ok(v) => v,
                Err(_) => break,
            };
            n += 1;
        }
        total
    }

    /// Huge pages in base pages: (total, free), over `hstates[]`.
    fn huge_pages(&self, layouts: Layouts<'_>) -> (u64, u64) {
        let off = |m: &str| layouts.member_offset("hstate", m).map(|i| i.offset());
        let size = layouts
            .find_aggregate("hstate")
            .and_then(|id| layouts.size_of(id));
        let (Some(base), Some(size), Some(order), Some(nr), Some(free)) = (
            self.symbol("hstates"),
            size,
            off("order"),
            off("nr_huge_pages"),
            off("free_huge_pages"),
        ) else {
            return (0, 0);
        };
        let count = self
            .symbol("hugetlb_max_hstate")
            .and_then(|a| self.read_u32(a).ok())
            .unwrap_or(0)
            .min(16) as u64;
        let (mut total, mut free_total) = (0, 0);
        for i in 0..count {
            let h = base + i * size;
            let o = self.read_u32(h + order).unwrap_or(0);
            if o == 0 || o > 30 {
                continue;
            }
            total += self.read_u64(h + nr).unwrap_or(0) << o;
            free_total += self.read_u64(h + free).unwrap_or(0) << o;
        }
        (total, free_total)
    }

    /// Swap in pages: (total, used), over the `swap_info[]` in use.
    fn swap_pages(&self, layouts: Layouts<'_>) -> (u64, u64) {
        let off = |m: &str| {
            layouts
                .member_offset("swap_info_struct", m)
                .map(|i| i.offset())
        };
        let (Some(base), Some(nr), Some(flags), Some(pages), Some(inuse)) = (
            self.symbol("swap_info"),
            self.symbol("nr_swapfiles"),
            off("flags"),
            off("pages"),
            off("inuse_pages"),
        ) else {
            return (0, 0);
        };
        let n = self.read_u32(nr).unwrap_or(0).min(64) as u64;
        let (mut total, mut used) = (0, 0);
        for i in 0..n {
            let Ok(si) = self.read_u64(base + 8 * i) else {
                continue;
            };
            // SWP_USED
            if si == 0 || self.read_u64(si + flags).unwrap_or(0) & 1 == 0 {
                continue;
            }
            total += u64::from(self.read_u32(si + pages).unwrap_or(0));
            used += u64::from(self.read_u32(si + inuse).unwrap_or(0));
        }
        (total, used)
    }

    /// The commit limit (`vm_commit_limit()`) and `vm_committed_as`.
    fn commit(&self, layouts: Layouts<'_>, m: &MemInfo) -> Option<(u64, i64)> {
        let kbytes = self
            .symbol("sysctl_overcommit_kbytes")
            .and_then(|a| self.read_u64(a).ok())
            .unwrap_or(0);
        let mut allowed = if kbytes != 0 {
            kbytes >> 2
        } else {
            let ratio = u64::from(
                self.read_u32(self.symbol("sysctl_overcommit_ratio")?)
                    .ok()?,
            );
            let huge = m.huge?.0;
            m.total.saturating_sub(huge) * ratio / 100
        };
        allowed += m.swap.map_or(0, |s| s.0);
        let count = layouts.member_offset("percpu_counter", "count")?.offset();
        let committed = self
            .read_u64(self.symbol("vm_committed_as")? + count)
            .ok()? as i64;
        Some((allowed, committed.max(0)))
    }
}
