//! The `struct page` array (`vmemmap`): a page frame's page structure, its
//! flags, mapping, index and reference count, and the names of its flags
//! as the kernel spells them (`pageflag_names`, else `enum pageflags`).

use crate::{Error, Kernel, LayoutError};

/// `PAGE_SIZE` on x86-64.
const PAGE_SIZE: u64 = 4096;
/// Pages read at once when walking the array.
const CHUNK: u64 = 64;

/// One page structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageInfo {
    pub page: u64,
    pub phys: u64,
    pub flags: u64,
    pub mapping: u64,
    pub index: u64,
    /// `_refcount` (`_count` before 4.6).
    pub count: u32,
}

/// Where things are in `struct page`, and the flags' names.
#[derive(Debug, Clone)]
pub struct Pages {
    vmemmap: u64,
    vmemmap_size: u64,
    size: u64,
    flags: u64,
    mapping: u64,
    index: u64,
    count: u64,
    /// `(mask, name)` of each flag.
    names: Vec<(u64, String)>,
    /// `max_pfn`: one past the highest page frame.
    pub max_pfn: u64,
}

impl Kernel {
    /// The page array's layout, from BTF.
    pub fn pages(&self) -> Result<Pages, Error> {
        let layouts = self.layouts_or_err()?;
        let off = |m: &str| {
            layouts
                .member_offset("page", m)
                .map(|i| i.offset())
                .ok_or_else(|| LayoutError::member("page", m))
        };
        let size = layouts
            .find_aggregate("page")
            .and_then(|id| layouts.size_of(id))
            .ok_or_else(|| LayoutError::ty("page"))?;
        let layout = self.layout();
        Ok(Pages {
            vmemmap: layout.vmemmap_base,
            vmemmap_size: layout.vmemmap_size,
            size,
            flags: off("flags")?,
            mapping: off("mapping")?,
            // Renamed `__folio_index` by 7.x.
            index: off("index").or_else(|_| off("__folio_index"))?,
            count: off("_refcount").or_else(|_| off("_count"))?,
            names: flag_names(self),
            max_pfn: self
                .symbol("max_pfn")
                .and_then(|a| self.read_u64(a).ok())
                .unwrap_or(0),
        })
    }
}

/// The head page of the compound page that `page` is a tail of, from the
/// tail's `compound_head` (`compound_info` in 7.x): bit 0 marks a
/// tail, the rest is the head's address, or, with the vmemmap optimized
/// for huge pages (`CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP` and a
/// power-of-two `struct page`, 7.x), a mask of high bits that turns
/// the tail's address into its head's. `None` for a page that is no tail.
pub(crate) fn compound_head(page: u64, info: u64) -> Option<u64> {
    if info & 1 == 0 {
        return None;
    }
    let v = info - 1;
    // Ones from bit 63 down, then zeros: a mask. A head address of that
    // form is the start of the vmemmap, which the mask gives back too.
    let mask = v != 0 && v.leading_ones() + v.trailing_zeros() == 64;
    Some(if mask { page & v } else { v })
}

/// The kernel's `pageflag_names[]` (`{mask, name}` pairs ending in a NULL
/// name), else `enum pageflags` without its `PG_` prefixes.
fn flag_names(k: &Kernel) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    if let Some(base) = k.symbol("pageflag_names") {
        for i in 0..64u64 {
            let (Ok(mask), Ok(name)) = (k.read_u64(base + 16 * i), k.read_u64(base + 16 * i + 8))
            else {
                break;
            };
            if name == 0 {
                break;
            }
            match k.read_cstr(name, 32) {
                Ok(s) => out.push((mask, s)),
                Err(_) => break,
            }
        }
    }
    if out.is_empty() {
        if let Some(layouts) = k.layouts() {
            if let Some(values) = layouts.enum_values("pageflags") {
                for (name, value) in values {
                    if let (Some(n), Ok(bit)) = (name.strip_prefix("PG_"), u32::try_from(value)) {
                        if bit < 64 && !out.iter().any(|(m, _)| *m == 1 << bit) {
                            out.push((1 << bit, n.to_string()));
                        }
                    }
                }
            }
        }
    }
    out
}

impl Pages {
    /// The page structure of physical address `phys`.
    pub fn page_of_phys(&self, phys: u64) -> u64 {
        self.vmemmap + (phys / PAGE_SIZE) * self.size
    }

    /// The page structure of `addr`: a page structure's own address, a
    /// kernel virtual address (through the page tables) or a physical one.
    pub fn page_of(&self, k: &Kernel, addr: u64) -> Option<u64> {
        if self.phys_of_page(addr).is_some() {
            return Some(addr);
        }
        let phys = if addr >= k.layout().page_offset_base {
            k.vtop(addr).ok()?
        } else {
            addr
        };
        Some(self.page_of_phys(phys))
    }

    /// The physical address of page structure `page`, if it is one.
    pub fn phys_of_page(&self, page: u64) -> Option<u64> {
        let off = page.checked_sub(self.vmemmap)?;
        (off < self.vmemmap_size && off % self.size == 0).then(|| off / self.size * PAGE_SIZE)
    }

    fn parse(&self, page: u64, buf: &[u8]) -> Option<PageInfo> {
        let u64_at = |o: u64| {
            Some(u64::from_le_bytes(
                buf.get(o as usize..o as usize + 8)?.try_into().ok()?,
            ))
        };
        let count = buf.get(self.count as usize..self.count as usize + 4)?;
        Some(PageInfo {
            page,
            phys: self.phys_of_page(page)?,
            flags: u64_at(self.flags)?,
            mapping: u64_at(self.mapping)?,
            index: u64_at(self.index)?,
            count: u32::from_le_bytes(count.try_into().ok()?),
        })
    }

    /// Page structure `page`.
    pub fn read(&self, k: &Kernel, page: u64) -> Result<PageInfo, Error> {
        let mut buf = vec![0u8; self.size as usize];
        k.read(page, &mut buf)?;
        self.parse(page, &buf)
            .ok_or_else(|| Error::corrupt(format!("{page:x} is not a page structure"), page))
    }

    /// Every readable page structure from frame `first` up to `end`, in
    /// order, read [`CHUNK`] at a time; `visit` returns `false` to stop.
    pub fn walk(&self, k: &Kernel, first: u64, end: u64, mut visit: impl FnMut(&PageInfo) -> bool) {
        let mut pfn = first;
        let mut buf = vec![0u8; (self.size * CHUNK) as usize];
        while pfn < end {
            let n = CHUNK.min(end - pfn);
            let base = self.page_of_phys(pfn * PAGE_SIZE);
            let part = &mut buf[..(n * self.size) as usize];
            let whole = k.read(base, part).is_ok();
            for i in 0..n {
                let page = base + i * self.size;
                let info = if whole {
                    let s = (i * self.size) as usize;
                    self.parse(page, &part[s..s + self.size as usize])
                } else {
                    self.read(k, page).ok()
                };
                if let Some(info) = info {
                    if !visit(&info) {
                        return;
                    }
                }
            }
            pfn += n;
        }
    }

    /// crash's FLAGS column: the value in hexadecimal, then the names of
    /// the flags set.
    pub fn flags_text(&self, flags: u64) -> String {
        let mut s = format!("{flags:x}");
        if flags != 0 {
            let mut sep = ' ';
            for (mask, name) in &self.names {
                if flags & mask != 0 {
                    s.push(sep);
                    s.push_str(name);
                    sep = ',';
                }
            }
        }
        s
    }
}
