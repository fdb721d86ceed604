//! The record buffer of 3.5 to 5.9 on made-up kernels.

use super::super::*;
use super::fixture::*;

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
    let log = records::read(&m, Shapes(crate::offsets::test_layouts(&btf)), &vars).unwrap();
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
    let log = records::read(&m, Shapes(crate::offsets::test_layouts(&btf)), &vars).unwrap();
    assert_eq!(texts(&log), ["one"]);
    assert!(
        log.notices[0].text.contains("has length 4"),
        "{:?}",
        log.notices
    );
}
