//! kdive at a terminal, driven as a person would through tmux (send-keys,
//! capture-pane): completion of commands, types and members; history kept
//! from one session to the next; the pager for long output, and quitting
//! it; Ctrl-C stopping a long command while the session goes on.
//! Skipped, with a message, when tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use kdive_testkit::require;

/// One tmux server of our own (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(tag: &str) -> Tmux {
        Tmux {
            socket: format!("kdive-test-{tag}-{}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Start `cmd` in a 120x30 window.
    fn start(&self, cmd: &str) {
        self.run(&["new-session", "-d", "-x", "120", "-y", "30", cmd]);
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "0"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Type `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "0", "-l", text]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "0"])
    }

    /// Wait until the screen satisfies `pred` (at most `secs`).
    fn wait(&self, secs: u64, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last non-empty line of the screen.
    fn last_line(&self) -> String {
        self.screen()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The shell command that starts kdive on `dump` with `home` as HOME.
fn kdive_cmd(home: &Path, dump: &Path) -> String {
    format!(
        "cd {h} && env -u XDG_STATE_HOME -u PAGER -u KDIVE_PAGER HOME={h} TERM=xterm {bin} {dump}",
        h = home.display(),
        bin = env!("CARGO_BIN_EXE_kdive"),
        dump = dump.display()
    )
}

fn at_prompt(s: &str) -> bool {
    s.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.trim_end() == "kdive>")
}

fn dump() -> Option<PathBuf> {
    let c = require("tmux").into_iter().find(|c| c.scenario == "slab")?;
    c.variant("kdump-zlib")
        .or(c.variants.first().map(|v| v.1.as_path()))
        .map(Path::to_path_buf)
}

#[test]
fn a_person_at_the_prompt() {
    if !have_tmux() {
        eprintln!("skipping: tmux is not installed (apt-get install tmux)");
        return;
    }
    let Some(dump) = dump() else { return };
    let home = std::env::temp_dir().join(format!("kdive-tmux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();

    // First session: the banner, completion, a command into the history.
    let t = Tmux::new("one");
    t.start(&kdive_cmd(&home, &dump));
    let s = t.wait(120, "the first prompt", at_prompt);
    assert!(s.contains("RELEASE:"), "the banner shows sys:\n{s}");
    t.type_text("stru");
    t.keys(&["Tab"]);
    t.wait(10, "command completion", |s| s.contains("kdive> struct"));
    t.type_text("task_stru");
    t.keys(&["Tab"]);
    t.wait(10, "type completion", |s| {
        s.contains("kdive> struct task_struct")
    });
    t.type_text(".real_p");
    t.keys(&["Tab"]);
    t.wait(10, "member completion", |s| {
        s.contains("kdive> struct task_struct.real_parent")
    });
    t.type_text(" init_task");
    t.keys(&["Enter"]);
    t.wait(20, "struct output", |s| {
        s.contains("real_parent = 0x") && at_prompt(s)
    });
    // File names after a redirection.
    std::fs::write(home.join("walkfile.txt"), "").unwrap();
    t.type_text("sym jiffies > walkf");
    t.keys(&["Tab"]);
    t.wait(10, "file name completion", |s| {
        s.contains("kdive> sym jiffies > walkfile.txt")
    });
    t.keys(&["C-u"]);
    t.type_text("sym jiffies");
    t.keys(&["Enter"]);
    t.wait(20, "sym output", |s| {
        s.contains("(D) jiffies") && at_prompt(s)
    });

    // The pager: log is longer than the screen; less stops at a screenful.
    t.type_text("log");
    t.keys(&["Enter"]);
    let pager = |s: &str| {
        let last = s.lines().last().unwrap_or("");
        s.contains("] Linux version")
            && !at_prompt(s)
            && !last.starts_with("kdive>")
            && s.lines().count() >= 30
    };
    t.wait(20, "the pager", pager);
    // It waits for the person: still there a second later.
    std::thread::sleep(Duration::from_secs(1));
    let s = t.screen();
    assert!(pager(&s), "the pager should wait at a full screen:\n{s}");
    t.keys(&["q"]);
    let s = t.wait(20, "the prompt after the pager", at_prompt);
    assert!(
        !s.contains("Broken pipe"),
        "quitting the pager is no error:\n{s}"
    );

    // Piped, long output goes to the pipe, not the pager.
    t.type_text("log | wc -l");
    t.keys(&["Enter"]);
    t.wait(20, "log | wc -l", |s| {
        let mut lines = s.lines().rev().filter(|l| !l.trim().is_empty());
        lines.next().is_some_and(|l| l.trim_end() == "kdive>")
            && lines
                .next()
                .is_some_and(|l| l.trim().parse::<u32>().is_ok_and(|n| n > 30))
    });

    // Ctrl-C stops a long search; the session goes on.
    // Many strings, each a pass over memory: long enough to interrupt.
    let many: Vec<String> = (0..40).map(|i| format!("kdive_nothing_{i}")).collect();
    t.type_text(&format!("search -c {}", many.join(" ")));
    t.keys(&["Enter"]);
    t.wait(20, "the progress bar", |s| s.contains("Ctrl-C stops"));
    let before = Instant::now();
    t.keys(&["C-c"]);
    let s = t.wait(10, "the prompt after Ctrl-C", at_prompt);
    assert!(
        before.elapsed() < Duration::from_secs(5),
        "Ctrl-C took {:?}",
        before.elapsed()
    );
    assert!(s.contains("search: interrupted"), "{s}");
    t.type_text("sym schedule");
    t.keys(&["Enter"]);
    t.wait(20, "a command after Ctrl-C", |s| {
        s.contains("(T) schedule") && at_prompt(s)
    });
    t.type_text("q");
    t.keys(&["Enter"]);
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end && !t.run(&["list-sessions"]).is_empty() {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(t);
    let history = std::fs::read_to_string(home.join(".kdive_history")).unwrap_or_default();
    assert!(history.contains("sym jiffies"), "history file:\n{history}");

    // Second session: the history of the first one is there.
    let t = Tmux::new("two");
    t.start(&kdive_cmd(&home, &dump));
    t.wait(120, "the second prompt", at_prompt);
    t.keys(&["Up"]);
    t.wait(10, "the last command", |s| s.contains("kdive> q"));
    t.keys(&["Up"]);
    t.wait(10, "the one before", |s| s.contains("kdive> sym schedule"));
    t.keys(&["C-u"]);
    t.type_text("q");
    t.keys(&["Enter"]);
    let _ = t.last_line();
}
