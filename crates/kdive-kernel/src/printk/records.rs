//! The record buffer of Linux 3.5 to 5.9 (kernel/printk/printk.c before
//! the lockless ring).
//!
//! `log_buf` (`log_buf_len` bytes) holds variable-length records, each a
//! `struct printk_log` (`struct log` before 3.11) followed by its text and
//! its dictionary (`SUBSYSTEM=...\0DEVICE=...`), the whole `len` bytes
//! long. The oldest is at `log_first_idx`; the next to be written goes at
//! `log_next_idx`. A record of length 0 marks the end of the used part of
//! the buffer: the next record is at its start.

use super::{need, KernelLog, LogFormat, LogRecord, Notices, Region, Shapes};
use crate::memory::Memory;
use crate::{Error, LayoutError};

/// The variables' addresses.
pub(crate) struct Vars {
    pub log_buf: u64,
    pub log_buf_len: u64,
    pub first_idx: u64,
    pub next_idx: u64,
    pub first_seq: Option<u64>,
}

/// A larger buffer is taken for damage (the kernel's maximum is 2 GiB).
const MAX_LEN: u64 = 1 << 28;

pub(super) fn read(mem: &impl Memory, shapes: Shapes<'_>, v: &Vars) -> Result<KernelLog, Error> {
    let u32_at = |a: u64, what: &str| -> Result<u64, Error> {
        let mut b = [0u8; 4];
        mem.read(a, &mut b)
            .map_err(|e| Error::read(format!("cannot read {what}"), e))?;
        Ok(u64::from(u32::from_le_bytes(b)))
    };
    let buf = mem
        .read_u64(v.log_buf)
        .map_err(|e| Error::read("cannot read log_buf", e))?;
    let len = u32_at(v.log_buf_len, "log_buf_len")?;
    let first = u32_at(v.first_idx, "log_first_idx")?;
    let next = u32_at(v.next_idx, "log_next_idx")?;
    let mut seq = match v.first_seq {
        Some(a) => mem.read_u64(a).unwrap_or(0),
        None => 0,
    };
    if len == 0 || len > MAX_LEN || first >= len || next >= len {
        return Err(Error::corrupt(
            format!(
                "the log buffer is damaged: log_buf_len {len}, log_first_idx {first}, log_next_idx {next}"
            ),
            buf,
        ));
    }
    let (name, hdr) = ["printk_log", "log"]
        .iter()
        .find_map(|n| Some((*n, shapes.size(n)? as usize)))
        .ok_or_else(|| LayoutError::ty("printk_log"))?;
    let f = |p: &str| need(shapes, name, p);
    let ts = f("ts_nsec")?;
    let rec_len = f("len")?;
    let text_len = f("text_len")?;
    let dict_len = f("dict_len")?;
    let level = f("level")?;
    let flags = shapes.field(name, "flags");
    let facility = shapes.field(name, "facility");
    let caller = shapes.field(name, "caller_id");

    let region = Region::new(mem, buf, len as usize);
    let mut notices = Notices::default();
    let mut records = Vec::new();
    let mut idx = first as usize;
    let mut wrapped = false;
    for _ in 0..(len as usize / hdr.max(1) + 2) {
        if idx == next as usize {
            break;
        }
        let h = match region.get(idx, hdr) {
            Ok(h) => h,
            Err(a) => {
                notices.push(crate::Finding::unreadable(
                    a,
                    format!("log: record header at {a:#x} unreadable; the rest is lost"),
                ));
                break;
            }
        };
        let h = &h[..];
        let n = rec_len.get(h).unwrap_or(0) as usize;
        if n == 0 {
            // The end of the used part: go on at the start, once.
            if wrapped || idx == 0 {
                notices.push(crate::Finding::corrupt(
                    buf.wrapping_add(idx as u64),
                    format!("log: empty record at offset {idx} of log_buf; stopped"),
                ));
                break;
            }
            wrapped = true;
            idx = 0;
            continue;
        }
        let t = text_len.get(h).unwrap_or(0) as usize;
        let d = dict_len.get(h).unwrap_or(0) as usize;
        if n < hdr + t + d || idx + n > len as usize {
            notices.push(crate::Finding::corrupt(buf.wrapping_add(idx as u64), format!(
                "log: record at offset {idx} of log_buf has length {n} (text {t}, dict {d}); stopped"
            )));
            break;
        }
        let mut r = LogRecord {
            seq,
            ts_nsec: ts.get(h).unwrap_or(0),
            // The first layout had a u16 level holding the facility too.
            level: (level.get(h).unwrap_or(0) & 7) as u8,
            facility: facility.and_then(|f| f.get(h)).unwrap_or(0) as u8,
            flags: flags.and_then(|f| f.get(h)).unwrap_or(0) as u8,
            caller_id: caller.and_then(|f| f.get(h)).map(|v| v as u32),
            ..LogRecord::default()
        };
        match region.get(idx + hdr, t + d) {
            Ok(body) => {
                r.text = body[..t].to_vec();
                r.dict = body[t..]
                    .split(|&c| c == 0)
                    .filter(|e| !e.is_empty())
                    .map(|e| String::from_utf8_lossy(e).into_owned())
                    .collect();
                records.push(r);
            }
            Err(a) => notices.push(crate::Finding::unreadable(
                a,
                format!("log: record {seq}: text at {a:#x} unreadable; skipped"),
            )),
        }
        seq += 1;
        idx += n;
    }
    if records.is_empty() && notices.count() > 0 {
        return Err(Error::NoLogRecords {
            at: format!("log_buf at {buf:#x}"),
            first: notices.into_vec().swap_remove(0).text,
        });
    }
    Ok(KernelLog {
        format: LogFormat::Records,
        records,
        notices: notices.into_vec(),
    })
}
