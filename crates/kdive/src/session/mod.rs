//! A crash-style session: commands read one a line from a file, from
//! standard input when it is not a terminal, or at a prompt; each runs
//! against the open kernel, and a failing command prints its error and the
//! session goes on.

pub mod alias;
pub mod complete;
pub mod interrupt;
pub mod pager;
pub mod redirect;
pub mod repl;
pub mod words;

use std::io::{self, BufRead, IsTerminal, Write};

pub use interrupt::interrupted;
use redirect::Redirect;

use kdive_kernel::Kernel;

use crate::commands;

/// The state a session keeps between commands.
pub struct Session {
    pub kernel: Kernel,
    /// What the walkers of the command running found and went past, for
    /// its JSON line ([`commands::tell`]).
    pub findings: std::cell::RefCell<Vec<kdive_kernel::Finding>>,
    /// Commands that failed, for the exit status of a batch run.
    pub failures: usize,
    /// Set by `q`/`quit`/`exit`.
    pub quit: bool,
    /// gdb's value history number, `$N` in `p`'s output.
    pub history: usize,
    /// The current task (`set`), by task address; `None`: the panic task.
    pub task: Option<u64>,
    /// The dump's path as given on the command line (`sys` shows it).
    pub dump_path: String,
    /// `--json` or `CMD --json`: commands that can, print JSON.
    pub json: bool,
    /// `set scroll on|off`: long output through a pager at a terminal.
    pub scroll: bool,
    /// `set radix 10|16`: the default base of `p` and `struct` values.
    pub radix: u32,
    /// The prompt is at a terminal: output may go through the pager.
    pub terminal: bool,
    /// `--minimal`: only the commands that need little of the dump.
    pub minimal: bool,
    pub aliases: alias::Aliases,
    /// What new aliases are marked as made by (the startup file running).
    pub alias_origin: alias::Origin,
    /// The line as typed, for the `command` of JSON output.
    typed: Option<String>,
}

/// A walker's finding as JSON: `{kind, address, text}`.
fn finding_json(f: &kdive_kernel::Finding) -> serde_json::Value {
    serde_json::json!({
        "kind": f.kind.name(),
        "address": f.addr.map(|a| format!("{a:#x}")),
        "text": f.text,
    })
}

/// Output that stops the command once Ctrl-C was pressed.
struct Checked<'a>(&'a mut dyn Write);

impl Write for Checked<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if interrupted() {
            return Err(io::Error::other(interrupt::INTERRUPTED));
        }
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Session {
    pub fn new(kernel: Kernel) -> Session {
        Session {
            kernel,
            findings: Default::default(),
            failures: 0,
            quit: false,
            history: 0,
            task: None,
            dump_path: String::new(),
            json: false,
            scroll: true,
            radix: 10,
            terminal: false,
            minimal: false,
            aliases: alias::Aliases::default(),
            alias_origin: alias::Origin::Runtime,
            typed: None,
        }
    }

    /// `FILE: LINE` of a kernel text address, as crash appends it.
    pub fn source_line(&self, addr: u64, _function_start: bool) -> Option<String> {
        self.kernel.source_line(addr).map(|l| l.to_string())
    }

    /// Run one command line, writing its output to `out` unless the line
    /// redirects it: aliases expanded, `!cmd`, `| cmd`, `> file`,
    /// `>> file`, `< file`.
    pub fn run_line(&mut self, line: &str, out: &mut dyn Write) {
        interrupt::clear();
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return;
        }
        self.typed = Some(line.to_string());
        let line = self.aliases.expand(line);
        if let Some(shell) = line.strip_prefix('!') {
            self.shell(shell, out);
            return;
        }
        match redirect::parse(&line) {
            (cmd, None) => match pager::terminal_rows().filter(|_| self.terminal && self.scroll) {
                Some(rows) => {
                    let mut p = pager::Pager::new(rows);
                    let r = self.exec(&cmd, &mut p);
                    let quit = p.quit;
                    p.finish();
                    if !quit {
                        self.report(r, out);
                    }
                }
                None => {
                    let r = self.exec(&cmd, out);
                    self.report(r, out);
                }
            },
            (cmd, Some(Redirect::Input(file))) => self.per_line(&cmd, &file, out),
            (cmd, Some(r)) => match redirect::Sink::open(&r) {
                Ok(mut sink) => {
                    let r = self.exec(&cmd, &mut sink);
                    sink.finish();
                    let closed = r
                        .as_ref()
                        .is_err_and(|e| e.ends_with("Broken pipe (os error 32)"));
                    if !closed {
                        self.report(r, out);
                    }
                }
                Err(e) => self.report(Err(e), out),
            },
        }
    }

    /// `CMD < FILE`: CMD once per line of FILE, the line's words appended.
    fn per_line(&mut self, cmd: &str, file: &str, out: &mut dyn Write) {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => return self.report(Err(format!("cannot read {file}: {e}")), out),
        };
        self.typed = None;
        for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if interrupted() || self.quit {
                break;
            }
            let r = self.exec(&format!("{cmd} {l}"), out);
            self.report(r, out);
        }
    }

    /// A failed command's error, after its output; counted for the exit
    /// status.
    fn report(&mut self, r: Result<(), String>, out: &mut dyn Write) {
        let _ = out.flush();
        if let Err(e) = r {
            self.failures += 1;
            eprintln!("{e}");
        }
    }

    /// Run one command (no redirection left in `line`); the error comes
    /// back prefixed with the command's name, as crash prints it.
    fn exec(&mut self, line: &str, out: &mut dyn Write) -> Result<(), String> {
        let mut out = Checked(out);
        let out: &mut dyn Write = &mut out;
        let mut words = words::split(line);
        // gdb's print formats: `p/x EXPR` is `px EXPR`, `p/d EXPR` is `pd`.
        if let Some(first) = words.first_mut() {
            match first.as_str() {
                "p/x" | "print/x" => *first = "px".into(),
                "p/d" | "print/d" => *first = "pd".into(),
                "print" => *first = "p".into(),
                _ => {}
            }
        }
        // `CMD --json`: this command's output as JSON.
        let json = self.json;
        if words.len() > 1 && words.iter().any(|w| w == "--json") {
            words.retain(|w| w != "--json");
            self.json = true;
        }
        if !self.json {
            return self.exec_words(&words, out);
        }
        let r = self.exec_json(line, &words, out);
        if !json {
            // Only `CMD --json` is undone: `set json off|on` stays.
            self.json = false;
        }
        r
    }

    /// A command in JSON mode: one line, `{"command": LINE, "result":
    /// VALUE}` or `{"command": LINE, "error": TEXT}`. A command with a view
    /// (`json` in its [`commands::Command`]) writes its value (one JSON document) to
    /// a buffer, wrapped here; one without is not run.
    fn exec_json(
        &mut self,
        line: &str,
        words: &[String],
        out: &mut dyn Write,
    ) -> Result<(), String> {
        let name = words
            .first()
            .map(|w| commands::find(w).map_or(w.as_str(), |c| c.name));
        let r = match name {
            None => Ok(serde_json::Value::Null),
            Some(n) if commands::find(n).is_some_and(|c| !c.json) => {
                Err(format!("no JSON view for {n} yet"))
            }
            Some(_) => {
                self.findings.borrow_mut().clear();
                let mut buf = Vec::new();
                let r = self.exec_words(words, &mut Checked(&mut buf));
                r.and_then(|()| {
                    let text = String::from_utf8_lossy(&buf);
                    if text.trim().is_empty() {
                        return Ok(serde_json::Value::Null);
                    }
                    serde_json::from_str(&text)
                        .map_err(|_| format!("no JSON view for {} yet", words.join(" ")))
                })
            }
        };
        let command = self.typed.take().unwrap_or_else(|| line.trim().to_string());
        let (v, r) = match r {
            Ok(v) => (
                serde_json::json!({ "command": command, "result": v }),
                Ok(()),
            ),
            Err(e) => {
                let e = e.strip_prefix("kdive: ").unwrap_or(&e);
                // An option without a view (`irq -s`) says so as a command
                // without one does, without the `CMD: ` of other errors.
                let e = match e.split_once(": ") {
                    Some((_, rest)) if rest.starts_with("no JSON view for ") => rest,
                    _ => e,
                }
                .to_string();
                self.failures += 1;
                (
                    serde_json::json!({ "command": command, "error": e }),
                    Ok(()),
                )
            }
        };
        let mut v = v;
        let findings = std::mem::take(&mut *self.findings.borrow_mut());
        if !findings.is_empty() {
            v["findings"] = findings.iter().map(finding_json).collect();
        }
        writeln!(out, "{v}").map_err(|e| e.to_string())?;
        let _ = out.flush();
        r
    }

    fn exec_words(&mut self, words: &[String], out: &mut dyn Write) -> Result<(), String> {
        let Some((name, args)) = words.split_first() else {
            return Ok(());
        };
        // As crash, a data type's name is a command too (`task_struct ADDR`).
        let (cmd, args) = match commands::find(name) {
            Some(cmd) => (cmd, args.to_vec()),
            None => match commands::types::datatype::session_command(self, words) {
                Some(found) => found,
                None => {
                    return Err(format!(
                        "kdive: command not found: {name}  (\"help\" lists the commands)"
                    ))
                }
            },
        };
        if !self.kernel.has_dump() && !cmd.without_dump {
            return Err(format!(
                "{}: needs a dump (kdive was given a vmlinux alone: dis, sym, whatis, struct, union, p, rd, eval work)",
                cmd.name
            ));
        }
        if self.minimal && !cmd.minimal {
            return Err(format!(
                "{}: not available in minimal mode (--minimal: {})",
                cmd.name,
                commands::minimal_names().join(", ")
            ));
        }
        let r = (cmd.run)(self, &args, out).map_err(|e| format!("{}: {e}", cmd.name));
        let _ = out.flush();
        r
    }

    /// `!cmd`: run a shell command.
    fn shell(&mut self, cmd: &str, out: &mut dyn Write) {
        let _ = out.flush();
        let status = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .status();
        if !status.is_ok_and(|s| s.success()) {
            self.failures += 1;
        }
    }

    /// Run every line of `input` (a file or a pipe).
    pub fn run_lines(&mut self, input: impl BufRead, out: &mut dyn Write) -> io::Result<()> {
        for line in input.lines() {
            self.run_line(&line?, out);
            if self.quit {
                break;
            }
        }
        Ok(())
    }

    /// Commands from standard input: at a terminal, the prompt; otherwise
    /// one a line, as crash reads them.
    pub fn run_stdin(&mut self) -> io::Result<()> {
        if io::stdin().is_terminal() {
            repl::run(self)
        } else {
            let mut out = io::BufWriter::new(io::stdout().lock());
            let r = self.run_lines(io::stdin().lock(), &mut out);
            out.flush()?;
            r
        }
    }
}
