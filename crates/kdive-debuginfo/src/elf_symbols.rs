//! Symbols, build id and banner of a vmlinux (or any ELF file), read from a
//! memory map: a vmlinux with debuginfo is over 500 MB, of which the symbol
//! table is a few MB, and only the pages touched are read.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use object::elf::{self, FileHeader64};
use object::read::elf::{FileHeader, SectionHeader, SectionTable, Sym};
use object::{LittleEndian, SymbolIndex};

use crate::nm_kind::{nm_kind, Place, SectionInfo};
use crate::symbols::{is_noise, Symbol, SymbolTable};

/// An error reading an ELF file.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a 64-bit little-endian ELF file: {why}")]
    Format { path: PathBuf, why: String },
    #[error("{path}: has no symbol table (.symtab): a stripped vmlinux?")]
    NoSymtab { path: PathBuf },
}

/// The kernel's `linux_banner`: where it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// Its address in the vmlinux (add the KASLR offset for the dump's).
    pub addr: u64,
    /// The text, as in `Linux version 6.1.0-47-cloud-amd64 (...) #1 SMP ...`
    /// up to the NUL, newline included.
    pub text: String,
}

/// An ELF file mapped in memory.
pub struct ElfFile {
    path: PathBuf,
    map: Mmap,
}

type Elf = FileHeader64<LittleEndian>;

impl ElfFile {
    /// Map the file at `path`.
    pub fn open(path: &Path) -> Result<ElfFile, ElfError> {
        let io = |source| ElfError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; a vmlinux changing under us would
        // give wrong symbols, not undefined behaviour in safe code reading
        // plain bytes... which is the usual caveat of mapping a file.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let elf = ElfFile {
            path: path.to_path_buf(),
            map,
        };
        elf.header()?;
        Ok(elf)
    }

    /// The ELF `e_machine` (62: x86-64).
    pub fn machine(&self) -> u16 {
        self.map.get(18..20).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file, mapped.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    fn format_err(&self, e: impl std::fmt::Display) -> ElfError {
        ElfError::Format {
            path: self.path.clone(),
            why: e.to_string(),
        }
    }

    fn header(&self) -> Result<&Elf, ElfError> {
        let h = Elf::parse(&*self.map).map_err(|e| self.format_err(e))?;
        if !h.is_little_endian() {
            return Err(self.format_err("big-endian"));
        }
        Ok(h)
    }

    fn sections(&self) -> Result<SectionTable<'_, Elf>, ElfError> {
        let h = self.header()?;
        h.sections(LittleEndian, &*self.map)
            .map_err(|e| self.format_err(e))
    }

    /// The symbols of `.symtab`, with `nm`'s kinds, leaving out section and
    /// file symbols, undefined ones and [`is_noise`] ones. Sizes are
    /// `st_size` (0 for assembler labels).
    pub fn symbols(&self) -> Result<SymbolTable, ElfError> {
        let data = &*self.map;
        let sections = self.sections()?;
        let symtab = sections
            .symbols(LittleEndian, data, elf::SHT_SYMTAB)
            .map_err(|e| self.format_err(e))?;
        if symtab.is_empty() {
            return Err(ElfError::NoSymtab {
                path: self.path.clone(),
            });
        }
        let infos: Vec<SectionInfo> = sections
            .iter()
            .map(|s| {
                let name = sections.section_name(LittleEndian, s).unwrap_or(b"");
                SectionInfo::new(name, s.sh_type(LittleEndian).0, s.sh_flags(LittleEndian).0)
            })
            .collect();
        let mut out = Vec::with_capacity(symtab.len());
        for (i, sym) in symtab.iter().enumerate() {
            let typ = sym.st_type();
            if typ == elf::STT_FILE {
                continue;
            }
            // crash names a section's start by its section symbol (`rd -s`
            // shows `.data`), except for `.text`, whose start is `_stext`.
            let section_name;
            let name: &[u8] = if typ == elf::STT_SECTION {
                let Ok(Some(idx)) = symtab.symbol_section(LittleEndian, sym, SymbolIndex(i)) else {
                    continue;
                };
                let Ok(sec) = sections.section(idx) else {
                    continue;
                };
                if sec.sh_flags(LittleEndian).0 & elf::SHF_ALLOC.0 == 0 {
                    continue;
                }
                section_name = sections.section_name(LittleEndian, sec).unwrap_or(b"");
                if section_name == b".text" || section_name.is_empty() {
                    continue;
                }
                section_name
            } else {
                match sym.name(LittleEndian, symtab.strings()) {
                    Ok(n) => n,
                    Err(_) => continue,
                }
            };
            let Ok(name) = std::str::from_utf8(name) else {
                continue;
            };
            if is_noise(name) {
                continue;
            }
            let shndx = sym.st_shndx(LittleEndian);
            let place = if shndx == elf::SHN_ABS {
                Place::Absolute
            } else if shndx == elf::SHN_COMMON {
                Place::Common
            } else {
                match symtab.symbol_section(LittleEndian, sym, SymbolIndex(i)) {
                    Ok(Some(idx)) => match infos.get(idx.0) {
                        Some(info) => Place::Section(*info),
                        None => continue,
                    },
                    _ => Place::Undefined,
                }
            };
            let kind = nm_kind(sym.st_bind().0, typ.0, place);
            if matches!(kind, 'U' | 'w' | 'v') {
                continue;
            }
            out.push(Symbol {
                name: name.to_string(),
                addr: sym.st_value(LittleEndian),
                size: sym.st_size(LittleEndian),
                kind,
                module: None,
            });
        }
        Ok(SymbolTable::new(out))
    }

    /// The GNU build id (`NT_GNU_BUILD_ID` note), as VMCOREINFO's `BUILD-ID`
    /// and `readelf -n` print it: lower-case hexadecimal.
    pub fn build_id(&self) -> Result<Option<String>, ElfError> {
        let data = &*self.map;
        for s in self.sections()?.iter() {
            let Ok(Some(mut notes)) = s.notes(LittleEndian, data) else {
                continue;
            };
            while let Ok(Some(note)) = notes.next() {
                if note.name() == b"GNU" && note.n_type(LittleEndian) == elf::NT_GNU_BUILD_ID {
                    return Ok(Some(hex(note.desc())));
                }
            }
        }
        Ok(None)
    }

    /// `linux_banner`: its address and the text the vmlinux holds there.
    pub fn linux_banner(&self, symbols: &SymbolTable) -> Result<Option<Banner>, ElfError> {
        let Some(sym) = symbols.by_name("linux_banner") else {
            return Ok(None);
        };
        let Some(bytes) = self.read_at(sym.addr, 1024)? else {
            return Ok(None);
        };
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Ok(Some(Banner {
            addr: sym.addr,
            text: String::from_utf8_lossy(&bytes[..end]).into_owned(),
        }))
    }

    /// The contents of the first section named `name` (`.BTF`); `None`
    /// when there is none or it has no contents in the file.
    pub fn section(&self, name: &str) -> Option<&[u8]> {
        let sections = self.sections().ok()?;
        let s = sections
            .iter()
            .find(|s| sections.section_name(LittleEndian, s) == Ok(name.as_bytes()))?;
        if s.sh_type(LittleEndian) == elf::SHT_NOBITS {
            return None;
        }
        s.data(LittleEndian, &*self.map).ok()
    }

    /// Up to `len` bytes of the file's contents at link-time address
    /// `addr`, from the allocated section holding it (`None`: no section
    /// with contents there).
    pub fn read_at(&self, addr: u64, len: usize) -> Result<Option<&[u8]>, ElfError> {
        let data = &*self.map;
        for s in self.sections()?.iter() {
            let flags = s.sh_flags(LittleEndian);
            let (start, size) = (s.sh_addr(LittleEndian), s.sh_size(LittleEndian));
            if !flags.contains(elf::SHF_ALLOC)
                || s.sh_type(LittleEndian) == elf::SHT_NOBITS
                || addr < start
                || addr - start >= size
            {
                continue;
            }
            let Ok(bytes) = s.data(LittleEndian, data) else {
                continue;
            };
            let off = (addr - start) as usize;
            let end = off.saturating_add(len).min(bytes.len());
            return Ok(bytes.get(off..end));
        }
        Ok(None)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
