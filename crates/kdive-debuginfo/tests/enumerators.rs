//! Enum constants by name from the real vmlinux's DWARF, named and
//! anonymous enums alike, agree with its BTF; and the search without an
//! index finds what the index does.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kdive_debuginfo::btf::{self, Btf};
use kdive_debuginfo::dwarf_types::{CacheDir, DwarfTypes, OpenOptions};
use kdive_debuginfo::types::{self, Kind, TypeId, TypeSource};
use kdive_debuginfo::ElfFile;

/// The vmlinux with its index, cached where `tests/dwarf_types.rs` caches
/// it (each write is a rename, so the two test programs may share it).
fn vmlinux() -> Option<(PathBuf, DwarfTypes)> {
    let path = common::vmlinux(common::RELEASE)?;
    let options = OpenOptions {
        cache: CacheDir::At(Path::new(env!("CARGO_TARGET_TMPDIR")).join("dwarf-types")),
        ..Default::default()
    };
    let d = DwarfTypes::open_with(&path, &options).unwrap();
    d.ensure_index().unwrap();
    Some((path, d))
}

fn btf(path: &Path) -> Btf {
    let elf = ElfFile::open(path).unwrap();
    Btf::parse(elf.section(".BTF").expect("vmlinux has .BTF")).unwrap()
}

/// An enum's name (`None`: anonymous) and its constants, the values cut
/// to the enum's size (DWARF and BTF may differ in sign).
type Shape = (Option<String>, Vec<(String, u64)>);

fn dwarf_enum(d: &DwarfTypes, id: TypeId) -> Shape {
    let t = d.get(id).unwrap();
    let Kind::Enum { values } = &t.kind else {
        panic!("not an enum: {t:?}")
    };
    let mask = u64::MAX >> (64 - 8 * t.size.unwrap());
    let values = values.iter().map(|(n, v)| (n.clone(), *v as u64 & mask));
    (t.name.clone(), values.collect())
}

fn btf_enum(btf: &Btf, id: u32) -> Shape {
    let t = btf.ty(id).unwrap();
    let mask = u64::MAX >> (64 - 8 * t.size().unwrap());
    let values = t
        .enumerators()
        .map(|e| (e.name.to_string(), e.value as u64 & mask));
    let name = (!t.name().is_empty()).then(|| t.name().to_string());
    (name, values.collect())
}

#[test]
fn named_and_anonymous_enum_constants() {
    let Some((path, d)) = vmlinux() else { return };
    let (pid, v) = d.enumerator("PIDTYPE_PID").unwrap();
    assert_eq!(v, 0);
    assert_eq!(types::type_name(&d, pid), "enum pid_type");
    assert_eq!(d.enumerator("PIDTYPE_MAX").unwrap().0, pid);

    // `enum { MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES,
    // NR_MM_COUNTERS };` has no tag.
    let (mm, v) = d.enumerator("MM_SHMEMPAGES").unwrap();
    assert_eq!(v, 3);
    assert_eq!(d.get(mm).unwrap().name, None);
    assert_eq!(d.enumerator("NR_MM_COUNTERS"), Some((mm, 4)));
    assert_eq!(d.enumerator("NR_SOFTIRQS").map(|(_, v)| v), Some(10));

    for nothing in [
        "jiffies",
        "task_struct",
        "pid_type",
        "PIDTYPE",
        "NO_SUCH_CONSTANT",
    ] {
        assert_eq!(d.enumerator(nothing), None, "{nothing}");
    }

    let btf = btf(&path);
    for name in [
        "PIDTYPE_PID",
        "MM_SHMEMPAGES",
        "NR_SOFTIRQS",
        "HRTIMER_BASE_MONOTONIC",
    ] {
        let (id, v) = d.enumerator(name).unwrap();
        let (bid, bv) = btf.enumerator_of(name).unwrap();
        assert_eq!(v, bv, "{name}");
        assert_eq!(dwarf_enum(&d, id), btf_enum(&btf, bid), "enum of {name}");
    }
    assert_eq!(btf.enumerator_of("NO_SUCH_CONSTANT"), None);
}

/// Every 20th constant that BTF has once (so both mean the same enum):
/// DWARF gives the same enum and value. BTF has the enums declared inside
/// functions too, which DWARF does not give by name (as gdb): a few.
#[test]
fn constants_match_btf() {
    let Some((path, d)) = vmlinux() else { return };
    let btf = btf(&path);
    let mut seen: HashMap<String, u32> = HashMap::new();
    for t in btf.types() {
        if matches!(t.kind, btf::Kind::Enum | btf::Kind::Enum64) {
            for e in t.enumerators() {
                *seen.entry(e.name.to_string()).or_default() += 1;
            }
        }
    }
    let mut once: Vec<_> = seen
        .into_iter()
        .filter(|(_, n)| *n == 1)
        .map(|(k, _)| k)
        .collect();
    once.sort();
    let (mut checked, mut local) = (0, Vec::new());
    for name in once.iter().step_by(20) {
        let (bid, bv) = btf.enumerator_of(name).unwrap();
        let Some((id, v)) = d.enumerator(name) else {
            local.push(name.clone());
            continue;
        };
        assert_eq!(dwarf_enum(&d, id), btf_enum(&btf, bid), "enum of {name}");
        let mask = u64::MAX >> (64 - 8 * d.get(id).unwrap().size.unwrap());
        assert_eq!(v as u64 & mask, bv as u64 & mask, "{name}");
        checked += 1;
    }
    eprintln!("{checked} constants agree with BTF; not at top level: {local:?}");
    assert!(checked > 500, "only {checked} checked");
    assert!(local.len() * 20 < checked, "too many not found: {local:?}");
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
    let searched = DwarfTypes::open_with(&path, &options).unwrap();
    // The first is in an early unit; the others may make the search give
    // way to the index: the answer is the same.
    for name in [
        "PIDTYPE_PID",
        "MM_SHMEMPAGES",
        "NR_SOFTIRQS",
        "NO_SUCH_CONSTANT",
    ] {
        assert_eq!(
            searched.enumerator(name),
            indexed.enumerator(name),
            "{name}"
        );
    }
}
