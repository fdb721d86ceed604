//! kallsyms decoded from each real dump agrees with the vmlinux's symbol
//! table moved by the dump's KASLR offset, and with what crash printed.

mod common;

use std::collections::HashMap;
use std::time::Instant;

use kdive_debuginfo::kallsyms;
use kdive_debuginfo::{ElfFile, KallsymsLocations, SymbolTable};
use kdive_dump::Dump;

/// Decode kallsyms from a dump, reading the kernel image through its
/// physical address (no page tables needed).
fn decode(dump: &Dump) -> kallsyms::Kallsyms {
    let info = dump.vmcoreinfo().expect("VMCOREINFO");
    let loc = KallsymsLocations::from_vmcoreinfo(info).unwrap();
    kallsyms::load(&loc, &common::ImageMemory::new(dump)).unwrap()
}

/// What crash printed for `sym schedule`: address and kind.
fn crash_sym(text: &str, name: &str) -> Option<(u64, char)> {
    let mut lines = text.lines();
    lines.find(|l| *l == format!("@@@ crash> sym {name}"))?;
    let mut it = lines.next()?.split_whitespace();
    let addr = u64::from_str_radix(it.next()?, 16).ok()?;
    let kind = it.next()?.strip_prefix('(')?.chars().next()?;
    Some((addr, kind))
}

/// Compare kallsyms with the vmlinux symbols moved by `offset`; returns
/// `(text symbols that agree, other symbols that agree)` and fails on any
/// kallsyms symbol the vmlinux does not have at that address and kind.
fn compare(what: &str, k: &SymbolTable, vmlinux: &SymbolTable, offset: u64) -> (usize, usize) {
    let mut moved = vmlinux.clone();
    moved.relocate(offset);
    let mut at: HashMap<(u64, &str), char> = HashMap::new();
    for s in moved.iter() {
        at.insert((s.addr, s.name.as_str()), s.kind);
    }
    let (mut text, mut other, mut bad) = (0, 0, Vec::new());
    for s in k.iter() {
        match at.get(&(s.addr, s.name.as_str())) {
            // kallsyms marks per-CPU symbols absolute ('A'); nm says data.
            Some(&kind) if kind == s.kind || s.kind == 'A' => {
                if s.is_text() {
                    text += 1
                } else {
                    other += 1
                }
            }
            found => bad.push(format!(
                "{:x} {} {} (vmlinux: {found:?})",
                s.addr, s.kind, s.name
            )),
        }
    }
    assert!(
        bad.is_empty(),
        "{what}: {} kallsyms symbols differ from the vmlinux's, e.g. {:#?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    (text, other)
}

/// The crash's dump in its preferred variant that opens.
fn open_one(crash: &kdive_testkit::Crash) -> Option<(String, Dump)> {
    let mut variants: Vec<&(String, std::path::PathBuf)> = crash.variants.iter().collect();
    variants.sort_by_key(|(v, _)| v != "kdump-zlib");
    for (variant, path) in variants {
        match Dump::open(path) {
            Ok(d) => return Some((variant.clone(), d)),
            // Another test's business; say so and try the next.
            Err(e) => eprintln!("SKIPPED {}: {e}", path.display()),
        }
    }
    None
}

fn time_decode(what: &str, dump: &Dump) -> kallsyms::Kallsyms {
    let t = Instant::now();
    let k = decode(dump);
    eprintln!(
        "{what}: {} kallsyms ({} kept) decoded in {:?}; names {:?}, addresses {:?}",
        k.num_syms,
        k.symbols.len(),
        t.elapsed(),
        k.lengths,
        k.encoding
    );
    assert!(
        k.markers_match,
        "{what}: kallsyms_markers disagrees with the names"
    );
    k
}

#[test]
fn kallsyms_agrees_with_vmlinux_and_crash() {
    let crashes = kdive_testkit::require("kallsyms");
    let vmlinux = common::vmlinux(common::RELEASE).map(|p| {
        let t = Instant::now();
        let table = ElfFile::open(&p).unwrap().symbols().unwrap();
        eprintln!("vmlinux: {} symbols in {:?}", table.len(), t.elapsed());
        table
    });
    let mut checked = 0;
    for crash in &crashes {
        // The variants of a crash hold the same pages (kdive-dump's tests
        // check it): one is enough here.
        if let Some((variant, dump)) = open_one(crash) {
            let what = format!("{} ({variant})", crash.name());
            let Some(info) = dump.vmcoreinfo() else {
                eprintln!("{what}: no VMCOREINFO, no kallsyms");
                continue;
            };
            // Before 6.0: kallsyms is found by scanning (tests/kallsyms_scan.rs).
            if let Err(e) = KallsymsLocations::from_vmcoreinfo(info) {
                eprintln!("{what}: {e}");
                continue;
            }
            let k = time_decode(&what, &dump);
            let table = &k.symbols;
            let schedule = table.by_name("schedule").expect("schedule");
            let (s, off) = table.lookup(schedule.addr + 16).unwrap();
            assert_eq!((s.name.as_str(), off), ("schedule", 16), "{what}");

            if let Some(text) = crash
                .file("crash.txt")
                .and_then(|p| std::fs::read_to_string(p).ok())
            {
                let (addr, kind) = crash_sym(&text, "schedule").expect("crash.txt: sym schedule");
                assert_eq!(
                    (schedule.addr, schedule.kind),
                    (addr, kind),
                    "{what}: crash's sym schedule"
                );
            }
            if let (Some(v), true) = (&vmlinux, crash.kernel.ends_with(common::RELEASE)) {
                let offset = dump
                    .vmcoreinfo()
                    .and_then(|i| i.kernel_offset())
                    .unwrap_or(0);
                let (text, other) = compare(&what, table, v, offset);
                let v_text = v.iter().filter(|s| s.is_text()).count();
                eprintln!(
                    "{what}: all {text} text and {other} other kallsyms symbols are the vmlinux's \
                     (which has {v_text} text symbols)"
                );
            }
            checked += 1;
        }
    }
    if !crashes.is_empty() {
        assert!(checked > 0, "no dump could be checked");
    }
}
