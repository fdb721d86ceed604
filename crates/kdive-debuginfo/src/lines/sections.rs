//! The DWARF sections of an ELF file, read from a memory map.
//!
//! A linked file (a vmlinux: `ET_EXEC`) is used in place: each section is a
//! range of the map, and only the pages a lookup touches are read. A
//! relocatable file (a module `.ko`: `ET_REL`) has its DWARF sections copied
//! and its `.rela.debug_*` relocations applied to the copies, since in such a
//! file every address and every offset into another DWARF section is left
//! for the linker to fill in. A module's debug sections are a few hundred KB.

use std::collections::HashMap;
use std::fs::File;
use std::ops::Range;
use std::path::Path;

use memmap2::Mmap;
use object::{
    CompressionFormat, Object, ObjectSection, ObjectSymbol, RelocationKind, RelocationTarget,
    SectionFlags,
};

use super::LinesError;

/// The sections a line lookup reads.
pub(super) const SECTIONS: [gimli::SectionId; 10] = [
    gimli::SectionId::DebugAbbrev,
    gimli::SectionId::DebugAddr,
    gimli::SectionId::DebugAranges,
    gimli::SectionId::DebugInfo,
    gimli::SectionId::DebugLine,
    gimli::SectionId::DebugLineStr,
    gimli::SectionId::DebugRanges,
    gimli::SectionId::DebugRngLists,
    gimli::SectionId::DebugStr,
    gimli::SectionId::DebugStrOffsets,
];

enum Data {
    /// A range of the map (linked files).
    Mapped(Range<usize>),
    /// A relocated copy (relocatable files).
    Owned(Vec<u8>),
}

/// The DWARF sections of one ELF file.
pub(crate) struct Sections {
    map: Mmap,
    endian: gimli::RunTimeEndian,
    relocatable: bool,
    data: HashMap<gimli::SectionId, Data>,
}

impl Sections {
    /// Map `path` and find its DWARF sections. For a relocatable file,
    /// `section_address` gives the address each allocated section (`.text`,
    /// `.init.text`, ...) is placed at; for `None`, see [`default_layout`].
    pub(crate) fn open(
        path: &Path,
        section_address: &dyn Fn(&str) -> Option<u64>,
    ) -> Result<Sections, LinesError> {
        let io = |source| LinesError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the map is read-only and only ever read as plain bytes; a
        // file changing under us gives wrong answers, not undefined behaviour
        // in the safe code reading it (the usual caveat of mapping a file).
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        let format = |why: String| LinesError::Format {
            path: path.to_path_buf(),
            why,
        };
        let obj = object::File::parse(&*map).map_err(|e| format(e.to_string()))?;
        if obj.format() != object::BinaryFormat::Elf {
            return Err(format("not an ELF file".into()));
        }
        let endian = if obj.is_little_endian() {
            gimli::RunTimeEndian::Little
        } else {
            gimli::RunTimeEndian::Big
        };
        let relocatable = obj.kind() == object::ObjectKind::Relocatable;
        let layout = if relocatable {
            default_layout(&obj)
        } else {
            HashMap::new()
        };
        let mut data = HashMap::new();
        for id in SECTIONS {
            let Some(section) = obj.section_by_name(id.name()) else {
                continue;
            };
            let compressed = section
                .compressed_file_range()
                .map_err(|e| format(e.to_string()))?;
            if compressed.format != CompressionFormat::None {
                return Err(LinesError::Compressed {
                    path: path.to_path_buf(),
                    section: id.name(),
                });
            }
            let Some((offset, size)) = section.file_range() else {
                continue; // SHT_NOBITS
            };
            let range = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(size).ok())
                .and_then(|(o, s)| Some(o..o.checked_add(s)?))
                .filter(|r| r.end <= map.len())
                .ok_or_else(|| format(format!("{} lies past the end of the file", id.name())))?;
            if relocatable {
                let mut bytes = map[range].to_vec();
                let place = |index: object::SectionIndex, name: &str| {
                    section_address(name)
                        .unwrap_or_else(|| layout.get(&index).copied().unwrap_or(0))
                };
                relocate(&obj, &section, &mut bytes, endian, &place)
                    .map_err(|why| format(format!("{}: {why}", id.name())))?;
                data.insert(id, Data::Owned(bytes));
            } else {
                data.insert(id, Data::Mapped(range));
            }
        }
        drop(obj);
        Ok(Sections {
            map,
            endian,
            relocatable,
            data,
        })
    }

    /// A relocatable file (`ET_REL`: a module), its sections placed by us.
    pub(crate) fn relocatable(&self) -> bool {
        self.relocatable
    }

    pub(crate) fn endian(&self) -> gimli::RunTimeEndian {
        self.endian
    }

    /// The bytes of section `id` (empty when the file has none).
    pub(crate) fn bytes(&self, id: gimli::SectionId) -> &[u8] {
        match self.data.get(&id) {
            Some(Data::Mapped(r)) => &self.map[r.clone()],
            Some(Data::Owned(v)) => v,
            None => &[],
        }
    }

    pub(crate) fn has(&self, id: gimli::SectionId) -> bool {
        self.data.contains_key(&id)
    }

    /// A gimli view of the sections, borrowing them.
    pub(crate) fn dwarf(&self) -> gimli::Dwarf<gimli::EndianSlice<'_, gimli::RunTimeEndian>> {
        let load = |id: gimli::SectionId| {
            Ok::<_, std::convert::Infallible>(gimli::EndianSlice::new(self.bytes(id), self.endian))
        };
        match gimli::Dwarf::load(load) {
            Ok(d) => d,
            Err(never) => match never {},
        }
    }
}

/// Where the allocated sections of a relocatable file go when the caller
/// does not say: `.text` at 0, then the others in file order, each at the
/// next multiple of its alignment. So `.text` addresses are offsets in it,
/// and no two sections overlap (all at their `sh_addr`, 0, they would:
/// `.init.text`'s lines would mix with `.text`'s).
fn default_layout(obj: &object::File<'_>) -> HashMap<object::SectionIndex, u64> {
    let alloc = |s: &object::Section<'_, '_>| match s.flags() {
        SectionFlags::Elf { sh_flags, .. } => sh_flags.contains(object::elf::SHF_ALLOC),
        _ => false,
    };
    let text = obj.section_by_name(".text").filter(|s| alloc(s));
    let text_index = text.as_ref().map(|s| s.index());
    let others = obj
        .sections()
        .filter(|s| alloc(s) && Some(s.index()) != text_index);
    let mut out = HashMap::new();
    let mut next = 0u64;
    for s in text.into_iter().chain(others) {
        let addr = next.next_multiple_of(s.align().max(1));
        out.insert(s.index(), addr);
        next = addr.saturating_add(s.size());
    }
    out
}

/// Apply the relocations of `section` (a copy of which is `bytes`): each
/// place gets S + A, S being the target symbol's value plus its section's
/// address (`place`; 0 for a DWARF section: references to one are offsets
/// in it).
fn relocate<'data>(
    obj: &object::File<'data>,
    section: &object::Section<'data, '_>,
    bytes: &mut [u8],
    endian: gimli::RunTimeEndian,
    place: &dyn Fn(object::SectionIndex, &str) -> u64,
) -> Result<(), String> {
    let base = |index: object::SectionIndex| -> Result<u64, String> {
        let s = obj.section_by_index(index).map_err(|e| e.to_string())?;
        let alloc = match s.flags() {
            SectionFlags::Elf { sh_flags, .. } => sh_flags.contains(object::elf::SHF_ALLOC),
            _ => false,
        };
        if !alloc {
            return Ok(0);
        }
        Ok(place(index, s.name().unwrap_or("")))
    };
    for (offset, reloc) in section.relocations() {
        match reloc.kind() {
            RelocationKind::None => continue,
            RelocationKind::Absolute => {}
            other => return Err(format!("unsupported relocation {other:?} at {offset:#x}")),
        }
        let target = match reloc.target() {
            RelocationTarget::Symbol(i) => {
                let sym = obj.symbol_by_index(i).map_err(|e| e.to_string())?;
                let b = match sym.section_index() {
                    Some(s) => base(s)?,
                    None => 0,
                };
                b.wrapping_add(sym.address())
            }
            RelocationTarget::Section(s) => base(s)?,
            _ => return Err(format!("unsupported relocation target at {offset:#x}")),
        };
        let size = match reloc.size() {
            32 => 4,
            64 => 8,
            other => return Err(format!("unsupported {other}-bit relocation at {offset:#x}")),
        };
        let place = usize::try_from(offset)
            .ok()
            .and_then(|o| bytes.get_mut(o..o.checked_add(size)?))
            .ok_or_else(|| format!("relocation at {offset:#x} outside the section"))?;
        let implicit = if reloc.has_implicit_addend() {
            read_uint(place, endian)
        } else {
            0
        };
        let value = target
            .wrapping_add(reloc.addend() as u64)
            .wrapping_add(implicit);
        write_uint(place, value, endian);
    }
    Ok(())
}

fn read_uint(place: &[u8], endian: gimli::RunTimeEndian) -> u64 {
    let mut v = 0u64;
    for i in 0..place.len() {
        let b = match endian {
            gimli::RunTimeEndian::Little => place[place.len() - 1 - i],
            gimli::RunTimeEndian::Big => place[i],
        };
        v = (v << 8) | u64::from(b);
    }
    v
}

fn write_uint(place: &mut [u8], value: u64, endian: gimli::RunTimeEndian) {
    let n = place.len();
    for (i, b) in place.iter_mut().enumerate() {
        let shift = match endian {
            gimli::RunTimeEndian::Little => 8 * i,
            gimli::RunTimeEndian::Big => 8 * (n - 1 - i),
        };
        *b = (value >> shift) as u8;
    }
}
