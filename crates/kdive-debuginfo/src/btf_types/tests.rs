use super::*;
use crate::btf::BTF_MAGIC;
use crate::types::{member, size_of, type_name};

/// A string section holding `names`, and where each one is.
fn strtab(names: &[&str]) -> (Vec<u8>, HashMap<String, u32>) {
    let mut strings = vec![0u8];
    let mut off = HashMap::new();
    for n in names {
        if !n.is_empty() && !off.contains_key(*n) {
            off.insert(n.to_string(), strings.len() as u32);
            strings.extend_from_slice(n.as_bytes());
            strings.push(0);
        }
    }
    (strings, off)
}

/// A type record written by hand: `(name, kind, kflag, vlen, size_type,
/// extra words)`.
type Record = (&'static str, u32, bool, u32, u32, Vec<u32>);

/// A little-endian BTF blob of `types` (ids from 1).
fn blob(types: &[Record], strings: &[u8], off: &HashMap<String, u32>) -> Vec<u8> {
    let mut ty = Vec::new();
    for (name, kind, kflag, vlen, st, extra) in types {
        let info = (u32::from(*kflag) << 31) | (kind << 24) | vlen;
        let name = if name.is_empty() { 0 } else { off[*name] };
        for w in [name, info, *st].iter().chain(extra) {
            ty.extend_from_slice(&w.to_le_bytes());
        }
    }
    let mut out = BTF_MAGIC.to_le_bytes().to_vec();
    out.extend_from_slice(&[1, 0]);
    let tl = ty.len() as u32;
    for w in [24, 0, tl, tl, strings.len() as u32] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend(ty);
    out.extend_from_slice(strings);
    out
}

fn sample() -> BtfTypes {
    let all = [
        "long unsigned int",
        "list_head",
        "schedule",
        "char",
        "u",
        "holder",
        "pcpu_var",
        ".data..percpu",
        "_Bool",
        "next",
        "prev",
        "x",
        "flag",
        "c",
        "head",
    ];
    let (strings, off) = strtab(&all);
    let types: Vec<Record> = vec![
        // 1: long unsigned int
        ("long unsigned int", 1, false, 0, 8, vec![64]),
        // 2: struct list_head *
        ("", 2, false, 0, 3, vec![]),
        // 3: struct list_head { next; prev; }
        (
            "list_head",
            4,
            false,
            2,
            16,
            vec![off["next"], 2, 0, off["prev"], 2, 64],
        ),
        // 4: void (void)
        ("", 13, false, 0, 0, vec![]),
        // 5: func schedule
        ("schedule", 12, false, 1, 4, vec![]),
        // 6: char (signed, not marked as char)
        ("char", 1, false, 0, 1, vec![(1 << 24) | 8]),
        // 7: char[16]
        ("", 3, false, 0, 0, vec![6, 1, 16]),
        // 8: union u { char c; }
        ("u", 5, false, 1, 1, vec![off["c"], 6, 0]),
        // 9: int (char x, ...)
        ("", 13, false, 2, 10, vec![off["x"], 6, 0, 0]),
        // 10: int
        ("", 1, false, 0, 4, vec![(1 << 24) | 32]),
        // 11: unsigned long[] (flexible)
        ("", 3, false, 0, 0, vec![1, 1, 0]),
        // 12: struct holder { list_head head; u8 flag:3; unsigned long x[]; }
        (
            "holder",
            4,
            true,
            3,
            24,
            vec![
                off["head"],
                3,
                0,
                off["flag"],
                6,
                (3 << 24) | 128,
                off["x"],
                11,
                192,
            ],
        ),
        // 13: per-CPU variable pcpu_var of type struct list_head
        ("pcpu_var", 14, false, 0, 3, vec![1]),
        // 14: its section
        (".data..percpu", 15, false, 1, 64, vec![13, 0x20, 16]),
        // 15: struct list_head; (a forward declaration, after the definition)
        ("list_head", 7, false, 0, 0, vec![]),
        // 16: const struct list_head
        ("", 10, false, 0, 3, vec![]),
        // 17: _Bool
        ("_Bool", 1, false, 0, 1, vec![4 << 24 | 8]),
    ];
    let btf = Btf::parse(&blob(&types, &strings, &off)).unwrap();
    BtfTypes::new(Arc::new(btf))
}

#[test]
fn types_from_records() {
    let s = sample();
    let list = s.find(Namespace::Struct, "list_head").unwrap();
    assert_eq!(
        list,
        TypeId(3),
        "the definition, not the forward declaration"
    );
    assert!(s.find(Namespace::Union, "list_head").is_none());
    assert_eq!(s.find(Namespace::Union, "u"), Some(TypeId(8)));
    assert_eq!(
        s.find(Namespace::Plain, "long unsigned int"),
        Some(TypeId(1))
    );
    assert_eq!(size_of(&s, list), Some(16));
    assert_eq!(type_name(&s, TypeId(2)), "struct list_head *");
    assert_eq!(type_name(&s, TypeId(7)), "char [16]");
    assert_eq!(type_name(&s, TypeId(16)), "const struct list_head");
    let c = s.get(TypeId(6)).unwrap();
    assert!(matches!(
        c.kind,
        Kind::Int {
            signed: true,
            encoding: IntEncoding::Char
        }
    ));
    let b = s.get(TypeId(17)).unwrap();
    assert!(matches!(
        b.kind,
        Kind::Int {
            encoding: IntEncoding::Bool,
            ..
        }
    ));
    // The same Arc twice: converted once.
    assert!(Arc::ptr_eq(&s.get(list).unwrap(), &s.get(list).unwrap()));
    assert!(s.get(TypeId(14)).is_none(), "a data section is not a type");
    assert!(s.get(TypeId(99)).is_none());
}

#[test]
fn members_bitfields_and_flexible_arrays() {
    let s = sample();
    let h = s.find(Namespace::Struct, "holder").unwrap();
    let flag = member(&s, h, "flag").unwrap();
    assert_eq!((flag.offset_bits, flag.member.bit_size), (128, Some(3)));
    let x = member(&s, h, "x").unwrap();
    let arr = s.get(x.member.ty).unwrap();
    assert_eq!(
        arr.kind,
        Kind::Array {
            elem: TypeId(1),
            len: None
        }
    );
    assert_eq!(arr.size, None);
    assert_eq!(member(&s, h, "head.prev").unwrap().offset_bits, 64);
}

#[test]
fn functions_and_percpu_variables() {
    let s = sample();
    let f = s.function("schedule").unwrap();
    assert_eq!(type_name(&s, f.ty), "void (void)");
    let v = s.variable("pcpu_var").unwrap();
    assert_eq!((v.ty, v.addr), (TypeId(3), Some(0x20)));
    assert!(s.variable("schedule").is_none());
    assert!(s.function("pcpu_var").is_none());
    let proto = s.get(TypeId(9)).unwrap();
    match &proto.kind {
        Kind::Function {
            params, variadic, ..
        } => {
            assert!(*variadic);
            assert_eq!(params.len(), 1);
            assert_eq!(params[0].name.as_deref(), Some("x"));
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(type_name(&s, TypeId(9)), "int (char, ...)");
    assert_eq!(s.describe(), "BTF");
}

#[test]
fn enumerators_of_named_and_anonymous_enums() {
    let mut w = crate::btf::writer::BtfWriter::new();
    w.int("int", 4, true);
    let pid_type = w.enumeration("pid_type", &[("PIDTYPE_PID", 0), ("PIDTYPE_TGID", 1)]);
    // The kernel's `enum { MM_FILEPAGES, ... };` has no tag.
    let anon = w.enumeration("", &[("MM_FILEPAGES", 0), ("MM_SHMEMPAGES", 3), ("NR_MM", 4)]);
    // A later enum declaring a constant of the same name loses to the first.
    w.enumeration("again", &[("PIDTYPE_TGID", 7)]);
    let s = BtfTypes::new(Arc::new(Btf::parse(&w.finish()).unwrap()));
    let at = |name| s.enumerator(name).map(|(id, v)| (id.0 as u32, v));
    assert_eq!(at("PIDTYPE_PID"), Some((pid_type, 0)));
    assert_eq!(at("PIDTYPE_TGID"), Some((pid_type, 1)));
    assert_eq!(at("MM_SHMEMPAGES"), Some((anon, 3)));
    assert_eq!(at("NR_MM"), Some((anon, 4)));
    assert_eq!(at("pid_type"), None, "an enum's tag is no constant");
    assert_eq!(at("int"), None);
    assert_eq!(at("MM_"), None);
    let (id, _) = s.enumerator("MM_FILEPAGES").unwrap();
    let t = s.get(id).unwrap();
    assert_eq!(t.name, None);
    assert!(matches!(&t.kind, Kind::Enum { values } if values.len() == 3));
    assert_eq!(type_name(&s, TypeId(u64::from(pid_type))), "enum pid_type");
}
