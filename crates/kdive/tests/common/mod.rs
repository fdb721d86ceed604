//! Running kdive in batch mode for the per-task command tests.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kdive_testkit::Crash;

pub use kdive_testkit::sections;

/// What one kdive session printed.
pub struct Run {
    pub sections: BTreeMap<String, String>,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Run `cmds` in one kdive session, each output after crash's marker;
/// fails the test if kdive panics or runs longer than `limit` (a hang).
pub fn run_kdive(args: &[String], cmds: &[&str], limit: Duration) -> Run {
    let mut script = String::new();
    for c in cmds {
        script.push_str(&format!("!echo '@@@ crash> {c}'\n{c}\n"));
    }
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kdive");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    // Read both pipes on threads so a full pipe cannot stall kdive.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kdive {args:?} ran longer than {limit:?} on {cmds:?}: a hang?");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = t_out.join().unwrap();
    let err = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    assert!(!err.contains("panicked"), "kdive {args:?} panicked: {err}");
    Run {
        sections: sections(&String::from_utf8_lossy(&out)),
        stderr: err,
        elapsed: start.elapsed(),
    }
}

/// The dump's release (`6.1.0-47-cloud-amd64`).
pub fn release(c: &Crash) -> &str {
    c.kernel.strip_prefix("linux-").unwrap_or(&c.kernel)
}

/// The dump a crash's tests read: the kdump-zlib one crash.txt was made
/// from, else the first variant.
pub fn dump(c: &Crash) -> PathBuf {
    c.variant("kdump-zlib")
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| c.variants[0].1.clone())
}

/// kdive's arguments with the vmlinux (when installed) and without.
pub fn arg_sets(c: &Crash) -> Vec<Vec<String>> {
    let d = dump(c).display().to_string();
    let mut v = Vec::new();
    if let Some(vmlinux) = kdive_testkit::vmlinux(release(c)) {
        v.push(vec![vmlinux.display().to_string(), d.clone()]);
    }
    v.push(vec!["--no-vmlinux".to_string(), d]);
    v
}
