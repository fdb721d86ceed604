//! A crash-style session: commands read one a line from a file, from
//! standard input when it is not a terminal, or at a prompt; each runs
//! against the open kernel, and a failing command prints its error and the
//! session goes on.

pub mod words;

use std::io::{self, BufRead, IsTerminal, Write};

use kdive_kernel::Kernel;

use crate::commands;

/// The state a session keeps between commands.
pub struct Session {
    pub kernel: Kernel,
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
}

impl Session {
    pub fn new(kernel: Kernel) -> Session {
        Session {
            kernel,
            failures: 0,
            quit: false,
            history: 0,
            task: None,
            dump_path: String::new(),
        }
    }

    /// `FILE: LINE` of a kernel text address, as crash appends it.
    pub fn source_line(&self, addr: u64, _function_start: bool) -> Option<String> {
        self.kernel.source_line(addr).map(|l| l.to_string())
    }

    /// Run one command line, writing its output to `out`.
    pub fn run_line(&mut self, line: &str, out: &mut dyn Write) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return;
        }
        if let Some(shell) = line.strip_prefix('!') {
            self.shell(shell, out);
            return;
        }
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
        let Some((name, args)) = words.split_first() else {
            return;
        };
        // As crash, a data type's name is a command too (`task_struct ADDR`).
        let (cmd, args) = match commands::find(name) {
            Some(cmd) => (cmd, args.to_vec()),
            None => match commands::datatype::session_command(self, &words) {
                Some(found) => found,
                None => {
                    self.failures += 1;
                    let _ = out.flush();
                    eprintln!("kdive: command not found: {name}  (\"help\" lists the commands)");
                    return;
                }
            },
        };
        if !self.kernel.has_dump() && !commands::works_without_dump(cmd.name) {
            self.failures += 1;
            let _ = out.flush();
            eprintln!(
                "{}: needs a dump (kdive was given a vmlinux alone: dis, sym, whatis, struct, union, p, rd, eval work)",
                cmd.name
            );
            return;
        }
        match (cmd.run)(self, &args, out) {
            Ok(()) => {}
            Err(e) => {
                self.failures += 1;
                // crash prints errors in the output stream, prefixed by the
                // command's name; keep them in order with the output.
                let _ = out.flush();
                eprintln!("{}: {e}", cmd.name);
            }
        }
        let _ = out.flush();
    }

    /// `!cmd`: run a shell command.
    fn shell(&mut self, cmd: &str, out: &mut dyn Write) {
        let _ = out.flush();
        let status = std::process::Command::new("/bin/sh").arg("-c").arg(cmd).status();
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

    /// The interactive prompt (line editing comes with the shell issue).
    pub fn interactive(&mut self) -> io::Result<()> {
        let stdin = io::stdin();
        let mut stdout = io::stdout();
        let mut line = String::new();
        while !self.quit {
            write!(stdout, "kdive> ")?;
            stdout.flush()?;
            line.clear();
            if stdin.lock().read_line(&mut line)? == 0 {
                writeln!(stdout)?;
                break;
            }
            self.run_line(&line, &mut stdout);
        }
        Ok(())
    }

    /// Commands from standard input: at a terminal, the prompt; otherwise
    /// one a line, as crash reads them.
    pub fn run_stdin(&mut self) -> io::Result<()> {
        if io::stdin().is_terminal() {
            self.interactive()
        } else {
            let mut out = io::BufWriter::new(io::stdout().lock());
            let r = self.run_lines(io::stdin().lock(), &mut out);
            out.flush()?;
            r
        }
    }
}
