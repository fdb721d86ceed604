//! The conversion rules on made-up DIEs.

use super::*;

fn die(tag: gimli::DwTag) -> Die {
    Die {
        tag,
        ..Die::default()
    }
}

fn no_size(_: TypeId) -> Option<u64> {
    None
}

#[test]
fn bitfields_both_ways() {
    let field = Die {
        name: Some("a".into()),
        ty: Some(0x30),
        bit_size: Some(3),
        ..die(dw::DW_TAG_member)
    };
    // DWARF 4 and later: bits from the start of the struct.
    let new = Die {
        data_bit_offset: Some(67),
        ..field.clone()
    };
    // DWARF 2 and 3: a 4-byte storage unit at byte 8, the field 26 bits
    // below its top (bits 3 to 5 of it on a little-endian machine), the
    // unit's size given, or that of the field's type.
    let old = Die {
        member_location: Some(8),
        byte_size: Some(4),
        bit_offset: Some(26),
        ..field.clone()
    };
    let old_typed = Die {
        byte_size: None,
        ..old.clone()
    };
    let int = |id: TypeId| (id == TypeId(0x30)).then_some(4);
    let m = members(&[new, old, old_typed], &int);
    let got: Vec<_> = m.iter().map(|m| (m.offset_bits, m.bit_size)).collect();
    assert_eq!(got, [(67, Some(3)); 3]);
}

#[test]
fn arrays_of_arrays() {
    let arr = Die {
        offset: 0x100,
        ty: Some(0x40),
        ..die(dw::DW_TAG_array_type)
    };
    let dims = [
        Die {
            upper_bound: Some(1),
            ..die(dw::DW_TAG_subrange_type)
        },
        Die {
            count: Some(3),
            ..die(dw::DW_TAG_subrange_type)
        },
    ];
    let int = |id: TypeId| (id == TypeId(0x40)).then_some(4);
    let outer = to_type(&arr, &dims, 0, &|id| match id.0 >> DIM_SHIFT {
        1 => Some(12),
        _ => int(id),
    })
    .unwrap();
    assert_eq!(
        outer.kind,
        Kind::Array {
            elem: TypeId(0x100 | 1 << DIM_SHIFT),
            len: Some(2)
        }
    );
    assert_eq!(outer.size, Some(24));
    let inner = to_type(&arr, &dims, 1, &int).unwrap();
    assert_eq!(
        inner.kind,
        Kind::Array {
            elem: TypeId(0x40),
            len: Some(3)
        }
    );
    assert_eq!(to_type(&arr, &dims, 2, &int), None);
    let flex = to_type(&arr, &[die(dw::DW_TAG_subrange_type)], 0, &int).unwrap();
    assert_eq!(
        (flex.kind, flex.size),
        (
            Kind::Array {
                elem: TypeId(0x40),
                len: None
            },
            None
        )
    );
    let zero = [Die {
        upper_bound: Some(-1),
        ..die(dw::DW_TAG_subrange_type)
    }];
    assert_eq!(to_type(&arr, &zero, 0, &int).unwrap().size, Some(0));
}

#[test]
fn prototypes() {
    let p = |ty| Die {
        ty,
        ..die(dw::DW_TAG_formal_parameter)
    };
    let concrete = (
        Die {
            origin: Some(0x50),
            ..die(dw::DW_TAG_subprogram)
        },
        vec![p(None)],
    );
    let abstract_ = (
        Die {
            ty: Some(0x60),
            ..die(dw::DW_TAG_subprogram)
        },
        vec![p(Some(0x70)), die(dw::DW_TAG_unspecified_parameters)],
    );
    let f = function(&[concrete, abstract_]).unwrap();
    let Kind::Function {
        ret,
        params,
        variadic,
    } = f.kind
    else {
        panic!()
    };
    assert_eq!(
        (ret, params.len(), params[0].ty, variadic),
        (TypeId(0x60), 1, TypeId(0x70), true)
    );
    let void = function(&[(die(dw::DW_TAG_subprogram), vec![])]).unwrap();
    assert_eq!(
        void.kind,
        Kind::Function {
            ret: VOID,
            params: vec![],
            variadic: false
        }
    );
}

#[test]
fn declarations_are_forward() {
    let d = Die {
        name: Some("x".into()),
        declaration: true,
        ..die(dw::DW_TAG_structure_type)
    };
    assert_eq!(
        to_type(&d, &[], 0, &no_size).unwrap().kind,
        Kind::Forward {
            ns: Namespace::Struct
        }
    );
    let e = Die {
        declaration: true,
        ..die(dw::DW_TAG_enumeration_type)
    };
    assert_eq!(
        to_type(&e, &[], 0, &no_size).unwrap().kind,
        Kind::Forward {
            ns: Namespace::Enum
        }
    );
}
