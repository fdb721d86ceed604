//! Which source of types the commands see.
//!
//! The vmlinux's DWARF when there is a vmlinux: it has the types of every
//! global (`jiffies`, `init_task`), which BTF lacks; else the kernel's BTF
//! (in the dump's memory).

use std::sync::Arc;

use kdive_debuginfo::btf_types::BtfTypes;
use kdive_debuginfo::types::TypeSource;

use crate::Kernel;

impl Kernel {
    /// The kernel's types, built on first use; `None` when the kernel has
    /// neither BTF nor (later) DWARF to read them from.
    pub fn types(&self) -> Option<&dyn TypeSource> {
        self.types.get_or_init(|| load(self)).as_deref()
    }
}

/// The best source of types this kernel has: the vmlinux's DWARF (every
/// global's type, the names gdb prints), else the BTF.
fn load(k: &Kernel) -> Option<Box<dyn TypeSource>> {
    if let Some(elf) = k.vmlinux_file() {
        if let Ok(dwarf) = kdive_debuginfo::dwarf_types::DwarfTypes::open(elf.path()) {
            return Some(Box::new(dwarf));
        }
    }
    let btf = k.btf_arc().ok()?;
    Some(Box::new(BtfTypes::new(Arc::clone(btf))))
}
