//! Translation on real dumps (the corpus): with VMCOREINFO, from
//! `init_top_pgt` and `phys_base`, checked against the symbols and against
//! what crash printed; without it (QEMU), from a CPU's CR3 alone, checked
//! against a kdump of the same kernel.

mod crashtxt;

use std::collections::HashMap;

use kdive_arch::x86_64::{
    discover, ktext_to_phys, Discovered, Hints, Region, DEFAULT_TEXT_START, SIZE_2M,
};
use kdive_dump::{Dump, VmcoreInfo};
use kdive_testkit::Crash;

/// One variant per crash is enough here: the variants test shows they hold
/// the same pages. A dump that does not open is kdive-dump's business (its
/// tests fail on it); here it is skipped, with a word.
fn open(crash: &Crash) -> Option<Dump> {
    let (_, path) = ["kdump-zlib", "qemu-kdump-zlib", "elf", "qemu-elf"]
        .iter()
        .find_map(|v| crash.variants.iter().find(|(n, _)| n == v))
        .unwrap_or(&crash.variants[0]);
    Dump::open(path)
        .map_err(|e| eprintln!("skipping {}: {e}", path.display()))
        .ok()
}

/// `struct new_utsname` fields are 65 bytes: sysname, nodename, release...
const UTS_LEN: u64 = 65;

fn read_str(dump: &Dump, found: &Discovered, vaddr: u64) -> String {
    let mut b = [0u8; UTS_LEN as usize];
    found
        .xlat
        .read_virt(dump, vaddr, &mut b)
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8_lossy(b.split(|&c| c == 0).next().unwrap()).into_owned()
}

#[test]
fn kdumps_translate_from_vmcoreinfo() {
    for crash in kdive_testkit::require("kdumps_translate_from_vmcoreinfo") {
        let Some(dump) = open(&crash) else { continue };
        let Some(info) = dump.vmcoreinfo() else {
            continue;
        };
        let name = crash.name();
        let found = discover(&dump, &Hints::from_vmcoreinfo(info));
        let tables = found
            .xlat
            .tables
            .unwrap_or_else(|| panic!("{name}: no page tables"));
        let l5 = info.number("pgtable_l5_enabled") == Some(1);
        assert_eq!(tables.levels, if l5 { 5 } else { 4 }, "{name}");
        let phys_base = info.number("phys_base").unwrap() as u64;

        // init_uts_ns: the page walk agrees with __pa_symbol(), and it holds
        // the release VMCOREINFO names.
        let uts = info.symbol("init_uts_ns").unwrap();
        let walked = tables
            .translate(&dump, uts)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            walked.phys,
            ktext_to_phys(uts, phys_base),
            "{name}: init_uts_ns"
        );
        // Where VMCOREINFO does not say (5.10 does not), the name follows a
        // 4-byte `struct kref` (5.10) or starts the structure.
        let utsname = match info.decimal("OFFSET(uts_namespace.name)") {
            Some(off) => uts + off,
            None => [uts + 4, uts]
                .into_iter()
                .find(|&a| read_str(&dump, &found, a) == "Linux")
                .unwrap_or(uts),
        };
        assert_eq!(read_str(&dump, &found, utsname), "Linux", "{name}: sysname");
        assert_eq!(
            read_str(&dump, &found, utsname + 2 * UTS_LEN),
            info.get("OSRELEASE").unwrap(),
            "{name}: release"
        );

        // The image mapping found by scanning starts at _stext, KERNELOFFSET
        // above its link address.
        let text = found
            .kernel_text
            .unwrap_or_else(|| panic!("{name}: no kernel text"));
        assert_eq!(Some(text.virt), info.symbol("_stext"), "{name}: text start");
        let offset = info.kernel_offset().unwrap();
        assert_eq!(
            text.virt,
            DEFAULT_TEXT_START + offset,
            "{name}: KERNELOFFSET"
        );
        assert!(
            text.contains(uts),
            "{name}: init_uts_ns outside the text mapping {text:x?}"
        );

        // mem_section is allocated, so in the direct map: walk and __pa() agree.
        let direct = found
            .direct_map
            .unwrap_or_else(|| panic!("{name}: no direct map"));
        let ms = info.symbol("mem_section").unwrap();
        assert_eq!(found.layout.classify(ms), Region::Direct, "{name}");
        assert_eq!(
            tables.translate(&dump, ms).unwrap().phys,
            found.layout.direct_to_phys(ms),
            "{name}"
        );
        assert!(
            direct.len >= dump.memory_ranges().last().unwrap().end,
            "{name}: direct map too short"
        );

        let compared = crash.file("crash.txt").map(|path| {
            compare_with_crash(&dump, &found, &crashtxt::CrashTxt::read(&path), &name);
        });
        eprintln!(
            "{name}: root {:#x}, {} levels, text {:#x}, page_offset_base {:#x}{}",
            tables.root,
            tables.levels,
            text.virt,
            direct.virt,
            if compared.is_some() {
                ", agrees with crash.txt"
            } else {
                ""
            }
        );
    }
}

/// crash's `mach`, `ptov`, `rd` and (when it could) `vtop`.
fn compare_with_crash(dump: &Dump, found: &Discovered, crash: &crashtxt::CrashTxt, name: &str) {
    let l = &found.layout;
    assert_eq!(
        crash.mach_hex("KERNEL VIRTUAL BASE"),
        Some(l.page_offset_base),
        "{name}"
    );
    assert_eq!(
        crash.mach_hex("KERNEL VMALLOC BASE"),
        Some(l.vmalloc_base),
        "{name}"
    );
    assert_eq!(
        crash.mach_hex("KERNEL VMEMMAP BASE"),
        Some(l.vmemmap_base),
        "{name}"
    );
    assert_eq!(
        crash.mach_hex("KERNEL MODULES BASE"),
        Some(l.modules_vaddr),
        "{name}"
    );
    assert_eq!(
        crash.ptov(0x100_0000),
        Some(l.phys_to_direct(0x100_0000)),
        "{name}: ptov"
    );
    let rd = crash.rd64("init_task", 8);
    assert!(!rd.is_empty(), "{name}: no rd -64 init_task in crash.txt");
    for (addr, words) in rd {
        for (i, w) in words.iter().enumerate() {
            let mut b = [0u8; 8];
            found
                .xlat
                .read_virt(dump, addr + 8 * i as u64, &mut b)
                .unwrap();
            assert_eq!(u64::from_le_bytes(b), *w, "{name}: rd {addr:#x}");
        }
    }
    // crash 8.0.2 answers "invalid input" for `vtop init_task` on these
    // dumps; compare the walk where it did print one.
    let want = crash.vtop_lines("init_task");
    if !want.is_empty() {
        let init_task = crash.rd64("init_task", 8)[0].0;
        let walk = found.xlat.tables.unwrap().walk(dump, init_task).to_string();
        let got: Vec<String> = walk.lines().map(|l| l.trim().to_string()).collect();
        assert_eq!(got, want, "{name}: vtop init_task");
    }
}

#[test]
fn qemu_dumps_translate_from_cr3() {
    let crashes = kdive_testkit::require("qemu_dumps_translate_from_cr3");
    // Link-time addresses of the same kernel, from its kdumps' VMCOREINFO.
    let mut linked: HashMap<String, VmcoreInfo> = HashMap::new();
    for c in &crashes {
        if let Some(info) = open(c).as_ref().and_then(Dump::vmcoreinfo) {
            linked
                .entry(c.kernel.clone())
                .or_insert_with(|| info.clone());
        }
    }
    for crash in &crashes {
        let Some(dump) = open(crash) else { continue };
        let cpus = dump.qemu_cpus();
        if dump.vmcoreinfo().is_some() || cpus.is_empty() {
            continue;
        }
        let name = crash.name();
        for cpu in &cpus {
            let found = discover(&dump, &Hints::from_qemu_cpu(cpu));
            let tables = found.xlat.tables.unwrap();
            let la57 = cpu.cr[4] & (1 << 12) != 0;
            assert_eq!(tables.levels, if la57 { 5 } else { 4 }, "{name}");
            let text = found
                .kernel_text
                .unwrap_or_else(|| panic!("{name} CPU {}: no kernel text", cpu.cpu));
            let offset = found.layout.kernel_offset.unwrap();
            assert_eq!(text.virt, DEFAULT_TEXT_START + offset, "{name}");
            assert_eq!(offset % SIZE_2M, 0, "{name}: KERNELOFFSET {offset:#x}");
            assert!(
                text.contains(cpu.rip)
                    || cpu.rip >> 63 == 0
                    || found.layout.classify(cpu.rip) != Region::KernelText,
                "{name}: RIP {:#x} in the image but outside {text:x?}",
                cpu.rip
            );
            let direct = found
                .direct_map
                .unwrap_or_else(|| panic!("{name}: no direct map"));
            assert_eq!(direct.virt % (1 << 30), 0, "{name}");
            assert_eq!(
                found.layout.classify(cpu.gs_base),
                Region::Direct,
                "{name}: per-CPU area"
            );
            eprintln!(
                "{name} CPU {}: root {:#x}, {} levels, text {:#x} (phys {:#x}, {:#x} bytes), \
                 KERNELOFFSET {offset:#x}, phys_base {:#x}, page_offset_base {:#x}, \
                 vmalloc_base {:#x}, vmemmap_base {:#x}",
                cpu.cpu,
                tables.root,
                tables.levels,
                text.virt,
                text.phys,
                text.len,
                found.layout.phys_base.unwrap(),
                direct.virt,
                found.layout.vmalloc_base,
                found.layout.vmemmap_base
            );
            // The same kernel's init_uts_ns, slid by this boot's offset.
            let Some(info) = linked.get(&crash.kernel) else {
                continue;
            };
            let link = info.symbol("init_uts_ns").unwrap() - info.kernel_offset().unwrap();
            let uts = link + offset + info.decimal("OFFSET(uts_namespace.name)").unwrap_or(0);
            assert_eq!(read_str(&dump, &found, uts), "Linux", "{name}: sysname");
            assert_eq!(
                read_str(&dump, &found, uts + 2 * UTS_LEN),
                info.get("OSRELEASE").unwrap(),
                "{name}"
            );
        }
    }
}
