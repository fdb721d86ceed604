//! The kernel's vmalloc areas: `vmap_area_list` (or the per-node busy
//! lists of 6.9 and later), each busy `struct vmap_area` with its `struct
//! vm_struct` (crash's `kmem -v`).

use crate::slab::{Finding, Place};
use crate::{Error, Kernel, LayoutError};

/// One area: `[start, end)` with its `vm_struct` (0 for `vm_map_ram`
/// areas, which have none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmapArea {
    pub addr: u64,
    pub vm: u64,
    pub start: u64,
    pub end: u64,
}

impl Kernel {
    /// The areas on `vmap_area_list`, in its (address) order, and what was
    /// wrong with the list (a loop, a broken link, an unreadable entry).
    pub fn vmap_areas(&self) -> Result<(Vec<VmapArea>, Vec<Finding>), Error> {
        let layouts = self.layouts_or_err()?;
        let off = |m: &str| {
            layouts
                .member_offset("vmap_area", m)
                .map(|i| i.offset())
                .ok_or_else(|| LayoutError::member("vmap_area", m))
        };
        let (start, end, list, vm) = (off("va_start")?, off("va_end")?, off("list")?, off("vm")?);
        let mut findings = Vec::new();
        let mut links = Vec::new();
        for head in self.vmap_lists(layouts)? {
            links.extend(crate::slab::list_entries(
                self,
                head,
                Place::List,
                "vmap_area_list",
                &mut findings,
            ));
        }
        let mut out = Vec::new();
        for link in links {
            let a = link - list;
            let read = |o: u64| self.read_u64(a + o);
            if let (Ok(s), Ok(e), Ok(v)) = (read(start), read(end), read(vm)) {
                out.push(VmapArea {
                    addr: a,
                    vm: v,
                    start: s,
                    end: e,
                });
            }
        }
        // One list is in address order; the per-node lists of 6.9 and
        // later are each in order: merge them.
        out.sort_by_key(|a| a.start);
        Ok((out, findings))
    }

    /// The heads of the lists of busy areas: `vmap_area_list`, or (6.9
    /// and later) each `vmap_nodes[i].busy.head`.
    fn vmap_lists(&self, layouts: crate::offsets::Layouts<'_>) -> Result<Vec<u64>, Error> {
        if let Some(head) = self.symbol("vmap_area_list") {
            return Ok(vec![head]);
        }
        let none =
            |name: &str| Error::no_symbol_said(name, "no vmap_area_list or vmap_nodes symbol");
        let nodes = self
            .symbol("vmap_nodes")
            .ok_or_else(|| none("vmap_nodes"))?;
        let nr = self
            .symbol("nr_vmap_nodes")
            .ok_or_else(|| none("nr_vmap_nodes"))?;
        let nodes = self
            .read_u64(nodes)
            .map_err(|e| Error::read("vmap_nodes", e))?;
        let n = self
            .read_u32(nr)
            .map_err(|e| Error::read("nr_vmap_nodes", e))?;
        let busy = layouts
            .member_offset("vmap_node", "busy.head")
            .ok_or_else(|| LayoutError::member("vmap_node", "busy.head"))?
            .offset();
        let size = layouts
            .find_aggregate("vmap_node")
            .and_then(|id| layouts.size_of(id))
            .ok_or_else(|| LayoutError::ty("vmap_node"))?;
        Ok((0..u64::from(n.min(4096)))
            .map(|i| nodes + i * size + busy)
            .collect())
    }
}
