//! What every format target does with a dump that opens: the info methods,
//! a bounded number of page reads, and a few invariants that must hold
//! whatever the bytes.

use std::io::Cursor;

use kdive_dump::write::{write_kdump, WriteOptions};
use kdive_dump::{Compression, Dump, PageState};

/// Pages read from `present_pfns`, at most.
const PRESENT_READS: usize = 300;

/// `bytes` with `sig` at its start: unchanged when it is there already (the
/// seeds), else prefixed.
pub fn with_signature(sig: &[u8], data: &[u8]) -> Vec<u8> {
    if data.starts_with(sig) {
        data.to_vec()
    } else {
        let mut v = sig.to_vec();
        v.extend_from_slice(data);
        v
    }
}

pub fn exercise(bytes: Vec<u8>) {
    // A few pfns the input chooses, from its last bytes.
    let chosen: Vec<u64> = bytes
        .rchunks_exact(8)
        .take(4)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let Ok(d) = Dump::from_bytes(bytes) else {
        return;
    };
    info(&d);
    let ps = d.page_size();
    assert!(ps.is_power_of_two() && (512..=1 << 20).contains(&ps));
    let mut page = vec![0u8; ps as usize];
    let mut again = vec![0u8; ps as usize];

    let mut last: Option<u64> = None;
    let mut n = 0u64;
    for pfn in d.present_pfns().take(PRESENT_READS) {
        assert!(last.is_none_or(|l| l < pfn), "present_pfns out of order");
        last = Some(pfn);
        n += 1;
        read_one(&d, pfn, &mut page, &mut again);
    }
    assert!(
        n <= d.present_pages(),
        "{n} pfns listed, {} counted",
        d.present_pages()
    );

    let max = d.max_pfn();
    let mut pfns = vec![
        0,
        1,
        2,
        7,
        max.wrapping_sub(1),
        max,
        max.saturating_add(1),
        u64::MAX,
        u64::MAX / ps,
    ];
    pfns.extend(chosen.iter().map(|c| c % max.saturating_add(16)));
    pfns.extend(chosen);
    for pfn in pfns {
        read_one(&d, pfn, &mut page, &mut again);
    }

    // Reads of odd lengths across page boundaries.
    let mut buf = vec![0u8; 2 * ps as usize + 3];
    for pfn in d.present_pfns().take(8) {
        let addr = pfn.saturating_mul(ps).saturating_sub(1);
        match d.read_phys(addr, &mut buf) {
            Ok(()) => {}
            Err(e) => {
                let a = e.addr();
                assert!(
                    a >= addr && a - addr < buf.len() as u64,
                    "{e} for a read at {addr:#x}"
                );
            }
        }
    }
    let _ = d.read_phys(u64::MAX - 2, &mut buf);
    let _ = d.read_phys(max.saturating_mul(ps).saturating_sub(5), &mut buf);

    round_trip(&d);
}

fn info(d: &Dump) {
    let _ = (
        d.format().name(),
        d.is_flattened(),
        d.compression(),
        d.kdump_status(),
    );
    let _ = (
        d.header_version(),
        d.page_size(),
        d.dump_level(),
        d.is_incomplete(),
    );
    let _ = (
        d.loads().len(),
        d.max_pfn(),
        d.machine(),
        d.utsname(),
        d.release(),
    );
    let _ = (
        d.crash_time(),
        d.nr_cpus(),
        d.phys_base(),
        d.vmcoreinfo_raw(),
    );
    let _ = (
        d.notes().len(),
        d.notes_raw().len(),
        d.qemu_cpus(),
        d.present_pages(),
    );
    for r in d.memory_ranges() {
        // Empty ranges come from PT_LOADs of memsz 0.
        assert!(r.start <= r.end);
    }
    for c in d.cpus() {
        let _ = (c.regs.get(16), c.regs.len(), c.pid);
    }
    if let Some(v) = d.vmcoreinfo() {
        let _ = (
            v.get("OSRELEASE"),
            v.symbol("init_task"),
            v.number("phys_base"),
        );
        let _ = (v.decimal("PAGESIZE"), v.kernel_offset(), v.entries().len());
    }
}

/// Read `pfn` twice (the second time from the cache): the same answer.
/// A page that reads is a present one.
fn read_one(d: &Dump, pfn: u64, page: &mut [u8], again: &mut [u8]) {
    let state = d.page_state(pfn);
    let first = d.read_page(pfn, page);
    let second = d.read_page(pfn, again);
    assert_eq!(first, second, "pfn {pfn:#x} read twice");
    match first {
        Ok(()) => {
            assert!(page == again, "pfn {pfn:#x} differs when read again");
            assert_eq!(
                state,
                PageState::Present,
                "pfn {pfn:#x} reads but is not present"
            );
        }
        Err(e) => {
            let a = e.addr();
            let first_byte = pfn.checked_mul(d.page_size());
            assert!(
                first_byte.is_none_or(|f| a >= f && a - f < d.page_size()),
                "{e} for pfn {pfn:#x}"
            );
        }
    }
}

/// A small dump written as kdump-compressed reads back the same.
fn round_trip(d: &Dump) {
    if d.max_pfn() > 4096 || d.present_pages() > 64 || d.present_pages() * d.page_size() > 4 << 20 {
        return;
    }
    let mut out = Cursor::new(Vec::new());
    let opts = WriteOptions {
        compression: Compression::Zstd,
        exclude_zero: false,
    };
    let Ok(_) = write_kdump(d, opts, &mut out) else {
        return;
    };
    let copy = match Dump::from_bytes(out.into_inner()) {
        Ok(c) => c,
        Err(e) => panic!("write_kdump wrote a file that does not open: {e}"),
    };
    let ps = d.page_size() as usize;
    let (mut a, mut b) = (vec![0u8; ps], vec![0u8; ps]);
    for pfn in d.present_pfns() {
        if d.read_page(pfn, &mut a).is_ok() {
            copy.read_page(pfn, &mut b).unwrap_or_else(|e| {
                panic!("pfn {pfn:#x} reads in the source, not in the copy: {e}")
            });
            assert!(a == b, "pfn {pfn:#x} differs in the copy");
        }
    }
}
