//! The whole allocator checked in one call, for a tool that wants the
//! damage and not the walk's details.

use super::{Finding, Kind, Place, Slub};
use crate::{Error, Kernel};

impl Slub<'_> {
    /// Every finding of the allocator: the `slab_caches` list's, then each
    /// cache's ([`Slub::state`]), in list order. A `struct kmem_cache`
    /// that does not read is a finding of its own, and the check goes on.
    pub fn check(&self) -> Vec<Finding> {
        let (addrs, mut out) = self.cache_addrs();
        for addr in addrs {
            match self.cache(addr) {
                Ok(c) => out.extend(self.state(&c).findings),
                Err(e) => out.push(Finding {
                    cache: String::new(),
                    place: Place::Cache,
                    addr,
                    slab: None,
                    what: format!("kmem_cache {addr:x} unreadable: {e}"),
                    kind: Kind::Unreadable,
                }),
            }
        }
        out
    }
}

impl Kernel {
    /// Check the SLUB allocator ([`Slub::check`]). Fails where
    /// [`Kernel::slub`] does: no BTF, another allocator, no `slab_caches`.
    pub fn slab_check(&self) -> Result<Vec<Finding>, Error> {
        Ok(self.slub()?.check())
    }
}
