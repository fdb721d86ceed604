//! From the token tables to the rest of kallsyms, for the scan.
//!
//! `scripts/kallsyms` writes the tables in one `.rodata` block, each label
//! aligned (8 bytes; 4 since 7.0), in one of two orders:
//!
//! - up to 6.3 (5.10, 6.1): `kallsyms_offsets` (or `kallsyms_addresses`),
//!   `kallsyms_relative_base`, `kallsyms_num_syms`, `kallsyms_names`,
//!   `kallsyms_markers`, `kallsyms_seqs_of_names` (6.2, 6.3 and stable
//!   backports such as Debian's 6.1: three bytes a symbol, first four),
//!   `kallsyms_token_table`, `kallsyms_token_index`;
//! - since 6.4 (6.12, 7.0): `kallsyms_num_syms`, `kallsyms_names`,
//!   `kallsyms_markers`, `kallsyms_token_table`, `kallsyms_token_index`,
//!   `kallsyms_offsets`, `kallsyms_relative_base` (gone in 7.0),
//!   `kallsyms_seqs_of_names`.
//!
//! So the markers end right before the token table, or the seqs (n times 3
//! or 4 bytes) after them do. The markers (u32 in 5.10, unsigned long like
//! the count in older kernels such as 4.14) are 0 then increasing offsets,
//! one per 256 names; the names end at the markers; the count comes before
//! the names. Addresses are then right after the token index or right
//! before the count.

use std::ops::RangeInclusive;

use super::memory::Reader;
use super::MAX_SYMS;

/// Most bytes an entry of `kallsyms_names` takes: a two-byte count and a
/// name of KSYM_NAME_LEN (512) tokens.
const MAX_ENTRY: u64 = 2 + 512;
/// Most bytes 256 entries take.
const MAX_BLOCK: u64 = 256 * MAX_ENTRY;
/// The windows before the token table searched for the markers, in turn:
/// right before it, then as far as the largest seqs table reaches.
const WINDOWS: [u64; 4] = [64 << 10, 1 << 20, 4 << 20, 4 * MAX_SYMS + (64 << 10)];
/// At most this many candidate marker tables are followed up.
const MAX_CANDIDATES: usize = 256;

/// Where the count and the names could be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesAt {
    /// `kallsyms_num_syms`.
    pub num_syms: u64,
    /// `kallsyms_names`.
    pub names: u64,
    /// The count read there.
    pub n: usize,
}

/// Where the addresses could be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressTables {
    pub offsets: Option<u64>,
    pub relative_base: Option<u64>,
    pub addresses: Option<u64>,
}

/// A candidate `kallsyms_markers`.
struct Markers {
    addr: u64,
    values: Vec<u64>,
    /// The symbol counts it fits.
    n: RangeInclusive<u64>,
}

/// The count and names that fit before the token table at `table`: the
/// markers nearest it first.
pub fn names_candidates(mem: &mut Reader<'_>, table: u64) -> Vec<NamesAt> {
    let mut out = Vec::new();
    let (mut ws, mut win) = (table, Vec::new());
    for w in WINDOWS {
        let lower = table.saturating_sub(w) & !7;
        if lower >= ws {
            continue;
        }
        let (mut more, _) = mem.pages(lower, (ws - lower) as usize);
        more.extend_from_slice(&win);
        let searched = ws;
        (ws, win) = (lower, more);
        for m in markers_in(&win, ws, table, searched) {
            out.extend(names_for(mem, &m));
        }
        if !out.is_empty() {
            break;
        }
    }
    out
}

/// Candidate markers starting below `below` in `win` (at `ws`), nearest
/// first, that end where the token table `table` (or seqs before it) can
/// start.
fn markers_in(win: &[u8], ws: u64, table: u64, below: u64) -> Vec<Markers> {
    let mut out = Vec::new();
    let limit = ((below - ws) as usize).min(win.len());
    for p in (0..limit).rev().filter(|p| (ws + *p as u64) % 4 == 0) {
        for width in [4usize, 8] {
            let val = |q: usize| -> Option<u64> {
                let mut b = [0u8; 8];
                b[..width].copy_from_slice(win.get(q..q + width)?);
                Some(u64::from_le_bytes(b))
            };
            if val(p) != Some(0) {
                continue;
            }
            let mut values = vec![0u64];
            while (values.len() as u64) < MAX_SYMS / 256 {
                let prev = values[values.len() - 1];
                match val(p + width * values.len()) {
                    Some(v) if v > prev && (512..=MAX_BLOCK).contains(&(v - prev)) => {
                        values.push(v)
                    }
                    _ => break,
                }
            }
            // What follows the markers can look like one more.
            let ks = if values.len() > 1 {
                vec![values.len(), values.len() - 1]
            } else {
                vec![1]
            };
            for k in ks {
                let addr = ws + p as u64;
                let gap = table - (addr + (width * k) as u64);
                let k = k as u64;
                let blocks = 256 * (k - 1) + 1..=256 * k;
                let mut fits = Vec::new();
                if gap < 8 {
                    fits.push(blocks.clone());
                }
                for u in [3u64, 4] {
                    let lo = gap.saturating_sub(14).div_ceil(u).max(*blocks.start());
                    let hi = (gap / u).min(*blocks.end());
                    if lo <= hi {
                        fits.push(lo..=hi);
                    }
                }
                for n in fits {
                    out.push(Markers {
                        addr,
                        values: values[..k as usize].to_vec(),
                        n,
                    });
                }
            }
            if out.len() >= MAX_CANDIDATES {
                return out;
            }
        }
    }
    out
}

/// The counts and names that end at the markers `m`: the count (a u32, then
/// padding) right before the names, and the last 256 names (or fewer)
/// ending within the alignment before the markers.
fn names_for(mem: &mut Reader<'_>, m: &Markers) -> Vec<NamesAt> {
    let k = m.values.len() as u64;
    let last = m.values[m.values.len() - 1];
    let Some(lo) = m.addr.checked_sub(last + MAX_BLOCK + 16) else {
        return Vec::new();
    };
    let hi = m.addr - last;
    let (w1, _) = mem.pages(lo, (hi - lo) as usize);
    let w2s = m.addr.saturating_sub(MAX_BLOCK + 16);
    let (w2, _) = mem.pages(w2s, (m.addr - w2s) as usize);
    let u32_at = |i: usize| {
        u64::from(u32::from_le_bytes(
            w1[i..i + 4].try_into().expect("4 bytes"),
        ))
    };
    let mut out = Vec::new();
    for names in (lo + 8..hi).filter(|a| a % 4 == 0) {
        let i = (names - lo) as usize;
        for (num_syms, n, pad) in [
            (names - 8, u32_at(i - 8), u32_at(i - 4)),
            (names - 4, u32_at(i - 4), 0),
        ] {
            let start = names + last;
            if pad != 0 || !m.n.contains(&n) || start < w2s {
                continue;
            }
            let tail = &w2[(start - w2s) as usize..];
            let count = n - 256 * (k - 1);
            let ends = [true, false].into_iter().any(|long| {
                walk_end(tail, count, long).is_some_and(|e| m.addr - (start + e as u64) < 8)
            });
            if ends {
                out.push(NamesAt {
                    num_syms,
                    names,
                    n: n as usize,
                });
            }
        }
    }
    out
}

/// Where `count` entries from `bytes[0]` end, counts being one byte or
/// (`long`, 6.1 on) two when the first has its high bit set.
fn walk_end(bytes: &[u8], count: u64, long: bool) -> Option<usize> {
    let mut off = 0usize;
    for _ in 0..count {
        let b0 = usize::from(*bytes.get(off)?);
        let (len, head) = if long && b0 & 0x80 != 0 {
            ((b0 & 0x7f) | usize::from(*bytes.get(off + 1)?) << 7, 2)
        } else {
            (b0, 1)
        };
        if len == 0 {
            return None;
        }
        off += head + len;
    }
    (off <= bytes.len()).then_some(off)
}

/// The places the address tables can be, given the count and names at
/// `at` and the token index at `index`: after the index (6.4 on, with or
/// without a relative base), or before the count (up to 6.3, base-relative
/// or absolute).
pub fn address_layouts(at: &NamesAt, index: u64) -> Vec<AddressTables> {
    let n = at.n as u64;
    let after = index + 512;
    let mut v = vec![
        AddressTables {
            offsets: Some(after),
            relative_base: Some((after + 4 * n).next_multiple_of(8)),
            addresses: None,
        },
        AddressTables {
            offsets: Some(after),
            relative_base: None,
            addresses: None,
        },
    ];
    if let Some(base) = at.num_syms.checked_sub(8) {
        if let Some(offsets) = base.checked_sub(4 * n) {
            v.insert(
                0,
                AddressTables {
                    offsets: Some(offsets & !7),
                    relative_base: Some(base),
                    addresses: None,
                },
            );
        }
    }
    if let Some(addresses) = at.num_syms.checked_sub(8 * n) {
        v.push(AddressTables {
            offsets: None,
            relative_base: None,
            addresses: Some(addresses),
        });
    }
    v
}
