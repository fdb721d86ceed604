//! Reading DIEs: the unit a DIE is in, the DIE and its children as
//! [`Die`]s, the chain of DIEs a definition refers back to, and a DIE's
//! conversion to a [`Type`].

use std::cell::Cell;
use std::sync::Arc;

use gimli::{constants as dw, EndianSlice, RunTimeEndian};

use super::convert::{self, Die, DIM_SHIFT, OFFSET_MASK};
use super::scan::Space;
use super::units;
use super::{DwarfTypes, CACHED_ABBREVS, VOID};
use crate::types::{Kind, Type, TypeId, TypeSource};

type R<'a> = EndianSlice<'a, RunTimeEndian>;

impl DwarfTypes {
    /// The offset of the unit holding `.debug_info` offset `at`, and its
    /// header. Without the index, the unit headers are read from the start
    /// as far as needed: all of them would take a few ms (one page fault
    /// per unit, all over the file) where the common types are in the
    /// first units. A unit of the index's list must end where the next
    /// begins.
    pub(super) fn unit_of(&self, at: u64) -> Option<(u64, gimli::UnitHeader<R<'_>>)> {
        let info = &self.sections.dwarf().debug_info;
        let header = |start: u64| {
            info.header_from_offset(gimli::DebugInfoOffset(start as usize))
                .ok()
        };
        let mut units = self.units.lock().unwrap_or_else(|e| e.into_inner());
        while units.end <= at {
            let start = units.end;
            let h = header(start)?;
            units.starts.push(start);
            units.end = start + h.length_including_self() as u64;
        }
        let i = units.starts.partition_point(|&u| u <= at).checked_sub(1)?;
        let start = units.starts[i];
        let h = header(start)?;
        let end = start + h.length_including_self() as u64;
        let fits = match units.starts.get(i + 1) {
            Some(&next) => end == next,
            None => end <= units.end,
        };
        fits.then_some((start, h))
    }

    /// Whether the DIE at `die` has a tag of `space` and is `name` (through
    /// its origin for a definition that has no name of its own); for
    /// [`Space::Enumerator`], whether it is an enum with a constant `name`.
    pub(super) fn is_named(&self, die: u64, space: Space, name: &str) -> bool {
        if space == Space::Enumerator {
            return self.read(die, true).is_some_and(|(d, kids)| {
                d.tag == dw::DW_TAG_enumeration_type
                    && kids
                        .iter()
                        .any(|k| k.tag == dw::DW_TAG_enumerator && k.name.as_deref() == Some(name))
            });
        }
        let Some((d, _)) = self.read(die, false) else {
            return false;
        };
        if Space::of_tag(d.tag) != Some(space) {
            return false;
        }
        self.chain((d, Vec::new()), false)
            .into_iter()
            .find_map(|(d, _)| d.name)
            .is_some_and(|n| n == name)
    }

    /// The DIE at `offset` and, if asked, its direct children.
    pub(super) fn read(&self, offset: u64, children: bool) -> Option<(Die, Vec<Die>)> {
        let (unit_offset, header) = self.unit_of(offset)?;
        let dwarf = self.sections.dwarf();
        let within = (offset - unit_offset) as usize;
        if within < header.header_size() || within >= header.length_including_self() {
            return None;
        }
        let abbrevs = self.abbreviations(&dwarf, &header)?;
        let unit = units::open_unit(&dwarf, header, abbrevs).ok()?;
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
    pub(super) fn abbreviations(
        &self,
        dwarf: &gimli::Dwarf<R<'_>>,
        header: &gimli::UnitHeader<R<'_>>,
    ) -> Option<Arc<gimli::Abbreviations>> {
        let key = header.debug_abbrev_offset().0 as u64;
        if let Some(a) = self
            .abbrevs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
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

    /// `first` (a DIE and its children, if `children`), then the DIEs its
    /// `DW_AT_abstract_origin` or `DW_AT_specification` lead to (a few at
    /// most; bounded against cycles in damaged files).
    pub(super) fn chain(&self, first: (Die, Vec<Die>), children: bool) -> Vec<(Die, Vec<Die>)> {
        let mut next = first.0.origin;
        let mut out = vec![first];
        while let Some(at) = next.filter(|_| out.len() < 8) {
            let Some((d, k)) = self.read(at, children) else {
                break;
            };
            next = d.origin;
            out.push((d, k));
        }
        out
    }

    /// Convert the type at `id` (not cached). Converting an array needs
    /// the size of its element, so conversions nest: bounded, against
    /// cycles in damaged files.
    pub(super) fn convert(&self, id: TypeId) -> Option<Type> {
        thread_local!(static DEPTH: Cell<u32> = const { Cell::new(0) });
        if id == VOID {
            return Some(Type {
                name: Some("void".into()),
                size: None,
                kind: Kind::Void,
            });
        }
        let depth = DEPTH.get();
        if depth > 32 {
            return None;
        }
        DEPTH.set(depth + 1);
        let t = self.read(id.0 & OFFSET_MASK, true).and_then(|(die, kids)| {
            if die.tag == dw::DW_TAG_subprogram {
                return convert::function(&self.chain((die, kids), true));
            }
            convert::to_type(&die, &kids, id.0 >> DIM_SHIFT, &|t| self.size(t))
        });
        DEPTH.set(depth);
        t
    }

    /// The size of a type, through typedefs and qualifiers (an array's own
    /// size is worked out when it is converted); bounded, unlike a walk
    /// that trusts the file to have no cycles.
    fn size(&self, mut id: TypeId) -> Option<u64> {
        for _ in 0..32 {
            let t = self.get(id)?;
            if t.size.is_some() {
                return t.size;
            }
            match t.kind {
                Kind::Typedef { target } | Kind::Qualified { target, .. } => id = target,
                _ => return None,
            }
        }
        None
    }
}
