//! DIEs to the type model: [`Die`] holds what the conversion reads of one
//! DIE (so the rules below are plain functions over plain data), and
//! [`to_type`] turns a DIE and its children into a [`Type`].

use gimli::{constants as dw, AttributeValue, EndianSlice, RunTimeEndian};

use super::units::global_ref;
use super::VOID;
use crate::types::{IntEncoding, Kind, Member, Namespace, Param, Qualifier, Type, TypeId};

type R<'a> = EndianSlice<'a, RunTimeEndian>;

/// Ids above this bit are the inner dimensions of a multi-dimensional
/// array, which DWARF describes in one DIE (`int x[2][3]` is one
/// `DW_TAG_array_type` with two subranges) but C sees as an array of
/// arrays: `offset | dimension << DIM_SHIFT`. `.debug_info` is far below
/// 2^40 bytes.
pub(super) const DIM_SHIFT: u32 = 40;
pub(super) const OFFSET_MASK: u64 = (1 << DIM_SHIFT) - 1;

/// What the conversion reads of a DIE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Die {
    /// Offset in `.debug_info`.
    pub offset: u64,
    pub tag: gimli::DwTag,
    pub name: Option<String>,
    /// `DW_AT_type`, as an offset in `.debug_info`.
    pub ty: Option<u64>,
    pub byte_size: Option<u64>,
    pub bit_size: Option<u64>,
    pub encoding: Option<gimli::DwAte>,
    pub declaration: bool,
    /// `DW_AT_data_member_location`, a constant or a simple expression.
    pub member_location: Option<u64>,
    pub data_bit_offset: Option<u64>,
    /// DWARF 2 and 3 bitfields: bits from the storage unit's top.
    pub bit_offset: Option<u64>,
    pub count: Option<i64>,
    pub lower_bound: Option<i64>,
    pub upper_bound: Option<i64>,
    pub const_value: Option<i64>,
    /// `DW_AT_abstract_origin` or `DW_AT_specification`.
    pub origin: Option<u64>,
    /// The address of a `DW_AT_location` that is one `DW_OP_addr`.
    pub addr: Option<u64>,
    /// Whether it has a `DW_AT_location` at all (a variable without one,
    /// nor a constant value, was optimized out).
    pub has_location: bool,
    pub low_pc: Option<u64>,
}

impl Default for Die {
    fn default() -> Die {
        Die {
            offset: 0,
            tag: gimli::DwTag(0),
            name: None,
            ty: None,
            byte_size: None,
            bit_size: None,
            encoding: None,
            declaration: false,
            member_location: None,
            data_bit_offset: None,
            bit_offset: None,
            count: None,
            lower_bound: None,
            upper_bound: None,
            const_value: None,
            origin: None,
            addr: None,
            has_location: false,
            low_pc: None,
        }
    }
}

impl Die {
    /// Read `entry` of `unit`.
    pub(super) fn read(
        dwarf: &gimli::Dwarf<R<'_>>,
        unit: &gimli::Unit<R<'_>>,
        entry: &gimli::DebuggingInformationEntry<R<'_>>,
    ) -> Option<Die> {
        let base = unit.header.debug_info_offset()?.0 as u64;
        let mut d = Die {
            offset: base + entry.offset().0 as u64,
            tag: entry.tag(),
            ..Die::default()
        };
        for attr in entry.attrs() {
            let v = attr.value();
            match attr.name() {
                dw::DW_AT_name => {
                    let s = dwarf.attr_string(unit, v).ok();
                    d.name = s.map(|s| String::from_utf8_lossy(s.slice()).into_owned());
                }
                dw::DW_AT_type => d.ty = global_ref(unit, v),
                dw::DW_AT_byte_size => d.byte_size = v.udata_value(),
                dw::DW_AT_bit_size => d.bit_size = v.udata_value(),
                dw::DW_AT_encoding => {
                    if let AttributeValue::Encoding(e) = v {
                        d.encoding = Some(e);
                    }
                }
                dw::DW_AT_declaration => d.declaration = v != AttributeValue::Flag(false),
                dw::DW_AT_data_member_location => d.member_location = location(unit, v),
                dw::DW_AT_data_bit_offset => d.data_bit_offset = v.udata_value(),
                dw::DW_AT_bit_offset => d.bit_offset = v.udata_value(),
                dw::DW_AT_count => d.count = constant(&v),
                dw::DW_AT_lower_bound => d.lower_bound = constant(&v),
                dw::DW_AT_upper_bound => d.upper_bound = constant(&v),
                dw::DW_AT_const_value => d.const_value = constant(&v),
                dw::DW_AT_abstract_origin | dw::DW_AT_specification => {
                    d.origin = global_ref(unit, v)
                }
                dw::DW_AT_location => {
                    d.has_location = true;
                    d.addr = address(dwarf, unit, v)
                }
                dw::DW_AT_low_pc => d.low_pc = dwarf.attr_address(unit, v).ok().flatten(),
                _ => {}
            }
        }
        Some(d)
    }

    /// The type this DIE refers to, `void` when it names none.
    fn target(&self) -> TypeId {
        TypeId(self.ty.unwrap_or(VOID.0))
    }
}

/// A constant attribute as a signed value: `DW_FORM_dataN` is taken as
/// unsigned, as GCC writes negative constants as `DW_FORM_sdata` (an
/// upper bound of `0xff` is an array of 256, not of none).
fn constant(v: &AttributeValue<R<'_>>) -> Option<i64> {
    Some(match *v {
        AttributeValue::Sdata(x) => x,
        AttributeValue::Udata(x) | AttributeValue::Data8(x) => x as i64,
        _ => v.udata_value()? as i64,
    })
}

/// A member's offset: a constant, or the DWARF 2 form, an expression
/// adding a constant to the struct's address.
fn location(unit: &gimli::Unit<R<'_>>, v: AttributeValue<R<'_>>) -> Option<u64> {
    let AttributeValue::Exprloc(expr) = v else {
        return v.udata_value();
    };
    let mut ops = expr.operations(unit.encoding());
    let mut at = 0u64;
    while let Some(op) = ops.next().ok()? {
        match op {
            gimli::Operation::PlusConstant { value } => at = at.wrapping_add(value),
            gimli::Operation::UnsignedConstant { value } => at = value,
            _ => return None,
        }
    }
    Some(at)
}

/// The address of a location that is a single `DW_OP_addr` (or
/// `DW_OP_addrx`): where a global variable lives.
fn address(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &gimli::Unit<R<'_>>,
    v: AttributeValue<R<'_>>,
) -> Option<u64> {
    let AttributeValue::Exprloc(expr) = v else {
        return None;
    };
    let mut ops = expr.operations(unit.encoding());
    let addr = match ops.next().ok()?? {
        gimli::Operation::Address { address } => address,
        gimli::Operation::AddressIndex { index } => dwarf.address(unit, index).ok()?,
        _ => return None,
    };
    ops.next().ok()?.is_none().then_some(addr)
}

/// The namespace of a struct, union or enum tag.
fn namespace(tag: gimli::DwTag) -> Namespace {
    match tag {
        dw::DW_TAG_union_type => Namespace::Union,
        dw::DW_TAG_enumeration_type => Namespace::Enum,
        _ => Namespace::Struct,
    }
}

/// The type of `die` (with its direct `children`), for dimension `dim` of
/// an array (0 for everything else). `size_of` gives the size of another
/// type, for arrays and DWARF 2 bitfields. `None` for a DIE that is not a
/// type (a variable, a subprogram: see [`function`]).
pub(super) fn to_type(
    die: &Die,
    children: &[Die],
    dim: u64,
    size_of: &dyn Fn(TypeId) -> Option<u64>,
) -> Option<Type> {
    let t = |size: Option<u64>, kind: Kind| {
        Some(Type {
            name: die.name.clone(),
            size,
            kind,
        })
    };
    let qualified = |qualifier| {
        t(
            None,
            Kind::Qualified {
                target: die.target(),
                qualifier,
            },
        )
    };
    match die.tag {
        _ if dim > 0 && die.tag != dw::DW_TAG_array_type => None,
        dw::DW_TAG_base_type => t(die.byte_size, base(die.encoding)),
        dw::DW_TAG_unspecified_type => t(None, Kind::Void),
        dw::DW_TAG_pointer_type | dw::DW_TAG_reference_type | dw::DW_TAG_rvalue_reference_type => {
            t(
                Some(die.byte_size.unwrap_or(8)),
                Kind::Pointer {
                    target: die.target(),
                },
            )
        }
        dw::DW_TAG_typedef => t(
            None,
            Kind::Typedef {
                target: die.target(),
            },
        ),
        dw::DW_TAG_const_type => qualified(Qualifier::Const),
        dw::DW_TAG_volatile_type => qualified(Qualifier::Volatile),
        dw::DW_TAG_restrict_type => qualified(Qualifier::Restrict),
        dw::DW_TAG_atomic_type
        | dw::DW_TAG_immutable_type
        | dw::DW_TAG_packed_type
        | dw::DW_TAG_shared_type => qualified(Qualifier::Other),
        dw::DW_TAG_structure_type | dw::DW_TAG_class_type | dw::DW_TAG_union_type
            if die.declaration || die.byte_size.is_none() =>
        {
            t(
                None,
                Kind::Forward {
                    ns: namespace(die.tag),
                },
            )
        }
        dw::DW_TAG_structure_type | dw::DW_TAG_class_type => t(
            die.byte_size,
            Kind::Struct {
                members: members(children, size_of),
            },
        ),
        dw::DW_TAG_union_type => t(
            die.byte_size,
            Kind::Union {
                members: members(children, size_of),
            },
        ),
        dw::DW_TAG_enumeration_type if die.declaration => t(
            None,
            Kind::Forward {
                ns: Namespace::Enum,
            },
        ),
        dw::DW_TAG_enumeration_type => {
            let values = children
                .iter()
                .filter(|c| c.tag == dw::DW_TAG_enumerator)
                .map(|c| {
                    (
                        c.name.clone().unwrap_or_default(),
                        c.const_value.unwrap_or(0),
                    )
                })
                .collect();
            t(die.byte_size, Kind::Enum { values })
        }
        dw::DW_TAG_array_type => array(die, children, dim, size_of),
        dw::DW_TAG_subroutine_type => Some(Type {
            name: None,
            size: None,
            kind: prototype(die.target(), children)?,
        }),
        _ => None,
    }
}

/// The kind of a base type from its `DW_AT_encoding`.
fn base(encoding: Option<gimli::DwAte>) -> Kind {
    let int = |signed, encoding| Kind::Int { signed, encoding };
    match encoding {
        Some(dw::DW_ATE_signed) => int(true, IntEncoding::Plain),
        Some(dw::DW_ATE_signed_char) => int(true, IntEncoding::Char),
        Some(dw::DW_ATE_unsigned_char | dw::DW_ATE_UTF) => int(false, IntEncoding::Char),
        Some(dw::DW_ATE_boolean) => int(false, IntEncoding::Bool),
        Some(dw::DW_ATE_float | dw::DW_ATE_complex_float | dw::DW_ATE_decimal_float) => Kind::Float,
        _ => int(false, IntEncoding::Plain),
    }
}

/// The members of a struct or union, from its children.
fn members(children: &[Die], size_of: &dyn Fn(TypeId) -> Option<u64>) -> Vec<Member> {
    children
        .iter()
        .filter(|c| c.tag == dw::DW_TAG_member)
        .map(|c| {
            let byte = c.member_location.unwrap_or(0);
            let offset_bits = match (c.data_bit_offset, c.bit_offset, c.bit_size) {
                (Some(bits), _, _) => bits,
                // DWARF 2/3 count from the top of the storage unit (of
                // DW_AT_byte_size, else of the member's type): on a
                // little-endian machine the low bit is storage - offset - size.
                (None, Some(top), Some(size)) => {
                    let storage = c.byte_size.or_else(|| size_of(c.target())).unwrap_or(0) * 8;
                    (byte * 8 + storage).wrapping_sub(top + size)
                }
                _ => byte * 8,
            };
            Member {
                name: c.name.clone(),
                ty: c.target(),
                offset_bits,
                bit_size: c.bit_size.and_then(|b| u32::try_from(b).ok()),
            }
        })
        .collect()
}

/// Dimension `dim` of an array: an array of the next dimension, or of the
/// element type at the last.
fn array(
    die: &Die,
    children: &[Die],
    dim: u64,
    size_of: &dyn Fn(TypeId) -> Option<u64>,
) -> Option<Type> {
    let dims: Vec<&Die> = children
        .iter()
        .filter(|c| {
            matches!(
                c.tag,
                dw::DW_TAG_subrange_type | dw::DW_TAG_enumeration_type
            )
        })
        .collect();
    let n = dims.len().max(1) as u64;
    if dim >= n {
        return None;
    }
    let elem = if dim + 1 < n {
        TypeId(die.offset | (dim + 1) << DIM_SHIFT)
    } else {
        die.target()
    };
    let len = dims.get(dim as usize).and_then(|d| length(d));
    let size = match (dim, die.byte_size) {
        (0, Some(s)) => Some(s),
        _ => len.and_then(|l| l.checked_mul(size_of(elem)?)),
    };
    Some(Type {
        name: None,
        size,
        kind: Kind::Array { elem, len },
    })
}

/// The number of elements of one dimension: `DW_AT_count`, else
/// `upper - lower + 1` (C's lower bound is 0); `None` for `x[]`. GCC
/// writes `x[0]` as an upper bound of -1.
fn length(d: &Die) -> Option<u64> {
    if d.tag == dw::DW_TAG_enumeration_type {
        return None;
    }
    if let Some(c) = d.count {
        return u64::try_from(c).ok();
    }
    let upper = d.upper_bound?;
    let lower = d.lower_bound.unwrap_or(0);
    u64::try_from(upper.checked_sub(lower)?.checked_add(1)?).ok()
}

/// A function type returning `ret`, with the parameters among `children`.
/// `None` when a parameter has no type (a concrete instance of an inlined
/// function: its parameters point to the abstract ones, which have them).
pub(super) fn prototype(ret: TypeId, children: &[Die]) -> Option<Kind> {
    let mut params = Vec::new();
    let mut variadic = false;
    for c in children {
        match c.tag {
            dw::DW_TAG_formal_parameter => params.push(Param {
                name: c.name.clone(),
                ty: TypeId(c.ty?),
            }),
            dw::DW_TAG_unspecified_parameters => variadic = true,
            _ => {}
        }
    }
    Some(Kind::Function {
        ret,
        params,
        variadic,
    })
}

/// The function type of a subprogram, from the chain of DIEs that describe
/// it: the DIE itself, then its abstract origin or specification, and so
/// on. The return type is the first `DW_AT_type` along the chain, the
/// parameters those of the first DIE whose parameters all have a type.
pub(super) fn function(chain: &[(Die, Vec<Die>)]) -> Option<Type> {
    let ret = chain.iter().find_map(|(d, _)| d.ty).map_or(VOID, TypeId);
    let kind = chain.iter().find_map(|(_, kids)| prototype(ret, kids))?;
    Some(Type {
        name: None,
        size: None,
        kind,
    })
}

#[cfg(test)]
mod tests;
