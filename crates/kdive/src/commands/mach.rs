//! `mach`: the machine, as crash 8.0.2's x86-64 `mach` prints it
//! (`x86_64_display_machine_stats()`).

use std::io::Write;

use super::{io, CmdResult};
use crate::session::Session;

pub const USAGE: &str = "mach";

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    if let Some(a) = args.first() {
        return Err(format!("invalid argument: {a}\nUsage: {USAGE}"));
    }
    let m = s.kernel.machine()?;
    let mut t = String::new();
    t += &format!("          MACHINE TYPE: {}\n", m.machine);
    t += &format!("           MEMORY SIZE: {}\n", memory_size(m.memory_size));
    t += &format!("                  CPUS: {}\n", m.cpus);
    if let Some(h) = &m.hypervisor {
        t += &format!("            HYPERVISOR: {h}\n");
    }
    match m.mhz {
        Some(mhz) => t += &format!("       PROCESSOR SPEED: {mhz} Mhz\n"),
        None => t += "       PROCESSOR SPEED: (unknown)\n",
    }
    t += &format!("                    HZ: {}\n", m.hz);
    t += &format!("             PAGE SIZE: {}\n", m.page_size);
    t += &format!("   KERNEL VIRTUAL BASE: {:x}\n", m.kernel_virtual_base);
    t += &format!("   KERNEL VMALLOC BASE: {:x}\n", m.vmalloc_base);
    if m.vmemmap_base != 0 {
        t += &format!("   KERNEL VMEMMAP BASE: {:x}\n", m.vmemmap_base);
    }
    t += &format!("      KERNEL START MAP: {:x}\n", m.start_kernel_map);
    t += &format!("   KERNEL MODULES BASE: {:x}\n", m.modules_base);
    t += &format!("     KERNEL STACK SIZE: {}\n", m.stack_size);
    t += &format!("        IRQ STACK SIZE: {}\n", m.irq_stack_size);
    t += "            IRQ STACKS:\n";
    for (c, base) in m.irq_stacks.iter().enumerate() {
        t += &format!("{:>22}: {base:016x}\n", format!("CPU {c}"));
    }
    for e in &m.exception_stacks {
        t += &format!("{:>11} STACK SIZE: {}\n", e.name, e.size);
        t += &format!("{:>24}", format!("{} STACKS:\n", e.name));
        for (c, (base, mapped)) in e.cpus.iter().enumerate() {
            let tail = if *mapped { "" } else { " [unavailable]" };
            t += &format!("{:>22}: {base:016x}{tail}\n", format!("CPU {c}"));
        }
    }
    out.write_all(t.as_bytes()).map_err(io)
}

/// crash's `get_memory_size()`: rounded up to the next GiB when within
/// 64 MiB of it, then shown as `pages_to_size()` does (`%.1f GB`, `.0`
/// dropped).
pub fn memory_size(bytes: u64) -> String {
    const GB: u64 = 1 << 30;
    const MB: u64 = 1 << 20;
    let next = bytes.div_ceil(GB) * GB;
    let total = if next - bytes <= 64 * MB { next } else { bytes };
    if total == 0 {
        return "0".into();
    }
    let t = total as f64;
    let s = if total >= GB {
        format!("{:.1} GB", t / GB as f64)
    } else if total >= MB {
        format!("{:.1} MB", t / MB as f64)
    } else {
        format!("{} KB", total / 1024)
    };
    s.replace(".0 ", " ")
}

#[cfg(test)]
mod tests {
    use super::memory_size;

    #[test]
    fn memory_sizes_as_crash_rounds_them() {
        assert_eq!(memory_size((1 << 30) - (20 << 20)), "1 GB");
        assert_eq!(memory_size(3 << 29), "1.5 GB");
        assert_eq!(memory_size(512 << 20), "512 MB");
        assert_eq!(memory_size(0), "0");
    }
}
