//! The compressed names of kallsyms (`kallsyms_names`).
//!
//! Each symbol is an entry of a token count then that many token numbers;
//! a token number indexes `kallsyms_token_index`, which gives the offset of
//! a NUL-terminated string in `kallsyms_token_table`. The first character
//! of the expanded entry is the symbol's `nm` kind, the rest its name.
//!
//! The count is one byte, except since Linux 6.1 (73bbb94466fd "kallsyms:
//! support big kernel symbols") where a first byte with the high bit set
//! is followed by a second one: count = (b0 & 0x7f) | b1 << 7. Nothing
//! marks which format a kernel uses; they differ only for entries of 128
//! tokens or more. When such an entry exists, the format whose walk ends
//! exactly at `kallsyms_markers` (the table after the names, holding the
//! offset of every 256th entry) is the right one.

use super::memory::{Reader, Table};
use super::KallsymsError;

/// The 256 tokens, expanded.
pub struct Tokens(Vec<Vec<u8>>);

impl Tokens {
    pub fn read(mem: &mut Reader<'_>, table: u64, index: u64) -> Result<Tokens, KallsymsError> {
        let raw = mem.exact("kallsyms_token_index", index, 512)?;
        let offs: Vec<usize> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as usize)
            .collect();
        let max = offs.iter().copied().max().unwrap_or(0);
        // Tokens are short; read past the last one's start until its NUL.
        let mut want = max + 256;
        let bytes = loop {
            let b = mem.prefix("kallsyms_token_table", table, want)?;
            if b.get(max..).is_some_and(|t| t.contains(&0)) {
                break b;
            }
            if b.len() < want || want > 1 << 16 {
                return Err(KallsymsError::Bad(
                    "kallsyms_token_table: last token has no end".into(),
                ));
            }
            want *= 2;
        };
        let tokens = offs
            .iter()
            .map(|&o| {
                let t = &bytes[o..];
                t[..t.iter().position(|&b| b == 0).unwrap_or(t.len())].to_vec()
            })
            .collect();
        Ok(Tokens(tokens))
    }

    /// Expand an entry's token numbers into `out` (cleared first).
    pub fn expand(&self, entry: &[u8], out: &mut Vec<u8>) {
        out.clear();
        for &t in entry {
            out.extend_from_slice(&self.0[t as usize]);
        }
    }
}

/// Where each entry's tokens are in the names table.
pub struct Entries {
    /// `(offset of the entry's first byte, offset of its tokens, count)`.
    pub spans: Vec<(u32, u32, u32)>,
    /// One past the last entry.
    pub end: usize,
    /// Some count's first byte had its high bit set: the two formats differ.
    pub ambiguous: bool,
}

/// Walk `n` entries, reading two-byte counts if `long`.
pub fn walk(
    names: &mut Table,
    mem: &mut Reader<'_>,
    n: usize,
    long: bool,
) -> Result<Entries, KallsymsError> {
    let mut spans = Vec::with_capacity(n);
    let mut off = 0usize;
    let mut ambiguous = false;
    for _ in 0..n {
        if names.bytes.len() < off + 1 {
            names.want(mem, off + 1)?;
        }
        let b0 = names.bytes[off] as usize;
        let (count, head) = if b0 & 0x80 != 0 {
            ambiguous = true;
            if long {
                if names.bytes.len() < off + 2 {
                    names.want(mem, off + 2)?;
                }
                ((b0 & 0x7f) | (names.bytes[off + 1] as usize) << 7, 2)
            } else {
                (b0, 1)
            }
        } else {
            (b0, 1)
        };
        let end = off + head + count;
        if names.bytes.len() < end {
            names.want(mem, end)?;
        }
        spans.push((off as u32, (off + head) as u32, count as u32));
        off = end;
    }
    Ok(Entries {
        spans,
        end: off,
        ambiguous,
    })
}

/// Whether `kallsyms_markers` follows the walked entries: within a few
/// bytes of alignment after them, 32-bit (or, in old kernels, 64-bit)
/// offsets of entries 0, 256, 512...
pub fn markers_match(
    names: &mut Table,
    mem: &mut Reader<'_>,
    names_addr: u64,
    e: &Entries,
) -> bool {
    let want: Vec<u64> = e
        .spans
        .iter()
        .step_by(256)
        .map(|s| u64::from(s.0))
        .collect();
    let start = (names_addr + e.end as u64).next_multiple_of(4) - names_addr;
    for pad in [0u64, 4] {
        for width in [4usize, 8] {
            let at = (start + pad) as usize;
            if names.want(mem, at + width * want.len()).is_err() {
                continue;
            }
            let got = names.bytes[at..at + width * want.len()]
                .chunks_exact(width)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b[..width].copy_from_slice(c);
                    u64::from_le_bytes(b)
                });
            if got.eq(want.iter().copied()) {
                return true;
            }
        }
    }
    false
}
