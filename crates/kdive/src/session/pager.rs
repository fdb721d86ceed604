//! crash's `scroll`: at a terminal, a command's output longer than the
//! screen goes through a pager (`$KDIVE_PAGER`, else `$PAGER`, else
//! `less -E -X`, which leaves the text on the screen and quits at its end).
//! Output that fits is printed as it is, with no pager started. Never used
//! when the output is piped or redirected.

use std::io::{self, IsTerminal, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The pager command line.
pub fn pager_command() -> String {
    ["KDIVE_PAGER", "PAGER"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less -E -X".to_string())
}

/// The terminal's height in lines, when standard output is one.
pub fn terminal_rows() -> Option<usize> {
    if !io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ fills a winsize; the struct is plain data.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_row > 0).then_some(ws.ws_row as usize)
}

/// Output held back until it is known to be longer than the screen; then
/// the pager gets it, and the rest as it comes.
pub struct Pager {
    rows: usize,
    held: Vec<u8>,
    lines: usize,
    child: Option<(Child, Option<ChildStdin>)>,
    /// The person quit the pager before the output's end.
    pub quit: bool,
}

impl Pager {
    pub fn new(rows: usize) -> Pager {
        Pager {
            rows,
            held: Vec::new(),
            lines: 0,
            child: None,
            quit: false,
        }
    }

    fn start(&mut self) -> io::Result<()> {
        let cmd = pager_command();
        let spawned = Command::new("/bin/sh")
            .arg("-c")
            .arg(&cmd)
            .stdin(Stdio::piped())
            .spawn();
        match spawned {
            Ok(mut child) => {
                let mut stdin = child.stdin.take();
                if let Some(p) = stdin.as_mut() {
                    p.write_all(&self.held)?;
                }
                self.child = Some((child, stdin));
            }
            // No pager: print straight through.
            Err(_) => {
                io::stdout().write_all(&self.held)?;
                self.rows = usize::MAX;
            }
        }
        self.held = Vec::new();
        Ok(())
    }

    /// Print what is held and wait for the pager to end.
    pub fn finish(mut self) {
        match self.child.take() {
            Some((mut child, stdin)) => {
                drop(stdin);
                let _ = child.wait();
            }
            None => {
                let mut o = io::stdout();
                let _ = o.write_all(&self.held);
                let _ = o.flush();
            }
        }
    }
}

impl Write for Pager {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some((_, stdin)) = self.child.as_mut() {
            let r = match stdin {
                Some(p) => p.write(buf),
                None => Err(io::ErrorKind::BrokenPipe.into()),
            };
            if r.as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                self.quit = true;
            }
            return r;
        }
        if self.rows == usize::MAX {
            return io::stdout().write(buf);
        }
        self.held.extend_from_slice(buf);
        self.lines += buf.iter().filter(|&&b| b == b'\n').count();
        // One line is kept for the prompt that follows.
        if self.lines >= self.rows.saturating_sub(1) {
            self.start()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.child.as_mut() {
            Some((_, Some(p))) => p.flush(),
            Some((_, None)) => Ok(()),
            None if self.rows == usize::MAX => io::stdout().flush(),
            None => Ok(()),
        }
    }
}
