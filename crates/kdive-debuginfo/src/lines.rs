//! Source file and line of a kernel address, from a vmlinux's DWARF (or a
//! module's), answered as `crash` prints them.
//!
//! ```text
//! crash> sym schedule
//! ffffffffa0e06090 (T) schedule debian/build/build_amd64_none_cloud-amd64/kernel/sched/core.c: 6632
//! crash> dis -l schedule 3
//! debian/build/build_amd64_none_cloud-amd64/kernel/sched/core.c: 6632
//! 0xffffffffa0e06090 <schedule>:  nopl   0x0(%rax,%rax,1) [FTRACE NOP]
//! debian/build/build_amd64_none_cloud-amd64/arch/x86/include/asm/current.h: 15
//! 0xffffffffa0e06095 <schedule+5>:        push   %rbp
//! ```
//!
//! [`LineTable::lookup`] gives the `FILE: LINE` of those lines for an
//! address of the file (a vmlinux address: subtract the KASLR offset from a
//! dump's address first), [`LineTable::rows_in`] the places in a range of
//! addresses where it changes, for `dis -l`.
//!
//! ## What crash prints, and why
//!
//! crash asks its built-in gdb (10.2) for the line of a PC
//! (`find_pc_line(pc, 0)`), for `sym` (at the symbol's address, or the
//! address given), `dis -l` (at each instruction) and `bt -l` (at each
//! frame's PC), and prints it with its own rule:
//!
//! - **the file**: gdb names a line table's file `DIR/NAME` from the line
//!   header (`NAME` alone when it is absolute), and crash prints that name
//!   as it is when it is absolute, else prefixed with the CU's
//!   `DW_AT_comp_dir` and a `/`, then makes every `//` a `/`: the same
//!   rule for `sym`, `dis -l` and `bt -l`. In the Debian kernel, C files
//!   are compiled with relative paths from
//!   `debian/build/build_amd64_none_cloud-amd64`, so `core.c` in directory
//!   `kernel/sched` prints as
//!   `debian/build/build_amd64_none_cloud-amd64/kernel/sched/core.c`; the
//!   assembler writes absolute directories, so lines in `entry_64.S` or in
//!   headers it includes print as
//!   `/build/reproducible-path/linux-6.1.170/arch/x86/include/asm/idtentry.h`.
//!   Which of the two a line gets depends on which compiler built its CU,
//!   not on the command.
//! - **the line**: not simply the DWARF row in force at the address. gdb
//!   splits a CU's rows into one table per source file and searches those
//!   (see `lines/gdb.rs`); where several rows share an address (inlined
//!   code: `schedule+5` has rows for `core.c` 6633, `current.h` 13 and 15
//!   and `core.c` 6632), that picks the one crash prints (`current.h: 15`),
//!   which neither the first nor the last row would give.
//! - `sym` prints the line at the symbol's own address, with no prologue
//!   skipping: for `sym schedule`, `core.c: 6632`, the same line
//!   `dis -l schedule` heads its first instruction with.
//!
//! ## Cost
//!
//! The file is memory-mapped, never read whole. Opening reads the section
//! headers and `.debug_aranges` (address ranges to CU): about 1 ms warm. A
//! lookup decodes one CU's line program (and its root DIE), about 1-2 ms
//! for the largest, and keeps the result in a bounded cache of CUs. The CU
//! headers are walked only for an address `.debug_aranges` does not cover
//! (or when there is no `.debug_aranges`), once.

mod gdb;
mod inline;
pub(crate) mod sections;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use gimli::SectionId;

use gdb::CuLines;
use sections::Sections;

/// How many CUs' decoded line tables are kept (a large one, 6.1's
/// `kernel/sched/core.c` with 32,000 rows, takes about 0.5 MB).
const CACHED_CUS: usize = 64;

/// An error opening a file for line lookups.
#[derive(Debug, thiserror::Error)]
pub enum LinesError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot read its DWARF: {why}")]
    Format { path: PathBuf, why: String },
    #[error("{path}: has no line information (.debug_line and .debug_info): not built with -g, or stripped?")]
    NoDebugInfo { path: PathBuf },
    #[error("{path}: section {section} is compressed, which is not supported")]
    Compressed {
        path: PathBuf,
        section: &'static str,
    },
}

/// A source position, as crash prints it: `{file}: {line}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file as crash prints it: the name from the line table, prefixed
    /// with the CU's compilation directory and `/` unless it is absolute.
    pub file: String,
    /// The line, from 1.
    pub line: u32,
}

impl std::fmt::Display for Location {
    /// `FILE: LINE`, crash's format.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.line)
    }
}

/// One address range of one CU, from `.debug_aranges` (or the CU's root DIE).
#[derive(Debug, Clone, Copy)]
struct CuRange {
    start: u64,
    end: u64,
    /// The CU's offset in `.debug_info`.
    cu: usize,
}

/// Address ranges sorted by start, with the largest end so far, so that
/// overlapping ranges are all found.
#[derive(Debug, Default)]
struct RangeIndex {
    ranges: Vec<CuRange>,
    max_end: Vec<u64>,
    /// Each CU's lowest address.
    cu_low: HashMap<usize, u64>,
}

impl RangeIndex {
    fn new(mut ranges: Vec<CuRange>) -> RangeIndex {
        ranges.retain(|r| r.end > r.start);
        ranges.sort_by_key(|r| (r.start, r.end, r.cu));
        let mut max_end = Vec::with_capacity(ranges.len());
        let mut m = 0;
        let mut cu_low: HashMap<usize, u64> = HashMap::new();
        for r in &ranges {
            m = m.max(r.end);
            max_end.push(m);
            // gdb drops ranges at 0 (from code the linker dropped).
            if r.start > 0 {
                let low = cu_low.entry(r.cu).or_insert(r.start);
                *low = (*low).min(r.start);
            }
        }
        RangeIndex {
            ranges,
            max_end,
            cu_low,
        }
    }

    /// The CU holding `addr`. Where CUs overlap, the first in `.debug_info`
    /// wins, as in gdb's address map (filled CU by CU, never overwritten).
    fn cu_for(&self, addr: u64) -> Option<usize> {
        let upper = self.ranges.partition_point(|r| r.start <= addr);
        let mut best: Option<usize> = None;
        for i in (0..upper).rev() {
            if self.max_end[i] <= addr {
                break;
            }
            let r = self.ranges[i];
            if addr < r.end && best.is_none_or(|b| r.cu < b) {
                best = Some(r.cu);
            }
        }
        best
    }

    /// The lowest address of CU `cu` (0 if unknown).
    fn low(&self, cu: usize) -> u64 {
        self.cu_low.get(&cu).copied().unwrap_or(0)
    }

    /// The CUs with code in `range`.
    fn cus_in(&self, range: &Range<u64>) -> Vec<usize> {
        let upper = self.ranges.partition_point(|r| r.start < range.end);
        let mut out = Vec::new();
        for i in (0..upper).rev() {
            if self.max_end[i] <= range.start {
                break;
            }
            let r = self.ranges[i];
            if r.end > range.start {
                out.push(r.cu);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[derive(Default)]
struct Cache {
    cus: HashMap<usize, (Arc<CuLines>, u64)>,
    tick: u64,
}

/// The line tables of one ELF file with DWARF: a vmlinux, or a module.
///
/// Cheap to open (see the module documentation); lookups decode one CU at a
/// time and cache it. Safe to share between threads.
pub struct LineTable {
    path: PathBuf,
    sections: Sections,
    /// From `.debug_aranges`.
    index: RangeIndex,
    /// The CUs `.debug_aranges` leaves out (all, without one), from their
    /// root DIEs: built at the first address the aranges do not cover,
    /// since it reads every CU header (a few ms, but scattered over the
    /// whole `.debug_info` of a vmlinux: many page faults on a cold file).
    extra: OnceLock<RangeIndex>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for LineTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineTable")
            .field("path", &self.path)
            .field("ranges", &self.index.ranges.len())
            .finish_non_exhaustive()
    }
}

impl LineTable {
    /// Open the ELF file at `path` (a vmlinux with debuginfo, or a module).
    ///
    /// Addresses are the file's own: for a vmlinux, the link-time addresses
    /// (a dump's address minus its KASLR offset). A module (`.ko`, a
    /// relocatable file) gets its `.text` at address 0, so that an address
    /// there is an offset in `.text` (`seed_refill+0x24` is `0x20 + 0x24`
    /// when `seed_refill` is at `.text+0x20`), and its other code sections
    /// (`.init.text`, `.exit.text`, ...) after it, in file order; use
    /// [`LineTable::open_relocated`] to put them where a loaded module has
    /// them.
    pub fn open(path: &Path) -> Result<LineTable, LinesError> {
        Self::open_relocated(path, &|_| None)
    }

    /// Open the ELF file at `path`, placing the allocated sections of a
    /// relocatable file (a module `.ko`) where `section_address` says:
    /// `Some(address)` for a section name such as `.text`; `None` leaves a
    /// section where [`LineTable::open`] puts it. With the addresses a
    /// loaded module's sections have (the kernel lists them in the module's
    /// `sect_attrs`; in 6.1 `.text` starts the module's core layout, the
    /// BASE crash's `mod` shows), lookups take the dump's addresses
    /// directly, as in crash after `mod -s`. For a linked file (a vmlinux)
    /// the addresses are not used.
    ///
    /// The relocations of a module's DWARF sections are applied here: in a
    /// relocatable file every address in the line programs and every offset
    /// from one DWARF section into another is left for the linker.
    pub fn open_relocated(
        path: &Path,
        section_address: &dyn Fn(&str) -> Option<u64>,
    ) -> Result<LineTable, LinesError> {
        let sections = Sections::open(path, section_address)?;
        if !sections.has(SectionId::DebugLine) || !sections.has(SectionId::DebugInfo) {
            return Err(LinesError::NoDebugInfo {
                path: path.to_path_buf(),
            });
        }
        let format = |e: gimli::Error| LinesError::Format {
            path: path.to_path_buf(),
            why: e.to_string(),
        };
        let (ranges, _) = aranges(&sections).map_err(format)?;
        Ok(LineTable {
            path: path.to_path_buf(),
            sections,
            index: RangeIndex::new(ranges),
            extra: OnceLock::new(),
            cache: Mutex::new(Cache::default()),
        })
    }

    /// The file this table reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The source line of `addr`, as crash prints it for `sym ADDR`,
    /// `dis -l` and `bt -l` (gdb's `find_pc_line(addr, 0)`): the file
    /// and line of the code at `addr`, inlined code included. For a
    /// function's own address that is the line `sym FUNCTION` prints.
    ///
    /// `None` where the file has no line for `addr`, or the DWARF of its
    /// CU cannot be read.
    pub fn lookup(&self, addr: u64) -> Option<Location> {
        let (cu, low) = match self.index.cu_for(addr) {
            Some(cu) => (cu, self.index.low(cu)),
            None => {
                let extra = self.extra();
                let cu = extra.cu_for(addr)?;
                (cu, extra.low(cu))
            }
        };
        let lines = self.cu_lines(cu, low)?;
        let (symtab, line) = lines.lookup(addr)?;
        Some(Location {
            file: lines.symtabs[symtab].file.to_string(),
            line,
        })
    }

    /// Where the answer of [`LineTable::lookup`] changes in `range`: the
    /// start of the range and every later address whose location differs
    /// from the one before, each with its location (`None` for code with
    /// no line). An address in the range has the location of the last row
    /// at or before it.
    ///
    /// For `dis -l`, which prints a `FILE: LINE` header before an
    /// instruction whose location differs from the previous instruction's:
    /// the location of an instruction is that of the last row at or before
    /// its address.
    pub fn rows_in(&self, range: Range<u64>) -> Vec<(u64, Option<Location>)> {
        if range.start >= range.end {
            return Vec::new();
        }
        let mut points = vec![range.start];
        let mut index = &self.index;
        let mut cus = index.cus_in(&range);
        if cus.is_empty() {
            index = self.extra();
            cus = index.cus_in(&range);
        }
        for cu in cus {
            if let Some(lines) = self.cu_lines(cu, index.low(cu)) {
                lines.boundaries(&range, &mut points);
            }
            for r in index.ranges.iter().filter(|r| r.cu == cu) {
                points.extend([r.start, r.end].into_iter().filter(|a| range.contains(a)));
            }
        }
        points.sort_unstable();
        points.dedup();
        let mut out: Vec<(u64, Option<Location>)> = Vec::new();
        for a in points {
            let loc = self.lookup(a);
            if out.last().is_none_or(|(_, last)| *last != loc) {
                out.push((a, loc));
            }
        }
        out
    }

    fn extra(&self) -> &RangeIndex {
        self.extra.get_or_init(|| {
            let covered = aranges(&self.sections).map(|(_, c)| c).unwrap_or_default();
            RangeIndex::new(unit_ranges(&self.sections, &covered))
        })
    }

    /// The decoded tables of the CU at `cu` (whose lowest address is `low`),
    /// from the cache or decoded now.
    fn cu_lines(&self, cu: usize, low: u64) -> Option<Arc<CuLines>> {
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.tick += 1;
            let tick = cache.tick;
            if let Some((lines, used)) = cache.cus.get_mut(&cu) {
                *used = tick;
                return Some(lines.clone());
            }
        }
        let dwarf = self.sections.dwarf();
        // A module's code at 0 is real (its .text, placed there by us), not
        // code the linker dropped.
        let low = if self.sections.relocatable() { 0 } else { low };
        let lines = Arc::new(gdb::build(&dwarf, gimli::DebugInfoOffset(cu), low).ok()?);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.cus.len() >= CACHED_CUS {
            if let Some(oldest) = cache
                .cus
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
            {
                cache.cus.remove(&oldest);
            }
        }
        let tick = cache.tick;
        cache.cus.insert(cu, (lines.clone(), tick));
        Some(lines)
    }
}

/// The address ranges of `.debug_aranges`, and the CUs it covers.
fn aranges(sections: &Sections) -> gimli::Result<(Vec<CuRange>, HashSet<usize>)> {
    let mut out = Vec::new();
    let mut covered = HashSet::new();
    let aranges =
        gimli::DebugAranges::new(sections.bytes(SectionId::DebugAranges), sections.endian());
    let mut headers = aranges.headers();
    while let Some(h) = headers.next()? {
        let cu = h.debug_info_offset().0;
        covered.insert(cu);
        let mut entries = h.entries();
        while let Some(e) = entries.next()? {
            let r = e.range();
            out.push(CuRange {
                start: r.begin,
                end: r.end,
                cu,
            });
        }
    }
    Ok((out, covered))
}

/// The address ranges of the CUs not in `covered`, from their root DIEs
/// (`DW_AT_low_pc`/`DW_AT_high_pc`, `DW_AT_ranges`). A CU that cannot be
/// read is left out.
fn unit_ranges(sections: &Sections, covered: &HashSet<usize>) -> Vec<CuRange> {
    let mut out = Vec::new();
    let dwarf = sections.dwarf();
    let mut units = dwarf.units();
    while let Ok(Some(header)) = units.next() {
        let Some(offset) = header.offset().to_debug_info_offset(&header) else {
            continue;
        };
        if covered.contains(&offset.0) {
            continue;
        }
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        let Ok(mut ranges) = dwarf.unit_ranges(&unit) else {
            continue;
        };
        while let Ok(Some(r)) = ranges.next() {
            out.push(CuRange {
                start: r.begin,
                end: r.end,
                cu: offset.0,
            });
        }
    }
    out
}
