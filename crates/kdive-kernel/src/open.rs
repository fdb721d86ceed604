//! Opening a kernel: the vmlinux, the memory layout, the symbols.

use kdive_arch::x86_64::{discover, find_rodata, Discovered, Hints};
use kdive_debuginfo::btf::Btf;
use kdive_debuginfo::kallsyms::ScanHints;
use kdive_debuginfo::{kallsyms, KallsymsLocations, SymbolTable};
use kdive_dump::Dump;

use crate::{
    makedumpfile, modules, show, vmlinux, Kernel, KernelError, OpenOptions, SymbolSource,
    VmlinuxChoice,
};

pub(crate) fn open(
    dump: Dump,
    choice: VmlinuxChoice<'_>,
    options: OpenOptions,
) -> Result<Kernel, KernelError> {
    let arch = architecture(dump.machine(), dump.elf_machine())?;
    let mut notices = Vec::new();
    let hints = match (dump.vmcoreinfo(), dump.qemu_cpus().first()) {
        (Some(info), _) => Hints::from_vmcoreinfo(info),
        (None, Some(cpu)) => {
            notices.push(
                "the dump has no VMCOREINFO: kernel layout found from the CPU state and page tables"
                    .into(),
            );
            Hints::from_qemu_cpu(cpu)
        }
        (None, None) => {
            notices.push("the dump has neither VMCOREINFO nor CPU control registers: kernel virtual addresses cannot be translated".into());
            Hints::default()
        }
    };
    let found = discover(&dump, &hints);
    let fit = vmlinux::choose(&dump, &found, choice, &mut notices)?;

    let (elf, symbols, symbol_source) = match fit {
        Some(fit) => {
            let mut t = fit.symbols;
            t.relocate(found.layout.kernel_offset.unwrap_or(0));
            (Some(fit.elf), t, SymbolSource::Vmlinux)
        }
        None => match kallsyms_from_memory(&dump, &found, &mut notices) {
            Ok(t) => (None, t, SymbolSource::Kallsyms),
            Err(why) => {
                notices.push(format!("no symbols: {why}"));
                (None, SymbolTable::new(Vec::new()), SymbolSource::None)
            }
        },
    };
    let mut kernel = Kernel {
        dump,
        vmlinux: elf,
        found,
        symbols,
        symbol_source,
        notices,
        lines: Default::default(),
        btf: Default::default(),
        btf_types: Default::default(),
        types: Default::default(),
        module_debug: Default::default(),
        auto_lines: Default::default(),
        modules: Vec::new(),
        tasks: std::sync::OnceLock::new(),
        orc: Default::default(),
        arch,
        image_only: false,
        proc_offsets: std::sync::OnceLock::new(),
    };
    if !options.btf {
        let _ = kernel.btf.set(Err("BTF turned off (--no-btf)".into()));
    }
    kernel_bases(&mut kernel);
    // The modules' symbols, after the kernel's: the walk needs `modules`.
    let loaded = modules::load(&kernel);
    kernel.notices.extend(loaded.notices);
    kernel.modules = loaded.modules;
    if !loaded.symbols.is_empty() {
        kernel.symbols.merge(SymbolTable::new(loaded.symbols));
    }
    if let Some(notice) = makedumpfile::check(&kernel) {
        kernel.notices.push(notice);
    }
    Ok(kernel)
}

/// The architecture a dump of `machine` (`uname -m`; or, unnamed, ELF
/// `e_machine`) is of, or why kdive cannot read it. A dump that names no
/// machine at all is taken as x86-64's.
pub(crate) fn architecture(
    machine: Option<&str>,
    elf_machine: Option<u16>,
) -> Result<&'static dyn kdive_arch::Arch, KernelError> {
    let found = match (machine, elf_machine) {
        (Some(m), _) => kdive_arch::for_machine(m).ok_or_else(|| m.to_string()),
        (None, Some(e)) => kdive_arch::for_elf_machine(e).ok_or_else(|| format!("ELF machine {e}")),
        (None, None) => Ok(&kdive_arch::X86_64 as &dyn kdive_arch::Arch),
    };
    found.map_err(|machine| KernelError::Architecture {
        machine,
        supported: kdive_arch::supported().collect::<Vec<_>>().join(", "),
    })
}

/// With symbols, the kernel's own variables say where KASLR put the
/// vmalloc area and the struct pages; discovery from the page tables could
/// only infer them.
fn kernel_bases(k: &mut Kernel) {
    const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
    let read = |k: &Kernel, name: &str| {
        let v = k.read_u64(k.symbol(name)?).ok()?;
        (v >= KERNEL_HALF).then_some(v)
    };
    if let Some(v) = read(k, "vmalloc_base") {
        k.found.layout.vmalloc_base = v;
    }
    if let Some(v) = read(k, "vmemmap_base") {
        k.found.layout.vmemmap_base = v;
    }
    if let Some(v) = read(k, "page_offset_base") {
        if v != k.found.layout.page_offset_base {
            k.notices.push(format!(
                "page_offset_base is {v:x} in memory but the page tables map the direct map at {:x}",
                k.found.layout.page_offset_base
            ));
        }
    }
}

/// The kernel's BTF: the vmlinux's `.BTF`, else the copy in memory.
pub(crate) fn load_btf(k: &Kernel) -> Result<Btf, String> {
    let mut why = Vec::new();
    if let Some(elf) = &k.vmlinux {
        match elf.section(".BTF").map(Btf::parse) {
            Some(Ok(btf)) => return Ok(btf),
            Some(Err(e)) => why.push(format!("{}: {e}", show(elf.path()))),
            None => why.push(format!("{} has no .BTF section", show(elf.path()))),
        }
    }
    match btf_from_memory(k) {
        Ok(btf) => Ok(btf),
        Err(e) => {
            why.push(e);
            Err(why.join("; "))
        }
    }
}

fn btf_from_memory(k: &Kernel) -> Result<Btf, String> {
    let addr = |name| modules::symbols_named(k, name).next().map(|s| s.addr);
    let (Some(start), Some(stop)) = (addr("__start_BTF"), addr("__stop_BTF")) else {
        return Err("no __start_BTF and __stop_BTF symbols: a kernel without BTF".into());
    };
    let len = stop.wrapping_sub(start);
    if stop <= start || len > 256 << 20 {
        return Err(format!(
            "BTF at {start:#x}..{stop:#x}: not a plausible size"
        ));
    }
    let mut buf = vec![0u8; len as usize];
    k.read(start, &mut buf)
        .map_err(|e| format!("BTF at {start:#x}: {e}"))?;
    Btf::parse(&buf).map_err(|e| format!("BTF in memory at {start:#x}: {e}"))
}

/// kallsyms from the dump's memory: where VMCOREINFO says (Linux 6.0 on),
/// else (or if that fails) found by scanning the kernel's read-only data (its whole image if
/// the page tables do not tell which part that is). `KDIVE_KALLSYMS_SCAN=1`
/// scans even when VMCOREINFO says, to check one against the other.
fn kallsyms_from_memory(
    dump: &Dump,
    found: &Discovered,
    notices: &mut Vec<String>,
) -> Result<SymbolTable, String> {
    let read =
        &kdive_dump::FnMemory(|addr, buf: &mut [u8]| Ok(found.xlat.read_virt(dump, addr, buf)?));
    let info = dump.vmcoreinfo();
    let forced = std::env::var_os("KDIVE_KALLSYMS_SCAN").is_some_and(|v| v == "1");
    let why = match info.map(KallsymsLocations::from_vmcoreinfo) {
        Some(Ok(loc)) if !forced => match kallsyms::load(&loc, read) {
            Ok(k) => return Ok(k.symbols),
            Err(e) => format!("kallsyms where VMCOREINFO says: {e}"),
        },
        Some(Ok(_)) => "KDIVE_KALLSYMS_SCAN=1".to_string(),
        Some(Err(e)) => e.to_string(),
        None => "the dump has no VMCOREINFO to locate kallsyms".to_string(),
    };
    let Some(image) = found.kernel_text else {
        return Err(format!(
            "{why}; and the kernel image, to scan for kallsyms, was not found"
        ));
    };
    let hints = ScanHints {
        stext: info.and_then(|i| i.symbol("_stext")),
        release: dump.release(),
    };
    // The read-only data first (a few MiB); the whole image when the page
    // tables do not show it, or when what they show is not it (a lone
    // read-only page ahead of .rodata was seen).
    let rodata = found
        .xlat
        .tables
        .and_then(|t| find_rodata(dump, &t, &image));
    let in_rodata = rodata.and_then(|r| kallsyms::scan(r, &hints, read).ok());
    let (s, what) = match in_rodata {
        Some(s) => (s, "read-only data"),
        None => (
            kallsyms::scan(image.virt..image.end(), &hints, read)
                .map_err(|e| format!("{why}; {e}"))?,
            "image",
        ),
    };
    notices.push(format!(
        "kallsyms found by scanning memory at {:#x} ({} KiB of the kernel's {what} read): {why}",
        s.loc.token_table,
        s.scanned >> 10
    ));
    Ok(s.kallsyms.symbols)
}

#[cfg(test)]
mod tests {
    use super::architecture;
    use crate::KernelError;

    #[test]
    fn the_architecture_comes_from_the_machine_type() {
        assert_eq!(architecture(Some("x86_64"), None).unwrap().name(), "x86_64");
        assert_eq!(
            architecture(Some("x86_64"), Some(62)).unwrap().name(),
            "x86_64"
        );
        // A dump that says nothing: x86-64, what kdive has always read.
        assert_eq!(architecture(None, None).unwrap().name(), "x86_64");
        // A vmlinux opened alone: its ELF machine.
        assert_eq!(architecture(None, Some(62)).unwrap().name(), "x86_64");
        // Another machine: a clear error, not a misread dump.
        match architecture(Some("aarch64"), Some(183)) {
            Err(e @ KernelError::Architecture { .. }) => {
                assert_eq!(
                    e.to_string(),
                    "a dump of aarch64: kdive reads x86_64 dumps only"
                )
            }
            other => panic!("{other:?}"),
        }
        match architecture(None, Some(4242)) {
            Err(KernelError::Architecture { machine, .. }) => {
                assert_eq!(machine, "ELF machine 4242")
            }
            other => panic!("{other:?}"),
        }
    }
}
