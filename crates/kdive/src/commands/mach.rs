//! `mach`: the machine, as crash 8.0.2's x86-64 `mach` prints it
//! (`x86_64_display_machine_stats()`).

use std::io::Write;

use super::options::{self, OptError};
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "mach [-m | -c [-x|-d]]";

pub const COMMAND: Command = Command {
    name: "mach",
    aliases: &[],
    summary:
        "show the machine: memory, CPUs, layout, IRQ and exception stacks (-m e820 map, -c cpuinfo)",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let o = options::parse(args, "cmxd", "").map_err(|e| match e {
        OptError::Unknown(c) => format!("invalid argument: -{c}\nUsage: {USAGE}"),
        e => e.to_string(),
    })?;
    if let Some(w) = o.words.first() {
        return Err(format!("invalid argument: {w}\nUsage: {USAGE}"));
    }
    if o.has('m') {
        return memory_map(s, out);
    }
    if o.has('x') && o.has('d') {
        return Err("-d and -x are mutually exclusive".into());
    }
    let radix = ['x', 'd']
        .into_iter()
        .find(|c| o.has(*c))
        .map(|c| if c == 'x' { "-x" } else { "-d" });
    if o.has('c') {
        return cpu_data(s, radix, out);
    }
    let m = s.kernel.machine().map_err(|e| e.to_string())?;
    if s.json {
        return json(&m, out);
    }
    let mut t = String::new();
    t += &format!("          MACHINE TYPE: {}\n", m.machine);
    t += &format!(
        "           MEMORY SIZE: {}\n",
        super::text::memory_size(m.memory_size)
    );
    t += &format!("                  CPUS: {}", m.cpus);
    if m.offline > 0 {
        t += &format!(" [OFFLINE: {}]", m.offline);
    }
    t += "\n";
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

/// `mach --json`: the machine's fields, addresses as hexadecimal strings.
fn json(m: &kdive_kernel::Machine, out: &mut dyn Write) -> CmdResult {
    use super::json::hex;
    let v = serde_json::json!({
        "machine": m.machine,
        "memory_size": m.memory_size,
        "cpus": m.cpus,
        "offline": m.offline,
        "hypervisor": m.hypervisor,
        "mhz": m.mhz,
        "hz": m.hz,
        "page_size": m.page_size,
        "kernel_virtual_base": hex(m.kernel_virtual_base),
        "vmalloc_base": hex(m.vmalloc_base),
        "vmemmap_base": hex(m.vmemmap_base),
        "start_kernel_map": hex(m.start_kernel_map),
        "modules_base": hex(m.modules_base),
        "stack_size": m.stack_size,
        "irq_stack_size": m.irq_stack_size,
        "irq_stacks": m.irq_stacks.iter().map(|&a| hex(a)).collect::<Vec<_>>(),
        "exception_stacks": m.exception_stacks.iter().map(|e| serde_json::json!({
            "name": e.name,
            "size": e.size,
            "cpus": e.cpus.iter().map(|&(base, mapped)| serde_json::json!({ "base": hex(base), "mapped": mapped })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    super::json::emit(out, &v)
}

/// `mach -m`: the firmware's memory map, as crash names its types.
fn memory_map(s: &Session, out: &mut dyn Write) -> CmdResult {
    const TYPES: [&str; 6] = [
        "(invalid type)",
        "E820_RAM",
        "E820_RESERVED",
        "E820_ACPI",
        "E820_NVS",
        "E820_UNUSABLE",
    ];
    let mut t = String::from("      PHYSICAL ADDRESS RANGE         TYPE\n");
    for (start, end, ty) in s.kernel.e820_map().map_err(|e| e.to_string())? {
        let name = match ty {
            _ if (ty as usize) < TYPES.len() => TYPES[ty as usize].to_string(),
            12 => "E820_PRAM".into(),
            128 => "E820_RESERVED_KERN".into(),
            _ => format!("type {ty}"),
        };
        t += &format!("{start:016x} - {end:016x}  {name}\n");
    }
    out.write_all(t.as_bytes()).map_err(io)
}

/// `mach -c`: each CPU's `struct cpuinfo_x86` (the per-CPU `cpu_info`),
/// or the boot CPU's (`boot_cpu_data`) on a kernel without it.
fn cpu_data(s: &mut Session, radix: Option<&str>, out: &mut dyn Write) -> CmdResult {
    let k = &s.kernel;
    let objects: Vec<(String, u64)> = match k.symbol("cpu_info") {
        Some(sym) => (0..k.nr_cpus().max(1))
            .filter_map(|c| {
                Some((
                    format!("{}CPU {c}:", if c > 0 { "\n" } else { "" }),
                    sym.wrapping_add(k.per_cpu_offset(c)?),
                ))
            })
            .collect(),
        None => {
            let boot = k
                .symbol("boot_cpu_data")
                .ok_or("no cpu_info or boot_cpu_data symbol")?;
            vec![("BOOT CPU:".to_string(), boot)]
        }
    };
    for (head, addr) in objects {
        writeln!(out, "{head}").map_err(io)?;
        let mut args: Vec<String> = radix.iter().map(|r| r.to_string()).collect();
        args.extend(["cpuinfo_x86".to_string(), format!("{addr:x}")]);
        super::types::run_struct(s, &args, out)?;
    }
    Ok(())
}
