//! The symbols of a real vmlinux agree with `nm`'s, load fast, and look up
//! as crash's `sym` does.

mod common;

use std::time::Instant;

use kdive_debuginfo::{is_noise, ElfFile};

#[test]
fn vmlinux_symbols_match_nm() {
    let Some(path) = common::vmlinux(common::RELEASE) else {
        return;
    };
    let t = Instant::now();
    let elf = ElfFile::open(&path).unwrap();
    let table = elf.symbols().unwrap();
    let load = t.elapsed();
    let t = Instant::now();
    let schedule = table.by_name("schedule").unwrap().clone();
    let index = t.elapsed();
    eprintln!(
        "{}: {} symbols loaded in {load:?}; name index built in {index:?}",
        path.display(),
        table.len()
    );
    // Optimized, about 15 ms of CPU; the bound is generous for a loaded
    // machine. Unoptimized (plain `cargo test`) it is several times slower.
    if !cfg!(debug_assertions) {
        assert!(load.as_millis() < 300, "loading took {load:?}");
    }

    let Some(nm) = common::nm(&path) else {
        eprintln!("nm not found: symbol kinds not compared");
        return;
    };
    let mut want: Vec<(u64, char, &str)> = nm
        .iter()
        .filter(|(_, _, n)| !is_noise(n))
        .map(|(a, k, n)| (*a, *k, n.as_str()))
        .collect();
    // Section symbols are kept for crash's sake (`rd -s` names `.data`);
    // `nm` does not list them.
    let sections: std::collections::HashSet<String> = {
        use object::{Object, ObjectSection};
        let file = object::File::parse(elf.bytes()).unwrap();
        file.sections()
            .filter_map(|s| s.name().ok().map(str::to_string))
            .collect()
    };
    let mut got: Vec<(u64, char, &str)> = table
        .iter()
        .filter(|s| !(s.size == 0 && sections.contains(&s.name)))
        .map(|s| (s.addr, s.kind, s.name.as_str()))
        .collect();
    want.sort();
    got.sort();
    let missing: Vec<_> = want
        .iter()
        .filter(|w| got.binary_search(w).is_err())
        .take(10)
        .collect();
    let extra: Vec<_> = got
        .iter()
        .filter(|g| want.binary_search(g).is_err())
        .take(10)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == want.len(),
        "nm has {} symbols, we have {}; missing {missing:x?}; extra {extra:x?}",
        want.len(),
        got.len()
    );
    eprintln!(
        "all {} symbols agree with nm (address, kind, name)",
        got.len()
    );

    let sched = nm.iter().find(|(_, _, n)| n == "schedule").unwrap();
    assert_eq!((schedule.addr, schedule.kind), (sched.0, sched.1));
}

#[test]
fn lookups() {
    let Some(path) = common::vmlinux(common::RELEASE) else {
        return;
    };
    let elf = ElfFile::open(&path).unwrap();
    let table = elf.symbols().unwrap();
    let schedule = table.by_name("schedule").unwrap();
    assert_eq!(schedule.kind, 'T');
    assert!(schedule.size > 16);
    let (s, off) = table.lookup(schedule.addr + 16).unwrap();
    assert_eq!((s.name.as_str(), off), ("schedule", 16));
    let (s, off) = table.lookup(schedule.addr).unwrap();
    assert_eq!((s.name.as_str(), off), ("schedule", 0));

    // A name both global and local elsewhere: the global one first.
    let dups = table.iter().filter(|s| s.is_global()).find(|g| {
        table
            .all_by_name(&g.name)
            .any(|o| !o.kind.is_ascii_uppercase())
    });
    if let Some(g) = dups {
        assert!(table.by_name(&g.name).unwrap().is_global(), "{}", g.name);
    }

    // Completion: every `schedule*` symbol, by name.
    let names: Vec<&str> = table
        .with_prefix("schedule")
        .map(|s| s.name.as_str())
        .collect();
    assert!(names.contains(&"schedule") && names.contains(&"schedule_timeout"));
    assert!(names.windows(2).all(|w| w[0] <= w[1]));

    // The last byte of every function names it, or a label inside it.
    for f in table.iter().filter(|s| s.is_text() && s.size > 0) {
        let (s, _) = table.lookup(f.addr + f.size - 1).unwrap();
        assert!(s.addr >= f.addr, "{} in {}", s.name, f.name);
    }
    // Far into the padding after a text section, nothing.
    let end = table.by_name("__kprobes_text_end").unwrap().addr;
    if table.range(end + 1..end + 0x20000).is_empty() {
        assert!(table.lookup(end + 0x1_8000).is_none());
    }
    // Per-CPU offsets are not kernel addresses to name.
    assert!(table.range(0..0x1000).iter().all(|s| !s.name.is_empty()));

    // KASLR: text moves, per-CPU offsets do not.
    let mut moved = table.clone();
    moved.relocate(0x1f40_0000);
    assert_eq!(
        moved.by_name("schedule").unwrap().addr,
        schedule.addr + 0x1f40_0000
    );
    assert_eq!(
        moved.by_name("fixed_percpu_data").unwrap().addr,
        table.by_name("fixed_percpu_data").unwrap().addr
    );
}

#[test]
fn build_id_and_banner() {
    let Some(path) = common::vmlinux(common::RELEASE) else {
        return;
    };
    let elf = ElfFile::open(&path).unwrap();
    let id = elf.build_id().unwrap().unwrap();
    assert_eq!(id.len(), 40, "{id}");
    let table = elf.symbols().unwrap();
    let banner = elf.linux_banner(&table).unwrap().unwrap();
    assert_eq!(banner.addr, table.by_name("linux_banner").unwrap().addr);
    assert!(
        banner
            .text
            .starts_with(&format!("Linux version {} ", common::RELEASE)),
        "{:?}",
        banner.text
    );
    eprintln!(
        "build id {id}; banner at {:#x}: {}",
        banner.addr,
        banner.text.trim_end()
    );
    // The dumps of this release name the same build.
    for crash in kdive_testkit::crashes()
        .iter()
        .filter(|c| c.kernel.ends_with(common::RELEASE))
    {
        let Some(dump) = crash
            .variants
            .iter()
            .find_map(|(_, p)| kdive_dump::Dump::open(p).ok())
        else {
            eprintln!("SKIPPED {}: no variant opens", crash.name());
            continue;
        };
        if let Some(dump_id) = dump.vmcoreinfo().and_then(|v| v.get("BUILD-ID")) {
            assert_eq!(dump_id, id, "{}", crash.name());
        }
    }
}
