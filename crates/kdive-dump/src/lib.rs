//! Read Linux kernel crash dumps (vmcores) as physical memory.
//!
//! `kdive-dump` opens a dump read-only and serves reads of physical memory,
//! whatever the format:
//!
//! - ELF vmcores: /proc/vmcore and copies of it, `makedumpfile -E`, QEMU's
//!   `dump-guest-memory`;
//! - makedumpfile's kdump-compressed format, with pages stored raw or
//!   compressed with zlib, LZO, snappy or zstd;
//! - makedumpfile's flattened format (`-F`), read in place.
//!
//! It also gives the dump's notes: VMCOREINFO, each CPU's registers, the
//! crash time. It knows nothing of the kernel beyond what the formats say.
//!
//! ```no_run
//! let dump = kdive_dump::Dump::open("vmcore".as_ref())?;
//! let mut page = [0u8; 4096];
//! dump.read_phys(0x1000, &mut page)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reads are bounds-checked and never panic on bad input: a damaged dump
//! gives an [`OpenError`] or, for one page, a [`ReadError`]. Decompressed
//! pages are kept in a cache of fixed size, so memory stays bounded however
//! much of the dump is read.

mod cache;
mod compress;
mod elf;
mod error;
mod flat;
mod kdump;
mod memory;
mod notes;
mod source;
pub mod write;

use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;

pub use cache::DEFAULT_CAPACITY;
pub use compress::{compress, Compression, UnknownCompression};
pub use elf::Load;
pub use error::{OpenError, ReadError};
pub use kdump::{
    Utsname, DUMP_DH_COMPRESSED_INCOMPLETE, DUMP_DH_COMPRESSED_LZO, DUMP_DH_COMPRESSED_SNAPPY,
    DUMP_DH_COMPRESSED_ZLIB, DUMP_DH_COMPRESSED_ZSTD, DUMP_DH_EXCLUDED_VMEMMAP,
};
pub use memory::{FnMemory, MemError, Memory};
pub use notes::{
    cpu_states, parse_notes, qemu_cpu_states, CpuState, Note, QemuCpuState, VmcoreInfo,
    NT_PRSTATUS, PRSTATUS_SIZE,
};

use cache::PageCache;
use elf::{ElfDump, ElfPage};
use flat::FlatView;
use kdump::{KdumpDump, KdumpPage};
use source::{Backing, Source};

/// The container format of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An ELF core file.
    Elf,
    /// makedumpfile's kdump-compressed format.
    Kdump,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Elf => "ELF",
            Format::Kdump => "kdump-compressed",
        }
    }
}

/// What a dump holds for one page frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageState {
    /// The page's contents are in the dump.
    Present,
    /// The page was RAM but the dump level left it out.
    Excluded,
    /// No memory there (a hole between RAM ranges).
    NotInDump,
    /// Past the end of the dump's memory.
    Beyond,
}

/// One Body per dump: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Body {
    Elf(ElfDump),
    Kdump(KdumpDump),
}

/// An open dump.
pub struct Dump {
    src: Source,
    body: Body,
    notes: Vec<Note>,
    vmcoreinfo: Option<VmcoreInfo>,
    cpus: Vec<CpuState>,
    page_size: u64,
    cache: Mutex<PageCache>,
}

impl Dump {
    /// Open the dump at `path`, with the default page cache.
    pub fn open(path: &Path) -> Result<Dump, OpenError> {
        Self::open_with_cache(path, DEFAULT_CAPACITY)
    }

    /// Open the dump at `path`, caching at most `pages` decompressed pages.
    pub fn open_with_cache(path: &Path, pages: usize) -> Result<Dump, OpenError> {
        Self::from_backing(Backing::map(path)?, pages)
    }

    /// A dump held in memory (tests and fuzzing).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Dump, OpenError> {
        Self::from_backing(Backing::Owned(bytes), DEFAULT_CAPACITY)
    }

    fn from_backing(backing: Backing, pages: usize) -> Result<Dump, OpenError> {
        let src = if FlatView::is_flat(backing.bytes()) {
            Source::Flat(FlatView::new(backing)?)
        } else {
            Source::Plain(backing)
        };
        let head = src.get(0, 8).ok_or(OpenError::UnknownFormat)?;
        let body = if ElfDump::is_elf(&head) {
            Body::Elf(ElfDump::parse(&src)?)
        } else if KdumpDump::is_kdump(&head) {
            Body::Kdump(KdumpDump::parse(&src)?)
        } else {
            return Err(OpenError::UnknownFormat);
        };
        drop(head);
        let (raw_notes, page_size) = match &body {
            Body::Elf(e) => (&e.notes, 0),
            Body::Kdump(k) => (&k.notes, k.block_size),
        };
        let notes = parse_notes(raw_notes);
        let text = match &body {
            Body::Kdump(k) if k.vmcoreinfo.is_some() => k.vmcoreinfo.as_deref(),
            _ => notes::vmcoreinfo_note(&notes),
        };
        let vmcoreinfo = text.map(VmcoreInfo::parse).filter(|v| !v.is_empty());
        let page_size = match page_size {
            0 => vmcoreinfo
                .as_ref()
                .and_then(|v| v.decimal("PAGESIZE"))
                .filter(|p| p.is_power_of_two() && (512..=1 << 20).contains(p))
                .unwrap_or(4096),
            p => p,
        };
        let cpus = cpu_states(&notes);
        Ok(Dump {
            src,
            body,
            notes,
            vmcoreinfo,
            cpus,
            page_size,
            cache: Mutex::new(PageCache::new(page_size as usize, pages)),
        })
    }

    pub fn format(&self) -> Format {
        match self.body {
            Body::Elf(_) => Format::Elf,
            Body::Kdump(_) => Format::Kdump,
        }
    }

    /// Whether the file is makedumpfile's flattened stream of the format.
    pub fn is_flattened(&self) -> bool {
        matches!(self.src, Source::Flat(_))
    }

    /// Compression methods the header declares (empty: pages stored raw).
    pub fn compression(&self) -> Vec<Compression> {
        match &self.body {
            Body::Kdump(k) => Compression::from_status(k.status),
            Body::Elf(_) => Vec::new(),
        }
    }

    /// The kdump header's status word (compression and other flags).
    pub fn kdump_status(&self) -> Option<u32> {
        match &self.body {
            Body::Kdump(k) => Some(k.status),
            Body::Elf(_) => None,
        }
    }

    /// The kdump header version.
    pub fn header_version(&self) -> Option<i32> {
        match &self.body {
            Body::Kdump(k) => Some(k.header_version),
            Body::Elf(_) => None,
        }
    }

    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// makedumpfile's dump level (`-d`), when the format records it.
    pub fn dump_level(&self) -> Option<i32> {
        match &self.body {
            Body::Kdump(k) => k.dump_level,
            Body::Elf(_) => None,
        }
    }

    /// Whether the writer left the dump incomplete (out of space).
    pub fn is_incomplete(&self) -> bool {
        matches!(&self.body, Body::Kdump(k) if k.status & kdump::DUMP_DH_COMPRESSED_INCOMPLETE != 0)
    }

    /// The physical memory ranges the dump describes (RAM), merged.
    pub fn memory_ranges(&self) -> Vec<Range<u64>> {
        let mut r: Vec<Range<u64>> = match &self.body {
            Body::Elf(e) => e.loads.iter().map(|l| l.paddr..l.paddr + l.memsz).collect(),
            Body::Kdump(k) => k
                .ram_runs(&self.src)
                .into_iter()
                .map(|(s, e)| s * self.page_size..e * self.page_size)
                .collect(),
        };
        r.sort_by_key(|x| x.start);
        let mut out: Vec<Range<u64>> = Vec::new();
        for x in r {
            match out.last_mut() {
                Some(last) if x.start <= last.end => last.end = last.end.max(x.end),
                _ => out.push(x),
            }
        }
        out
    }

    /// The ELF `PT_LOAD` segments (empty for a kdump file).
    pub fn loads(&self) -> &[Load] {
        match &self.body {
            Body::Elf(e) => &e.loads,
            Body::Kdump(_) => &[],
        }
    }

    /// One past the highest page frame number the dump describes.
    pub fn max_pfn(&self) -> u64 {
        match &self.body {
            Body::Elf(e) => e.end().div_ceil(self.page_size),
            Body::Kdump(k) => k.max_mapnr,
        }
    }

    /// The machine the dump is of, as the kernel names it (`uname -m`):
    /// an ELF dump's `e_machine` for the machines named here, a kdump
    /// file's utsname. `None` for an ELF machine not named here (see
    /// [`Self::elf_machine`]).
    pub fn machine(&self) -> Option<&str> {
        match &self.body {
            Body::Elf(e) => match e.machine {
                elf::EM_X86_64 => Some("x86_64"),
                elf::EM_AARCH64 => Some("aarch64"),
                elf::EM_386 => Some("i386"),
                elf::EM_PPC64 => Some("ppc64"),
                elf::EM_S390 => Some("s390x"),
                elf::EM_RISCV => Some("riscv64"),
                _ => None,
            },
            Body::Kdump(k) => Some(k.utsname.machine.as_str()),
        }
    }

    /// An ELF dump's `e_machine`; `None` for a kdump file.
    pub fn elf_machine(&self) -> Option<u16> {
        match &self.body {
            Body::Elf(e) => Some(e.machine),
            Body::Kdump(_) => None,
        }
    }

    /// The `utsname` a kdump-compressed header carries.
    pub fn utsname(&self) -> Option<&Utsname> {
        match &self.body {
            Body::Kdump(k) => Some(&k.utsname),
            Body::Elf(_) => None,
        }
    }

    /// The kernel release: VMCOREINFO's OSRELEASE, else the kdump header's.
    pub fn release(&self) -> Option<String> {
        self.vmcoreinfo
            .as_ref()
            .and_then(|v| v.get("OSRELEASE"))
            .map(str::to_string)
            .or_else(|| self.utsname().map(|u| u.release.clone()))
            .filter(|s| !s.is_empty())
    }

    /// Crash time, seconds since the epoch: VMCOREINFO's CRASHTIME, else the
    /// kdump header's timestamp.
    pub fn crash_time(&self) -> Option<i64> {
        self.vmcoreinfo
            .as_ref()
            .and_then(|v| v.get("CRASHTIME"))
            .and_then(|t| t.parse().ok())
            .or(match &self.body {
                Body::Kdump(k) if k.timestamp.0 > 0 => Some(k.timestamp.0),
                _ => None,
            })
    }

    /// Number of CPUs: the kdump header's count, else the CPU notes'.
    pub fn nr_cpus(&self) -> usize {
        match &self.body {
            Body::Kdump(k) if k.nr_cpus > 0 => k.nr_cpus as usize,
            _ => self.cpus.len().max(qemu_cpu_states(&self.notes).len()),
        }
    }

    /// `phys_base`: VMCOREINFO's `NUMBER(phys_base)`, else the kdump
    /// sub-header's. A writer with no VMCOREINFO to go by (QEMU's
    /// `dump-guest-memory` without the guest's vmcoreinfo device) writes 0
    /// there, which means unknown, not zero.
    pub fn phys_base(&self) -> Option<u64> {
        let from_info = self.vmcoreinfo.as_ref().and_then(|v| v.number("phys_base"));
        match (&self.body, from_info) {
            (_, Some(n)) => Some(n as u64),
            (Body::Kdump(k), None) if k.header_version >= 1 => {
                (k.phys_base != 0 || self.vmcoreinfo.is_some()).then_some(k.phys_base)
            }
            _ => None,
        }
    }

    pub fn vmcoreinfo(&self) -> Option<&VmcoreInfo> {
        self.vmcoreinfo.as_ref()
    }

    /// The raw VMCOREINFO text (for writers that copy it).
    pub fn vmcoreinfo_raw(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Kdump(k) if k.vmcoreinfo.is_some() => k.vmcoreinfo.as_deref(),
            _ => notes::vmcoreinfo_note(&self.notes),
        }
    }

    /// Every ELF note of the dump.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The raw note stream (for writers that copy it).
    pub fn notes_raw(&self) -> &[u8] {
        match &self.body {
            Body::Elf(e) => &e.notes,
            Body::Kdump(k) => &k.notes,
        }
    }

    /// Each CPU's registers at the crash, from its `NT_PRSTATUS` note.
    pub fn cpus(&self) -> &[CpuState] {
        &self.cpus
    }

    /// QEMU's per-CPU state notes (dumps from `dump-guest-memory`).
    pub fn qemu_cpus(&self) -> Vec<QemuCpuState> {
        qemu_cpu_states(&self.notes)
    }

    /// Number of pages whose contents the dump holds.
    pub fn present_pages(&self) -> u64 {
        match &self.body {
            Body::Kdump(k) => k.dumped_pages(),
            // Counted by ranges: a damaged header can claim 2^50 pages.
            Body::Elf(e) => elf_present_ranges(e, self.page_size)
                .map(|r| r.end - r.start)
                .sum(),
        }
    }

    /// What the dump holds for page frame `pfn`.
    pub fn page_state(&self, pfn: u64) -> PageState {
        match &self.body {
            Body::Kdump(k) => match k.locate(&self.src, pfn) {
                KdumpPage::Desc { .. } => PageState::Present,
                KdumpPage::Excluded => PageState::Excluded,
                KdumpPage::NotRam => PageState::NotInDump,
                KdumpPage::Beyond => PageState::Beyond,
            },
            Body::Elf(e) => {
                let addr = pfn.saturating_mul(self.page_size);
                // A page is present when all of it is in the file.
                let last = addr.saturating_add(self.page_size - 1);
                match (e.locate(addr), e.locate(last)) {
                    (ElfPage::File(..), ElfPage::File(..)) => PageState::Present,
                    (ElfPage::Excluded, _) | (_, ElfPage::Excluded) => PageState::Excluded,
                    _ if addr >= e.end() => PageState::Beyond,
                    _ => PageState::NotInDump,
                }
            }
        }
    }

    /// The page frames whose contents the dump holds, in increasing order.
    pub fn present_pfns(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match &self.body {
            Body::Kdump(k) => Box::new(k.dumped_pfns(&self.src)),
            Body::Elf(e) => Box::new(elf_present_ranges(e, self.page_size).flatten()),
        }
    }

    /// Read `buf.len()` bytes of physical memory at `addr`.
    pub fn read_phys(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        match &self.body {
            Body::Elf(e) => e.read(&self.src, addr, buf),
            Body::Kdump(k) => {
                let ps = self.page_size;
                let mut done = 0usize;
                while done < buf.len() {
                    let a = addr
                        .checked_add(done as u64)
                        .ok_or(ReadError::BeyondMemory {
                            addr: u64::MAX,
                            end: k.max_mapnr * ps,
                        })?;
                    let (pfn, off) = (a / ps, (a % ps) as usize);
                    let n = (ps as usize - off).min(buf.len() - done);
                    self.with_page(k, pfn, |page| {
                        buf[done..done + n].copy_from_slice(&page[off..off + n])
                    })
                    .map_err(|e| with_addr(e, a))?;
                    done += n;
                }
                Ok(())
            }
        }
    }

    /// Read a whole page frame.
    pub fn read_page(&self, pfn: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let addr = pfn
            .checked_mul(self.page_size)
            .ok_or(ReadError::BeyondMemory {
                addr: u64::MAX,
                end: self.max_pfn().saturating_mul(self.page_size),
            })?;
        let n = (self.page_size as usize).min(buf.len());
        self.read_phys(addr, &mut buf[..n])
    }

    fn with_page(&self, k: &KdumpDump, pfn: u64, f: impl FnOnce(&[u8])) -> Result<(), ReadError> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(page) = cache.get(pfn) {
            f(page);
            return Ok(());
        }
        let slot = cache.insert(pfn);
        match k.read_page(&self.src, pfn, slot) {
            Ok(()) => {
                f(slot);
                Ok(())
            }
            Err(e) => {
                cache.forget(pfn);
                Err(e)
            }
        }
    }
}

/// The runs of page frames an ELF dump's segments hold in the file, in
/// increasing order, each page once (segments may overlap).
fn elf_present_ranges(e: &ElfDump, ps: u64) -> impl Iterator<Item = Range<u64>> {
    let mut pfns: Vec<Range<u64>> = e
        .loads
        .iter()
        .map(|l| l.paddr.div_ceil(ps)..(l.paddr + l.filesz) / ps)
        .filter(|r| r.start < r.end)
        .collect();
    pfns.sort_by_key(|r| r.start);
    let mut last = 0u64;
    pfns.into_iter().filter_map(move |r| {
        let start = r.start.max(last);
        last = last.max(r.end);
        (start < r.end).then_some(start..r.end)
    })
}

/// Errors from a page read name the page's first byte; say the exact one.
fn with_addr(e: ReadError, addr: u64) -> ReadError {
    match e {
        ReadError::Excluded { .. } => ReadError::Excluded { addr },
        ReadError::NotInDump { .. } => ReadError::NotInDump { addr },
        ReadError::BeyondMemory { end, .. } => ReadError::BeyondMemory { addr, end },
        ReadError::Truncated { offset, .. } => ReadError::Truncated { addr, offset },
        ReadError::Corrupt { offset, why, .. } => ReadError::Corrupt { addr, offset, why },
    }
}
