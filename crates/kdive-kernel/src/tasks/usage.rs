//! The memory a task's mm uses, as crash's `ps` counts it: `total_vm`,
//! and the resident pages of the file, anonymous and shared-memory
//! counters (atomic counters before 6.2, per-CPU counters from 6.2).

use super::offsets::{Offsets, RssLayout};
use super::MemUsage;
use crate::memory::Memory;

/// `total_vm` and the resident pages of the mm at `mm`.
pub(crate) fn mm_usage(
    mem: &impl Memory,
    o: &Offsets,
    mm: u64,
    per_cpu: &[u64],
) -> Option<MemUsage> {
    let mo = o.mm_offsets.as_ref()?;
    let total_vm = mem.read_u64(mm + mo.total_vm.off as u64).ok()?;
    let read_i64 = |a: u64| mem.read_u64(a).ok().map(|v| v as i64);
    let mut rss = 0u64;
    for &k in &o.rss_kinds {
        let n = match mo.rss {
            RssLayout::Atomic { base } => read_i64(mm + (base + 8 * k) as u64).unwrap_or(0),
            RssLayout::PerCpu {
                base,
                stride,
                count,
                counters,
            } => {
                let fbc = mm + (base + stride * k) as u64;
                let mut n = read_i64(fbc + count.off as u64).unwrap_or(0);
                if let Some(c) = counters.and_then(|c| mem.read_u64(fbc + c.off as u64).ok()) {
                    for off in per_cpu {
                        let mut b = [0u8; 4];
                        if mem.read(c.wrapping_add(*off), &mut b).is_ok() {
                            n += i64::from(i32::from_le_bytes(b));
                        }
                    }
                }
                n
            }
            RssLayout::None => 0,
        };
        if n > 0 {
            rss += n as u64;
        }
    }
    Some(MemUsage { total_vm, rss })
}
