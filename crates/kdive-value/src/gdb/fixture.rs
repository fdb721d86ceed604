//! A small hand-made [`TypeSource`] for the printers' tests: a `struct
//! demo` with one member of each kind gdb prints differently.

use std::collections::HashMap;
use std::sync::Arc;

use kdive_debuginfo::types::{
    Global, IntEncoding, Kind, Member, Namespace, Param, Qualifier, Type, TypeId, TypeSource,
};

pub struct Fixture {
    types: Vec<Arc<Type>>,
    names: HashMap<(u8, String), u64>,
}

fn ns_key(ns: Namespace) -> u8 {
    match ns {
        Namespace::Struct => 0,
        Namespace::Union => 1,
        Namespace::Enum => 2,
        Namespace::Plain => 3,
    }
}

impl TypeSource for Fixture {
    fn find(&self, ns: Namespace, name: &str) -> Option<TypeId> {
        self.names
            .get(&(ns_key(ns), name.to_string()))
            .map(|&i| TypeId(i))
    }
    fn get(&self, id: TypeId) -> Option<Arc<Type>> {
        self.types.get(id.0 as usize).cloned()
    }
    fn variable(&self, _: &str) -> Option<Global> {
        None
    }
    fn function(&self, name: &str) -> Option<Global> {
        (name == "schedule").then(|| Global {
            name: name.into(),
            ty: TypeId(23),
            addr: None,
            optimized_out: false,
        })
    }
    fn describe(&self) -> String {
        "fixture".into()
    }
}

fn t(name: Option<&str>, size: Option<u64>, kind: Kind) -> Type {
    Type {
        name: name.map(str::to_string),
        size,
        kind,
    }
}

fn m(name: Option<&str>, ty: u64, offset_bits: u64, bit_size: Option<u32>) -> Member {
    Member {
        name: name.map(str::to_string),
        ty: TypeId(ty),
        offset_bits,
        bit_size,
    }
}

fn int(name: &str, size: u64, signed: bool, encoding: IntEncoding) -> Type {
    t(Some(name), Some(size), Kind::Int { signed, encoding })
}

/// `struct demo` (id 18, 112 bytes) and what it is made of.
pub fn fixture() -> Fixture {
    use IntEncoding::*;
    let id = TypeId;
    let types = vec![
        /* 0 */ t(None, None, Kind::Void),
        /* 1 */ int("int", 4, true, Plain),
        /* 2 */ int("unsigned int", 4, false, Plain),
        /* 3 */ int("char", 1, true, Char),
        /* 4 */ int("long unsigned int", 8, false, Plain),
        /* 5 */ int("_Bool", 1, false, Bool),
        /* 6 */
        t(
            Some("list_head"),
            Some(16),
            Kind::Struct {
                members: vec![m(Some("next"), 7, 0, None), m(Some("prev"), 7, 64, None)],
            },
        ),
        /* 7 */ t(None, Some(8), Kind::Pointer { target: id(6) }),
        /* 8 */
        t(
            None,
            Some(16),
            Kind::Array {
                elem: id(3),
                len: Some(16),
            },
        ),
        /* 9 */
        t(
            Some("state"),
            Some(4),
            Kind::Enum {
                values: vec![
                    ("IDLE".into(), 0),
                    ("RUNNING".into(), 1),
                    ("DEAD".into(), 4),
                ],
            },
        ),
        /* 10 */
        t(
            None,
            None,
            Kind::Function {
                ret: id(0),
                params: vec![Param {
                    name: None,
                    ty: id(11),
                }],
                variadic: false,
            },
        ),
        /* 11 */ t(None, Some(8), Kind::Pointer { target: id(0) }),
        /* 12 */ t(None, Some(8), Kind::Pointer { target: id(10) }),
        /* 13 */
        t(
            None,
            None,
            Kind::Qualified {
                target: id(3),
                qualifier: Qualifier::Const,
            },
        ),
        /* 14 */ t(None, Some(8), Kind::Pointer { target: id(13) }),
        /* 15 */ t(Some("u8"), None, Kind::Typedef { target: id(16) }),
        /* 16 */ int("unsigned char", 1, false, Char),
        /* 17 */
        t(
            None,
            Some(4),
            Kind::Union {
                members: vec![m(Some("a"), 1, 0, None), m(Some("b"), 2, 0, None)],
            },
        ),
        /* 18 */
        t(
            Some("demo"),
            Some(112),
            Kind::Struct {
                members: vec![
                    m(Some("list"), 6, 0, None),
                    m(Some("comm"), 8, 128, None),
                    m(Some("pid"), 1, 256, None),
                    m(Some("flag"), 2, 288, Some(1)),
                    m(Some("mode"), 2, 289, Some(3)),
                    m(None, 17, 320, None),
                    m(Some("st"), 9, 352, None),
                    m(Some("fn"), 12, 384, None),
                    m(Some("name"), 14, 448, None),
                    m(Some("on"), 5, 512, None),
                    m(Some("raw"), 19, 520, None),
                    m(Some("arr"), 20, 576, None),
                    m(Some("e"), 21, 768, None),
                    m(Some("marker"), 22, 768, None),
                    m(Some("tail"), 4, 768, None),
                    m(Some("flex"), 22, 832, None),
                ],
            },
        ),
        /* 19 */
        t(
            None,
            Some(4),
            Kind::Array {
                elem: id(15),
                len: Some(4),
            },
        ),
        /* 20 */
        t(
            None,
            Some(24),
            Kind::Array {
                elem: id(4),
                len: Some(3),
            },
        ),
        /* 21 */ t(Some("empty"), Some(0), Kind::Struct { members: vec![] }),
        /* 22 */
        t(
            None,
            None,
            Kind::Array {
                elem: id(15),
                len: None,
            },
        ),
        /* 23 */
        t(
            None,
            None,
            Kind::Function {
                ret: id(0),
                params: vec![],
                variadic: false,
            },
        ),
        /* 24 */ t(Some("pid_t"), None, Kind::Typedef { target: id(1) }),
    ];
    let names = [
        (Namespace::Struct, "list_head", 6),
        (Namespace::Struct, "demo", 18),
        (Namespace::Struct, "empty", 21),
        (Namespace::Enum, "state", 9),
        (Namespace::Plain, "u8", 15),
        (Namespace::Plain, "int", 1),
        (Namespace::Plain, "pid_t", 24),
    ];
    Fixture {
        types: types.into_iter().map(Arc::new).collect(),
        names: names
            .iter()
            .map(|&(ns, n, i)| ((ns_key(ns), n.to_string()), i))
            .collect(),
    }
}

/// The bytes of a `struct demo`: list pointing to itself at `addr`, comm
/// "demo", pid -1, flag 1, mode 5, the union 0x41, st DEAD, fn and name
/// as given, on true, raw "ab\0\xff", arr {1, 2, 3}, tail 7.
pub fn demo_bytes(addr: u64, func: u64, name: u64) -> Vec<u8> {
    let mut d = vec![0u8; 112];
    d[0..8].copy_from_slice(&addr.to_le_bytes());
    d[8..16].copy_from_slice(&addr.to_le_bytes());
    d[16..20].copy_from_slice(b"demo");
    d[32..36].copy_from_slice(&(-1i32).to_le_bytes());
    d[36] = 1 | (5 << 1);
    d[40..44].copy_from_slice(&0x41u32.to_le_bytes());
    d[44..48].copy_from_slice(&4u32.to_le_bytes());
    d[48..56].copy_from_slice(&func.to_le_bytes());
    d[56..64].copy_from_slice(&name.to_le_bytes());
    d[64] = 1;
    d[65..69].copy_from_slice(b"ab\0\xff");
    for (i, v) in [1u64, 2, 3].iter().enumerate() {
        d[72 + 8 * i..80 + 8 * i].copy_from_slice(&v.to_le_bytes());
    }
    d[96..104].copy_from_slice(&7u64.to_le_bytes());
    d
}
