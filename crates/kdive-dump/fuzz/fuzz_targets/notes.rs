//! Fuzz the note parsers: the note stream, PRSTATUS and QEMU CPU states,
//! VMCOREINFO text.
#![no_main]

use kdive_dump::{cpu_states, parse_notes, qemu_cpu_states, VmcoreInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let notes = parse_notes(data);
    // Each note takes a 12-byte header at least.
    assert!(notes.len() <= data.len() / 12);
    for c in cpu_states(&notes) {
        assert_eq!(c.regs.len(), 27);
        let _ = (c.regs.get(16), c.regs.last(), c.pid);
    }
    let _ = qemu_cpu_states(&notes);
    for text in notes
        .iter()
        .filter(|n| n.name == "VMCOREINFO")
        .map(|n| n.desc.as_slice())
        .chain([data])
    {
        let v = VmcoreInfo::parse(text);
        let _ = (
            v.get("OSRELEASE"),
            v.symbol("init_task"),
            v.number("phys_base"),
        );
        let _ = (
            v.decimal("PAGESIZE"),
            v.kernel_offset(),
            v.is_empty(),
            v.entries().len(),
        );
    }
});
