//! Damaged dumps, built from the synthetic one of `tests/common`: every kind
//! of damage gives its own error, naming the offset or address, and never a
//! panic. Also the valid reading the damage tests rely on: every page of the
//! synthetic dump reads back identical in every format.

mod common;

use common::*;
use kdive_dump::{Compression, Dump, Format, OpenError, PageState, ReadError};

const PS: u64 = 4096;

fn open(bytes: Vec<u8>) -> Result<Dump, OpenError> {
    Dump::from_bytes(bytes)
}

fn open_ok(bytes: Vec<u8>) -> Dump {
    open(bytes).unwrap_or_else(|e| panic!("synthetic dump does not open: {e}"))
}

fn open_err(bytes: Vec<u8>) -> OpenError {
    match open(bytes) {
        Ok(d) => panic!("opened a damaged dump ({:?})", d.format()),
        Err(e) => e,
    }
}

/// `msg` names `n` in hexadecimal, as the errors write offsets.
#[track_caller]
fn names(msg: &str, n: u64) {
    let hex = format!("{n:#x}");
    assert!(msg.contains(&hex), "{msg:?} does not name {hex}");
}

/// Every format of the standard synthetic dump: (name, file).
fn variants(s: &Synth) -> Vec<(String, Vec<u8>)> {
    let elf = s.elf();
    let mut v = vec![
        ("flat-elf".to_string(), flatten(&elf, 3000)),
        ("elf".to_string(), elf),
    ];
    for c in WRITABLE {
        let k = s.kdump(c);
        v.push((format!("flat-kdump-{}", c.name()), flatten(&k, 5000)));
        v.push((format!("kdump-{}", c.name()), k));
    }
    v
}

fn read_page(d: &Dump, pfn: u64) -> Result<Vec<u8>, ReadError> {
    let mut buf = vec![0u8; d.page_size() as usize];
    d.read_page(pfn, &mut buf).map(|()| buf)
}

// ---------------------------------------------------------------------------
// Valid reading

#[test]
fn every_page_reads_back_identical_in_every_format() {
    for ps in [4096, 512] {
        let s = Synth::new(ps);
        for (name, file) in variants(&s) {
            let d = open_ok(file);
            let want_format = if name.contains("elf") {
                Format::Elf
            } else {
                Format::Kdump
            };
            assert_eq!(d.format(), want_format, "{name}");
            assert_eq!(d.is_flattened(), name.starts_with("flat"), "{name}");
            assert_eq!(d.page_size(), ps, "{name}");
            assert_eq!(d.max_pfn(), s.max_pfn(), "{name}");
            let pfns: Vec<u64> = d.present_pfns().collect();
            assert_eq!(pfns, s.present(), "{name}");
            assert_eq!(d.present_pages(), s.present().len() as u64, "{name}");
            for pfn in 0..s.max_pfn() + 3 {
                assert_eq!(d.page_state(pfn), s.state(pfn), "{name} pfn {pfn}");
                if s.state(pfn) == PageState::Present {
                    let got = read_page(&d, pfn).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(got == s.page(pfn), "{name}: pfn {pfn} differs");
                }
            }
            assert_eq!(
                d.memory_ranges(),
                vec![0..7 * ps, 8 * ps..10 * ps],
                "{name}"
            );
            // Notes and what they say.
            assert_eq!(d.cpus().len(), 1, "{name}");
            assert_eq!(d.cpus()[0].pid, PID, "{name}");
            // x86-64's gregset: rip is the 17th register, rsp the 20th.
            assert_eq!(d.cpus()[0].regs.get(16), Some(&RIP), "{name}");
            assert_eq!(d.cpus()[0].regs.get(19), Some(&RSP), "{name}");
            assert_eq!(d.nr_cpus(), 1, "{name}");
            assert_eq!(d.release().as_deref(), Some(OSRELEASE), "{name}");
            assert_eq!(d.crash_time(), Some(CRASHTIME), "{name}");
            assert_eq!(d.phys_base(), Some(PHYS_BASE), "{name}");
            let vi = d.vmcoreinfo().expect("VMCOREINFO");
            assert_eq!(vi.kernel_offset(), Some(0x1f40_0000), "{name}");
            assert_eq!(
                vi.symbol("init_task"),
                Some(0xffff_ffff_82a0_c940),
                "{name}"
            );
        }
    }
}

#[test]
fn kdump_records_its_compression() {
    let s = Synth::standard();
    for c in WRITABLE {
        let d = open_ok(s.kdump(c));
        let want = if c == Compression::None {
            vec![]
        } else {
            vec![c]
        };
        assert_eq!(d.compression(), want);
        assert_eq!(d.header_version(), Some(6));
        assert!(!d.is_incomplete());
        // The compressible pages are stored compressed, the others raw.
        let file = s.kdump(c);
        let l = KdumpLayout::of(&file);
        for (i, pfn) in s.present().into_iter().enumerate() {
            let (_, size, flags) = l.desc(&file, i as u64);
            let raw = c == Compression::None || pfn == ZERO_PFN || pfn == RANDOM_PFN;
            assert_eq!(flags, if raw { 0 } else { c.flag() }, "{c:?} pfn {pfn}");
            assert_eq!(size as u64 == PS, raw, "{c:?} pfn {pfn}");
        }
    }
}

#[test]
fn kdump_lzo_page_reads() {
    for ps in [4096, 512] {
        let s = Synth::new(ps);
        let (f, page) = kdump_with_lzo_page(&s, b"0123456789abcdef");
        let d = open_ok(f);
        assert_eq!(d.compression(), vec![Compression::Lzo]);
        assert_eq!(read_page(&d, 0).unwrap(), page);
        assert_eq!(read_page(&d, 1).unwrap(), s.page(1));
    }
}

#[test]
fn page_state_and_read_errors_of_pages_not_held() {
    let s = Synth::standard();
    for (name, file) in variants(&s) {
        let d = open_ok(file);
        assert_eq!(d.page_state(5), PageState::Excluded, "{name}");
        assert_eq!(d.page_state(6), PageState::Excluded, "{name}");
        assert_eq!(d.page_state(7), PageState::NotInDump, "{name}");
        assert_eq!(d.page_state(10), PageState::Beyond, "{name}");
        assert_eq!(d.page_state(u64::MAX), PageState::Beyond, "{name}");
        assert_eq!(
            read_page(&d, 5),
            Err(ReadError::Excluded { addr: 0x5000 }),
            "{name}"
        );
        assert_eq!(
            read_page(&d, 7),
            Err(ReadError::NotInDump { addr: 0x7000 }),
            "{name}"
        );
        assert_eq!(
            read_page(&d, 10),
            Err(ReadError::BeyondMemory {
                addr: 0xa000,
                end: 0xa000
            }),
            "{name}"
        );
        let e = read_page(&d, u64::MAX).unwrap_err();
        assert!(matches!(e, ReadError::BeyondMemory { .. }), "{name}: {e}");
        let e = read_page(&d, 1 << 60).unwrap_err();
        assert!(matches!(e, ReadError::BeyondMemory { .. }), "{name}: {e}");
        let mut b = [0u8; 16];
        let e = d.read_phys(u64::MAX - 7, &mut b).unwrap_err();
        assert!(matches!(e, ReadError::BeyondMemory { .. }), "{name}: {e}");
        names(&read_page(&d, 6).unwrap_err().to_string(), 0x6000);
    }
    // Zero pages left out by dump level 1 are excluded.
    let d = open_ok(s.kdump_with(Compression::Zstd, true));
    assert_eq!(d.dump_level(), Some(1));
    assert_eq!(d.page_state(ZERO_PFN), PageState::Excluded);
    assert_eq!(
        read_page(&d, ZERO_PFN),
        Err(ReadError::Excluded {
            addr: ZERO_PFN * PS
        })
    );
    assert_eq!(read_page(&d, 1).unwrap(), s.page(1));
}

#[test]
fn read_phys_across_pages_and_segments() {
    let s = Synth::standard();
    for (name, file) in variants(&s) {
        let d = open_ok(file);
        let read = |addr: u64, len: usize| {
            let mut b = vec![0u8; len];
            d.read_phys(addr, &mut b).map(|()| b)
        };
        // Across a page boundary inside segment A.
        assert!(
            read(0x1000 - 37, 100).unwrap() == s.phys(0x1000 - 37, 100),
            "{name}"
        );
        // From segment A into segment B: adjacent in memory, apart in the file.
        assert!(
            read(0x3000 - 50, 100).unwrap() == s.phys(0x3000 - 50, 100),
            "{name}"
        );
        // Everything A and B hold, in one read.
        assert!(read(0, 0x5000).unwrap() == s.phys(0, 0x5000), "{name}");
        // Unaligned, a whole page's length, across two pages.
        assert!(
            read(0x8001, 4096).unwrap() == s.phys(0x8001, 4096),
            "{name}"
        );
        // Into the excluded part of B, the hole, past the end: the error names
        // the first byte that cannot be read.
        assert_eq!(
            read(0x5000 - 16, 32),
            Err(ReadError::Excluded { addr: 0x5000 }),
            "{name}"
        );
        assert_eq!(
            read(0x7000 - 8, 16),
            Err(ReadError::Excluded { addr: 0x7000 - 8 }),
            "{name}"
        );
        assert_eq!(
            read(0x8000 - 8, 16),
            Err(ReadError::NotInDump { addr: 0x8000 - 8 }),
            "{name}"
        );
        assert_eq!(
            read(0xa000 - 8, 16),
            Err(ReadError::BeyondMemory {
                addr: 0xa000,
                end: 0xa000
            }),
            "{name}"
        );
        assert_eq!(read(0x1234, 0), Ok(vec![]), "{name}");
    }
}

// ---------------------------------------------------------------------------
// Truncation

/// Where to cut a file: every byte of its first 16 and around `marks`, and
/// a hundred points spread over the rest.
fn cut_points(len: usize, marks: &[u64]) -> Vec<usize> {
    let mut v: Vec<usize> = (0..16).collect();
    for &m in marks {
        let m = m as usize;
        v.extend(
            [m.saturating_sub(1), m, m + 1]
                .into_iter()
                .filter(|&c| c < len),
        );
    }
    v.extend((0..100).map(|i| i * len / 100));
    v.push(len - 1);
    v.sort();
    v.dedup();
    v
}

/// A dump cut at `cut` (of `full_len` bytes): either it does not open, with
/// a "truncated" error naming a range past the cut, or it opens and every
/// page reads back right or as truncated.
fn check_cut(s: &Synth, what: &str, cut: usize, file: Vec<u8>, phys_len: u64) {
    let d = match open(file) {
        Err(OpenError::UnknownFormat) => {
            assert!(
                cut < 8 || what.starts_with("flat"),
                "{what} cut at {cut}: unknown format"
            );
            return;
        }
        Err(
            e @ OpenError::Truncated {
                offset,
                len,
                file_len,
                ..
            },
        ) => {
            assert!(offset + len > file_len, "{what} cut at {cut}: {e}");
            names(&e.to_string(), offset);
            return;
        }
        Err(e) => panic!("{what} cut at {cut}: wrong error {e:?}"),
        Ok(d) => d,
    };
    for pfn in s.present() {
        match read_page(&d, pfn) {
            Ok(page) => assert!(
                page == s.page(pfn),
                "{what} cut at {cut}: pfn {pfn} differs"
            ),
            Err(e @ ReadError::Truncated { addr, offset }) => {
                assert_eq!(addr, pfn * s.page_size, "{what} cut at {cut}");
                assert!(offset < phys_len, "{what} cut at {cut}: {e}");
                let msg = e.to_string();
                names(&msg, addr);
                names(&msg, offset);
            }
            Err(e) => panic!("{what} cut at {cut}: pfn {pfn}: wrong error {e:?}"),
        }
    }
}

#[test]
fn truncated_kdump_opens_cleanly_or_reads_as_truncated() {
    let s = Synth::standard();
    for c in WRITABLE {
        let file = s.kdump(c);
        let l = KdumpLayout::of(&file);
        let (data0, _, _) = l.desc(&file, 0);
        let marks = [
            8,
            464,
            PS,
            PS + 104,
            l.bitmap1,
            l.bitmap2,
            l.desc_start,
            l.desc_at(3),
            data0,
        ];
        let mut opened = 0;
        for cut in cut_points(file.len(), &marks) {
            let what = format!("kdump-{}", c.name());
            if cut > l.desc_start as usize {
                opened += 1;
            }
            check_cut(&s, &what, cut, file[..cut].to_vec(), file.len() as u64);
        }
        assert!(opened > 20, "too few cuts in the page data: {opened}");
    }
}

#[test]
fn truncated_kdump_names_descriptor_or_data_offset() {
    let s = Synth::standard();
    let file = s.kdump(Compression::Zstd);
    let l = KdumpLayout::of(&file);
    // Cut inside the descriptor of the third page: it and the ones after it
    // have no descriptor, the first two have one but no data (the data
    // follows the descriptors).
    let cut = l.desc_at(2) as usize + 10;
    let d = open_ok(file[..cut].to_vec());
    let (data1, _, _) = l.desc(&file, 1);
    assert_eq!(
        read_page(&d, 1),
        Err(ReadError::Truncated {
            addr: PS,
            offset: data1
        })
    );
    let pfn = s.present()[2];
    assert_eq!(
        read_page(&d, pfn),
        Err(ReadError::Truncated {
            addr: pfn * PS,
            offset: l.desc_at(2)
        })
    );
    // Cut inside the data of the last page.
    let last = s.present().len() as u64 - 1;
    let (off, size, _) = l.desc(&file, last);
    let d = open_ok(file[..(off + size as u64 / 2) as usize].to_vec());
    let pfn = *s.present().last().unwrap();
    assert_eq!(
        read_page(&d, pfn),
        Err(ReadError::Truncated {
            addr: pfn * PS,
            offset: off
        })
    );
    for p in &s.present()[..s.present().len() - 1] {
        assert_eq!(read_page(&d, *p).unwrap(), s.page(*p));
    }
}

#[test]
fn truncated_kdump_header_parts_name_what_is_missing() {
    let s = Synth::standard();
    let file = s.kdump(Compression::Zlib);
    let l = KdumpLayout::of(&file);
    let expect = |cut: usize, what_: &str, offset_: u64| match open_err(file[..cut].to_vec()) {
        OpenError::Truncated {
            what,
            offset,
            file_len,
            ..
        } => {
            assert_eq!(
                (what, offset, file_len),
                (what_, offset_, cut as u64),
                "cut at {cut}"
            );
        }
        e => panic!("cut at {cut}: {e:?}"),
    };
    expect(100, "kdump header", 0);
    expect(PS as usize + 50, "kdump sub-header", PS);
    let vmcoreinfo_at = get64(&file, PS as usize + kd::OFFSET_VMCOREINFO);
    expect(vmcoreinfo_at as usize + 5, "VMCOREINFO", vmcoreinfo_at);
    let notes_at = get64(&file, PS as usize + kd::OFFSET_NOTE);
    expect(notes_at as usize + 5, "ELF notes", notes_at);
    expect(l.bitmap2 as usize, "bitmaps", l.bitmap1);
    assert!(matches!(
        open_err(file[..5].to_vec()),
        OpenError::UnknownFormat
    ));
}

#[test]
fn truncated_elf_opens_cleanly_or_reads_as_truncated() {
    let s = Synth::standard();
    let (file, l) = s.elf_layout();
    let mut marks = vec![64, l.phoff + 56, l.notes_at, l.notes_at + l.notes_len];
    marks.extend(&l.data_at);
    marks.extend(l.data_at.iter().map(|a| a + PS));
    for cut in cut_points(file.len(), &marks) {
        check_cut(&s, "elf", cut, file[..cut].to_vec(), file.len() as u64);
    }
    // Named parts.
    match open_err(file[..40].to_vec()) {
        OpenError::Truncated {
            what,
            offset: 0,
            len: 64,
            file_len: 40,
        } => {
            assert_eq!(what, "ELF header")
        }
        e => panic!("{e:?}"),
    }
    match open_err(file[..100].to_vec()) {
        OpenError::Truncated {
            what, offset: 64, ..
        } => assert_eq!(what, "ELF program headers"),
        e => panic!("{e:?}"),
    }
    // Cut inside the notes: the notes are lost, not the dump.
    let d = open_ok(file[..(l.notes_at + 20) as usize].to_vec());
    assert!(d.cpus().is_empty() && d.vmcoreinfo().is_none());
    // Cut inside segment C's first page.
    let at = l.data_at[2] + 100;
    let d = open_ok(file[..at as usize].to_vec());
    assert_eq!(
        read_page(&d, 8),
        Err(ReadError::Truncated {
            addr: 0x8000,
            offset: l.data_at[2]
        })
    );
    let mut b = [0u8; 8];
    assert_eq!(
        d.read_phys(0x9000 + 8, &mut b),
        Err(ReadError::Truncated {
            addr: 0x9008,
            offset: l.data_at[2] + PS + 8
        })
    );
    assert_eq!(read_page(&d, 4).unwrap(), s.page(4));
}

#[test]
fn truncated_flat_opens_cleanly_or_reads_as_truncated() {
    let s = Synth::standard();
    let kdump = s.kdump(Compression::Snappy);
    let elf = s.elf();
    let files = [
        ("flat-kdump", flatten(&kdump, 3000), kdump.len()),
        (
            "flat-kdump-in-order",
            flatten_in_order(&kdump, 3000),
            kdump.len(),
        ),
        ("flat-elf-in-order", flatten_in_order(&elf, 1000), elf.len()),
    ];
    for (what, file, logical) in files {
        let marks: Vec<u64> = (0..file.len() as u64)
            .step_by(1016)
            .chain([13, 16, 24, 4095, 4096, 4096 + 16])
            .collect();
        for cut in cut_points(file.len(), &marks) {
            check_cut(&s, what, cut, file[..cut].to_vec(), logical as u64);
        }
    }
}

// ---------------------------------------------------------------------------
// Absurd kdump headers

fn kdump_with(edit: impl FnOnce(&mut Vec<u8>, &KdumpLayout)) -> Vec<u8> {
    let mut f = Synth::standard().kdump(Compression::Zstd);
    let l = KdumpLayout::of(&f);
    edit(&mut f, &l);
    f
}

#[test]
fn kdump_absurd_block_size() {
    for bs in [0u32, 3, 256, 4095, 1 << 30, u32::MAX, 0x8000_0000] {
        let f = kdump_with(|f, _| put32(f, kd::BLOCK_SIZE, bs));
        let e = open_err(f);
        match &e {
            OpenError::BadHeader {
                what: "kdump header",
                offset: 428,
                why,
            } => {
                assert!(why.contains("block size"), "{e}")
            }
            _ => panic!("block size {bs}: {e:?}"),
        }
        names(&e.to_string(), 428);
    }
}

#[test]
fn kdump_absurd_sub_header_size() {
    let e = open_err(kdump_with(|f, _| put32(f, kd::SUB_HDR_SIZE, 0x7fff_ffff)));
    match &e {
        OpenError::Truncated {
            what: "bitmaps",
            offset,
            ..
        } => {
            assert_eq!(*offset, 0x8000_0000 * PS);
            names(&e.to_string(), *offset);
        }
        _ => panic!("{e:?}"),
    }
    let e = open_err(kdump_with(|f, _| put32(f, kd::SUB_HDR_SIZE, 0x8000_0000)));
    assert!(
        matches!(e, OpenError::BadHeader { offset: 432, .. }),
        "{e:?}"
    );
    names(&e.to_string(), 432);
}

#[test]
fn kdump_absurd_bitmap_blocks() {
    for blocks in [u32::MAX, 0x10_0000, 1 << 31] {
        let e = open_err(kdump_with(|f, _| put32(f, kd::BITMAP_BLOCKS, blocks)));
        let l = KdumpLayout::of(&Synth::standard().kdump(Compression::Zstd));
        match &e {
            OpenError::Truncated {
                what: "bitmaps",
                offset,
                len,
                ..
            } => {
                assert_eq!((*offset, *len), (l.bitmap1, blocks as u64 * PS));
                names(&e.to_string(), l.bitmap1);
            }
            _ => panic!("{blocks}: {e:?}"),
        }
    }
    // No bitmap at all: a dump of no pages, not an error.
    let d = open_ok(kdump_with(|f, _| put32(f, kd::BITMAP_BLOCKS, 0)));
    assert_eq!(d.present_pfns().count(), 0);
    assert_eq!(d.max_pfn(), 0);
    assert!(matches!(
        read_page(&d, 0),
        Err(ReadError::BeyondMemory { .. })
    ));
}

#[test]
fn kdump_absurd_max_mapnr_is_bounded_by_the_bitmap() {
    let s = Synth::standard();
    let d = open_ok(kdump_with(|f, l| {
        put32(f, kd::MAX_MAPNR, u32::MAX);
        put64(f, (l.block_size as usize) + kd::MAX_MAPNR_64, u64::MAX);
    }));
    // One block per bitmap: 8 * 4096 bits.
    assert_eq!(d.max_pfn(), 8 * PS);
    assert_eq!(d.page_state(10), PageState::NotInDump);
    assert_eq!(d.page_state(8 * PS), PageState::Beyond);
    for pfn in s.present() {
        assert_eq!(read_page(&d, pfn).unwrap(), s.page(pfn));
    }
}

#[test]
fn kdump_absurd_note_sizes() {
    let cases = [
        (kd::SIZE_VMCOREINFO, "VMCOREINFO"),
        (kd::SIZE_NOTE, "ELF notes"),
    ];
    for (field, name) in cases {
        for size in [u64::MAX, 1 << 40, (64 << 20) + 1] {
            let e = open_err(kdump_with(|f, _| put64(f, PS as usize + field, size)));
            match &e {
                OpenError::BadHeader { what, offset, .. } => {
                    assert_eq!((*what, *offset), (name, PS + field as u64));
                }
                _ => panic!("{name} size {size:#x}: {e:?}"),
            }
            names(&e.to_string(), PS + field as u64);
        }
        // Within the limit but past the end of the file.
        let e = open_err(kdump_with(|f, _| put64(f, PS as usize + field, 64 << 20)));
        assert!(
            matches!(e, OpenError::Truncated { what, .. } if what == name),
            "{e:?}"
        );
    }
    // Offsets past the end of the file.
    for (field, name) in [
        (kd::OFFSET_VMCOREINFO, "VMCOREINFO"),
        (kd::OFFSET_NOTE, "ELF notes"),
    ] {
        for offset in [1u64 << 40, i64::MAX as u64] {
            let e = open_err(kdump_with(|f, _| put64(f, PS as usize + field, offset)));
            match &e {
                OpenError::Truncated {
                    what, offset: o, ..
                } => {
                    assert_eq!((*what, *o), (name, offset))
                }
                _ => panic!("{name} at {offset:#x}: {e:?}"),
            }
            names(&e.to_string(), offset);
        }
    }
}

#[test]
fn kdump_bitmap_claiming_pages_past_the_descriptors() {
    // Every bit set and max_mapnr as large as the bitmap: the descriptors of
    // the pages the bitmap invents lie in the page data, then past the file.
    let s = Synth::standard();
    let f = kdump_with(|f, l| {
        put64(f, l.block_size as usize + kd::MAX_MAPNR_64, 8 * PS);
        let (b1, b2, end) = (
            l.bitmap1 as usize,
            l.bitmap2 as usize,
            l.desc_start as usize,
        );
        f[b1..b2].fill(0xff);
        f[b2..end].fill(0xff);
    });
    let len = f.len() as u64;
    let l = KdumpLayout::of(&f);
    let d = open_ok(f);
    assert_eq!(d.present_pages(), 8 * PS);
    assert_eq!(d.present_pfns().count() as u64, 8 * PS);
    // Page 0 keeps its descriptor.
    assert_eq!(read_page(&d, 0).unwrap(), s.page(0));
    let mut truncated = 0;
    for pfn in d.present_pfns() {
        match read_page(&d, pfn) {
            Ok(_) => {}
            Err(ReadError::Corrupt { addr, .. }) => assert_eq!(addr, pfn * PS),
            Err(e @ ReadError::Truncated { addr, offset }) => {
                assert_eq!(addr, pfn * PS);
                if l.desc_at(pfn) + 24 > len {
                    assert_eq!(offset, l.desc_at(pfn), "{e}");
                    truncated += 1;
                }
            }
            Err(e) => panic!("pfn {pfn}: {e:?}"),
        }
    }
    assert!(truncated > 30_000, "{truncated}");
    let last = 8 * PS - 1;
    let e = read_page(&d, last).unwrap_err();
    assert_eq!(
        e,
        ReadError::Truncated {
            addr: last * PS,
            offset: l.desc_at(last)
        }
    );
    names(&e.to_string(), l.desc_at(last));
}

/// The synthetic kdump with the descriptor of the first page (pfn 0) changed.
fn with_desc0(c: Compression, edit: impl FnOnce(&mut [u8], u64, (u64, u32, u32))) -> (Dump, u64) {
    let mut f = Synth::standard().kdump(c);
    let l = KdumpLayout::of(&f);
    let at = l.desc_at(0);
    let d = l.desc(&f, 0);
    edit(&mut f, at, d);
    (open_ok(f), at)
}

#[test]
fn kdump_descriptor_pointing_past_the_file() {
    for offset in [1u64 << 40, u64::MAX, u64::MAX - 100, i64::MAX as u64] {
        let (d, _) = with_desc0(Compression::Zlib, |f, at, _| put64(f, at as usize, offset));
        let e = read_page(&d, 0).unwrap_err();
        assert_eq!(e, ReadError::Truncated { addr: 0, offset });
        names(&e.to_string(), offset);
        // The other pages are unharmed.
        assert_eq!(read_page(&d, 1).unwrap(), Synth::standard().page(1));
    }
    // Data straddling the end of the file.
    let len = Synth::standard().kdump(Compression::Zlib).len() as u64;
    let (d, _) = with_desc0(Compression::Zlib, |f, at, _| {
        put64(f, at as usize, len - 10)
    });
    assert_eq!(
        read_page(&d, 0),
        Err(ReadError::Truncated {
            addr: 0,
            offset: len - 10
        })
    );
}

#[test]
fn kdump_bad_compressed_length() {
    for c in WRITABLE {
        for size in [0u32, PS as u32 + 1, u32::MAX, 0x8000_0000] {
            let (d, at) = with_desc0(c, |f, at, _| put32(f, at as usize + 8, size));
            let e = read_page(&d, 0).unwrap_err();
            match &e {
                ReadError::Corrupt {
                    addr: 0,
                    offset,
                    why,
                } => {
                    assert_eq!(*offset, at, "{e}");
                    assert!(why.contains(&size.to_string()), "{e}");
                }
                _ => panic!("{c:?} size {size}: {e:?}"),
            }
            names(&e.to_string(), at);
            // read_phys in the middle of the page names that byte.
            let mut b = [0u8; 4];
            assert!(matches!(
                d.read_phys(0x123, &mut b),
                Err(ReadError::Corrupt { addr: 0x123, .. })
            ));
        }
    }
    // A zeroed descriptor: the writer ran out of room before this page.
    let (d, at) = with_desc0(Compression::Zstd, |f, at, _| {
        f[at as usize..at as usize + 24].fill(0)
    });
    assert_eq!(
        read_page(&d, 0),
        Err(ReadError::Truncated {
            addr: 0,
            offset: at
        })
    );
    // A size a little short or long of the real one.
    for c in [Compression::Zlib, Compression::Snappy, Compression::Zstd] {
        for delta in [-1i64, 1, -20] {
            let (d, _) = with_desc0(c, |f, at, (_, size, _)| {
                put32(f, at as usize + 8, (size as i64 + delta) as u32)
            });
            let e = read_page(&d, 0);
            // A longer size can still decompress (trailing bytes ignored).
            if delta < 0 {
                let e = e.unwrap_err();
                assert!(
                    matches!(e, ReadError::Corrupt { addr: 0, .. }),
                    "{c:?} {delta}: {e:?}"
                );
            } else if let Err(e) = e {
                assert!(
                    matches!(e, ReadError::Corrupt { addr: 0, .. }),
                    "{c:?} {delta}: {e:?}"
                );
            }
        }
    }
    // A raw page shorter than a page.
    let (d, at) = with_desc0(Compression::None, |f, at, _| {
        put32(f, at as usize + 8, PS as u32 - 1)
    });
    let e = read_page(&d, 0).unwrap_err();
    assert!(
        matches!(&e, ReadError::Corrupt { why, .. } if why.contains("uncompressed page of 4095 bytes")),
        "{e:?}"
    );
    let _ = at;
}

#[test]
fn kdump_garbage_in_compressed_page() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    for c in [Compression::Zlib, Compression::Snappy, Compression::Zstd] {
        let file = Synth::standard().kdump(c);
        let l = KdumpLayout::of(&file);
        let (off, size, _) = l.desc(&file, 0);
        let (d, _) = with_desc0(c, |f, _, (off, size, flags)| {
            assert_eq!(flags, c.flag());
            let (o, n) = (off as usize, size as usize);
            f[o..o + n].copy_from_slice(&garbage[..n]);
        });
        let e = read_page(&d, 0).unwrap_err();
        match &e {
            ReadError::Corrupt {
                addr: 0,
                offset,
                why,
            } => {
                assert_eq!(*offset, off);
                assert!(why.contains(c.name()), "{e}");
            }
            _ => panic!("{c:?}: {e:?}"),
        }
        names(&e.to_string(), off);
        // Garbage in one byte at a time, all through the compressed data.
        for i in 0..size as usize {
            for v in [0x00, 0xff, file[off as usize + i] ^ 0x5a] {
                let mut f = file.clone();
                f[off as usize + i] = v;
                let d = open_ok(f);
                match read_page(&d, 0) {
                    Ok(_) => {} // some bytes do not matter (checksums off)
                    Err(ReadError::Corrupt {
                        addr: 0, offset, ..
                    }) => assert_eq!(offset, off),
                    Err(e) => panic!("{c:?} byte {i} = {v:#x}: {e:?}"),
                }
            }
        }
    }
    // LZO, which kdive cannot write: a page flagged LZO holding garbage, and
    // one holding another method's data.
    for data in [&garbage[..300], &[0x11, 0, 0][..], &[0xff; 64][..]] {
        let (d, _) = with_desc0(Compression::None, |f, at, (off, _, _)| {
            let o = off as usize;
            f[o..o + data.len()].copy_from_slice(data);
            put32(f, at as usize + 8, data.len() as u32);
            put32(f, at as usize + 12, Compression::Lzo.flag());
        });
        let e = read_page(&d, 0).unwrap_err();
        assert!(
            matches!(&e, ReadError::Corrupt { addr: 0, why, .. } if why.contains("lzo")),
            "{e:?}"
        );
    }
    // Flags naming an unknown method only: read as raw.
    let (d, _) = with_desc0(Compression::None, |f, at, _| {
        put32(f, at as usize + 12, 0x8000_0000)
    });
    assert_eq!(read_page(&d, 0).unwrap(), Synth::standard().page(0));
    // Valid data of the wrong length.
    let short = kdive_dump::compress(Compression::Zstd, &[7u8; 1000]).unwrap();
    let (d, _) = with_desc0(Compression::Zstd, |f, at, (off, _, _)| {
        let o = off as usize;
        f[o..o + short.len()].copy_from_slice(&short);
        put32(f, at as usize + 8, short.len() as u32);
    });
    let e = read_page(&d, 0).unwrap_err();
    assert!(
        matches!(&e, ReadError::Corrupt { why, .. } if why.contains("1000")),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------
// Absurd ELF headers

fn elf_with(edit: impl FnOnce(&mut Vec<u8>, &ElfLayout)) -> Vec<u8> {
    let (mut f, l) = Synth::standard().elf_layout();
    edit(&mut f, &l);
    f
}

#[test]
fn elf_absurd_program_headers() {
    let e = open_err(elf_with(|f, _| put16(f, 54, 0)));
    assert!(
        matches!(
            e,
            OpenError::BadHeader {
                what: "ELF header",
                offset: 54,
                ..
            }
        ),
        "{e:?}"
    );
    names(&e.to_string(), 54);
    // phnum 0xfffe: the table runs past the file.
    let e = open_err(elf_with(|f, _| put16(f, 56, 0xfffe)));
    match &e {
        OpenError::Truncated {
            what: "ELF program headers",
            offset: 64,
            len,
            ..
        } => {
            assert_eq!(*len, 0xfffe * 56)
        }
        _ => panic!("{e:?}"),
    }
    // PN_XNUM: the count is in section header 0, which is not there ...
    let e = open_err(elf_with(|f, _| {
        put16(f, 56, 0xffff);
        put64(f, 40, 1 << 40);
    }));
    assert!(
        matches!(
            e,
            OpenError::Truncated {
                what: "ELF section header 0",
                offset: 0x100_0000_0000,
                ..
            }
        ),
        "{e:?}"
    );
    // ... or says 4 billion.
    let e = open_err(elf_with(|f, _| {
        put16(f, 56, 0xffff);
        put64(f, 40, 0x100);
        put32(f, 0x100 + 44, u32::MAX);
    }));
    assert!(
        matches!(
            e,
            OpenError::BadHeader {
                what: "ELF header",
                offset: 56,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("4294967295 program headers"), "{e}");
    // A table offset at the very end of the address space.
    for phoff in [u64::MAX, u64::MAX - 55, 1 << 63] {
        let e = open_err(elf_with(|f, _| put64(f, 32, phoff)));
        assert!(
            matches!(
                e,
                OpenError::Truncated {
                    what: "ELF program headers",
                    ..
                }
            ),
            "{e:?}"
        );
        names(&e.to_string(), phoff);
    }
    // 32-bit and big-endian files are not read.
    let e = open_err(elf_with(|f, _| f[4] = 1));
    assert!(matches!(e, OpenError::Unsupported(_)), "{e:?}");
    let e = open_err(elf_with(|f, _| f[5] = 2));
    assert!(matches!(e, OpenError::Unsupported(_)), "{e:?}");
}

#[test]
fn elf_load_overflow_and_inconsistent_sizes() {
    let phdr_b = Synth::standard().elf_layout().1.load_phdrs[1];
    let cases: [(u64, u64, u64, u64, &str); 4] = [
        // (paddr, filesz, memsz, offset, what the message says)
        (u64::MAX - 0xfff, 0x1000, 0x2000, 0x1000, "overflows"),
        (u64::MAX, 0, 1, 0x1000, "overflows"),
        (
            0x3000,
            0x3000,
            0x2000,
            0x1000,
            "filesz 0x3000 > memsz 0x2000",
        ),
        (0x3000, 0x2000, 0x4000, u64::MAX - 0xfff, "offset"),
    ];
    for (paddr, filesz, memsz, offset, says) in cases {
        let e = open_err(elf_with(|f, _| {
            let ph = phdr_b as usize;
            put64(f, ph + 8, offset);
            put64(f, ph + 24, paddr);
            put64(f, ph + 32, filesz);
            put64(f, ph + 40, memsz);
        }));
        match &e {
            OpenError::BadHeader {
                what: "ELF PT_LOAD",
                offset,
                why,
            } => {
                assert_eq!(*offset, phdr_b);
                assert!(why.contains(says), "{e}");
            }
            _ => panic!("paddr {paddr:#x} memsz {memsz:#x}: {e:?}"),
        }
        names(&e.to_string(), phdr_b);
    }
    // A segment ending at the very top of the address space is valid.
    let d = open_ok(elf_with(|f, l| {
        let ph = l.load_phdrs[2] as usize;
        put64(f, ph + 24, 0xffff_ffff_ffff_e000);
        put64(f, ph + 32, 0x1fff);
        put64(f, ph + 40, 0x1fff);
    }));
    let top = u64::MAX / PS;
    assert_eq!(d.max_pfn(), top + 1);
    assert_eq!(d.present_pages(), 6);
    assert_eq!(read_page(&d, top - 1).unwrap(), Synth::standard().page(8));
    assert_eq!(d.page_state(top - 1), PageState::Present);
    assert_eq!(d.page_state(top), PageState::NotInDump);
    assert_eq!(d.page_state(u64::MAX), PageState::Beyond);
    let e = read_page(&d, top).unwrap_err();
    assert_eq!(
        e,
        ReadError::BeyondMemory {
            addr: u64::MAX,
            end: u64::MAX
        }
    );
    let e = read_page(&d, u64::MAX).unwrap_err();
    assert!(matches!(e, ReadError::BeyondMemory { .. }), "{e:?}");
    let mut b = [0u8; 64];
    let e = d.read_phys(u64::MAX - 31, &mut b).unwrap_err();
    assert_eq!(
        e,
        ReadError::BeyondMemory {
            addr: u64::MAX,
            end: u64::MAX
        }
    );
}

#[test]
fn elf_segment_data_past_the_file() {
    let len = Synth::standard().elf().len() as u64;
    let d = open_ok(elf_with(|f, l| {
        put64(f, l.load_phdrs[2] as usize + 8, 1 << 40)
    }));
    assert_eq!(
        read_page(&d, 8),
        Err(ReadError::Truncated {
            addr: 0x8000,
            offset: 1 << 40
        })
    );
    assert_eq!(
        read_page(&d, 9),
        Err(ReadError::Truncated {
            addr: 0x9000,
            offset: (1 << 40) + PS
        })
    );
    // Straddling the end.
    let d = open_ok(elf_with(|f, l| {
        put64(f, l.load_phdrs[2] as usize + 8, len - PS - 10)
    }));
    assert_eq!(
        read_page(&d, 9),
        Err(ReadError::Truncated {
            addr: 0x9000,
            offset: len - 10
        })
    );
    // A segment that claims far more than the file holds: counting its pages
    // must not walk them one by one.
    let d = open_ok(elf_with(|f, l| {
        put64(f, l.load_phdrs[2] as usize + 32, 1 << 50);
        put64(f, l.load_phdrs[2] as usize + 40, 1 << 50);
    }));
    assert_eq!(d.present_pages(), 5 + (1u64 << 50) / PS);
    assert_eq!(d.present_pfns().take(10).count(), 10);
    assert_eq!(
        d.memory_ranges(),
        vec![0..0x7000, 0x8000..0x8000 + (1 << 50)]
    );
    let e = read_page(&d, 1 << 30).unwrap_err();
    assert!(matches!(e, ReadError::Truncated { .. }), "{e:?}");
}

#[test]
fn elf_absurd_note_sizes() {
    let s = Synth::standard();
    // A note segment past the end or of absurd size loses the notes only.
    for (offset, size) in [
        (0x100, u64::MAX),
        (u64::MAX, 0x100),
        (1 << 40, 1 << 40),
        (0x100, 1 << 40),
    ] {
        let d = open_ok(elf_with(|f, l| {
            put64(f, l.note_phdr as usize + 8, offset);
            put64(f, l.note_phdr as usize + 32, size);
        }));
        assert!(d.notes().is_empty() && d.cpus().is_empty() && d.vmcoreinfo().is_none());
        assert_eq!(d.page_size(), PS);
        assert_eq!(read_page(&d, 8).unwrap(), s.page(8));
    }
    // Note headers with huge sizes: the notes before them are kept.
    let cpu_note_len = 12 + 8 + kdive_dump::PRSTATUS_SIZE as u64;
    for (field, value) in [
        (0, u32::MAX),
        (4, u32::MAX),
        (4, 0x7fff_fff0),
        (0, 0xffff_fffd),
    ] {
        let d = open_ok(elf_with(|f, l| {
            put32(f, (l.notes_at + cpu_note_len) as usize + field, value)
        }));
        assert_eq!(d.cpus().len(), 1);
        assert!(d.vmcoreinfo().is_none());
        assert_eq!(d.release(), None);
    }
    // The CPU note cut short: no CPU from it.
    let d = open_ok(elf_with(|f, l| put32(f, l.notes_at as usize + 4, 100)));
    assert!(d.cpus().is_empty());
}

// ---------------------------------------------------------------------------
// Flattened files

#[test]
fn flat_damaged_records() {
    let kdump = Synth::standard().kdump(Compression::Zlib);
    let flat = flatten_in_order(&kdump, 3000);
    // Wrong type.
    let mut f = flat.clone();
    f[16..24].copy_from_slice(&2i64.to_be_bytes());
    let e = open_err(f);
    assert!(
        matches!(
            e,
            OpenError::BadHeader {
                what: "flattened header",
                offset: 16,
                ..
            }
        ),
        "{e:?}"
    );
    // Header shorter than 4096 bytes.
    let e = open_err(flat[..2000].to_vec());
    assert!(
        matches!(
            e,
            OpenError::Truncated {
                what: "flattened header",
                file_len: 2000,
                ..
            }
        ),
        "{e:?}"
    );
    // A negative size or offset in the second record.
    let second = FLAT_HEADER + 16 + 3000;
    for (field, v) in [(8, -5i64), (0, -2), (8, i64::MIN), (0, i64::MIN)] {
        let mut f = flat.clone();
        f[second + field..second + field + 8].copy_from_slice(&v.to_be_bytes());
        let e = open_err(f);
        match &e {
            OpenError::BadHeader {
                what: "flattened record",
                offset,
                ..
            } => {
                assert_eq!(*offset, second as u64)
            }
            _ => panic!("{e:?}"),
        }
        names(&e.to_string(), second as u64);
    }
    // A size past the end of the file.
    for size in [i64::MAX, 1 << 40, flat.len() as i64] {
        let mut f = flat.clone();
        f[second + 8..second + 16].copy_from_slice(&size.to_be_bytes());
        let e = open_err(f);
        match &e {
            OpenError::Truncated {
                what: "flattened record data",
                offset,
                len,
                ..
            } => {
                assert_eq!((*offset, *len), (second as u64 + 16, size as u64))
            }
            _ => panic!("{e:?}"),
        }
    }
    // A record far away in the logical file: the rest still reads.
    let mut f = flat[..flat.len() - 16].to_vec();
    flat_record(&mut f, i64::MAX - 8, b"far away");
    flat_end(&mut f);
    let d = open_ok(f);
    assert_eq!(read_page(&d, 0).unwrap(), Synth::standard().page(0));
}

#[test]
fn flat_sparse_logical_file_does_not_allocate_its_holes() {
    // One record at the end of a huge logical file makes every range of it
    // readable, as zeros. The headers' sizes can then point into the holes;
    // that must not make the reader allocate them.
    let s = Synth::standard();
    let sparse = |file: &[u8]| {
        let mut f = flatten_in_order(file, 3000);
        f.truncate(f.len() - 16);
        flat_record(&mut f, 1 << 50, b"far away");
        flat_end(&mut f);
        f
    };
    // An ELF note segment of a petabyte.
    let d = open_ok(sparse(&elf_with(|f, l| {
        put64(f, l.note_phdr as usize + 32, 1 << 49)
    })));
    assert!(d.cpus().is_empty());
    assert_eq!(read_page(&d, 1).unwrap(), s.page(1));
    // A program header table of 4 million entries, in a hole.
    let e = open(sparse(&elf_with(|f, _| {
        put16(f, 56, 0xffff);
        put64(f, 40, 0x100);
        put32(f, 0x100 + 44, 1 << 22);
        put64(f, 32, 1 << 49);
    })));
    if let Err(e) = e {
        assert!(matches!(e, OpenError::Truncated { .. }), "{e:?}");
    }
    // kdump bitmaps of 2^31 blocks, in a hole.
    let e = open(sparse(&kdump_with(|f, _| {
        put32(f, kd::BITMAP_BLOCKS, 1 << 31)
    })));
    assert!(
        matches!(
            e,
            Err(OpenError::Truncated {
                what: "bitmaps",
                ..
            })
        ),
        "{:?}",
        e.err()
    );
    // VMCOREINFO of 64 MiB, in a hole.
    let e = open(sparse(&kdump_with(|f, _| {
        put64(f, PS as usize + kd::OFFSET_VMCOREINFO, 1 << 48);
        put64(f, PS as usize + kd::SIZE_VMCOREINFO, 64 << 20);
    })));
    assert!(
        matches!(
            e,
            Err(OpenError::Truncated {
                what: "VMCOREINFO",
                ..
            })
        ),
        "{:?}",
        e.err()
    );
}

// ---------------------------------------------------------------------------
// Not dumps at all

#[test]
fn tiny_and_random_inputs() {
    assert!(matches!(open_err(vec![]), OpenError::UnknownFormat));
    assert!(matches!(
        open_err(b"\x7fEL".to_vec()),
        OpenError::UnknownFormat
    ));
    let e = open_err(b"\x7fELF\x02\x01\x01\0".to_vec());
    assert!(
        matches!(
            e,
            OpenError::Truncated {
                what: "ELF header",
                ..
            }
        ),
        "{e:?}"
    );
    let e = open_err(b"KDUMP   ".to_vec());
    assert!(
        matches!(
            e,
            OpenError::Truncated {
                what: "kdump header",
                ..
            }
        ),
        "{e:?}"
    );
    let e = open_err(b"DISKDUMP".iter().copied().chain([0; 600]).collect());
    assert!(matches!(e, OpenError::Unsupported(_)), "{e:?}");
    let e = open_err(b"makedumpfile\0".to_vec());
    assert!(
        matches!(
            e,
            OpenError::Truncated {
                what: "flattened header",
                ..
            }
        ),
        "{e:?}"
    );
    // A flattened file of no records describes an empty file.
    let mut f = flat_header();
    flat_end(&mut f);
    assert!(matches!(open_err(f), OpenError::UnknownFormat));
    // Random bytes, with and without a signature in front.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    for n in [1, 100, 5000, 70_000] {
        let r = random(n);
        assert!(matches!(open_err(r.clone()), OpenError::UnknownFormat));
        for sig in [&b"KDUMP   "[..], b"\x7fELF\x02\x01", b"makedumpfile\0"] {
            let mut f = sig.to_vec();
            f.extend(&r);
            if let Ok(d) = open(f) {
                for pfn in d.present_pfns().take(100) {
                    let _ = read_page(&d, pfn);
                }
            }
        }
    }
}
