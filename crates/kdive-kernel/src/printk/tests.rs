//! The log readers on made-up kernels: hand-made BTF for both layouts,
//! rings written the way the kernel writes them, then damaged.

use std::collections::BTreeMap;

use kdive_debuginfo::btf::Btf;

use super::*;

/// Writes BTF blobs by hand (little-endian).
#[derive(Default)]
struct BtfBuilder {
    strings: Vec<u8>,
    types: Vec<u8>,
    count: u32,
}

const INT: u32 = 1;
const PTR: u32 = 2;
const ARRAY: u32 = 3;
const STRUCT: u32 = 4;

/// A member: name, type, offset in bits, bitfield width (0: none).
type M<'a> = (&'a str, u32, u32, u32);

impl BtfBuilder {
    fn str(&mut self, s: &str) -> u32 {
        if self.strings.is_empty() {
            self.strings.push(0);
        }
        if s.is_empty() {
            return 0;
        }
        let off = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    fn ty(&mut self, name: &str, info: u32, size_type: u32, extra: &[u32]) -> u32 {
        let name = self.str(name);
        for w in [name, info, size_type].iter().chain(extra) {
            self.types.extend_from_slice(&w.to_le_bytes());
        }
        self.count += 1;
        self.count
    }

    fn int(&mut self, name: &str, size: u32) -> u32 {
        self.ty(name, INT << 24, size, &[size * 8])
    }

    fn array(&mut self, elem: u32, index: u32, n: u32) -> u32 {
        self.ty("", ARRAY << 24, 0, &[elem, index, n])
    }

    /// A struct; with bitfields, the kind flag and (width << 24 | offset).
    fn st(&mut self, name: &str, size: u32, members: &[M]) -> u32 {
        let kflag = members.iter().any(|m| m.3 != 0);
        let mut extra = Vec::new();
        for &(n, t, bits, width) in members {
            let off = if kflag { (width << 24) | bits } else { bits };
            extra.extend([self.str(n), t, off]);
        }
        let info = (STRUCT << 24) | (u32::from(kflag) << 31) | members.len() as u32;
        self.ty(name, info, size, &extra)
    }

    fn blob(&mut self) -> Vec<u8> {
        self.str("");
        let mut out = vec![0x9f, 0xeb, 1, 0];
        let tl = self.types.len() as u32;
        for w in [24, 0, tl, tl, self.strings.len() as u32] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// The types of both layouts, as Linux 6.1 (lockless) and 5.4 (records)
/// lay them out on x86-64.
fn btf() -> Btf {
    let mut b = BtfBuilder::default();
    let uint = b.int("unsigned int", 4);
    let ulong = b.int("long unsigned int", 8);
    let u16_ = b.int("short unsigned int", 2);
    let u8_ = b.int("unsigned char", 1);
    let ch = b.int("char", 1);
    let ptr = b.ty("", PTR << 24, 0, &[]);
    let atomic = b.st("atomic_long_t", 8, &[("counter", ulong, 0, 0)]);
    let lpos = b.st(
        "prb_data_blk_lpos",
        16,
        &[("begin", ulong, 0, 0), ("next", ulong, 64, 0)],
    );
    b.st(
        "prb_desc",
        24,
        &[("state_var", atomic, 0, 0), ("text_blk_lpos", lpos, 64, 0)],
    );
    let sub = b.array(ch, uint, 16);
    let dev = b.array(ch, uint, 48);
    let dev_info = b.st(
        "dev_printk_info",
        64,
        &[("subsystem", sub, 0, 0), ("device", dev, 128, 0)],
    );
    b.st(
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
    let desc_ring = b.st(
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
    let data_ring = b.st(
        "prb_data_ring",
        32,
        &[
            ("size_bits", uint, 0, 0),
            ("data", ptr, 64, 0),
            ("head_lpos", atomic, 128, 0),
            ("tail_lpos", atomic, 192, 0),
        ],
    );
    b.st(
        "printk_ringbuffer",
        88,
        &[
            ("desc_ring", desc_ring, 0, 0),
            ("text_data_ring", data_ring, 384, 0),
            ("fail", atomic, 640, 0),
        ],
    );
    b.st(
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
    Btf::parse(&b.blob()).unwrap()
}

/// Memory made of regions, some pages of which may be unreadable.
#[derive(Default)]
struct Fake {
    regions: BTreeMap<u64, Vec<u8>>,
    holes: Vec<u64>,
}

impl Fake {
    fn region(&mut self, base: u64, len: usize) {
        self.regions.insert(base, vec![0; len]);
    }

    fn write(&mut self, addr: u64, bytes: &[u8]) {
        let (base, r) = self.regions.range_mut(..=addr).next_back().unwrap();
        let off = (addr - base) as usize;
        r[off..off + bytes.len()].copy_from_slice(bytes);
    }

    fn u64(&mut self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes());
    }
}

impl Memory for Fake {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        let bad = || format!("no memory at {addr:#x}");
        let end = addr + buf.len() as u64;
        if self.holes.iter().any(|&h| h < end && addr < h + 4096) {
            return Err(bad());
        }
        let (base, r) = self.regions.range(..=addr).next_back().ok_or_else(bad)?;
        let off = (addr - base) as usize;
        buf.copy_from_slice(r.get(off..off + buf.len()).ok_or_else(bad)?);
        Ok(())
    }

    fn read_cstr(&self, _: u64, _: usize) -> Result<String, String> {
        Err("not used".into())
    }
}

const RB: u64 = 0xffff_ffff_8300_0000;
const DESCS: u64 = 0xffff_ffff_8310_0000;
const INFOS: u64 = 0xffff_ffff_8320_0000;
const DATA: u64 = 0xffff_ffff_8330_0000;

/// A lockless ring written as the kernel writes it.
struct Ring {
    mem: Fake,
    count_bits: u32,
    size_bits: u32,
    tail: u64,
    head: u64,
    lpos: u64,
}

impl Ring {
    /// An empty ring whose first id is `first_id` and whose text starts at
    /// logical position `lpos`.
    fn new(count_bits: u32, size_bits: u32, first_id: u64, lpos: u64) -> Ring {
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

    fn desc(&self, id: u64) -> u64 {
        DESCS + 24 * (id & ((1 << self.count_bits) - 1))
    }

    fn info(&self, id: u64) -> u64 {
        INFOS + 88 * (id & ((1 << self.count_bits) - 1))
    }

    /// Append a finalized record; returns its id.
    fn push(&mut self, text: &str, level: u8, dict: (&str, &str)) -> u64 {
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

    fn finish(&mut self) {
        self.mem.write(RB, &self.count_bits.to_le_bytes());
        self.mem.u64(RB + 8, DESCS);
        self.mem.u64(RB + 16, INFOS);
        self.mem.u64(RB + 24, self.head);
        self.mem.u64(RB + 32, self.tail);
        self.mem.write(RB + 48, &self.size_bits.to_le_bytes());
        self.mem.u64(RB + 56, DATA);
    }

    fn read(&mut self) -> Result<KernelLog, String> {
        self.finish();
        let btf = btf();
        lockless::read(&self.mem, Shapes::Btf(&btf), RB)
    }
}

fn texts(log: &KernelLog) -> Vec<String> {
    log.records.iter().map(LogRecord::text_lossy).collect()
}

/// A ring whose ids and text positions both wrap: ids start two before a
/// multiple of the ring's count, text two blocks before the end.
fn wrapping_ring() -> Ring {
    let mut r = Ring::new(4, 8, 16 * 7 + 14, (1 << 8) * 5 - 32);
    r.push("first", 6, ("", ""));
    r.push("a block that wraps", 4, ("pci", "+pci:0000:00:01.0"));
    r.push("two\nlines", 3, ("", ""));
    r.push("", 6, ("", ""));
    r.push("last", 0, ("", ""));
    r
}

#[test]
fn lockless_ring_reads_in_order_across_both_wraps() {
    let mut r = wrapping_ring();
    let log = r.read().unwrap();
    assert!(log.notices.is_empty(), "{:?}", log.notices);
    assert_eq!(log.format, LogFormat::Lockless);
    assert_eq!(
        texts(&log),
        ["first", "a block that wraps", "two\nlines", "", "last"]
    );
    let levels: Vec<u8> = log.records.iter().map(|r| r.level).collect();
    assert_eq!(levels, [6, 4, 3, 6, 0]);
    assert_eq!(
        log.records[1].dict,
        ["SUBSYSTEM=pci", "DEVICE=+pci:0000:00:01.0"]
    );
    assert!(log.records[3].dataless && !log.records[2].dataless);
    assert_eq!(log.records[0].ts_nsec, 1_000_000 * (16 * 7 + 14));
    assert_eq!(log.records[4].caller_id, Some((16 * 7 + 18) as u32));
}

#[test]
fn damaged_records_are_skipped_with_a_notice() {
    // (What to damage, the record that goes, what the notice says.)
    type Damage = fn(&mut Ring, u64);
    let cases: [(&str, Damage, &str); 5] = [
        (
            "descriptor id",
            |r, id| r.mem.u64(r.desc(id), (2 << 62) | (id + 16)),
            "holds id",
        ),
        (
            "block owner",
            |r, id| {
                let begin = r.mem_u64(r.desc(id) + 8);
                r.mem.u64(DATA + (begin & 255), 7);
            },
            "belongs to id 7",
        ),
        (
            "positions",
            |r, id| r.mem.u64(r.desc(id) + 16, 12345),
            "is not valid",
        ),
        (
            "text length",
            |r, id| r.mem.write(r.info(id) + 16, &500u16.to_le_bytes()),
            "text length 500",
        ),
        (
            "sequence",
            |r, id| r.mem.u64(r.info(id), 3),
            "sequence number 3",
        ),
    ];
    for (what, damage, says) in cases {
        let mut r = Ring::new(4, 10, 40, 4096 * 3);
        let ids: Vec<u64> = ["one", "two", "three"]
            .iter()
            .map(|t| r.push(t, 6, ("", "")))
            .collect();
        damage(&mut r, ids[1]);
        let log = r.read().unwrap();
        assert_eq!(texts(&log), ["one", "three"], "{what}");
        assert_eq!(log.notices.len(), 1, "{what}: {:?}", log.notices);
        assert!(log.notices[0].contains(says), "{what}: {:?}", log.notices);
        assert!(
            log.notices[0].contains(&format!("id {}", ids[1])),
            "{what}: {:?}",
            log.notices
        );
    }
}

impl Ring {
    fn mem_u64(&self, addr: u64) -> u64 {
        self.mem.read_u64(addr).unwrap()
    }
}

#[test]
fn an_unreadable_page_loses_only_its_records() {
    // Text ring of 3 pages; records of ~1 KiB: four to a page.
    let mut r = Ring::new(5, 14, 0, 0);
    let long = "x".repeat(1000);
    let ids: Vec<u64> = (0..12).map(|_| r.push(&long, 6, ("", ""))).collect();
    r.mem.holes.push(DATA + 4096);
    let log = r.read().unwrap();
    let kept: Vec<u64> = log.records.iter().map(|r| r.seq).collect();
    let lost: Vec<u64> = ids.iter().copied().filter(|i| !kept.contains(i)).collect();
    assert!(!lost.is_empty() && lost.len() <= 5, "{lost:?}");
    assert!(kept.contains(&0) && kept.contains(&11));
    assert_eq!(log.notices.len(), lost.len());
    assert!(
        log.notices.iter().all(|n| n.contains("unreadable")),
        "{:?}",
        log.notices
    );
}

#[test]
fn a_record_being_written_at_the_head_is_left_out_quietly() {
    let mut r = Ring::new(4, 10, 0, 0);
    r.push("done", 6, ("", ""));
    let id = r.push("half", 6, ("", ""));
    r.mem.u64(r.desc(id), id); // reserved
    let log = r.read().unwrap();
    assert_eq!(texts(&log), ["done"]);
    assert!(log.notices.is_empty());
}

#[test]
fn a_head_too_far_from_the_tail_reads_one_ring() {
    let mut r = Ring::new(3, 10, 0, 0);
    for t in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        r.push(t, 6, ("", ""));
    }
    r.tail = 0;
    r.head = 1000; // damaged: 1001 ids in a ring of 8
                   // Only the last 8 ids are looked at, none of which the ring holds.
    let err = r.read().unwrap_err();
    assert!(err.contains("more than the ring's 8"), "{err}");
    // A head one ring ahead of the tail: the last 8 ids are read.
    r.head = 8;
    r.mem.u64(r.desc(8), (2 << 62) | 8);
    let log = r.read().unwrap();
    assert!(
        log.notices[0].contains("more than the ring's 8"),
        "{:?}",
        log.notices
    );
    assert_eq!(texts(&log), ["b", "c", "d", "e", "f", "g", "h"]);
}

#[test]
fn implausible_ring_sizes_are_an_error() {
    let mut r = Ring::new(3, 10, 0, 0);
    r.push("a", 6, ("", ""));
    r.count_bits = 40;
    assert!(r.read().unwrap_err().contains("damaged"));
}

#[test]
fn many_damaged_records_give_a_bounded_list_of_notices() {
    let mut r = Ring::new(6, 12, 0, 0);
    let ids: Vec<u64> = (0..60)
        .map(|i| r.push(&format!("m{i}"), 6, ("", "")))
        .collect();
    for &id in &ids[..50] {
        r.mem.u64(r.info(id), id + 1);
    }
    let log = r.read().unwrap();
    assert_eq!(log.records.len(), 10);
    assert_eq!(log.notices.len(), MAX_NOTICES + 1);
    assert!(
        log.notices[MAX_NOTICES].contains("30 more"),
        "{:?}",
        log.notices.last()
    );
}

const LOG_BUF: u64 = 0xffff_ffff_8400_0000;
const VARS: u64 = 0xffff_ffff_8500_0000;

/// A record buffer of `len` bytes holding `records` from offset `start`,
/// wrapping (with a zero-length marker) when one does not fit.
fn record_buffer(len: u32, start: usize, records: &[(&str, &str)]) -> (Fake, records::Vars) {
    let mut m = Fake::default();
    m.region(LOG_BUF, len as usize);
    m.region(VARS, 64);
    let mut idx = start;
    for (i, (text, dict)) in records.iter().enumerate() {
        let size = (24 + text.len() + dict.len()).div_ceil(8) * 8;
        if idx + size + 24 > len as usize {
            m.write(LOG_BUF + idx as u64, &[0; 24]);
            idx = 0;
        }
        let at = LOG_BUF + idx as u64;
        m.u64(at, 5_000_000_000 + i as u64);
        m.write(at + 8, &(size as u16).to_le_bytes());
        m.write(at + 10, &(text.len() as u16).to_le_bytes());
        m.write(at + 12, &(dict.len() as u16).to_le_bytes());
        m.write(at + 15, &[4 << 5]);
        m.write(at + 24, text.as_bytes());
        m.write(at + 24 + text.len() as u64, dict.as_bytes());
        idx += size;
    }
    m.u64(VARS, LOG_BUF);
    m.write(VARS + 8, &len.to_le_bytes());
    m.write(VARS + 16, &(start as u32).to_le_bytes());
    m.write(VARS + 24, &(idx as u32).to_le_bytes());
    m.u64(VARS + 32, 100);
    let vars = records::Vars {
        log_buf: VARS,
        log_buf_len: VARS + 8,
        first_idx: VARS + 16,
        next_idx: VARS + 24,
        first_seq: Some(VARS + 32),
    };
    (m, vars)
}

#[test]
fn record_buffer_reads_across_its_end() {
    let (m, vars) = record_buffer(
        256,
        150,
        &[
            ("early", ""),
            ("with device", "SUBSYSTEM=usb\0DEVICE=c189:1"),
            ("after the wrap", ""),
        ],
    );
    let btf = btf();
    let log = records::read(&m, Shapes::Btf(&btf), &vars).unwrap();
    assert!(log.notices.is_empty(), "{:?}", log.notices);
    assert_eq!(log.format, LogFormat::Records);
    assert_eq!(texts(&log), ["early", "with device", "after the wrap"]);
    assert_eq!(log.records[1].dict, ["SUBSYSTEM=usb", "DEVICE=c189:1"]);
    assert_eq!(log.records[2].seq, 102);
    assert_eq!(log.records[0].level, 4);
    assert_eq!(log.records[0].ts_nsec, 5_000_000_000);
}

#[test]
fn a_damaged_record_length_stops_the_record_buffer_with_a_notice() {
    let (mut m, vars) = record_buffer(512, 0, &[("one", ""), ("two", ""), ("three", "")]);
    m.write(LOG_BUF + 32 + 8, &[4, 0]); // "two": length 4, less than its header
    let btf = btf();
    let log = records::read(&m, Shapes::Btf(&btf), &vars).unwrap();
    assert_eq!(texts(&log), ["one"]);
    assert!(log.notices[0].contains("has length 4"), "{:?}", log.notices);
}

#[test]
fn the_layout_is_chosen_by_the_symbols() {
    let mut r = wrapping_ring();
    r.finish();
    let btf = btf();
    let prb_ptr = 0xffff_ffff_8600_0000;
    r.mem.region(prb_ptr, 8);
    r.mem.u64(prb_ptr, RB);
    let sym = |n: &str| (n == "prb").then_some(prb_ptr);
    let log = read_log(&r.mem, Shapes::Btf(&btf), &sym).unwrap();
    assert_eq!(log.format, LogFormat::Lockless);
    assert_eq!(log.records.len(), 5);
    let none = |_: &str| None;
    assert!(read_log(&r.mem, Shapes::Btf(&btf), &none)
        .unwrap_err()
        .contains("not one kdive reads"));
}

#[test]
fn bitfields_read_from_their_bits() {
    let btf = btf();
    let level = Shapes::Btf(&btf).field("printk_info", "level").unwrap();
    let flags = Shapes::Btf(&btf).field("printk_info", "flags").unwrap();
    let mut info = [0u8; 88];
    info[19] = (5 << 5) | 0b10011;
    assert_eq!((level.off, level.shift, level.bits), (19, 5, 3));
    assert_eq!(level.get(&info), Some(5));
    assert_eq!(flags.get(&info), Some(0b10011));
}

fn recs(lines: &[&str]) -> Vec<LogRecord> {
    lines
        .iter()
        .map(|l| LogRecord {
            text: l.as_bytes().to_vec(),
            ..LogRecord::default()
        })
        .collect()
}

#[test]
fn panic_message_is_the_start_of_the_last_report() {
    let gp = "general protection fault, probably for non-canonical address 0xdead: 0000 [#1] PREEMPT SMP NOPTI";
    let cases: [(&[&str], Option<&str>); 9] = [
        (
            &[
                "Kernel panic - not syncing: sysrq triggered crash",
                "Kernel Offset: 0x36c00000",
                "---[ end Kernel panic - not syncing: sysrq triggered crash ]---",
            ],
            Some("Kernel panic - not syncing: sysrq triggered crash"),
        ),
        (
            &[
                "Kernel Offset: 0",
                "---[ end Kernel panic - not syncing: Attempted to kill init! ]---",
            ],
            Some("Kernel panic - not syncing: Attempted to kill init!"),
        ),
        (
            &["boot", "insmod: x", gp, "CPU: 1 PID: 50", "RIP: 0010:f+0x1"],
            Some(gp),
        ),
        (
            &[
                "boot",
                "BUG: kernel NULL pointer dereference, address: 0000000000000008",
                "#PF: supervisor read access in kernel mode",
                "PGD 0 P4D 0 ",
                "Oops: 0000 [#1] PREEMPT SMP NOPTI",
                "CPU: 1",
            ],
            Some("BUG: kernel NULL pointer dereference, address: 0000000000000008"),
        ),
        (
            &[
                "sysrq: Trigger a crash",
                "Kernel panic - not syncing: sysrq triggered crash",
                "CPU: 1",
            ],
            Some("Kernel panic - not syncing: sysrq triggered crash"),
        ),
        (
            &[
                "kernel BUG at mm/slub.c:42!",
                "invalid opcode: 0000 [#1] SMP",
                "Kernel panic - not syncing: Fatal exception",
            ],
            Some("kernel BUG at mm/slub.c:42!"),
        ),
        (
            &[
                "Oops: 0002 [#1] SMP",
                "Kernel panic - not syncing: Fatal exception in interrupt",
            ],
            Some("Oops: 0002 [#1] SMP"),
        ),
        (
            &["Internal error: Oops: 96000005 [#1] PREEMPT SMP"],
            Some("Internal error: Oops: 96000005 [#1] PREEMPT SMP"),
        ),
        (&["all is well", "Run /init as init process", "[#1]"], None),
    ];
    for (lines, want) in cases {
        assert_eq!(panic_message(&recs(lines)).as_deref(), want, "{lines:?}");
    }
}

#[test]
fn records_across_chunks_read_whole_and_an_unreadable_ring_is_an_error() {
    // 128 KiB of text: blocks cross the reader's 64 KiB chunks.
    let mut r = Ring::new(7, 17, 0, 0);
    let texts_in: Vec<String> = (0..100)
        .map(|i| format!("{i:03}{}", "y".repeat(997)))
        .collect();
    for t in &texts_in {
        r.push(t, 6, ("", ""));
    }
    let log = r.read().unwrap();
    assert!(log.notices.is_empty(), "{:?}", log.notices);
    assert_eq!(texts(&log), texts_in);
    r.mem.holes.extend((0..32).map(|p| DATA + p * 4096));
    let err = r.read().unwrap_err();
    assert!(err.contains("no record of the log could be read"), "{err}");
}
