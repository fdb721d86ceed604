//! A dump with no VMCOREINFO (QEMU's `dump-guest-memory` of a guest
//! without the vmcoreinfo device): the layout comes from the CPU state and
//! the page tables, the vmlinux is checked by its banner, and its symbols,
//! moved by the KASLR offset found, read the right memory.

use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::{allowed, require};

#[test]
fn qemu_dump_opens_with_its_vmlinux() {
    let mut seen = 0;
    for crash in require("qemu_dump_opens_with_its_vmlinux") {
        let Some(path) = crash
            .variant("qemu-elf")
            .or(crash.variant("qemu-kdump-zlib"))
        else {
            continue;
        };
        let release = crash.kernel.trim_start_matches("linux-");
        let Some(vmlinux) = kdive_testkit::vmlinux(release) else {
            continue;
        };
        let k = Kernel::open_with(path, VmlinuxChoice::Given(&vmlinux)).unwrap();
        assert!(k.dump().vmcoreinfo().is_none());
        assert!(
            k.kernel_offset() % (2 << 20) == 0,
            "KASLR offset {:#x}",
            k.kernel_offset()
        );
        let banner = k.read_cstr(k.symbol("linux_banner").unwrap(), 512).unwrap();
        assert!(
            banner.starts_with("Linux version ") && banner.contains(release),
            "{banner}"
        );
        // init_uts_ns.name.release: struct new_utsname is 6 fields of 65.
        let uts = k.symbol("init_uts_ns").unwrap();
        let found = (0..64u64).step_by(4).any(|off| {
            k.read_cstr(uts + off + 2 * 65, 65)
                .is_ok_and(|r| r == release)
        });
        assert!(found, "{}: release not found in init_uts_ns", crash.name());
        // The panicking CPU is known from memory alone.
        assert!(k.panic_cpu().is_some(), "{}: no panic_cpu", crash.name());
        seen += 1;
    }
    if seen == 0 && !allowed("KDIVE_ALLOW_NO_VARIANTS") {
        panic!("no QEMU dump in the corpus: build one with scripts/mkcorpus.sh qemu");
    }
}
