//! Made-up kernels for the log readers: BTF written by hand for both
//! layouts, memory with holes, and a lockless ring written the way the
//! kernel writes it.

use kdive_debuginfo::btf::Btf;

use super::super::*;

use kdive_debuginfo::btf::writer::{kind::PTR, BtfWriter};

/// The types of both layouts, as Linux 6.1 (lockless) and 5.4 (records)
/// lay them out on x86-64.
pub(super) fn btf() -> Btf {
    let mut b = BtfWriter::new();
    let uint = b.int("unsigned int", 4, false);
    let ulong = b.int("long unsigned int", 8, false);
    let u16_ = b.int("short unsigned int", 2, false);
    let u8_ = b.int("unsigned char", 1, false);
    let ch = b.int("char", 1, false);
    let ptr = b.raw("", PTR << 24, 0, &[]);
    let atomic = b.st_bits("atomic_long_t", 8, &[("counter", ulong, 0, 0)]);
    let lpos = b.st_bits(
        "prb_data_blk_lpos",
        16,
        &[("begin", ulong, 0, 0), ("next", ulong, 64, 0)],
    );
    b.st_bits(
        "prb_desc",
        24,
        &[("state_var", atomic, 0, 0), ("text_blk_lpos", lpos, 64, 0)],
    );
    let sub = b.array(ch, uint, 16);
    let dev = b.array(ch, uint, 48);
    let dev_info = b.st_bits(
        "dev_printk_info",
        64,
        &[("subsystem", sub, 0, 0), ("device", dev, 128, 0)],
    );
    b.st_bits(
        "printk_info",
        88,
        &[
            ("seq", ulong, 0, 0),
            ("ts_nsec", ulong, 64, 0),
            ("text_len", u16_, 128, 0),
            ("facility", u8_, 144, 0),
            ("flags", u8_, 152, 5),
            ("level", u8_, 157, 3),
            ("caller_id", uint, 160, 0),
            ("dev_info", dev_info, 192, 0),
        ],
    );
    let desc_ring = b.st_bits(
        "prb_desc_ring",
        48,
        &[
            ("count_bits", uint, 0, 0),
            ("descs", ptr, 64, 0),
            ("infos", ptr, 128, 0),
            ("head_id", atomic, 192, 0),
            ("tail_id", atomic, 256, 0),
            ("last_finalized_id", atomic, 320, 0),
        ],
    );
    let data_ring = b.st_bits(
        "prb_data_ring",
        32,
        &[
            ("size_bits", uint, 0, 0),
            ("data", ptr, 64, 0),
            ("head_lpos", atomic, 128, 0),
            ("tail_lpos", atomic, 192, 0),
        ],
    );
    b.st_bits(
        "printk_ringbuffer",
        88,
        &[
            ("desc_ring", desc_ring, 0, 0),
            ("text_data_ring", data_ring, 384, 0),
            ("fail", atomic, 640, 0),
        ],
    );
    b.st_bits(
        "printk_log",
        24,
        &[
            ("ts_nsec", ulong, 0, 0),
            ("len", u16_, 64, 0),
            ("text_len", u16_, 80, 0),
            ("dict_len", u16_, 96, 0),
            ("facility", u8_, 112, 0),
            ("flags", u8_, 120, 5),
            ("level", u8_, 125, 3),
            ("caller_id", uint, 128, 0),
        ],
    );
    Btf::parse(&b.finish()).unwrap()
}

/// Made-up memory (see [`crate::fake_mem`]).
pub(super) type Fake = crate::fake_mem::FakeMem;

pub(super) const RB: u64 = 0xffff_ffff_8300_0000;
pub(super) const DESCS: u64 = 0xffff_ffff_8310_0000;
pub(super) const INFOS: u64 = 0xffff_ffff_8320_0000;
pub(super) const DATA: u64 = 0xffff_ffff_8330_0000;

/// A lockless ring written as the kernel writes it.
pub(super) struct Ring {
    pub(super) mem: Fake,
    pub(super) count_bits: u32,
    pub(super) size_bits: u32,
    pub(super) tail: u64,
    pub(super) head: u64,
    pub(super) lpos: u64,
}

impl Ring {
    /// An empty ring whose first id is `first_id` and whose text starts at
    /// logical position `lpos`.
    pub(super) fn new(count_bits: u32, size_bits: u32, first_id: u64, lpos: u64) -> Ring {
        let mut mem = Fake::default();
        mem.region(RB, 88);
        mem.region(DESCS, 24 << count_bits);
        mem.region(INFOS, 88 << count_bits);
        mem.region(DATA, 1 << size_bits);
        Ring {
            mem,
            count_bits,
            size_bits,
            tail: first_id,
            head: first_id.wrapping_sub(1),
            lpos,
        }
    }

    pub(super) fn desc(&self, id: u64) -> u64 {
        DESCS + 24 * (id & ((1 << self.count_bits) - 1))
    }

    pub(super) fn info(&self, id: u64) -> u64 {
        INFOS + 88 * (id & ((1 << self.count_bits) - 1))
    }

    /// Append a finalized record; returns its id.
    pub(super) fn push(&mut self, text: &str, level: u8, dict: (&str, &str)) -> u64 {
        let id = self.head.wrapping_add(1);
        self.head = id;
        let size = 1u64 << self.size_bits;
        let (begin, next, at) = if text.is_empty() {
            (1, 1, None)
        } else {
            let blk = (8 + text.len() as u64).div_ceil(8) * 8;
            let begin = self.lpos;
            let mut next = begin + blk;
            let mut at = begin & (size - 1);
            if begin >> self.size_bits != next >> self.size_bits {
                // Wrapping blocks are stored at the start of the ring.
                next = (next >> self.size_bits << self.size_bits) + blk;
                at = 0;
            }
            self.lpos = next;
            (begin, next, Some(at))
        };
        if let Some(at) = at {
            if begin & (size - 1) != at {
                self.mem.u64(DATA + (begin & (size - 1)), id);
            }
            self.mem.u64(DATA + at, id);
            self.mem.write(DATA + at + 8, text.as_bytes());
        }
        let d = self.desc(id);
        self.mem.u64(d, (2 << 62) | id);
        self.mem.u64(d + 8, begin);
        self.mem.u64(d + 16, next);
        let i = self.info(id);
        self.mem.u64(i, id); // seq: the id, same slot
        self.mem.u64(i + 8, 1_000_000 * id);
        self.mem.write(i + 16, &(text.len() as u16).to_le_bytes());
        self.mem.write(i + 19, &[level << 5]);
        self.mem.write(i + 20, &(id as u32).to_le_bytes());
        self.mem.write(i + 24, dict.0.as_bytes());
        self.mem.write(i + 40, dict.1.as_bytes());
        id
    }

    pub(super) fn finish(&mut self) {
        self.mem.write(RB, &self.count_bits.to_le_bytes());
        self.mem.u64(RB + 8, DESCS);
        self.mem.u64(RB + 16, INFOS);
        self.mem.u64(RB + 24, self.head);
        self.mem.u64(RB + 32, self.tail);
        self.mem.write(RB + 48, &self.size_bits.to_le_bytes());
        self.mem.u64(RB + 56, DATA);
    }

    pub(super) fn read(&mut self) -> Result<KernelLog, crate::Error> {
        self.finish();
        let btf = btf();
        lockless::read(&self.mem, Shapes(crate::offsets::test_layouts(&btf)), RB)
    }
}

/// The records' texts.
pub(super) fn texts(log: &KernelLog) -> Vec<String> {
    log.records.iter().map(LogRecord::text_lossy).collect()
}
