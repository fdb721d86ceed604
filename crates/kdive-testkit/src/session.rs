//! Running kdive in batch mode the way crash's transcripts were made: each
//! command's output after a line `@@@ crash> COMMAND`, so that kdive's
//! output and crash.txt split into the same sections.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// The sections of a transcript: command -> output. A marker may follow
/// output that had no final newline (`rd -a` ends so), so the text is split
/// on the marker itself.
pub fn sections(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in text.split("@@@ crash> ").skip(1) {
        let (cmd, body) = part.split_once('\n').unwrap_or((part, ""));
        out.insert(cmd.trim().to_string(), body.to_string());
    }
    out
}

/// What one kdive session printed.
#[derive(Debug, Clone)]
pub struct Marked {
    /// Each command's output (a command given twice: its last).
    pub sections: BTreeMap<String, String>,
    pub stderr: String,
    /// The exit status was 0 (no command failed).
    pub ok: bool,
}

/// Run `cmds` in one session of the kdive binary `bin` (a test's
/// `env!("CARGO_BIN_EXE_kdive")`) with `args`; fails the test if kdive
/// panicked. Both pipes are read on threads, so long output cannot stall.
pub fn run_marked(bin: &str, args: &[&str], cmds: &[&str]) -> Marked {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    run_marked_cmd(&mut cmd, cmds)
}

/// [`run_marked`] with a command set up by the caller: another working
/// directory, or crash itself (`crash -s VMLINUX VMCORE`, which takes the
/// same `!echo` markers).
pub fn run_marked_cmd(cmd: &mut Command, cmds: &[&str]) -> Marked {
    let script: String = cmds
        .iter()
        .map(|c| format!("!echo '@@@ crash> {c}'\n{c}\n"))
        .collect();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kdive");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let mut out = Vec::new();
    let _ = so.read_to_end(&mut out);
    let status = child.wait().expect("wait for kdive");
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    assert!(!stderr.contains("panicked"), "{cmd:?} panicked: {stderr}");
    Marked {
        sections: sections(&String::from_utf8_lossy(&out)),
        stderr,
        ok: status.success(),
    }
}
