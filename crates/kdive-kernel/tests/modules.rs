//! Modules and their symbols read from real dumps, with and without the
//! vmlinux, checked against what crash and drgn printed on the same dumps
//! (`crash.txt`, `drgn.txt`) and against the kernel's own oops report
//! (`dmesg.txt`). Every expected value is read from those files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use kdive_debuginfo::btf::{Btf, Kind};
use kdive_kernel::modules::crash_module_kind;
use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::Crash;

/// The vmlinux with debuginfo of `release` (see `kdive_testkit::vmlinux`).
fn vmlinux(release: &str) -> Option<PathBuf> {
    kdive_testkit::vmlinux(release)
}

/// One dump's kernel, opened in several ways: `(how, kernel)`.
type Kernels = Vec<(&'static str, Kernel)>;

/// Each crash with a `kdump-zlib` dump (VMCOREINFO), with its kernel
/// opened with the vmlinux and without, shared by the tests: opening takes
/// a while in a debug build.
fn dumps() -> &'static [(Crash, Kernels)] {
    static DUMPS: OnceLock<Vec<(Crash, Kernels)>> = OnceLock::new();
    DUMPS.get_or_init(|| {
        kdive_testkit::require("module tests")
            .into_iter()
            .filter(|c| c.variant("kdump-zlib").is_some())
            .map(|c| {
                let k = kernels(&c);
                (c, k)
            })
            .collect()
    })
}

/// The kernel of `c`, with its vmlinux and without.
fn kernels(c: &Crash) -> Kernels {
    let dump = c.variant("kdump-zlib").unwrap();
    let release = c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel);
    let mut out = Vec::new();
    if let Some(v) = vmlinux(release) {
        let k = Kernel::open_with(dump, VmlinuxChoice::Given(&v)).unwrap();
        out.push(("vmlinux", k));
    }
    let k = Kernel::open_with(dump, VmlinuxChoice::None).unwrap();
    out.push(("no vmlinux", k));
    out.retain(|(_, k)| k.dump().vmcoreinfo().is_some());
    out
}

fn hex(s: &str) -> Option<u64> {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

/// crash.txt as `(command, output lines)`.
fn crash_sections(text: &str) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        if let Some(cmd) = line.strip_prefix("@@@ crash> ") {
            out.push((cmd.trim().to_string(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push(line);
        }
    }
    out
}

/// crash's `mod`: `(struct module address, name, base, size)`.
fn crash_mod(sections: &[(String, Vec<&str>)]) -> Option<BTreeSet<(u64, String, u64, u64)>> {
    let (_, body) = sections.iter().find(|(c, _)| c == "mod")?;
    Some(
        body.iter()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                Some((
                    hex(f.first()?)?,
                    f.get(1)?.to_string(),
                    hex(f.get(2)?)?,
                    f.get(3)?.parse().ok()?,
                ))
            })
            .collect(),
    )
}

/// drgn.txt's module list, in its order: `(name, base, size)`.
fn drgn_modules(text: &str) -> Option<Vec<(String, u64, u64)>> {
    let start = text.find("### modules: name base size\n")?;
    let rest = &text[start..];
    let body = rest.lines().skip(1).take_while(|l| !l.starts_with("###"));
    Some(
        body.filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            Some((
                f.first()?.to_string(),
                hex(f.get(1)?)?,
                f.get(2)?.parse().ok()?,
            ))
        })
        .collect(),
    )
}

/// The names of the oops report's "Modules linked in:" line, in its order.
fn linked_in(text: &str) -> Option<Vec<String>> {
    let line = text
        .lines()
        .find_map(|l| l.split_once("Modules linked in:").map(|x| x.1))?;
    Some(
        line.split_whitespace()
            .map(|m| m.split('(').next().unwrap_or(m).to_string())
            .collect(),
    )
}

#[test]
fn module_list_matches_crash_drgn_and_the_oops() {
    let mut compared = 0;
    for (c, ks) in dumps() {
        let crash = c
            .file("crash.txt")
            .map(|p| std::fs::read_to_string(p).unwrap());
        let drgn = c
            .file("drgn.txt")
            .map(|p| std::fs::read_to_string(p).unwrap());
        let dmesg = c
            .file("dmesg.txt")
            .map(|p| std::fs::read_to_string(p).unwrap());
        for (how, k) in ks {
            let what = format!("{} ({how})", c.name());
            let mods = k.modules();
            assert!(
                !mods.is_empty(),
                "{what}: no modules; notices {:?}",
                k.notices()
            );
            if let Some(want) = crash
                .as_deref()
                .map(crash_sections)
                .as_deref()
                .and_then(crash_mod)
            {
                let got: BTreeSet<_> = mods
                    .iter()
                    .map(|m| (m.addr, m.name.clone(), m.base, m.size))
                    .collect();
                assert_eq!(got, want, "{what}: crash's mod");
                compared += 1;
            }
            if let Some(want) = drgn.as_deref().and_then(drgn_modules) {
                let got: Vec<_> = mods
                    .iter()
                    .map(|m| (m.name.clone(), m.base, m.size))
                    .collect();
                assert_eq!(got, want, "{what}: drgn's modules, in list order");
                compared += 1;
            }
            if let Some(want) = dmesg.as_deref().and_then(linked_in) {
                let got: Vec<_> = mods.iter().map(|m| m.name.clone()).collect();
                assert_eq!(got, want, "{what}: the oops's Modules linked in");
                compared += 1;
            }
            for m in mods {
                assert!(
                    m.nsyms > 0,
                    "{what}: {} has no symbols; notices {:?}",
                    m.name,
                    k.notices()
                );
                let text = m
                    .text()
                    .unwrap_or_else(|| panic!("{what}: {} has no text", m.name));
                assert_eq!(text.start, m.base, "{what}: {}", m.name);
                assert!(
                    m.contains(m.addr),
                    "{what}: struct module of {} is in its data",
                    m.name
                );
                assert_eq!(k.module_at(m.addr).map(|x| &x.name), Some(&m.name));
                // The module's own __this_module is its struct module.
                let this = k
                    .symbols()
                    .all_by_name("__this_module")
                    .find(|s| s.module.as_ref() == Some(&m.name));
                assert_eq!(this.map(|s| s.addr), Some(m.addr), "{what}: {}", m.name);
            }
        }
    }
    eprintln!("{compared} module lists compared");
}

/// What crash printed about module symbols, checked against kdive's: the
/// names it verified.
fn check_crash_symbols(
    k: &Kernel,
    sections: &[(String, Vec<&str>)],
    what: &str,
) -> BTreeSet<String> {
    let mut verified = BTreeSet::new();
    let in_modules = |addr: u64| k.module_at(addr).is_some();
    let lookup = |addr: u64| {
        k.symbols()
            .lookup(addr)
            .map(|(s, off)| (s.name.clone(), off, s.module.clone()))
    };
    for (cmd, body) in sections {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        for line in body {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sym: "ffffffffc0411000 (t) seed_touch [crashme]"
            if let [addr, kind, name, module] = f[..] {
                if let (Some(addr), Some(kind), Some(module)) = (
                    hex(addr),
                    kind.strip_prefix('(').and_then(|k| k.strip_suffix(')')),
                    module.strip_prefix('[').and_then(|m| m.strip_suffix(']')),
                ) {
                    let s = k
                        .symbols()
                        .all_by_name(name)
                        .find(|s| s.module.as_deref() == Some(module));
                    let s = s.unwrap_or_else(|| panic!("{what}: no {name} [{module}]"));
                    assert_eq!(s.addr, addr, "{what}: {line}");
                    assert_eq!(
                        crash_module_kind(s.kind).to_string(),
                        kind,
                        "{what}: {line}"
                    );
                    verified.insert(name.to_string());
                }
            }
            // bt: "#6 [ff6a268440393e78] seed_refill at ffffffffc0411044 [crashme]"
            if f.len() == 6 && f[0].starts_with('#') && f[3] == "at" {
                if let (Some(addr), Some(module)) = (
                    hex(f[4]),
                    f[5].strip_prefix('[').and_then(|m| m.strip_suffix(']')),
                ) {
                    let (name, _, m) =
                        lookup(addr).unwrap_or_else(|| panic!("{what}: nothing at {addr:#x}"));
                    assert_eq!(
                        (name.as_str(), m.as_deref()),
                        (f[2], Some(module)),
                        "{what}: {line}"
                    );
                    verified.insert(name);
                }
            }
            // dis: "0xffffffffc02c8005 <seed_touch+5>:\tmov ..."
            if let Some((addr, rest)) = line.strip_prefix("0x").and_then(|l| l.split_once(" <")) {
                if let (Some(addr), Some((sym, _))) = (hex(addr), rest.split_once(">:")) {
                    if in_modules(addr) {
                        let (name, off) = match sym.split_once('+') {
                            Some((n, o)) => (n, o.parse::<u64>().unwrap()),
                            None => (sym, 0),
                        };
                        let got =
                            lookup(addr).unwrap_or_else(|| panic!("{what}: nothing at {addr:#x}"));
                        assert_eq!((got.0.as_str(), got.1), (name, off), "{what}: {line}");
                        verified.insert(name.to_string());
                    }
                }
            }
        }
        // rd: the first line's address is the symbol's.
        if words.first() == Some(&"rd") {
            let sym = words[1..]
                .iter()
                .find(|w| !w.starts_with('-'))
                .copied()
                .unwrap_or("");
            if let Some(s) = k.symbols().by_name(sym).filter(|s| s.module.is_some()) {
                let first = body.first().and_then(|l| l.split(':').next()).and_then(hex);
                assert_eq!(first, Some(s.addr), "{what}: {cmd}");
                verified.insert(sym.to_string());
            }
        }
        // p of a module's pointer variable: "seed_cache = $4 = (struct kmem_cache *) 0xff29412bc13afe00"
        if let ["p", sym] = words[..] {
            let value = body.first().and_then(|l| {
                let rest = l.strip_prefix(sym)?.strip_prefix(" = $")?;
                hex(rest.rsplit(' ').next()?.strip_prefix("0x")?)
            });
            if let (Some(value), Some(s)) = (
                value,
                k.symbols().by_name(sym).filter(|s| s.module.is_some()),
            ) {
                assert_eq!(k.read_u64(s.addr).unwrap(), value, "{what}: {cmd}");
                verified.insert(sym.to_string());
            }
        }
    }
    verified
}

#[test]
fn module_symbols_resolve_as_crash_printed() {
    const NAMES: [&str; 4] = ["seed_touch", "seed_refill", "objs", "seed_cache"];
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (c, ks) in dumps() {
        let Some(text) = c
            .file("crash.txt")
            .map(|p| std::fs::read_to_string(p).unwrap())
        else {
            continue;
        };
        let sections = crash_sections(&text);
        // The names crash was asked about or showed in a backtrace.
        let mentioned: Vec<&str> = NAMES
            .into_iter()
            .filter(|n| {
                sections.iter().any(|(cmd, body)| {
                    cmd.split_whitespace()
                        .any(|w| w.split('+').next() == Some(*n))
                        || body.iter().any(|l| {
                            l.trim_start().starts_with('#') && l.contains(&format!(" {n} at "))
                        })
                })
            })
            .collect();
        for (how, k) in ks {
            let what = format!("{} ({how})", c.name());
            let verified = check_crash_symbols(k, &sections, &what);
            for n in &mentioned {
                assert!(
                    verified.contains(*n),
                    "{what}: crash.txt mentions {n}, nothing checked it"
                );
                *seen.entry(n.to_string()).or_default() += 1;
            }
            for n in NAMES {
                if let Some(s) = k.symbols().by_name(n) {
                    assert_eq!(s.module.as_deref(), Some("crashme"), "{what}: {n}");
                    assert_eq!(
                        crash_module_kind(s.kind),
                        if n.starts_with("seed_t") || n == "seed_refill" {
                            't'
                        } else {
                            '?'
                        }
                    );
                }
            }
        }
    }
    eprintln!("verified against crash.txt: {seen:?}");
}

#[test]
fn with_and_without_vmlinux_agree() {
    for (c, ks) in dumps() {
        let [(_, a), (_, b)] = &ks[..] else { continue };
        assert_eq!(a.modules(), b.modules(), "{}", c.name());
        let syms = |k: &Kernel| -> Vec<_> {
            k.symbols()
                .iter()
                .filter(|s| s.module.is_some())
                .map(|s| (s.addr, s.name.clone(), s.size, s.kind, s.module.clone()))
                .collect()
        };
        assert_eq!(syms(a), syms(b), "{}", c.name());
    }
}

/// What the module walk reads, from a BTF.
fn module_facts(btf: &Btf) -> Vec<String> {
    let mut out = vec![format!(
        "sizeof {:?}",
        btf.find("module", Kind::Struct)
            .and_then(|m| btf.size_of(m))
    )];
    for (outer, path) in [
        ("module", "state"),
        ("module", "list"),
        ("module", "list.next"),
        ("module", "name"),
        ("module", "kallsyms"),
        ("module", "core_kallsyms.num_symtab"),
        ("module", "mem[MOD_TEXT].base"),
        ("module", "mem[MOD_DATA].size"),
        ("module", "core_layout.base"),
        ("module", "core_layout.size"),
        ("module", "core_layout.text_size"),
        ("module", "core_layout.ro_size"),
        ("module", "core_layout.ro_after_init_size"),
        ("module", "init_layout.base"),
        ("module", "init_layout.size"),
        ("mod_kallsyms", "symtab"),
        ("mod_kallsyms", "num_symtab"),
        ("mod_kallsyms", "strtab"),
        ("mod_kallsyms", "typetab"),
    ] {
        let m = btf.member_offset(outer, path);
        let size = m.and_then(|m| btf.size_of(m.type_id));
        out.push(format!("{outer}.{path}: {m:?} size {size:?}"));
    }
    out
}

#[test]
fn btf_of_the_vmlinux_and_of_memory_agree() {
    for (c, ks) in dumps() {
        let [(_, a), (_, b)] = &ks[..] else { continue };
        let from_file = a.btf().expect("the vmlinux's BTF");
        let from_memory = b.btf().expect("the BTF in the dump's memory");
        let facts = module_facts(from_file);
        assert_eq!(facts, module_facts(from_memory), "{}", c.name());
        assert!(facts[0].contains("Some("), "{facts:?}");
        assert_eq!(from_file.len(), from_memory.len());
        assert!(
            from_file.bytes() == from_memory.bytes(),
            "{}: the blobs differ",
            c.name()
        );
        // The name array's length, as the walk reads it.
        let name = from_file.member_offset("module", "name").unwrap();
        let len = from_file.array_info(name.type_id).unwrap().len;
        assert_eq!(
            len, 56,
            "MODULE_NAME_LEN on 64-bit: 64 - sizeof(unsigned long)"
        );
    }
}

#[test]
fn btf_parses_fast() {
    let Some(v) = vmlinux("6.1.0-47-cloud-amd64") else {
        return;
    };
    let elf = kdive_debuginfo::ElfFile::open(&v).unwrap();
    let section = elf.section(".BTF").expect(".BTF");
    let mut best = std::time::Duration::MAX;
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let btf = Btf::parse(section).unwrap();
        assert!(btf.find("task_struct", Kind::Struct).is_some());
        best = best.min(t.elapsed());
    }
    eprintln!("BTF parse + name index: {best:?}");
    // Generous for a debug build on a loaded machine; about 10 ms in release.
    assert!(best.as_millis() < 2000, "{best:?}");
}

/// The build id each module has in memory is its `.ko`'s: `crashme.ko`
/// beside the dumps is the module that was loaded.
#[test]
fn module_build_id_is_the_ko_s() {
    let mut checked = 0;
    for (c, kernels) in dumps() {
        let Some(ko) = c.file("crashme.ko") else {
            continue;
        };
        let want = kdive_debuginfo::ElfFile::open(&ko)
            .unwrap()
            .build_id()
            .unwrap()
            .unwrap();
        for (how, k) in kernels {
            let m = k.module("crashme").expect("crashme loaded");
            assert_eq!(k.module_build_id(m).unwrap(), want, "{} ({how})", c.name());
            checked += 1;
        }
        // Every module has one (Debian builds them with --build-id).
        let (_, k) = &kernels[0];
        for m in k.modules() {
            assert_eq!(
                k.module_build_id(m).unwrap().len(),
                40,
                "{}: {}",
                c.name(),
                m.name
            );
        }
    }
    eprintln!("checked {checked}");
}
