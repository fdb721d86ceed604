//! Opening a kernel: the vmlinux, the memory layout, the symbols.

use std::path::Path;

use kdive_arch::x86_64::{discover, Hints};
use kdive_debuginfo::btf::Btf;
use kdive_debuginfo::{kallsyms, ElfFile, KallsymsLocations, SymbolTable};
use kdive_dump::Dump;

use crate::{modules, show, vmlinux, Kernel, KernelError, SymbolSource, VmlinuxChoice};

pub(crate) fn open(dump: Dump, choice: VmlinuxChoice<'_>) -> Result<Kernel, KernelError> {
    let mut notices = Vec::new();
    let elf = match choice {
        VmlinuxChoice::Given(p) => Some(open_vmlinux(p)?),
        VmlinuxChoice::Find => find_vmlinux(&dump, &mut notices)?,
        VmlinuxChoice::None => None,
    };
    if let Some(elf) = &elf {
        check_build_id(&dump, elf)?;
    }

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

    let (symbols, symbol_source) = match &elf {
        Some(elf) => {
            let mut t = elf.symbols().map_err(|e| KernelError::Vmlinux {
                path: show(elf.path()),
                why: e.to_string(),
            })?;
            t.relocate(found.layout.kernel_offset.unwrap_or(0));
            (t, SymbolSource::Vmlinux)
        }
        None => match kallsyms_from_memory(&dump, &found) {
            Ok(t) => (t, SymbolSource::Kallsyms),
            Err(why) => {
                notices.push(format!("no symbols: {why}"));
                (SymbolTable::new(Vec::new()), SymbolSource::None)
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
        modules: Vec::new(),
    };
    // The modules' symbols, after the kernel's: the walk needs `modules`.
    let loaded = modules::load(&kernel);
    kernel.notices.extend(loaded.notices);
    kernel.modules = loaded.modules;
    if !loaded.symbols.is_empty() {
        kernel.symbols.merge(SymbolTable::new(loaded.symbols));
    }
    Ok(kernel)
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
        return Err(format!("BTF at {start:#x}..{stop:#x}: not a plausible size"));
    }
    let mut buf = vec![0u8; len as usize];
    k.read(start, &mut buf)
        .map_err(|e| format!("BTF at {start:#x}: {e}"))?;
    Btf::parse(&buf).map_err(|e| format!("BTF in memory at {start:#x}: {e}"))
}

fn open_vmlinux(path: &Path) -> Result<ElfFile, KernelError> {
    ElfFile::open(path).map_err(|e| KernelError::Vmlinux {
        path: show(path),
        why: e.to_string(),
    })
}

/// The vmlinux installed for the dump's release, if any.
fn find_vmlinux(dump: &Dump, notices: &mut Vec<String>) -> Result<Option<ElfFile>, KernelError> {
    let Some(release) = dump.release() else {
        return Ok(None);
    };
    match vmlinux::find(&release) {
        Some(p) => open_vmlinux(&p).map(Some),
        None => {
            notices.push(format!(
                "no vmlinux for {release} (looked for {}; it comes with {}): using the kernel's own kallsyms",
                vmlinux::candidates(&release)
                    .iter()
                    .map(|p| show(p))
                    .collect::<Vec<_>>()
                    .join(", "),
                vmlinux::package_hint(&release)
            ));
            Ok(None)
        }
    }
}

/// A vmlinux of another build would give wrong symbols and types silently.
fn check_build_id(dump: &Dump, elf: &ElfFile) -> Result<(), KernelError> {
    let Some(wanted) = dump.vmcoreinfo().and_then(|v| v.get("BUILD-ID")) else {
        return Ok(());
    };
    let found = elf.build_id().map_err(|e| KernelError::Vmlinux {
        path: show(elf.path()),
        why: e.to_string(),
    })?;
    match found {
        Some(f) if !f.eq_ignore_ascii_case(wanted) => Err(KernelError::BuildIdMismatch {
            vmlinux: show(elf.path()),
            found: f,
            wanted: wanted.to_string(),
        }),
        _ => Ok(()),
    }
}

fn kallsyms_from_memory(
    dump: &Dump,
    found: &kdive_arch::x86_64::Discovered,
) -> Result<SymbolTable, String> {
    let info = dump
        .vmcoreinfo()
        .ok_or("the dump has no VMCOREINFO to locate kallsyms")?;
    let loc = KallsymsLocations::from_vmcoreinfo(info).map_err(|e| e.to_string())?;
    let k = kallsyms::load(&loc, |addr, buf: &mut [u8]| found.xlat.read_virt(dump, addr, buf))
        .map_err(|e| format!("kallsyms: {e}"))?;
    Ok(k.symbols)
}
