//! Interrupt descriptors and their per-CPU counts, as crash's `irq` and
//! `irq -s` read them: `nr_irqs` descriptors, found in the `irq_desc[]`
//! array (without `CONFIG_SPARSE_IRQ`), the radix tree `irq_desc_tree`
//! (until 6.5) or the maple tree `sparse_irqs` (6.5 and later).

use crate::offsets::Layouts;
use crate::radix_tree::TreeEntries;
use crate::{Error, Kernel, LayoutError};

/// At most this many actions are read from one descriptor's chain.
const MAX_ACTIONS: usize = 1024;

/// One `struct irqaction` of an interrupt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrqAction {
    pub addr: u64,
    /// Its name (`None` when it does not read).
    pub name: Option<String>,
}

/// One interrupt that has a handler, with what `irq -s` shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrqStat {
    pub irq: u64,
    /// The `struct irq_desc`.
    pub desc: u64,
    /// Per CPU, `*per_cpu_ptr(desc->kstat_irqs, cpu)` (`None` unreadable).
    pub counts: Vec<Option<u32>>,
    /// `desc->irq_data.chip->name`.
    pub chip: Option<String>,
    /// `desc->name` (the flow handler's name: `edge`, `fasteoi`...).
    pub flow: Option<String>,
    /// The actions' names, in chain order.
    pub actions: Vec<String>,
}

impl Kernel {
    /// `nr_irqs` (`total_nr_irqs` after 6.12): how many IRQ numbers
    /// the kernel has.
    pub fn nr_irqs(&self) -> Option<u64> {
        let a = self
            .symbol("nr_irqs")
            .or_else(|| self.symbol("total_nr_irqs"))?;
        self.read_u32(a).ok().map(u64::from)
    }

    /// Every interrupt descriptor below `nr_irqs`: `(irq, struct irq_desc *)`
    /// in IRQ order, and what could not be read.
    pub fn irq_descs(&self) -> Result<TreeEntries, Error> {
        let l = Layouts::of(self)?;
        let nr = self.nr_irqs().ok_or_else(|| Error::Undetermined {
            what: "number of IRQs".into(),
            source: None,
        })?;
        if let Some(tree) = self.symbol("irq_desc_tree") {
            let mut t = self.radix_tree_entries(tree)?;
            t.entries.retain(|&(i, _)| i < nr);
            return Ok(t);
        }
        if let Some(tree) = self.symbol("sparse_irqs") {
            let mut t = self.maple_tree_at(tree)?;
            if !t.notices.is_empty() {
                self.add_vector_descs(&l, &mut t.entries, &mut t.notices);
            }
            t.entries.retain(|&(i, _)| i < nr);
            return Ok(t);
        }
        if let Some(arr) = self.symbol("irq_desc") {
            let size = l.size("irq_desc")?;
            let entries = (0..nr.min(1 << 20)).map(|i| (i, arr + i * size)).collect();
            return Ok(TreeEntries {
                entries,
                notices: Vec::new(),
            });
        }
        Err(Error::no_symbol_said(
            "irq_desc",
            "neither irq_desc, irq_desc_tree nor sparse_irqs exist",
        ))
    }

    /// Where the tree of descriptors did not read whole: add the
    /// descriptors the CPUs' vector tables (x86's per-CPU `vector_irq[]`)
    /// point to, by their `irq_data.irq`. Those are the interrupts with a
    /// vector assigned, which the ones that fire are.
    fn add_vector_descs(
        &self,
        l: &Layouts,
        found: &mut Vec<(u64, u64)>,
        notices: &mut Vec<crate::Finding>,
    ) {
        let (Some(sym), Ok(irq_off)) =
            (self.symbol("vector_irq"), l.off("irq_desc", "irq_data.irq"))
        else {
            return;
        };
        let before = found.len();
        let mut table = vec![0u8; 256 * 8];
        for cpu in 0..self.nr_cpus() {
            let Some(pcpu) = self.per_cpu_offset(cpu) else {
                continue;
            };
            if self.read(sym.wrapping_add(pcpu), &mut table).is_err() {
                continue;
            }
            for w in table.chunks_exact(8) {
                let desc = u64::from_le_bytes(w.try_into().unwrap_or_default());
                // NULL, or a small negative marker (VECTOR_SHUTDOWN...).
                if desc >> 63 == 0
                    || desc > u64::MAX - 4096
                    || found.iter().any(|&(_, d)| d == desc)
                {
                    continue;
                }
                if let Ok(irq) = self.read_u32(desc + irq_off) {
                    if !found.iter().any(|&(i, _)| i == u64::from(irq)) {
                        found.push((u64::from(irq), desc));
                    }
                }
            }
        }
        found.sort_unstable();
        notices.push(crate::Finding::truncated(format!(
            "the descriptor tree is incomplete; {} interrupt(s) found from the CPUs' vector tables",
            found.len() - before
        )));
    }

    /// The `struct irqaction`s of descriptor `desc`, in chain order, each
    /// with its name (`None` when it does not read), and what could not be
    /// read.
    pub fn irq_actions(&self, desc: u64) -> Result<(Vec<IrqAction>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let (action_off, act_name, act_next) = (
            l.off("irq_desc", "action")?,
            l.off("irqaction", "name")?,
            l.off("irqaction", "next")?,
        );
        let mut notices = Vec::new();
        let mut out = Vec::new();
        let mut a = self
            .read_u64(desc + action_off)
            .map_err(|e| Error::read(format!("irq_desc {desc:x}"), e))?;
        while a != 0 && out.len() < MAX_ACTIONS {
            if out.iter().any(|x: &IrqAction| x.addr == a) {
                notices.push(crate::Finding::looped(
                    a,
                    format!("irq_desc {desc:x}: the action chain comes back to {a:x}"),
                ));
                break;
            }
            let name = self
                .read_u64(a + act_name)
                .ok()
                .and_then(|p| self.string_at(p, 256));
            out.push(IrqAction { addr: a, name });
            a = match self.read_u64(a + act_next) {
                Ok(n) => n,
                Err(e) => {
                    notices.push(crate::Finding::unreadable(
                        a,
                        format!("irq_desc {desc:x}: irqaction {a:x}: {e}"),
                    ));
                    break;
                }
            };
        }
        Ok((out, notices))
    }

    /// The CPUs interrupt descriptor `desc` may be routed to
    /// (`irq_common_data.affinity`, or `irq_data.affinity` before 4.3): a
    /// `cpumask_var_t` is a pointer to the mask with
    /// `CONFIG_CPUMASK_OFFSTACK`, the mask itself without.
    pub fn irq_affinity(&self, desc: u64) -> Result<Vec<usize>, Error> {
        let l = Layouts::of(self)?;
        let (outer, path) = if l.has("irq_desc", "irq_common_data.affinity") {
            ("irq_desc", "irq_common_data.affinity")
        } else {
            ("irq_desc", "irq_data.affinity")
        };
        let m = l
            .member_offset(outer, path)
            .ok_or_else(|| LayoutError::member(outer, path))?;
        let is_ptr = l.pointee(m.type_id).is_some();
        let mut mask = desc + m.offset();
        if is_ptr {
            mask = self
                .read_u64(mask)
                .map_err(|e| Error::read(format!("irq_desc {desc:x} affinity"), e))?;
        }
        let cpus = self.nr_cpus().max(1);
        let mut words = vec![0u8; cpus.div_ceil(64) * 8];
        self.read(mask, &mut words)
            .map_err(|e| Error::read(format!("irq_desc {desc:x} affinity"), e))?;
        Ok((0..cpus)
            .filter(|c| words[c / 8] & (1 << (c % 8)) != 0)
            .collect())
    }

    /// The interrupts that have an action, with their per-CPU counts.
    pub fn irq_stats(&self) -> Result<(Vec<IrqStat>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let action_off = l.off("irq_desc", "action")?;
        let kstat_off = l.off("irq_desc", "kstat_irqs")?;
        let chip_off = l.off("irq_desc", "irq_data.chip")?;
        let name_off = l.off("irq_desc", "name").ok();
        let chip_name = l.off("irq_chip", "name")?;
        let TreeEntries {
            entries: descs,
            mut notices,
        } = self.irq_descs()?;
        let pcpu: Vec<Option<u64>> = (0..self.nr_cpus().max(1))
            .map(|c| self.per_cpu_offset(c))
            .collect();
        let mut out = Vec::new();
        for (irq, desc) in descs {
            let action = match self.read_u64(desc + action_off) {
                Ok(a) => a,
                Err(e) => {
                    notices.push(crate::Finding::unreadable(
                        desc,
                        format!("irq {irq}: irq_desc {desc:x}: {e}"),
                    ));
                    continue;
                }
            };
            if action == 0 {
                continue;
            }
            let kstat = self.read_u64(desc + kstat_off).unwrap_or(0);
            let counts = pcpu
                .iter()
                .map(|o| {
                    let o = (*o)?;
                    (kstat != 0).then_some(())?;
                    self.read_u32(kstat.wrapping_add(o)).ok()
                })
                .collect();
            let chip = self
                .read_u64(desc + chip_off)
                .ok()
                .and_then(|c| self.read_u64(c.checked_add(chip_name)?).ok())
                .and_then(|p| self.string_at(p, 256));
            let flow = name_off
                .and_then(|o| self.read_u64(desc + o).ok())
                .and_then(|p| self.string_at(p, 256));
            let (chain, n) = self.irq_actions(desc).unwrap_or_else(|e| {
                let f = crate::Finding::unreadable(desc, e.to_string());
                (Vec::new(), vec![f])
            });
            notices.extend(n.into_iter().map(|f| crate::Finding {
                text: format!("irq {irq}: {}", f.text),
                ..f
            }));
            let actions = chain.into_iter().filter_map(|a| a.name).collect();
            out.push(IrqStat {
                irq,
                desc,
                counts,
                chip,
                flow,
                actions,
            });
        }
        Ok((out, notices))
    }
}
