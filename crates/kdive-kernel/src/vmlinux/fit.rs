//! Whether a vmlinux is the dump's kernel. It must hold the kernel's whole
//! symbol table: the vmlinux that linux-headers packages ship for building
//! BTF modules (Debian's 6.12 `/lib/modules/RELEASE/build/vmlinux`) has a
//! `.BTF` section and a few hundred `__BTF_ID__` symbols, and taken as the
//! kernel's it leaves `bt`, `sym`, `ps` and `log` without the symbols they
//! need. And it must be of the dump's build: its GNU build id against
//! VMCOREINFO's `BUILD-ID`, else (no build id on either side) its
//! `linux_banner` against the one in the dump's memory.

use kdive_arch::x86_64::Discovered;
use kdive_debuginfo::{ElfError, ElfFile, SymbolTable};
use kdive_dump::Dump;
use thiserror::Error;

use crate::show;

/// Symbols every kernel's table has; a file without them is not the
/// kernel's vmlinux.
const KERNEL_SYMBOLS: [&str; 3] = ["_stext", "linux_banner", "init_task"];

/// The fewest symbols a kernel's table has (the smallest configurations
/// have some thousands; a distribution's, over a hundred thousand).
const MIN_SYMBOLS: usize = 1000;

/// Why a vmlinux cannot be used for a dump.
#[derive(Debug, Error)]
pub enum Unfit {
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("{path} is not the kernel's vmlinux: {count} symbols and no {missing} (a BTF-only vmlinux, as linux-headers ships for building modules)")]
    NotKernel {
        path: String,
        count: usize,
        missing: &'static str,
    },
    #[error("{path}: build id {found} does not match the dump's kernel ({wanted}); give the vmlinux of that build")]
    BuildId {
        path: String,
        found: String,
        wanted: String,
    },
    #[error("{path} is not the dump's kernel: its banner is {found:?}, the dump's {wanted:?}")]
    Banner {
        path: String,
        found: String,
        wanted: String,
    },
}

/// A vmlinux found fit, with its symbols at their link-time addresses.
pub(crate) struct Fit {
    pub elf: ElfFile,
    pub symbols: SymbolTable,
    /// Why it could not be checked against the dump, if it could not.
    pub unchecked: Option<String>,
}

/// Check `elf` against the dump (`found`: its layout, for the banner).
pub(crate) fn check(dump: &Dump, found: &Discovered, elf: ElfFile) -> Result<Fit, Unfit> {
    let symbols = kernel_symbols(&elf)?;
    let path = show(elf.path());
    let wanted = dump.vmcoreinfo().and_then(|v| v.get("BUILD-ID"));
    let unchecked = match (elf.build_id()?, wanted) {
        (Some(f), Some(w)) if f.eq_ignore_ascii_case(w) => None,
        (Some(f), Some(w)) => {
            return Err(Unfit::BuildId {
                path,
                found: f,
                wanted: w.to_string(),
            });
        }
        _ => check_banner(dump, found, &elf, &symbols)?,
    };
    Ok(Fit {
        elf,
        symbols,
        unchecked,
    })
}

/// The symbols of `elf`, when they are a kernel's whole table.
pub(crate) fn kernel_symbols(elf: &ElfFile) -> Result<SymbolTable, Unfit> {
    let symbols = elf.symbols()?;
    let path = || show(elf.path());
    if let Some(missing) = KERNEL_SYMBOLS.iter().find(|n| symbols.by_name(n).is_none()) {
        return Err(Unfit::NotKernel {
            path: path(),
            count: symbols.len(),
            missing,
        });
    }
    if symbols.len() < MIN_SYMBOLS {
        return Err(Unfit::NotKernel {
            path: path(),
            count: symbols.len(),
            missing: "full symbol table",
        });
    }
    Ok(symbols)
}

/// Compare `linux_banner` in the file and in the dump's memory; `Ok(Some)`
/// says why they could not be compared.
fn check_banner(
    dump: &Dump,
    found: &Discovered,
    elf: &ElfFile,
    symbols: &SymbolTable,
) -> Result<Option<String>, Unfit> {
    let Some(banner) = elf.linux_banner(symbols)? else {
        return Ok(Some("no linux_banner in the vmlinux".into()));
    };
    let text = banner.text.trim_end_matches('\0');
    let addr = banner
        .addr
        .wrapping_add(found.layout.kernel_offset.unwrap_or(0));
    let mut buf = vec![0u8; text.len() + 1];
    if let Err(e) = found.xlat.read_virt(dump, addr, &mut buf) {
        return Ok(Some(format!("linux_banner: {e}")));
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let in_dump = String::from_utf8_lossy(&buf[..end]);
    if in_dump == text {
        return Ok(None);
    }
    Err(Unfit::Banner {
        path: show(elf.path()),
        found: text.trim_end().to_string(),
        wanted: in_dump.trim_end().to_string(),
    })
}
