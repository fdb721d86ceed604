//! Shared by the tests on real kernels: finding the vmlinux of a release.

#![allow(dead_code)]

use std::path::PathBuf;

/// The release of the kernel the corpus and the Debian debug package have.
pub const RELEASE: &str = "6.1.0-47-cloud-amd64";

/// The vmlinux with debuginfo of `release`, where Debian installs it (or
/// where `KDIVE_VMLINUX_DIR` says). `None`, with a message, when it is not
/// installed and `KDIVE_ALLOW_NO_VMLINUX=1`; a failed test otherwise.
pub fn vmlinux(release: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("KDIVE_VMLINUX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/debug/boot"));
    let p = dir.join(format!("vmlinux-{release}"));
    if p.is_file() {
        return Some(p);
    }
    if std::env::var_os("KDIVE_ALLOW_NO_VMLINUX").is_some_and(|v| v == "1") {
        eprintln!("skipping: no {} (KDIVE_ALLOW_NO_VMLINUX=1)", p.display());
        return None;
    }
    panic!(
        "{} is not installed: apt-get install linux-image-{release}-dbg, \
         or set KDIVE_ALLOW_NO_VMLINUX=1 to skip the comparison",
        p.display()
    );
}

/// `nm -n`'s listing of a file as `(addr, kind, name)`, if `nm` runs.
pub fn nm(path: &std::path::Path) -> Option<Vec<(u64, char, String)>> {
    let out = std::process::Command::new("nm").arg("-n").arg(path).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                let addr = u64::from_str_radix(it.next()?, 16).ok()?;
                let kind = it.next()?.chars().next()?;
                Some((addr, kind, it.next()?.to_string()))
            })
            .collect(),
    )
}
