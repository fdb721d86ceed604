//! Finding a loaded module's debuginfo by itself, where distributions
//! install it, matched by GNU build id: the one the module has in memory
//! (its `.note.gnu.build-id` section, placed by the kernel's section
//! table, [`Kernel::module_sections`]) against the file's.
//!
//! Places, under `$KDIVE_SYSROOT` when it is set:
//! - `/usr/lib/debug/.build-id/xx/yyyy.debug` (Fedora, and any
//!   debuginfo laid out by build id);
//! - `/usr/lib/debug/lib/modules/RELEASE/**/NAME.ko` (Debian's
//!   `linux-image-*-dbg`) or `NAME.ko.debug` (Fedora's
//!   `kernel-debuginfo`);
//! - `/lib/modules/RELEASE/**/NAME.ko` (kernels installed unstripped);
//! - a debuginfod server ([`kdive_debuginfod`]) when `DEBUGINFOD_URLS` is
//!   set.
//!
//! A file is taken only with DWARF (a stripped `.ko` has the right build id
//! and no lines) and, when the module's build id could be read, the same.

use std::path::{Path, PathBuf};

use kdive_debuginfo::ElfFile;
use kdive_debuginfod::DebuginfodError;
use thiserror::Error;

use crate::{vmlinux, Kernel, Module};

/// How deep the search by name goes into a directory tree.
const MAX_DEPTH: usize = 8;

/// The longest build id read from memory (SHA-1 ids are 20 bytes).
const MAX_BUILD_ID: u32 = 64;

/// Why a module's debuginfo was not found, or could not be loaded
/// ([`Kernel::load_module_debuginfo`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ModuleDebugError {
    /// No module of that name is loaded.
    #[error("{0}: not a loaded module")]
    NotLoaded(String),
    /// The file is the debuginfo of another build of the module.
    #[error("build id {found} is not the loaded module's ({wanted})")]
    WrongBuild { found: String, wanted: String },
    /// The file's DWARF cannot be used.
    #[error(transparent)]
    Dwarf(#[from] kdive_debuginfo::dwarf_types::DwarfTypesError),
    /// The types of one more module cannot be added.
    #[error(transparent)]
    Add(#[from] kdive_debuginfo::layered::AddError),
    #[error("module {name}: no build id in memory: {why}")]
    NoBuildId { name: String, why: String },
    #[error("no debuginfo for module {name}{} (looked under {}){}{}", build_id_text(.build_id), show_all(.looked), refused_text(.refused), debuginfod_text(.debuginfod))]
    NotFound {
        name: String,
        build_id: Option<String>,
        looked: Vec<PathBuf>,
        /// Files of that name not taken, and why.
        refused: Vec<(PathBuf, String)>,
        /// What debuginfod said, when asked.
        debuginfod: Option<Box<DebuginfodError>>,
    },
}

fn build_id_text(id: &Option<String>) -> String {
    id.as_ref()
        .map(|i| format!(" (build id {i})"))
        .unwrap_or_default()
}

fn show_all(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn debuginfod_text(e: &Option<Box<DebuginfodError>>) -> String {
    e.as_ref().map(|e| format!("; {e}")).unwrap_or_default()
}

fn refused_text(refused: &[(PathBuf, String)]) -> String {
    refused
        .iter()
        .map(|(p, why)| format!("; {}: {why}", p.display()))
        .collect()
}

impl Kernel {
    /// The GNU build id of loaded module `m`, read from its
    /// `.note.gnu.build-id` section in memory (lower-case hexadecimal).
    pub fn module_build_id(&self, m: &Module) -> Result<String, ModuleDebugError> {
        let err = |why: String| ModuleDebugError::NoBuildId {
            name: m.name.clone(),
            why,
        };
        let sections = self.module_sections(m).map_err(|e| err(e.to_string()))?;
        let (_, addr) = sections
            .iter()
            .find(|(n, _)| n == ".note.gnu.build-id")
            .ok_or_else(|| err("no .note.gnu.build-id section".into()))?;
        let mut head = [0u8; 16];
        self.read(*addr, &mut head)
            .map_err(|e| err(e.to_string()))?;
        let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap());
        let (namesz, descsz, kind) = (word(0), word(4), word(8));
        if namesz != 4
            || &head[12..16] != b"GNU\0"
            || kind != 3
            || descsz == 0
            || descsz > MAX_BUILD_ID
        {
            return Err(err(format!("the note at {addr:#x} is not a GNU build id")));
        }
        let mut desc = vec![0u8; descsz as usize];
        self.read(addr + 16, &mut desc)
            .map_err(|e| err(e.to_string()))?;
        Ok(desc.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The debuginfo of loaded module `m`: under `tree` only when given
    /// (`mod -S DIR`), else where distributions install it, then from
    /// debuginfod (see the module's documentation).
    pub fn find_module_debuginfo(
        &self,
        m: &Module,
        tree: Option<&Path>,
    ) -> Result<PathBuf, ModuleDebugError> {
        let build_id = self.module_build_id(m).ok();
        let mut looked = Vec::new();
        let mut refused = Vec::new();
        let mut candidates = Vec::new();
        let roots: Vec<PathBuf> = match (tree, self.dump().release()) {
            (Some(t), _) => vec![t.to_path_buf()],
            (None, release) => {
                if let Some(id) = build_id.as_deref().filter(|i| i.len() > 2) {
                    let p = vmlinux::under_sysroot(&format!(
                        "/usr/lib/debug/.build-id/{}/{}.debug",
                        &id[..2],
                        &id[2..]
                    ));
                    looked.push(p.clone());
                    candidates.push(p);
                }
                release
                    .iter()
                    .flat_map(|r| {
                        [
                            format!("/usr/lib/debug/lib/modules/{r}"),
                            format!("/lib/modules/{r}"),
                        ]
                    })
                    .map(|p| vmlinux::under_sysroot(&p))
                    .collect()
            }
        };
        let names: Vec<String> = [m.name.clone(), m.name.replace('_', "-")]
            .iter()
            .flat_map(|n| [format!("{n}.ko"), format!("{n}.ko.debug")])
            .collect();
        for r in &roots {
            looked.push(r.clone());
            search(r, &names, 0, &mut candidates);
        }
        for c in candidates.into_iter().filter(|c| c.is_file()) {
            match check(&c, build_id.as_deref()) {
                Ok(()) => return Ok(c),
                Err(why) => refused.push((c, why)),
            }
        }
        let mut debuginfod = None;
        if let (None, Some(id)) = (tree, build_id.as_deref()) {
            match crate::debuginfod::debuginfo(id) {
                Ok(Some(p)) => match check(&p, Some(id)) {
                    Ok(()) => return Ok(p),
                    Err(why) => refused.push((p, why)),
                },
                Ok(None) => {}
                Err(e) => debuginfod = Some(Box::new(e)),
            }
        }
        Err(ModuleDebugError::NotFound {
            name: m.name.clone(),
            build_id,
            looked,
            refused,
            debuginfod,
        })
    }
}

/// Whether `path` is debuginfo of the build `wanted` (any, when unknown).
pub(crate) fn check(path: &Path, wanted: Option<&str>) -> Result<(), String> {
    let elf = ElfFile::open(path).map_err(|e| e.to_string())?;
    if elf.section(".debug_info").is_none() {
        return Err("no DWARF (.debug_info): a stripped module".into());
    }
    let Some(wanted) = wanted else { return Ok(()) };
    match elf.build_id().map_err(|e| e.to_string())? {
        Some(found) if found.eq_ignore_ascii_case(wanted) => Ok(()),
        Some(found) => Err(format!("build id {found}, the loaded module's is {wanted}")),
        None => Err("no build id to check it by".into()),
    }
}

/// Every file under `dir` named one of `names`, nearest first, in name order.
fn search(dir: &Path, names: &[String], depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    let mut subdirs = Vec::new();
    for e in entries {
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            subdirs.push(e.path());
        } else if names.iter().any(|n| e.file_name().to_str() == Some(n)) {
            out.push(e.path());
        }
    }
    for d in subdirs {
        search(&d, names, depth + 1, out);
    }
}
