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
    let out = std::process::Command::new("nm")
        .arg("-n")
        .arg(path)
        .output()
        .ok()?;
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

/// The kernel image's virtual addresses, read through their physical ones
/// (no page tables needed): `__START_KERNEL_map + off` is `phys_base + off`.
pub struct ImageMemory<'d> {
    dump: &'d kdive_dump::Dump,
    phys_base: u64,
}

impl<'d> ImageMemory<'d> {
    pub fn new(dump: &'d kdive_dump::Dump) -> Self {
        let phys_base = dump.phys_base().expect("phys_base");
        ImageMemory { dump, phys_base }
    }
}

impl kdive_dump::Memory for ImageMemory<'_> {
    fn read(&self, vaddr: u64, buf: &mut [u8]) -> Result<(), kdive_dump::MemError> {
        const START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
        let off =
            vaddr
                .checked_sub(START_KERNEL_MAP)
                .ok_or_else(|| kdive_dump::MemError::Invalid {
                    vaddr,
                    why: "not in the kernel image".into(),
                })?;
        // phys_base is negative when the kernel runs below its link address.
        let paddr = off.wrapping_add(self.phys_base);
        self.dump
            .read_phys(paddr, buf)
            .map_err(|source| kdive_dump::MemError::Physical { paddr, source })
    }
}
