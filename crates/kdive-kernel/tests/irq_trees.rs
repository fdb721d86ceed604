//! The interrupt descriptors kdive finds (radix tree `irq_desc_tree` on
//! 6.1, maple tree `sparse_irqs` on 6.5+) are those drgn's tree helpers
//! find, index for index, on every dump whose tree reads whole, and their
//! affinity masks (`irq -a`) hold the same CPUs.

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
        // (irq, descriptor, its CPUs when it has an action)
        let lines: Vec<(u64, u64, Option<String>)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let mut f = l.split(' ');
                let i = f.next().unwrap().parse().unwrap();
                let a =
                    u64::from_str_radix(f.next().unwrap().trim_start_matches("0x"), 16).unwrap();
                let cpus = f.next().filter(|c| *c != "-").map(String::from);
                (i, a, cpus)
            })
            .filter(|&(i, _, _)| i < nr)
            .collect();
        let theirs: Vec<(u64, u64)> = lines.iter().map(|&(i, a, _)| (i, a)).collect();
        // The affinity of each descriptor with an action.
        for (i, desc, cpus) in &lines {
            let Some(cpus) = cpus else { continue };
            let ours: Vec<String> = k
                .irq_affinity(*desc)
                .unwrap()
                .iter()
                .map(|c| c.to_string())
                .collect();
            assert_eq!(&ours.join(","), cpus, "{}: irq {i}", crash.name());
        }
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
