//! The machine as crash's `mach` describes it: memory size, CPU speed, HZ,
//! the kernel's address-space layout, and each CPU's IRQ and exception
//! (IST) stacks.
//!
//! The exception stacks are named as crash names them: by the IDT entries
//! that use each IST slot (the handler's symbol says `nmi`, `debug`,
//! `double`, `machine`, `vmm`). A slot no IDT entry uses — the MCE stack of
//! a kernel built without `CONFIG_X86_MCE` — stays `(unknown)`, with size
//! 0, though the TSS still points at it. The VC stack is mapped only when
//! SEV-ES is active; elsewhere its address does not translate, and crash
//! marks it `[unavailable]`.

use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// The number of IST slots crash reads from the TSS.
const IST_SLOTS: usize = 7;

/// One kind of exception stack and where each CPU's is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionStack {
    /// `NMI`, `DEBUG`, `DOUBLEFAULT`, `MCE`, `VC`, `STACKFAULT` or `(unknown)`.
    pub name: String,
    /// Its size in bytes (0 when the name is unknown).
    pub size: u64,
    /// Per CPU: the stack's lowest address, and whether it is mapped (only
    /// the VC stack is checked, as crash does).
    pub cpus: Vec<(u64, bool)>,
}

/// What `mach` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `init_uts_ns.name.machine` (`x86_64`).
    pub machine: String,
    /// Bytes of memory present in the nodes (crash rounds it up to a GiB
    /// within 64 MiB).
    pub memory_size: u64,
    pub cpus: usize,
    /// How many of them are not in `cpu_online_mask`.
    pub offline: usize,
    /// `pv_info.name` when it is not "bare hardware".
    pub hypervisor: Option<String>,
    /// From `cpu_khz`; `None` when unknown.
    pub mhz: Option<u64>,
    pub hz: u64,
    pub page_size: u64,
    pub kernel_virtual_base: u64,
    pub vmalloc_base: u64,
    pub vmemmap_base: u64,
    pub start_kernel_map: u64,
    pub modules_base: u64,
    pub stack_size: u64,
    pub irq_stack_size: u64,
    /// Each CPU's IRQ stack base (0 when unknown).
    pub irq_stacks: Vec<u64>,
    pub exception_stacks: Vec<ExceptionStack>,
}

impl Kernel {
    /// The machine: layout, CPUs, stacks.
    pub fn machine(&self) -> Result<Machine, Error> {
        let l = Layouts::of(self)?;
        let layout = self.layout();
        let cpus = self.nr_cpus().max(1);
        let machine = self
            .uts_field(&l, "machine")
            .unwrap_or_else(|| "x86_64".into());
        let mhz = self
            .symbol("cpu_khz")
            .and_then(|a| self.read_u32(a).ok())
            .filter(|&k| k != 0)
            .map(|k| u64::from(k) / 1000);
        let stack_size = l
            .size("thread_union")
            .ok()
            .filter(|&s| s > 0)
            .unwrap_or(16384);
        let irq_stack_size = l
            .member_size("irq_stack", "stack")
            .or_else(|| l.member_size("irq_stack_union", "irq_stack"))
            .unwrap_or(16384);
        let irq_stacks = (0..cpus)
            .map(|c| self.irq_stack(&l, c, irq_stack_size))
            .collect();
        Ok(Machine {
            machine,
            memory_size: self.present_memory(&l),
            cpus,
            offline: cpus.saturating_sub(self.online_cpus().unwrap_or(cpus)),
            hypervisor: self.hypervisor(&l),
            mhz,
            // crash's default when the kernel does not say.
            hz: self.hz().unwrap_or(1000),
            page_size: 4096,
            kernel_virtual_base: layout.page_offset_base,
            vmalloc_base: layout.vmalloc_base,
            vmemmap_base: layout.vmemmap_base,
            start_kernel_map: kdive_arch::x86_64::START_KERNEL_MAP,
            modules_base: layout.modules_vaddr,
            stack_size,
            irq_stack_size,
            irq_stacks,
            exception_stacks: self.exception_stacks(&l, cpus),
        })
    }

    /// The firmware's memory map (`e820_table`, or `e820` before 4.14):
    /// `(start, end, type)` of each range.
    pub fn e820_map(&self) -> Result<Vec<(u64, u64, u32)>, Error> {
        let l = Layouts::of(self)?;
        let table = match self.symbol("e820_table") {
            Some(p) => self.read_u64(p).map_err(|e| Error::read("e820_table", e))?,
            None => self.symbol("e820").ok_or_else(|| {
                Error::no_symbol_said("e820_table", "neither e820 or e820_table symbols exist")
            })?,
        };
        let (s, count, entries) = if l.has("e820_table", "entries") {
            (
                "e820_entry",
                l.off("e820_table", "nr_entries")?,
                l.off("e820_table", "entries")?,
            )
        } else {
            (
                "e820entry",
                l.off("e820map", "nr_map")?,
                l.off("e820map", "map")?,
            )
        };
        let size = l.size(s)?;
        let (addr, len, ty) = (l.off(s, "addr")?, l.off(s, "size")?, l.off(s, "type")?);
        let n = self
            .read_u32(table + count)
            .map_err(|e| Error::read("e820 table", e))?;
        // E820_MAX_ENTRIES is at most a few hundred.
        let mut out = Vec::new();
        for i in 0..u64::from(n).min(4096) {
            let e = table + entries + i * size;
            let rd = |o| {
                self.read_u64(e + o)
                    .map_err(|x| Error::read(format!("e820 entry {i}"), x))
            };
            let t = self
                .read_u32(e + ty)
                .map_err(|x| Error::read(format!("e820 entry {i}"), x))?;
            let start = rd(addr)?;
            out.push((start, start.wrapping_add(rd(len)?), t));
        }
        Ok(out)
    }

    /// The number of CPUs in `__cpu_online_mask` (`cpu_online_mask` before
    /// 4.5), as crash counts them: every bit of the mask.
    pub fn online_cpus(&self) -> Option<usize> {
        let mask = self
            .symbol("__cpu_online_mask")
            .or_else(|| self.symbol("cpu_online_mask"))?;
        let len = Layouts::of(self).ok()?.size("cpumask").ok()?.clamp(8, 1024) as usize;
        let mut buf = vec![0u8; len];
        self.read(mask, &mut buf).ok()?;
        Some(buf.iter().map(|b| b.count_ones() as usize).sum())
    }

    /// A field of `init_uts_ns.name`.
    fn uts_field(&self, l: &Layouts, field: &str) -> Option<String> {
        let base = self.symbol("init_uts_ns")?;
        let off = l.off("uts_namespace", &format!("name.{field}")).ok()?;
        self.read_cstr(base + off, 65)
            .ok()
            .filter(|s| !s.is_empty())
    }

    /// `pv_info.name` unless it says the kernel runs on bare hardware.
    fn hypervisor(&self, l: &Layouts) -> Option<String> {
        let off = l.off("pv_info", "name").ok()?;
        let name = self.read_u64(self.symbol("pv_info")? + off).ok()?;
        let s = self.string_at(name, 256)?;
        (s != "bare hardware").then_some(s)
    }

    /// Bytes present in all memory nodes: `node_present_pages` (or, when 0,
    /// `node_spanned_pages`) of each `node_data[]` entry, or of
    /// `contig_page_data` on a kernel without NUMA.
    fn present_memory(&self, l: &Layouts) -> u64 {
        let (Ok(present), Ok(spanned)) = (
            l.off("pglist_data", "node_present_pages"),
            l.off("pglist_data", "node_spanned_pages"),
        ) else {
            return 0;
        };
        let mut nodes = Vec::new();
        if let Some(nd) = self.symbol("node_data") {
            // MAX_NUMNODES is at most 1024 (NODES_SHIFT 10).
            for i in 0..1024u64 {
                match self.read_u64(nd + 8 * i) {
                    Ok(0) => continue,
                    Ok(p) if p >> 63 == 1 => nodes.push(p),
                    _ => break,
                }
            }
        } else if let Some(c) = self.symbol("contig_page_data") {
            nodes.push(c);
        }
        let pages: u64 = nodes
            .iter()
            .map(|&n| match self.read_u64(n + present) {
                Ok(0) | Err(_) => self.read_u64(n + spanned).unwrap_or(0),
                Ok(p) => p,
            })
            .sum();
        pages.saturating_mul(4096)
    }

    /// The base of `cpu`'s IRQ stack: the per-CPU `hardirq_stack_ptr`
    /// (`pcpu_hot.hardirq_stack_ptr` from 6.2) points at its top, less 8
    /// on kernels that leave the top word unused.
    fn irq_stack(&self, l: &Layouts, cpu: usize, size: u64) -> u64 {
        let sym = self.symbol("hardirq_stack_ptr").or_else(|| {
            let off = l.off("pcpu_hot", "hardirq_stack_ptr").ok()?;
            Some(self.symbol("pcpu_hot")? + off)
        });
        let (Some(sym), Some(pcpu)) = (sym, self.per_cpu_offset(cpu)) else {
            return 0;
        };
        match self.read_u64(sym.wrapping_add(pcpu)) {
            Ok(0) | Err(_) => 0,
            Ok(mut top) => {
                if top & 0xfff != 0 {
                    top += 8;
                }
                top.wrapping_sub(size)
            }
        }
    }

    /// Each IST slot's name, size and per-CPU base, up to the first slot
    /// CPU 0's TSS leaves empty.
    fn exception_stacks(&self, l: &Layouts, cpus: usize) -> Vec<ExceptionStack> {
        let names = self.ist_names();
        let Some(tss) = self
            .symbol("cpu_tss_rw")
            .or_else(|| self.symbol("cpu_tss"))
            .or_else(|| self.symbol("init_tss"))
        else {
            return Vec::new();
        };
        let ist = l
            .off("tss_struct", "x86_tss.ist")
            .or_else(|_| l.off("tss_struct", "ist"));
        let Ok(ist) = ist else { return Vec::new() };
        // Per CPU, the IST tops; a CPU without a per-CPU area ends the list.
        let mut tops: Vec<[u64; IST_SLOTS]> = Vec::new();
        for c in 0..cpus {
            let Some(pcpu) = self.per_cpu_offset(c).filter(|&o| o != 0 || c == 0) else {
                break;
            };
            let mut slots = [0u64; IST_SLOTS];
            for (i, s) in slots.iter_mut().enumerate() {
                *s = self
                    .read_u64(tss.wrapping_add(pcpu) + ist + 8 * i as u64)
                    .unwrap_or(0);
            }
            if slots[0] == 0 {
                break;
            }
            tops.push(slots);
        }
        let area = ["cea_exception_stacks", "exception_stacks"]
            .into_iter()
            .find(|s| l.has(s, "NMI_stack"));
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if tops.first().is_none_or(|t| t[i] == 0) {
                break;
            }
            let member = match name.as_str() {
                "DEBUG" => Some("DB_stack"),
                "NMI" => Some("NMI_stack"),
                "DOUBLEFAULT" => Some("DF_stack"),
                "MCE" => Some("MCE_stack"),
                "VC" => Some("VC_stack"),
                _ => None,
            };
            let size = match (area, member) {
                (Some(a), Some(m)) => l.member_size(a, m).unwrap_or(0),
                _ => 0,
            };
            let mut per_cpu = Vec::new();
            for t in &tops {
                if t[i] == 0 {
                    break;
                }
                let base = t[i] - size;
                let mapped = name != "VC" || self.read(base, &mut [0u8; 1]).is_ok();
                per_cpu.push((base, mapped));
            }
            out.push(ExceptionStack {
                name: name.clone(),
                size,
                cpus: per_cpu,
            });
        }
        out
    }

    /// The IST slots' names, from the IDT entries that use them.
    fn ist_names(&self) -> Vec<String> {
        let mut names = vec!["(unknown)".to_string(); IST_SLOTS];
        let Ok(gates) = self.idt_gates() else {
            return names;
        };
        for g in gates {
            let ist = usize::from(g.ist);
            if ist == 0 {
                continue;
            }
            let addr = g.handler;
            let Some((sym, _)) = self.symbols().lookup(addr) else {
                continue;
            };
            let f = sym.name.as_str();
            for (key, name) in [
                ("nmi", "NMI"),
                ("debug", "DEBUG"),
                ("stack", "STACKFAULT"),
                ("double", "DOUBLEFAULT"),
                ("machine", "MCE"),
                ("vmm", "VC"),
            ] {
                if f.contains(key) {
                    names[ist - 1] = name.to_string();
                }
            }
        }
        names
    }
}
