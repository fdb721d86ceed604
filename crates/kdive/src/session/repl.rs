//! The interactive prompt: line editing, history kept across sessions
//! (`$XDG_STATE_HOME/kdive/history`, else `~/.kdive_history`), completion
//! (see `complete.rs`), Ctrl-C that stops the running command and leaves
//! the session alone, Ctrl-D or `q` to leave. Also the startup files run
//! before the first prompt.

use std::io::{self, Write};
use std::path::PathBuf;

use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::Editor;

use super::alias::Origin;
use super::complete::KdiveHelper;
use super::{interrupt, Session};

/// Where the prompt's history is kept.
pub fn history_path() -> Option<PathBuf> {
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(state).join("kdive");
        let _ = std::fs::create_dir_all(&dir);
        return Some(dir.join("history"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kdive_history"))
}

/// crash's `.crashrc` habit: `~/.kdiverc`, then `./.kdiverc`, each line a
/// command (typically `alias` and `set`), before the first prompt.
pub fn run_startup_files(s: &mut Session, out: &mut dyn Write) {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kdiverc"));
    let local = PathBuf::from(".kdiverc");
    let same = home.as_ref().is_some_and(|h| {
        std::fs::canonicalize(h).ok().is_some()
            && std::fs::canonicalize(h).ok() == std::fs::canonicalize(&local).ok()
    });
    let mut files = vec![];
    if let Some(h) = home {
        files.push((h, Origin::HomeRc));
    }
    if !same {
        files.push((local, Origin::LocalRc));
    }
    for (path, origin) in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        s.alias_origin = origin;
        for line in text.lines() {
            s.run_line(line, out);
            if s.quit {
                break;
            }
        }
    }
    s.alias_origin = Origin::Runtime;
}

/// The prompt loop, until `q` or end of input.
pub fn run(s: &mut Session) -> io::Result<()> {
    interrupt::install();
    s.terminal = true;
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .max_history_size(10_000)
        .map_err(io::Error::other)?
        .history_ignore_dups(true)
        .map_err(io::Error::other)?
        .auto_add_history(false)
        .build();
    let mut ed: Editor<KdiveHelper, DefaultHistory> =
        Editor::with_config(config).map_err(io::Error::other)?;
    ed.set_helper(Some(KdiveHelper::new(s)));
    let history = history_path();
    if let Some(h) = &history {
        let _ = ed.load_history(h);
    }
    let mut stdout = io::stdout();
    while !s.quit {
        match ed.readline("kdive> ") {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = ed.add_history_entry(line.as_str());
                    if let Some(h) = &history {
                        // After each line, so that a killed session keeps it.
                        let _ = ed.append_history(h);
                    }
                }
                s.run_line(&line, &mut stdout);
            }
            // Ctrl-C at the prompt: a fresh line, as a shell does.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                writeln!(stdout)?;
                break;
            }
            Err(e) => return Err(io::Error::other(e)),
        }
    }
    Ok(())
}
