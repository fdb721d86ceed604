//! Finding the DIE of a name: the full index of every top-level name
//! ([`build`]: all units, one thread per core), and the search for one name
//! that needs no index ([`search`]: units in order, stopping at the first
//! DIE nothing can beat); and [`DwarfTypes::lookup`], which asks one or the
//! other.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gimli::SectionId;

use super::scan::{Found, FxMap, Name, Scanner, Space, R};
use super::table::{key, NameIndex, Row};
use super::{DwarfTypes, SEARCH_SHARE};

/// The headers of all units, in order.
pub(super) fn units<'a>(
    dwarf: &gimli::Dwarf<R<'a>>,
) -> gimli::Result<Vec<gimli::UnitHeader<R<'a>>>> {
    let mut out = Vec::new();
    let mut it = dwarf.units();
    while let Some(h) = it.next()? {
        out.push(h);
    }
    Ok(out)
}

/// The best (rank, DIE) of each name seen by one thread: names in
/// `.debug_str` by offset (cheap to hash, and no need to find where they
/// end), the few others by their bytes.
#[derive(Default)]
struct Best<'a> {
    by_offset: FxMap<(u8, u64), (u8, u64)>,
    by_bytes: FxMap<(u8, &'a [u8]), (u8, u64)>,
}

fn keep_min<K: std::hash::Hash + Eq>(map: &mut FxMap<K, (u8, u64)>, key: K, v: (u8, u64)) {
    let slot = map.entry(key).or_insert(v);
    *slot = (*slot).min(v);
}

/// Build the index of all of the file (whose build id and `.debug_info`
/// length the index records), on `threads` threads. The result does not
/// depend on which thread saw what: each name keeps the DIE of lowest
/// (rank, offset).
pub(super) fn build<'a>(
    scanner: &Scanner<'a>,
    threads: usize,
    build_id: &str,
    info_len: u64,
) -> gimli::Result<NameIndex> {
    let headers = units(scanner.dwarf)?;
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, headers.len().max(1));
    let results: Vec<gimli::Result<Best<'a>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut best = Best::default();
                    let mut sink = |f: Found<'a>| {
                        match f.name {
                            Name::Str(o) => {
                                keep_min(&mut best.by_offset, (f.space as u8, o), (f.rank, f.die))
                            }
                            Name::Bytes(b) => {
                                keep_min(&mut best.by_bytes, (f.space as u8, b), (f.rank, f.die))
                            }
                        }
                        ControlFlow::Continue(())
                    };
                    while let Some(h) = headers.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let _ = scanner.unit(*h, &mut sink)?;
                    }
                    Ok(best)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Err(gimli::Error::Io)))
            .collect()
    });
    let mut results = results
        .into_iter()
        .collect::<gimli::Result<Vec<Best<'a>>>>()?;
    results.sort_by_key(|b| std::cmp::Reverse(b.by_offset.len()));
    let mut all = results.pop().unwrap_or_default();
    for best in results {
        for (k, v) in best.by_offset {
            keep_min(&mut all.by_offset, k, v);
        }
        for (k, v) in best.by_bytes {
            keep_min(&mut all.by_bytes, k, v);
        }
    }
    // Only now the bytes of each distinct name; equal names at different
    // offsets, or written in place, merge in the sort below.
    let mut names: Vec<Ranked<'_>> = all
        .by_offset
        .into_iter()
        .map(|((space, o), v)| (space, scanner.bytes(Name::Str(o)), v))
        .chain(
            all.by_bytes
                .into_iter()
                .map(|((space, b), v)| (space, b, v)),
        )
        // The index stores a name's length in 16 bits; C names are far shorter.
        .filter(|(_, n, _)| !n.is_empty() && n.len() <= usize::from(u16::MAX))
        .map(|(space, n, (rank, die))| (key(space, n), space, n, rank, die))
        .collect();
    names.sort_unstable();
    names.dedup_by(|b, a| (a.0, a.1, a.2) == (b.0, b.1, b.2));
    let rows: Vec<Row<'_>> = names
        .into_iter()
        .map(|(k, s, n, _, die)| (k, s, n, die))
        .collect();
    let units: Vec<u64> = headers
        .iter()
        .filter_map(|h| h.debug_info_offset().map(|o| o.0 as u64))
        .collect();
    Ok(NameIndex::new(&rows, &units, build_id, info_len))
}

/// A name with its sort key, space, rank and DIE: sorted, the best DIE of
/// a name comes first.
type Ranked<'a> = (u64, u8, &'a [u8], u8, u64);

/// What [`search`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Search {
    /// The DIE the index would give (`None`: the name is not there).
    Found(Option<u64>),
    /// The budget ran out first.
    GaveUp,
}

/// Look for `name` in `space` unit by unit, in `.debug_info` order, and
/// stop at the first DIE of rank 0 (nothing later can beat it) or after
/// `budget` bytes of units. What it finds is what the full index would
/// say: the DIE of lowest (rank, offset).
pub(super) fn search(
    scanner: &Scanner<'_>,
    space: Space,
    name: &str,
    budget: usize,
) -> gimli::Result<Search> {
    let target = name.as_bytes();
    let mut best: Option<(u8, u64)> = None;
    let mut scanned = 0usize;
    let mut it = scanner.dwarf.units();
    while let Some(h) = it.next()? {
        if scanned > budget {
            return Ok(Search::GaveUp);
        }
        scanned += h.length_including_self();
        let mut sink = |f: Found<'_>| {
            if f.space != space || !scanner.is(f.name, target) {
                return ControlFlow::Continue(());
            }
            let v = (f.rank, f.die);
            best = Some(best.map_or(v, |b| b.min(v)));
            if f.rank == 0 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        if scanner.unit(h, &mut sink)?.is_break() {
            break;
        }
    }
    Ok(Search::Found(best.map(|(_, die)| die)))
}

impl DwarfTypes {
    pub(super) fn ready_index(&self) -> Option<Arc<NameIndex>> {
        self.index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(i, _)| i.clone())
    }

    /// The DIE for `name` in `space`: from the index, checked to be such a
    /// DIE (a failed check of a cached index rebuilds it, once); else by a
    /// search.
    pub(super) fn lookup(&self, space: Space, name: &str) -> Option<u64> {
        if let Some(index) = self.ready_index() {
            let die = index.lookup(space, name)?;
            if self.is_named(die, space, name) {
                return Some(die);
            }
            let cached = self.index_info().is_some_and(|i| i.cached);
            if !cached || self.rebuilt.swap(true, Ordering::SeqCst) {
                return None;
            }
            {
                let _building = self.building.lock().unwrap_or_else(|e| e.into_inner());
                self.rebuild().ok()?;
            }
            return self.lookup(space, name);
        }
        let dwarf = self.sections.dwarf();
        let scanner = Scanner {
            dwarf: &dwarf,
            relocatable: self.sections.relocatable(),
        };
        let budget = self.sections.bytes(SectionId::DebugInfo).len() / SEARCH_SHARE;
        match search(&scanner, space, name, budget) {
            Ok(Search::Found(die)) => die,
            Ok(Search::GaveUp) | Err(_) => {
                self.ensure_index().ok()?;
                self.lookup(space, name)
            }
        }
    }
}
