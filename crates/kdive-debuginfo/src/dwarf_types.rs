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
//! The file is memory-mapped (the section loading of [`crate::lines`],
//! which also applies a module's `.rela.debug_*`); no DIE tree is ever
//! held. A vmlinux has no `.debug_names` (Debian 6.1: none), so the names
//! come from an index of the DIEs at the top level of each CU (where C
//! puts its types, globals and functions): one scan, one thread per core,
//! reading only the attributes it needs and jumping over children with
//! `DW_AT_sibling` (see `dwarf_types/index.rs`). The index keeps, per
//! name, the single best DIE: a definition before a declaration (the
//! kernel has `struct x;` in many CUs), a global with an address before
//! one without, an external one before a `static` one, then the first in
//! `.debug_info`.
//!
//! The index is cached by build id in `$XDG_CACHE_HOME/kdive` (or
//! `~/.cache/kdive`), checked whole before use and rebuilt when anything
//! is off (see `dwarf_types/cache.rs`); each DIE a lookup returns is also
//! checked to have the tag and name asked for, and a mismatch rebuilds the
//! index. Types are converted on first use and kept.
//!
//! Measured on Debian's 6.1 vmlinux (587 MB, 163 MB of `.debug_info`,
//! 2,900 CUs), 2 cores, file in the page cache: see the crate's
//! `tests/dwarf_types.rs` (`timings`) for the numbers of a given machine.
//!
//! Type ids are `.debug_info` offsets ([`VOID`] is 0); the inner
//! dimensions of a multi-dimensional array get the array's offset with the
//! dimension in bits 40 and up.

#[allow(dead_code)] // shared with `lines`, which uses all of it
#[path = "lines/sections.rs"]
mod sections;

mod cache;
mod convert;
mod index;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use gimli::{constants as dw, SectionId};

use crate::types::{Global, Kind, Namespace, Type, TypeId, TypeSource};
use crate::{ElfFile, SymbolTable};
use convert::{Die, DIM_SHIFT, OFFSET_MASK};
use index::{NameIndex, Space};
use sections::Sections;

// `sections.rs` names its error type from its parent.
use crate::lines::LinesError;

/// `void`: DWARF says it by leaving out `DW_AT_type`. Offset 0 of
/// `.debug_info` is a unit header, never a DIE, so no DIE has this id.
pub const VOID: TypeId = TypeId(0);

/// Files whose `.debug_info` is smaller than this are indexed every time
/// (a module's takes about a millisecond), not cached.
const CACHE_MIN_INFO: usize = 4 << 20;

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

/// The types, globals and functions of one file's DWARF.
pub struct DwarfTypes {
    path: PathBuf,
    sections: Sections,
    build_id: Option<String>,
    /// The cache file, when the index is cached.
    cache_file: Option<PathBuf>,
    threads: usize,
    index: RwLock<Arc<NameIndex>>,
    info: Mutex<IndexInfo>,
    /// Set once the index has been rebuilt after a failed check, so that a
    /// damaged file cannot make every lookup rebuild it.
    rebuilt: AtomicBool,
    types: Mutex<HashMap<u64, Arc<Type>>>,
    abbrevs: Mutex<HashMap<u64, Arc<gimli::Abbreviations>>>,
    /// The ELF symbols, for globals whose DWARF has no address (`jiffies`
    /// is defined by the linker script): linked files only.
    symbols: OnceLock<Option<SymbolTable>>,
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

    /// Open `path` as `options` say. Loads the name index from the cache,
    /// or builds it (and caches it when the file is large enough for it to
    /// matter and has a build id).
    pub fn open_with(path: &Path, options: &OpenOptions<'_>) -> Result<DwarfTypes, DwarfTypesError> {
        let sections = Sections::open(path, options.section_address)?;
        if !sections.has(SectionId::DebugInfo) || !sections.has(SectionId::DebugAbbrev) {
            return Err(DwarfTypesError::NoDebugInfo {
                path: path.to_path_buf(),
            });
        }
        // A second map of the same file, for its notes (cheap: nothing is
        // read but the section headers).
        let build_id = ElfFile::open(path).ok().and_then(|e| e.build_id().ok().flatten());
        let info_len = sections.bytes(SectionId::DebugInfo).len();
        let dir = match &options.cache {
            CacheDir::Default => cache::default_dir(),
            CacheDir::At(d) => Some(d.clone()),
            CacheDir::Off => None,
        };
        let cache_file = match (dir, &build_id) {
            (Some(dir), Some(id)) if info_len >= CACHE_MIN_INFO => Some(cache::path(&dir, id)),
            _ => None,
        };
        let threads = match options.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let mut types = DwarfTypes {
            path: path.to_path_buf(),
            sections,
            build_id,
            cache_file,
            threads,
            index: RwLock::new(Arc::default()),
            info: Mutex::new(IndexInfo {
                cached: false,
                took: Duration::ZERO,
                names: 0,
            }),
            rebuilt: AtomicBool::new(false),
            types: Mutex::default(),
            abbrevs: Mutex::default(),
            symbols: OnceLock::new(),
        };
        let start = Instant::now();
        let cached = types.cache_file.as_deref().and_then(|f| {
            cache::load(f, types.build_id.as_deref()?, info_len as u64)
        });
        let (index, was_cached) = match cached {
            Some(index) => (index, true),
            None => (types.build_index()?, false),
        };
        *types.info.get_mut().unwrap_or_else(|e| e.into_inner()) = IndexInfo {
            cached: was_cached,
            took: start.elapsed(),
            names: index.len(),
        };
        *types.index.get_mut().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
        Ok(types)
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the name index came from and what it cost.
    pub fn index_info(&self) -> IndexInfo {
        *self.info.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cache file of this file's index, if it is cached.
    pub fn cache_file(&self) -> Option<&Path> {
        self.cache_file.as_deref()
    }

    /// Scan the DWARF for the index, and cache it.
    fn build_index(&self) -> Result<NameIndex, DwarfTypesError> {
        let index = index::build(&self.sections.dwarf(), self.threads).map_err(|e| {
            DwarfTypesError::Format {
                path: self.path.clone(),
                why: e.to_string(),
            }
        })?;
        if let (Some(file), Some(id)) = (&self.cache_file, &self.build_id) {
            let info_len = self.sections.bytes(SectionId::DebugInfo).len() as u64;
            // A cache that cannot be written only costs time next start.
            let _ = cache::store(file, id, info_len, &index);
        }
        Ok(index)
    }

    fn index(&self) -> Arc<NameIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The DIE for `name` in `space`, checked to be one (see the module
    /// documentation); a failed check rebuilds the index, once.
    fn lookup(&self, space: Space, name: &str) -> Option<u64> {
        let die = self.index().lookup(space, name)?;
        if self.names(die, space).is_some_and(|n| n == name) {
            return Some(die);
        }
        if self.rebuilt.swap(true, Ordering::SeqCst) {
            return None;
        }
        let start = Instant::now();
        let index = self.build_index().ok()?;
        *self.info.lock().unwrap_or_else(|e| e.into_inner()) = IndexInfo {
            cached: false,
            took: start.elapsed(),
            names: index.len(),
        };
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(index);
        self.types.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let die = self.index().lookup(space, name)?;
        self.names(die, space).is_some_and(|n| n == name).then_some(die)
    }

    /// The name of the DIE at `die` if its tag is of `space` (through its
    /// origin for a definition that has none of its own).
    fn names(&self, die: u64, space: Space) -> Option<String> {
        let (d, _) = self.read(die, false)?;
        if Space::of_tag(d.tag) != Some(space) {
            return None;
        }
        self.chain(d, false).into_iter().find_map(|(d, _)| d.name)
    }

    /// The DIE at `offset` and, if asked, its direct children.
    fn read(&self, offset: u64, children: bool) -> Option<(Die, Vec<Die>)> {
        let unit_offset = self.index().unit_of(offset)?;
        let dwarf = self.sections.dwarf();
        let header = dwarf.unit_header(gimli::DebugInfoOffset(unit_offset as usize)).ok()?;
        let within = (offset - unit_offset) as usize;
        if within < header.header_size() || within >= header.length_including_self() {
            return None;
        }
        let abbrevs = self.abbreviations(&dwarf, &header)?;
        let unit = gimli::Unit::new_with_abbreviations(&dwarf, header, abbrevs).ok()?;
        let mut tree = unit.entries_tree(Some(gimli::UnitOffset(within))).ok()?;
        let root = tree.root().ok()?;
        let die = Die::read(&dwarf, &unit, root.entry())?;
        let mut kids = Vec::new();
        if children {
            let mut it = root.children();
            while let Some(child) = it.next().ok()? {
                kids.push(Die::read(&dwarf, &unit, child.entry())?);
            }
        }
        Some((die, kids))
    }

    /// The abbreviations of a unit, from a small cache (a struct's member
    /// types are mostly in its own unit).
    fn abbreviations(
        &self,
        dwarf: &gimli::Dwarf<gimli::EndianSlice<'_, gimli::RunTimeEndian>>,
        header: &gimli::UnitHeader<gimli::EndianSlice<'_, gimli::RunTimeEndian>>,
    ) -> Option<Arc<gimli::Abbreviations>> {
        let key = header.debug_abbrev_offset().0 as u64;
        if let Some(a) = self.abbrevs.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Some(a.clone());
        }
        let a = dwarf.abbreviations(header).ok()?;
        let mut cache = self.abbrevs.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHED_ABBREVS {
            cache.clear();
        }
        cache.insert(key, a.clone());
        Some(a)
    }

    /// `die`, then the DIEs its `DW_AT_abstract_origin` or
    /// `DW_AT_specification` lead to (a few at most; bounded against
    /// cycles in damaged files).
    fn chain(&self, die: Die, children: bool) -> Vec<(Die, Vec<Die>)> {
        let mut next = die.origin;
        let kids = if children {
            self.read(die.offset, true).map(|(_, k)| k).unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut out = vec![(die, kids)];
        while let Some(at) = next.filter(|_| out.len() < 8) {
            let Some((d, k)) = self.read(at, children) else { break };
            next = d.origin;
            out.push((d, k));
        }
        out
    }

    /// Convert the type at `id` (not cached).
    fn convert(&self, id: TypeId) -> Option<Type> {
        if id == VOID {
            return Some(Type {
                name: Some("void".into()),
                size: None,
                kind: Kind::Void,
            });
        }
        let (die, kids) = self.read(id.0 & OFFSET_MASK, true)?;
        if die.tag == dw::DW_TAG_subprogram {
            return convert::function(&self.chain(die, true));
        }
        convert::to_type(&die, &kids, id.0 >> DIM_SHIFT, &|t| crate::types::size_of(self, t))
    }

    /// The link-time address of `name` from the ELF symbol table (for a
    /// linked file; a module's symbols are section offsets).
    fn symbol_address(&self, name: &str) -> Option<u64> {
        if self.sections.relocatable() {
            return None;
        }
        let symbols = self.symbols.get_or_init(|| ElfFile::open(&self.path).ok()?.symbols().ok());
        symbols.as_ref()?.by_name(name).map(|s| s.addr)
    }

    /// The global in `space` named `name`: its type (a variable's, or the
    /// function type for a subprogram) and address.
    fn global(&self, space: Space, name: &str) -> Option<Global> {
        let die = self.lookup(space, name)?;
        let (d, _) = self.read(die, false)?;
        let chain = self.chain(d, false);
        let addr = chain.iter().find_map(|(d, _)| match space {
            Space::Variable => d.addr,
            _ => d.low_pc,
        });
        let ty = match space {
            Space::Variable => chain.iter().find_map(|(d, _)| d.ty).map_or(VOID, TypeId),
            _ => TypeId(die),
        };
        Some(Global {
            name: name.to_string(),
            ty,
            addr: addr.or_else(|| self.symbol_address(name)),
        })
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
        if let Some(t) = self.types.lock().unwrap_or_else(|e| e.into_inner()).get(&id.0) {
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
}
