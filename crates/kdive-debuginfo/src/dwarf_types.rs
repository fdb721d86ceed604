//! Types, globals and functions from the DWARF of a vmlinux or a module
//! `.ko`, as a [`TypeSource`].
//!
//! ```no_run
//! # fn f() -> Result<(), kdive_debuginfo::dwarf_types::DwarfTypesError> {
//! use kdive_debuginfo::dwarf_types::DwarfTypes;
//! use kdive_debuginfo::types::{self, Namespace, TypeSource};
//! let dwarf = DwarfTypes::open("/usr/lib/debug/boot/vmlinux-6.1.0-47-cloud-amd64".as_ref())?;
//! let task = dwarf.find(Namespace::Struct, "task_struct").unwrap();
//! let pid = types::member(&dwarf, task, "pid").unwrap().offset_bits / 8;
//! let jiffies = dwarf.variable("jiffies").unwrap(); // type and link address
//! # Ok(()) }
//! ```
//!
//! ## How, and what it costs
//!
//! The file is memory-mapped (with the section loading of [`crate::lines`],
//! which also applies a module's `.rela.debug_*`), and no DIE tree is ever
//! held: a lookup reads the DIEs it needs, and each type is converted on
//! first use and kept. A vmlinux has no `.debug_names` (Debian's 6.1 has
//! none), so names are found by reading the DIEs at the top level of each
//! unit, where C has its types, globals and functions: only the attributes
//! needed, jumping over children with `DW_AT_sibling` (`dwarf_types/scan.rs`).
//! Of several DIEs of a name, the best is used: a definition before a
//! declaration (the kernel has `struct x;` in many units), a global with an
//! address before one without, an external one before a `static` one, then
//! the first in `.debug_info`. Types defined inside a function are not
//! found by name, as in gdb.
//!
//! Enum constants are names too ([`TypeSource::enumerator`]): the scan
//! reads the children of top-level enums (of those only), and each
//! constant names its enum, the first definition to declare it.
//!
//! Three ways to a name, all giving the same DIE:
//!
//! - the index of every top-level name (`dwarf_types/index.rs`), built by
//!   one scan of all units, one thread per core, and cached by build id in
//!   `$XDG_CACHE_HOME/kdive` (else `~/.cache/kdive`) as a file that is
//!   mapped and checked whole (checksum, build id, bounds, order), never
//!   trusted blindly (`dwarf_types/table.rs`): any doubt and it is rebuilt.
//!   A DIE it gives is also checked to have the tag and name asked for;
//!   a mismatch rebuilds it;
//! - without an index, a search of the units in order that stops at the
//!   first DIE nothing can beat: the common types are in the first units
//!   (`task_struct`, `list_head`, `page`: the third). A search that reads
//!   1/16 of `.debug_info` in vain gives way to building the index;
//! - a function of a vmlinux, by its ELF symbol: the address leads through
//!   `.debug_aranges` to its unit (`dwarf_types/globals.rs`).
//!
//! Measured on Debian's 6.1 vmlinux (587 MB, 163 MB of `.debug_info`,
//! 2,170 units, 118,610 names and 14,957 enum constants), file in the
//! page cache, 2 cores shared with other work, optimized, whole
//! processes: open and `struct task_struct` with no cache, 2-5 ms; the
//! same with the cache, 3-6 ms (2 ms in a warm process); `whatis schedule`
//! with no cache, about 50 ms (reading the ELF symbols: see
//! [`DwarfTypes::set_symbols`]); building the index, 300-350 ms of CPU
//! (170-300 ms on 2 cores, more when they are busy). Reading the enums'
//! constants adds about 15% to that (one thread, best of 5 in a quiet
//! moment: 350 ms without, 410 ms with). drgn 0.0.x takes 200-240 ms for
//! its index of the same file on the same machine. A variable DWARF only
//! declares (`jiffies`: the linker script defines it) or a rare type needs
//! the index on a cold start.
//!
//! Type ids are `.debug_info` offsets ([`VOID`] is 0); the inner
//! dimensions of a multi-dimensional array get the array's offset with the
//! dimension in bits 40 and up.

use crate::lines::sections;

mod cache;
mod convert;
mod dies;
mod globals;
mod index;
mod scan;
mod table;
mod units;
#[cfg(test)]
mod tests;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use gimli::SectionId;

use crate::types::{Global, Kind, Namespace, Type, TypeId, TypeSource};
use crate::{ElfFile, SymbolTable};
use scan::{Scanner, Space};
use sections::Sections;
use table::NameIndex;

// `sections.rs` names its error type from its parent.
use crate::lines::LinesError;

/// `void`: DWARF says it by leaving out `DW_AT_type`. Offset 0 of
/// `.debug_info` is a unit header, never a DIE, so no DIE has this id.
pub const VOID: TypeId = TypeId(0);

/// Files with less `.debug_info` than this get their index at once (a
/// module's takes about a millisecond) and never cached; larger ones
/// search by name until a search runs long (see [`DwarfTypes::open_with`]).
const SMALL_INFO: usize = 4 << 20;

/// The share of `.debug_info` a search for one name reads before giving
/// up for the full index: 1/16 of a vmlinux's is 10 MB, about 20 ms.
const SEARCH_SHARE: usize = 16;

/// How many units' abbreviation tables are kept.
const CACHED_ABBREVS: usize = 256;

/// Why a file's DWARF cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DwarfTypesError {
    /// The file cannot be read or is not an ELF file with readable DWARF.
    #[error(transparent)]
    Open(#[from] LinesError),
    #[error("{path}: has no type information (.debug_info): not built with -g, or stripped?")]
    NoDebugInfo { path: PathBuf },
    #[error("{path}: cannot read its DWARF: {why}")]
    Format { path: PathBuf, why: String },
}

/// Where the name index is cached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheDir {
    /// `$XDG_CACHE_HOME/kdive`, else `~/.cache/kdive`.
    #[default]
    Default,
    At(PathBuf),
    /// Neither read nor write a cache.
    Off,
}

/// How to open a file: see [`DwarfTypes::open_with`].
pub struct OpenOptions<'a> {
    pub cache: CacheDir,
    /// For a module `.ko`: the address of each allocated section (`.text`,
    /// `.bss`, ...), as for [`crate::lines::LineTable::open_relocated`];
    /// `None` leaves a section where the default layout puts it (`.text`
    /// at 0, the others after it in file order).
    pub section_address: &'a dyn Fn(&str) -> Option<u64>,
    /// Threads for building the index; 0 for one per core.
    pub threads: usize,
}

impl Default for OpenOptions<'_> {
    fn default() -> Self {
        OpenOptions {
            cache: CacheDir::Default,
            section_address: &|_| None,
            threads: 0,
        }
    }
}

/// Where the name index of an open file came from, and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexInfo {
    /// Read from the cache (else built by scanning the DWARF).
    pub cached: bool,
    /// Time to load or build it.
    pub took: Duration,
    /// Names in it.
    pub names: usize,
}

/// The units known: the first ones, or all.
#[derive(Default)]
struct Units {
    /// Their offsets, increasing.
    starts: Vec<u64>,
    /// Where the last one ends.
    end: u64,
}

/// The types, globals and functions of one file's DWARF.
pub struct DwarfTypes {
    path: PathBuf,
    sections: Sections,
    build_id: Option<String>,
    /// The cache file, when the index is cached.
    cache_file: Option<PathBuf>,
    threads: usize,
    /// `None` until built or loaded: lookups search meanwhile.
    index: RwLock<Option<(Arc<NameIndex>, IndexInfo)>>,
    /// Held while the index is built, so that it is built once.
    building: Mutex<()>,
    /// Set once the index has been rebuilt after a failed check, so that a
    /// damaged file cannot make every lookup rebuild it.
    rebuilt: AtomicBool,
    /// The units found so far, for finding a DIE's.
    units: Mutex<Units>,
    types: Mutex<HashMap<u64, Arc<Type>>>,
    abbrevs: Mutex<HashMap<u64, Arc<gimli::Abbreviations>>>,
    /// The ELF symbols, for globals whose DWARF has no address (`jiffies`
    /// is defined by the linker script) and for finding functions by
    /// address: linked files only.
    symbols: OnceLock<Option<Arc<SymbolTable>>>,
    /// `.debug_aranges`: (start, end, unit) of each range of code.
    aranges: OnceLock<Vec<(u64, u64, u64)>>,
}

impl std::fmt::Debug for DwarfTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DwarfTypes")
            .field("path", &self.path)
            .field("index", &self.index_info())
            .finish_non_exhaustive()
    }
}

impl DwarfTypes {
    /// Open a vmlinux or a module with the default options: the index
    /// cached in the default directory, a module's sections at the default
    /// layout.
    pub fn open(path: &Path) -> Result<DwarfTypes, DwarfTypesError> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Open `path` as `options` say: map it and load the name index from
    /// the cache if there is a sound one. A small file (a module) has its
    /// index built at once; a large one (a vmlinux) searches by name until
    /// a search runs long, then builds it (see the module documentation).
    /// [`DwarfTypes::ensure_index`] builds it regardless: from another
    /// thread at start, it makes the next start warm.
    pub fn open_with(
        path: &Path,
        options: &OpenOptions<'_>,
    ) -> Result<DwarfTypes, DwarfTypesError> {
        let sections = Sections::open(path, options.section_address)?;
        if !sections.has(SectionId::DebugInfo) || !sections.has(SectionId::DebugAbbrev) {
            return Err(DwarfTypesError::NoDebugInfo {
                path: path.to_path_buf(),
            });
        }
        // A second map of the same file, for its notes (cheap: nothing is
        // read but the section headers).
        let build_id = ElfFile::open(path)
            .ok()
            .and_then(|e| e.build_id().ok().flatten());
        let info_len = sections.bytes(SectionId::DebugInfo).len();
        let dir = match &options.cache {
            CacheDir::Default => cache::default_dir(),
            CacheDir::At(d) => Some(d.clone()),
            CacheDir::Off => None,
        };
        let cache_file = match (dir, &build_id) {
            (Some(dir), Some(id)) if info_len >= SMALL_INFO => Some(cache::path(&dir, id)),
            _ => None,
        };
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let types = DwarfTypes {
            path: path.to_path_buf(),
            sections,
            build_id,
            cache_file,
            threads,
            index: RwLock::new(None),
            building: Mutex::new(()),
            rebuilt: AtomicBool::new(false),
            units: Mutex::default(),
            types: Mutex::default(),
            abbrevs: Mutex::default(),
            symbols: OnceLock::new(),
            aranges: OnceLock::new(),
        };
        let start = Instant::now();
        let cached = types
            .cache_file
            .as_deref()
            .and_then(|f| cache::load(f, types.build_id.as_deref()?, info_len as u64));
        match cached {
            Some(index) => {
                types.install(index, true, start);
            }
            None if info_len < SMALL_INFO => {
                types.ensure_index()?;
            }
            None => {}
        }
        Ok(types)
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the name index came from and what it cost; `None` while
    /// there is none (lookups search).
    pub fn index_info(&self) -> Option<IndexInfo> {
        self.index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(_, i)| *i)
    }

    /// The cache file of this file's index, if it is cached.
    pub fn cache_file(&self) -> Option<&Path> {
        self.cache_file.as_deref()
    }

    /// Build the name index now if there is none (and cache it).
    pub fn ensure_index(&self) -> Result<IndexInfo, DwarfTypesError> {
        let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(info) = self.index_info() {
            return Ok(info);
        }
        self.rebuild()
    }

    /// Scan the DWARF for the index, cache it and use it.
    fn rebuild(&self) -> Result<IndexInfo, DwarfTypesError> {
        let start = Instant::now();
        let dwarf = self.sections.dwarf();
        let scanner = Scanner {
            dwarf: &dwarf,
            relocatable: self.sections.relocatable(),
        };
        let id = self.build_id.as_deref().unwrap_or("");
        let info_len = self.sections.bytes(SectionId::DebugInfo).len() as u64;
        let index =
            index::build(&scanner, self.threads, id, info_len).map_err(|e| self.format(e))?;
        if let Some(file) = &self.cache_file {
            // A cache that cannot be written only costs time next start.
            let _ = cache::store(file, &index);
        }
        Ok(self.install(index, false, start))
    }

    fn install(&self, index: NameIndex, cached: bool, start: Instant) -> IndexInfo {
        *self.units.lock().unwrap_or_else(|e| e.into_inner()) = Units {
            starts: index.units(),
            end: self.sections.bytes(SectionId::DebugInfo).len() as u64,
        };
        let info = IndexInfo {
            cached,
            took: start.elapsed(),
            names: index.len(),
        };
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Some((Arc::new(index), info));
        info
    }

    fn format(&self, e: gimli::Error) -> DwarfTypesError {
        DwarfTypesError::Format {
            path: self.path.clone(),
            why: e.to_string(),
        }
    }
}

impl TypeSource for DwarfTypes {
    fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
        let space = match ns {
            Namespace::Struct => Space::Struct,
            Namespace::Union => Space::Union,
            Namespace::Enum => Space::Enum,
            Namespace::Plain if name == "void" => return Some(VOID),
            Namespace::Plain => Space::Plain,
        };
        self.lookup(space, name).map(TypeId)
    }

    fn get(&self, id: TypeId) -> Option<Arc<Type>> {
        if let Some(t) = self
            .types
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id.0)
        {
            return Some(t.clone());
        }
        // Converted without the lock held: converting an array asks for
        // its element's size, which may convert other types.
        let t = Arc::new(self.convert(id)?);
        let mut types = self.types.lock().unwrap_or_else(|e| e.into_inner());
        Some(types.entry(id.0).or_insert(t).clone())
    }

    fn variable(&self, name: &str) -> Option<Global> {
        self.global(Space::Variable, name)
    }

    fn function(&self, name: &str) -> Option<Global> {
        self.global(Space::Function, name)
    }

    fn describe(&self) -> String {
        let file = self.path.file_name().unwrap_or(self.path.as_os_str());
        format!("DWARF ({})", file.to_string_lossy())
    }

    fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        let id = TypeId(self.lookup(Space::Enumerator, name)?);
        match &self.get(id)?.kind {
            Kind::Enum { values } => values
                .iter()
                .find(|(n, _)| n == name)
                .map(|&(_, v)| (id, v)),
            _ => None,
        }
    }
}
