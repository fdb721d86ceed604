//! Which source of types the commands see.
//!
//! For now the kernel's BTF (in the vmlinux or in the dump's memory). A
//! DWARF source goes first in [`load`] when there is a vmlinux: it has the
//! types of every global (`jiffies`, `init_task`), which BTF lacks.

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

/// The best source of types this kernel has.
fn load(k: &Kernel) -> Option<Box<dyn TypeSource>> {
    let btf = k.btf_arc().ok()?;
    Some(Box::new(BtfTypes::new(Arc::clone(btf))))
}
