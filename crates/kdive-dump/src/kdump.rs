//! makedumpfile's kdump-compressed format ("diskdump").
//!
//! Layout, in blocks of `block_size` (the page size):
//! block 0 `disk_dump_header`; then `sub_hdr_size` blocks of
//! `kdump_sub_header`; then `bitmap_blocks` blocks of two bitmaps of equal
//! size (the first: pages that are RAM; the second: pages that were dumped);
//! then one 24-byte `page_desc` per dumped page in PFN order; then the page
//! data the descriptors point at. VMCOREINFO and the ELF notes sit where
//! the sub-header says.

use crate::error::{OpenError, ReadError};
use crate::source::{cstr, i32_at, i64_at, u32_at, u64_at, Source};

pub(crate) const SIGNATURE: &[u8] = b"KDUMP   ";
const DISKDUMP_SIGNATURE: &[u8] = b"DISKDUMP";

/// Compression flags, in the header's `status` and in each `page_desc`.
pub const DUMP_DH_COMPRESSED_ZLIB: u32 = 0x1;
pub const DUMP_DH_COMPRESSED_LZO: u32 = 0x2;
pub const DUMP_DH_COMPRESSED_SNAPPY: u32 = 0x4;
pub const DUMP_DH_COMPRESSED_INCOMPLETE: u32 = 0x8;
pub const DUMP_DH_EXCLUDED_VMEMMAP: u32 = 0x10;
pub const DUMP_DH_COMPRESSED_ZSTD: u32 = 0x20;

/// Offsets in `disk_dump_header` (x86-64 layout).
pub(crate) mod dh {
    pub const VERSION: usize = 8;
    pub const UTSNAME: usize = 12;
    pub const UTS_FIELD: usize = 65;
    pub const TIMESTAMP: usize = 408;
    pub const STATUS: usize = 424;
    pub const BLOCK_SIZE: usize = 428;
    pub const SUB_HDR_SIZE: usize = 432;
    pub const BITMAP_BLOCKS: usize = 436;
    pub const MAX_MAPNR: usize = 440;
    pub const TOTAL_RAM_BLOCKS: usize = 444;
    pub const DEVICE_BLOCKS: usize = 448;
    pub const WRITTEN_BLOCKS: usize = 452;
    pub const CURRENT_CPU: usize = 456;
    pub const NR_CPUS: usize = 460;
    pub const SIZE: usize = 464;
}

/// Offsets in `kdump_sub_header`.
pub(crate) mod sh {
    pub const PHYS_BASE: usize = 0;
    pub const DUMP_LEVEL: usize = 8;
    pub const SPLIT: usize = 12;
    pub const START_PFN: usize = 16;
    pub const END_PFN: usize = 24;
    pub const OFFSET_VMCOREINFO: usize = 32;
    pub const SIZE_VMCOREINFO: usize = 40;
    pub const OFFSET_NOTE: usize = 48;
    pub const SIZE_NOTE: usize = 56;
    pub const OFFSET_ERASEINFO: usize = 64;
    pub const SIZE_ERASEINFO: usize = 72;
    pub const START_PFN_64: usize = 80;
    pub const END_PFN_64: usize = 88;
    pub const MAX_MAPNR_64: usize = 96;
    pub const SIZE: usize = 104;
}

pub(crate) const PAGE_DESC_SIZE: u64 = 24;
/// PFNs covered by one entry of the rank index.
const RANK_STRIDE: u64 = 4096;
/// Sizes past these are damage, not a dump.
const MAX_BLOCK_SIZE: i32 = 1 << 20;
const MAX_NOTES: u64 = 64 << 20;

/// The `utsname` copied into the header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utsname {
    pub sysname: String,
    pub nodename: String,
    pub release: String,
    pub version: String,
    pub machine: String,
    pub domainname: String,
}

/// The parsed headers and bitmap index of a kdump-compressed file.
pub(crate) struct KdumpDump {
    pub(crate) header_version: i32,
    pub(crate) utsname: Utsname,
    pub(crate) timestamp: (i64, i64),
    pub(crate) status: u32,
    pub(crate) block_size: u64,
    pub(crate) nr_cpus: i32,
    pub(crate) phys_base: u64,
    pub(crate) dump_level: Option<i32>,
    /// PFNs `start_pfn..end_pfn` are the ones this file holds (all of them
    /// unless the dump was split over several files).
    pub(crate) start_pfn: u64,
    pub(crate) end_pfn: u64,
    pub(crate) max_mapnr: u64,
    pub(crate) vmcoreinfo: Option<Vec<u8>>,
    pub(crate) notes: Vec<u8>,
    bitmap1: u64,
    bitmap2: u64,
    bitmap_len: u64,
    desc_start: u64,
    /// `rank[i]` = dumped pages with PFN < i * RANK_STRIDE.
    rank: Vec<u64>,
    /// Dumped pages below `start_pfn`: a split file's descriptors start
    /// with its own first page.
    rank_base: u64,
}

/// Where a page is in a kdump file.
pub(crate) enum KdumpPage {
    Desc { index: u64 },
    Excluded,
    NotRam,
    Beyond,
}

/// A page descriptor.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageDesc {
    pub(crate) offset: u64,
    pub(crate) size: u32,
    pub(crate) flags: u32,
}

impl KdumpDump {
    pub(crate) fn is_kdump(head: &[u8]) -> bool {
        head.starts_with(SIGNATURE) || head.starts_with(DISKDUMP_SIGNATURE)
    }

    pub(crate) fn parse(src: &Source) -> Result<KdumpDump, OpenError> {
        let h = src.need("kdump header", 0, dh::SIZE)?;
        if h.starts_with(DISKDUMP_SIGNATURE) {
            return Err(OpenError::Unsupported(
                "the old diskdump format (signature DISKDUMP)".into(),
            ));
        }
        let bad = |offset: usize, why: String| OpenError::BadHeader {
            what: "kdump header",
            offset: offset as u64,
            why,
        };
        let header_version = i32_at(&h, dh::VERSION);
        let block_size = i32_at(&h, dh::BLOCK_SIZE);
        if !(512..=MAX_BLOCK_SIZE).contains(&block_size) || !(block_size as u32).is_power_of_two() {
            return Err(bad(dh::BLOCK_SIZE, format!("block size {block_size}")));
        }
        let bs = block_size as u64;
        let sub_hdr_size = i32_at(&h, dh::SUB_HDR_SIZE);
        if sub_hdr_size < 0 {
            return Err(bad(
                dh::SUB_HDR_SIZE,
                format!("sub-header size {sub_hdr_size}"),
            ));
        }
        let bitmap_blocks = u32_at(&h, dh::BITMAP_BLOCKS) as u64;
        let uts = |i: usize| {
            let at = dh::UTSNAME + i * dh::UTS_FIELD;
            cstr(&h[at..at + dh::UTS_FIELD])
        };
        let utsname = Utsname {
            sysname: uts(0),
            nodename: uts(1),
            release: uts(2),
            version: uts(3),
            machine: uts(4),
            domainname: uts(5),
        };
        let mut d = KdumpDump {
            header_version,
            utsname,
            timestamp: (i64_at(&h, dh::TIMESTAMP), i64_at(&h, dh::TIMESTAMP + 8)),
            status: u32_at(&h, dh::STATUS),
            block_size: bs,
            nr_cpus: i32_at(&h, dh::NR_CPUS),
            phys_base: 0,
            dump_level: None,
            start_pfn: 0,
            end_pfn: u32_at(&h, dh::MAX_MAPNR) as u64,
            max_mapnr: u32_at(&h, dh::MAX_MAPNR) as u64,
            vmcoreinfo: None,
            notes: Vec::new(),
            bitmap1: 0,
            bitmap2: 0,
            bitmap_len: 0,
            desc_start: 0,
            rank: Vec::new(),
            rank_base: 0,
        };
        drop(h);
        if sub_hdr_size > 0 {
            d.parse_sub_header(src)?;
        }
        // Bitmaps: two halves of bitmap_blocks blocks.
        let bitmap_start = (1 + sub_hdr_size as u64) * bs;
        let total = bitmap_blocks
            .checked_mul(bs)
            .filter(|&t| t <= src.len())
            .ok_or(OpenError::Truncated {
                what: "bitmaps",
                offset: bitmap_start,
                len: bitmap_blocks.saturating_mul(bs),
                file_len: src.len(),
            })?;
        d.bitmap_len = total / 2;
        d.bitmap1 = bitmap_start;
        d.bitmap2 = bitmap_start + d.bitmap_len;
        d.desc_start = bitmap_start + total;
        src.need("bitmaps", bitmap_start, total as usize)?;
        // The bitmap cannot describe more pages than it has bits.
        let bits = d.bitmap_len * 8;
        if d.max_mapnr > bits {
            d.max_mapnr = bits;
        }
        d.end_pfn = d.end_pfn.min(d.max_mapnr);
        if d.end_pfn == 0 || d.start_pfn >= d.end_pfn {
            d.start_pfn = 0;
            d.end_pfn = d.max_mapnr;
        }
        d.build_rank(src);
        d.rank_base = if d.start_pfn > 0 {
            d.rank_of(src, d.start_pfn)
        } else {
            0
        };
        Ok(d)
    }

    fn parse_sub_header(&mut self, src: &Source) -> Result<(), OpenError> {
        let base = self.block_size;
        let s = src.need("kdump sub-header", base, sh::SIZE)?;
        let v = self.header_version;
        self.phys_base = u64_at(&s, sh::PHYS_BASE);
        if v >= 1 {
            self.dump_level = Some(i32_at(&s, sh::DUMP_LEVEL));
        }
        let split = v >= 2 && i32_at(&s, sh::SPLIT) != 0;
        if split {
            self.start_pfn = u64_at(&s, sh::START_PFN);
            self.end_pfn = u64_at(&s, sh::END_PFN);
        }
        if v >= 6 {
            self.max_mapnr = u64_at(&s, sh::MAX_MAPNR_64);
            if split {
                self.start_pfn = u64_at(&s, sh::START_PFN_64);
                self.end_pfn = u64_at(&s, sh::END_PFN_64);
            } else {
                self.end_pfn = self.max_mapnr;
            }
        }
        let region =
            |off: usize, size: usize, what: &'static str| -> Result<Option<Vec<u8>>, OpenError> {
                let (o, n) = (i64_at(&s, off), u64_at(&s, size));
                if o <= 0 || n == 0 {
                    return Ok(None);
                }
                if n > MAX_NOTES {
                    return Err(OpenError::BadHeader {
                        what,
                        offset: base + size as u64,
                        why: format!("size {n:#x}"),
                    });
                }
                Ok(Some(src.need(what, o as u64, n as usize)?.into_owned()))
            };
        if v >= 3 {
            self.vmcoreinfo = region(sh::OFFSET_VMCOREINFO, sh::SIZE_VMCOREINFO, "VMCOREINFO")?;
        }
        if v >= 4 {
            self.notes = region(sh::OFFSET_NOTE, sh::SIZE_NOTE, "ELF notes")?.unwrap_or_default();
        }
        let _ = (sh::OFFSET_ERASEINFO, sh::SIZE_ERASEINFO);
        Ok(())
    }

    fn build_rank(&mut self, src: &Source) {
        let words = self.bitmap_len / 8;
        let bytes = src
            .get(self.bitmap2, (words * 8) as usize)
            .expect("bitmap range checked");
        let per = (RANK_STRIDE / 64) as usize;
        let mut rank = Vec::with_capacity((words as usize).div_ceil(per) + 1);
        let mut total = 0u64;
        for chunk in bytes.chunks(per * 8) {
            rank.push(total);
            total += chunk
                .chunks_exact(8)
                .map(|w| u64::from_le_bytes(w.try_into().unwrap()).count_ones() as u64)
                .sum::<u64>();
        }
        rank.push(total);
        self.rank = rank;
    }

    /// Number of pages the dump holds (bits set in the second bitmap).
    pub(crate) fn dumped_pages(&self) -> u64 {
        self.rank.last().copied().unwrap_or(0)
    }

    fn bit(src: &Source, base: u64, pfn: u64) -> bool {
        src.get(base + pfn / 8, 1)
            .is_some_and(|b| b[0] & (1 << (pfn % 8)) != 0)
    }

    /// Whether `pfn` is RAM per the first bitmap.
    pub(crate) fn is_ram(&self, src: &Source, pfn: u64) -> bool {
        pfn < self.max_mapnr && Self::bit(src, self.bitmap1, pfn)
    }

    pub(crate) fn locate(&self, src: &Source, pfn: u64) -> KdumpPage {
        if pfn >= self.max_mapnr {
            return KdumpPage::Beyond;
        }
        if pfn < self.start_pfn || pfn >= self.end_pfn {
            return KdumpPage::NotRam;
        }
        if !Self::bit(src, self.bitmap2, pfn) {
            return if self.is_ram(src, pfn) {
                KdumpPage::Excluded
            } else {
                KdumpPage::NotRam
            };
        }
        KdumpPage::Desc {
            index: self.rank_of(src, pfn) - self.rank_base,
        }
    }

    /// Dumped pages with a PFN below `pfn`.
    fn rank_of(&self, src: &Source, pfn: u64) -> u64 {
        let chunk = pfn / RANK_STRIDE;
        let mut index = self.rank[chunk as usize];
        let first_word = chunk * RANK_STRIDE / 64;
        let word = pfn / 64;
        if word > first_word {
            let b = src
                .get(
                    self.bitmap2 + first_word * 8,
                    ((word - first_word) * 8) as usize,
                )
                .expect("inside the bitmap");
            index += b
                .chunks_exact(8)
                .map(|w| u64::from_le_bytes(w.try_into().unwrap()).count_ones() as u64)
                .sum::<u64>();
        }
        let w = src
            .get(self.bitmap2 + word * 8, 8)
            .expect("inside the bitmap");
        let w = u64::from_le_bytes(w[..8].try_into().unwrap());
        index + (w & ((1u64 << (pfn % 64)) - 1)).count_ones() as u64
    }

    /// The descriptor of the `index`th dumped page, at `desc_offset`.
    pub(crate) fn desc(&self, src: &Source, index: u64) -> Option<(u64, PageDesc)> {
        let at = self.desc_start + index * PAGE_DESC_SIZE;
        let b = src.get(at, PAGE_DESC_SIZE as usize)?;
        Some((
            at,
            PageDesc {
                offset: u64_at(&b, 0),
                size: u32_at(&b, 8),
                flags: u32_at(&b, 12),
            },
        ))
    }

    /// Iterate over PFNs set in the second bitmap (dumped pages).
    pub(crate) fn dumped_pfns<'a>(&'a self, src: &'a Source) -> impl Iterator<Item = u64> + 'a {
        let words = self.bitmap_len / 8;
        let bitmap = src
            .get(self.bitmap2, (words * 8) as usize)
            .expect("bitmap range checked");
        let (start, end) = (self.start_pfn, self.end_pfn);
        (0..words)
            .flat_map(move |w| {
                let at = (w * 8) as usize;
                let mut bits = u64::from_le_bytes(bitmap[at..at + 8].try_into().unwrap());
                std::iter::from_fn(move || {
                    if bits == 0 {
                        return None;
                    }
                    let b = bits.trailing_zeros() as u64;
                    bits &= bits - 1;
                    Some(w * 64 + b)
                })
            })
            .filter(move |&p| p >= start && p < end)
    }

    /// Runs of PFNs that are RAM per the first bitmap.
    pub(crate) fn ram_runs(&self, src: &Source) -> Vec<(u64, u64)> {
        let bitmap = src
            .get(self.bitmap1, self.bitmap_len as usize)
            .expect("bitmap range checked");
        let mut runs = Vec::new();
        let mut start: Option<u64> = None;
        for pfn in 0..self.max_mapnr {
            let set = bitmap[(pfn / 8) as usize] & (1 << (pfn % 8)) != 0;
            match (set, start) {
                (true, None) => start = Some(pfn),
                (false, Some(s)) => {
                    runs.push((s, pfn));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            runs.push((s, self.max_mapnr));
        }
        runs
    }

    /// Read and decompress one whole page into `out` (block_size bytes).
    pub(crate) fn read_page(
        &self,
        src: &Source,
        pfn: u64,
        out: &mut [u8],
    ) -> Result<(), ReadError> {
        let addr = pfn * self.block_size;
        let index = match self.locate(src, pfn) {
            KdumpPage::Desc { index } => index,
            KdumpPage::Excluded => return Err(ReadError::Excluded { addr }),
            KdumpPage::NotRam => return Err(ReadError::NotInDump { addr }),
            KdumpPage::Beyond => {
                return Err(ReadError::BeyondMemory {
                    addr,
                    end: self.max_mapnr * self.block_size,
                })
            }
        };
        let desc_at = self.desc_start + index * PAGE_DESC_SIZE;
        let (desc_at, d) = self.desc(src, index).ok_or(ReadError::Truncated {
            addr,
            offset: desc_at,
        })?;
        let corrupt = |offset: u64, why: String| ReadError::Corrupt { addr, offset, why };
        // An incomplete dump (makedumpfile ran out of space) leaves zeroed
        // descriptors for the pages it did not write.
        if d.offset == 0 && d.size == 0 {
            return Err(ReadError::Truncated {
                addr,
                offset: desc_at,
            });
        }
        if d.size == 0 || d.size as u64 > self.block_size {
            return Err(corrupt(
                desc_at,
                format!("page descriptor gives a size of {} bytes", d.size),
            ));
        }
        let data = src
            .get(d.offset, d.size as usize)
            .ok_or(ReadError::Truncated {
                addr,
                offset: d.offset,
            })?;
        crate::compress::decompress(d.flags, &data, out).map_err(|why| corrupt(d.offset, why))
    }
}
