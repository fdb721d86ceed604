//! The bits of a page-table entry that translation looks at (Intel SDM
//! vol. 3A §4.5, AMD APM vol. 2 §5.3). The rest (RW, user, accessed, dirty,
//! global, NX, protection keys) do not change where an address goes.

/// Bit 0: the entry maps something; when clear, the CPU ignores the rest.
pub const PRESENT: u64 = 1 << 0;
/// Bit 1: writable (at every level of the walk, for the page to be).
pub const WRITABLE: u64 = 1 << 1;
/// Bit 7 (PS): in a PUD entry a 1 GiB page, in a PMD entry a 2 MiB page.
pub const HUGE: u64 = 1 << 7;
/// Bit 63: no-execute. Ignored by translation.
pub const NX: u64 = 1 << 63;
/// Bits 12..51: the physical address of the next table or of the page.
/// (52 is the architectural maximum of physical address bits.)
pub const PHYS_MASK: u64 = 0x000f_ffff_ffff_f000;

/// Whether `entry` is present.
pub fn is_present(entry: u64) -> bool {
    entry & PRESENT != 0
}

/// Whether `entry` maps a huge page (meaningful in PUD and PMD entries only).
pub fn is_huge(entry: u64) -> bool {
    entry & HUGE != 0
}

/// The physical address an entry points at, with the AMD SME encryption bit
/// (the C-bit, `sme_mask`) cleared: that bit sits inside the address field
/// but marks the page encrypted, it is not part of the address.
pub fn target(entry: u64, sme_mask: u64) -> u64 {
    entry & PHYS_MASK & !sme_mask
}
