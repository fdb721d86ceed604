//! Finding the vmlinux that matches a dump, the way distributions install
//! debuginfo, and refusing one built from other sources.

use std::path::{Path, PathBuf};

/// Where distributions put a release's vmlinux with debuginfo, in the order
/// they are tried; under `$KDIVE_SYSROOT` when it is set (the crashed
/// machine's files copied elsewhere).
pub fn candidates(release: &str) -> Vec<PathBuf> {
    let root = std::env::var_os("KDIVE_SYSROOT")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from);
    [
        // Debian and Ubuntu (linux-image-*-dbg, linux-image-*-dbgsym)
        format!("/usr/lib/debug/boot/vmlinux-{release}"),
        // Fedora, RHEL, CentOS (kernel-debuginfo)
        format!("/usr/lib/debug/lib/modules/{release}/vmlinux"),
        // SUSE, and kernels built by hand
        format!("/boot/vmlinux-{release}"),
        format!("/lib/modules/{release}/build/vmlinux"),
    ]
    .into_iter()
    .map(|p| match &root {
        Some(r) => r.join(p.trim_start_matches('/')),
        None => PathBuf::from(p),
    })
    .collect()
}

/// The debuginfo package that provides a release's vmlinux, for messages.
pub fn package_hint(release: &str) -> String {
    format!(
        "linux-image-{release}-dbg (Debian), linux-image-{release}-dbgsym (Ubuntu) \
         or kernel-debuginfo-{release} (Fedora/RHEL)"
    )
}

/// The first candidate that exists.
pub fn find(release: &str) -> Option<PathBuf> {
    candidates(release).into_iter().find(|p| p.is_file())
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
