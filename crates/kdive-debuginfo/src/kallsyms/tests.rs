//! Synthetic kallsyms tables, written as scripts/kallsyms lays them out,
//! in each names format and address encoding.

use super::*;
use kdive_dump::{FnMemory, MemError};

const BASE: u64 = 0xffff_ffff_8200_0000;
const TEXT: u64 = 0xffff_ffff_8100_0000;

/// One symbol to encode: kind, name, address.
type Sym = (char, String, u64);

fn symbols() -> Vec<Sym> {
    let mut v: Vec<Sym> = vec![
        ('A', "fixed_percpu_data".into(), 0),
        ('A', "cpu_number".into(), 0x2000),
        ('T', "_text".into(), TEXT),
        ('T', "_stext".into(), TEXT),
    ];
    for i in 0..300u64 {
        v.push(('t', format!("fn_{i}"), TEXT + 0x100 + i * 0x40));
    }
    // An entry of 128 tokens or more: the two count formats differ.
    v.insert(100, ('T', format!("long_{}", "x".repeat(200)), TEXT + 0xf0));
    v.sort_by_key(|s| s.2);
    v.push(('D', "__key.3".into(), TEXT + 0x10_0000));
    v
}

struct Image {
    mem: Vec<u8>,
    loc: KallsymsLocations,
}

fn align(v: &mut Vec<u8>, a: usize) {
    while v.len() % a != 0 {
        v.push(0);
    }
}

/// Lay out the tables; `long`: two-byte counts; `enc`: address encoding.
fn image(syms: &[Sym], long: bool, enc: AddressEncoding) -> Image {
    let mut m = vec![0u8; 8];
    m[..4].copy_from_slice(&(syms.len() as u32).to_le_bytes());
    let names = m.len();
    let mut markers = Vec::new();
    for (i, (kind, name, _)) in syms.iter().enumerate() {
        if i % 256 == 0 {
            markers.push((m.len() - names) as u32);
        }
        // Tokens are bytes themselves: token number b is the string "b".
        let count = 1 + name.len();
        if count >= 0x80 && long {
            m.push(0x80 | (count & 0x7f) as u8);
            m.push((count >> 7) as u8);
        } else {
            m.push(count as u8);
        }
        m.push(*kind as u8);
        m.extend_from_slice(name.as_bytes());
    }
    align(&mut m, 4);
    for k in markers {
        m.extend_from_slice(&k.to_le_bytes());
    }
    let token_table = m.len();
    let mut index = Vec::new();
    for b in 0..=255u8 {
        index.push((m.len() - token_table) as u16);
        m.extend_from_slice(&[b.max(1), 0]);
    }
    align(&mut m, 2);
    let token_index = m.len();
    for i in index {
        m.extend_from_slice(&i.to_le_bytes());
    }
    align(&mut m, 8);
    let offsets = m.len();
    let offsets_addr = BASE + offsets as u64;
    for (i, (_, _, a)) in syms.iter().enumerate() {
        let v: i64 = match enc {
            AddressEncoding::BaseRelative => (a - TEXT) as i64,
            AddressEncoding::AbsolutePercpu if *a < TEXT => *a as i64,
            AddressEncoding::AbsolutePercpu => -((a - TEXT) as i64) - 1,
            AddressEncoding::PlaceRelative => a.wrapping_sub(offsets_addr + 4 * i as u64) as i64,
            AddressEncoding::Absolute => unreachable!(),
        };
        m.extend_from_slice(&(v as i32).to_le_bytes());
    }
    align(&mut m, 8);
    let relative_base = m.len();
    m.extend_from_slice(&TEXT.to_le_bytes());
    let at = |o: usize| BASE + o as u64;
    Image {
        mem: m,
        loc: KallsymsLocations {
            num_syms: BASE,
            names: at(names),
            token_table: at(token_table),
            token_index: at(token_index),
            offsets: Some(offsets_addr),
            relative_base: (enc != AddressEncoding::PlaceRelative).then(|| at(relative_base)),
            addresses: None,
            stext: Some(TEXT),
            release: Some("6.1.0-47-cloud-amd64".into()),
        },
    }
}

fn decode(img: &Image) -> Result<Kallsyms, KallsymsError> {
    load(
        &img.loc,
        &FnMemory(|addr: u64, buf: &mut [u8]| {
            let bad = || MemError::Invalid {
                vaddr: addr,
                why: "outside the image".into(),
            };
            let off = addr.checked_sub(BASE).ok_or_else(bad)? as usize;
            let src = img.mem.get(off..off + buf.len()).ok_or_else(bad)?;
            buf.copy_from_slice(src);
            Ok(())
        }),
    )
}

fn check(syms: &[Sym], k: &Kallsyms) {
    let want: Vec<&Sym> = syms.iter().filter(|s| !is_noise(&s.1)).collect();
    assert_eq!(k.num_syms, syms.len());
    assert!(k.markers_match);
    assert_eq!(k.symbols.len(), want.len());
    for (s, w) in k.symbols.iter().zip(&want) {
        assert_eq!((s.kind, s.name.as_str(), s.addr), (w.0, w.1.as_str(), w.2));
    }
    let f = k.symbols.by_name("fn_7").unwrap();
    assert_eq!(f.size, 0x40);
    assert_eq!(k.symbols.lookup(f.addr + 3).unwrap().0.name, "fn_7");
}

#[test]
fn every_encoding_and_format() {
    let syms = symbols();
    for enc in [
        AddressEncoding::BaseRelative,
        AddressEncoding::AbsolutePercpu,
        AddressEncoding::PlaceRelative,
    ] {
        let syms: Vec<Sym> = if enc == AddressEncoding::AbsolutePercpu {
            syms.clone()
        } else {
            syms.iter().filter(|s| s.2 >= TEXT).cloned().collect()
        };
        for long in [true, false] {
            let k = decode(&image(&syms, long, enc)).unwrap();
            check(&syms, &k);
            assert_eq!(k.encoding, enc);
            let want = if long {
                LengthFormat::TwoByte
            } else {
                LengthFormat::OneByte
            };
            assert_eq!(k.lengths, want, "{enc:?}");
        }
    }
}

#[test]
fn encoding_without_stext() {
    let syms = symbols();
    let mut img = image(&syms, true, AddressEncoding::AbsolutePercpu);
    img.loc.stext = None;
    let k = decode(&img).unwrap();
    assert_eq!(k.encoding, AddressEncoding::AbsolutePercpu);
    check(&syms, &k);
}

#[test]
fn short_names_are_unambiguous() {
    let syms: Vec<Sym> = symbols().into_iter().filter(|s| s.1.len() < 100).collect();
    let k = decode(&image(&syms, true, AddressEncoding::AbsolutePercpu)).unwrap();
    assert_eq!(k.lengths, LengthFormat::Unambiguous);
    check(&syms, &k);
}

#[test]
fn unreadable_names_are_an_error() {
    let syms = symbols();
    let img = image(&syms, true, AddressEncoding::AbsolutePercpu);
    let hole = img.loc.names + 500..img.loc.token_table;
    let r = load(
        &img.loc,
        &FnMemory(|addr: u64, buf: &mut [u8]| {
            let end = addr + buf.len() as u64;
            if addr < hole.end && end > hole.start {
                return Err(MemError::Invalid {
                    vaddr: addr,
                    why: "excluded page".into(),
                });
            }
            let off = (addr - BASE) as usize;
            buf.copy_from_slice(&img.mem[off..off + buf.len()]);
            Ok(())
        }),
    );
    match r {
        Err(KallsymsError::Read { what, addr, .. }) => {
            assert_eq!(what, "kallsyms_names");
            assert!((hole.start & !0xfff..hole.end).contains(&addr), "{addr:#x}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn releases() {
    assert!(release_at_least(Some("6.1.0-47-cloud-amd64"), (6, 1)));
    assert!(release_at_least(Some("6.12.9"), (6, 1)));
    assert!(!release_at_least(Some("5.15.0-91-generic"), (6, 1)));
    assert!(release_at_least(None, (6, 1)));
}
