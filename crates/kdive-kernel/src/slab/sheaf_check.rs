//! The objects sheaves hold, checked against their slabs: each is an
//! object of a slab of the sheaf's cache, in no other sheaf, and not on
//! its slab's free list (an object freed twice); those of the slabs the
//! walk shows are marked there.

use std::collections::{HashMap, HashSet};

use super::freelist::object_index;
use super::sheaves::SheafHolder;
use super::{Cache, CacheState, Kind, SlabObjects, Slub};
use crate::Error;

impl Slub<'_> {
    /// Check every object the sheaves of `st` hold, and mark those in the
    /// slabs of its node lists.
    pub(crate) fn check_sheaf_objects(&self, c: &Cache, st: &mut CacheState) {
        let held = st.sheaf_objects();
        if held.is_empty() {
            return;
        }
        let mut f = Vec::new();
        let mut seen = HashSet::new();
        // Slabs not on a list (full ones), walked once each.
        let mut others: HashMap<u64, SlabObjects> = HashMap::new();
        for &(obj, holder) in &held {
            let place = holder.place();
            if !seen.insert(obj) {
                let what = format!("object {obj:x} ({holder}) is in two sheaves");
                f.push(self.finding_of(c, place, obj, what, Kind::Corrupt));
                continue;
            }
            let Some(hit) = self.find(obj) else {
                let what = format!("{holder} holds {obj:x}, not an object of a slab cache");
                f.push(self.finding_of(c, place, obj, what, Kind::Corrupt));
                continue;
            };
            if hit.cache.addr != c.addr {
                let what = format!(
                    "{holder} holds {obj:x}, an object of {} ({:x})",
                    hit.cache.name, hit.cache.addr
                );
                f.push(self.finding_of(c, place, obj, what, Kind::Corrupt));
                continue;
            }
            let slab = hit.slab.addr;
            let on_list = st
                .nodes
                .iter_mut()
                .flat_map(|n| n.partial.iter_mut().chain(n.full.iter_mut().flatten()))
                .find(|so| so.slab.addr == slab);
            let so = match on_list {
                Some(so) => so,
                None => others
                    .entry(slab)
                    .or_insert_with(|| self.objects_of(c, hit.slab, None, place, &mut f)),
            };
            if let Err(why) = self.hold(c, so, obj, holder) {
                let bad = self.finding_of(c, place, obj, why.to_string(), Kind::Corrupt);
                f.push(bad.in_slab(slab));
            }
        }
        st.findings.extend(f);
    }

    /// Mark `obj` of `so` as held by `holder` (free for crash's counts
    /// unless it waits in `rcu_free`); an error when the slab has it on
    /// its free list too, or it is no object of the slab.
    pub fn hold(
        &self,
        c: &Cache,
        so: &mut SlabObjects,
        obj: u64,
        holder: SheafHolder,
    ) -> Result<(), Error> {
        let i = object_index(c, &so.slab, so.free.len(), obj)
            .map_err(|why| Error::corrupt(format!("{holder} holds {obj:x}: {why}"), obj))?;
        if so.free[i] {
            return Err(Error::corrupt(
                format!(
                    "{holder} holds {obj:x}, which slab {:x} has on its free list (freed twice)",
                    so.slab.addr
                ),
                obj,
            ));
        }
        if holder.is_free() {
            so.free[i] = true;
            so.allocated = so.allocated.saturating_sub(1);
        }
        so.held.push((i, holder));
        Ok(())
    }
}
