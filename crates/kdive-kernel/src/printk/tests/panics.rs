//! The panic message found in made-up logs.

use super::super::*;

fn recs(lines: &[&str]) -> Vec<LogRecord> {
    lines
        .iter()
        .map(|l| LogRecord {
            text: l.as_bytes().to_vec(),
            ..LogRecord::default()
        })
        .collect()
}

#[test]
fn panic_message_is_the_start_of_the_last_report() {
    let gp = "general protection fault, probably for non-canonical address 0xdead: 0000 [#1] PREEMPT SMP NOPTI";
    let cases: [(&[&str], Option<&str>); 9] = [
        (
            &[
                "Kernel panic - not syncing: sysrq triggered crash",
                "Kernel Offset: 0x36c00000",
                "---[ end Kernel panic - not syncing: sysrq triggered crash ]---",
            ],
            Some("Kernel panic - not syncing: sysrq triggered crash"),
        ),
        (
            &[
                "Kernel Offset: 0",
                "---[ end Kernel panic - not syncing: Attempted to kill init! ]---",
            ],
            Some("Kernel panic - not syncing: Attempted to kill init!"),
        ),
        (
            &["boot", "insmod: x", gp, "CPU: 1 PID: 50", "RIP: 0010:f+0x1"],
            Some(gp),
        ),
        (
            &[
                "boot",
                "BUG: kernel NULL pointer dereference, address: 0000000000000008",
                "#PF: supervisor read access in kernel mode",
                "PGD 0 P4D 0 ",
                "Oops: 0000 [#1] PREEMPT SMP NOPTI",
                "CPU: 1",
            ],
            Some("BUG: kernel NULL pointer dereference, address: 0000000000000008"),
        ),
        (
            &[
                "sysrq: Trigger a crash",
                "Kernel panic - not syncing: sysrq triggered crash",
                "CPU: 1",
            ],
            Some("Kernel panic - not syncing: sysrq triggered crash"),
        ),
        (
            &[
                "kernel BUG at mm/slub.c:42!",
                "invalid opcode: 0000 [#1] SMP",
                "Kernel panic - not syncing: Fatal exception",
            ],
            Some("kernel BUG at mm/slub.c:42!"),
        ),
        (
            &[
                "Oops: 0002 [#1] SMP",
                "Kernel panic - not syncing: Fatal exception in interrupt",
            ],
            Some("Oops: 0002 [#1] SMP"),
        ),
        (
            &["Internal error: Oops: 96000005 [#1] PREEMPT SMP"],
            Some("Internal error: Oops: 96000005 [#1] PREEMPT SMP"),
        ),
        (&["all is well", "Run /init as init process", "[#1]"], None),
    ];
    for (lines, want) in cases {
        assert_eq!(panic_message(&recs(lines)).as_deref(), want, "{lines:?}");
    }
}
