//! Finding the kernel's ORC tables: the kernel's own (from the vmlinux file
//! when there is one, else in place in the dump's memory) and each loaded
//! module's (`mod->arch.orc_unwind_ip`, `orc_unwind`, `num_orcs`).

use std::ops::Range;

use kdive_arch::x86_64::orc::{OrcEntry, OrcLayout, OrcTable};

use crate::Kernel;

/// Every ORC table of the kernel, with the text each covers.
pub struct OrcTables {
    /// (text ranges, table): the kernel's first, then the modules'.
    tables: Vec<(Vec<Range<u64>>, OrcTable)>,
    /// Why the kernel's own table is missing, if it is.
    pub problem: Option<String>,
}

impl Kernel {
    /// The kernel's and the modules' ORC tables, found once.
    pub fn orc_tables(&self) -> &OrcTables {
        self.orc.get_or_init(|| OrcTables::load(self))
    }
}

impl OrcTables {
    /// Find the tables of `k` (see [`Kernel::orc_tables`], which keeps them).
    pub fn load(k: &Kernel) -> OrcTables {
        let layout = orc_layout(k);
        let mut tables = Vec::new();
        let mut problem = None;
        match kernel_table(k, layout) {
            Ok(t) => {
                let mut text = Vec::new();
                for (a, b) in [("_stext", "_etext"), ("_sinittext", "_einittext")] {
                    if let (Some(s), Some(e)) = (k.symbol(a), k.symbol(b)) {
                        text.push(s..e);
                    }
                }
                tables.push((text, t));
            }
            Err(e) => problem = Some(e),
        }
        for m in k.modules() {
            if let Some(t) = module_table(k, m.addr, layout) {
                let text = m
                    .mem
                    .iter()
                    .filter(|r| matches!(r.kind, crate::MemKind::Text | crate::MemKind::InitText))
                    .map(|r| r.range())
                    .collect();
                tables.push((text, t));
            }
        }
        OrcTables { tables, problem }
    }

    /// The entry for text address `ip`; `None` when no table covers it.
    pub fn lookup(&self, k: &Kernel, ip: u64) -> Option<OrcEntry> {
        let (_, t) = self
            .tables
            .iter()
            .find(|(text, _)| text.iter().any(|r| r.contains(&ip)))?;
        t.lookup(ip, k)
    }

    /// How many tables there are (the kernel's and one a module).
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// The format of the kernel's ORC entries: named by its `.orc_header` hash
/// (from the vmlinux, else `__start_orc_header` in memory) when the kernel
/// has one this reader knows; else by which of `orc_entry`'s `end` and
/// `signal` members the kernel's types have, and its release.
fn orc_layout(k: &Kernel) -> OrcLayout {
    if let Some(l) = orc_header(k).and_then(|h| OrcLayout::from_header(&h)) {
        return l;
    }
    let release = k
        .dump()
        .release()
        .or_else(|| k.utsname().map(|u| u.release))
        .unwrap_or_default();
    let version = kdive_arch::x86_64::KernelVersion::parse(&release)
        .map_or((0, 0), |v| (u32::from(v.major), u32::from(v.minor)));
    let has = |m: &str| {
        k.layouts()
            .is_some_and(|b| b.member_offset("orc_entry", m).is_some())
    };
    let (end, signal) = (has("end"), has("signal"));
    if !end && !signal && k.symbol("__start_orc_header").is_some() {
        // No types to ask: an .orc_header came with the 6.4 format.
        return OrcLayout::from_members(false, true, version);
    }
    OrcLayout::from_members(end, signal, version)
}

/// The 20 bytes of the kernel's `.orc_header`, where it has one.
fn orc_header(k: &Kernel) -> Option<[u8; 20]> {
    let mut h = [0u8; 20];
    if let Some(s) = k.vmlinux_file().and_then(|v| v.section(".orc_header")) {
        h.copy_from_slice(s.get(..20)?);
        return Some(h);
    }
    let start = k.symbol("__start_orc_header")?;
    let stop = k.symbol("__stop_orc_header")?;
    (stop.checked_sub(start)? >= 20).then_some(())?;
    k.read(start, &mut h).ok()?;
    Some(h)
}

/// The kernel's table: `__start_orc_unwind_ip` to `__stop_orc_unwind_ip`,
/// entries at `__start_orc_unwind`.
fn kernel_table(k: &Kernel, layout: OrcLayout) -> Result<OrcTable, String> {
    let sym = |n: &str| {
        k.symbol(n)
            .ok_or_else(|| format!("no symbol {n}: the kernel has no ORC tables"))
    };
    let ip = sym("__start_orc_unwind_ip")?;
    let stop = sym("__stop_orc_unwind_ip")?;
    let orc = sym("__start_orc_unwind")?;
    let count = stop.checked_sub(ip).map(|n| n / 4).unwrap_or(0) as usize;
    if count == 0 || count > kdive_arch::x86_64::orc::MAX_ENTRIES {
        return Err(format!("ORC table size {count} at {ip:x} is not plausible"));
    }
    if let Some(v) = k.vmlinux_file() {
        let off = k.kernel_offset();
        let ips = v.read_at(ip.wrapping_sub(off), count * 4).ok().flatten();
        let orcs = v.read_at(orc.wrapping_sub(off), count * 6).ok().flatten();
        if let (Some(ips), Some(orcs)) = (ips, orcs) {
            return Ok(OrcTable::from_bytes(
                ip,
                ips.to_vec(),
                orc,
                orcs.to_vec(),
                layout,
            ));
        }
    }
    Ok(OrcTable::in_memory(ip, orc, count, layout))
}

/// A module's table, from `struct module`'s `arch` member.
fn module_table(k: &Kernel, module: u64, layout: OrcLayout) -> Option<OrcTable> {
    let layouts = k.layouts()?;
    let off = |p: &str| layouts.member_offset("module", p).map(|m| m.offset());
    let num = k
        .read_u32(module.wrapping_add(off("arch.num_orcs")?))
        .ok()? as usize;
    let ip = k
        .read_u64(module.wrapping_add(off("arch.orc_unwind_ip")?))
        .ok()?;
    let orc = k
        .read_u64(module.wrapping_add(off("arch.orc_unwind")?))
        .ok()?;
    (num > 0 && ip != 0 && orc != 0).then(|| OrcTable::in_memory(ip, orc, num, layout))
}
