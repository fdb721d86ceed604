mod common;
use std::time::Instant;
use kdive_debuginfo::dwarf_types::{CacheDir, DwarfTypes, OpenOptions};
use kdive_debuginfo::types::{self, Namespace, TypeSource};

#[test]
fn timings() {
    let Some(path) = common::vmlinux(common::RELEASE) else { return };
    for threads in [1, 2] {
        let t = Instant::now();
        let d = DwarfTypes::open_with(&path, &OpenOptions { cache: CacheDir::Off, threads, ..Default::default() }).unwrap();
        let open = t.elapsed();
        let t = Instant::now();
        let task = d.find(Namespace::Struct, "task_struct").unwrap();
        let ty = d.get(task).unwrap();
        eprintln!("threads {threads}: open {open:?} {:?}; task_struct {:?} size {:?}", d.index_info(), t.elapsed(), ty.size);
    }
}

#[test]
fn positions() {
    use object::{Object, ObjectSection};
    let Some(path) = common::vmlinux(common::RELEASE) else { return };
    let d = DwarfTypes::open_with(&path, &OpenOptions { cache: CacheDir::Off, ..Default::default() }).unwrap();
    let data = std::fs::read(&path).unwrap();
    let obj = object::File::parse(&*data).unwrap();
    let info = obj.section_by_name(".debug_info").unwrap().data().unwrap();
    let endian = gimli::RunTimeEndian::Little;
    let t = Instant::now();
    let mut units = vec![];
    let mut it = gimli::DebugInfo::new(info, endian).units();
    while let Some(h) = it.next().unwrap() { units.push(h.debug_info_offset().unwrap().0 as u64); }
    eprintln!("{} units walked in {:?}", units.len(), t.elapsed());
    for (ns, n) in [(Namespace::Struct, "task_struct"), (Namespace::Struct, "list_head"), (Namespace::Struct, "uts_namespace"), (Namespace::Struct, "module"), (Namespace::Struct, "page"), (Namespace::Struct, "kmem_cache"), (Namespace::Struct, "rq"), (Namespace::Plain, "pid_t")] {
        let id = d.find(ns, n).unwrap();
        let pos = units.partition_point(|&u| u <= id.0);
        eprintln!("{n}: unit #{pos} at {:#x} ({:.1}%)", id.0, id.0 as f64 * 100.0 / info.len() as f64);
    }
    for n in ["schedule", "jiffies", "init_task", "init_uts_ns"] {
        let g = d.variable(n).or_else(|| d.function(n)).unwrap();
        eprintln!("{n}: {g:?}");
    }
    let _ = types::size_of;
}
