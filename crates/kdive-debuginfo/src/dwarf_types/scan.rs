//! The scan of a unit's top-level DIEs (children of the CU's root), which
//! is where C puts its types, globals and functions: it reads only the
//! attributes it needs, jumps over each DIE's children with
//! `DW_AT_sibling`, and leaves names in `.debug_str` as offsets until
//! someone needs their bytes. Both the full index and the search for one
//! name use it, with the same ranking, so both pick the same DIE.
//!
//! The one exception to the jump: a top-level enum's children, its
//! constants (`DW_TAG_enumerator`), are read for their names, which name
//! the enum in a name space of their own ([`Space::Enumerator`]); enums
//! are the only way to the constants of anonymous ones (`enum {
//! MM_FILEPAGES, ... }`), and a small share of `.debug_info`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::ControlFlow;

use gimli::{constants as dw, AttributeValue, EndianSlice, RunTimeEndian, Section};

use super::units::{global_ref, open_unit, unit_holding};

pub(super) type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// What a name names: C's tag name spaces, plain type names, and the two
/// kinds of globals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub(super) enum Space {
    Struct = 0,
    Union = 1,
    Enum = 2,
    /// Typedefs and base types.
    Plain = 3,
    Variable = 4,
    Function = 5,
    /// Enum constants: the name is a constant's, the DIE its enum's.
    Enumerator = 6,
}

impl Space {
    pub(super) fn from_u8(v: u8) -> Option<Space> {
        [
            Space::Struct,
            Space::Union,
            Space::Enum,
            Space::Plain,
            Space::Variable,
            Space::Function,
            Space::Enumerator,
        ]
        .get(usize::from(v))
        .copied()
    }

    /// The space of a top-level DIE's tag, if it is one the index keeps
    /// (never [`Space::Enumerator`], whose DIEs are an enum's children).
    pub(super) fn of_tag(tag: gimli::DwTag) -> Option<Space> {
        Some(match tag {
            dw::DW_TAG_structure_type | dw::DW_TAG_class_type => Space::Struct,
            dw::DW_TAG_union_type => Space::Union,
            dw::DW_TAG_enumeration_type => Space::Enum,
            dw::DW_TAG_typedef | dw::DW_TAG_base_type | dw::DW_TAG_unspecified_type => Space::Plain,
            dw::DW_TAG_variable => Space::Variable,
            dw::DW_TAG_subprogram => Space::Function,
            _ => return None,
        })
    }
}

/// A DIE's name: an offset in `.debug_str` (almost all of them, and the
/// linker merges equal strings, so equal offsets are equal names), or the
/// bytes of one written in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Name<'a> {
    Str(u64),
    Bytes(&'a [u8]),
}

/// One named top-level DIE.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found<'a> {
    pub space: Space,
    pub name: Name<'a>,
    /// See [`rank`]: lower is better.
    pub rank: u8,
    /// Offset in `.debug_info`.
    pub die: u64,
    /// A function's `DW_AT_low_pc`.
    pub low_pc: Option<u64>,
    /// A function's code is in several ranges (`DW_AT_ranges`: GCC puts
    /// the unlikely paths in `.text.unlikely`).
    pub ranges: bool,
}

/// What the scan reads of a top-level DIE.
#[derive(Default)]
struct Facts<'a> {
    name: Option<Name<'a>>,
    declaration: bool,
    external: bool,
    /// A variable with an address, or a function with code.
    placed: bool,
    low_pc: Option<u64>,
    ranges: bool,
    sibling: Option<gimli::UnitOffset>,
    /// `DW_AT_specification` or `DW_AT_abstract_origin`: where the name is
    /// when the DIE has none.
    origin: Option<u64>,
}

/// How good a DIE is for its name: lower wins; among equals, the first in
/// `.debug_info`. Definitions beat declarations (the kernel has
/// `struct x;` in many CUs), globals with an address beat those without
/// (`extern` declarations; copies of code the linker dropped, at 0), and
/// external ones beat `static` ones of the same name.
fn rank(space: Space, f: &Facts) -> u8 {
    match space {
        Space::Variable | Space::Function => match (f.placed, f.external, f.declaration) {
            (true, true, _) => 0,
            (true, false, _) => 1,
            (false, _, false) => 2,
            (false, _, true) => 3,
        },
        _ => u8::from(f.declaration),
    }
}

/// A fast hash for the scan's maps (std's SipHash is several times slower
/// on millions of short keys, and DoS resistance is not needed here).
#[derive(Default)]
pub(super) struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let mut last = [0u8; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(last) ^ bytes.len() as u64);
    }
    fn write_u8(&mut self, v: u8) {
        self.add(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

/// Scans units of one file.
pub(super) struct Scanner<'a> {
    pub dwarf: &'a gimli::Dwarf<R<'a>>,
    /// A module: its sections are placed by us, so an address of 0 is real
    /// code (`.text`), not a copy the linker dropped.
    pub relocatable: bool,
}

impl<'a> Scanner<'a> {
    /// The bytes of a name.
    pub(super) fn bytes(&self, name: Name<'a>) -> &'a [u8] {
        match name {
            Name::Bytes(b) => b,
            Name::Str(o) => self
                .dwarf
                .debug_str
                .get_str(gimli::DebugStrOffset(o as usize))
                .map_or(&[][..], |s| s.slice()),
        }
    }

    /// Whether `name` is `target`, without measuring the string first.
    pub(super) fn is(&self, name: Name<'a>, target: &[u8]) -> bool {
        match name {
            Name::Bytes(b) => b == target,
            Name::Str(o) => {
                let s = self.dwarf.debug_str.reader().slice();
                let tail = s.get(o as usize..).unwrap_or_default();
                tail.len() > target.len() && tail.starts_with(target) && tail[target.len()] == 0
            }
        }
    }

    /// Call `sink` for every named top-level DIE of the unit of `header`,
    /// until it says stop.
    pub(super) fn unit(
        &self,
        header: gimli::UnitHeader<R<'a>>,
        sink: &mut impl FnMut(Found<'a>) -> ControlFlow<()>,
    ) -> gimli::Result<ControlFlow<()>> {
        let abbrevs = self.dwarf.abbreviations(&header)?;
        let unit = open_unit(self.dwarf, header, abbrevs)?;
        let Some(base) = header.debug_info_offset().map(|o| o.0 as u64) else {
            return Ok(ControlFlow::Continue(()));
        };
        // Names of this unit's globals, for the definitions that point back
        // at their declaration (DW_AT_specification, usually just before).
        let mut named: FxMap<u64, (Name<'a>, bool)> = FxMap::default();
        let mut raw = unit.entries_raw(None)?;
        // The depth `raw` counts from: after a jump to a sibling, a new
        // reader starts at 0 for what is depth 1.
        let mut depth_base = 0isize;
        // The top-level enum being read (its DIE and rank), for its
        // constants, the DIEs at depth 2 until the next top-level DIE.
        let mut in_enum: Option<(u64, u8)> = None;
        while !raw.is_empty() {
            let depth = raw.next_depth() + depth_base;
            let offset = raw.next_offset();
            let Some(abbrev) = raw.read_abbreviation()? else {
                if raw.next_depth() + depth_base < 1 {
                    break; // the end of the root's children
                }
                continue;
            };
            if depth == 1 {
                in_enum = None;
            }
            if let Some((die, rank)) = in_enum.filter(|_| depth == 2) {
                let name = self.read_name(&unit, &mut raw, abbrev)?;
                if let Some(name) = name.filter(|_| abbrev.tag() == dw::DW_TAG_enumerator) {
                    let found = Found {
                        space: Space::Enumerator,
                        name,
                        rank,
                        die,
                        low_pc: None,
                        ranges: false,
                    };
                    if sink(found).is_break() {
                        return Ok(ControlFlow::Break(()));
                    }
                }
                continue;
            }
            let Some(space) = Space::of_tag(abbrev.tag()).filter(|_| depth == 1) else {
                raw.skip_attributes(abbrev.attributes())?;
                continue;
            };
            let mut f = Facts::default();
            // Runs of attributes not needed are skipped in one call.
            let specs = abbrev.attributes();
            let mut skip_from = 0;
            for (i, spec) in specs.iter().enumerate() {
                if needed(spec.name()) {
                    raw.skip_attributes(&specs[skip_from..i])?;
                    let attr = raw.read_attribute(*spec)?;
                    self.note(&unit, &attr, &mut f);
                    skip_from = i + 1;
                }
            }
            raw.skip_attributes(&specs[skip_from..])?;
            let die = base + offset.0 as u64;
            if space == Space::Enum && abbrev.has_children() {
                in_enum = Some((die, rank(space, &f)));
            } else if let Some(sib) = f
                .sibling
                .filter(|s| abbrev.has_children() && s.0 > offset.0)
            {
                raw = unit.entries_raw(Some(sib))?;
                depth_base = 1;
            }
            if f.name.is_none() {
                if let Some(origin) = f.origin {
                    let known = named.get(&origin).copied();
                    if let Some((name, external)) =
                        known.or_else(|| self.origin_name(&unit, origin))
                    {
                        f.name = Some(name);
                        f.external |= external;
                    }
                }
            }
            let Some(name) = f.name else { continue };
            if matches!(space, Space::Variable | Space::Function) {
                named.insert(die, (name, f.external));
            }
            let found = Found {
                space,
                name,
                rank: rank(space, &f),
                die,
                low_pc: f.low_pc,
                ranges: f.ranges,
            };
            if sink(found).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    /// The `DW_AT_name` of the DIE whose attributes `raw` is at, which it
    /// reads past.
    fn read_name(
        &self,
        unit: &gimli::Unit<R<'a>>,
        raw: &mut gimli::EntriesRaw<'_, R<'a>>,
        abbrev: &gimli::Abbreviation,
    ) -> gimli::Result<Option<Name<'a>>> {
        let specs = abbrev.attributes();
        let Some(i) = specs.iter().position(|s| s.name() == dw::DW_AT_name) else {
            raw.skip_attributes(specs)?;
            return Ok(None);
        };
        raw.skip_attributes(&specs[..i])?;
        let attr = raw.read_attribute(specs[i])?;
        raw.skip_attributes(&specs[i + 1..])?;
        Ok(self.name(unit, attr.value()))
    }

    /// Record in `f` what `attr` says.
    fn note(&self, unit: &gimli::Unit<R<'a>>, attr: &gimli::Attribute<R<'a>>, f: &mut Facts<'a>) {
        let value = attr.value();
        match attr.name() {
            dw::DW_AT_name => f.name = self.name(unit, value),
            dw::DW_AT_declaration => f.declaration = value != AttributeValue::Flag(false),
            dw::DW_AT_external => f.external = value != AttributeValue::Flag(false),
            dw::DW_AT_location => f.placed = self.placed_location(unit, value),
            dw::DW_AT_low_pc => {
                f.low_pc = self.dwarf.attr_address(unit, value).ok().flatten();
                f.placed = self.relocatable || f.low_pc != Some(0);
            }
            dw::DW_AT_ranges => (f.placed, f.ranges) = (true, true),
            dw::DW_AT_sibling => {
                if let AttributeValue::UnitRef(o) = value {
                    f.sibling = Some(o);
                }
            }
            _ => f.origin = global_ref(unit, value),
        }
    }

    /// A name attribute's value, left as an offset when it is one.
    fn name(&self, unit: &gimli::Unit<R<'a>>, value: AttributeValue<R<'a>>) -> Option<Name<'a>> {
        match value {
            AttributeValue::DebugStrRef(o) => Some(Name::Str(o.0 as u64)),
            AttributeValue::DebugStrOffsetsIndex(i) => {
                Some(Name::Str(self.dwarf.string_offset(unit, i).ok()?.0 as u64))
            }
            v => Some(Name::Bytes(self.dwarf.attr_string(unit, v).ok()?.slice())),
        }
    }

    /// Whether a variable's location gives it a place: anything but an
    /// address of 0 in a linked file (where the linker put the variables of
    /// sections it dropped).
    fn placed_location(&self, unit: &gimli::Unit<R<'a>>, value: AttributeValue<R<'a>>) -> bool {
        let AttributeValue::Exprloc(expr) = value else {
            return true; // a location list: a local's, never at top level
        };
        match gimli::Operation::parse(&mut expr.0.clone(), unit.encoding()) {
            Ok(gimli::Operation::Address { address: 0 }) => self.relocatable,
            _ => true,
        }
    }

    /// The name and `DW_AT_external` of the DIE at `origin`, following its
    /// own origin (a concrete function points at an abstract one, which
    /// may point at a declaration).
    fn origin_name(&self, unit: &gimli::Unit<R<'a>>, origin: u64) -> Option<(Name<'a>, bool)> {
        let mut at = origin;
        let mut external = false;
        for _ in 0..4 {
            let other;
            let base = unit.header.debug_info_offset()?.0 as u64;
            let u = if (base..base + unit.header.length_including_self() as u64).contains(&at) {
                unit
            } else {
                // A reference to another unit (DW_FORM_ref_addr): rare in C.
                let h = self
                    .dwarf
                    .unit_header(gimli::DebugInfoOffset(unit_holding(self.dwarf, at)?))
                    .ok()?;
                other = open_unit(self.dwarf, h, self.dwarf.abbreviations(&h).ok()?).ok()?;
                &other
            };
            let u_base = u.header.debug_info_offset()?.0 as u64;
            let entry = u.entry(gimli::UnitOffset((at - u_base) as usize)).ok()?;
            let flag = entry.attr_value(dw::DW_AT_external);
            external |= flag.is_some_and(|v| v != AttributeValue::Flag(false));
            if let Some(n) = entry.attr_value(dw::DW_AT_name) {
                return Some((self.name(u, n)?, external));
            }
            let next = entry
                .attr_value(dw::DW_AT_abstract_origin)
                .or_else(|| entry.attr_value(dw::DW_AT_specification))?;
            at = global_ref(u, next)?;
        }
        None
    }
}

/// The attributes the scan reads (see [`Scanner::note`]).
fn needed(name: gimli::DwAt) -> bool {
    matches!(
        name,
        dw::DW_AT_name
            | dw::DW_AT_declaration
            | dw::DW_AT_external
            | dw::DW_AT_location
            | dw::DW_AT_low_pc
            | dw::DW_AT_ranges
            | dw::DW_AT_sibling
            | dw::DW_AT_specification
            | dw::DW_AT_abstract_origin
    )
}
