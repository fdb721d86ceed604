//! Where SLUB's fields are, from the kernel's BTF: `struct slab` (5.17 and
//! later) or the slab fields of `struct page` (before), `slab_list` or
//! `lru`, per-CPU slabs (`kmem_cache_cpu.slab` or `.page`) or per-CPU
//! sheaves (7.x, [`super::sheaves`]), `kmem_cache.node[]` or
//! `.per_node[].node`, and the members that only some configurations have
//! (`random`, `red_left_pad`, `partial`, `nr_slabs`, `full`).

use crate::offsets::{Layouts, MemberInfo};

use super::sheaves::SheafOffsets;
use super::{SLAB_RED_ZONE, SLAB_STORE_USER};
use crate::{Error, LayoutError};

/// A member's place in its structure: bit offset and width (the type's
/// size for a member that is not a bitfield).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub bit: u64,
    pub bits: u32,
}

impl Field {
    pub fn of(layouts: Layouts<'_>, m: MemberInfo) -> Option<Field> {
        let bits = if m.is_bitfield() {
            m.bitfield_size
        } else {
            u32::try_from(layouts.size_of(m.type_id)?.checked_mul(8)?).ok()?
        };
        (1..=64).contains(&bits).then_some(Field {
            bit: m.offset_bits,
            bits,
        })
    }

    /// The byte offset of a field that is not a bitfield.
    pub fn byte(&self) -> u64 {
        self.bit / 8
    }

    /// The field's value in `buf` (the structure's bytes, little-endian);
    /// `None` when `buf` is too short.
    pub fn get(&self, buf: &[u8]) -> Option<u64> {
        let start = usize::try_from(self.bit / 8).ok()?;
        let shift = (self.bit % 8) as u32;
        let len = (shift + self.bits).div_ceil(8) as usize;
        let bytes = buf.get(start..start.checked_add(len)?)?;
        let mut v: u128 = 0;
        for (i, b) in bytes.iter().enumerate() {
            v |= u128::from(*b) << (8 * i);
        }
        let v = v >> shift;
        let mask = if self.bits == 64 {
            u64::MAX
        } else {
            (1u64 << self.bits) - 1
        };
        Some(v as u64 & mask)
    }
}

/// `struct kmem_cache_cpu`: each CPU's slab, free list and partial list
/// (SLUB before 7.x).
#[derive(Debug, Clone)]
pub(crate) struct CpuSlabOffsets {
    pub cpu_slab: Field,
    pub len: u64,
    pub freelist: Field,
    pub page: Field,
    /// `CONFIG_SLUB_CPU_PARTIAL`.
    pub partial: Option<Field>,
}

/// Every offset the walk uses, found once per walk.
#[derive(Debug, Clone)]
pub(crate) struct Offsets {
    /// Bytes of `struct kmem_cache` before `node[]` (`per_node[]`).
    pub cache_len: u64,
    /// Per-CPU slabs (before 7.x), per-CPU sheaves (7.x): either or both.
    pub cpu: Option<CpuSlabOffsets>,
    pub sheaves: Option<SheafOffsets>,
    pub flags: Field,
    /// `SLAB_RED_ZONE` and `SLAB_STORE_USER` in `kmem_cache.flags`.
    pub red_zone_flag: u64,
    pub store_user_flag: u64,
    pub size: Field,
    pub object_size: Field,
    pub offset: Field,
    pub oo: Field,
    pub red_left_pad: Option<Field>,
    pub name: Field,
    /// `kmem_cache.list`, the link on `slab_caches`.
    pub list: u64,
    /// `CONFIG_SLAB_FREELIST_HARDENED`: the free pointers are scrambled.
    pub random: Option<Field>,
    /// `kmem_cache.node[]` (or `.per_node[]`) and its declared length;
    /// the bytes of one element, and where its node pointer is in it.
    pub node: u64,
    pub node_len: u64,
    pub node_stride: u64,
    pub node_ptr: u64,
    /// `struct kmem_cache_node`.
    pub node_struct_len: u64,
    pub nr_partial: Field,
    pub partial: u64,
    /// `CONFIG_SLUB_DEBUG`.
    pub nr_slabs: Option<Field>,
    pub total_objects: Option<Field>,
    pub full: Option<u64>,
    /// `struct slab`, or `struct page` before 5.17.
    pub slab_len: u64,
    pub slab_list: u64,
    pub slab_cache: Field,
    pub slab_freelist: Field,
    pub inuse: Field,
    pub objects: Field,
    pub frozen: Option<Field>,
    /// The per-CPU partial list's link (`CONFIG_SLUB_CPU_PARTIAL`).
    pub slab_next: Option<Field>,
    /// `sizeof(struct page)`: the stride of the `vmemmap` array.
    pub page_size: u64,
    pub page_flags: Field,
    /// `compound_head`, `compound_info` in 7.x.
    pub compound_head: Option<Field>,
    /// The bit number of `PG_slab` in `page.flags`.
    pub pg_slab: Option<u32>,
    /// Where there is no `PG_slab` (by 6.12): `page.page_type` and the
    /// `PGTY_slab` its top byte holds for a slab.
    pub page_type: Option<(Field, u64)>,
}

/// `SLAB_*` flags: bits of `enum _slab_flag_bits` by 6.12,
/// fixed values before.
fn slab_flag(layouts: Layouts<'_>, bit: &str, old: u64) -> u64 {
    layouts
        .enum_value("_slab_flag_bits", bit)
        .filter(|b| (0..64).contains(b))
        .map_or(old, |b| 1 << b)
}

impl Offsets {
    pub fn from_layouts(layouts: Layouts<'_>) -> Result<Offsets, Error> {
        let field = |outer: &str, path: &str| -> Result<Field, LayoutError> {
            layouts
                .member_offset(outer, path)
                .and_then(|m| Field::of(layouts, m))
                .ok_or_else(|| LayoutError::member(outer, path))
        };
        let opt = |outer: &str, path: &str| field(outer, path).ok();
        let size = |name: &str| -> Result<u64, LayoutError> {
            layouts
                .find_aggregate(name)
                .and_then(|id| layouts.size_of(id))
                .ok_or_else(|| LayoutError::ty(name))
        };
        let sheaves = SheafOffsets::from_layouts(layouts)?;
        if layouts.member_offset("kmem_cache", "cpu_slab").is_none() && sheaves.is_none() {
            return Err(Error::Unsupported(
                "the kernel does not use the SLUB allocator (no kmem_cache.cpu_slab or cpu_sheaves)"
                    .into(),
            ));
        }
        // 5.17 split `struct slab` out of `struct page`. SLAB's `struct
        // slab` has no `inuse` bitfield; SLUB's has.
        let slab_struct = if layouts.member_offset("slab", "inuse").is_some() {
            "slab"
        } else {
            "page"
        };
        let list_name = if layouts.member_offset(slab_struct, "slab_list").is_some() {
            "slab_list"
        } else {
            "lru"
        };
        let cpu_page = if layouts.member_offset("kmem_cache_cpu", "slab").is_some() {
            "slab"
        } else {
            "page"
        };
        // 7.x pairs each node's `kmem_cache_node` with its barn.
        let (node, node_stride, node_ptr) = match layouts.member_offset("kmem_cache", "node") {
            Some(n) => (n, 8, 0),
            None => (
                layouts
                    .member_offset("kmem_cache", "per_node")
                    .ok_or_else(|| LayoutError::member("kmem_cache", "node or per_node"))?,
                size("kmem_cache_per_node_ptrs")?,
                layouts
                    .member_offset("kmem_cache_per_node_ptrs", "node")
                    .ok_or_else(|| LayoutError::member("kmem_cache_per_node_ptrs", "node"))?
                    .offset(),
            ),
        };
        let node_len = layouts.array_info(node.type_id).map_or(1, |a| a.len.max(1));
        let cpu = match layouts.member_offset("kmem_cache", "cpu_slab") {
            None => None,
            Some(_) => Some(CpuSlabOffsets {
                cpu_slab: field("kmem_cache", "cpu_slab")?,
                len: size("kmem_cache_cpu")?,
                freelist: field("kmem_cache_cpu", "freelist")?,
                page: field("kmem_cache_cpu", cpu_page)?,
                partial: opt("kmem_cache_cpu", "partial"),
            }),
        };
        let pg = |name: &str| {
            layouts
                .enum_value("pageflags", name)
                .and_then(|v| u32::try_from(v).ok())
                .filter(|&v| v < 64)
        };
        Ok(Offsets {
            cache_len: node.offset(),
            cpu,
            sheaves,
            flags: field("kmem_cache", "flags")?,
            red_zone_flag: slab_flag(layouts, "_SLAB_RED_ZONE", SLAB_RED_ZONE),
            store_user_flag: slab_flag(layouts, "_SLAB_STORE_USER", SLAB_STORE_USER),
            size: field("kmem_cache", "size")?,
            object_size: field("kmem_cache", "object_size")?,
            offset: field("kmem_cache", "offset")?,
            oo: field("kmem_cache", "oo")?,
            red_left_pad: opt("kmem_cache", "red_left_pad"),
            name: field("kmem_cache", "name")?,
            list: layouts
                .member_offset("kmem_cache", "list")
                .ok_or_else(|| LayoutError::member("kmem_cache", "list"))?
                .offset(),
            random: opt("kmem_cache", "random"),
            node: node.offset(),
            node_len,
            node_stride,
            node_ptr,
            node_struct_len: size("kmem_cache_node")?,
            nr_partial: field("kmem_cache_node", "nr_partial")?,
            partial: layouts
                .member_offset("kmem_cache_node", "partial")
                .ok_or_else(|| LayoutError::member("kmem_cache_node", "partial"))?
                .offset(),
            nr_slabs: opt("kmem_cache_node", "nr_slabs"),
            total_objects: opt("kmem_cache_node", "total_objects"),
            full: layouts
                .member_offset("kmem_cache_node", "full")
                .map(|m| m.offset()),
            slab_len: size(slab_struct)?,
            slab_list: layouts
                .member_offset(slab_struct, list_name)
                .ok_or_else(|| LayoutError::member(slab_struct, list_name))?
                .offset(),
            slab_cache: field(slab_struct, "slab_cache")?,
            slab_freelist: field(slab_struct, "freelist")?,
            inuse: field(slab_struct, "inuse")?,
            objects: field(slab_struct, "objects")?,
            frozen: opt(slab_struct, "frozen"),
            slab_next: opt(slab_struct, "next"),
            page_size: size("page")?,
            page_flags: field("page", "flags")?,
            compound_head: opt("page", "compound_head").or_else(|| opt("page", "compound_info")),
            pg_slab: pg("PG_slab"),
            page_type: opt("page", "page_type").zip(
                layouts
                    .enum_value("pagetype", "PGTY_slab")
                    .and_then(|v| u64::try_from(v).ok()),
            ),
        })
    }
}
