//! kallsyms found by scanning a real dump's kernel image, ignoring what
//! VMCOREINFO says of it, is the table VMCOREINFO locates, symbol for
//! symbol.

mod common;

use std::time::Instant;

use kdive_debuginfo::kallsyms::{self, ScanHints};
use kdive_debuginfo::KallsymsLocations;
use kdive_dump::Dump;

/// Read the kernel image through its physical address.
fn reader(dump: &Dump) -> common::ImageMemory<'_> {
    common::ImageMemory::new(dump)
}

#[test]
fn scanned_kallsyms_are_vmcoreinfos() {
    let mut checked = 0;
    for crash in kdive_testkit::require("kallsyms scan") {
        let Some(path) = crash.variant("kdump-zlib") else {
            continue;
        };
        let dump = Dump::open(path).unwrap();
        let info = dump.vmcoreinfo().expect("VMCOREINFO");
        let Ok(loc) = KallsymsLocations::from_vmcoreinfo(info) else {
            continue;
        };
        let want = kallsyms::load(&loc, &reader(&dump)).unwrap();
        let stext = info.symbol("_stext").unwrap();
        // The whole image from _stext, text included: the worst case of
        // the kernel's open path, which scans the read-only data alone.
        for hint in [Some(stext), None] {
            let hints = ScanHints {
                stext: hint,
                release: dump.release(),
            };
            let t = Instant::now();
            let got = kallsyms::scan(stext..stext + (64 << 20), &hints, &reader(&dump)).unwrap();
            eprintln!(
                "{}: kallsyms found at {:#x} in {:?}, {} MiB read (stext hint {})",
                crash.name(),
                got.loc.token_table,
                t.elapsed(),
                got.scanned >> 20,
                hint.is_some()
            );
            let mut found = got.loc.clone();
            found.stext = loc.stext;
            found.release = loc.release.clone();
            assert_eq!(found, loc, "{}: tables at other places", crash.name());
            let k = &got.kallsyms;
            assert_eq!(
                (k.num_syms, k.lengths, k.encoding),
                (want.num_syms, want.lengths, want.encoding)
            );
            assert!(k.markers_match);
            let a: Vec<_> = k
                .symbols
                .iter()
                .map(|s| (s.addr, s.kind, &s.name, s.size))
                .collect();
            let b: Vec<_> = want
                .symbols
                .iter()
                .map(|s| (s.addr, s.kind, &s.name, s.size))
                .collect();
            assert!(a == b, "{}: the scanned symbols differ", crash.name());
        }
        checked += 1;
    }
    eprintln!("{checked} dumps checked");
}
