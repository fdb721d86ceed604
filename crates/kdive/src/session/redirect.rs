//! crash's output redirection: `CMD | SHELL-COMMAND` pipes the output to the
//! shell, `CMD > FILE` writes it to FILE, `CMD >> FILE` appends. `CMD < FILE`
//! runs the command once per line of FILE, the line's words appended as
//! arguments. The operators count outside quotes and parentheses only, and
//! `->` is C's member arrow, not a redirection.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

/// Where a command line sends its output, or takes its argument lines from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    Pipe(String),
    Write(String),
    Append(String),
    Input(String),
}

/// Split `line` into the command and its redirection, if any.
pub fn parse(line: &str) -> (String, Option<Redirect>) {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut depth = 0i32;
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'(' | b'[') => depth += 1,
            (None, b')' | b']') => depth -= 1,
            (None, b'|' | b'>' | b'<') if depth <= 0 => {
                if b == b'>' && i > 0 && bytes[i - 1] == b'-' {
                    continue;
                }
                // `<<`, `>=`, `<=`, `||`: C operators in an expression.
                let next = bytes.get(i + 1).copied();
                if b == b'<' && matches!(next, Some(b'<' | b'=')) || b == b'|' && next == Some(b'|')
                {
                    return (line.to_string(), None);
                }
                let cmd = line[..i].trim_end().to_string();
                let (target, kind): (&str, fn(String) -> Redirect) = match b {
                    b'|' => (&line[i + 1..], Redirect::Pipe),
                    b'>' if next == Some(b'>') => (&line[i + 2..], Redirect::Append),
                    b'>' => (&line[i + 1..], Redirect::Write),
                    _ => (&line[i + 1..], Redirect::Input),
                };
                return (cmd, Some(kind(target.trim().to_string())));
            }
            _ => {}
        }
    }
    (line.to_string(), None)
}

/// The writer a redirection gives, and what to wait for when it is done.
pub enum Sink {
    File(io::BufWriter<File>),
    Pipe(Child, Option<ChildStdin>),
}

impl Sink {
    pub fn open(r: &Redirect) -> Result<Sink, String> {
        match r {
            Redirect::Write(f) | Redirect::Append(f) if f.is_empty() => {
                Err("no file named after the redirection".into())
            }
            Redirect::Write(f) => File::create(f)
                .map(|f| Sink::File(io::BufWriter::new(f)))
                .map_err(|e| format!("cannot write {f}: {e}")),
            Redirect::Append(f) => OpenOptions::new()
                .append(true)
                .create(true)
                .open(f)
                .map(|f| Sink::File(io::BufWriter::new(f)))
                .map_err(|e| format!("cannot append to {f}: {e}")),
            Redirect::Pipe(cmd) if cmd.is_empty() => Err("no command after |".into()),
            Redirect::Pipe(cmd) => {
                let mut child = Command::new("/bin/sh")
                    .arg("-c")
                    .arg(cmd)
                    .stdin(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot run {cmd}: {e}"))?;
                let stdin = child.stdin.take();
                Ok(Sink::Pipe(child, stdin))
            }
            Redirect::Input(_) => Err("input redirection is not an output".into()),
        }
    }

    /// Flush, close the pipe and wait for the shell command to end.
    pub fn finish(self) {
        match self {
            Sink::File(mut f) => {
                let _ = f.flush();
            }
            Sink::Pipe(mut child, stdin) => {
                drop(stdin);
                let _ = child.wait();
            }
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::File(f) => f.write(buf),
            Sink::Pipe(_, Some(p)) => p.write(buf),
            Sink::Pipe(_, None) => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Pipe(_, Some(p)) => p.flush(),
            Sink::Pipe(_, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, Redirect};

    #[test]
    fn operators_outside_quotes_and_arrows() {
        assert_eq!(
            parse("ps | grep bash").1,
            Some(Redirect::Pipe("grep bash".into()))
        );
        assert_eq!(
            parse("log > /tmp/x").1,
            Some(Redirect::Write("/tmp/x".into()))
        );
        assert_eq!(
            parse("log >> /tmp/x").1,
            Some(Redirect::Append("/tmp/x".into()))
        );
        assert_eq!(parse("bt < pids").1, Some(Redirect::Input("pids".into())));
        assert_eq!(parse("ps | grep bash").0, "ps");
        assert_eq!(parse("p init_task->pid").1, None);
        assert_eq!(parse("p (a > b)").1, None);
        assert_eq!(parse("search -c \"a|b\"").1, None);
        assert_eq!(parse("p 1 << 3").1, None);
        assert_eq!(
            parse("p init_task->comm | od -c").1,
            Some(Redirect::Pipe("od -c".into()))
        );
    }
}
