//! The kernel log, read from the dump.
//!
//! Two layouts exist, told apart by what the kernel's symbols and types
//! say, never by its version:
//!
//! - the lockless ring buffer of Linux 5.10 and later (`prb`, a `struct
//!   printk_ringbuffer`): a ring of descriptors with their `printk_info`,
//!   and a ring of text blocks ([`lockless`]);
//! - the record buffer of 3.5 to 5.9 (`log_buf`, `log_first_idx`,
//!   `log_next_idx`, records headed by a `struct printk_log`) ([`records`]).
//!
//! Offsets come from the kernel's BTF, or without BTF from the vmlinux's
//! DWARF. A damaged descriptor or text block is skipped with a notice and
//! the reading goes on; every loop is bounded by the ring's size.

mod lockless;
mod panic;
mod records;
mod region;
#[cfg(test)]
mod tests;

use crate::offsets::Layouts;

use crate::memory::Memory;
use crate::{Error, Kernel, LayoutError};

pub use panic::panic_message;
pub(crate) use region::Region;

/// At most this many notices are kept; the rest are counted.
const MAX_NOTICES: usize = 20;

/// One record of the kernel log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRecord {
    pub seq: u64,
    /// Nanoseconds since boot (the kernel's `local_clock`).
    pub ts_nsec: u64,
    /// The message level, 0 (emergency) to 7 (debug).
    pub level: u8,
    pub facility: u8,
    /// The record's internal flags (`LOG_NEWLINE`, `LOG_CONT`).
    pub flags: u8,
    /// Who printed it: a thread id, or a CPU number with bit 31 set
    /// (`CONFIG_PRINTK_CALLER`; always there in the lockless ring).
    pub caller_id: Option<u32>,
    /// The text, as the kernel stored it (lines inside split by `\n`).
    pub text: Vec<u8>,
    /// The device the message is about: `SUBSYSTEM=...`, `DEVICE=...`.
    pub dict: Vec<String>,
    /// A record with no text block at all (crash prints an empty line).
    pub dataless: bool,
}

impl LogRecord {
    /// The text as a string, invalid UTF-8 replaced.
    pub fn text_lossy(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }
}

/// Which layout the log was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `prb`, Linux 5.10 and later.
    Lockless,
    /// `log_buf` of `struct printk_log` records, Linux 3.5 to 5.9.
    Records,
}

/// The kernel log: its records in order, and what could not be read.
#[derive(Debug, Clone)]
pub struct KernelLog {
    pub format: LogFormat,
    pub records: Vec<LogRecord>,
    /// Damage met on the way (a record skipped, a page unreadable).
    pub notices: Vec<crate::Finding>,
}

impl KernelLog {
    /// The panic or oops message the log ends with (see [`panic_message`]).
    pub fn panic_message(&self) -> Option<String> {
        panic_message(&self.records)
    }
}

impl Kernel {
    /// Read the kernel log from the dump.
    pub fn log(&self) -> Result<KernelLog, Error> {
        if self.symbols().is_empty() {
            return Err(Error::NoSymbols { what: "the log" });
        }
        let shapes = self.shapes().ok_or_else(|| LayoutError::NoTypes {
            what: "the log's layout",
            why: self.btf_arc().err().unwrap_or_default().to_string(),
        })?;
        read_log(self, shapes, &|name| self.symbol(name))
    }

    /// Where the struct members are: the BTF, else the vmlinux's DWARF.
    pub(crate) fn shapes(&self) -> Option<Shapes<'_>> {
        self.layouts().map(Shapes)
    }
}

/// Read the log of whichever layout the kernel has.
pub(crate) fn read_log(
    mem: &impl Memory,
    shapes: Shapes<'_>,
    symbol: &dyn Fn(&str) -> Option<u64>,
) -> Result<KernelLog, Error> {
    if let Some(prb) = symbol("prb").filter(|_| shapes.size("printk_ringbuffer").is_some()) {
        let rb = mem
            .read_u64(prb)
            .map_err(|e| Error::read("cannot read the log's ring buffer pointer `prb`", e))?;
        return lockless::read(mem, shapes, rb);
    }
    if let (Some(buf), Some(len), Some(first), Some(next)) = (
        symbol("log_buf"),
        symbol("log_buf_len"),
        symbol("log_first_idx"),
        symbol("log_next_idx"),
    ) {
        let vars = records::Vars {
            log_buf: buf,
            log_buf_len: len,
            first_idx: first,
            next_idx: next,
            first_seq: symbol("log_first_seq"),
        };
        return records::read(mem, shapes, &vars);
    }
    Err(Error::Unsupported(
        "the kernel log's layout is not one kdive reads (no `prb`, no `log_first_idx`)".into(),
    ))
}

/// Notices, at most [`MAX_NOTICES`] kept, the others counted.
#[derive(Default)]
pub(crate) struct Notices {
    kept: Vec<crate::Finding>,
    dropped: usize,
}

impl Notices {
    pub fn push(&mut self, s: crate::Finding) {
        if self.kept.len() < MAX_NOTICES {
            self.kept.push(s);
        } else {
            self.dropped += 1;
        }
    }

    /// How many notices there were, kept or not.
    pub fn count(&self) -> usize {
        self.kept.len() + self.dropped
    }

    pub fn into_vec(mut self) -> Vec<crate::Finding> {
        if self.dropped > 0 {
            self.kept.push(crate::Finding::truncated(format!(
                "log: {} more damaged records not listed",
                self.dropped
            )));
        }
        self.kept
    }
}

/// The kernel's layouts, with the look-ups the log's readers make.
#[derive(Clone, Copy)]
pub(crate) struct Shapes<'a>(pub Layouts<'a>);

/// Where a member is in its struct: bytes, and bits for a bitfield.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub off: usize,
    /// The size of the member's type (of the storage unit, for a bitfield).
    pub size: usize,
    /// Bits to shift right and the width, for a bitfield (`bits` 0: none).
    pub shift: u32,
    pub bits: u32,
}

impl Field {
    /// The member's value, from a buffer holding the struct: an unsigned
    /// integer of up to 8 bytes, or a bitfield.
    pub fn get(&self, buf: &[u8]) -> Option<u64> {
        if self.bits == 0 {
            let b = buf.get(self.off..self.off.checked_add(self.size.min(8))?)?;
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(b);
            return Some(u64::from_le_bytes(w));
        }
        let n = ((self.shift + self.bits).div_ceil(8) as usize).min(8);
        let b = buf.get(self.off..self.off + n)?;
        let mut w = [0u8; 8];
        w[..n].copy_from_slice(b);
        let v = u64::from_le_bytes(w) >> self.shift;
        Some(if self.bits >= 64 {
            v
        } else {
            v & ((1u64 << self.bits) - 1)
        })
    }

    /// The member's bytes (a char array), from a buffer holding the struct.
    pub fn bytes<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        buf.get(self.off..self.off.checked_add(self.size)?)
    }
}

impl Shapes<'_> {
    /// The size of the struct (or typedef) named `ty`.
    pub fn size(&self, ty: &str) -> Option<u64> {
        self.0.size(ty).ok()
    }

    /// The member at `path` (`desc_ring.count_bits`) of struct `ty`.
    pub fn field(&self, ty: &str, path: &str) -> Option<Field> {
        let m = self.0.member_offset(ty, path)?;
        let (bits_off, bits, size) = (m.offset_bits, m.bitfield_size, self.0.size_of(m.type_id)?);
        let (off, shift) = if bits == 0 {
            (bits_off / 8, 0)
        } else {
            (bits_off / 8, (bits_off % 8) as u32)
        };
        Some(Field {
            off: usize::try_from(off).ok()?,
            size: usize::try_from(size).ok()?,
            shift,
            bits,
        })
    }
}

/// A field the reader cannot go without, or why it is missing.
pub(crate) fn need(shapes: Shapes<'_>, ty: &str, path: &str) -> Result<Field, LayoutError> {
    shapes
        .field(ty, path)
        .ok_or_else(|| LayoutError::member(ty, path))
}

/// The bytes of a C string in `b`, up to its NUL.
pub(crate) fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}
