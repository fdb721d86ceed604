//! The addresses of kallsyms, in the four encodings Linux has used.
//!
//! - Absolute, before 6.11 without CONFIG_KALLSYMS_BASE_RELATIVE:
//!   `unsigned long kallsyms_addresses[]`.
//! - Base-relative, 4.6 to 7.0 (the default of most architectures):
//!   `kallsyms_relative_base + (u32)kallsyms_offsets[i]`.
//! - Absolute per-CPU, 4.6 to 6.15 with CONFIG_KALLSYMS_ABSOLUTE_PERCPU
//!   (x86-64 SMP): a non-negative `kallsyms_offsets[i]` is the address
//!   itself (per-CPU offsets near 0), a negative one means
//!   `kallsyms_relative_base - 1 - offset`.
//! - Place-relative, 7.0 on: `&kallsyms_offsets[i] + (s32)kallsyms_offsets[i]`,
//!   and no `kallsyms_relative_base`.
//!
//! The kernel's configuration is not in the dump, so the encoding is the
//! one that gives `_stext` the address VMCOREINFO has for it (as drgn
//! does); without `_stext`, the one whose addresses come out sorted, as
//! kallsyms sorts them.

use super::memory::Reader;
use super::{KallsymsError, KallsymsLocations};

/// How a kernel stores kallsyms addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressEncoding {
    Absolute,
    BaseRelative,
    AbsolutePercpu,
    PlaceRelative,
}

impl AddressEncoding {
    /// Decode entry `i` of `kallsyms_offsets`, at `offsets`.
    fn decode(self, base: u64, offsets: u64, i: usize, v: u32) -> u64 {
        match self {
            AddressEncoding::Absolute => u64::from(v),
            AddressEncoding::BaseRelative => base.wrapping_add(u64::from(v)),
            AddressEncoding::AbsolutePercpu if (v as i32) >= 0 => u64::from(v),
            AddressEncoding::AbsolutePercpu => {
                base.wrapping_sub(1).wrapping_sub(v as i32 as i64 as u64)
            }
            AddressEncoding::PlaceRelative => offsets
                .wrapping_add(4 * i as u64)
                .wrapping_add(v as i32 as i64 as u64),
        }
    }
}

/// Read the `n` addresses; `stext` is the index of the `_stext` entry.
pub fn read(
    mem: &mut Reader<'_>,
    loc: &KallsymsLocations,
    n: usize,
    stext: Option<usize>,
) -> Result<(Vec<u64>, AddressEncoding), KallsymsError> {
    let Some(offsets) = loc.offsets else {
        let addr = loc
            .addresses
            .ok_or(KallsymsError::Missing("kallsyms_offsets"))?;
        let raw = mem.exact("kallsyms_addresses", addr, n * 8)?;
        let v = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        return Ok((v, AddressEncoding::Absolute));
    };
    let raw: Vec<u32> = mem
        .exact("kallsyms_offsets", offsets, n * 4)?
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    let (base, candidates) = match loc.relative_base {
        Some(a) => (
            mem.u64("kallsyms_relative_base", a)?,
            &[
                AddressEncoding::BaseRelative,
                AddressEncoding::AbsolutePercpu,
                AddressEncoding::PlaceRelative,
            ][..],
        ),
        None => (
            0,
            &[
                AddressEncoding::PlaceRelative,
                AddressEncoding::BaseRelative,
            ][..],
        ),
    };
    let decode = |e: AddressEncoding| -> Vec<u64> {
        raw.iter()
            .enumerate()
            .map(|(i, &v)| e.decode(base, offsets, i, v))
            .collect()
    };
    if let (Some(i), Some(want)) = (stext, loc.stext) {
        return candidates
            .iter()
            .find(|e| e.decode(base, offsets, i, raw[i]) == want)
            .map(|&e| (decode(e), e))
            .ok_or_else(|| {
                KallsymsError::Bad(format!(
                    "no known encoding of kallsyms_offsets gives _stext its address {want:#x}"
                ))
            });
    }
    // No _stext to check against: the encoding with the fewest addresses
    // out of order (ideally none).
    candidates
        .iter()
        .map(|&e| {
            let v = decode(e);
            let unsorted = v.windows(2).filter(|w| w[0] > w[1]).count();
            (unsorted, e, v)
        })
        .min_by_key(|(unsorted, ..)| *unsorted)
        .map(|(_, e, v)| (v, e))
        .ok_or(KallsymsError::Missing("kallsyms_relative_base"))
}
