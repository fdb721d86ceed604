//! A cache that passes every check of its own but names the wrong DIEs
//! (a bug in the writer, a file swapped by hand) is caught by the check of
//! each DIE a lookup returns, and replaced.

use super::table::{key, NameIndex};
use super::*;

#[test]
fn wrong_dies_in_a_sound_cache_are_caught() {
    let Some(path) = kdive_testkit::vmlinux("6.1.0-47-cloud-amd64") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("kdive-dwarf-stale-{}", std::process::id()));
    let options = OpenOptions {
        cache: CacheDir::At(dir.clone()),
        ..Default::default()
    };
    let good = DwarfTypes::open_with(&path, &options).unwrap();
    let list_head = good.find(Namespace::Struct, "list_head").unwrap();
    let task = good.find(Namespace::Struct, "task_struct").unwrap();
    let units = good
        .ensure_index()
        .map(|_| good.ready_index().unwrap().units())
        .unwrap();

    // A checksummed index of this very file, where task_struct is at
    // list_head's DIE.
    let info_len = good.sections.bytes(SectionId::DebugInfo).len() as u64;
    let name = b"task_struct";
    let rows = [(
        key(Space::Struct as u8, name),
        Space::Struct as u8,
        &name[..],
        list_head.0,
    )];
    let id = good.build_id.as_deref().unwrap();
    let wrong = NameIndex::new(&rows, &units, id, info_len);
    cache::store(good.cache_file().unwrap(), &wrong).unwrap();

    let d = DwarfTypes::open_with(&path, &options).unwrap();
    assert_eq!(d.index_info().map(|i| (i.cached, i.names)), Some((true, 1)));
    assert_eq!(d.find(Namespace::Struct, "task_struct"), Some(task));
    let info = d.index_info().unwrap();
    assert!(!info.cached && info.names > 100_000, "rebuilt: {info:?}");
    // ... and the cache replaced.
    let again = DwarfTypes::open_with(&path, &options).unwrap();
    assert_eq!(
        again.index_info().map(|i| (i.cached, i.names)),
        Some((true, info.names))
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
