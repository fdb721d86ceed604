//! One crash written in every variant (ELF from /proc/vmcore, makedumpfile
//! -E, kdump-compressed zlib / lzo / raw, flattened): every page present in
//! all of them reads back identical, and what the headers and notes say
//! agrees.

use std::collections::BTreeSet;

use kdive_dump::{Dump, Format, PageState};
use kdive_testkit::{require, Crash};

/// The variants makedumpfile writes, which a complete built crash has.
const REQUIRED: [&str; 5] = ["kdump-zlib", "kdump-lzo", "kdump-raw", "elf", "flat"];

fn multi_variant(crashes: &[Crash]) -> Vec<&Crash> {
    crashes.iter().filter(|c| c.variants.len() >= 2).collect()
}

#[test]
fn every_crash_opens_and_reads() {
    for crash in require("every_crash_opens_and_reads") {
        for (variant, path) in &crash.variants {
            let dump = Dump::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut page = vec![0u8; dump.page_size() as usize];
            let mut n = 0u64;
            for pfn in dump.present_pfns() {
                dump.read_page(pfn, &mut page)
                    .unwrap_or_else(|e| panic!("{} {variant}: {e}", crash.name()));
                n += 1;
            }
            assert!(n > 1000, "{} {variant}: only {n} pages", crash.name());
            assert_eq!(n, dump.present_pages(), "{} {variant}", crash.name());
            assert!(
                !dump.cpus().is_empty(),
                "{} {variant}: no CPU notes",
                crash.name()
            );
            // QEMU's dump-guest-memory has none unless the guest had the
            // vmcoreinfo device; every kdump capture has it.
            if !variant.starts_with("qemu") {
                assert!(
                    dump.vmcoreinfo().is_some(),
                    "{} {variant}: no VMCOREINFO",
                    crash.name()
                );
            }
        }
    }
}

#[test]
fn variants_hold_identical_pages() {
    let crashes = require("variants_hold_identical_pages");
    let multi = multi_variant(&crashes);
    let complete = multi
        .iter()
        .any(|c| REQUIRED.iter().all(|v| c.variant(v).is_some()));
    if !crashes.is_empty() && !complete {
        let msg = format!(
            "no crash has all of {REQUIRED:?}; build one with scripts/mkcorpus.sh \
             (the shared corpus keeps only kdump-zlib)"
        );
        if std::env::var_os("KDIVE_ALLOW_NO_VARIANTS").is_some_and(|v| v == "1") {
            eprintln!("{msg}");
        } else {
            panic!("{msg}");
        }
    }
    for crash in multi {
        let dumps: Vec<(String, Dump)> = crash
            .variants
            .iter()
            .map(|(v, p)| {
                let d = Dump::open(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                (v.clone(), d)
            })
            .collect();
        // Pages present in every variant.
        let mut common: Option<BTreeSet<u64>> = None;
        for (_, d) in &dumps {
            let s: BTreeSet<u64> = d.present_pfns().collect();
            common = Some(match common {
                None => s,
                Some(c) => c.intersection(&s).copied().collect(),
            });
        }
        let common = common.unwrap_or_default();
        assert!(
            common.len() > 1000,
            "{}: {} common pages",
            crash.name(),
            common.len()
        );
        let ps = dumps[0].1.page_size() as usize;
        let (mut a, mut b) = (vec![0u8; ps], vec![0u8; ps]);
        for &pfn in &common {
            dumps[0].1.read_page(pfn, &mut a).unwrap();
            for (v, d) in &dumps[1..] {
                d.read_page(pfn, &mut b)
                    .unwrap_or_else(|e| panic!("{} {v}: {e}", crash.name()));
                assert!(
                    a == b,
                    "{}: page {pfn:#x} differs between {} and {v}",
                    crash.name(),
                    dumps[0].0
                );
            }
        }
        eprintln!(
            "{}: {} pages identical across {:?}",
            crash.name(),
            common.len(),
            dumps.iter().map(|(v, _)| v.as_str()).collect::<Vec<_>>()
        );
        agree_on_headers(crash, &dumps);
    }
}

/// What `--info` shows must not depend on the variant.
fn agree_on_headers(crash: &Crash, dumps: &[(String, Dump)]) {
    let (v0, d0) = &dumps[0];
    for (v, d) in &dumps[1..] {
        let ctx = format!("{}: {v0} vs {v}", crash.name());
        assert_eq!(d.release(), d0.release(), "{ctx}: release");
        assert_eq!(d.crash_time(), d0.crash_time(), "{ctx}: crash time");
        assert_eq!(d.page_size(), d0.page_size(), "{ctx}: page size");
        assert_eq!(d.cpus(), d0.cpus(), "{ctx}: CPU registers");
        assert_eq!(d.nr_cpus(), d0.nr_cpus(), "{ctx}: CPU count");
        assert_eq!(
            d.vmcoreinfo().map(|v| v.entries().to_vec()),
            d0.vmcoreinfo().map(|v| v.entries().to_vec()),
            "{ctx}: VMCOREINFO"
        );
        assert_eq!(d.phys_base(), d0.phys_base(), "{ctx}: phys_base");
        // The dump level is recorded by the kdump formats only.
        if d.format() == Format::Kdump && d0.format() == Format::Kdump {
            assert_eq!(d.dump_level(), d0.dump_level(), "{ctx}: dump level");
            assert_eq!(d.max_pfn(), d0.max_pfn(), "{ctx}: max pfn");
        }
    }
}

#[test]
fn excluded_pages_say_so() {
    for crash in require("excluded_pages_say_so") {
        let Some(path) = crash.variant("kdump-zlib") else {
            continue;
        };
        let dump = Dump::open(path).unwrap();
        // Level 31 leaves out free and user pages: find one.
        let pfn = (0..dump.max_pfn())
            .find(|&p| dump.page_state(p) == PageState::Excluded)
            .unwrap_or_else(|| panic!("{}: no excluded page", crash.name()));
        let addr = pfn * dump.page_size() + 8;
        let mut b = [0u8; 8];
        let e = dump.read_phys(addr, &mut b).unwrap_err();
        assert_eq!(e, kdive_dump::ReadError::Excluded { addr });
        assert!(e.to_string().contains(&format!("{addr:#x}")), "{e}");
        assert!(e.to_string().contains("excluded"), "{e}");
        let beyond = dump.max_pfn() * dump.page_size() + 0x10;
        let e = dump.read_phys(beyond, &mut b).unwrap_err();
        assert!(
            matches!(e, kdive_dump::ReadError::BeyondMemory { addr, .. } if addr == beyond),
            "{e}"
        );
    }
}
