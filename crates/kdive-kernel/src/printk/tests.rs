//! The log readers on made-up kernels: hand-made BTF for both layouts,
//! rings written the way the kernel writes them, then damaged.

mod buffer;
mod fixture;
mod panics;

use super::*;
use fixture::*;

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
        assert!(
            log.notices[0].text.contains(says),
            "{what}: {:?}",
            log.notices
        );
        assert!(
            log.notices[0].text.contains(&format!("id {}", ids[1])),
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
    r.mem.hole(DATA + 4096);
    let log = r.read().unwrap();
    let kept: Vec<u64> = log.records.iter().map(|r| r.seq).collect();
    let lost: Vec<u64> = ids.iter().copied().filter(|i| !kept.contains(i)).collect();
    assert!(!lost.is_empty() && lost.len() <= 5, "{lost:?}");
    assert!(kept.contains(&0) && kept.contains(&11));
    assert_eq!(log.notices.len(), lost.len());
    assert!(
        log.notices.iter().all(|n| n.text.contains("unreadable")),
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
    let err = r.read().unwrap_err().to_string();
    assert!(err.contains("more than the ring's 8"), "{err}");
    // A head one ring ahead of the tail: the last 8 ids are read.
    r.head = 8;
    r.mem.u64(r.desc(8), (2 << 62) | 8);
    let log = r.read().unwrap();
    assert!(
        log.notices[0].text.contains("more than the ring's 8"),
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
    let err = r.read().unwrap_err();
    assert!(matches!(err, crate::Error::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("damaged"));
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
        log.notices[MAX_NOTICES].text.contains("30 more"),
        "{:?}",
        log.notices.last()
    );
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
    let log = read_log(&r.mem, Shapes(crate::offsets::test_layouts(&btf)), &sym).unwrap();
    assert_eq!(log.format, LogFormat::Lockless);
    assert_eq!(log.records.len(), 5);
    let none = |_: &str| None;
    assert!(
        read_log(&r.mem, Shapes(crate::offsets::test_layouts(&btf)), &none)
            .unwrap_err()
            .to_string()
            .contains("not one kdive reads")
    );
}

#[test]
fn bitfields_read_from_their_bits() {
    let btf = btf();
    let level = Shapes(crate::offsets::test_layouts(&btf))
        .field("printk_info", "level")
        .unwrap();
    let flags = Shapes(crate::offsets::test_layouts(&btf))
        .field("printk_info", "flags")
        .unwrap();
    let mut info = [0u8; 88];
    info[19] = (5 << 5) | 0b10011;
    assert_eq!((level.off, level.shift, level.bits), (19, 5, 3));
    assert_eq!(level.get(&info), Some(5));
    assert_eq!(flags.get(&info), Some(0b10011));
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
    (0..32).for_each(|p| r.mem.hole(DATA + p * 4096));
    let err = r.read().unwrap_err();
    assert!(matches!(err, crate::Error::NoLogRecords { .. }), "{err:?}");
    let err = err.to_string();
    assert!(err.contains("no record of the log could be read"), "{err}");
}

/// Kernels without BTF (before 5.2) give the layouts from the vmlinux's
/// DWARF: on a real dump both sources must read the same log, bitfields
/// (`printk_info.level`) included.
#[test]
fn dwarf_layouts_read_the_log_as_btf_does() {
    use kdive_debuginfo::dwarf_types::DwarfTypes;
    let Some(c) = kdive_testkit::require("dwarf layouts")
        .into_iter()
        .find(|c| c.variant("kdump-zlib").is_some())
    else {
        return;
    };
    let Some(vmlinux) = kdive_testkit::vmlinux(c.kernel.trim_start_matches("linux-")) else {
        return;
    };
    let k = crate::Kernel::open_with(
        c.variant("kdump-zlib").unwrap(),
        crate::VmlinuxChoice::Given(&vmlinux),
    )
    .unwrap();
    let dwarf = DwarfTypes::open(&vmlinux).unwrap();
    let btf = Shapes(crate::offsets::test_layouts(k.btf().unwrap()));
    let types = Shapes(crate::offsets::Layouts::new(&dwarf));
    for (ty, path) in [
        ("printk_info", "level"),
        ("printk_info", "flags"),
        ("printk_info", "dev_info.device"),
        ("prb_desc", "text_blk_lpos.next"),
        ("printk_ringbuffer", "text_data_ring.size_bits"),
        ("timekeeper", "xtime_sec"),
    ] {
        assert_eq!(btf.field(ty, path), types.field(ty, path), "{ty}.{path}");
    }
    let from_dwarf = read_log(&k, types, &|n| k.symbol(n)).unwrap();
    let from_layouts = k.log().unwrap();
    assert!(from_dwarf.notices.is_empty(), "{:?}", from_dwarf.notices);
    assert_eq!(from_dwarf.records, from_layouts.records);
}
