//! Finding the DIE of a name: the full index of every top-level name
//! ([`build`]: all units, one thread per core), and the search for one name
//! that needs no index ([`search`]: units in order, stopping at the first
//! DIE nothing can beat).
//!
//! The index has one flat form ([`NameIndex`]: sorted entries, a string
//! blob, the unit offsets) in memory and in the cache file, so a cached
//! index loads by checking and copying a few MB, without parsing.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::scan::{Found, FxMap, Name, Scanner, Space, R};

/// One name of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// Where the name is in [`NameIndex::strings`].
    pub name_off: u32,
    pub name_len: u32,
    pub space: u8,
    /// The DIE's offset in `.debug_info`.
    pub die: u64,
}

/// The whole index, in the flat form the cache file also has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct NameIndex {
    /// Sorted by (space, name), one per (space, name).
    pub entries: Vec<Entry>,
    pub strings: Vec<u8>,
    /// The offset of every unit in `.debug_info`, increasing.
    pub units: Vec<u64>,
}

impl NameIndex {
    /// The DIE for `name` in `space`.
    pub(super) fn lookup(&self, space: Space, name: &str) -> Option<u64> {
        let key = (space as u8, name.as_bytes());
        let i = self.entries.partition_point(|e| (e.space, self.name(e)) < key);
        let e = self.entries.get(i)?;
        ((e.space, self.name(e)) == key).then_some(e.die)
    }

    pub(super) fn name(&self, e: &Entry) -> &[u8] {
        let start = e.name_off as usize;
        self.strings.get(start..start + e.name_len as usize).unwrap_or_default()
    }

    /// How many names it holds.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The offset of the unit holding `die`, in the increasing `units`.
pub(super) fn unit_of(units: &[u64], die: u64) -> Option<u64> {
    let i = units.partition_point(|&u| u <= die);
    i.checked_sub(1).map(|i| units[i])
}

/// The offsets of all units, in order.
pub(super) fn units(dwarf: &gimli::Dwarf<R<'_>>) -> gimli::Result<Vec<gimli::UnitHeader<R<'_>>>> {
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

/// Build the index of all of the file, on `threads` threads. The result
/// does not depend on which thread saw what: each name keeps the DIE of
/// lowest (rank, offset).
pub(super) fn build(scanner: &Scanner<'_>, threads: usize) -> gimli::Result<NameIndex> {
    let headers = units(scanner.dwarf)?;
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, headers.len().max(1));
    let results: Vec<gimli::Result<Best<'_>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut best = Best::default();
                    let mut sink = |f: Found<'_>| {
                        match f.name {
                            Name::Str(o) => keep_min(&mut best.by_offset, (f.space as u8, o), (f.rank, f.die)),
                            Name::Bytes(b) => keep_min(&mut best.by_bytes, (f.space as u8, b), (f.rank, f.die)),
                        }
                        ControlFlow::Continue(())
                    };
                    while let Some(h) = headers.get(next.fetch_add(1, Ordering::Relaxed)) {
                        scanner.unit(*h, &mut sink)?;
                    }
                    Ok(best)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(Err(gimli::Error::Io))).collect()
    });
    let mut by_offset: FxMap<(u8, u64), (u8, u64)> = FxMap::default();
    let mut by_bytes: FxMap<(u8, &[u8]), (u8, u64)> = FxMap::default();
    for best in results {
        let best = best?;
        for (k, v) in best.by_offset {
            keep_min(&mut by_offset, k, v);
        }
        for (k, v) in best.by_bytes {
            keep_min(&mut by_bytes, k, v);
        }
    }
    // Only now the bytes of each distinct name: equal strings at different
    // offsets, or written in place, merge here.
    for ((space, o), v) in by_offset {
        keep_min(&mut by_bytes, (space, scanner.bytes(Name::Str(o))), v);
    }
    let units = headers
        .iter()
        .filter_map(|h| h.debug_info_offset().map(|o| o.0 as u64))
        .collect();
    Ok(flatten(by_bytes, units))
}

/// The sorted flat form of the best DIE of each name.
fn flatten(best: FxMap<(u8, &[u8]), (u8, u64)>, units: Vec<u64>) -> NameIndex {
    // The cache stores a name's length in 16 bits; C names are far shorter.
    let mut all: Vec<_> = best
        .into_iter()
        .filter(|((_, n), _)| !n.is_empty() && n.len() <= usize::from(u16::MAX))
        .map(|((s, n), (_, die))| (s, n, die))
        .collect();
    all.sort_unstable();
    let mut strings = Vec::with_capacity(all.iter().map(|(_, n, _)| n.len()).sum());
    let entries = all
        .into_iter()
        .map(|(space, name, die)| {
            let name_off = strings.len() as u32;
            strings.extend_from_slice(name);
            Entry {
                name_off,
                name_len: name.len() as u32,
                space,
                die,
            }
        })
        .collect();
    NameIndex {
        entries,
        strings,
        units,
    }
}

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
pub(super) fn search(scanner: &Scanner<'_>, space: Space, name: &str, budget: usize) -> gimli::Result<Search> {
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
