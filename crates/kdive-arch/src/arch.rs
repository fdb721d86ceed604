//! The seam between the kernel's walkers and the processor: what kdive
//! needs to know of an architecture, behind one trait ([`Arch`]), as
//! drgn's `drgn_architecture_info`. The kernel picks the implementation
//! from the dump's machine type ([`for_machine`]); the code above it asks
//! the trait instead of naming x86-64's constants.
//!
//! x86-64 ([`X86_64`]) is the one implementation today. Its address
//! translation and ORC unwinder are in [`crate::x86_64`]; they join the
//! trait as a second architecture (arm64) gives them a shape to share.

/// The layout of the exception frame the kernel saves on entry
/// (`struct pt_regs`): its size and the name of each word, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegsLayout {
    /// Register names as the kernel's `struct pt_regs` spells them.
    pub names: &'static [&'static str],
    /// Bytes in `struct pt_regs`.
    pub size: u64,
    /// Index in [`Self::names`] of the instruction pointer.
    pub ip: usize,
    /// Index of the stack pointer.
    pub sp: usize,
}

impl RegsLayout {
    /// The index of the register named `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|&n| n == name)
    }
}

/// What kdive needs to know of a processor architecture.
pub trait Arch: Send + Sync + std::fmt::Debug {
    /// The name the kernel gives it (`uname -m`, crash's `MACHINE`):
    /// `x86_64`.
    fn name(&self) -> &'static str;
    /// The ELF `e_machine` of its kernels and dumps.
    fn elf_machine(&self) -> u16;
    /// The base page size.
    fn page_size(&self) -> u64;
    /// The sizes a page-table entry can map, smallest first.
    fn mapping_sizes(&self) -> &'static [u64];
    /// Where kernel virtual addresses start: below is user space (or not
    /// an address at all).
    fn kernel_start(&self) -> u64;
    /// Whether `addr` can be a kernel virtual address.
    fn is_kernel_address(&self, addr: u64) -> bool {
        addr >= self.kernel_start()
    }
    /// The kernel's exception frame.
    fn pt_regs(&self) -> &'static RegsLayout;
    /// The registers of a dump's `NT_PRSTATUS` note (`elf_gregset_t`), in
    /// order, as `user_regs_struct` names them.
    fn gregset_names(&self) -> &'static [&'static str];
    /// Whether `regs` (a `struct pt_regs`'s words, in order) can be an
    /// exception frame: what the hardware and the entry code write there
    /// (flags, segments) is consistent, and the instruction pointer is
    /// code: in the kernel (`kernel_code` says) or in user space.
    fn is_exception_frame(&self, regs: &[u64], kernel_code: &dyn Fn(u64) -> bool) -> bool;
    /// Whether the exception frame `regs` was saved from user mode.
    fn user_mode(&self, regs: &[u64]) -> bool;
    /// The names of the bits set in a last-level page-table entry, as
    /// crash's `vtop` shows them (`PRESENT|RW|ACCESSED|DIRTY|NX`).
    fn pte_flags(&self, entry: u64) -> Vec<&'static str>;
}

/// The architecture of the machine named `name` (`uname -m`, or a dump's
/// machine type), if kdive reads it.
pub fn for_machine(name: &str) -> Option<&'static dyn Arch> {
    ALL.iter().copied().find(|a| a.name() == name)
}

/// The architecture of ELF `e_machine`, if kdive reads it.
pub fn for_elf_machine(machine: u16) -> Option<&'static dyn Arch> {
    ALL.iter().copied().find(|a| a.elf_machine() == machine)
}

/// The architectures kdive reads, by name.
pub fn supported() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|a| a.name())
}

const ALL: &[&'static dyn Arch] = &[&X86_64];

/// x86-64 (AMD64, Intel 64).
#[derive(Debug, Clone, Copy, Default)]
pub struct X86_64;

/// `struct pt_regs` of x86-64.
static X86_64_PT_REGS: RegsLayout = RegsLayout {
    names: &crate::x86_64::unwind::PT_REGS_NAMES,
    size: crate::x86_64::unwind::PT_REGS_SIZE,
    ip: 16,
    sp: 19,
};

impl Arch for X86_64 {
    fn name(&self) -> &'static str {
        "x86_64"
    }

    fn elf_machine(&self) -> u16 {
        62 // EM_X86_64
    }

    fn page_size(&self) -> u64 {
        crate::x86_64::PAGE_SIZE
    }

    fn mapping_sizes(&self) -> &'static [u64] {
        use crate::x86_64::{PAGE_SIZE, SIZE_1G, SIZE_2M};
        &[PAGE_SIZE, SIZE_2M, SIZE_1G]
    }

    fn kernel_start(&self) -> u64 {
        // The upper canonical half, with 4- or 5-level paging alike
        // (crash's IS_KVADDR).
        0xffff_8000_0000_0000
    }

    fn pt_regs(&self) -> &'static RegsLayout {
        &X86_64_PT_REGS
    }

    fn gregset_names(&self) -> &'static [&'static str] {
        &[
            "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
            "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base",
            "gs_base", "ds", "es", "fs", "gs",
        ]
    }

    fn is_exception_frame(&self, regs: &[u64], kernel_code: &dyn Fn(u64) -> bool) -> bool {
        let r = |name: &str| {
            X86_64_PT_REGS
                .index(name)
                .and_then(|i| regs.get(i).copied())
        };
        let (Some(flags), Some(cs), Some(ss), Some(ip), Some(sp)) =
            (r("flags"), r("cs"), r("ss"), r("ip"), r("sp"))
        else {
            return false;
        };
        // RFLAGS: bit 1 is always one; the reserved bits are zero.
        const RESERVED: u64 = !0x3f_7fd7;
        if flags & 2 == 0 || flags & RESERVED != 0 {
            return false;
        }
        // The upper canonical half, 4- or 5-level.
        let kernel_half = |a: u64| a >> 63 == 1;
        if cs & 3 == 3 {
            // User mode: a user segment pair, user addresses.
            ss & 3 == 3 && cs < 0x100 && ss < 0x100 && !kernel_half(ip) && !kernel_half(sp)
        } else {
            cs != 0 && cs < 0x100 && ss < 0x100 && kernel_half(sp) && kernel_code(ip)
        }
    }

    fn user_mode(&self, regs: &[u64]) -> bool {
        // The CPL bits of CS.
        regs.get(17).is_some_and(|cs| cs & 3 != 0)
    }

    fn pte_flags(&self, pte: u64) -> Vec<&'static str> {
        use crate::x86_64::entry;
        const BITS: [(u64, &str); 7] = [
            (1 << 0, "PRESENT"),
            (1 << 1, "RW"),
            (1 << 2, "USER"),
            (1 << 3, "PWT"),
            (1 << 4, "PCD"),
            (1 << 5, "ACCESSED"),
            (1 << 6, "DIRTY"),
        ];
        let mut v: Vec<&str> = BITS
            .iter()
            .filter(|(b, _)| pte & b != 0)
            .map(|(_, n)| *n)
            .collect();
        let present = pte & entry::PRESENT != 0;
        if pte & entry::HUGE != 0 && present {
            v.push("PSE");
        }
        // Bit 8: global when present, the kernel's PROT_NONE marker when not.
        if pte & (1 << 8) != 0 {
            v.push(if present { "GLOBAL" } else { "PROTNONE" });
        }
        if pte & entry::NX != 0 {
            v.push("NX");
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_64_is_found_by_name_and_elf_machine() {
        assert_eq!(for_machine("x86_64").map(|a| a.name()), Some("x86_64"));
        assert_eq!(for_elf_machine(62).map(|a| a.name()), Some("x86_64"));
        assert!(for_machine("aarch64").is_none());
        assert!(for_elf_machine(183).is_none());
    }

    #[test]
    fn x86_64_facts() {
        let a = for_machine("x86_64").unwrap();
        assert_eq!(a.page_size(), 4096);
        assert_eq!(a.mapping_sizes(), &[4096, 2 << 20, 1 << 30]);
        assert!(a.is_kernel_address(0xffff_8880_0000_0000));
        assert!(!a.is_kernel_address(0x7fff_ffff_f000));
        let r = a.pt_regs();
        assert_eq!((r.size, r.names.len()), (168, 21));
        assert_eq!((r.names[r.ip], r.names[r.sp]), ("ip", "sp"));
        assert_eq!(r.index("cs"), Some(17));
        // The gregset starts as pt_regs does, with user_regs_struct's names.
        let g = a.gregset_names();
        assert_eq!((g.len(), g[16], g[19]), (27, "rip", "rsp"));
    }

    #[test]
    fn x86_64_exception_frames() {
        let a = X86_64;
        let mut r = [0u64; 21];
        // A kernel frame: __KERNEL_CS, __KERNEL_DS, IF set, kernel stack.
        (r[16], r[17], r[18], r[19], r[20]) = (
            0xffff_ffff_8100_0000,
            0x10,
            0x246,
            0xffff_c900_0000_0f00,
            0x18,
        );
        let code = |ip: u64| ip == 0xffff_ffff_8100_0000;
        assert!(a.is_exception_frame(&r, &code));
        assert!(!a.user_mode(&r));
        // Not code: no frame.
        assert!(!a.is_exception_frame(&r, &|_| false));
        // A user frame: __USER_CS, __USER_DS, user addresses.
        (r[16], r[17], r[19], r[20]) = (0x40_1000, 0x33, 0x7ffc_0000_1000, 0x2b);
        assert!(a.is_exception_frame(&r, &|_| false));
        assert!(a.user_mode(&r));
        // Flags without the always-one bit.
        r[18] = 0x200;
        assert!(!a.is_exception_frame(&r, &|_| false));
        // Too short.
        assert!(!a.is_exception_frame(&r[..10], &|_| true));
    }

    #[test]
    fn x86_64_pte_flags_as_crash_names_them() {
        let a = X86_64;
        // A present, writable, accessed, dirty, global, no-execute page.
        let pte = 0x8000_0000_1234_5163;
        assert_eq!(
            a.pte_flags(pte),
            ["PRESENT", "RW", "ACCESSED", "DIRTY", "GLOBAL", "NX"]
        );
        // Not present with bit 8: PROT_NONE.
        assert_eq!(a.pte_flags(0x100), ["PROTNONE"]);
        // A 2 MiB page.
        assert_eq!(a.pte_flags(0x81), ["PRESENT", "PSE"]);
    }
}
