//! The one place walkers learn where things are in the kernel's structures:
//! offsets, sizes, array lengths and enum constants by name, from the type
//! model ([`TypeSource`]) whichever source is behind it: the kernel's BTF
//! when it has one (in memory, quick to read), else the vmlinux's DWARF.
//! No walker reads BTF or DWARF itself, so a kernel with either gets every
//! walker (`--no-btf` checks the DWARF side on kernels that have both).
//!
//! Failures name what is missing ([`LayoutError`]).

use std::sync::Arc;

use kdive_debuginfo::types::{self, Kind, Namespace, Type, TypeId, TypeSource};

use crate::{Kernel, LayoutError};

/// Type chains (typedefs of typedefs, nested anonymous members) longer
/// than this are taken as damaged.
const MAX_CHAIN: u32 = 32;

/// The kernel's types, with name look-ups for walkers.
#[derive(Clone, Copy)]
pub struct Layouts<'a> {
    src: &'a dyn TypeSource,
}

/// Where a member is: from [`Layouts::member_offset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberInfo {
    /// Bits from the start of the outer type.
    pub offset_bits: u64,
    /// The width of a bitfield in bits; 0 for a member that is not one.
    pub bitfield_size: u32,
    /// The member's type (may be a typedef).
    pub type_id: TypeId,
}

impl MemberInfo {
    /// The byte offset (of the byte holding the first bit, for a bitfield).
    pub fn offset(&self) -> u64 {
        self.offset_bits / 8
    }

    pub fn is_bitfield(&self) -> bool {
        self.bitfield_size != 0
    }
}

/// An array type's element and length (0: flexible or unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrayInfo {
    pub elem: TypeId,
    pub len: u64,
}

impl<'a> Layouts<'a> {
    pub fn new(src: &'a dyn TypeSource) -> Layouts<'a> {
        Layouts { src }
    }

    /// The kernel's layouts, or why it has no types.
    pub(crate) fn of(k: &'a Kernel) -> Result<Layouts<'a>, LayoutError> {
        k.layouts_or_err()
    }

    /// The byte offset of `path` in struct/union `outer`.
    pub fn off(&self, outer: &str, path: &str) -> Result<u64, LayoutError> {
        self.member_offset(outer, path)
            .map(|m| m.offset())
            .ok_or_else(|| LayoutError::member(outer, path))
    }

    /// Whether `outer` has a member `path`.
    pub fn has(&self, outer: &str, path: &str) -> bool {
        self.member_offset(outer, path).is_some()
    }

    /// The size of struct/union `name`.
    pub fn size(&self, name: &str) -> Result<u64, LayoutError> {
        self.find_aggregate(name)
            .and_then(|id| self.size_of(id))
            .ok_or_else(|| LayoutError::ty(name))
    }

    /// The size of member `path` of `outer`.
    pub fn member_size(&self, outer: &str, path: &str) -> Option<u64> {
        let m = self.member_offset(outer, path)?;
        self.size_of(m.type_id)
    }

    /// The number of elements of array member `path` of `outer`.
    pub fn array_len(&self, outer: &str, path: &str) -> Option<u64> {
        let m = self.member_offset(outer, path)?;
        self.array_info(m.type_id).map(|a| a.len)
    }

    /// The type behind `id`.
    pub fn ty(&self, id: TypeId) -> Option<Arc<Type>> {
        self.src.get(id)
    }

    /// The type's name, empty when it has none.
    pub fn name(&self, id: TypeId) -> String {
        self.ty(id).and_then(|t| t.name.clone()).unwrap_or_default()
    }

    /// The type of the global variable `name`, where the source knows it
    /// (BTF knows only the per-CPU ones).
    pub fn variable_type(&self, name: &str) -> Option<TypeId> {
        self.src.variable(name).map(|g| g.ty)
    }

    /// The struct named `name` (a definition before a declaration).
    pub fn find_struct(&self, name: &str) -> Option<TypeId> {
        self.src.find(Namespace::Struct, name)
    }

    /// The struct, union or typedef named `name`, in that order: what
    /// `struct NAME`, `union NAME` or `NAME` may mean.
    pub fn find_aggregate(&self, name: &str) -> Option<TypeId> {
        self.src
            .find(Namespace::Struct, name)
            .or_else(|| self.src.find(Namespace::Union, name))
            .or_else(|| self.src.find(Namespace::Plain, name))
    }

    /// The resolved type of `id`.
    pub fn resolved(&self, id: TypeId) -> Option<Arc<Type>> {
        types::strip(self.src, id).map(|(_, t)| t)
    }

    /// The size in bytes of a value of type `id`.
    pub fn size_of(&self, id: TypeId) -> Option<u64> {
        types::size_of(self.src, id)
    }

    /// What a pointer type points to (after resolving `id`).
    pub fn pointee(&self, id: TypeId) -> Option<TypeId> {
        match self.resolved(id)?.kind {
            Kind::Pointer { target } => Some(target),
            _ => None,
        }
    }

    /// The element type and length of an array type (after resolving `id`).
    pub fn array_info(&self, id: TypeId) -> Option<ArrayInfo> {
        match self.resolved(id)?.kind {
            Kind::Array { elem, len } => Some(ArrayInfo {
                elem,
                len: len.unwrap_or(0),
            }),
            _ => None,
        }
    }

    /// Where the member at `path` is in the struct, union or typedef named
    /// `outer` (see [`Self::member_offset_in`]).
    pub fn member_offset(&self, outer: &str, path: &str) -> Option<MemberInfo> {
        self.member_offset_in(self.find_aggregate(outer)?, path)
    }

    /// Where the member at `path` is in type `id`. `path` is member names
    /// joined by dots, each optionally followed by array indices: a number,
    /// or the name of an enum constant (`mem[MOD_TEXT].size`,
    /// `core_layout.base`). Members of anonymous structs and unions are
    /// found by their own names, as in C. Indices are not checked against
    /// the array's length.
    pub fn member_offset_in(&self, id: TypeId, path: &str) -> Option<MemberInfo> {
        let mut out = MemberInfo {
            offset_bits: 0,
            bitfield_size: 0,
            type_id: id,
        };
        if path.is_empty() {
            return None;
        }
        for part in path.split('.') {
            let (name, mut indices) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if !name.is_empty() {
                let m = types::member(self.src, out.type_id, name)?;
                out.offset_bits = out.offset_bits.checked_add(m.offset_bits)?;
                out.type_id = m.member.ty;
                out.bitfield_size = m.member.bit_size.unwrap_or(0);
            } else if indices.is_empty() {
                return None;
            }
            while !indices.is_empty() {
                let rest = indices.strip_prefix('[')?;
                let close = rest.find(']')?;
                let index = self.index_value(rest[..close].trim())?;
                indices = &rest[close + 1..];
                let a = self.array_info(out.type_id)?;
                let elem_bits = self.size_of(a.elem)?.checked_mul(8)?;
                out.offset_bits = out.offset_bits.checked_add(index.checked_mul(elem_bits)?)?;
                out.type_id = a.elem;
                out.bitfield_size = 0;
            }
        }
        Some(out)
    }

    fn index_value(&self, s: &str) -> Option<u64> {
        if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            u64::from_str_radix(h, 16).ok()
        } else if s.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            self.enumerator(s).and_then(|v| u64::try_from(v).ok())
        }
    }

    /// The constants of the enum named `enum_name`, in order.
    pub fn enum_values(&self, enum_name: &str) -> Option<Vec<(String, i64)>> {
        let id = self.src.find(Namespace::Enum, enum_name)?;
        let mut id = id;
        for _ in 0..MAX_CHAIN {
            let t = self.ty(id)?;
            match &t.kind {
                Kind::Enum { values } => return Some(values.clone()),
                Kind::Typedef { target } | Kind::Qualified { target, .. } => id = *target,
                _ => return None,
            }
        }
        None
    }

    /// The value of `constant` in the enum named `enum_name`.
    pub fn enum_value(&self, enum_name: &str, constant: &str) -> Option<i64> {
        let t = self.ty(self.src.find(Namespace::Enum, enum_name)?)?;
        match &t.kind {
            Kind::Enum { values } => values.iter().find(|(n, _)| n == constant).map(|&(_, v)| v),
            _ => None,
        }
    }

    /// The value of the enum constant `name`, in whichever enum (named or
    /// anonymous) declares it.
    pub fn enumerator(&self, name: &str) -> Option<i64> {
        self.src.enumerator(name).map(|(_, v)| v)
    }
}

impl Kernel {
    /// The kernel's layouts (see [`Layouts`]), or `None` with no types.
    pub fn layouts(&self) -> Option<Layouts<'_>> {
        self.layout_source().ok().map(Layouts::new)
    }

    /// [`Self::layouts`], or why there are none.
    pub fn layouts_or_err(&self) -> Result<Layouts<'_>, LayoutError> {
        self.layout_source()
            .map(Layouts::new)
            .map_err(LayoutError::NoBtf)
    }

    /// A readable NUL-terminated string at `addr` (`None` for a NULL
    /// pointer or unreadable memory), as crash's `read_string`.
    pub(crate) fn string_at(&self, addr: u64, max: usize) -> Option<String> {
        if addr == 0 {
            return None;
        }
        self.read_cstr(addr, max).ok()
    }
}

/// Layouts over a copy of `btf`, for tests (leaked: a test's BTF is small
/// and lives as long as the test).
#[cfg(test)]
pub(crate) fn test_layouts(btf: &kdive_debuginfo::btf::Btf) -> Layouts<'static> {
    let copy = kdive_debuginfo::btf::Btf::parse(btf.bytes()).expect("a parsed BTF parses again");
    let types = kdive_debuginfo::btf_types::BtfTypes::new(Arc::new(copy));
    Layouts::new(Box::leak(Box::new(types)))
}
