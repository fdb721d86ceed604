//! `SymbolTable` on small hand-made tables.

use kdive_debuginfo::{is_noise, Symbol, SymbolTable, MAX_LOOKUP_DISTANCE};

const K: u64 = 0xffff_ffff_8100_0000;

fn sym(name: &str, addr: u64, size: u64, kind: char) -> Symbol {
    Symbol {
        name: name.into(),
        addr,
        size,
        kind,
        module: None,
    }
}

fn table() -> SymbolTable {
    SymbolTable::new(vec![
        sym("big_array", K + 0x1000, 0x800, 'D'),
        sym("label_in_array", K + 0x1100, 0, 'd'),
        sym("schedule", K, 0x100, 'T'),
        sym("dup", K + 0x200, 0x10, 't'),
        sym("dup", K + 0x300, 0x10, 'T'),
        sym("alias_local", K + 0x400, 0x20, 't'),
        sym("alias_global", K + 0x400, 0x20, 'T'),
        sym("fixed_percpu_data", 0, 0x28, 'D'),
        sym("text_size", 0xe0_1ef2, 0, 'A'),
        sym("far_label", K + 0x10_0000, 0, 'T'),
    ])
}

#[test]
fn sorted_and_ranges() {
    let t = table();
    assert!(t.iter().map(|s| s.addr).is_sorted());
    let r: Vec<&str> = t
        .range(K..K + 0x401)
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(r, ["schedule", "dup", "dup", "alias_local", "alias_global"]);
    assert!(t.range(K + 1..K + 0x200).is_empty());
}

#[test]
fn names() {
    let t = table();
    assert_eq!(t.by_name("dup").unwrap().kind, 'T', "global first");
    assert_eq!(t.all_by_name("dup").count(), 2);
    assert!(t.by_name("nothing").is_none());
    let p: Vec<&str> = t.with_prefix("alias_").map(|s| s.name.as_str()).collect();
    assert_eq!(p, ["alias_global", "alias_local"]);
}

#[test]
fn lookups() {
    let t = table();
    let name = |a| t.lookup(a).map(|(s, o)| (s.name.clone(), o));
    assert_eq!(name(K + 16), Some(("schedule".into(), 16)));
    // Of two symbols at one address, the global one.
    assert_eq!(name(K + 0x404), Some(("alias_global".into(), 4)));
    // A label inside an object: the closest symbol below, as crash does.
    assert_eq!(name(K + 0x1108), Some(("label_in_array".into(), 8)));
    // Just past a function: still named by it (padding), as crash does...
    assert_eq!(name(K + 0x108), Some(("schedule".into(), 0x108)));
    // ...but not far away.
    assert_eq!(name(K + 0x10_0000 + MAX_LOOKUP_DISTANCE), None);
    assert_eq!(
        name(K + 0x10_0000 + MAX_LOOKUP_DISTANCE - 1).unwrap().0,
        "far_label"
    );
    // Absolute values and addresses below the first symbol name nothing.
    assert_eq!(name(0xe0_1ef2 + 1), None);
    assert_eq!(name(0x10), Some(("fixed_percpu_data".into(), 0x10)));
    assert_eq!(name(K - 1), None);
}

#[test]
fn contained_beats_distant_label() {
    let t = SymbolTable::new(vec![
        sym("huge", K, 0x10_0000, 'B'),
        sym("tiny", K + 0x10, 0, 'b'),
    ]);
    let (s, o) = t.lookup(K + 0x8_0000).unwrap();
    assert_eq!((s.name.as_str(), o), ("huge", 0x8_0000));
}

#[test]
fn relocate_moves_kernel_addresses_only() {
    let mut t = table();
    t.relocate(0x1f40_0000);
    assert_eq!(t.by_name("schedule").unwrap().addr, K + 0x1f40_0000);
    assert_eq!(t.by_name("fixed_percpu_data").unwrap().addr, 0);
    assert_eq!(t.by_name("text_size").unwrap().addr, 0xe0_1ef2);
    assert_eq!(t.lookup(K + 0x1f40_0010).unwrap().0.name, "schedule");
}

#[test]
fn merge_keeps_order_and_names() {
    let mut t = table();
    let _ = t.by_name("schedule"); // build the index before the merge
    t.merge(SymbolTable::new(vec![Symbol {
        module: Some("crashme".into()),
        ..sym("seed_touch", 0xffff_ffff_c02c_8000, 0x20, 't')
    }]));
    assert!(t.iter().map(|s| s.addr).is_sorted());
    let s = t.by_name("seed_touch").unwrap();
    assert_eq!(s.module.as_deref(), Some("crashme"));
    assert_eq!(t.lookup(0xffff_ffff_c02c_8005).unwrap().1, 5);
    assert!(t.by_name("schedule").is_some());
}

#[test]
fn noise_and_base_names() {
    for n in [".LC1", ".L__unnamed_1", "$x", "__key.12", "__key", ""] {
        assert!(is_noise(n), "{n}");
    }
    for n in [
        "__key_link_lock",
        "__key_instantiate_and_link",
        "schedule",
        "__keyring",
    ] {
        assert!(!is_noise(n), "{n}");
    }
    assert_eq!(sym("foo.isra.0", K, 0, 't').base_name(), "foo");
    assert_eq!(sym("bar.part.1.llvm.99", K, 0, 't').base_name(), "bar");
    assert_eq!(sym("baz.cold", K, 0, 't').base_name(), "baz.cold");
    assert_eq!(
        sym("qux.part.0.isra.0", K, 0, 't').base_name(),
        "qux.part.0"
    );
}
