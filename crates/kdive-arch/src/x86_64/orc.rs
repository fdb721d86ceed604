//! The kernel's ORC unwind tables: for every range of kernel text, where
//! the caller's stack pointer, frame pointer and return address are.
//!
//! Two parallel arrays: `.orc_unwind_ip`, 32-bit offsets each relative to
//! its own address (so the table needs no relocation under KASLR), sorted;
//! and `.orc_unwind`, one 6-byte `struct orc_entry` per ip. The entry for
//! an address is that of the last ip at or below it. The entry's bitfield
//! word changed three times (6.3, 6.4, 7.1); [`OrcLayout`] names each
//! version, chosen from the kernel's `.orc_header` hash when it has one,
//! else by which `orc_entry` members its types say exist.

use kdive_dump::Memory;

/// `ORC_REG_*`: where a register's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrcReg {
    /// No value (0).
    Undefined,
    /// The caller's stack pointer, once computed (1).
    PrevSp,
    /// `%rax`.
    Ax,
    /// `%rdx`.
    Dx,
    /// `%rdi`.
    Di,
    /// `%rbp`.
    Bp,
    /// `%rsp`.
    Sp,
    /// `%r10`.
    R10,
    /// `%r13`.
    R13,
    /// The word at `%rbp + offset`.
    BpIndirect,
    /// The word at `%rsp`, plus the offset.
    SpIndirect,
    /// A number this reader does not know.
    Other(u8),
}

impl OrcReg {
    /// `ORC_REG_*` as numbered up to Linux 7.0.
    fn from_bits(v: u8) -> OrcReg {
        match v {
            0 => OrcReg::Undefined,
            1 => OrcReg::PrevSp,
            2 => OrcReg::Dx,
            3 => OrcReg::Di,
            4 => OrcReg::Bp,
            5 => OrcReg::Sp,
            6 => OrcReg::R10,
            7 => OrcReg::R13,
            8 => OrcReg::BpIndirect,
            9 => OrcReg::SpIndirect,
            10 => OrcReg::Ax,
            n => OrcReg::Other(n),
        }
    }

    /// `ORC_REG_*` as renumbered in Linux 7.1 (objtool's "Reorder ORC
    /// register numbering").
    fn from_bits_71(v: u8) -> OrcReg {
        match v {
            0 => OrcReg::Undefined,
            1 => OrcReg::Ax,
            2 => OrcReg::Dx,
            3 => OrcReg::Sp,
            4 => OrcReg::Bp,
            5 => OrcReg::Di,
            6 => OrcReg::R10,
            7 => OrcReg::R13,
            8 => OrcReg::PrevSp,
            9 => OrcReg::SpIndirect,
            10 => OrcReg::BpIndirect,
            n => OrcReg::Other(n),
        }
    }
}

/// What kind of frame the code at an address is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrcType {
    /// No unwind information: the unwind cannot go on from here.
    Undefined,
    /// The outermost frame (`ret_from_fork`, the top of an entry stack).
    EndOfStack,
    /// An ordinary function frame: the return address is just below the
    /// caller's stack pointer.
    Call,
    /// A full `struct pt_regs` is at the computed stack pointer.
    Regs,
    /// Only the hardware's iret frame (ip, cs, flags, sp, ss) is there.
    RegsPartial,
}

/// One decoded `struct orc_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrcEntry {
    /// Added to `sp_reg`'s value: the caller's stack pointer.
    pub sp_offset: i16,
    /// Added to `bp_reg`'s value: where the caller's `%rbp` was saved.
    pub bp_offset: i16,
    /// The register the caller's stack pointer is computed from.
    pub sp_reg: OrcReg,
    /// Where the caller's `%rbp` is.
    pub bp_reg: OrcReg,
    /// What kind of frame this is.
    pub kind: OrcType,
    /// A signal frame: the address is where the code was interrupted, not
    /// a return address (so it is looked up as is, not minus one).
    pub signal: bool,
}

impl OrcEntry {
    /// The frame-pointer guess the kernel uses for code ORC does not cover
    /// (BPF programs, generated code): the caller's sp is `%rbp + 16`, its
    /// `%rbp` was saved at `%rbp`.
    pub const FRAME_POINTER: OrcEntry = OrcEntry {
        sp_offset: 16,
        bp_offset: -16,
        sp_reg: OrcReg::Bp,
        bp_reg: OrcReg::PrevSp,
        kind: OrcType::Call,
        signal: false,
    };
}

/// The bit layout of `orc_entry`'s third word, and the register numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrcLayout {
    /// Linux 4.14 to 6.2: `sp_reg:4 bp_reg:4 type:2 end:1`; types CALL=0,
    /// REGS=1, REGS_PARTIAL=2; `sp_reg` undefined means end of stack when
    /// `end` is set, no information otherwise.
    TypeEnd,
    /// Linux 6.3: `sp_reg:4 bp_reg:4 type:2 signal:1 end:1`, types as in
    /// [`OrcLayout::TypeEnd`].
    TypeSignalEnd,
    /// Linux 6.4 to 7.0: `sp_reg:4 bp_reg:4 type:3 signal:1`; types
    /// UNDEFINED=0, END_OF_STACK=1, CALL=2, REGS=3, REGS_PARTIAL=4.
    TypeSignal,
    /// Linux 7.1 on: the bits of [`OrcLayout::TypeSignal`], registers
    /// renumbered (`%rsp` is 3, the caller's sp 8, `%rax` 1).
    Regs71,
}

/// `.orc_header` (Linux 6.4 on, backported to 6.3 kernels): a SHA-1 of the
/// kernel's `asm/orc_types.h`, which names the entry format exactly.
const ORC_HEADERS: [([u8; 20], OrcLayout); 3] = [
    (
        [
            0x13, 0x7c, 0x36, 0xad, 0x76, 0x27, 0xc4, 0xdd, 0x55, 0x93, 0x21, 0x76, 0xbb, 0x0e,
            0xcd, 0xbd, 0x50, 0x41, 0xfc, 0x82,
        ],
        OrcLayout::Regs71,
    ),
    (
        [
            0xfe, 0x5d, 0x32, 0xbf, 0x58, 0x1b, 0xd6, 0x3b, 0x2c, 0xa9, 0xa5, 0xc6, 0x5b, 0xa5,
            0xa6, 0x25, 0xea, 0xb3, 0xfe, 0x24,
        ],
        OrcLayout::TypeSignal,
    ),
    (
        [
            0xdb, 0x84, 0xae, 0xd4, 0x10, 0x3b, 0x31, 0xdd, 0x51, 0xe0, 0x17, 0xf8, 0xf7, 0x97,
            0x83, 0xca, 0x98, 0x5c, 0x2c, 0x51,
        ],
        OrcLayout::TypeSignalEnd,
    ),
];

impl OrcLayout {
    /// The layout an `.orc_header` hash names; `None` for a hash this
    /// reader does not know.
    pub fn from_header(header: &[u8]) -> Option<OrcLayout> {
        ORC_HEADERS
            .iter()
            .find(|(h, _)| h.as_slice() == header)
            .map(|&(_, l)| l)
    }

    /// The layout of a kernel with no (known) `.orc_header`, from what its
    /// types say `orc_entry` has and its version: `end` alone up to 6.2,
    /// `end` and `signal` in 6.3, `signal` alone from 6.4 (the registers
    /// renumbered from 7.1).
    pub fn from_members(has_end: bool, has_signal: bool, version: (u32, u32)) -> OrcLayout {
        match (has_end, has_signal) {
            (true, true) => OrcLayout::TypeSignalEnd,
            (true, false) => OrcLayout::TypeEnd,
            _ if version >= (7, 1) => OrcLayout::Regs71,
            (false, true) => OrcLayout::TypeSignal,
            (false, false) if version >= (6, 4) => OrcLayout::TypeSignal,
            (false, false) => OrcLayout::TypeEnd,
        }
    }

    /// Decode one 6-byte entry.
    pub fn decode(self, b: &[u8; 6]) -> OrcEntry {
        let sp_offset = i16::from_le_bytes([b[0], b[1]]);
        let bp_offset = i16::from_le_bytes([b[2], b[3]]);
        let w = u16::from_le_bytes([b[4], b[5]]);
        let reg = |v: u16| match self {
            OrcLayout::Regs71 => OrcReg::from_bits_71(v as u8),
            _ => OrcReg::from_bits(v as u8),
        };
        let sp_reg = reg(w & 0xf);
        let bp_reg = reg((w >> 4) & 0xf);
        let (kind, signal) = match self {
            OrcLayout::TypeEnd | OrcLayout::TypeSignalEnd => {
                let t = (w >> 8) & 3;
                let (end_bit, signal_bit) = match self {
                    OrcLayout::TypeEnd => (10, None),
                    _ => (11, Some(10)),
                };
                let end = (w >> end_bit) & 1 == 1;
                let kind = if sp_reg == OrcReg::Undefined {
                    if end {
                        OrcType::EndOfStack
                    } else {
                        OrcType::Undefined
                    }
                } else {
                    match t {
                        0 => OrcType::Call,
                        1 => OrcType::Regs,
                        2 => OrcType::RegsPartial,
                        _ => OrcType::Undefined,
                    }
                };
                // Before 6.3 there is no signal bit: a REGS frame is one.
                let signal = signal_bit.is_some_and(|b| (w >> b) & 1 == 1);
                (
                    kind,
                    signal || matches!(kind, OrcType::Regs | OrcType::RegsPartial),
                )
            }
            OrcLayout::TypeSignal | OrcLayout::Regs71 => {
                let t = (w >> 8) & 7;
                let signal = (w >> 11) & 1 == 1;
                let kind = match t {
                    1 => OrcType::EndOfStack,
                    2 => OrcType::Call,
                    3 => OrcType::Regs,
                    4 => OrcType::RegsPartial,
                    _ => OrcType::Undefined,
                };
                (
                    kind,
                    signal || matches!(kind, OrcType::Regs | OrcType::RegsPartial),
                )
            }
        };
        OrcEntry {
            sp_offset,
            bp_offset,
            sp_reg,
            bp_reg,
            kind,
            signal,
        }
    }
}

/// Where a table's bytes are.
enum Source {
    /// Copied out (from the vmlinux file), `ips` then `orcs`.
    Bytes { ips: Vec<u8>, orcs: Vec<u8> },
    /// Read in place from kernel memory on each lookup.
    Memory,
}

/// One ORC table: the kernel's, or one module's.
pub struct OrcTable {
    /// Address of `orc_unwind_ip[0]` in the running kernel.
    ip_addr: u64,
    /// Address of `orc_unwind[0]`.
    orc_addr: u64,
    count: usize,
    layout: OrcLayout,
    source: Source,
}

/// Entries in one table at most (the kernel has about 500,000).
pub const MAX_ENTRIES: usize = 1 << 24;

impl OrcTable {
    /// A table whose bytes were read out: `ips` holds the 32-bit relative
    /// offsets that live at `ip_addr`, `orcs` the entries at `orc_addr`.
    /// An unsorted table (a kernel built without build-time sorting, read
    /// from its file) is sorted here, as the kernel sorts it at boot.
    pub fn from_bytes(
        ip_addr: u64,
        ips: Vec<u8>,
        orc_addr: u64,
        orcs: Vec<u8>,
        layout: OrcLayout,
    ) -> OrcTable {
        let count = (ips.len() / 4).min(orcs.len() / 6).min(MAX_ENTRIES);
        let mut t = OrcTable {
            ip_addr,
            orc_addr,
            count,
            layout,
            source: Source::Bytes { ips, orcs },
        };
        t.sort_if_needed();
        t
    }

    /// A table read in place from memory: `count` entries.
    pub fn in_memory(ip_addr: u64, orc_addr: u64, count: usize, layout: OrcLayout) -> OrcTable {
        OrcTable {
            ip_addr,
            orc_addr,
            count: count.min(MAX_ENTRIES),
            layout,
            source: Source::Memory,
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The text address entry `i` starts at.
    pub fn ip(&self, i: usize, mem: &dyn Memory) -> Option<u64> {
        if i >= self.count {
            return None;
        }
        let at = self.ip_addr + 4 * i as u64;
        let rel = match &self.source {
            Source::Bytes { ips, .. } => i32::from_le_bytes(ips[4 * i..4 * i + 4].try_into().ok()?),
            Source::Memory => {
                let mut b = [0u8; 4];
                if mem.read(at, &mut b).is_err() {
                    return None;
                }
                i32::from_le_bytes(b)
            }
        };
        Some(at.wrapping_add(rel as i64 as u64))
    }

    /// Entry `i`.
    pub fn entry(&self, i: usize, mem: &dyn Memory) -> Option<OrcEntry> {
        if i >= self.count {
            return None;
        }
        let mut b = [0u8; 6];
        match &self.source {
            Source::Bytes { orcs, .. } => b.copy_from_slice(&orcs[6 * i..6 * i + 6]),
            Source::Memory => {
                if mem.read(self.orc_addr + 6 * i as u64, &mut b).is_err() {
                    return None;
                }
            }
        }
        Some(self.layout.decode(&b))
    }

    /// The entry that covers `ip`: the last one starting at or below it.
    /// `None` below the first entry or when the table cannot be read.
    pub fn lookup(&self, ip: u64, mem: &dyn Memory) -> Option<OrcEntry> {
        let (mut lo, mut hi) = (0usize, self.count);
        // Invariant: entries below `lo` start at or below ip; from `hi` on, above.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.ip(mid, mem)? <= ip {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        self.entry(lo.checked_sub(1)?, mem)
    }

    /// Sort a copied-out table by address, keeping ip and entry paired.
    fn sort_if_needed(&mut self) {
        let Source::Bytes { ips, orcs } = &self.source else {
            return;
        };
        let base = self.ip_addr;
        let addr = |i: usize| {
            let rel = i32::from_le_bytes(ips[4 * i..4 * i + 4].try_into().unwrap_or([0; 4]));
            (base + 4 * i as u64).wrapping_add(rel as i64 as u64)
        };
        if (1..self.count).all(|i| addr(i - 1) <= addr(i)) {
            return;
        }
        let mut pairs: Vec<(u64, [u8; 6])> = (0..self.count)
            .map(|i| (addr(i), orcs[6 * i..6 * i + 6].try_into().unwrap_or([0; 6])))
            .collect();
        pairs.sort_by_key(|p| p.0);
        let mut new_ips = Vec::with_capacity(4 * self.count);
        let mut new_orcs = Vec::with_capacity(6 * self.count);
        for (i, (a, e)) in pairs.iter().enumerate() {
            let rel = a.wrapping_sub(base + 4 * i as u64) as i64 as i32;
            new_ips.extend_from_slice(&rel.to_le_bytes());
            new_orcs.extend_from_slice(e);
        }
        self.source = Source::Bytes {
            ips: new_ips,
            orcs: new_orcs,
        };
    }
}
