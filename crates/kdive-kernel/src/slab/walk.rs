//! One cache's slabs: each CPU's slab, free list and partial list, each
//! node's partial and full lists, and crash's counts from them.

use std::collections::HashSet;

use super::freelist::{object_index, Broken};
use super::lists::{list, usage};
use super::{
    Cache, CacheState, CpuState, Finding, Kind, NodeState, Place, Slab, SlabObjects, Slub, Usage,
    MAX_LIST,
};

impl Slub<'_> {
    fn finding(&self, c: &Cache, place: Place, addr: u64, what: String) -> Finding {
        self.finding_of(c, place, addr, what, Kind::Corrupt)
    }

    /// A finding of `kind` about `addr` in cache `c`.
    pub(crate) fn finding_of(
        &self,
        c: &Cache,
        place: Place,
        addr: u64,
        what: String,
        kind: Kind,
    ) -> Finding {
        Finding {
            cache: c.name.clone(),
            place,
            addr,
            slab: None,
            what,
            kind,
        }
    }

    fn unreadable(&self, c: &Cache, place: Place, addr: u64, what: String) -> Finding {
        Finding {
            kind: Kind::Unreadable,
            ..self.finding(c, place, addr, what)
        }
    }

    fn broken(&self, c: &Cache, place: Place, b: &Broken, what: String) -> Finding {
        let kind = if b.unreadable {
            Kind::Unreadable
        } else {
            Kind::Corrupt
        };
        Finding {
            kind,
            ..self.finding(c, place, b.ptr, what)
        }
    }

    /// A slab pointer that did not read: not a page (damage), or a page
    /// the dump lacks.
    fn bad_slab(&self, c: &Cache, place: Place, page: u64, e: crate::Error) -> Finding {
        let what = format!("slab {page:x}: {e}");
        let f = if self.is_page(page) {
            self.unreadable(c, place, page, what)
        } else {
            self.finding(c, place, page, what)
        };
        f.in_slab(page)
    }

    /// Find which of `slab`'s objects are free: its own free list, and for
    /// a CPU's slab that CPU's free list `(cpu, head)` too.
    pub fn objects_of(
        &self,
        c: &Cache,
        slab: Slab,
        cpu: Option<(usize, u64)>,
        place: Place,
        findings: &mut Vec<Finding>,
    ) -> SlabObjects {
        if slab.cache != c.addr {
            let what = format!(
                "slab {:x} belongs to cache {:x}, not {:x}",
                slab.addr, slab.cache, c.addr
            );
            findings.push(self.finding(c, place, slab.addr, what).in_slab(slab.addr));
        }
        // A slab of a smaller order holds fewer objects, and one made
        // before the order was raised through sysfs more; a count beyond
        // 16 times the preferred slab, or an inuse beyond the count, is
        // damage: walk what fits.
        let most = (c.slab_bytes() << 4)
            .checked_div(c.size)
            .unwrap_or(0)
            .min(1 << 15);
        let mut n = slab.objects;
        if n > most || slab.inuse > n {
            let what = format!(
                "slab {:x}: objects {} inuse {} (at most {} objects of {} bytes)",
                slab.addr, slab.objects, slab.inuse, most, c.size
            );
            findings.push(self.finding(c, place, slab.addr, what).in_slab(slab.addr));
            n = n.min(most);
        }
        let mut free = vec![false; n as usize];
        let (own, broken) = self.follow(c, &slab, slab.freelist, &mut free);
        if let Some(b) = &broken {
            let what = b.describe(&format!("slab {:x} freelist", slab.addr));
            findings.push(self.broken(c, place, b, what).in_slab(slab.addr));
        } else if own as u64 != n.saturating_sub(slab.inuse) {
            let what = format!(
                "slab {:x}: {} objects on its free list, but objects - inuse is {}",
                slab.addr,
                own,
                n.saturating_sub(slab.inuse)
            );
            findings.push(self.finding(c, place, slab.addr, what).in_slab(slab.addr));
        }
        let mut cpu_free = 0;
        let allocated = match cpu {
            Some((_, head)) => {
                let (on_cpu, broken) = self.follow(c, &slab, head, &mut free);
                cpu_free = on_cpu as u64;
                if let Some(b) = &broken {
                    let what = b.describe("freelist");
                    findings.push(self.broken(c, place, b, what).in_slab(slab.addr));
                }
                // crash: the CPU free list, plus what `inuse` leaves when
                // the slab has remote frees of its own.
                let remote = if slab.freelist != 0 {
                    n.saturating_sub(slab.inuse)
                } else {
                    0
                };
                n.saturating_sub(on_cpu as u64 + remote)
            }
            None => slab.inuse,
        };
        SlabObjects {
            slab,
            cpu: cpu.map(|(c, _)| c),
            free,
            own_free: own as u64,
            cpu_free,
            allocated,
            held: Vec::new(),
        }
    }

    /// The slabs of a per-node list (`partial` or `full`).
    fn node_list(
        &self,
        c: &Cache,
        head: u64,
        place: Place,
        f: &mut Vec<Finding>,
    ) -> Vec<SlabObjects> {
        let mut out = Vec::new();
        for link in list(self.mem, head, place, &c.name, f) {
            let page = link.wrapping_sub(self.o.slab_list);
            match self.slab(page) {
                Ok(s) => out.push(self.objects_of(c, s, None, place, f)),
                Err(e) => {
                    f.push(self.bad_slab(c, place, page, e));
                    break;
                }
            }
        }
        out
    }

    /// A CPU's partial slabs, linked by `slab->next`.
    fn cpu_partial(
        &self,
        c: &Cache,
        cpu: usize,
        mut page: u64,
        f: &mut Vec<Finding>,
    ) -> Vec<SlabObjects> {
        let place = Place::CpuPartial(cpu);
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        while page != 0 {
            if out.len() >= MAX_LIST || !seen.insert(page) {
                f.push(self.finding(
                    c,
                    place,
                    page,
                    format!("partial list loops back to {page:x}"),
                ));
                break;
            }
            match self.slab(page) {
                Ok(s) => {
                    let next = s.next;
                    out.push(self.objects_of(c, s, None, place, f));
                    page = next;
                }
                Err(e) => {
                    f.push(self.bad_slab(c, place, page, e));
                    break;
                }
            }
        }
        out
    }

    /// Everything about cache `c`.
    pub fn state(&self, c: &Cache) -> CacheState {
        let mut f = Vec::new();
        let cpus = self.cpu_slabs(c, &mut f);
        let sheaves = self.cpu_sheaves(c, &mut f);
        let nodes = c
            .nodes
            .iter()
            .map(|&(node, addr)| self.node(c, node, addr, &cpus, &mut f))
            .collect();
        let mut state = CacheState {
            cpus,
            sheaves,
            nodes,
            usage: Usage::default(),
            findings: f,
        };
        self.check_sheaf_objects(c, &mut state);
        state.usage = usage(&state);
        state
    }

    /// Each CPU's slab, free list and partial list (SLUB before 7.x).
    fn cpu_slabs(&self, c: &Cache, f: &mut Vec<Finding>) -> Vec<CpuState> {
        let Some(o) = &self.o.cpu else {
            return Vec::new();
        };
        let mut cpus = Vec::new();
        for (cpu, off) in self.env.cpu_offsets.iter().enumerate() {
            let Some(off) = *off else { continue };
            let kcc = c.cpu_slab.wrapping_add(off);
            let buf = match self.read(kcc, o.len) {
                Ok(b) => b,
                Err(e) => {
                    let what = format!("kmem_cache_cpu {kcc:x} unreadable: {e}");
                    f.push(self.unreadable(c, Place::Cpu(cpu), kcc, what));
                    continue;
                }
            };
            let freelist = o.freelist.get(&buf).unwrap_or(0);
            let page = o.page.get(&buf).unwrap_or(0);
            let slab = match self.slab(page) {
                _ if page == 0 => {
                    if freelist != 0 {
                        let what = format!("freelist head {freelist:x} but no slab");
                        f.push(self.finding(c, Place::Cpu(cpu), freelist, what));
                    }
                    None
                }
                Ok(s) => Some(self.objects_of(c, s, Some((cpu, freelist)), Place::Cpu(cpu), f)),
                Err(e) => {
                    f.push(self.bad_slab(c, Place::Cpu(cpu), page, e));
                    None
                }
            };
            let partial = o.partial.and_then(|p| p.get(&buf)).unwrap_or(0);
            let partial = self.cpu_partial(c, cpu, partial, f);
            cpus.push(CpuState {
                cpu,
                kmem_cache_cpu: kcc,
                freelist,
                slab,
                partial,
            });
        }
        cpus
    }

    fn node(
        &self,
        c: &Cache,
        node: usize,
        addr: u64,
        cpus: &[CpuState],
        f: &mut Vec<Finding>,
    ) -> NodeState {
        let o = &self.o;
        let per_cpu = cpus
            .iter()
            .filter(|s| s.slab.as_ref().is_some_and(|s| s.slab.node == Some(node)))
            .count() as u64;
        let mut state = NodeState {
            node,
            addr,
            nr_partial: 0,
            nr_slabs: None,
            total_objects: None,
            per_cpu,
            partial: Vec::new(),
            full: None,
            barn: None,
        };
        let buf = match self.read(addr, o.node_struct_len) {
            Ok(b) => b,
            Err(e) => {
                let what = format!("kmem_cache_node {addr:x} unreadable: {e}");
                f.push(self.unreadable(c, Place::Node(node), addr, what));
                state.barn = self.barn(c, node, None, f);
                return state;
            }
        };
        state.nr_partial = o.nr_partial.get(&buf).unwrap_or(0);
        state.nr_slabs = o.nr_slabs.and_then(|x| x.get(&buf));
        state.total_objects = o.total_objects.and_then(|x| x.get(&buf));
        let before = f.len();
        state.partial = self.node_list(c, addr + o.partial, Place::NodePartial(node), f);
        // A list cut short has already been reported.
        if f.len() == before && state.partial.len() as u64 != state.nr_partial {
            let what = format!(
                "nr_partial is {}, the list holds {}",
                state.nr_partial,
                state.partial.len()
            );
            f.push(self.finding(c, Place::NodePartial(node), addr, what));
        }
        if let Some(full) = o.full.filter(|_| c.store_user) {
            state.full = Some(self.node_list(c, addr + full, Place::NodeFull(node), f));
        }
        state.barn = self.barn(c, node, Some(&buf), f);
        state
    }

    /// Where `addr` falls in `slab`: the object's index.
    pub fn index_in(&self, c: &Cache, slab: &Slab, addr: u64) -> Option<usize> {
        let p = addr.checked_sub(slab.memory.wrapping_add(c.left_pad()))?;
        let i = p.checked_div(c.size)?;
        let start = slab.memory.wrapping_add(c.left_pad()) + i * c.size;
        object_index(c, slab, slab.objects as usize, start).ok()
    }
}
