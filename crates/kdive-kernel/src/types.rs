//! Which source of types the commands see.
//!
//! The vmlinux's DWARF when there is a vmlinux: it has the types of every
//! global (`jiffies`, `init_task`), which BTF lacks; else the kernel's BTF
//! (in the dump's memory). Modules' DWARF joins them when loaded
//! ([`Kernel::load_module_debuginfo`]).

use std::sync::Arc;

use kdive_debuginfo::btf_types::BtfTypes;
use kdive_debuginfo::layered::Layered;
use kdive_debuginfo::types::TypeSource;

use crate::Kernel;

impl Kernel {
    /// The kernel's types, built on first use, with the modules' that were
    /// loaded; `None` when there is no source of types at all.
    pub fn types(&self) -> Option<&dyn TypeSource> {
        let l = self.layered();
        (!l.is_empty()).then_some(l as &dyn TypeSource)
    }

    pub(crate) fn layered(&self) -> &Layered {
        self.types.get_or_init(|| Layered::new(load(self)))
    }

    /// The source the kernel's walkers read layouts from: the BTF, quick
    /// to open and in memory, else the vmlinux's DWARF; or why neither.
    pub(crate) fn layout_source(&self) -> Result<&dyn TypeSource, String> {
        match self.btf_types() {
            Ok(b) => Ok(&**b as &dyn TypeSource),
            Err(why) => match self.vmlinux_file().and(self.types()) {
                Some(t) => Ok(t),
                None => Err(why.to_string()),
            },
        }
    }

    /// The BTF as a [`TypeSource`], made once and shared.
    fn btf_types(&self) -> Result<&Arc<BtfTypes>, &str> {
        let btf = self.btf_arc()?;
        Ok(self
            .btf_types
            .get_or_init(|| Arc::new(BtfTypes::new(Arc::clone(btf)))))
    }
}

/// The best source of types this kernel has: the vmlinux's DWARF (every
/// global's type, the names gdb prints), else the BTF.
fn load(k: &Kernel) -> Option<Arc<dyn TypeSource>> {
    if let Some(elf) = k.vmlinux_file() {
        if let Ok(dwarf) = kdive_debuginfo::dwarf_types::DwarfTypes::open(elf.path()) {
            return Some(Arc::new(dwarf));
        }
    }
    let btf = k.btf_types().ok()?;
    Some(Arc::clone(btf) as Arc<dyn TypeSource>)
}
