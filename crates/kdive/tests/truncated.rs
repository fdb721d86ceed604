//! A real dump cut short still opens; what it lost reads as missing data,
//! never as an unmapped address, and the session goes on.

use std::io::Write;
use std::process::{Command, Stdio};

use kdive_testkit::require;

#[test]
fn truncated_dump_says_incomplete_not_invalid() {
    let Some(crash) = require("truncated_dump")
        .into_iter()
        .find(|c| c.variant("kdump-zlib").is_some())
    else {
        return;
    };
    let bytes = std::fs::read(crash.variant("kdump-zlib").unwrap()).unwrap();
    // Keep the headers, bitmaps and a little data: the kernel image is gone.
    let cut = std::env::temp_dir().join(format!("kdive-truncated-{}.vmcore", std::process::id()));
    std::fs::write(&cut, &bytes[..bytes.len() / 10]).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .arg(&cut)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"rd -64 jiffies\nsym schedule\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    std::fs::remove_file(&cut).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.status.success(), "a failed rd must fail the batch");
    assert!(
        stderr.contains("rd: page incomplete: kernel virtual address:"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("invalid kernel virtual address"),
        "{stderr}"
    );
    // The session went on to the next command.
    assert!(String::from_utf8_lossy(&out.stdout).contains("(T) schedule"));
}
