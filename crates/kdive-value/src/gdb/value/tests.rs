use super::*;
use crate::gdb::fixture::{demo_bytes, fixture};
use kdive_debuginfo::types::Namespace;

const ADDR: u64 = 0xffff_8880_0000_1000;
const FUNC: u64 = 0xffff_ffff_8100_0000;
const NAME: u64 = 0xffff_8880_0000_2000;

fn print(hex: bool) -> String {
    let f = fixture();
    let demo = f.find(Namespace::Struct, "demo").unwrap();
    let data = demo_bytes(ADDR, FUNC, NAME);
    let symbol = |a: u64| {
        (a == FUNC)
            .then(|| "schedule".to_string())
            .or_else(|| (a == FUNC + 8).then(|| "schedule+8".into()))
    };
    let mem = data.clone();
    let read = move |a: u64, buf: &mut [u8]| {
        if (NAME..NAME + 0x1000).contains(&a) {
            let s = b"hello\0";
            for (i, b) in buf.iter_mut().enumerate() {
                *b = s.get((a - NAME) as usize + i).copied().unwrap_or(0);
            }
            return Ok(());
        }
        if (ADDR..ADDR + 0x1000).contains(&a) {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = mem.get((a - ADDR) as usize + i).copied().unwrap_or(0);
            }
            return Ok(());
        }
        Err(a)
    };
    let p = Printer {
        src: &f,
        hex,
        symbol: &symbol,
        read: &read,
    };
    p.value(demo, &data, ADDR, 0)
}

#[test]
fn a_struct_as_gdb_prints_it() {
    let want = r#"{
  list = {
    next = 0xffff888000001000,
    prev = 0xffff888000001000
  },
  comm = "demo\000\000\000\000\000\000\000\000\000\000\000",
  pid = -1,
  flag = 1,
  mode = 5,
  {
    a = 65,
    b = 65
  },
  st = DEAD,
  fn = 0xffffffff81000000 <schedule>,
  name = 0xffff888000002000 "hello",
  on = true,
  raw = "ab\000\377",
  arr = {1, 2, 3},
  e = {<No data fields>},
  marker = 0xffff888000001060 "\a",
  tail = 7,
  flex = 0xffff888000001068 ""
}"#;
    assert_eq!(print(false), want);
}

#[test]
fn hex_changes_integers_only() {
    let s = print(true);
    for line in [
        "  pid = 0xffffffff,",
        "  mode = 0x5,",
        "    a = 0x41,",
        "  st = DEAD,",
        "  on = 0x1,",
        "  arr = {0x1, 0x2, 0x3},",
        "  tail = 0x7,",
    ] {
        assert!(s.contains(line), "{line} in\n{s}");
    }
    assert!(s.contains("comm = \"demo\\000"));
    assert!(s.contains("fn = 0xffffffff81000000 <schedule>,"));
}

#[test]
fn enums_chars_and_unreadable_strings() {
    let mut out = String::new();
    enum_value(
        &mut out,
        &[("A".into(), 1), ("B".into(), 2), ("C".into(), 8)],
        11,
    );
    assert_eq!(out, "(A | B | C)");
    out.clear();
    enum_value(&mut out, &[("A".into(), 1), ("B".into(), 2)], 5);
    assert_eq!(out, "(A | unknown: 0x4)");
    out.clear();
    enum_value(&mut out, &[("A".into(), 1), ("AB".into(), 3)], 7);
    assert_eq!(out, "7");
    let f = fixture();
    let symbol = |_: u64| None;
    let read = |a: u64, _: &mut [u8]| Err(a);
    let p = Printer {
        src: &f,
        hex: false,
        symbol: &symbol,
        read: &read,
    };
    // const char * to nowhere.
    let v = p.value(TypeId(14), &0x4141u64.to_le_bytes(), 0, 1);
    assert_eq!(v, "0x4141 <error: Cannot access memory at address 0x4141>");
    // A char prints its character too; a NULL char * prints no string.
    assert_eq!(p.value(TypeId(3), &[0], 0, 1), "0 '\\000'");
    assert_eq!(p.value(TypeId(16), &[255], 0, 1), "255 '\\377'");
    assert_eq!(p.value(TypeId(3), &[255], 0, 1), "-1 '\\377'");
    assert_eq!(p.value(TypeId(14), &[0; 8], 0, 1), "0x0");
    assert_eq!(float(0x3ff8_0000_0000_0000, 8), "1.5");
    assert_eq!(
        p.value(TypeId(23), &[], 0xffff_ffff_8100_0000, 0),
        "{void (void)} 0xffffffff81000000"
    );
    assert_eq!(float(0x3fb9_9999_9999_999a, 8), "0.10000000000000001");
}
