//! Types, globals and functions from the real vmlinux's DWARF agree with
//! its BTF (sizes, members, offsets, the shape of member types) and with
//! `nm`; the crashme module's agree with what crash printed for them.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kdive_debuginfo::btf::{self, Btf};
use kdive_debuginfo::dwarf_types::{CacheDir, DwarfTypes, OpenOptions};
use kdive_debuginfo::types::{self, Kind, Namespace, Qualifier, TypeId, TypeSource};
use kdive_debuginfo::ElfFile;

/// The vmlinux, opened once for all tests, its index cached under the
/// target directory (so only the first run pays for it).
fn vmlinux() -> Option<&'static (PathBuf, DwarfTypes)> {
    static V: OnceLock<Option<(PathBuf, DwarfTypes)>> = OnceLock::new();
    V.get_or_init(|| {
        let path = common::vmlinux(common::RELEASE)?;
        let options = OpenOptions {
            cache: CacheDir::At(shared_cache()),
            ..Default::default()
        };
        let d = DwarfTypes::open_with(&path, &options).unwrap();
        d.ensure_index().unwrap();
        Some((path, d))
    })
    .as_ref()
}

/// Where the shared instance caches its index.
fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("dwarf-types")
}

fn btf(path: &Path) -> Btf {
    let elf = ElfFile::open(path).unwrap();
    Btf::parse(elf.section(".BTF").expect("vmlinux has .BTF")).unwrap()
}

fn members(d: &DwarfTypes, id: TypeId) -> Vec<types::Member> {
    match &d.get(id).unwrap().kind {
        Kind::Struct { members } | Kind::Union { members } => members.clone(),
        other => panic!("not a struct or union: {other:?}"),
    }
}

#[test]
fn list_head() {
    let Some((_, d)) = vmlinux() else { return };
    let id = d.find(Namespace::Struct, "list_head").unwrap();
    let t = d.get(id).unwrap();
    assert_eq!((t.name.as_deref(), t.size), (Some("list_head"), Some(16)));
    let m = members(d, id);
    let got: Vec<_> = m
        .iter()
        .map(|m| {
            (
                m.name.clone().unwrap(),
                m.offset_bits,
                types::type_name(d, m.ty),
            )
        })
        .collect();
    let want = [
        ("next", 0, "struct list_head *"),
        ("prev", 64, "struct list_head *"),
    ];
    assert_eq!(got, want.map(|(n, o, t)| (n.to_string(), o, t.to_string())));
}

#[test]
fn task_struct_matches_btf() {
    let Some((path, d)) = vmlinux() else { return };
    let btf = btf(path);
    let task = d.find(Namespace::Struct, "task_struct").unwrap();
    let btf_task = btf.find("task_struct", btf::Kind::Struct).unwrap();
    assert_eq!(types::size_of(d, task), btf.size_of(btf_task));
    assert_eq!(types::size_of(d, task), Some(9728));
    for path in [
        "pid",
        "comm",
        "tasks",
        "thread.sp",
        "se.vruntime",
        "signal",
        "stack",
    ] {
        let ours = types::member(d, task, path).unwrap_or_else(|| panic!("no {path}"));
        let theirs = btf.member_offset("task_struct", path).unwrap();
        assert_eq!(ours.offset_bits, theirs.offset_bits, "task_struct.{path}");
    }
    let comm = types::member(d, task, "comm").unwrap();
    assert_eq!(types::type_name(d, comm.member.ty), "char [16]");
}

/// The chain of a type down to its first named or aggregate type, as labels
/// both sources can give: `typedef pid_t`, `base int`, `ptr`, `array 16`...
/// A declaration and its definition are the same `agg` (BTF resolves the
/// forward declarations a CU's DWARF keeps); an array of arrays is one
/// array (pahole writes `x[2][3]` as `x[6]` in BTF).
fn dwarf_shape(d: &DwarfTypes, mut id: TypeId) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..8 {
        let t = d.get(id).unwrap();
        let name = t.name.clone().unwrap_or_default();
        let (label, next) = match &t.kind {
            Kind::Void => ("void".to_string(), None),
            Kind::Int { .. } | Kind::Float => (format!("base {name}"), None),
            Kind::Pointer { target } => ("ptr".into(), Some(*target)),
            Kind::Array { elem, len } => {
                let (mut elem, mut len) = (*elem, len.unwrap_or(0));
                while let Kind::Array { elem: e, len: l } = d.get(elem).unwrap().kind {
                    (elem, len) = (e, len * l.unwrap_or(0));
                }
                (format!("array {len}"), Some(elem))
            }
            Kind::Struct { .. } | Kind::Union { .. } => (format!("agg {name}"), None),
            Kind::Forward {
                ns: Namespace::Enum,
            }
            | Kind::Enum { .. } => (format!("enum {name}"), None),
            Kind::Forward { .. } => (format!("agg {name}"), None),
            Kind::Typedef { target } => (format!("typedef {name}"), Some(*target)),
            Kind::Qualified { target, qualifier } => {
                (format!("{qualifier:?}").to_lowercase(), Some(*target))
            }
            Kind::Function { .. } => ("func".into(), None),
        };
        out.push(label);
        match next {
            Some(n) => id = n,
            None => break,
        }
    }
    out
}

fn btf_shape(btf: &Btf, mut id: u32) -> Vec<String> {
    use btf::Kind as K;
    let mut out = Vec::new();
    for _ in 0..8 {
        let t = btf.ty(id).unwrap();
        let name = t.name();
        let (label, next) = match t.kind {
            K::Void => ("void".to_string(), None),
            K::Int | K::Float => (format!("base {name}"), None),
            K::Ptr => ("ptr".into(), t.target()),
            K::Array => {
                let a = t.array().unwrap();
                (format!("array {}", a.len), Some(a.elem))
            }
            K::Struct | K::Union => (format!("agg {name}"), None),
            K::Fwd => (format!("agg {name}"), None),
            K::Enum | K::Enum64 => (format!("enum {name}"), None),
            K::Typedef => (format!("typedef {name}"), t.target()),
            K::Const => ("const".into(), t.target()),
            K::Volatile => ("volatile".into(), t.target()),
            K::Restrict => ("restrict".into(), t.target()),
            K::FuncProto => ("func".into(), None),
            other => (format!("{other}"), t.target()),
        };
        out.push(label);
        match next {
            Some(n) => id = n,
            None => break,
        }
    }
    out
}

/// Named types of `kind` that BTF has once (so both sources mean the same
/// one), `n` of them spread over the sorted names.
fn sample(btf: &Btf, kind: btf::Kind, n: usize) -> Vec<String> {
    let mut names: Vec<String> = btf
        .types()
        .filter(|t| t.kind == kind && !t.name().is_empty())
        .map(|t| t.name().to_string())
        .collect();
    names.sort();
    names.dedup();
    names.retain(|name| btf.find_all(name).filter(|t| t.kind == kind).count() == 1);
    let step = (names.len() / n).max(1);
    names.into_iter().step_by(step).take(n).collect()
}

#[test]
fn structs_unions_and_enums_match_btf() {
    let Some((path, d)) = vmlinux() else { return };
    let btf = btf(path);
    let mut checked = 0;
    // BTF has every type; DWARF has some inside the functions that use them
    // (`struct bts_record` in `intel_pmu_drain_bts_buffer`), which gdb, so
    // crash, does not find by name either: in all of 6.1, 9 of 8,539.
    let mut local = Vec::new();
    for (kind, ns, n) in [
        (btf::Kind::Struct, Namespace::Struct, 200),
        (btf::Kind::Union, Namespace::Union, 50),
    ] {
        for name in sample(&btf, kind, n) {
            let b = btf.ty(btf.find(&name, kind).unwrap()).unwrap();
            let Some(id) = d.find(ns, &name) else {
                local.push(name);
                continue;
            };
            assert_eq!(d.get(id).unwrap().size, b.size(), "size of {name}");
            let ours = members(d, id);
            let theirs: Vec<_> = b.members().collect();
            assert_eq!(ours.len(), theirs.len(), "members of {name}");
            for (o, t) in ours.iter().zip(&theirs) {
                let what = format!("{name}.{}", t.name);
                assert_eq!(o.name.as_deref().unwrap_or(""), t.name, "{what}");
                assert_eq!(o.offset_bits, u64::from(t.offset_bits), "offset of {what}");
                if b.kflag() {
                    assert_eq!(o.bit_size.unwrap_or(0), t.bitfield_size, "bits of {what}");
                }
                assert_eq!(
                    dwarf_shape(d, o.ty),
                    btf_shape(&btf, t.type_id),
                    "type of {what}"
                );
                let size = types::size_of(d, o.ty);
                let flexible = matches!(
                    types::strip(d, o.ty).unwrap().1.kind,
                    Kind::Array { len: None, .. }
                );
                assert_eq!(
                    size.or(flexible.then_some(0)),
                    btf.size_of(t.type_id),
                    "size of {what}"
                );
            }
            checked += 1;
        }
    }
    for name in sample(&btf, btf::Kind::Enum, 50) {
        let b = btf.ty(btf.find(&name, btf::Kind::Enum).unwrap()).unwrap();
        if b.vlen() == 0 {
            continue; // only declared: BTF's empty enum is DWARF's declaration
        }
        let Some(id) = d.find(Namespace::Enum, &name) else {
            local.push(name);
            continue;
        };
        let t = d.get(id).unwrap();
        let Kind::Enum { values } = &t.kind else {
            panic!("{name}: {t:?}")
        };
        let mask = u64::MAX >> (64 - 8 * t.size.unwrap());
        let ours: Vec<_> = values
            .iter()
            .map(|(n, v)| (n.clone(), *v as u64 & mask))
            .collect();
        let theirs: Vec<_> = b
            .enumerators()
            .map(|e| (e.name.to_string(), e.value as u64 & mask))
            .collect();
        assert_eq!(ours, theirs, "enum {name}");
        checked += 1;
    }
    eprintln!("{checked} structs, unions and enums agree with BTF; not at top level: {local:?}");
    assert!(local.len() <= 3, "too many types not found: {local:?}");
}

#[test]
fn variables_and_functions() {
    let Some((path, d)) = vmlinux() else { return };
    // jiffies has no DWARF definition (the linker script makes it): its
    // type comes from the declarations, its address from the symbols.
    let jiffies = d.variable("jiffies").unwrap();
    let t = d.get(jiffies.ty).unwrap();
    let Kind::Qualified {
        target,
        qualifier: Qualifier::Volatile,
    } = t.kind
    else {
        panic!("{t:?}")
    };
    let base = d.get(target).unwrap();
    assert_eq!(base.name.as_deref(), Some("long unsigned int"));
    assert_eq!(
        (base.size, &base.kind),
        (
            Some(8),
            &Kind::Int {
                signed: false,
                encoding: types::IntEncoding::Plain
            }
        )
    );
    assert_eq!(types::type_name(d, jiffies.ty), "volatile unsigned long");

    let uts = d.variable("init_uts_ns").unwrap();
    assert_eq!(types::type_name(d, uts.ty), "struct uts_namespace");
    let release = types::member(d, uts.ty, "name.release").unwrap();
    assert_eq!(types::type_name(d, release.member.ty), "char [65]");
    let task = d.variable("init_task").unwrap();
    assert_eq!(types::type_name(d, task.ty), "struct task_struct");

    let schedule = d.function("schedule").unwrap();
    assert_eq!(types::type_name(d, schedule.ty), "void (void)");
    let printk = d.function("_printk").unwrap();
    assert_eq!(types::type_name(d, printk.ty), "int (const char *, ...)");
    let Kind::Function { params, .. } = &d.get(printk.ty).unwrap().kind else {
        panic!()
    };
    assert_eq!(params[0].name.as_deref(), Some("fmt"));

    let Some(nm) = common::nm(path) else {
        eprintln!("nm not found: addresses not compared");
        return;
    };
    for g in [&jiffies, &uts, &task, &schedule, &printk] {
        let want = nm.iter().find(|(_, _, n)| *n == g.name).map(|(a, _, _)| *a);
        assert_eq!(g.addr, want, "address of {}", g.name);
    }
}

/// Every 20th global of a unique name in `nm` (functions and data, 5,000
/// of them): the DWARF has it, at `nm`'s address. Functions are found
/// through their symbol, so GCC's clones (`.part.0`, `.cold`) and `__weak`
/// copies do not stand in for them (in all of 6.1: 64,479 of 64,479).
#[test]
fn globals_match_nm() {
    let Some((path, d)) = vmlinux() else { return };
    let Some(nm) = common::nm(path) else {
        eprintln!("nm not found: not compared");
        return;
    };
    let mut seen = std::collections::HashMap::new();
    for (_, _, n) in &nm {
        *seen.entry(n.as_str()).or_insert(0) += 1;
    }
    let mut checked = 0;
    let unique = nm.iter().filter(|(_, _, n)| seen[n.as_str()] == 1);
    for (addr, kind, name) in unique.step_by(20) {
        let g = match kind {
            'T' | 't' => d.function(name),
            'D' | 'd' | 'B' | 'b' | 'R' | 'r' => d.variable(name),
            _ => continue,
        };
        // The rest have no DWARF of their own: assembler, linker script,
        // `__ksymtab_*`, clones (`.constprop.0`).
        let Some(g) = g else { continue };
        assert_eq!(g.addr, Some(*addr), "{kind} {name}");
        checked += 1;
    }
    eprintln!("{checked} globals at nm's addresses");
    assert!(checked > 2000);
}

/// The prototype of every 10th function BTF has once: same return and
/// parameter types (their shape, as above), same variadic. BTF may take
/// another function of the same name (string.h's fortified inline
/// wrappers, `static` functions of two files): in all of 6.1, 11 of 41,000.
#[test]
fn prototypes_match_btf() {
    let Some((path, d)) = vmlinux() else { return };
    let btf = btf(path);
    let (mut same, mut differ) = (0, Vec::new());
    let funcs = btf
        .types()
        .filter(|t| t.kind == btf::Kind::Func && btf.find_all(t.name()).count() == 1);
    for f in funcs.step_by(10) {
        let name = f.name();
        let g = d
            .function(name)
            .unwrap_or_else(|| panic!("no function {name}"));
        let Kind::Function {
            ret,
            params,
            variadic,
        } = d.get(g.ty).unwrap().kind.clone()
        else {
            panic!("{name} is not a function")
        };
        let proto = btf.ty(f.target().unwrap()).unwrap();
        let mut theirs: Vec<_> = proto.params().collect();
        let their_variadic = theirs.last().is_some_and(|p| p.type_id == 0);
        if their_variadic {
            theirs.pop();
        }
        let shapes = |ours: Vec<TypeId>, theirs: Vec<u32>| {
            ours.into_iter()
                .map(|t| dwarf_shape(d, t))
                .collect::<Vec<_>>()
                == theirs
                    .into_iter()
                    .map(|t| btf_shape(&btf, t))
                    .collect::<Vec<_>>()
        };
        let ours: Vec<TypeId> = std::iter::once(ret)
            .chain(params.iter().map(|p| p.ty))
            .collect();
        let want: Vec<u32> = std::iter::once(proto.target().unwrap_or(0))
            .chain(theirs.iter().map(|p| p.type_id))
            .collect();
        if variadic == their_variadic && shapes(ours, want) {
            same += 1;
        } else {
            differ.push(format!("{name}: {}", types::type_name(d, g.ty)));
        }
    }
    eprintln!("{same} prototypes agree with BTF; differ: {differ:?}");
    assert!(differ.len() <= same / 100, "{differ:?}");
}

/// A function needs no index: its symbol leads to its DIE.
#[test]
fn functions_without_index() {
    let Some((path, indexed)) = vmlinux() else {
        return;
    };
    let options = OpenOptions {
        cache: CacheDir::Off,
        ..Default::default()
    };
    let d = DwarfTypes::open_with(path, &options).unwrap();
    let symbols = ElfFile::open(path).unwrap().symbols().unwrap();
    assert!(d.set_symbols(std::sync::Arc::new(symbols)));
    for name in ["schedule", "_printk", "synchronize_rcu", "io_check_error"] {
        let g = d.function(name).unwrap();
        assert_eq!(g, indexed.function(name).unwrap(), "{name}");
    }
    assert_eq!(d.index_info(), None);
}

#[test]
fn search_agrees_with_index() {
    let Some((path, indexed)) = vmlinux() else {
        return;
    };
    let options = OpenOptions {
        cache: CacheDir::Off,
        ..Default::default()
    };
    let searched = DwarfTypes::open_with(path, &options).unwrap();
    let names = [
        (Namespace::Struct, "task_struct"),
        (Namespace::Struct, "page"),
        (Namespace::Enum, "pid_type"),
        (Namespace::Plain, "pid_t"),
        (Namespace::Plain, "long unsigned int"),
    ];
    for (ns, name) in names {
        assert_eq!(
            searched.find(ns, name),
            indexed.find(ns, name),
            "{ns:?} {name}"
        );
    }
    assert_eq!(
        searched.index_info(),
        None,
        "common types are found without the index"
    );
    // A name that is nowhere, or far in: the search gives up for the index.
    assert_eq!(
        searched.find(Namespace::Struct, "no_such_struct_anywhere"),
        None
    );
    assert!(searched.index_info().is_some());
    let far = (Namespace::Union, "thread_union");
    assert_eq!(searched.find(far.0, far.1), indexed.find(far.0, far.1));
}

#[test]
fn cache_is_written_then_used() {
    let Some((path, indexed)) = vmlinux() else {
        return;
    };
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("dwarf-types-{}", std::process::id()));
    let options = OpenOptions {
        cache: CacheDir::At(dir.clone()),
        ..Default::default()
    };
    let first = DwarfTypes::open_with(path, &options).unwrap();
    assert_eq!(
        first.index_info(),
        None,
        "no cache yet: nothing built at open"
    );
    let built = first.ensure_index().unwrap();
    assert!(!built.cached);
    let file = first.cache_file().unwrap().to_path_buf();
    assert!(file.is_file());

    let second = DwarfTypes::open_with(path, &options).unwrap();
    let info = second.index_info().unwrap();
    assert!(info.cached && info.names == built.names, "{info:?}");
    for name in ["task_struct", "kmem_cache", "rq"] {
        assert_eq!(
            second.find(Namespace::Struct, name),
            indexed.find(Namespace::Struct, name)
        );
    }

    // A damaged cache is not used.
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&file, bytes).unwrap();
    let third = DwarfTypes::open_with(path, &options).unwrap();
    assert_eq!(third.index_info(), None);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The crashme module of the corpus's `null` crash, and its `crash.txt`:
/// a failed test without them, unless `KDIVE_ALLOW_NO_CORPUS=1`.
fn crashme() -> Option<(PathBuf, String)> {
    let kernel = format!("linux-{}", common::RELEASE);
    let crash = kdive_testkit::require("crashme.ko types")
        .into_iter()
        .find(|c| c.kernel == kernel && c.scenario == "null");
    let Some(crash) = crash else {
        if kdive_testkit::allowed("KDIVE_ALLOW_NO_CORPUS") {
            eprintln!("skipping: no {kernel}/null crash (KDIVE_ALLOW_NO_CORPUS=1)");
            return None;
        }
        panic!(
            "no {kernel}/null crash in the corpus: set KDIVE_CORPUS, or KDIVE_ALLOW_NO_CORPUS=1"
        );
    };
    let ko = crash.file("crashme.ko").expect("null crash has crashme.ko");
    let txt = std::fs::read_to_string(crash.file("crash.txt").expect("crash.txt")).unwrap();
    Some((ko, txt))
}

/// What crash printed after `@@@ crash> COMMAND`, up to the next command.
fn transcript<'a>(txt: &'a str, command: &str) -> Vec<&'a str> {
    let mark = format!("@@@ crash> {command}\n");
    let start = txt
        .find(&mark)
        .unwrap_or_else(|| panic!("no `{command}` in crash.txt"))
        + mark.len();
    txt[start..]
        .lines()
        .take_while(|l| !l.starts_with("@@@"))
        .collect()
}

#[test]
fn crashme_module() {
    let Some((ko, txt)) = crashme() else { return };
    let sections = |name: &str| (name == ".bss").then_some(0xffff_ffff_c000_1000);
    let options = OpenOptions {
        cache: CacheDir::Off,
        section_address: &sections,
        threads: 0,
    };
    let d = DwarfTypes::open_with(&ko, &options).unwrap();
    assert!(d.index_info().is_some(), "a module is indexed at once");
    assert!(d.describe().contains("crashme.ko"));

    // crash> struct seed_dev
    let id = d.find(Namespace::Struct, "seed_dev").unwrap();
    let mut printed = vec!["struct seed_dev {".to_string()];
    for m in members(&d, id) {
        let ty = types::type_name(&d, m.ty);
        let sep = if ty.ends_with('*') { "" } else { " " };
        printed.push(format!("    {ty}{sep}{};", m.name.unwrap()));
    }
    printed.push("}".into());
    printed.push(format!("SIZE: {}", types::size_of(&d, id).unwrap()));
    assert_eq!(printed, transcript(&txt, "struct seed_dev"));

    // Variables, with their addresses in .bss placed as asked.
    let cache = d.variable("seed_cache").unwrap();
    assert_eq!(types::type_name(&d, cache.ty), "struct kmem_cache *");
    assert_eq!(cache.addr, Some(0xffff_ffff_c000_1000 + 0x200));
    let objs = d.variable("objs").unwrap();
    assert_eq!(types::type_name(&d, objs.ty), "struct seed_obj *[64]");
    assert_eq!(types::size_of(&d, objs.ty), Some(512));
    assert_eq!(objs.addr, Some(0xffff_ffff_c000_1000));
    // kmem_cache is only declared in the module.
    let Kind::Pointer { target } = d.get(cache.ty).unwrap().kind else {
        panic!()
    };
    assert_eq!(
        d.get(target).unwrap().kind,
        Kind::Forward {
            ns: Namespace::Struct
        }
    );

    // crash> whatis seed_touch
    let touch = d.function("seed_touch").unwrap();
    assert_eq!(
        format!(
            "void seed_touch({});",
            types::type_name(&d, touch.ty)
                .trim_start_matches("void (")
                .trim_end_matches(')')
        ),
        transcript(&txt, "whatis seed_touch")[0]
    );
}

#[test]
fn timings() {
    let Some((path, _)) = vmlinux() else { return };
    let options = |cache| OpenOptions {
        cache,
        ..Default::default()
    };
    // Best of 3 (unoptimized, of 1: the numbers mean little there).
    let runs = if cfg!(debug_assertions) { 1 } else { 3 };
    let best = |f: &dyn Fn() -> Duration| (0..runs).map(|_| f()).min().unwrap();
    let task_struct = |cache| {
        let t = Instant::now();
        let d = DwarfTypes::open_with(path, &options(cache)).unwrap();
        d.get(d.find(Namespace::Struct, "task_struct").unwrap())
            .unwrap();
        t.elapsed()
    };
    // A cold start that needs one struct: open, find (a search), convert.
    let cold = best(&|| task_struct(CacheDir::Off));
    // The same with the index the shared instance cached.
    let warm = best(&|| task_struct(CacheDir::At(shared_cache())));
    let build = (!cfg!(debug_assertions)).then(|| {
        best(&|| {
            let d = DwarfTypes::open_with(path, &options(CacheDir::Off)).unwrap();
            d.ensure_index().unwrap().took
        })
    });
    eprintln!(
        "task_struct from a cold start: {cold:?}; from a cached index: {warm:?}; \
         full index: {build:?} ({} threads{})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if cfg!(debug_assertions) {
            ", unoptimized"
        } else {
            ""
        }
    );
    // Optimized, on 2 cores: about 1 ms, 3 ms and 200-300 ms. The bounds
    // are generous for a loaded machine.
    if !cfg!(debug_assertions) {
        assert!(cold < Duration::from_millis(100), "cold {cold:?}");
        assert!(warm < Duration::from_millis(100), "warm {warm:?}");
    }
}
