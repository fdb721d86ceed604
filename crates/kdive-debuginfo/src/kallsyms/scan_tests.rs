//! The scan on synthetic read-only data holding kallsyms as
//! `scripts/kallsyms` of 4.14 (count and markers unsigned long), 5.10, 6.1
//! (Debian's, with the seqs backported), 6.12 and 7.0 lays it out, among
//! junk.

use std::ops::Range;

use super::*;
use kdive_dump::{FnMemory, MemError, Memory};

const BASE: u64 = 0xffff_ffff_8200_0000;
const TEXT: u64 = 0xffff_ffff_8100_0000;
const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V4_14,
    V5_10,
    V6_1,
    V6_12,
    V7_0,
}
use Version::*;

impl Version {
    fn align(self) -> usize {
        if self == V7_0 {
            4
        } else {
            8
        }
    }
    /// Offsets and relative base before the count (up to 6.3).
    fn offsets_first(self) -> bool {
        matches!(self, V4_14 | V5_10 | V6_1)
    }
    /// Count and markers as unsigned long, not u32.
    fn long_markers(self) -> bool {
        self == V4_14
    }
    fn one_byte_counts(self) -> bool {
        matches!(self, V4_14 | V5_10)
    }
    fn encoding(self) -> AddressEncoding {
        if self == V7_0 {
            AddressEncoding::PlaceRelative
        } else {
            AddressEncoding::AbsolutePercpu
        }
    }
}

type Sym = (char, String, u64);

fn symbols(v: Version) -> Vec<Sym> {
    let mut s: Vec<Sym> = vec![('T', "_text".into(), TEXT), ('T', "_stext".into(), TEXT)];
    if v != V7_0 {
        s.insert(0, ('A', "fixed_percpu_data".into(), 0));
        s.insert(1, ('A', "cpu_number".into(), 0x2000));
    }
    for i in 0..700u64 {
        s.push(('t', format!("fn_{i}"), TEXT + 0x100 + i * 0x40));
    }
    // Past 127 tokens: the count formats differ (5.10 allows 255 in one byte).
    s.insert(100, ('T', format!("long_{}", "x".repeat(200)), TEXT + 0xf0));
    s.sort_by_key(|x| x.2);
    s
}

/// Bytes that look like nothing, with a decoy: 256 increasing u16 from 0
/// that no token table precedes.
fn junk(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    let mut v: Vec<u8> = (0..len)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    if len > 4096 {
        for i in 0..256u16 {
            v[2048 + 2 * i as usize..][..2].copy_from_slice(&(i * 3).to_le_bytes());
        }
    }
    v
}

struct Image {
    mem: Vec<u8>,
    loc: KallsymsLocations,
}

fn label(m: &mut Vec<u8>, a: usize) -> u64 {
    while m.len() % a != 0 {
        m.push(0);
    }
    BASE + m.len() as u64
}

/// The tokens: each printable byte stands for itself; the other slots hold
/// longer tokens the names do not use, or nothing.
fn token(b: u8) -> Vec<u8> {
    match b {
        b if b.is_ascii_graphic() => vec![b],
        b if b % 2 == 0 => Vec::new(),
        b => format!("tok{b}").into_bytes(),
    }
}

fn image(v: Version, syms: &[Sym], prefix: usize) -> Image {
    let (a, n) = (v.align(), syms.len());
    let mut m = junk(prefix, 7);
    let mut loc = KallsymsLocations::default();
    let addresses = |m: &mut Vec<u8>, loc: &mut KallsymsLocations| {
        let at = label(m, a);
        loc.offsets = Some(at);
        for (i, (_, _, addr)) in syms.iter().enumerate() {
            let off: i64 = match v.encoding() {
                AddressEncoding::AbsolutePercpu if *addr < TEXT => *addr as i64,
                AddressEncoding::AbsolutePercpu => -((addr - TEXT) as i64) - 1,
                _ => addr.wrapping_sub(at + 4 * i as u64) as i64,
            };
            m.extend_from_slice(&(off as i32).to_le_bytes());
        }
        if v != V7_0 {
            loc.relative_base = Some(label(m, a));
            m.extend_from_slice(&TEXT.to_le_bytes());
        }
    };
    let seqs = |m: &mut Vec<u8>| {
        label(m, a);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| &syms[i].1);
        for i in order {
            m.extend_from_slice(&(i as u32).to_be_bytes()[1..]);
        }
    };
    if v.offsets_first() {
        addresses(&mut m, &mut loc);
    }
    loc.num_syms = label(&mut m, a);
    m.extend_from_slice(&(n as u32).to_le_bytes());
    if v.long_markers() {
        m.extend_from_slice(&[0; 4]);
    }
    loc.names = label(&mut m, a);
    let mut markers = Vec::new();
    for (i, (kind, name, _)) in syms.iter().enumerate() {
        if i % 256 == 0 {
            markers.push((BASE + m.len() as u64 - loc.names) as u32);
        }
        let count = 1 + name.len();
        if count >= 0x80 && !v.one_byte_counts() {
            m.extend_from_slice(&[0x80 | (count & 0x7f) as u8, (count >> 7) as u8]);
        } else {
            m.push(count as u8);
        }
        m.push(*kind as u8);
        m.extend_from_slice(name.as_bytes());
    }
    label(&mut m, a);
    for k in markers {
        m.extend_from_slice(&k.to_le_bytes());
        if v.long_markers() {
            m.extend_from_slice(&[0; 4]);
        }
    }
    if v == V6_1 {
        seqs(&mut m);
    }
    loc.token_table = label(&mut m, a);
    let mut index = Vec::new();
    for b in 0..=255u8 {
        index.push((BASE + m.len() as u64 - loc.token_table) as u16);
        m.extend_from_slice(&token(b));
        m.push(0);
    }
    loc.token_index = label(&mut m, a);
    for i in index {
        m.extend_from_slice(&i.to_le_bytes());
    }
    if !v.offsets_first() {
        addresses(&mut m, &mut loc);
        seqs(&mut m);
    }
    label(&mut m, 4096);
    m.extend_from_slice(&junk(8192, 11));
    Image { mem: m, loc }
}

fn read(img: &Image, hole: Option<Range<u64>>) -> impl Memory + '_ {
    FnMemory(move |addr: u64, buf: &mut [u8]| {
        let bad = |why: &str| MemError::Invalid {
            vaddr: addr,
            why: why.into(),
        };
        if hole
            .as_ref()
            .is_some_and(|h| addr < h.end && addr + buf.len() as u64 > h.start)
        {
            return Err(bad("excluded page"));
        }
        let off = addr
            .checked_sub(BASE)
            .ok_or_else(|| bad("below the image"))? as usize;
        let src = img
            .mem
            .get(off..off + buf.len())
            .ok_or_else(|| bad("beyond the image"))?;
        buf.copy_from_slice(src);
        Ok(())
    })
}

fn check(v: Version, img: &Image, got: &Scanned, syms: &[Sym]) {
    let mut loc = got.loc.clone();
    (loc.stext, loc.release) = (None, None);
    assert_eq!(loc, img.loc, "{v:?}");
    let k = &got.kallsyms;
    assert_eq!(
        (k.num_syms, k.encoding),
        (syms.len(), v.encoding()),
        "{v:?}"
    );
    assert!(k.markers_match);
    let want: Vec<(char, &str, u64)> = syms
        .iter()
        .filter(|s| !is_noise(&s.1))
        .map(|s| (s.0, s.1.as_str(), s.2))
        .collect();
    let have: Vec<(char, &str, u64)> = k
        .symbols
        .iter()
        .map(|s| (s.kind, s.name.as_str(), s.addr))
        .collect();
    assert_eq!(have, want, "{v:?}");
}

#[test]
fn every_layout_is_found() {
    for v in [V4_14, V5_10, V6_1, V6_12, V7_0] {
        let syms = symbols(v);
        let img = image(v, &syms, 3 * 4096 + 24);
        let end = BASE + img.mem.len() as u64;
        for stext in [Some(TEXT), None] {
            let hints = ScanHints {
                stext,
                release: None,
            };
            let got = scan(BASE..end, &hints, &read(&img, None)).unwrap();
            check(v, &img, &got, &syms);
        }
    }
}

#[test]
fn excluded_pages_are_skipped() {
    let syms = symbols(V6_1);
    let img = image(V6_1, &syms, 5 * 4096);
    let end = BASE + img.mem.len() as u64;
    let got = scan(
        BASE..end,
        &ScanHints::default(),
        &read(&img, Some(BASE + 4096..BASE + 3 * 4096)),
    )
    .unwrap();
    check(V6_1, &img, &got, &syms);
    assert!(got.scanned < img.mem.len() as u64);
}

#[test]
fn an_index_across_chunks_is_found() {
    for v in [V5_10, V6_12] {
        let syms = symbols(v);
        let first = image(v, &syms, 4096);
        let index = (first.loc.token_index - BASE) as usize;
        let img = image(v, &syms, 4096 + CHUNK - 200 - index);
        assert!((img.loc.token_index - BASE) as usize + 512 > CHUNK);
        let got = scan(
            BASE..BASE + img.mem.len() as u64,
            &ScanHints::default(),
            &read(&img, None),
        )
        .unwrap();
        check(v, &img, &got, &syms);
    }
}

#[test]
fn no_tables_is_an_error_saying_what_was_read() {
    let img = Image {
        mem: junk(64 << 10, 3),
        loc: KallsymsLocations::default(),
    };
    let r = scan(
        BASE..BASE + (64 << 10),
        &ScanHints::default(),
        &read(&img, None),
    );
    match r {
        Err(KallsymsError::NotFound { scanned, .. }) => assert_eq!(scanned, 64 << 10),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_stext_is_no_match() {
    let syms = symbols(V6_12);
    let img = image(V6_12, &syms, 4096);
    let hints = ScanHints {
        stext: Some(TEXT + 0x1000),
        release: None,
    };
    let r = scan(BASE..BASE + img.mem.len() as u64, &hints, &read(&img, None));
    assert!(
        matches!(r, Err(KallsymsError::NotFound { last: Some(_), .. })),
        "{r:?}"
    );
}
