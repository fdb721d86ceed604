//! Modules' debuginfo, loaded on request (crash's `mod -s NAME FILE`):
//! the `.ko`'s DWARF placed at the addresses its sections were loaded at,
//! so that its types and globals join the kernel's ([`Kernel::types`]) and
//! its line table answers [`Kernel::source_line`] for its code.
//!
//! Without `mod -s`, a module's lines are still found when wanted (`bt -l`,
//! `dis -l`, `sym`): its debuginfo is looked for by build id where
//! distributions install it ([`find`]), once, and only its line table is
//! read.

mod find;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kdive_debuginfo::dwarf_types::{DwarfTypes, OpenOptions};
use kdive_debuginfo::lines::{LineTable, Location};
use kdive_debuginfo::ElfFile;

use crate::{Kernel, MemKind, Module};

pub use find::ModuleDebugError;

/// The line tables of modules found by themselves (`None`: looked for and
/// not found), by module name.
pub(crate) type AutoLines = std::sync::RwLock<HashMap<String, Option<LineTable>>>;

/// A module whose debuginfo is loaded.
pub struct ModuleDebug {
    pub name: String,
    pub path: PathBuf,
    lines: Option<LineTable>,
}

impl Kernel {
    /// Load `path` as the debuginfo of the loaded module `name`. The
    /// `.ko`'s sections are placed where the kernel put them (its section
    /// table, [`Kernel::module_sections`]); when that table cannot be read,
    /// `.text`, `.data` and `.rodata` go to the module's memory of that
    /// kind, and the returned notice says so.
    pub fn load_module_debuginfo(
        &self,
        name: &str,
        path: &Path,
    ) -> Result<Option<String>, ModuleDebugError> {
        let m = self
            .module(name)
            .ok_or_else(|| ModuleDebugError::NotLoaded(name.to_string()))?;
        if let Ok(wanted) = self.module_build_id(m) {
            let found = ElfFile::open(path)
                .ok()
                .and_then(|e| e.build_id().ok().flatten());
            if let Some(found) = found.filter(|f| !f.eq_ignore_ascii_case(&wanted)) {
                return Err(ModuleDebugError::WrongBuild { found, wanted });
            }
        }
        let (sections, notice) = match self.module_sections(m) {
            Ok(s) => (s, None),
            Err(why) => (
                fallback_sections(m),
                Some(format!("{why}; sections placed by the module's memory")),
            ),
        };
        let place = |sec: &str| sections.iter().find(|(n, _)| n == sec).map(|&(_, a)| a);
        let options = OpenOptions {
            section_address: &place,
            ..OpenOptions::default()
        };
        let dwarf = DwarfTypes::open_with(path, &options)?;
        let lines = LineTable::open_relocated(path, &place).ok();
        self.layered().add(name, Arc::new(dwarf))?;
        let mut loaded = self.module_debug.write().unwrap_or_else(|e| e.into_inner());
        loaded.retain(|d| d.name != name);
        loaded.push(ModuleDebug {
            name: name.to_string(),
            path: path.to_path_buf(),
            lines,
        });
        Ok(notice)
    }

    /// Forget a module's debuginfo (crash's `mod -d NAME`); `false` when
    /// none was loaded.
    pub fn unload_module_debuginfo(&self, name: &str) -> bool {
        let mut loaded = self.module_debug.write().unwrap_or_else(|e| e.into_inner());
        let before = loaded.len();
        loaded.retain(|d| d.name != name);
        self.layered().remove(name);
        loaded.len() != before
    }

    /// The file loaded as module `name`'s debuginfo.
    pub fn module_debuginfo(&self, name: &str) -> Option<PathBuf> {
        let loaded = self.module_debug.read().unwrap_or_else(|e| e.into_inner());
        loaded
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.path.clone())
    }

    pub(crate) fn module_functions_at(&self, name: &str, addr: u64) -> Vec<String> {
        let loaded = self.module_debug.read().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = loaded.iter().find(|d| d.name == name) {
            return d
                .lines
                .as_ref()
                .map(|l| l.functions_at(addr))
                .unwrap_or_default();
        }
        drop(loaded);
        self.with_auto_lines(name, |l| l.functions_at(addr))
            .unwrap_or_default()
    }

    pub(crate) fn module_source_line(&self, name: &str, addr: u64) -> Option<Location> {
        let loaded = self.module_debug.read().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = loaded.iter().find(|d| d.name == name) {
            return d.lines.as_ref()?.lookup(addr);
        }
        drop(loaded);
        self.with_auto_lines(name, |l| l.lookup(addr)).flatten()
    }

    /// `f` of module `name`'s line table found by itself, looked for on
    /// first use.
    fn with_auto_lines<T>(&self, name: &str, f: impl FnOnce(&LineTable) -> T) -> Option<T> {
        {
            let auto = self.auto_lines.read().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = auto.get(name) {
                return found.as_ref().map(f);
            }
        }
        let lines = self.module(name).and_then(|m| {
            let path = self.find_module_debuginfo(m, None).ok()?;
            let sections = self
                .module_sections(m)
                .unwrap_or_else(|_| fallback_sections(m));
            let place = |sec: &str| sections.iter().find(|(n, _)| n == sec).map(|&(_, a)| a);
            LineTable::open_relocated(&path, &place).ok()
        });
        let out = lines.as_ref().map(f);
        let mut auto = self.auto_lines.write().unwrap_or_else(|e| e.into_inner());
        auto.insert(name.to_string(), lines);
        out
    }
}

/// Where the main sections are when the kernel's table of them is missing.
fn fallback_sections(m: &Module) -> Vec<(String, u64)> {
    [
        (".text", MemKind::Text),
        (".data", MemKind::Data),
        (".rodata", MemKind::Rodata),
    ]
    .iter()
    .filter_map(|&(n, k)| Some((n.to_string(), m.memory(k)?.base)))
    .collect()
}
