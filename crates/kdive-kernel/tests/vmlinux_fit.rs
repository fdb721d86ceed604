//! A vmlinux given for a real dump is refused when it is not the dump's
//! kernel: a BTF-only one (linux-headers'), one of another build (build
//! id), one whose `linux_banner` differs (no build id to compare).

use std::path::PathBuf;

use kdive_kernel::vmlinux::Unfit;
use kdive_kernel::{Kernel, KernelError, VmlinuxChoice};
use kdive_testkit::elf::{self, ElfWriter};

/// A made-up vmlinux with a kernel's symbols (at no real addresses), a
/// `.rodata` holding `banner` at `linux_banner`, and `build_id` if given.
fn vmlinux(build_id: Option<&[u8]>, banner: &str) -> Vec<u8> {
    let mut w = ElfWriter::new();
    let text = w.section(
        ".text",
        elf::SHT_PROGBITS,
        elf::SHF_ALLOC | elf::SHF_EXECINSTR,
        0xffff_ffff_8100_0000,
        &[0xc3; 0x1000],
    );
    let mut ro = banner.as_bytes().to_vec();
    ro.push(0);
    let rodata = w.section(
        ".rodata",
        elf::SHT_PROGBITS,
        elf::SHF_ALLOC,
        0xffff_ffff_8200_0000,
        &ro,
    );
    if let Some(id) = build_id {
        w.build_id(id);
    }
    w.symbol("_stext", 0xffff_ffff_8100_0000, 0, elf::FUNC, text);
    w.symbol(
        "linux_banner",
        0xffff_ffff_8200_0000,
        ro.len() as u64,
        elf::OBJECT,
        rodata,
    );
    w.symbol("init_task", 0xffff_ffff_8200_0000, 0, elf::OBJECT, rodata);
    for i in 0..1200u64 {
        w.symbol(
            &format!("f{i}"),
            0xffff_ffff_8100_0000 + i,
            1,
            elf::FUNC,
            text,
        );
    }
    w.finish(elf::ET_EXEC)
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("kdive-fit-{name}-{}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

fn dump() -> Option<PathBuf> {
    kdive_testkit::require("vmlinux fit")
        .into_iter()
        .find_map(|c| c.variant("kdump-zlib").map(PathBuf::from))
}

fn open(vmlinux: &[u8], name: &str) -> Result<Kernel, KernelError> {
    let p = write(name, vmlinux);
    let r = Kernel::open_with(&dump().unwrap(), VmlinuxChoice::Given(&p));
    let _ = std::fs::remove_file(p);
    r
}

#[test]
fn btf_only_is_not_the_kernel() {
    if dump().is_none() {
        return;
    }
    match open(&elf::btf_only_vmlinux(&[0x9f, 0xeb, 1, 0]), "btf") {
        Err(KernelError::Unfit(Unfit::NotKernel { count, missing, .. })) => {
            assert_eq!(missing, "_stext");
            assert!(count < 1000, "{count}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a BTF-only vmlinux taken as the kernel's"),
    }
}

#[test]
fn another_build_is_refused() {
    if dump().is_none() {
        return;
    }
    match open(
        &vmlinux(Some(&[0xab; 20]), "Linux version 0.0\n"),
        "buildid",
    ) {
        Err(KernelError::Unfit(Unfit::BuildId { found, .. })) => assert_eq!(found, "ab".repeat(20)),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a vmlinux of another build taken"),
    }
}

#[test]
fn another_banner_is_refused() {
    if dump().is_none() {
        return;
    }
    // No build id: the banner decides. The made-up symbols sit at link-time
    // addresses where the dump's kernel has other bytes.
    match open(
        &vmlinux(None, "Linux version 0.0 (nobody@nowhere)\n"),
        "banner",
    ) {
        Err(KernelError::Unfit(Unfit::Banner { found, .. })) => {
            assert_eq!(found, "Linux version 0.0 (nobody@nowhere)")
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a vmlinux with another banner taken"),
    }
}

#[test]
fn btf_only_alone_is_not_a_kernel_image() {
    let p = write("image", &elf::btf_only_vmlinux(&[0x9f, 0xeb, 1, 0]));
    let r = Kernel::open_image(&p);
    let _ = std::fs::remove_file(&p);
    assert!(
        matches!(r, Err(KernelError::Unfit(Unfit::NotKernel { .. }))),
        "{:?}",
        r.err()
    );
}
