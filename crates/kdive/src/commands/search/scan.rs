//! The matching half of `search`: values of 8, 4 or 2 bytes at their
//! alignment, under a mask of don't-care bits, and strings, which may
//! cross from one page into the next.

use std::io::{self, Write};

use indicatif::ProgressBar;

/// crash's `CHARS_CTX`: the bytes shown from a string match on.
const CHARS_CTX: usize = 56;

pub enum Target {
    /// `note`: what crash appends, `(symbol)` or `(expression)`.
    Value {
        value: u64,
        note: String,
    },
    Chars(Vec<u8>),
}

/// A match, kept for JSON: the word found, or the text shown for `-c`.
pub struct Found {
    pub address: u64,
    pub value: Option<u64>,
    pub text: Option<String>,
}

pub struct Matcher {
    targets: Vec<Target>,
    width: usize,
    mask: u64,
    bar: Option<ProgressBar>,
    /// The end of the last page read, when the next page continues it:
    /// strings that cross the boundary are found.
    tail: Vec<u8>,
    tail_end: u64,
    longest: usize,
    /// Printed before the next match (a task's header with `-t`).
    pub header: Option<String>,
    headers: usize,
    /// Every match, in order (the JSON view reads them).
    pub found: Vec<Found>,
}

impl Matcher {
    pub fn new(targets: Vec<Target>, width: usize, mask: u64, bar: Option<ProgressBar>) -> Matcher {
        let longest = targets
            .iter()
            .map(|t| match t {
                Target::Chars(c) => c.len(),
                Target::Value { .. } => 0,
            })
            .max()
            .unwrap_or(0);
        Matcher {
            targets,
            width,
            mask,
            bar,
            tail: Vec::new(),
            tail_end: 0,
            longest,
            header: None,
            headers: 0,
            found: Vec::new(),
        }
    }

    /// The next page does not continue the last one.
    pub fn break_run(&mut self) {
        self.tail.clear();
    }

    pub fn advance(&mut self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn done(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    /// Before a match: the progress bar goes (from then on the matches
    /// show the progress, and the bar would draw over a pager), and a
    /// pending task header is printed, after a blank line from the last.
    fn matched(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.done();
        if let Some(h) = self.header.take() {
            let blank = if self.headers > 0 { "\n" } else { "" };
            write!(out, "{blank}{h}")?;
            self.headers += 1;
        }
        Ok(())
    }

    /// Report the matches in `page`, read at `addr`.
    pub fn scan(&mut self, addr: u64, page: &[u8], out: &mut dyn Write) -> io::Result<()> {
        if self.longest > 0 {
            return self.scan_chars(addr, page, out);
        }
        let w = self.width;
        let skip = ((w as u64 - addr % w as u64) % w as u64) as usize;
        let mut i = skip;
        while i + w <= page.len() {
            let word = match w {
                8 => u64::from_le_bytes(page[i..i + 8].try_into().unwrap_or_default()),
                4 => u32::from_le_bytes(page[i..i + 4].try_into().unwrap_or_default()) as u64,
                _ => u16::from_le_bytes(page[i..i + 2].try_into().unwrap_or_default()) as u64,
            };
            for t in 0..self.targets.len() {
                let Target::Value { value, note } = &self.targets[t] else {
                    continue;
                };
                if word | self.mask == *value | self.mask {
                    let line = format!("{:x}: {word:x} {note}\n", addr + i as u64);
                    self.matched(out)?;
                    out.write_all(line.as_bytes())?;
                    self.found.push(Found {
                        address: addr + i as u64,
                        value: Some(word),
                        text: None,
                    });
                }
            }
            i += w;
        }
        Ok(())
    }

    fn scan_chars(&mut self, addr: u64, page: &[u8], out: &mut dyn Write) -> io::Result<()> {
        if self.tail_end != addr {
            self.tail.clear();
        }
        let held = self.tail.len();
        let mut all = std::mem::take(&mut self.tail);
        all.extend_from_slice(page);
        let base = addr - held as u64;
        // Where each string starts, found by its first byte, in address
        // order (then the order the strings were given).
        let mut hits: Vec<usize> = Vec::new();
        for t in &self.targets {
            let Target::Chars(c) = t else { continue };
            let Some(&first) = c.first() else { continue };
            let mut from = 0;
            while let Some(p) = all[from..].iter().position(|&b| b == first) {
                let i = from + p;
                from = i + 1;
                let end = i + c.len();
                // Wholly inside the held tail: reported with the last page.
                if end <= all.len() && end > held && all[i..end] == c[..] {
                    hits.push(i);
                }
            }
        }
        hits.sort();
        for i in hits {
            let shown: String = all[i..all.len().min(i + CHARS_CTX)]
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            self.matched(out)?;
            writeln!(out, "{:x}: {shown}", base + i as u64)?;
            self.found.push(Found {
                address: base + i as u64,
                value: None,
                text: Some(shown),
            });
        }
        let keep = self.longest.saturating_sub(1).min(all.len());
        self.tail = all[all.len() - keep..].to_vec();
        self.tail_end = addr + page.len() as u64;
        Ok(())
    }
}
