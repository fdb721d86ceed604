//! A tiny synthetic vmcore for tests and fuzz seeds: no real dump needed.
//!
//! [`Synth`] describes a machine of a few page frames, laid out as three
//! `PT_LOAD` segments:
//!
//! | pfn   | segment | state                                   |
//! |-------|---------|-----------------------------------------|
//! | 0..3  | A       | present (pfn 2 is all zeros)            |
//! | 3..5  | B       | present (B follows A in memory, not in the file) |
//! | 5..7  | B       | excluded (`p_filesz < p_memsz`)         |
//! | 7     | -       | hole (no segment)                       |
//! | 8..10 | C       | present (pfn 9 is incompressible)       |
//! | 10..  | -       | beyond the dump's memory                |
//!
//! The ELF file has an `NT_PRSTATUS` "CORE" note of 336 bytes and a
//! VMCOREINFO note. [`Synth::kdump`] converts it with
//! `kdive_dump::write::write_kdump`, [`flatten`] wraps any file in
//! makedumpfile's flattened format (`-F`).
//!
//! Shared by `tests/damaged.rs`, the CLI tests of `crates/kdive` and the
//! fuzz seed writer (`examples/fuzz_seeds.rs`), through `#[path]`.

#![allow(dead_code)]

use std::io::Cursor;

use kdive_dump::write::{write_kdump, WriteOptions};
use kdive_dump::{Compression, Dump, PageState};

/// `pr_pid` of the CPU note.
pub const PID: i32 = 4242;
/// `rip` and `rsp` of the CPU note.
pub const RIP: u64 = 0xffff_ffff_8123_4567;
pub const RSP: u64 = 0xffff_c900_0001_3e58;
pub const OSRELEASE: &str = "6.1.0-synthetic";
pub const CRASHTIME: i64 = 1_700_000_000;
pub const PHYS_BASE: u64 = 0x100_0000;

/// The page that is all zeros, and the one that does not compress.
pub const ZERO_PFN: u64 = 2;
pub const RANDOM_PFN: u64 = 9;

/// One `PT_LOAD` segment, in pages.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub pfn: u64,
    pub file_pages: u64,
    pub mem_pages: u64,
}

/// Where things are in the ELF file [`Synth::elf_layout`] builds.
#[derive(Debug, Clone)]
pub struct ElfLayout {
    pub phoff: u64,
    pub phnum: u64,
    /// File offset of the `PT_NOTE` program header.
    pub note_phdr: u64,
    /// File offset of each segment's program header, in [`Synth::segments`] order.
    pub load_phdrs: Vec<u64>,
    pub notes_at: u64,
    pub notes_len: u64,
    /// File offset of each segment's data, in [`Synth::segments`] order.
    pub data_at: Vec<u64>,
}

/// The synthetic machine.
#[derive(Debug, Clone)]
pub struct Synth {
    pub page_size: u64,
    pub segments: Vec<Segment>,
}

impl Synth {
    /// The standard layout (see the module doc) with pages of `page_size`.
    pub fn new(page_size: u64) -> Synth {
        Synth {
            page_size,
            segments: vec![
                Segment {
                    pfn: 0,
                    file_pages: 3,
                    mem_pages: 3,
                },
                Segment {
                    pfn: 3,
                    file_pages: 2,
                    mem_pages: 4,
                },
                Segment {
                    pfn: 8,
                    file_pages: 2,
                    mem_pages: 2,
                },
            ],
        }
    }

    /// 4 KiB pages.
    pub fn standard() -> Synth {
        Synth::new(4096)
    }

    /// One past the highest page frame.
    pub fn max_pfn(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| s.pfn + s.mem_pages)
            .max()
            .unwrap_or(0)
    }

    pub fn state(&self, pfn: u64) -> PageState {
        for s in &self.segments {
            if (s.pfn..s.pfn + s.file_pages).contains(&pfn) {
                return PageState::Present;
            }
            if (s.pfn..s.pfn + s.mem_pages).contains(&pfn) {
                return PageState::Excluded;
            }
        }
        if pfn >= self.max_pfn() {
            PageState::Beyond
        } else {
            PageState::NotInDump
        }
    }

    /// The page frames the dump holds, in order.
    pub fn present(&self) -> Vec<u64> {
        (0..self.max_pfn())
            .filter(|&p| self.state(p) == PageState::Present)
            .collect()
    }

    /// The contents of page frame `pfn`: a line naming it, then a pattern
    /// that compresses well; [`ZERO_PFN`] is zeros, [`RANDOM_PFN`] noise.
    pub fn page(&self, pfn: u64) -> Vec<u8> {
        let ps = self.page_size as usize;
        if pfn == ZERO_PFN {
            return vec![0u8; ps];
        }
        if pfn == RANDOM_PFN {
            let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ pfn;
            return (0..ps)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
        }
        let mut p: Vec<u8> = (0..ps)
            .map(|i| ((i / 16) as u8) ^ (pfn as u8).wrapping_mul(29))
            .collect();
        let tag = format!("kdive synthetic pfn {pfn:#x}\n");
        p[..tag.len()].copy_from_slice(tag.as_bytes());
        p
    }

    /// Expected bytes of physical memory `addr..addr + len`, all of it in
    /// present pages.
    pub fn phys(&self, addr: u64, len: usize) -> Vec<u8> {
        let ps = self.page_size;
        let mut out = Vec::with_capacity(len);
        let end = addr + len as u64;
        let mut a = addr;
        while a < end {
            let n = (ps - a % ps).min(end - a);
            let page = self.page(a / ps);
            out.extend_from_slice(&page[(a % ps) as usize..(a % ps + n) as usize]);
            a += n;
        }
        out
    }

    pub fn vmcoreinfo_text(&self) -> String {
        format!(
            "OSRELEASE={OSRELEASE}\nPAGESIZE={}\nCRASHTIME={CRASHTIME}\n\
             KERNELOFFSET=1f400000\nNUMBER(phys_base)={PHYS_BASE}\n\
             SYMBOL(init_task)=ffffffff82a0c940\n",
            self.page_size
        )
    }

    /// The note stream: one `NT_PRSTATUS` "CORE" note, one VMCOREINFO note.
    pub fn notes(&self) -> Vec<u8> {
        let mut pr = vec![0u8; kdive_dump::PRSTATUS_SIZE];
        pr[32..36].copy_from_slice(&PID.to_le_bytes());
        let reg = |i: usize| 112 + i * 8;
        pr[reg(16)..reg(16) + 8].copy_from_slice(&RIP.to_le_bytes());
        pr[reg(19)..reg(19) + 8].copy_from_slice(&RSP.to_le_bytes());
        let mut v = note("CORE", kdive_dump::NT_PRSTATUS, &pr);
        v.extend(note("VMCOREINFO", 0, self.vmcoreinfo_text().as_bytes()));
        v
    }

    /// The ELF vmcore.
    pub fn elf(&self) -> Vec<u8> {
        self.elf_layout().0
    }

    /// The ELF vmcore and where its parts are.
    pub fn elf_layout(&self) -> (Vec<u8>, ElfLayout) {
        let ps = self.page_size;
        let notes = self.notes();
        let phoff = 64u64;
        let phnum = 1 + self.segments.len() as u64;
        let notes_at = phoff + phnum * 56;
        // Program headers out of paddr order (the last segment first), and
        // the segments' data not contiguous in the file.
        let mut order: Vec<usize> = (0..self.segments.len()).collect();
        order.rotate_right(1);
        let mut load_phdrs = vec![0u64; self.segments.len()];
        for (slot, &i) in order.iter().enumerate() {
            load_phdrs[i] = phoff + 56 * (1 + slot as u64);
        }
        let mut data_at = Vec::new();
        let mut at = (notes_at + notes.len() as u64).next_multiple_of(ps);
        for s in &self.segments {
            data_at.push(at);
            at += s.file_pages * ps + 0x100;
        }
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2; // ELFCLASS64
        f[5] = 1; // little-endian
        f[6] = 1; // EV_CURRENT
        put16(&mut f, 16, 4); // ET_CORE
        put16(&mut f, 18, 62); // EM_X86_64
        put32(&mut f, 20, 1);
        put64(&mut f, 32, phoff);
        put16(&mut f, 52, 64);
        put16(&mut f, 54, 56);
        put16(&mut f, 56, phnum as u16);
        put16(&mut f, 58, 64);
        f.resize(notes_at as usize, 0);
        // PT_NOTE
        let ph = phoff as usize;
        put32(&mut f, ph, 4);
        put64(&mut f, ph + 8, notes_at);
        put64(&mut f, ph + 32, notes.len() as u64);
        put64(&mut f, ph + 48, 4);
        for (i, s) in self.segments.iter().enumerate() {
            let ph = load_phdrs[i] as usize;
            put32(&mut f, ph, 1); // PT_LOAD
            put32(&mut f, ph + 4, 7); // RWX
            put64(&mut f, ph + 8, data_at[i]);
            put64(&mut f, ph + 16, 0xffff_8880_0000_0000 + s.pfn * ps);
            put64(&mut f, ph + 24, s.pfn * ps);
            put64(&mut f, ph + 32, s.file_pages * ps);
            put64(&mut f, ph + 40, s.mem_pages * ps);
            put64(&mut f, ph + 48, 0);
        }
        f.extend_from_slice(&notes);
        for (i, s) in self.segments.iter().enumerate() {
            // Filler between segments: bytes no page holds.
            f.resize(data_at[i] as usize, 0xee);
            for pfn in s.pfn..s.pfn + s.file_pages {
                f.extend(self.page(pfn));
            }
        }
        let layout = ElfLayout {
            phoff,
            phnum,
            note_phdr: phoff,
            load_phdrs,
            notes_at,
            notes_len: notes.len() as u64,
            data_at,
        };
        (f, layout)
    }

    /// The dump as a kdump-compressed file, written by `write_kdump`.
    pub fn kdump(&self, compression: Compression) -> Vec<u8> {
        self.kdump_with(compression, false)
    }

    /// Same, optionally leaving zero pages out (dump level 1).
    pub fn kdump_with(&self, compression: Compression, exclude_zero: bool) -> Vec<u8> {
        let dump = Dump::from_bytes(self.elf()).expect("the synthetic ELF opens");
        let mut out = Cursor::new(Vec::new());
        let opts = WriteOptions {
            compression,
            exclude_zero,
        };
        let stats = write_kdump(&dump, opts, &mut out).expect("write_kdump");
        let mut v = out.into_inner();
        // A file's length is where the writer's last seek left it.
        v.resize(stats.bytes as usize, 0);
        v
    }
}

/// The compressions `write_kdump` writes.
pub const WRITABLE: [Compression; 4] = [
    Compression::None,
    Compression::Zlib,
    Compression::Snappy,
    Compression::Zstd,
];

/// Size of a flattened file's own header.
pub const FLAT_HEADER: usize = 4096;

/// `file` in makedumpfile's flattened format, as records of at most
/// `chunk` bytes. The first block is written twice, zeros first, the real
/// bytes last, so that a reader must let later records override earlier
/// ones (makedumpfile writes headers again at the end).
pub fn flatten(file: &[u8], chunk: usize) -> Vec<u8> {
    let mut f = flat_header();
    let head = file.len().min(4096);
    flat_record(&mut f, 0, &vec![0u8; head]);
    flat_records(&mut f, file, head, chunk);
    flat_record(&mut f, 0, &file[..head]);
    flat_end(&mut f);
    f
}

/// `file` flattened in order, each byte once: a cut at a record boundary
/// leaves a prefix of the file.
pub fn flatten_in_order(file: &[u8], chunk: usize) -> Vec<u8> {
    let mut f = flat_header();
    flat_records(&mut f, file, 0, chunk);
    flat_end(&mut f);
    f
}

fn flat_records(f: &mut Vec<u8>, file: &[u8], from: usize, chunk: usize) {
    let mut at = from;
    while at < file.len() {
        let n = chunk.min(file.len() - at);
        flat_record(f, at as i64, &file[at..at + n]);
        at += n;
    }
}

/// The 4096-byte header of a flattened file: signature, type 1, version 1.
pub fn flat_header() -> Vec<u8> {
    let mut f = vec![0u8; FLAT_HEADER];
    f[..13].copy_from_slice(b"makedumpfile\0");
    f[16..24].copy_from_slice(&1i64.to_be_bytes());
    f[24..32].copy_from_slice(&1i64.to_be_bytes());
    f
}

/// One record: offset and size as big-endian i64, then the data.
pub fn flat_record(f: &mut Vec<u8>, offset: i64, data: &[u8]) {
    f.extend_from_slice(&offset.to_be_bytes());
    f.extend_from_slice(&(data.len() as i64).to_be_bytes());
    f.extend_from_slice(data);
}

/// The end record (offset -1, size -1).
pub fn flat_end(f: &mut Vec<u8>) {
    f.extend_from_slice(&(-1i64).to_be_bytes());
    f.extend_from_slice(&(-1i64).to_be_bytes());
}

/// One ELF note, 4-byte aligned.
pub fn note(name: &str, kind: u32, desc: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((name.len() + 1) as u32).to_le_bytes());
    v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    v.extend_from_slice(&kind.to_le_bytes());
    v.extend_from_slice(name.as_bytes());
    v.push(0);
    v.resize(v.len().next_multiple_of(4), 0);
    v.extend_from_slice(desc);
    v.resize(v.len().next_multiple_of(4), 0);
    v
}

pub fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

pub fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

pub fn get32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

pub fn get64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Where things are in a kdump-compressed file (read back from its header).
#[derive(Debug, Clone, Copy)]
pub struct KdumpLayout {
    pub block_size: u64,
    pub sub_hdr_size: u64,
    pub bitmap_blocks: u64,
    pub bitmap1: u64,
    pub bitmap2: u64,
    pub desc_start: u64,
}

/// Offsets in `disk_dump_header` and `kdump_sub_header`.
pub mod kd {
    pub const STATUS: usize = 424;
    pub const BLOCK_SIZE: usize = 428;
    pub const SUB_HDR_SIZE: usize = 432;
    pub const BITMAP_BLOCKS: usize = 436;
    pub const MAX_MAPNR: usize = 440;
    /// In the sub-header (at `block_size`).
    pub const OFFSET_VMCOREINFO: usize = 32;
    pub const SIZE_VMCOREINFO: usize = 40;
    pub const OFFSET_NOTE: usize = 48;
    pub const SIZE_NOTE: usize = 56;
    pub const MAX_MAPNR_64: usize = 96;
}

impl KdumpLayout {
    pub fn of(file: &[u8]) -> KdumpLayout {
        let block_size = get32(file, kd::BLOCK_SIZE) as u64;
        let sub_hdr_size = get32(file, kd::SUB_HDR_SIZE) as u64;
        let bitmap_blocks = get32(file, kd::BITMAP_BLOCKS) as u64;
        let bitmap1 = (1 + sub_hdr_size) * block_size;
        let half = bitmap_blocks * block_size / 2;
        KdumpLayout {
            block_size,
            sub_hdr_size,
            bitmap_blocks,
            bitmap1,
            bitmap2: bitmap1 + half,
            desc_start: bitmap1 + 2 * half,
        }
    }

    /// File offset of the `index`th page descriptor.
    pub fn desc_at(&self, index: u64) -> u64 {
        self.desc_start + index * 24
    }

    /// The `index`th descriptor: (data offset, size, flags).
    pub fn desc(&self, file: &[u8], index: u64) -> (u64, u32, u32) {
        let at = self.desc_at(index) as usize;
        (get64(file, at), get32(file, at + 8), get32(file, at + 12))
    }
}

/// An LZO1X stream (which `write_kdump` cannot write) of a page of
/// `page_size` bytes repeating `pattern`: the 16 bytes as literals, one
/// match copying them over the rest, the end marker.
pub fn lzo_page(pattern: &[u8; 16], page_size: usize) -> (Vec<u8>, Vec<u8>) {
    let page: Vec<u8> = pattern.iter().copied().cycle().take(page_size).collect();
    let mut s = vec![17 + 16];
    s.extend_from_slice(pattern);
    // M3 match, distance 16: length 2 + 31 + 255 * zeros + last byte.
    let mut len = page_size - 16 - 33;
    s.push(0x20);
    while len > 255 {
        s.push(0);
        len -= 255;
    }
    s.push(len as u8);
    s.extend_from_slice(&[15 << 2, 0]);
    s.extend_from_slice(&[0x11, 0, 0]);
    (s, page)
}

/// The synthetic kdump (raw pages) with page 0 stored as LZO, holding
/// the page [`lzo_page`] gives for `pattern`.
pub fn kdump_with_lzo_page(s: &Synth, pattern: &[u8; 16]) -> (Vec<u8>, Vec<u8>) {
    let mut f = s.kdump(Compression::None);
    let l = KdumpLayout::of(&f);
    let (stream, page) = lzo_page(pattern, s.page_size as usize);
    let at = l.desc_at(0) as usize;
    let off = get64(&f, at) as usize;
    f[off..off + stream.len()].copy_from_slice(&stream);
    put32(&mut f, at + 8, stream.len() as u32);
    put32(&mut f, at + 12, Compression::Lzo.flag());
    put32(&mut f, kd::STATUS, Compression::Lzo.flag());
    (f, page)
}
