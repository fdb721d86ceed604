use super::*;

/// Writes BTF blobs by hand.
struct Builder {
    big_endian: bool,
    strings: Vec<u8>,
    types: Vec<u8>,
    count: u32,
}

const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;
const UNION: u32 = 5;
const ENUM: u32 = 6;
const FWD: u32 = 7;
const TYPEDEF: u32 = 8;
const VOLATILE: u32 = 9;
const CONST: u32 = 10;
const RESTRICT: u32 = 11;
const FUNC: u32 = 12;
const FUNC_PROTO: u32 = 13;
const VAR: u32 = 14;
const DATASEC: u32 = 15;
const FLOAT: u32 = 16;
const DECL_TAG: u32 = 17;
const TYPE_TAG: u32 = 18;
const ENUM64: u32 = 19;

impl Builder {
    fn new(big_endian: bool) -> Builder {
        Builder {
            big_endian,
            strings: vec![0],
            types: Vec::new(),
            count: 0,
        }
    }

    fn word(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn str(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    /// Add a type; returns its id.
    fn ty(
        &mut self,
        name: &str,
        kind: u32,
        kflag: bool,
        vlen: u32,
        size_type: u32,
        extra: &[u32],
    ) -> u32 {
        let name = self.str(name);
        let info = (u32::from(kflag) << 31) | (kind << 24) | vlen;
        for w in [name, info, size_type].iter().chain(extra) {
            let b = self.word(*w);
            self.types.extend_from_slice(&b);
        }
        self.count += 1;
        self.count
    }

    fn blob(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let magic = if self.big_endian {
            BTF_MAGIC.to_be_bytes()
        } else {
            BTF_MAGIC.to_le_bytes()
        };
        out.extend_from_slice(&magic);
        out.push(1); // version
        out.push(0); // flags
        let tl = self.types.len() as u32;
        for w in [24, 0, tl, tl, self.strings.len() as u32] {
            out.extend_from_slice(&self.word(w));
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// Names of members, resolved to string offsets while building.
fn sample(big_endian: bool) -> Vec<u8> {
    let mut b = Builder::new(big_endian);
    // 1: int
    assert_eq!(b.ty("int", INT, false, 0, 4, &[(1 << 24) | 32]), 1);
    // 2: unsigned int
    assert_eq!(b.ty("unsigned int", INT, false, 0, 4, &[32]), 2);
    // 3: void *
    assert_eq!(b.ty("", PTR, false, 0, 0, &[]), 3);
    // 4: int[4]
    assert_eq!(b.ty("", ARRAY, false, 0, 0, &[1, 2, 4]), 4);
    // 5: struct inner { int a; void *b; }
    let (a, bb) = (b.str("a"), b.str("b"));
    assert_eq!(
        b.ty("inner", STRUCT, false, 2, 16, &[a, 1, 0, bb, 3, 64]),
        5
    );
    // 6: union { int u1; struct { int pad; int deep; }; }
    let u1 = b.str("u1");
    assert_eq!(b.ty("", UNION, false, 2, 8, &[u1, 1, 0, 0, 7, 0]), 6);
    // 7: struct { int pad; int deep; }
    let (pad, deep) = (b.str("pad"), b.str("deep"));
    assert_eq!(b.ty("", STRUCT, false, 2, 8, &[pad, 1, 0, deep, 1, 32]), 7);
    // 8: typedef struct inner inner_t; 9: const inner_t
    assert_eq!(b.ty("inner_t", TYPEDEF, false, 0, 5, &[]), 8);
    assert_eq!(b.ty("", CONST, false, 0, 8, &[]), 9);
    // 10: struct outer (bitfield sizes in members)
    let (name, inn, flags, arr2) = (b.str("name"), b.str("in"), b.str("flags"), b.str("arr2"));
    let outer = [
        name,
        4,
        0, //
        inn,
        9,
        128, //
        0,
        6,
        256, //
        flags,
        2,
        (3 << 24) | 320, //
        arr2,
        11,
        384,
    ];
    assert_eq!(b.ty("outer", STRUCT, true, 5, 96, &outer), 10);
    // 11: struct inner[3]
    assert_eq!(b.ty("", ARRAY, false, 0, 0, &[5, 2, 3]), 11);
    // 12: enum mod_mem_type
    let (t, d, r) = (b.str("MOD_TEXT"), b.str("MOD_DATA"), b.str("MOD_RODATA"));
    assert_eq!(
        b.ty("mod_mem_type", ENUM, false, 3, 4, &[t, 0, d, 1, r, 2]),
        12
    );
    // 13: enum64 big { HUGE = 1 << 32, NEG = -2 as u64 }
    let (h, n) = (b.str("HUGE"), b.str("NEG"));
    assert_eq!(
        b.ty(
            "big",
            ENUM64,
            false,
            2,
            8,
            &[h, 0, 1, n, 0xffff_fffe, 0xffff_ffff]
        ),
        13
    );
    // 14: struct module; (forward)
    assert_eq!(b.ty("module", FWD, false, 0, 0, &[]), 14);
    // 15, 16: typedefs referring to each other
    assert_eq!(b.ty("loop", TYPEDEF, false, 0, 16, &[]), 15);
    assert_eq!(b.ty("loop2", TYPEDEF, false, 0, 15, &[]), 16);
    // 17: an old-style bitfield int: 5 bits at bit 2
    assert_eq!(
        b.ty("int", INT, false, 0, 4, &[(1 << 24) | (2 << 16) | 5]),
        17
    );
    // 18: struct old { int bf:5; } without the kind flag
    let bf = b.str("bf");
    assert_eq!(b.ty("old", STRUCT, false, 1, 4, &[bf, 17, 8]), 18);
    // 19: int (int x); 20: func f
    let x = b.str("x");
    assert_eq!(b.ty("", FUNC_PROTO, false, 1, 1, &[x, 1]), 19);
    assert_eq!(b.ty("f", FUNC, false, 1, 19, &[]), 20);
    // 21: int v; 22: .data holding it
    assert_eq!(b.ty("v", VAR, false, 0, 1, &[1]), 21);
    assert_eq!(b.ty(".data", DATASEC, false, 1, 4, &[21, 0, 4]), 22);
    assert_eq!(b.ty("double", FLOAT, false, 0, 8, &[]), 23);
    assert_eq!(b.ty("tag", DECL_TAG, false, 0, 10, &[u32::MAX]), 24);
    assert_eq!(b.ty("user", TYPE_TAG, false, 0, 1, &[]), 25);
    assert_eq!(b.ty("", VOLATILE, false, 0, 25, &[]), 26);
    assert_eq!(b.ty("", RESTRICT, false, 0, 3, &[]), 27);
    // 28: a union named like nothing else, 29: typedef of struct outer
    let q = b.str("q");
    assert_eq!(b.ty("u", UNION, false, 1, 8, &[q, 3, 0]), 28);
    assert_eq!(b.ty("outer_t", TYPEDEF, false, 0, 10, &[]), 29);
    // 30: struct { struct { ... } } nested two anonymous levels: struct two
    let w = b.str("w");
    assert_eq!(b.ty("two", STRUCT, false, 2, 24, &[w, 1, 0, 0, 6, 64]), 30);
    b.blob()
}

fn check_sample(btf: &Btf) {
    assert_eq!(btf.len(), 31);
    assert_eq!(btf.find("outer", Kind::Struct), Some(10));
    assert_eq!(btf.find("outer", Kind::Union), None);
    assert_eq!(btf.find("module", Kind::Struct), None);
    assert_eq!(btf.find("module", Kind::Fwd), Some(14));
    assert_eq!(btf.find("int", Kind::Int), Some(1));
    assert_eq!(btf.find_all("int").count(), 2);
    assert_eq!(btf.find_aggregate("u"), Some(28));
    assert_eq!(btf.find_aggregate("outer_t"), Some(29));
    assert_eq!(btf.name(5), "inner");
    assert_eq!(btf.kind(22), Some(Kind::Datasec));
    assert_eq!(btf.kind(0), Some(Kind::Void));
    assert_eq!(btf.kind(31), None);

    assert_eq!(btf.size_of(10), Some(96));
    assert_eq!(btf.size_of(4), Some(16));
    assert_eq!(btf.size_of(11), Some(48));
    assert_eq!(btf.size_of(3), Some(8));
    assert_eq!(btf.size_of(9), Some(16));
    assert_eq!(btf.size_of(26), Some(4));
    assert_eq!(btf.size_of(21), Some(4));
    assert_eq!(btf.size_of(23), Some(8));
    assert_eq!(btf.size_of(13), Some(8));
    assert_eq!(btf.size_of(15), None, "cycle");
    assert_eq!(btf.size_of(20), None, "function");
    assert_eq!(btf.size_of(14), None, "forward declaration");
    assert_eq!(btf.size_of(0), None, "void");

    assert_eq!(btf.resolve(9), Some(5));
    assert_eq!(btf.resolve(26), Some(1));
    assert_eq!(btf.resolve(15), None);
    assert_eq!(btf.resolve(99), None);
    assert_eq!(btf.pointee(27), Some(0));
    assert_eq!(btf.pointee(1), None);
    let a = btf.array_info(4).unwrap();
    assert_eq!((a.elem, a.len), (1, 4));

    let m = |outer: &str, path: &str| btf.member_offset(outer, path);
    let at = |bits: u64, ty: u32| {
        Some(MemberInfo {
            offset_bits: bits,
            bitfield_size: 0,
            type_id: ty,
        })
    };
    assert_eq!(m("outer", "name"), at(0, 4));
    assert_eq!(m("outer", "name[3]"), at(96, 1));
    assert_eq!(m("outer", "name[MOD_RODATA]"), at(64, 1));
    assert_eq!(m("outer", "name[0x2]"), at(64, 1));
    assert_eq!(m("outer", "in"), at(128, 9));
    assert_eq!(m("outer", "in.b"), at(192, 3));
    assert_eq!(m("outer", "u1"), at(256, 1), "member of an anonymous union");
    assert_eq!(
        m("outer", "deep"),
        at(288, 1),
        "anonymous struct in an anonymous union"
    );
    assert_eq!(
        m("outer", "flags"),
        Some(MemberInfo {
            offset_bits: 320,
            bitfield_size: 3,
            type_id: 2
        })
    );
    assert_eq!(m("outer", "arr2[2].b"), at(384 + 2 * 128 + 64, 3));
    assert_eq!(m("outer_t", "arr2[1]"), at(384 + 128, 5));
    assert_eq!(m("inner_t", "b"), at(64, 3));
    assert_eq!(m("two", "deep"), at(64 + 32, 1));
    assert_eq!(m("u", "q"), at(0, 3));
    assert_eq!(
        m("old", "bf"),
        Some(MemberInfo {
            offset_bits: 10,
            bitfield_size: 5,
            type_id: 17
        }),
        "old-style bitfield"
    );
    assert_eq!(m("outer", "in").unwrap().offset(), 16);
    for bad in [
        "",
        "nope",
        "in.nope",
        "name.x",
        "in[1]",
        "name[NOPE]",
        "name[",
        "name[1",
        ".",
        "a..b",
        "[1]",
    ] {
        assert_eq!(m("outer", bad), None, "{bad:?}");
    }
    assert_eq!(m("nothing", "a"), None);

    assert_eq!(btf.enum_value("mod_mem_type", "MOD_DATA"), Some(1));
    assert_eq!(btf.enum_value("mod_mem_type", "HUGE"), None);
    assert_eq!(btf.enum_value("big", "HUGE"), Some(1 << 32));
    assert_eq!(btf.enumerator("NEG"), Some(-2));
    assert_eq!(btf.enumerator("MOD_RODATA"), Some(2));
    assert_eq!(btf.enumerator("nothing"), None);

    let f = btf.ty(19).unwrap();
    assert_eq!(
        f.params().map(|p| (p.name, p.type_id)).collect::<Vec<_>>(),
        [("x", 1)]
    );
    assert_eq!(f.target(), Some(1));
    assert_eq!(
        btf.ty(22).unwrap().datasec_vars().collect::<Vec<_>>(),
        [(21, 0, 4)]
    );
    let i = btf.ty(1).unwrap().int().unwrap();
    assert!(i.signed && !i.char && !i.bool && i.bits == 32);
    assert_eq!(format!("{:?}", btf.ty(10).unwrap()), "[10] struct 'outer'");
}

#[test]
fn hand_made_blob() {
    check_sample(&Btf::parse(&sample(false)).unwrap());
}

#[test]
fn big_endian_blob() {
    check_sample(&Btf::parse(&sample(true)).unwrap());
}

#[test]
fn self_nesting_ends() {
    // struct selfish { struct selfish; struct selfish; } : every lookup by
    // name would visit 2^64 members without a bound.
    let mut b = Builder::new(false);
    b.ty("int", INT, false, 0, 4, &[32]);
    b.ty("selfish", STRUCT, false, 2, 8, &[0, 2, 0, 0, 2, 0]);
    b.ty("t", TYPEDEF, false, 0, 4, &[]);
    b.ty("t2", TYPEDEF, false, 0, 3, &[]);
    let btf = Btf::parse(&b.blob()).unwrap();
    let start = std::time::Instant::now();
    assert_eq!(btf.member_offset("selfish", "x"), None);
    assert_eq!(btf.member_offset("t", "x"), None);
    assert_eq!(btf.size_of(3), None);
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn header_errors() {
    let good = sample(false);
    assert_eq!(Btf::parse(&good[..10]).unwrap_err(), BtfError::TooShort(10));
    let mut b = good.clone();
    b[0] = 0;
    assert!(matches!(Btf::parse(&b), Err(BtfError::BadMagic(_))));
    let mut b = good.clone();
    b[2] = 2;
    assert_eq!(Btf::parse(&b).unwrap_err(), BtfError::Version(2));
    let mut b = good.clone();
    b[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(Btf::parse(&b), Err(BtfError::Header(_))));
    // A kind past the last one.
    let mut b = good.clone();
    b[24 + 7] = 20;
    assert!(matches!(
        Btf::parse(&b),
        Err(BtfError::UnknownKind { id: 1, .. })
    ));
    // The type section cut in the middle of a record.
    let mut b = good.clone();
    let tl = u32::from_le_bytes(b[12..16].try_into().unwrap());
    b[12..16].copy_from_slice(&(tl - 4).to_le_bytes());
    assert!(matches!(Btf::parse(&b), Err(BtfError::Truncated { .. })));
    // No types at all is valid.
    let empty = Builder::new(false).blob();
    let btf = Btf::parse(&empty).unwrap();
    assert!(btf.is_empty());
    assert_eq!(btf.find("int", Kind::Int), None);
}

/// Every query on every type of a blob, for the garbage tests: none may
/// panic or loop.
fn exercise(btf: &Btf) {
    for t in btf.types() {
        let id = t.id;
        let _ = (
            btf.size_of(id),
            btf.resolve(id),
            btf.pointee(id),
            btf.array_info(id),
        );
        let _ = (t.name(), t.size(), t.target(), t.int(), t.array());
        let _ = t.members().count() + t.enumerators().count() + t.params().count();
        let _ = t.datasec_vars().count();
        for path in [
            "a",
            "in.b",
            "deep",
            "name[2]",
            "arr2[1].b",
            "flags",
            "bf",
            "x[MOD_DATA]",
        ] {
            let _ = btf.member_offset_in(id, path);
        }
        if !t.name().is_empty() {
            let _ = btf.find(t.name(), t.kind);
            let _ = btf.enum_value(t.name(), "MOD_TEXT");
        }
    }
    let _ = btf.enumerator("HUGE");
}

#[test]
fn garbage_never_panics() {
    let good = sample(false);
    // Every prefix.
    for n in 0..good.len() {
        if let Ok(btf) = Btf::parse(&good[..n]) {
            exercise(&btf);
        }
    }
    // Every byte set to 0 and to 0xff (in a debug build, a few seconds).
    for i in 0..good.len() {
        for v in [0u8, 0xff] {
            let mut b = good.clone();
            b[i] = v;
            if let Ok(btf) = Btf::parse(&b) {
                exercise(&btf);
            }
        }
    }
    // Random bytes behind a valid header, and random bytes alone.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..1000 {
        let len = (next() % 600) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 2 == 0 && b.len() >= 24 {
            b[..24].copy_from_slice(&good[..24]);
            let tl = (len - 24) as u32 / 2;
            b[12..16].copy_from_slice(&tl.to_le_bytes());
            b[16..20].copy_from_slice(&tl.to_le_bytes());
            b[20..24].copy_from_slice(&((len - 24) as u32 - tl).to_le_bytes());
            // Make kinds plausible so that parsing gets further.
            let mut p = 24;
            while p + 12 <= 24 + tl as usize {
                b[p + 7] %= 20;
                b[p + 5] = 0;
                b[p + 6] = 0;
                b[p + 4] %= 4;
                p += 12;
            }
        }
        if let Ok(btf) = Btf::parse(&b) {
            exercise(&btf);
        }
    }
}
