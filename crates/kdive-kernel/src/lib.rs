//! The open kernel: a dump's memory seen through the kernel's page tables,
//! with its symbols, types and the walkers built on them.

pub mod vmlinux;

use std::path::{Path, PathBuf};

use kdive_dump::{Dump, OpenError};
use thiserror::Error;

/// Why a kernel could not be opened.
#[derive(Debug, Error)]
pub enum KernelError {
    #[error(transparent)]
    Dump(#[from] OpenError),
    #[error("{vmlinux}: build id {found} does not match the dump's kernel ({wanted}); give the vmlinux of that build")]
    BuildIdMismatch {
        vmlinux: String,
        found: String,
        wanted: String,
    },
    #[error("{0}")]
    Other(String),
}

/// A kernel opened from a dump, with or without its vmlinux.
pub struct Kernel {
    dump: Dump,
    vmlinux: Option<PathBuf>,
    /// Things the user should know about how the kernel was opened.
    notices: Vec<String>,
}

impl Kernel {
    /// Open the dump at `dump`, with `vmlinux` or the one installed for the
    /// dump's release.
    pub fn open(dump: &Path, vmlinux: Option<&Path>) -> Result<Kernel, KernelError> {
        let d = Dump::open(dump)?;
        let mut notices = Vec::new();
        let release = d.release();
        let vmlinux = match (vmlinux, &release) {
            (Some(v), _) => Some(v.to_path_buf()),
            (None, Some(r)) => {
                let found = vmlinux::find(r);
                if found.is_none() {
                    notices.push(format!(
                        "no vmlinux for {r} (looked in {}; it comes with {}): using the kernel's own kallsyms",
                        vmlinux::candidates(r)
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                        vmlinux::package_hint(r)
                    ));
                }
                found
            }
            (None, None) => None,
        };
        Ok(Kernel {
            dump: d,
            vmlinux,
            notices,
        })
    }

    pub fn dump(&self) -> &Dump {
        &self.dump
    }

    pub fn vmlinux(&self) -> Option<&Path> {
        self.vmlinux.as_deref()
    }

    pub fn notices(&self) -> &[String] {
        &self.notices
    }
}
