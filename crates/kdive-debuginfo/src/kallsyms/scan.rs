//! Finding kallsyms when VMCOREINFO does not say where it is (kernels
//! before 6.0, QEMU dumps): by scanning the kernel's read-only data.
//!
//! The needle is `kallsyms_token_index`: 256 `u16` offsets, the first 0,
//! each the start of the next of the 256 NUL-terminated strings of
//! `kallsyms_token_table`, which ends right before it. From those two,
//! [`derive`](super::derive) finds the markers, the names, their count and
//! the addresses, whose order differs across versions. A candidate is
//! believed only if the names walk ends at `kallsyms_markers` and agrees
//! with it, and the addresses come out sorted (and give `_stext` its
//! address, when that is known).

use std::ops::Range;

use super::derive::{self, NamesAt};
use super::memory::{Reader, PAGE};
use super::{addrs, Kallsyms, KallsymsError, KallsymsLocations, Names};

/// How much the scan reads at once.
const CHUNK: u64 = 1 << 20;
/// The most a scan reads: the largest image x86-64 maps (1 GiB).
pub const MAX_SCAN: u64 = 1 << 30;
/// `kallsyms_token_index`: 256 `u16`.
const INDEX_LEN: usize = 512;
/// The longest token believed: a whole name (KSYM_NAME_LEN).
const MAX_TOKEN: usize = 512;
/// Where a 64-bit kernel's addresses are.
const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;

/// What is known before the scan.
#[derive(Debug, Clone, Default)]
pub struct ScanHints {
    /// The address of `_stext` (VMCOREINFO has it): it picks the address
    /// encoding and checks the addresses.
    pub stext: Option<u64>,
    /// The kernel release, for the names format when the markers cannot
    /// tell.
    pub release: Option<String>,
}

/// kallsyms found by scanning.
#[derive(Debug, Clone)]
pub struct Scanned {
    pub kallsyms: Kallsyms,
    /// Where the tables were found.
    pub loc: KallsymsLocations,
    /// Bytes the scan read before it found them.
    pub scanned: u64,
}

/// Scan `range` of kernel virtual memory (at most [`MAX_SCAN`] bytes of
/// it, a chunk at a time) for kallsyms, reading kernel virtual memory from
/// `mem`. Pages that cannot be read are skipped.
pub fn scan(
    range: Range<u64>,
    hints: &ScanHints,
    mem: &dyn kdive_dump::Memory,
) -> Result<Scanned, KallsymsError> {
    let mut mem = Reader::new(mem);
    let start = range.start - range.start % PAGE;
    let end = range.end.min(start.saturating_add(MAX_SCAN));
    let mut scanned = 0u64;
    let mut last = None;
    // The end of the last bytes scanned, to find an index across chunks.
    let mut carry: (u64, Vec<u8>) = (0, Vec::new());
    let mut at = start;
    while at < end {
        let len = (end - at).min(CHUNK) as usize;
        let (buf, good) = mem.pages(at, len);
        for run in runs(&good) {
            let from = at + (run.start as u64) * PAGE;
            let bytes = &buf[run.start * PAGE as usize..(run.end * PAGE as usize).min(len)];
            scanned += bytes.len() as u64;
            let mut seg = if carry.0 == from {
                std::mem::take(&mut carry.1)
            } else {
                Vec::new()
            };
            let seg_addr = from - seg.len() as u64;
            seg.extend_from_slice(bytes);
            for (p, idx) in token_indexes(&seg, seg_addr) {
                match found_at(&mut mem, seg_addr + p as u64, &idx, hints) {
                    Ok((kallsyms, loc)) => {
                        return Ok(Scanned {
                            kallsyms,
                            loc,
                            scanned,
                        })
                    }
                    Err(e) => last = Some(Box::new(e)),
                }
            }
            let keep = seg.len().saturating_sub(INDEX_LEN - 1);
            carry = (seg_addr + seg.len() as u64, seg.split_off(keep));
        }
        at += len as u64;
    }
    Err(KallsymsError::NotFound {
        start: range.start,
        end,
        scanned,
        last,
    })
}

/// The runs of readable pages.
fn runs(good: &[bool]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < good.len() {
        if !good[i] {
            i += 1;
            continue;
        }
        let s = i;
        while i < good.len() && good[i] {
            i += 1;
        }
        out.push(s..i);
    }
    out
}

/// Offsets in `seg` (at `addr`) of what could be `kallsyms_token_index`:
/// 4-aligned, 0 then 255 increasing offsets a token apart.
fn token_indexes(seg: &[u8], addr: u64) -> Vec<(usize, Vec<u16>)> {
    let mut out = Vec::new();
    let mut p = ((4 - addr % 4) % 4) as usize;
    while p + INDEX_LEN <= seg.len() {
        if seg[p] == 0 && seg[p + 1] == 0 {
            if let Some(idx) = index_at(&seg[p..p + INDEX_LEN]) {
                out.push((p, idx));
            }
        }
        p += 4;
    }
    out
}

fn index_at(b: &[u8]) -> Option<Vec<u16>> {
    let mut idx = Vec::with_capacity(256);
    for c in b.chunks_exact(2) {
        let v = u16::from_le_bytes([c[0], c[1]]);
        if let Some(&prev) = idx.last() {
            if v <= prev || usize::from(v - prev) > MAX_TOKEN + 1 {
                return None;
            }
        }
        idx.push(v);
    }
    Some(idx)
}

/// The kallsyms whose token index is at `index`, if it checks out.
fn found_at(
    mem: &mut Reader<'_>,
    index: u64,
    idx: &[u16],
    hints: &ScanHints,
) -> Result<(Kallsyms, KallsymsLocations), KallsymsError> {
    let table = token_table_before(mem, index, idx).ok_or_else(|| {
        KallsymsError::Bad(format!(
            "{index:#x} looks like kallsyms_token_index, but no kallsyms_token_table ends there"
        ))
    })?;
    let candidates = derive::names_candidates(mem, table);
    if candidates.is_empty() {
        return Err(KallsymsError::Bad(format!(
            "no kallsyms_names and kallsyms_markers found before the token table at {table:#x}"
        )));
    }
    for at in &candidates {
        let mut loc = KallsymsLocations {
            num_syms: at.num_syms,
            names: at.names,
            token_table: table,
            token_index: index,
            stext: hints.stext,
            release: hints.release.clone(),
            ..KallsymsLocations::default()
        };
        match Names::decode(mem, &loc, at.n) {
            Ok(names) if names.markers_match => {
                if let Some((addrs, enc)) = addresses(mem, &mut loc, at, &names) {
                    return Ok((names.with_addresses(&addrs, enc), loc));
                }
            }
            _ => {}
        }
    }
    Err(KallsymsError::Bad(format!(
        "names found before the token table at {table:#x} ({} candidates), but no addresses that fit them",
        candidates.len()
    )))
}

/// The addresses of `names`, from the first layout whose table decodes
/// sorted into the kernel's half; `loc` gets its tables.
fn addresses(
    mem: &mut Reader<'_>,
    loc: &mut KallsymsLocations,
    at: &NamesAt,
    names: &Names,
) -> Option<(Vec<u64>, addrs::AddressEncoding)> {
    for layout in derive::address_layouts(at, loc.token_index) {
        loc.offsets = layout.offsets;
        loc.relative_base = layout.relative_base;
        loc.addresses = layout.addresses;
        let Ok((v, enc)) = addrs::read(mem, loc, at.n, names.stext()) else {
            continue;
        };
        let sorted = v.windows(2).all(|w| w[0] <= w[1]);
        if sorted && v.last().is_some_and(|&a| a >= KERNEL_HALF) {
            if enc == addrs::AddressEncoding::PlaceRelative {
                // Whatever follows the offsets, it is no base.
                loc.relative_base = None;
            }
            return Some((v, enc));
        }
    }
    None
}

/// Where the token table ending at the index at `index` starts: its 256
/// strings at the offsets `idx` gives, printable and NUL-terminated, the
/// last one followed by less than 8 bytes of padding.
fn token_table_before(mem: &mut Reader<'_>, index: u64, idx: &[u16]) -> Option<u64> {
    let last = usize::from(*idx.last()?);
    let span = last + 1 + MAX_TOKEN + 8;
    let from = index.checked_sub(span as u64)?;
    let b = mem.exact("kallsyms_token_table", from, span).ok()?;
    (0..=span - last - 1)
        .rev()
        .filter(|&off| (from + off as u64) % 4 == 0)
        .find(|&off| tokens_fit(&b[off..], idx))
        .map(|off| from + off as u64)
}

fn tokens_fit(t: &[u8], idx: &[u16]) -> bool {
    let token = |a: usize, b: usize| t[a..b].iter().all(u8::is_ascii_graphic);
    for w in idx.windows(2) {
        let (a, b) = (usize::from(w[0]), usize::from(w[1]));
        if b > t.len() || t[b - 1] != 0 || !token(a, b - 1) {
            return false;
        }
    }
    let a = usize::from(idx[idx.len() - 1]);
    let Some(q) = t.get(a..).and_then(|r| r.iter().position(|&c| c == 0)) else {
        return false;
    };
    let q = a + q;
    token(a, q) && t.len() - (q + 1) < 8 && t[q + 1..].iter().all(|&c| c == 0)
}
