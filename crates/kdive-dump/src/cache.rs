//! A fixed-size cache of decompressed pages, so that a page read again is not
//! decompressed again and reading the whole dump does not grow memory.

use std::collections::HashMap;

/// Pages kept by default: 4 MiB of 4 KiB pages.
pub const DEFAULT_CAPACITY: usize = 1024;

pub(crate) struct PageCache {
    page_size: usize,
    capacity: usize,
    /// pfn -> slot
    index: HashMap<u64, usize>,
    /// slot -> (pfn, bytes)
    slots: Vec<(u64, Box<[u8]>)>,
    /// Next slot to evict (FIFO order: cheap, and good enough for the
    /// access patterns of walkers, which revisit recent pages).
    hand: usize,
}

impl PageCache {
    pub(crate) fn new(page_size: usize, capacity: usize) -> PageCache {
        PageCache {
            page_size,
            capacity: capacity.max(1),
            index: HashMap::new(),
            slots: Vec::new(),
            hand: 0,
        }
    }

    pub(crate) fn get(&self, pfn: u64) -> Option<&[u8]> {
        self.index.get(&pfn).map(|&i| &*self.slots[i].1)
    }

    /// A buffer to fill with the page's bytes; it is in the cache afterwards
    /// (the caller must fill it or call [`PageCache::forget`]).
    pub(crate) fn insert(&mut self, pfn: u64) -> &mut [u8] {
        let slot = if self.slots.len() < self.capacity {
            self.slots
                .push((pfn, vec![0u8; self.page_size].into_boxed_slice()));
            self.slots.len() - 1
        } else {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.capacity;
            let old = self.slots[i].0;
            // The old page may have been forgotten and cached again elsewhere.
            if self.index.get(&old) == Some(&i) {
                self.index.remove(&old);
            }
            self.slots[i].0 = pfn;
            i
        };
        self.index.insert(pfn, slot);
        &mut self.slots[slot].1
    }

    pub(crate) fn forget(&mut self, pfn: u64) {
        self.index.remove(&pfn);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_evicts_oldest() {
        let mut c = PageCache::new(8, 2);
        c.insert(1).fill(1);
        c.insert(2).fill(2);
        c.insert(3).fill(3);
        assert_eq!(c.len(), 2);
        assert!(c.get(1).is_none());
        assert_eq!(c.get(2).unwrap()[0], 2);
        assert_eq!(c.get(3).unwrap()[0], 3);
        c.forget(3);
        assert!(c.get(3).is_none());
    }
}
