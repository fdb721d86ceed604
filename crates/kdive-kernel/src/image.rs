//! A kernel opened from its vmlinux alone, with no dump: for static work
//! (`dis`, `sym`, `whatis`, `struct -o`), as gdb does given only the file.
//!
//! Such a [`Kernel`] has an empty dump (no memory, no CPUs, no notes) and
//! its symbols at their link-time addresses; its memory reads come from the
//! file's allocated sections at their link addresses, so code reads as it
//! was built (before the kernel patched it at boot) and data as it was
//! initialized. [`Kernel::has_dump`] tells commands that need a running
//! kernel's state to refuse.

use std::path::Path;

use kdive_arch::x86_64::{discover, Hints};
use kdive_dump::Dump;

use crate::memory::MemError;
use crate::{show, Kernel, KernelError, SymbolSource};

/// An ELF core file header with no program headers: a dump holding nothing.
fn empty_dump() -> Result<Dump, KernelError> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[6] = 1; // ELF version
    h[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    h[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    h[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    Ok(Dump::from_bytes(h)?)
}

/// Open `path`, a vmlinux, with no dump.
pub(crate) fn open(path: &Path) -> Result<Kernel, KernelError> {
    let elf = kdive_debuginfo::ElfFile::open(path).map_err(|e| KernelError::Vmlinux {
        path: show(path),
        why: e.to_string(),
    })?;
    let arch = crate::open::architecture(None, Some(elf.machine()))?;
    let symbols = crate::vmlinux::kernel_symbols(&elf)?;
    let dump = empty_dump()?;
    let mut found = discover(&dump, &Hints::default());
    found.layout.kernel_offset = Some(0);
    Ok(Kernel {
        dump,
        vmlinux: Some(elf),
        found,
        symbols,
        symbol_source: SymbolSource::Vmlinux,
        notices: Vec::new(),
        lines: Default::default(),
        btf: Default::default(),
        btf_types: Default::default(),
        types: Default::default(),
        module_debug: Default::default(),
        auto_lines: Default::default(),
        modules: Vec::new(),
        tasks: Default::default(),
        orc: Default::default(),
        proc_offsets: Default::default(),
        arch,
        image_only: true,
    })
}

impl Kernel {
    /// Open a vmlinux alone, with no dump (see the module's doc).
    pub fn open_image(vmlinux: &Path) -> Result<Kernel, KernelError> {
        open(vmlinux)
    }

    /// Whether there is a dump: `false` for a kernel opened from its
    /// vmlinux alone ([`Self::open_image`]).
    pub fn has_dump(&self) -> bool {
        !self.image_only
    }

    /// A read of the vmlinux file's contents at a link-time address.
    pub(crate) fn read_image(&self, vaddr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        let invalid = |why: &str| MemError::Invalid {
            vaddr,
            why: why.to_string(),
        };
        let elf = self.vmlinux.as_ref().ok_or_else(|| invalid("no vmlinux"))?;
        let mut done = 0usize;
        // A read may span sections; each piece comes from the one holding it.
        while done < buf.len() {
            let at = vaddr.wrapping_add(done as u64);
            match elf.read_at(at, buf.len() - done) {
                Ok(Some(bytes)) if !bytes.is_empty() => {
                    buf[done..done + bytes.len()].copy_from_slice(bytes);
                    done += bytes.len();
                }
                _ => {
                    return Err(MemError::Invalid {
                        vaddr: at,
                        why: "not in a section of the vmlinux with contents".into(),
                    })
                }
            }
        }
        Ok(())
    }
}
