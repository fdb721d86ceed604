//! Free lists: the chain of free objects through the pointer each keeps at
//! `kmem_cache.offset`, scrambled with `CONFIG_SLAB_FREELIST_HARDENED`
//! (mm/slub.c `freelist_ptr`: `ptr ^ s->random ^ swab(ptr_addr)` since
//! 5.7, `ptr ^ s->random ^ ptr_addr` before).

use super::{Cache, Slab, Slub};

/// Why a free list stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Broken {
    /// The bad pointer.
    pub ptr: u64,
    /// The object whose free pointer it is; `None` for the list's head.
    pub from: Option<u64>,
    pub why: String,
    /// The free pointer could not be read (not damage: missing memory).
    pub unreadable: bool,
}

/// Where `p` is in `slab`: the index of the object it starts, or why it is
/// not one of the slab's objects.
pub(crate) fn object_index(cache: &Cache, slab: &Slab, n: usize, p: u64) -> Result<usize, String> {
    let start = slab.memory.wrapping_add(cache.left_pad());
    let end = start.wrapping_add((n as u64).wrapping_mul(cache.size));
    if p < start || p >= end || cache.size == 0 {
        return Err(format!(
            "not in slab {:x} (objects {:x}-{:x})",
            slab.addr, start, end
        ));
    }
    let off = p - start;
    if off % cache.size != 0 {
        return Err(format!(
            "not on an object boundary of slab {:x} (objects of {:#x} bytes from {:x})",
            slab.addr, cache.size, start
        ));
    }
    Ok((off / cache.size) as usize)
}

impl Slub<'_> {
    /// The next free object after `object`: its free pointer, unscrambled.
    fn next_free(&self, cache: &Cache, slab: &Slab, n: usize, object: u64) -> Result<u64, String> {
        let at = object.wrapping_add(cache.offset);
        let stored = self.mem.read_u64(at).map_err(|e| e.to_string())?;
        let Some(random) = cache.random else {
            return Ok(stored);
        };
        let swabbed = stored ^ random ^ at.swap_bytes();
        let plain = stored ^ random ^ at;
        Ok(match self.swab.get() {
            Some(true) => swabbed,
            Some(false) => plain,
            None => {
                let fits = |p: u64| p != 0 && object_index(cache, slab, n, p).is_ok();
                if fits(swabbed) {
                    self.swab.set(Some(true));
                } else if fits(plain) {
                    self.swab.set(Some(false));
                    return Ok(plain);
                }
                swabbed
            }
        })
    }

    /// Follow the free list from `head` through `slab` (of `n` objects),
    /// marking each object reached in `free`. Returns how many were
    /// reached, and why the list stopped early if it did: a pointer that
    /// is not an object of the slab, an object already marked (a loop, or
    /// an object on two lists), or a free pointer the dump cannot read.
    pub(crate) fn follow(
        &self,
        cache: &Cache,
        slab: &Slab,
        head: u64,
        free: &mut [bool],
    ) -> (usize, Option<Broken>) {
        let n = free.len();
        let mut count = 0;
        let mut from = None;
        let mut p = head;
        // Each step marks a new object: at most n steps.
        while p != 0 {
            let broken = |why: String| Broken {
                ptr: p,
                from,
                why,
                unreadable: false,
            };
            let i = match object_index(cache, slab, n, p) {
                Ok(i) => i,
                Err(why) => return (count, Some(broken(why))),
            };
            if free[i] {
                let why = "already on a free list (a loop, or an object freed twice)".into();
                return (count, Some(broken(why)));
            }
            free[i] = true;
            count += 1;
            match self.next_free(cache, slab, n, p) {
                Ok(next) => {
                    from = Some(p);
                    p = next;
                }
                Err(e) => {
                    let why = format!("free pointer unreadable: {e}");
                    let b = Broken {
                        ptr: p,
                        from,
                        why,
                        unreadable: true,
                    };
                    return (count, Some(b));
                }
            }
        }
        (count, None)
    }
}

impl Broken {
    /// The finding's text: which list, which pointer, what is wrong.
    pub fn describe(&self, list: &str) -> String {
        // Every kernel address has its top byte set, with 4- and 5-level
        // paging alike: say so when the pointer is not even one.
        let hint = if self.ptr >> 56 != 0xff && !self.unreadable {
            " (not a kernel address)"
        } else {
            ""
        };
        match self.from {
            None => format!("{list} head {:x}: {}{hint}", self.ptr, self.why),
            Some(obj) => format!(
                "{list}: free pointer of object {obj:x} is {:x}: {}{hint}",
                self.ptr, self.why
            ),
        }
    }
}
