//! Shared by the tests on real kernels: finding the vmlinux of a release.

#![allow(dead_code)]

use std::path::PathBuf;

/// The release of the kernel the corpus and the Debian debug package have.
pub const RELEASE: &str = "6.1.0-47-cloud-amd64";

/// The vmlinux with debuginfo of `release` (see `kdive_testkit::vmlinux`).
pub fn vmlinux(release: &str) -> Option<PathBuf> {
    kdive_testkit::vmlinux(release)
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
