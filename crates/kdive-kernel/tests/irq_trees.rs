//! The interrupt descriptors kdive finds (radix tree `irq_desc_tree` on
//! 6.1, maple tree `sparse_irqs` on 6.5+) are those drgn's tree helpers
//! find, index for index, on every dump whose tree reads whole.

use std::process::Command;

use kdive_kernel::{Kernel, VmlinuxChoice};
use kdive_testkit::{allowed, drgn_python, repo_root, require};

#[test]
fn irq_descriptors_agree_with_drgn() {
    let python = match drgn_python() {
        Ok(p) => p,
        Err(e) if allowed("KDIVE_ALLOW_NO_DRGN") => {
            eprintln!("skipping: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let script = repo_root().join("tests/drgn/irq_descs.py");
    let mut compared = 0;
    for crash in require("irq_descriptors_agree_with_drgn") {
        let Some(path) = crash.variant("elf").or_else(|| crash.variant("kdump-zlib")) else {
            continue;
        };
        let Some(vmlinux) = kdive_testkit::vmlinux(crash.kernel.trim_start_matches("linux-"))
        else {
            continue;
        };
        let k = Kernel::open_with(path, VmlinuxChoice::None).unwrap();
        let ours = k.irq_descs().unwrap();
        let out = Command::new(&python)
            .arg(&script)
            .arg(path)
            .arg(&vmlinux)
            .output()
            .expect("run drgn");
        if out.status.code() == Some(3) {
            // drgn cannot read the tree: kdive must have said so too.
            assert!(
                !ours.notices.is_empty(),
                "{}: drgn: {}",
                crash.name(),
                String::from_utf8_lossy(&out.stderr)
            );
            eprintln!(
                "{}: the tree does not read whole; not compared",
                crash.name()
            );
            continue;
        }
        assert!(
            out.status.success(),
            "{}: {}",
            crash.name(),
            String::from_utf8_lossy(&out.stderr)
        );
        let nr = k.nr_irqs().unwrap();
        let theirs: Vec<(u64, u64)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let (i, a) = l.split_once(' ').unwrap();
                (
                    i.parse().unwrap(),
                    u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap(),
                )
            })
            .filter(|&(i, _)| i < nr)
            .collect();
        assert!(!theirs.is_empty(), "{}", crash.name());
        assert_eq!(ours.entries, theirs, "{}: {:?}", crash.name(), ours.notices);
        assert!(
            ours.notices.is_empty(),
            "{}: {:?}",
            crash.name(),
            ours.notices
        );
        eprintln!("{}: {} descriptors agree", crash.name(), theirs.len());
        compared += 1;
    }
    eprintln!("compared {compared} dumps");
}
