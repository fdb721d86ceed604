//! A stretch of kernel memory (a ring of the log) read as it is used, a
//! chunk at a time, and page by page where a chunk does not read, so that
//! an unreadable page loses only what is on it and a large ring never
//! sits in memory whole.

use std::cell::RefCell;
use std::collections::VecDeque;

use crate::memory::Memory;

const CHUNK: usize = 64 << 10;
const PAGE: usize = 4096;
/// Chunks kept: the readers go through the rings in order, near enough.
const KEEP: usize = 4;

pub(crate) struct Region<'m, M: Memory> {
    mem: &'m M,
    pub base: u64,
    len: usize,
    cache: RefCell<VecDeque<Chunk>>,
}

struct Chunk {
    index: usize,
    bytes: Vec<u8>,
    /// Ranges of the chunk that could not be read.
    bad: Vec<(usize, usize)>,
}

impl<'m, M: Memory> Region<'m, M> {
    pub fn new(mem: &'m M, base: u64, len: usize) -> Self {
        Region {
            mem,
            base,
            len,
            cache: RefCell::new(VecDeque::new()),
        }
    }

    /// `len` bytes at `off`, or the address of the first unreadable byte
    /// (or of `off`, for bytes past the region's end).
    pub fn get(&self, off: usize, len: usize) -> Result<Vec<u8>, u64> {
        let end = off
            .checked_add(len)
            .filter(|&e| e <= self.len)
            .ok_or(self.base.wrapping_add(off as u64))?;
        let mut out = Vec::with_capacity(len);
        let mut pos = off;
        while pos < end {
            let index = pos / CHUNK;
            let chunk_start = index * CHUNK;
            let (from, to) = (pos - chunk_start, (end - chunk_start).min(CHUNK));
            let mut cache = self.cache.borrow_mut();
            if !cache.iter().any(|c| c.index == index) {
                if cache.len() == KEEP {
                    cache.pop_front();
                }
                cache.push_back(self.load(index));
            }
            let c = cache
                .iter()
                .find(|c| c.index == index)
                .expect("just loaded");
            if let Some(&(b, _)) = c.bad.iter().find(|&&(b, e)| b < to && from < e) {
                return Err(self.base.wrapping_add((chunk_start + b.max(from)) as u64));
            }
            out.extend_from_slice(&c.bytes[from..to]);
            pos = chunk_start + to;
        }
        Ok(out)
    }

    fn load(&self, index: usize) -> Chunk {
        let start = index * CHUNK;
        let len = CHUNK.min(self.len - start);
        let base = self.base.wrapping_add(start as u64);
        let mut bytes = vec![0u8; len];
        let mut bad = Vec::new();
        if self.mem.read(base, &mut bytes).is_err() {
            let mut off = 0;
            while off < len {
                let addr = base.wrapping_add(off as u64);
                let n = (PAGE - (addr as usize % PAGE)).min(len - off);
                if self.mem.read(addr, &mut bytes[off..off + n]).is_err() {
                    bad.push((off, off + n));
                }
                off += n;
            }
        }
        Chunk { index, bytes, bad }
    }
}
