//! Finding the vmlinux that matches a dump, the way distributions install
//! debuginfo, and refusing one built from other sources or one that is not
//! the kernel's (see [`fit`]).

mod fit;

use std::path::{Path, PathBuf};

use kdive_arch::x86_64::Discovered;
use kdive_debuginfo::ElfFile;
use kdive_dump::Dump;

pub use fit::Unfit;
pub(crate) use fit::{kernel_symbols, Fit};

use crate::{show, KernelError, VmlinuxChoice};

/// Where distributions put a release's vmlinux with debuginfo, in the order
/// they are tried; under `$KDIVE_SYSROOT` when it is set (the crashed
/// machine's files copied elsewhere).
pub fn candidates(release: &str) -> Vec<PathBuf> {
    [
        // Debian and Ubuntu (linux-image-*-dbg, linux-image-*-dbgsym)
        format!("/usr/lib/debug/boot/vmlinux-{release}"),
        // Fedora, RHEL, CentOS (kernel-debuginfo)
        format!("/usr/lib/debug/lib/modules/{release}/vmlinux"),
        // SUSE, and kernels built by hand
        format!("/boot/vmlinux-{release}"),
        format!("/lib/modules/{release}/build/vmlinux"),
    ]
    .iter()
    .map(|p| under_sysroot(p))
    .collect()
}

/// An absolute path, under `$KDIVE_SYSROOT` when it is set (the crashed
/// machine's files copied elsewhere).
pub fn under_sysroot(path: &str) -> PathBuf {
    match std::env::var_os("KDIVE_SYSROOT").filter(|r| !r.is_empty()) {
        Some(r) => PathBuf::from(r).join(path.trim_start_matches('/')),
        None => PathBuf::from(path),
    }
}

/// The debuginfo package that provides a release's vmlinux, for messages.
pub fn package_hint(release: &str) -> String {
    format!(
        "linux-image-{release}-dbg (Debian), linux-image-{release}-dbgsym (Ubuntu) \
         or kernel-debuginfo-{release} (Fedora/RHEL)"
    )
}

/// The vmlinux `choice` names, checked against the dump: one given and
/// unfit is an error; one found and unfit is passed over, with a notice.
pub(crate) fn choose(
    dump: &Dump,
    found: &Discovered,
    choice: VmlinuxChoice<'_>,
    notices: &mut Vec<String>,
) -> Result<Option<Fit>, KernelError> {
    let fit = match choice {
        VmlinuxChoice::None => return Ok(None),
        VmlinuxChoice::Given(p) => fit::check(dump, found, ElfFile::open(p).map_err(Unfit::from)?)?,
        VmlinuxChoice::Find => match find(dump, found, notices) {
            Some(fit) => fit,
            None => return Ok(None),
        },
    };
    if let Some(why) = &fit.unchecked {
        notices.push(format!(
            "cannot check the vmlinux {} against the dump ({why})",
            show(fit.elf.path())
        ));
    }
    Ok(Some(fit))
}

/// The first candidate that is the dump's kernel, else the one debuginfod
/// has for the dump's build id.
fn find(dump: &Dump, found: &Discovered, notices: &mut Vec<String>) -> Option<Fit> {
    let Some(release) = dump.release() else {
        notices.push(
            "no vmlinux: the dump does not say its kernel release, so none was looked for (give one: kdive VMLINUX VMCORE)"
                .into(),
        );
        return None;
    };
    let paths = candidates(&release);
    for p in paths.iter().filter(|p| p.is_file()) {
        match ElfFile::open(p)
            .map_err(Unfit::from)
            .and_then(|elf| fit::check(dump, found, elf))
        {
            Ok(fit) => return Some(fit),
            Err(e) => notices.push(format!("{e}: not used")),
        }
    }
    // Said only when no server was asked and one could be.
    let mut hint = "";
    if let Some(id) = dump.vmcoreinfo().and_then(|v| v.get("BUILD-ID")) {
        match crate::debuginfod::debuginfo(id) {
            Ok(Some(p)) => {
                match ElfFile::open(&p)
                    .map_err(Unfit::from)
                    .and_then(|elf| fit::check(dump, found, elf))
                {
                    Ok(fit) => {
                        notices.push(format!("vmlinux from debuginfod: {}", show(&p)));
                        return Some(fit);
                    }
                    Err(e) => notices.push(format!("{e}: not used")),
                }
            }
            Ok(None) => hint = "; or set DEBUGINFOD_URLS",
            Err(e) => notices.push(format!("no vmlinux from debuginfod: {e}")),
        }
    }
    notices.push(format!(
        "no vmlinux for {release} (looked for {}; it comes with {}{hint}): using the kernel's own kallsyms and BTF from memory",
        paths.iter().map(|p| show(p)).collect::<Vec<_>>().join(", "),
        package_hint(&release)
    ));
    None
}

/// Whether a path looks like an ELF file (to tell `kdive VMLINUX VMCORE`
/// from `kdive VMCORE VMLINUX`: both are ELF, but a vmcore has no sections
/// and is of type ET_CORE).
pub fn elf_type(path: &Path) -> Option<u16> {
    use std::io::Read;
    let mut head = [0u8; 18];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    head.starts_with(b"\x7fELF")
        .then(|| u16::from_le_bytes([head[16], head[17]]))
}

/// ELF type of a core file.
pub const ET_CORE: u16 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_path_first() {
        let c = candidates("6.1.0-47-cloud-amd64");
        assert_eq!(
            c[0],
            PathBuf::from("/usr/lib/debug/boot/vmlinux-6.1.0-47-cloud-amd64")
        );
        assert!(c
            .iter()
            .any(|p| p == Path::new("/usr/lib/debug/lib/modules/6.1.0-47-cloud-amd64/vmlinux")));
    }
}
