//! The lockless ring buffer of Linux 5.10 and later
//! (kernel/printk/printk_ringbuffer.c).
//!
//! `struct printk_ringbuffer` holds a ring of `2^count_bits` descriptors
//! (`struct prb_desc`: a state word and the logical positions of its text
//! block), a parallel array of `struct printk_info` (sequence number, time,
//! level, caller, device), and a ring of `2^size_bits` bytes of text
//! blocks, each starting with the id of the descriptor that owns it. A
//! block that would cross the end of the ring is stored at its start.
//!
//! The records are those of the descriptor ids from `tail_id` to
//! `head_id` whose state is committed or finalized, as crash shows them.

use super::{cstr, need, KernelLog, LogFormat, LogRecord, Notices, Region, Shapes};
use crate::memory::Memory;
use crate::{Error, LayoutError};

/// The two top bits of a descriptor's state word are its state.
const STATE_SHIFT: u32 = 62;
const ID_MASK: u64 = !(3u64 << STATE_SHIFT);
const COMMITTED: u64 = 1;
const FINALIZED: u64 = 2;
const RESERVED: u64 = 0;

/// Larger rings than these are taken for damage (the kernel's maximum
/// `log_buf_len` is 2 GiB; real ones are KiBs to a few MiBs).
const MAX_SIZE_BITS: u64 = 28;
const MAX_COUNT_BITS: u64 = 24;

/// Each text block starts with the id of its descriptor, an unsigned long.
const ID_SIZE: u64 = 8;

pub(super) fn read(
    mem: &impl Memory,
    shapes: Shapes<'_>,
    rb_addr: u64,
) -> Result<KernelLog, Error> {
    let rb_size = shapes
        .size("printk_ringbuffer")
        .ok_or_else(|| LayoutError::ty("printk_ringbuffer"))? as usize;
    let mut rb = vec![0u8; rb_size.min(4096)];
    mem.read(rb_addr, &mut rb).map_err(|e| {
        Error::read(
            format!("cannot read the log's ring buffer at {rb_addr:#x}"),
            e,
        )
    })?;
    let f = |path: &str| need(shapes, "printk_ringbuffer", path);
    let get = |path: &str| -> Result<u64, LayoutError> {
        f(path)?.get(&rb).ok_or_else(|| {
            LayoutError::shape("printk_ringbuffer", Some(path), "lies outside the struct")
        })
    };
    let count_bits = get("desc_ring.count_bits")?;
    let size_bits = get("text_data_ring.size_bits")?;
    if count_bits > MAX_COUNT_BITS || !(3..=MAX_SIZE_BITS).contains(&size_bits) {
        return Err(Error::corrupt(
            format!(
                "the log's ring buffer at {rb_addr:#x} is damaged: {count_bits} descriptor bits, \
                 {size_bits} text bits"
            ),
            rb_addr,
        ));
    }
    let count = 1u64 << count_bits;
    let size = 1u64 << size_bits;
    let descs = get("desc_ring.descs")?;
    let infos = get("desc_ring.infos")?;
    let data = get("text_data_ring.data")?;
    let head = get("desc_ring.head_id")? & ID_MASK;
    let tail = get("desc_ring.tail_id")? & ID_MASK;

    let desc_size = shapes
        .size("prb_desc")
        .ok_or_else(|| LayoutError::ty("prb_desc"))? as usize;
    let info_size = shapes
        .size("printk_info")
        .ok_or_else(|| LayoutError::ty("printk_info"))? as usize;
    let layout = Layout::new(shapes, desc_size, info_size)?;

    let desc_ring = Region::new(mem, descs, desc_size * count as usize);
    let info_ring = Region::new(mem, infos, info_size * count as usize);
    let text = Region::new(mem, data, size as usize);

    let mut notices = Notices::default();
    let mut first = tail;
    let span = head.wrapping_sub(tail) & ID_MASK;
    if span >= count {
        notices.push(crate::Finding::truncated(format!(
            "log: descriptor ids run from {tail} to {head}, more than the ring's {count}: \
             reading the last {count}"
        )));
        first = head.wrapping_sub(count - 1) & ID_MASK;
    }
    let ring = Ring {
        layout: &layout,
        descs: &desc_ring,
        infos: &info_ring,
        text: &text,
        count,
        size,
    };
    let mut records = Vec::new();
    let mut id = first;
    for _ in 0..count {
        match ring.record(id, id == head) {
            Ok(Some(r)) => records.push(r),
            Ok(None) => {}
            Err(why) => notices.push(crate::Finding::new(
                crate::FindingKind::Corrupt,
                None,
                format!("log: record id {id}: {why}; skipped"),
            )),
        }
        if id == head {
            break;
        }
        id = id.wrapping_add(1) & ID_MASK;
    }
    if records.is_empty() && notices.count() > 0 {
        return Err(Error::NoLogRecords {
            at: format!("descriptors at {descs:#x}, text at {data:#x}"),
            first: notices.into_vec().swap_remove(0).text,
        });
    }
    Ok(KernelLog {
        format: LogFormat::Lockless,
        records,
        notices: notices.into_vec(),
    })
}

/// The members the reader uses.
struct Layout {
    desc_size: usize,
    info_size: usize,
    state: super::Field,
    begin: super::Field,
    next: super::Field,
    seq: super::Field,
    ts: super::Field,
    text_len: super::Field,
    level: super::Field,
    flags: Option<super::Field>,
    facility: Option<super::Field>,
    caller: Option<super::Field>,
    subsystem: Option<super::Field>,
    device: Option<super::Field>,
}

impl Layout {
    fn new(shapes: Shapes<'_>, desc_size: usize, info_size: usize) -> Result<Layout, LayoutError> {
        let d = |p: &str| need(shapes, "prb_desc", p);
        let i = |p: &str| need(shapes, "printk_info", p);
        let opt = |p: &str| shapes.field("printk_info", p);
        Ok(Layout {
            desc_size,
            info_size,
            state: d("state_var")?,
            begin: d("text_blk_lpos.begin")?,
            next: d("text_blk_lpos.next")?,
            seq: i("seq")?,
            ts: i("ts_nsec")?,
            text_len: i("text_len")?,
            level: i("level")?,
            flags: opt("flags"),
            facility: opt("facility"),
            caller: opt("caller_id"),
            subsystem: opt("dev_info.subsystem"),
            device: opt("dev_info.device"),
        })
    }
}

struct Ring<'a, M: Memory> {
    layout: &'a Layout,
    descs: &'a Region<'a, M>,
    infos: &'a Region<'a, M>,
    text: &'a Region<'a, M>,
    count: u64,
    size: u64,
}

impl<M: Memory> Ring<'_, M> {
    /// The record of descriptor `id`: `None` for one not (or no longer)
    /// holding a record, `Err` for damage.
    fn record(&self, id: u64, is_head: bool) -> Result<Option<LogRecord>, String> {
        let l = self.layout;
        let idx = (id & (self.count - 1)) as usize;
        let desc = self
            .descs
            .get(idx * l.desc_size, l.desc_size)
            .map_err(|a| format!("descriptor at {a:#x} unreadable"))?;
        let desc = &desc[..];
        let state_var = l.state.get(desc).unwrap_or(0);
        let state = state_var >> STATE_SHIFT;
        if state_var & ID_MASK != id {
            // The head's descriptor may not be taken over yet by the
            // writer that moved the head: nothing to show, no damage.
            if is_head {
                return Ok(None);
            }
            return Err(format!(
                "descriptor {idx} holds id {} instead",
                state_var & ID_MASK
            ));
        }
        if state == RESERVED {
            // Being written when the kernel stopped (crash skips it too).
            return Ok(None);
        }
        if state != COMMITTED && state != FINALIZED {
            return Ok(None);
        }
        let info = self
            .infos
            .get(idx * l.info_size, l.info_size)
            .map_err(|a| format!("printk_info at {a:#x} unreadable"))?;
        let info = &info[..];
        let seq = l.seq.get(info).unwrap_or(0);
        if seq & (self.count - 1) != idx as u64 {
            return Err(format!(
                "sequence number {seq} does not belong in slot {idx}"
            ));
        }
        let mut r = LogRecord {
            seq,
            ts_nsec: l.ts.get(info).unwrap_or(0),
            level: l.level.get(info).unwrap_or(0) as u8,
            facility: l.facility.and_then(|f| f.get(info)).unwrap_or(0) as u8,
            flags: l.flags.and_then(|f| f.get(info)).unwrap_or(0) as u8,
            caller_id: l.caller.and_then(|f| f.get(info)).map(|v| v as u32),
            ..LogRecord::default()
        };
        for (key, f) in [("SUBSYSTEM", l.subsystem), ("DEVICE", l.device)] {
            if let Some(b) = f.and_then(|f| f.bytes(info)) {
                let v = cstr(b);
                if !v.is_empty() {
                    r.dict.push(format!("{key}={}", String::from_utf8_lossy(v)));
                }
            }
        }
        let begin = l.begin.get(desc).unwrap_or(0);
        let next = l.next.get(desc).unwrap_or(0);
        if begin & 1 == 1 && next & 1 == 1 {
            r.dataless = true;
            return Ok(Some(r));
        }
        let (off, block) = self.block(begin, next).ok_or_else(|| {
            format!("record {seq}: text block position {begin:#x}..{next:#x} is not valid")
        })?;
        let bytes = self
            .text
            .get(off as usize, block as usize)
            .map_err(|a| format!("record {seq}: text at {a:#x} unreadable"))?;
        let owner = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
        if owner != id {
            return Err(format!(
                "record {seq}: its text block at {:#x} belongs to id {owner} (overwritten)",
                self.text.base + off
            ));
        }
        let room = &bytes[ID_SIZE as usize..];
        let text_len = l.text_len.get(info).unwrap_or(0) as usize;
        if text_len > room.len() {
            return Err(format!(
                "record {seq}: text length {text_len} is more than its block's {}",
                room.len()
            ));
        }
        r.text = room[..text_len].to_vec();
        Ok(Some(r))
    }

    /// Offset and size (descriptor id included) of the text block at
    /// logical positions `begin..next`, as the kernel's `get_data` finds
    /// it; `None` for positions no valid block has.
    fn block(&self, begin: u64, next: u64) -> Option<(u64, u64)> {
        let bits = self.size.trailing_zeros();
        let wraps = |lpos: u64| lpos >> bits;
        let (off, len) = if wraps(begin) == wraps(next) && begin < next {
            (begin & (self.size - 1), next - begin)
        } else if wraps(begin.wrapping_add(self.size)) == wraps(next) {
            (0, next & (self.size - 1))
        } else {
            return None;
        };
        if begin % ID_SIZE != 0 || next % ID_SIZE != 0 || len < ID_SIZE || len > self.size {
            return None;
        }
        Some((off, len))
    }
}
