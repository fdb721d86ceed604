//! Addresses crash named in its `bt` output name the same symbol and
//! offset here, from kallsyms and from the vmlinux.
//!
//! `bt -f` prints the raw stack words and `bt -F` the same words as
//! `symbol+offset` where crash found one; `bt` names each frame's function.

mod common;

use std::collections::HashMap;

use kdive_debuginfo::kallsyms;
use kdive_debuginfo::{ElfFile, KallsymsLocations, SymbolTable};
use kdive_dump::Dump;

const START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
/// Modules live above the kernel image; their symbols come later.
const MODULES_VADDR: u64 = 0xffff_ffff_c000_0000;

/// The lines of crash's output for `command`.
fn section<'a>(text: &'a str, command: &str) -> Vec<&'a str> {
    let head = format!("@@@ crash> {command}");
    text.lines()
        .skip_while(|l| *l != head)
        .skip(1)
        .take_while(|l| !l.starts_with("@@@"))
        .collect()
}

/// `stack address -> words` of a `bt -f` or `bt -F` listing.
fn words<'a>(lines: &[&'a str]) -> HashMap<u64, Vec<&'a str>> {
    lines
        .iter()
        .filter_map(|l| {
            let (addr, rest) = l.trim_start().split_once(": ")?;
            Some((
                u64::from_str_radix(addr, 16).ok()?,
                rest.split_whitespace().collect(),
            ))
        })
        .collect()
}

/// `(address, name, offset)` crash printed: offset `None` for frame lines.
fn named_addresses(text: &str) -> Vec<(u64, String, Option<u64>)> {
    let mut out = Vec::new();
    let raw = words(&section(text, "bt -f"));
    for (at, names) in words(&section(text, "bt -F")) {
        let Some(values) = raw.get(&at) else { continue };
        for (v, n) in values.iter().zip(&names) {
            let Ok(v) = u64::from_str_radix(v, 16) else {
                continue;
            };
            if n.starts_with('[') || u64::from_str_radix(n, 16).is_ok() {
                continue; // a slab object, or no symbol
            }
            let (name, off) = match n.split_once('+') {
                Some((name, off)) => (name, off.parse().ok()),
                None => (*n, Some(0)),
            };
            out.push((v, name.to_string(), off));
        }
    }
    for l in section(text, "bt") {
        let mut it = l.split_whitespace().skip_while(|w| !w.starts_with('['));
        if let (Some(_), Some(name), Some("at"), Some(addr)) =
            (it.next(), it.next(), it.next(), it.next())
        {
            if let Ok(a) = u64::from_str_radix(addr, 16) {
                out.push((a, name.to_string(), None));
            }
        }
    }
    out
}

/// Check every kernel-image address crash named; returns how many.
fn check(what: &str, table: &SymbolTable, named: &[(u64, String, Option<u64>)]) -> usize {
    let mut n = 0;
    for (addr, name, off) in named {
        // Module addresses need module symbols; crash keeps `.L` labels,
        // which are left out here on purpose.
        if !(START_KERNEL_MAP..MODULES_VADDR).contains(addr) || name.starts_with(".L") {
            continue;
        }
        let (s, o) = table
            .lookup(*addr)
            .unwrap_or_else(|| panic!("{what}: nothing at {addr:#x} (crash: {name})"));
        assert!(
            s.name == *name || s.base_name() == name,
            "{what}: {addr:#x} is {}+{o} here, {name}+{off:?} in crash",
            s.name
        );
        if let Some(off) = off {
            assert_eq!(o, *off, "{what}: {addr:#x} ({name})");
        }
        n += 1;
    }
    n
}

#[test]
fn lookups_agree_with_crash() {
    let crashes = kdive_testkit::require("crash's names");
    let vmlinux =
        common::vmlinux(common::RELEASE).map(|p| ElfFile::open(&p).unwrap().symbols().unwrap());
    let mut checked = 0;
    for crash in &crashes {
        let Some(text) = crash
            .file("crash.txt")
            .and_then(|p| std::fs::read_to_string(p).ok())
        else {
            continue;
        };
        let Some(dump) = crash.variants.iter().find_map(|(_, p)| Dump::open(p).ok()) else {
            eprintln!("SKIPPED {}: no variant opens", crash.name());
            continue;
        };
        let named = named_addresses(&text);
        let info = dump.vmcoreinfo().expect("VMCOREINFO");
        // Before 6.0: kallsyms is found by scanning (tests/kallsyms_scan.rs).
        let loc = match KallsymsLocations::from_vmcoreinfo(info) {
            Ok(loc) => loc,
            Err(e) => {
                eprintln!("{}: {e}", crash.name());
                continue;
            }
        };
        let k = kallsyms::load(&loc, &common::ImageMemory::new(&dump)).unwrap();
        let n = check(&format!("{} kallsyms", crash.name()), &k.symbols, &named);
        if let (Some(v), true) = (&vmlinux, crash.kernel.ends_with(common::RELEASE)) {
            let mut moved = v.clone();
            moved.relocate(info.kernel_offset().unwrap_or(0));
            check(&format!("{} vmlinux", crash.name()), &moved, &named);
        }
        eprintln!("{}: {n} addresses crash named agree", crash.name());
        checked += n;
    }
    if crashes.iter().any(|c| c.file("crash.txt").is_some()) {
        assert!(checked > 0);
    }
}
