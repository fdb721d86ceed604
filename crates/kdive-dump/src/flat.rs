//! makedumpfile's flattened format (`makedumpfile -F`), read in place.
//!
//! A flattened file is a stream meant for a pipe: a 4 KiB header, then
//! records `{offset: i64 BE, size: i64 BE, data[size]}`, each saying "write
//! these bytes at this offset of the real dump", ended by a record whose
//! offset is -1. `makedumpfile -R` replays them into a file. We index the
//! records instead, so that the real dump can be read without rebuilding it;
//! a later record overrides an earlier one where they overlap, as a replay
//! would, and bytes no record wrote read as zero (a hole in the rebuilt file).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::error::OpenError;
use crate::source::Backing;

/// Signature at offset 0 of a flattened file (NUL-padded to 16 bytes).
pub(crate) const SIGNATURE: &[u8] = b"makedumpfile\0";
/// Size of the flattened file's own header; records start after it.
const HEADER_SIZE: u64 = 4096;
const TYPE_FLAT_HEADER: i64 = 1;
const END_FLAG: i64 = -1;

/// One run of the logical file: bytes `start..end` are at `data` in the
/// flattened file.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: u64,
    end: u64,
    data: u64,
}

/// The logical (rebuilt) file a flattened dump describes.
pub(crate) struct FlatView {
    backing: Backing,
    /// Sorted, disjoint.
    segments: Vec<Segment>,
    len: u64,
}

impl FlatView {
    pub(crate) fn is_flat(bytes: &[u8]) -> bool {
        bytes.starts_with(SIGNATURE)
    }

    pub(crate) fn new(backing: Backing) -> Result<FlatView, OpenError> {
        let bytes = backing.bytes();
        let file_len = bytes.len() as u64;
        if file_len < HEADER_SIZE {
            return Err(OpenError::Truncated {
                what: "flattened header",
                offset: 0,
                len: HEADER_SIZE,
                file_len,
            });
        }
        let typ = be_i64(bytes, 16);
        let version = be_i64(bytes, 24);
        if typ != TYPE_FLAT_HEADER {
            return Err(OpenError::BadHeader {
                what: "flattened header",
                offset: 16,
                why: format!("type {typ}, expected {TYPE_FLAT_HEADER}"),
            });
        }
        let mut map: BTreeMap<u64, Segment> = BTreeMap::new();
        let mut pos = HEADER_SIZE;
        let mut ended = false;
        while pos + 16 <= file_len {
            let offset = be_i64(bytes, pos as usize);
            let size = be_i64(bytes, pos as usize + 8);
            if offset == END_FLAG {
                ended = true;
                break;
            }
            let bad = |why: String| OpenError::BadHeader {
                what: "flattened record",
                offset: pos,
                why,
            };
            if offset < 0 || size < 0 {
                return Err(bad(format!("offset {offset}, size {size}")));
            }
            let (offset, size) = (offset as u64, size as u64);
            let data = pos + 16;
            if data.checked_add(size).is_none_or(|e| e > file_len) {
                return Err(OpenError::Truncated {
                    what: "flattened record data",
                    offset: data,
                    len: size,
                    file_len,
                });
            }
            let end = offset
                .checked_add(size)
                .ok_or_else(|| bad(format!("offset {offset:#x} + size {size:#x} overflows")))?;
            if size > 0 {
                insert(
                    &mut map,
                    Segment {
                        start: offset,
                        end,
                        data,
                    },
                );
            }
            pos = data + size;
        }
        if !ended && pos != file_len {
            return Err(OpenError::Truncated {
                what: "flattened record header",
                offset: pos,
                len: 16,
                file_len,
            });
        }
        // A stream cut exactly between records opens with what it has (the
        // missing parts read as holes of the rebuilt file); one cut inside
        // a record is refused above, since its data cannot be trusted.
        let _ = version;
        let segments: Vec<Segment> = map.into_values().collect();
        let len = segments.last().map_or(0, |s| s.end);
        Ok(FlatView {
            backing,
            segments,
            len,
        })
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn get(&self, offset: u64, len: usize) -> Option<Cow<'_, [u8]>> {
        let end = offset.checked_add(len as u64)?;
        if end > self.len {
            return None;
        }
        let bytes = self.backing.bytes();
        // The segment holding `offset`, or the first after it.
        let mut i = self.segments.partition_point(|s| s.end <= offset);
        if let Some(s) = self.segments.get(i) {
            if s.start <= offset && end <= s.end {
                let at = (s.data + (offset - s.start)) as usize;
                return Some(Cow::Borrowed(&bytes[at..at + len]));
            }
        }
        // Spread over several records (or holes): assemble a copy. A range
        // larger than the whole flattened file is mostly holes no real dump
        // has, put there by a damaged header: refuse it rather than
        // allocate it.
        if len > bytes.len() {
            return None;
        }
        let mut out = vec![0u8; len];
        let mut cur = offset;
        while cur < end {
            let Some(s) = self.segments.get(i) else { break };
            if s.start >= end {
                break;
            }
            let from = cur.max(s.start);
            let to = end.min(s.end);
            let src = (s.data + (from - s.start)) as usize;
            let dst = (from - offset) as usize;
            let n = (to - from) as usize;
            out[dst..dst + n].copy_from_slice(&bytes[src..src + n]);
            cur = to;
            i += 1;
        }
        Some(Cow::Owned(out))
    }
}

/// Add a record, trimming or splitting the earlier ones it overrides.
fn insert(map: &mut BTreeMap<u64, Segment>, new: Segment) {
    // Fast path: records usually arrive in order without overlap.
    let overlapping: Vec<u64> = map
        .range(..new.end)
        .rev()
        .take_while(|(_, s)| s.end > new.start)
        .map(|(&k, _)| k)
        .collect();
    for k in overlapping {
        let old = map.remove(&k).expect("key just listed");
        if old.start < new.start {
            map.insert(
                old.start,
                Segment {
                    end: new.start,
                    ..old
                },
            );
        }
        if old.end > new.end {
            let skip = new.end - old.start;
            map.insert(
                new.end,
                Segment {
                    start: new.end,
                    end: old.end,
                    data: old.data + skip,
                },
            );
        }
    }
    map.insert(new.start, new);
}

fn be_i64(b: &[u8], off: usize) -> i64 {
    i64::from_be_bytes(b[off..off + 8].try_into().unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(records: &[(i64, &[u8])]) -> Vec<u8> {
        let mut f = vec![0u8; HEADER_SIZE as usize];
        f[..SIGNATURE.len()].copy_from_slice(SIGNATURE);
        f[16..24].copy_from_slice(&1i64.to_be_bytes());
        f[24..32].copy_from_slice(&1i64.to_be_bytes());
        for (off, data) in records {
            f.extend_from_slice(&off.to_be_bytes());
            f.extend_from_slice(&(data.len() as i64).to_be_bytes());
            f.extend_from_slice(data);
        }
        f.extend_from_slice(&(-1i64).to_be_bytes());
        f.extend_from_slice(&(-1i64).to_be_bytes());
        f
    }

    #[test]
    fn later_records_override_and_holes_read_zero() {
        let f = flat(&[(0, b"aaaaaaaa"), (12, b"cccc"), (2, b"BB")]);
        let v = FlatView::new(Backing::Owned(f)).unwrap();
        assert_eq!(v.len(), 16);
        assert_eq!(&*v.get(0, 16).unwrap(), b"aaBBaaaa\0\0\0\0cccc");
        assert_eq!(&*v.get(2, 2).unwrap(), b"BB");
        assert!(v.get(10, 7).is_none());
    }

    #[test]
    fn record_past_end_is_truncation() {
        let mut f = flat(&[(0, b"abcd")]);
        f.truncate(HEADER_SIZE as usize + 18);
        let e = FlatView::new(Backing::Owned(f)).err().unwrap();
        assert!(matches!(e, OpenError::Truncated { .. }), "{e}");
    }

    #[test]
    fn negative_size_is_rejected() {
        let f = flat(&[(0, b"abcd")]);
        let mut g = f.clone();
        let at = HEADER_SIZE as usize + 8;
        g[at..at + 8].copy_from_slice(&(-5i64).to_be_bytes());
        assert!(FlatView::new(Backing::Owned(g)).is_err());
    }
}
