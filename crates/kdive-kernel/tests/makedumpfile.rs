//! The start-up notice for a dump whose makedumpfile did not know its
//! kernel: given once exactly when the task list runs into pages the dump
//! left out (what the full task walk finds too), and never for the 6.1
//! dumps, which Debian's makedumpfile 1.7.2 writes right.

use kdive_kernel::{Kernel, VmlinuxChoice};

const NOTICE: &str = "pages of kernel structures are excluded from this dump";

fn before_6_2(release: &str) -> bool {
    let mut it = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0)) < (6, 2)
}

#[test]
fn told_once_when_the_task_list_meets_excluded_pages() {
    let mut told_on = Vec::new();
    for c in kdive_testkit::require("makedumpfile notice") {
        let release = c.kernel.trim_start_matches("linux-").to_string();
        for (variant, path) in &c.variants {
            let k = Kernel::open_with(path, VmlinuxChoice::None).unwrap();
            if k.dump().vmcoreinfo().is_none() {
                continue;
            }
            let name = format!("{}/{variant}", c.name());
            let told = k.notices().iter().filter(|n| n.contains(NOTICE)).count();
            assert!(told <= 1, "{name}: told {told} times");
            let list_broken =
                k.tasks().notices().iter().any(|n| {
                    n.text.starts_with("the task list") && n.text.contains("page excluded")
                });
            assert_eq!(
                told == 1,
                list_broken,
                "{name}: {:?} / {:?}",
                k.notices(),
                k.tasks().notices()
            );
            if before_6_2(&release) {
                assert_eq!(told, 0, "{name}");
            }
            if told == 1 {
                told_on.push(name);
            }
        }
    }
    eprintln!("told on {told_on:?}");
}
