//! libkdumpfile's x86-64 translation cases: from each case's memory and
//! symbols alone, kdive must find the same page-table root and depth, the
//! same kernel-text and direct-map offsets, and translate every range of
//! the `KV -> PHYS` map the way the case says (a page walk, a linear
//! offset, or not at all).

mod xlat;

use std::fmt::Write as _;
use std::ops::ControlFlow;

use kdive_arch::x86_64::{
    discover, ktext_to_phys, Discovered, Hints, KernelVersion, PageTables, XlatError,
    START_KERNEL_MAP,
};
use xlat::{Case, Expect, SparseMem};

#[test]
fn libkdumpfile_cases() {
    let Some(dir) = xlat::cases_dir() else { return };
    let mut report = String::new();
    let mut failed = Vec::new();
    for case in xlat::cases(&dir) {
        if case.params.get("xen_xlat").is_some_and(|v| v == "true") {
            writeln!(report, "{}: skipped (Xen paravirtual)", case.name).unwrap();
            continue;
        }
        let read =
            |ext: &str| std::fs::read_to_string(dir.join(format!("{}.{ext}", case.name))).ok();
        let expect = xlat::parse_expect(&read("expect").expect("every case has .expect"));
        let sym = read("sym").map(|s| xlat::parse_sym(&s)).unwrap_or_default();
        let blocks = read("data")
            .map(|d| xlat::parse_data(&d))
            .unwrap_or_default();
        let (mem, hints) = setup(&case, &sym, blocks);
        let found = discover(&mem, &hints);
        let mut errors = Vec::new();
        check_layout(&expect, &found, &mut errors);
        let n = check_kv_phys(&mem, &expect, &found, &mut errors);
        check_rdirect(&expect, &found, &mut errors);
        if errors.is_empty() {
            writeln!(report, "{}: ok ({n} addresses)", case.name).unwrap();
        } else {
            writeln!(report, "{}: FAILED", case.name).unwrap();
            for e in errors.iter().take(8) {
                writeln!(report, "    {e}").unwrap();
            }
            failed.push(case.name.clone());
        }
    }
    eprint!("{report}");
    assert!(failed.is_empty(), "failed: {failed:?}\n{report}");
}

/// The memory and what is known, as libkdumpfile's test gets them.
fn setup(
    case: &Case,
    sym: &std::collections::HashMap<String, u64>,
    blocks: Vec<(u64, Vec<u8>)>,
) -> (SparseMem, Hints) {
    let get = |k: &str| sym.get(k).copied();
    let mut hints = Hints {
        top_pgt: get("VALUE(init_top_pgt)").or(get("VALUE(init_level4_pgt)")),
        cr3: get("REG(cr3)"),
        cr4: get("REG(cr4)"),
        phys_base: case.number("phys_base"),
        stext: get("VALUE(_stext)").or(get("VALUE(_text)")),
        sme_mask: get("NUMBER(sme_mask)").unwrap_or(0),
        l5: get("NUMBER(pgtable_l5_enabled)").map(|n| n != 0),
        version: case
            .number("osver")
            .map(|v| KernelVersion::from_code(v as u32)),
        ..Hints::default()
    };
    if case.number("data_as") != Some(2) {
        return (SparseMem { blocks }, hints);
    }
    // The data is at kernel virtual addresses (libkdumpfile can read those
    // directly). kdive reads physical memory, so place it there: the direct
    // map by its fixed base, the image by phys_base, guessed and then
    // checked against where the page tables put _stext.
    let (pgt, stext) = (hints.top_pgt.unwrap(), hints.stext.unwrap());
    let mut guess = 0;
    for _ in 0..3 {
        let mem = SparseMem {
            blocks: blocks
                .iter()
                .map(|(a, b)| (kv_to_phys(*a, guess), b.clone()))
                .collect(),
        };
        let tables = PageTables::new(ktext_to_phys(pgt, guess), 4);
        let phys = tables.translate(&mem, stext).expect("_stext maps").phys;
        let derived = phys.wrapping_sub(stext - START_KERNEL_MAP);
        if derived == guess {
            hints.phys_base = Some(guess);
            return (mem, hints);
        }
        guess = derived;
    }
    panic!("{}: phys_base does not settle", case.name);
}

fn kv_to_phys(v: u64, phys_base: u64) -> u64 {
    match v {
        v if v >= START_KERNEL_MAP => ktext_to_phys(v, phys_base),
        v if v >= 0xffff_8800_0000_0000 => v - 0xffff_8800_0000_0000,
        v => panic!("data at {v:#x}: not in the image or the direct map"),
    }
}

/// The methods: root and depth of the page tables, text and direct offsets.
fn check_layout(e: &Expect, found: &Discovered, errors: &mut Vec<String>) {
    let pgt = &e.methods["rootpgt"];
    let levels = pgt.params["fields"].split(',').count() - 1;
    if found.xlat.levels as usize != levels {
        errors.push(format!("levels {} != {levels}", found.xlat.levels));
    }
    let ktext_off = e.methods.get("ktext").and_then(|m| m.off());
    let root = &pgt.params["root"];
    let want_root = match root.split_once(':') {
        Some(("MACHPHYSADDR", a)) => Some(xlat::parse_num(a)),
        Some(("KVADDR", a)) => ktext_off.map(|off| xlat::parse_num(a).wrapping_add(off)),
        _ => None,
    };
    let got_root = found.xlat.tables.map(|t| t.root);
    if got_root != want_root {
        errors.push(format!("root {got_root:x?} != {want_root:x?} ({root})"));
    }
    let mask = xlat::parse_num(&pgt.params["pte_mask"]);
    if let Some(t) = found.xlat.tables.filter(|t| t.sme_mask != mask) {
        errors.push(format!("sme_mask {:#x} != {mask:#x}", t.sme_mask));
    }
    let got_ktext = found
        .layout
        .phys_base
        .map(|b| b.wrapping_sub(START_KERNEL_MAP));
    if got_ktext != ktext_off {
        errors.push(format!("ktext offset {got_ktext:x?} != {ktext_off:x?}"));
    }
    let direct_off = e.methods.get("direct").and_then(|m| m.off());
    let got_direct = found.direct_map.map(|d| d.offset());
    if got_direct != direct_off {
        errors.push(format!(
            "direct-map offset {got_direct:x?} != {direct_off:x?}"
        ));
    }
}

/// Every range of `KV -> PHYS`, sampled. Returns the number of addresses.
fn check_kv_phys(
    mem: &SparseMem,
    e: &Expect,
    found: &Discovered,
    errors: &mut Vec<String>,
) -> usize {
    let mut n = 0;
    let walk = |v: u64| {
        found
            .xlat
            .tables
            .ok_or(())
            .and_then(|t| t.translate(mem, v).map(|t| t.phys).map_err(drop))
    };
    for (first, last, meth) in &e.maps["KV -> PHYS"] {
        let method = meth.as_ref().map(|m| &e.methods[m]);
        for v in samples(mem, *first, *last, found) {
            n += 1;
            let got = found.xlat.to_phys(mem, v);
            let ok = match method {
                None => matches!(got, Err(XlatError::NonCanonical { .. })),
                Some(m) => match m.off() {
                    Some(off) => got == Ok(v.wrapping_add(off)),
                    None => got.clone().map_err(drop) == walk(v),
                },
            };
            if !ok {
                errors.push(format!(
                    "{v:#x} (in {first:x}-{last:x}: {meth:?}): got {got:x?}, walk {:x?}",
                    walk(v)
                ));
            }
        }
    }
    n
}

/// `KPHYS -> DIRECT`: the direct-map address of a physical one, where the
/// direct map reaches.
fn check_rdirect(e: &Expect, found: &Discovered, errors: &mut Vec<String>) {
    let Some(ranges) = e.maps.get("KPHYS -> DIRECT") else {
        return;
    };
    for (first, last, meth) in ranges {
        let off = meth.as_ref().and_then(|m| e.methods[m].off());
        for p in spread(*first, *last, 64) {
            let got = found
                .direct_map
                .filter(|d| p < d.len)
                .map(|d| d.virt.wrapping_add(p));
            let want = off.map(|o| p.wrapping_add(o));
            if got != want {
                errors.push(format!("ptov {p:#x}: got {got:x?}, want {want:x?}"));
            }
        }
    }
}

/// Addresses to try in `first..=last`: its ends, its first and last pages,
/// an even spread, every page of a small range, and the pages the tables
/// map there.
fn samples(mem: &SparseMem, first: u64, last: u64, found: &Discovered) -> Vec<u64> {
    let pages = (last - first) / 4096;
    let mut v = if pages < 4096 {
        (0..=pages)
            .map(|i| first + i * 4096 + ((i * 0x123) & 0xfff).min(last - first - i * 4096))
            .collect()
    } else {
        spread(first, last, 1024)
    };
    v.extend([
        first,
        last,
        first.saturating_add(0xfff).min(last),
        last & !0xfff,
    ]);
    v.extend(mapped(mem, first, last, found));
    v.sort_unstable();
    v.dedup();
    v
}

/// Addresses the page tables map in `first..=last` (the start, middle and
/// end of up to 1024 mappings), where walk and shortcut could disagree.
fn mapped(mem: &SparseMem, first: u64, last: u64, found: &Discovered) -> Vec<u64> {
    let Some(t) = found.xlat.tables else {
        return Vec::new();
    };
    let mut maps = Vec::new();
    t.for_each_mapping(mem, first, last, |m| {
        maps.push(m);
        if maps.len() < 100_000 {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    });
    let step = maps.len().div_ceil(1024).max(1);
    maps.iter()
        .step_by(step)
        .flat_map(|m| [m.vaddr, m.vaddr + m.size / 2 + 0x10, m.vaddr + m.size - 1])
        .collect()
}

/// `n` addresses evenly spread over `first..=last`, ends included.
fn spread(first: u64, last: u64, n: u64) -> Vec<u64> {
    let step = ((last - first) / n).max(1);
    let mut v: Vec<u64> = (0..n)
        .map(|i| first.saturating_add(i * step))
        .filter(|&a| a <= last)
        .collect();
    v.push(last);
    v
}
