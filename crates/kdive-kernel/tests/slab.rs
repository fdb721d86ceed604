//! The SLUB walk on real dumps, with the vmlinux and without (BTF from the
//! dump's memory): the caches are drgn's (`drgn.txt`), in the same order;
//! a healthy allocator has no findings; and where the kernel's own oops
//! report (`console.txt`) shows a fault inside `kmem_cache_alloc`, the walk
//! names the corrupt per-CPU freelist head it faulted on: the cache is the
//! one in RBP, the pointer the one in RAX, the CPU the oops's (mm/slub.c
//! `slab_alloc_node`, as the corpus README describes the `slab` crash).

use std::path::PathBuf;

use kdive_kernel::slab::{Finding, Kind, Place};
use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::Crash;

/// The kernel of `c` opened with its vmlinux (when installed) and without.
fn kernels(c: &Crash, dump: &std::path::Path) -> Vec<(&'static str, Kernel)> {
    let release = c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel);
    let mut out = Vec::new();
    let v: Option<PathBuf> = kdive_testkit::vmlinux(release);
    if let Some(v) = v {
        out.push((
            "vmlinux",
            Kernel::open_with(dump, VmlinuxChoice::Given(&v)).unwrap(),
        ));
    }
    out.push((
        "no vmlinux",
        Kernel::open_with(dump, VmlinuxChoice::None).unwrap(),
    ));
    out
}

/// drgn.txt's `### slab caches: address name object_size` section.
fn drgn_caches(c: &Crash) -> Option<Vec<(u64, String, u64)>> {
    let text = std::fs::read_to_string(c.file("drgn.txt")?).ok()?;
    let (_, rest) = text.split_once("### slab caches")?;
    let body = rest.split_once('\n')?.1;
    let body = body.split("\n###").next()?;
    Some(
        body.lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let addr = u64::from_str_radix(w.next()?.trim_start_matches("0x"), 16).ok()?;
                let name = w.next()?.to_string();
                let size = w.next()?.parse().ok()?;
                Some((addr, name, size))
            })
            .collect(),
    )
}

/// From the oops in console.txt, when the kernel faulted inside
/// `kmem_cache_alloc*`: the CPU, and the address it faulted on.
fn slab_fault(c: &Crash) -> Option<(usize, u64)> {
    let text = std::fs::read_to_string(c.file("console.txt")?).ok()?;
    let at = text.find("general protection fault, probably for non-canonical address 0x")?;
    let oops = &text[at..];
    let rip = oops.lines().find(|l| l.contains("RIP: "))?;
    if !rip.contains("kmem_cache_alloc") {
        return None;
    }
    let addr = oops.split("address 0x").nth(1)?;
    let addr =
        u64::from_str_radix(addr.split(|c: char| !c.is_ascii_hexdigit()).next()?, 16).ok()?;
    let cpu_line = oops.lines().find(|l| l.contains(" CPU: "))?;
    let cpu = cpu_line
        .split("CPU: ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((cpu, addr))
}

#[test]
fn caches_are_drgns() {
    let mut checked = 0;
    for c in kdive_testkit::require("slab caches") {
        let (Some(dump), Some(want)) = (c.variant("kdump-zlib"), drgn_caches(&c)) else {
            continue;
        };
        assert!(
            want.len() > 10,
            "{}: drgn.txt lists {} caches",
            c.name(),
            want.len()
        );
        for (how, k) in kernels(&c, dump) {
            let slub = k.slub().unwrap();
            let (addrs, findings) = slub.cache_addrs();
            assert!(findings.is_empty(), "{} ({how}): {findings:?}", c.name());
            let got: Vec<(u64, String, u64)> = addrs
                .iter()
                .map(|&a| {
                    let cache = slub.cache(a).unwrap();
                    (a, cache.name, cache.object_size)
                })
                .collect();
            assert_eq!(got, want, "{} ({how})", c.name());
            checked += 1;
        }
    }
    eprintln!("checked {checked} kernels");
}

/// Every finding of every cache of `k`, with the cache's address and
/// free pointer offset.
fn findings(k: &Kernel, name: &str) -> Vec<(u64, u64, Finding)> {
    let slub = k.slub().unwrap();
    let (addrs, list) = slub.cache_addrs();
    assert!(list.is_empty(), "{name}: {list:?}");
    let mut out = Vec::new();
    for a in addrs {
        let cache = slub.cache(a).unwrap();
        let st = slub.state(&cache);
        // crash's identity: TOTAL is ALLOCATED plus what is free.
        assert!(
            st.usage.allocated <= st.usage.total,
            "{name}: {}",
            cache.name
        );
        out.extend(st.findings.into_iter().map(|f| (a, cache.offset, f)));
    }
    out
}

#[test]
fn corruption_is_found_where_the_kernel_faulted() {
    let mut checked = 0;
    for c in kdive_testkit::require("slab findings") {
        let fault = slab_fault(&c);
        // The kdump-compressed dump (VMCOREINFO), else the first variant;
        // and the unfiltered copy of /proc/vmcore when there is one, where
        // no page may be missing.
        let main = c
            .variant("kdump-zlib")
            .or(c.variants.first().map(|(_, p)| p.as_path()));
        let full = c.variant("proc");
        for (dump, complete) in [(main, false), (full, true)] {
            let Some(dump) = dump else { continue };
            for (how, k) in kernels(&c, dump) {
                let name = format!("{} {} ({how})", c.name(), dump.display());
                if k.btf().is_none() && how == "no vmlinux" {
                    // No BTF without a vmlinux when kallsyms, which finds it, was
                    // neither located nor found by scanning.
                    eprintln!("{name}: no BTF, no walk");
                    continue;
                }
                let all = findings(&k, &name);
                if complete {
                    let missing: Vec<_> = all
                        .iter()
                        .filter(|f| f.2.kind == Kind::Unreadable)
                        .collect();
                    assert!(missing.is_empty(), "{name}: {missing:#?}");
                }
                let corrupt: Vec<_> = all.iter().filter(|f| f.2.kind == Kind::Corrupt).collect();
                match fault {
                    None => assert!(corrupt.is_empty(), "{name}: {corrupt:#?}"),
                    Some((cpu, addr)) => {
                        // The allocation read the free pointer of the
                        // CPU's freelist head: head + kmem_cache.offset.
                        assert_eq!(corrupt.len(), 1, "{name}: {corrupt:#?}");
                        let (_, offset, f) = corrupt[0];
                        assert_eq!(f.place, Place::Cpu(cpu), "{name}: {f}");
                        assert_eq!(f.addr.wrapping_add(*offset), addr, "{name}: {f}");
                        assert!(f.what.contains("not in slab"), "{f}");
                        eprintln!("{name}: {f}");
                    }
                }
                checked += 1;
            }
        }
    }
    eprintln!("checked {checked} kernels");
}

#[test]
fn addresses_find_their_object() {
    for c in kdive_testkit::require("slab addresses") {
        let Some(dump) = c.variant("kdump-zlib") else {
            continue;
        };
        for (how, k) in kernels(&c, dump) {
            let slub = k.slub().unwrap();
            let (addrs, _) = slub.cache_addrs();
            // Every free and allocated object of every CPU slab finds its
            // own cache, slab and object again, from inside the object.
            for a in addrs {
                let cache = slub.cache(a).unwrap();
                let st = slub.state(&cache);
                // On 7.x, every object a sheaf holds too.
                for (obj, holder) in st.sheaf_objects() {
                    let hit = slub.find(obj + cache.size / 2);
                    let what = format!("{} ({how}): {} {holder} {obj:x}", c.name(), cache.name);
                    let hit = hit.unwrap_or_else(|| panic!("{what}: not found"));
                    assert_eq!(hit.cache.addr, a, "{what}");
                    assert_eq!(hit.object.map(|o| o.0), Some(obj), "{what}");
                }
                for cpu in st.cpus {
                    let Some(so) = cpu.slab else { continue };
                    for (i, (obj, _)) in so.objects(&cache).enumerate() {
                        let hit = slub.find(obj + cache.size / 2).unwrap();
                        assert_eq!(hit.cache.addr, a, "{} ({how})", c.name());
                        assert_eq!(hit.slab.addr, so.slab.addr);
                        assert_eq!(hit.object, Some((obj, i)));
                    }
                    let hit = slub.find(so.slab.addr).unwrap();
                    assert_eq!((hit.cache.addr, hit.object), (a, None));
                }
            }
            // Not slab memory: the kernel's text.
            let text = k.symbol("_text").unwrap();
            assert!(slub.find(text).is_none());
        }
    }
}
