//! The walk on made-up kernels: hand-made BTF for both layouts of `struct
//! module`, and memory holding modules, damaged lists included.

use super::*;
use kdive_debuginfo::btf::Btf;

use kdive_debuginfo::btf::writer::kind::{ARRAY, ENUM, INT, PTR};
use kdive_debuginfo::btf::writer::BtfWriter as BtfBuilder;

/// The types both layouts share: (unsigned int, void *, list_head, char[56],
/// struct mod_kallsyms *).
fn common(b: &mut BtfBuilder) -> (u32, u32, u32, u32, u32) {
    let uint = b.ty("unsigned int", INT, 0, 4, &[32]);
    let ch = b.ty("char", INT, 0, 1, &[(2 << 24) | 8]);
    let ptr = b.ty("", PTR, 0, 0, &[]);
    let list = b.st("list_head", 16, &[("next", ptr, 0), ("prev", ptr, 8)]);
    let name = b.ty("", ARRAY, 0, 0, &[ch, uint, 56]);
    let ks = b.st(
        "mod_kallsyms",
        32,
        &[
            ("symtab", ptr, 0),
            ("num_symtab", uint, 8),
            ("strtab", ptr, 16),
            ("typetab", ptr, 24),
        ],
    );
    let ksp = b.ty("", PTR, 0, ks, &[]);
    (uint, ptr, list, name, ksp)
}

/// `struct module` as Linux 4.5 to 6.3 have it: `core_layout`, `init_layout`.
fn btf_layouts() -> Btf {
    btf_layouts_with(true)
}

fn btf_layouts_with(kallsyms: bool) -> Btf {
    let mut b = BtfBuilder::default();
    let (uint, ptr, list, name, ksp) = common(&mut b);
    let layout = b.st(
        "module_layout",
        48,
        &[
            ("base", ptr, 0),
            ("size", uint, 8),
            ("text_size", uint, 12),
            ("ro_size", uint, 16),
            ("ro_after_init_size", uint, 20),
        ],
    );
    let mut members = vec![
        ("state", uint, 0),
        ("list", list, 8),
        ("name", name, 24),
        ("core_layout", layout, 80),
        ("init_layout", layout, 128),
        ("kallsyms", ksp, 176),
    ];
    if !kallsyms {
        members.pop();
    }
    b.st("module", 192, &members);
    Btf::parse(&b.finish()).unwrap()
}

/// `struct module` as Linux 6.4 on has it: `mem[]`, here with the enum's
/// constants in another order than 6.4's, which the walk must follow.
fn btf_memory() -> Btf {
    let mut b = BtfBuilder::default();
    let (uint, ptr, list, name, ksp) = common(&mut b);
    let order = [
        "MOD_DATA",
        "MOD_TEXT",
        "MOD_RODATA",
        "MOD_RO_AFTER_INIT",
        "MOD_INIT_DATA",
        "MOD_INIT_TEXT",
        "MOD_INIT_RODATA",
        "MOD_MEM_NUM_TYPES",
    ];
    let mut extra = Vec::new();
    for (i, n) in order.iter().enumerate() {
        extra.extend([b.str(n), i as u32]);
    }
    b.ty("mod_mem_type", ENUM, order.len() as u32, 4, &extra);
    let mm = b.st("module_memory", 16, &[("base", ptr, 0), ("size", uint, 8)]);
    let mem = b.ty("", ARRAY, 0, 0, &[mm, uint, 7]);
    b.st(
        "module",
        200,
        &[
            ("state", uint, 0),
            ("list", list, 8),
            ("name", name, 24),
            ("mem", mem, 80),
            ("kallsyms", ksp, 192),
        ],
    );
    Btf::parse(&b.finish()).unwrap()
}

/// Memory made of a few regions.
type Fake = crate::fake_mem::FakeMem;

impl crate::fake_mem::FakeMem {
    /// Write `v` into field `f` of the structure at `addr`.
    fn put(&mut self, addr: u64, f: Field, v: u64) {
        self.write(addr + f.off as u64, &v.to_le_bytes()[..f.size]);
    }
}

const HEAD: u64 = 0xffff_ffff_8200_0000;

/// Where the made-up modules are: module `i`'s memory is a 64 KB block at
/// `MODS + i * 0x10000`: text, rodata, data (struct module at +0x8000,
/// mod_kallsyms at +0x9000, symtab at +0xa000, strtab at +0xb000, typetab
/// at +0xc000).
const MODS: u64 = 0xffff_ffff_c000_0000;

fn module_addr(i: usize) -> u64 {
    MODS + i as u64 * 0x10000 + 0x8000
}

/// A kernel with modules named `names`, linked in that order.
fn kernel(o: &Offsets, names: &[&str]) -> Fake {
    let mut m = Fake::default();
    m.region(HEAD, 16);
    let link = |i: usize| {
        if i < names.len() {
            module_addr(i) + o.list_next as u64
        } else {
            HEAD
        }
    };
    m.write(HEAD, &link(0).to_le_bytes());
    m.write(HEAD + 8, &link(names.len().saturating_sub(1)).to_le_bytes());
    for (i, name) in names.iter().enumerate() {
        let base = MODS + i as u64 * 0x10000;
        m.region(base, 0x10000);
        let at = module_addr(i);
        let mut n = name.as_bytes().to_vec();
        n.push(0);
        m.write(at + o.name.off as u64, &n);
        m.put(at, o.state.unwrap(), 0);
        m.write(at + o.list_next as u64, &link(i + 1).to_le_bytes());
        let prev = if i == 0 { HEAD } else { link(i - 1) };
        m.write(at + o.list_next as u64 + 8, &prev.to_le_bytes());
        // text 0x4000, rodata 0x2000, data 0xa000
        match &o.mem {
            MemLayout::Layouts { core, .. } => {
                m.put(at, core.base, base);
                m.put(at, core.size, 0x10000);
                m.put(at, core.text_size, 0x4000);
                m.put(at, core.ro_size, 0x6000);
                m.put(at, core.ro_after_init_size.unwrap(), 0x6000);
            }
            MemLayout::Memory(parts) => {
                for &(kind, b, s) in parts {
                    let (start, size) = match kind {
                        MemKind::Text => (base, 0x4000),
                        MemKind::Rodata => (base + 0x4000, 0x2000),
                        MemKind::Data => (base + 0x6000, 0xa000),
                        _ => (0, 0),
                    };
                    m.put(at, b, start);
                    m.put(at, s, size);
                }
            }
        }
        let Ok(ko) = &o.ks else { continue };
        // Symbols: the empty one, a local function, a global object, an
        // undefined one, one with no name, one outside the module, noise.
        let ks = base + 0x9000;
        let (symtab, strtab, typetab) = (base + 0xa000, base + 0xb000, base + 0xc000);
        m.put(at, ko.kallsyms, ks);
        m.put(ks, ko.symtab, symtab);
        m.put(ks, ko.num_symtab, 7);
        m.put(ks, ko.strtab, strtab);
        m.put(ks, ko.typetab.unwrap(), typetab);
        let names = format!("\0{name}_fn\0{name}_var\0printk\0__key.7\0");
        m.write(strtab, names.as_bytes());
        let fn_name = 1u32;
        let var_name = fn_name + name.len() as u32 + 4;
        let printk = var_name + name.len() as u32 + 5;
        let key = printk + 7;
        let syms: [(u32, u8, u16, u64, u64); 7] = [
            (0, 0, 0, 0, 0),
            (fn_name, 0x02, 1, base + 0x10, 0x20),
            (var_name, 0x11, 3, base + 0x6100, 8),
            (printk, 0x10, 0, 0, 0),
            (0, 0x02, 1, base + 0x40, 4),
            (fn_name, 0x02, 1, 0xffff_ffff_8100_0000, 4),
            (key, 0x01, 3, base + 0x6200, 8),
        ];
        for (j, (nm, info, shndx, value, size)) in syms.into_iter().enumerate() {
            let mut e = Vec::new();
            e.extend(nm.to_le_bytes());
            e.extend([info, 0]);
            e.extend(shndx.to_le_bytes());
            e.extend(value.to_le_bytes());
            e.extend(size.to_le_bytes());
            m.write(symtab + 24 * j as u64, &e);
        }
        m.write(typetab, b"?tdUttb");
    }
    m
}

fn check_good(btf: &Btf) {
    let o = Offsets::from_layouts(crate::offsets::test_layouts(btf)).unwrap();
    let mem = kernel(&o, &["alpha", "beta"]);
    assert_eq!(
        list_head(&mem, [HEAD + 0x100].into_iter()),
        None,
        "unreadable candidate"
    );
    assert_eq!(
        list_head(&mem, [HEAD + 0x100, HEAD].into_iter()),
        Some(HEAD)
    );
    assert_eq!(
        list_head(&mem, [MODS + 0x8000 + 64, HEAD].into_iter()),
        Some(HEAD)
    );
    let got = walk(&mem, HEAD, &o);
    assert_eq!(got.notices, Vec::<String>::new());
    let names: Vec<&str> = got.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    let a = &got.modules[0];
    assert_eq!(
        (a.addr, a.base, a.size, a.state, a.nsyms),
        (module_addr(0), MODS, 0x10000, Some(0), 2)
    );
    assert_eq!(a.text(), Some(MODS..MODS + 0x4000));
    assert_eq!(a.region(MODS + 0x4000), Some(MemKind::Rodata));
    assert_eq!(a.region(MODS + 0x6000), Some(MemKind::Data));
    assert_eq!(a.region(MODS + 0x10000), None);
    let syms: Vec<(String, u64, u64, char, Option<String>)> = got
        .symbols
        .iter()
        .map(|s| (s.name.clone(), s.addr, s.size, s.kind, s.module.clone()))
        .collect();
    let b = MODS + 0x10000;
    assert_eq!(
        syms,
        [
            (
                "alpha_fn".into(),
                MODS + 0x10,
                0x20,
                't',
                Some("alpha".into())
            ),
            (
                "alpha_var".into(),
                MODS + 0x6100,
                8,
                'D',
                Some("alpha".into())
            ),
            ("beta_fn".into(), b + 0x10, 0x20, 't', Some("beta".into())),
            ("beta_var".into(), b + 0x6100, 8, 'D', Some("beta".into())),
        ]
    );
}

#[test]
fn walk_layouts() {
    check_good(&btf_layouts());
}

#[test]
fn walk_memory() {
    let btf = btf_memory();
    let o = Offsets::from_layouts(crate::offsets::test_layouts(&btf)).unwrap();
    let MemLayout::Memory(parts) = &o.mem else {
        panic!("mem[] layout expected: {:?}", o.mem)
    };
    // MOD_TEXT is 1 in this enum: mem[1].base is at 80 + 16.
    let text = parts.iter().find(|p| p.0 == MemKind::Text).unwrap();
    assert_eq!(text.1.off, 96);
    check_good(&btf);
}

#[test]
fn damaged_lists_end() {
    let btf = btf_layouts();
    let o = Offsets::from_layouts(crate::offsets::test_layouts(&btf)).unwrap();
    let next = |i: usize| module_addr(i) + o.list_next as u64;
    let ko = o.ks.as_ref().unwrap();

    // beta leads back to alpha: a loop that never reaches the head;
    // gamma is found walking back from it.
    let mut mem = kernel(&o, &["alpha", "beta", "gamma"]);
    mem.write(next(1), &next(0).to_le_bytes());
    let got = walk(&mem, HEAD, &o);
    assert_eq!(got.modules.len(), 3);
    assert!(got.notices[0].contains("comes back"), "{:?}", got.notices);

    // A pointer to user space (beta found walking back).
    let mut mem = kernel(&o, &["alpha", "beta"]);
    mem.write(next(0), &0x1234u64.to_le_bytes());
    let got = walk(&mem, HEAD, &o);
    assert_eq!(got.modules.len(), 2);
    assert!(
        got.notices[0].contains("not a kernel address"),
        "{:?}",
        got.notices
    );

    // A pointer to memory the dump does not have.
    let mut mem = kernel(&o, &["alpha", "beta"]);
    mem.write(next(0), &(MODS + 0x100_0000).to_le_bytes());
    let got = walk(&mem, HEAD, &o);
    assert_eq!(got.modules.len(), 2);
    assert!(
        got.notices[0].contains("invalid kernel virtual address"),
        "{:?}",
        got.notices
    );

    // A module whose kallsyms cannot be read keeps its entry.
    let mut mem = kernel(&o, &["alpha", "beta"]);
    mem.put(module_addr(0), ko.kallsyms, 0xffff_ffff_f000_0000);
    mem.put(module_addr(1), ko.kallsyms, 0);
    let got = walk(&mem, HEAD, &o);
    assert_eq!(got.modules.len(), 2);
    assert!(got.symbols.is_empty());
    assert_eq!(got.notices.len(), 2, "{:?}", got.notices);
    assert!(
        got.notices[0].starts_with("module alpha: no symbols"),
        "{:?}",
        got.notices
    );
    assert!(got.notices[1].contains("NULL"), "{:?}", got.notices);

    // A symbol count no module has.
    let mut mem = kernel(&o, &["alpha"]);
    mem.put(MODS + 0x9000, ko.num_symtab, 0xffff_ffff);
    let got = walk(&mem, HEAD, &o);
    assert!(got.notices[0].contains("damaged"), "{:?}", got.notices);

    // An unreadable head.
    let got = walk(&Fake::default(), HEAD, &o);
    assert!(got.modules.is_empty() && got.notices.len() == 1);
}

#[test]
fn no_kallsyms_still_lists() {
    let o = Offsets::from_layouts(crate::offsets::test_layouts(&btf_layouts_with(false))).unwrap();
    assert!(o.ks.is_err());
    let got = walk(&kernel(&o, &["alpha", "beta"]), HEAD, &o);
    assert_eq!(got.modules.len(), 2);
    assert!(got.symbols.is_empty());
    assert_eq!(got.notices.len(), 1, "{:?}", got.notices);
    assert!(
        got.notices[0].contains("module.kallsyms"),
        "{:?}",
        got.notices
    );
}

#[test]
fn no_struct_module() {
    let mut b = BtfBuilder::default();
    common(&mut b);
    let btf = Btf::parse(&b.finish()).unwrap();
    assert!(Offsets::from_layouts(crate::offsets::test_layouts(&btf))
        .unwrap_err()
        .contains("struct module"));
}

#[test]
fn layout_split() {
    let mut buf = vec![0u8; 40];
    let put =
        |buf: &mut Vec<u8>, off: usize, v: u64| buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
    put(&mut buf, 0, 0xffff_ffff_c000_0000);
    put(&mut buf, 8, 0x5000); // size
    put(&mut buf, 16, 0x2000); // text_size
    put(&mut buf, 24, 0x3000); // ro_size
    put(&mut buf, 32, 0x4000); // ro_after_init_size
    let f = |off| Field { off, size: 8 };
    let l = LayoutFields {
        base: f(0),
        size: f(8),
        text_size: f(16),
        ro_size: f(24),
        ro_after_init_size: Some(f(32)),
    };
    let core = [
        MemKind::Text,
        MemKind::Rodata,
        MemKind::RoAfterInit,
        MemKind::Data,
    ];
    let mut out = Vec::new();
    split_layout(&mut out, &l, &buf, core);
    let b = 0xffff_ffff_c000_0000;
    let mm = |kind, base, size| ModuleMemory { kind, base, size };
    assert_eq!(
        out,
        [
            mm(MemKind::Text, b, 0x2000),
            mm(MemKind::Rodata, b + 0x2000, 0x1000),
            mm(MemKind::RoAfterInit, b + 0x3000, 0x1000),
            mm(MemKind::Data, b + 0x4000, 0x1000),
        ]
    );
    // Sizes out of order are clamped, never underflow; init memory has no
    // ro_after_init part.
    put(&mut buf, 24, 0x1000);
    put(&mut buf, 32, 0x9000);
    let init = [
        MemKind::InitText,
        MemKind::InitRodata,
        MemKind::InitRodata,
        MemKind::InitData,
    ];
    let mut out = Vec::new();
    split_layout(&mut out, &l, &buf, init);
    assert_eq!(
        out,
        [
            mm(MemKind::InitText, b, 0x2000),
            mm(MemKind::InitRodata, b + 0x2000, 0x3000)
        ]
    );
}

#[test]
fn crash_kinds() {
    assert_eq!(crash_module_kind('t'), 't');
    assert_eq!(crash_module_kind('T'), 'T');
    assert_eq!(crash_module_kind('b'), '?');
    assert_eq!(crash_module_kind('D'), '?');
}
