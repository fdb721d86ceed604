//! The kernel's CPUs: which one panicked, and the per-CPU areas.

use crate::Kernel;

impl Kernel {
    /// Number of CPUs the dump describes (its CPU notes, or the header).
    pub fn nr_cpus(&self) -> usize {
        self.dump().nr_cpus().max(self.dump().cpus().len())
    }

    /// The CPU that panicked: the kernel's `panic_cpu` (set by `panic()`
    /// and by `crash_kexec()` for an oops with panic_on_oops), else
    /// `crashing_cpu`. `None` when neither is readable or no CPU panicked.
    pub fn panic_cpu(&self) -> Option<usize> {
        ["panic_cpu", "crashing_cpu"].iter().find_map(|name| {
            let addr = self.symbol(name)?;
            let v = self.read_u32(addr).ok()? as i32;
            (v >= 0 && (v as usize) < self.nr_cpus().max(1)).then_some(v as usize)
        })
    }

    /// `__per_cpu_offset[cpu]`: add it to a per-CPU variable's offset to get
    /// that CPU's copy.
    pub fn per_cpu_offset(&self, cpu: usize) -> Option<u64> {
        let base = self.symbol("__per_cpu_offset")?;
        self.read_u64(base + 8 * cpu as u64).ok()
    }
}
