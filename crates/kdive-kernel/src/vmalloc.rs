//! The kernel's vmalloc areas: `vmap_area_list`, each busy `struct
//! vmap_area` with its `struct vm_struct` (crash's `kmem -v`).

use crate::slab::{Finding, Place};
use crate::Kernel;

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
    pub fn vmap_areas(&self) -> Result<(Vec<VmapArea>, Vec<Finding>), String> {
        let btf = self
            .btf_result()
            .map_err(|e| format!("no kernel BTF: {e}"))?;
        let off = |m: &str| {
            btf.member_offset("vmap_area", m)
                .map(|i| i.offset())
                .ok_or_else(|| format!("the kernel's BTF has no vmap_area.{m}"))
        };
        let (start, end, list, vm) = (off("va_start")?, off("va_end")?, off("list")?, off("vm")?);
        let head = self
            .symbol("vmap_area_list")
            .ok_or("no vmap_area_list symbol")?;
        let mut findings = Vec::new();
        let links =
            crate::slab::list_entries(self, head, Place::List, "vmap_area_list", &mut findings);
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
        Ok((out, findings))
    }
}
