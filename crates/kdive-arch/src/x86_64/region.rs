//! Which part of the kernel's address space an address is in.

use super::layout::{
    Layout, CPU_ENTRY_AREA_BASE, EFI_BASE, ESPFIX_BASE, FIXMAP_END, MODULES_END, START_KERNEL_MAP,
    VSYSCALL_ADDR,
};
use super::paging::is_canonical;

/// A region of the x86-64 kernel virtual address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// The lower canonical half: user space, different per process.
    User,
    /// Between the canonical halves: never valid.
    NonCanonical,
    /// The direct map of all physical memory (`page_offset_base`).
    Direct,
    /// vmalloc and ioremap space (`vmalloc_base`): also kernel stacks.
    Vmalloc,
    /// The `struct page` array (`vmemmap_base`).
    Vmemmap,
    /// The kernel image: text, data, bss (`__START_KERNEL_map` up to
    /// `MODULES_VADDR`).
    KernelText,
    /// Loadable modules (`MODULES_VADDR` up to `MODULES_END`).
    Modules,
    /// `cpu_entry_area`: per-CPU GDT, TSS and exception stacks.
    CpuEntryArea,
    /// The %esp fixup stacks.
    EspFix,
    /// The EFI runtime services mapping (only in `efi_pgd`).
    Efi,
    /// The fixmap: compile-time fixed mappings (APIC, early ioremap...).
    Fixmap,
    /// The legacy vsyscall page.
    Vsyscall,
    /// Any other kernel address: guard hole, LDT remap, KASAN shadow, holes.
    Other,
}

impl Layout {
    /// The region `vaddr` is in.
    pub fn classify(&self, vaddr: u64) -> Region {
        if !is_canonical(vaddr, self.levels) {
            return Region::NonCanonical;
        }
        // Under KASLR the three regions move and shrink to fit in order, so
        // each ends at the next one's start at the latest.
        let vaddr_end = CPU_ENTRY_AREA_BASE - (2u64 << 40);
        let direct_end = clip(self.page_offset_base, self.direct_size, self.vmalloc_base);
        let vmalloc_end = clip(self.vmalloc_base, self.vmalloc_size, self.vmemmap_base);
        let vmemmap_end = clip(self.vmemmap_base, self.vmemmap_size, vaddr_end);
        let fixed: [(u64, u64, Region); 10] = [
            (self.page_offset_base, direct_end, Region::Direct),
            (self.vmalloc_base, vmalloc_end, Region::Vmalloc),
            (self.vmemmap_base, vmemmap_end, Region::Vmemmap),
            (
                CPU_ENTRY_AREA_BASE,
                CPU_ENTRY_AREA_BASE + (1 << 39),
                Region::CpuEntryArea,
            ),
            (ESPFIX_BASE, ESPFIX_BASE + (1 << 39), Region::EspFix),
            (EFI_BASE, EFI_BASE + (64 << 30), Region::Efi),
            (START_KERNEL_MAP, self.modules_vaddr, Region::KernelText),
            (self.modules_vaddr, MODULES_END, Region::Modules),
            (VSYSCALL_ADDR, VSYSCALL_ADDR + 0x1000, Region::Vsyscall),
            (MODULES_END, FIXMAP_END, Region::Fixmap),
        ];
        if let Some(&(_, _, r)) = fixed.iter().find(|(s, e, _)| (*s..*e).contains(&vaddr)) {
            return r;
        }
        if vaddr >> 63 == 0 {
            Region::User
        } else {
            Region::Other
        }
    }
}

/// The end of a region of `size` from `start`, cut at `next` when `next`
/// follows `start` (randomized regions are packed closer than their size).
fn clip(start: u64, size: u64, next: u64) -> u64 {
    let end = start.saturating_add(size);
    if next > start {
        end.min(next)
    } else {
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x86_64::KernelVersion;

    #[test]
    fn classifies_the_documented_layout() {
        let l4 = Layout::new(4);
        assert_eq!(l4.classify(0x7fff_ffff_f000), Region::User);
        assert_eq!(l4.classify(0x8000_0000_0000), Region::NonCanonical);
        assert_eq!(l4.classify(0xffff_8880_0000_1000), Region::Direct);
        assert_eq!(l4.classify(0xffff_c900_0000_0000), Region::Vmalloc);
        assert_eq!(l4.classify(0xffff_ea00_0000_0040), Region::Vmemmap);
        assert_eq!(l4.classify(0xffff_fe00_0000_9000), Region::CpuEntryArea);
        assert_eq!(l4.classify(0xffff_ffff_8100_0000), Region::KernelText);
        assert_eq!(l4.classify(0xffff_ffff_c03e_c000), Region::Modules);
        assert_eq!(l4.classify(0xffff_ffff_ff5f_f000), Region::Fixmap);
        assert_eq!(l4.classify(0xffff_ffff_ff60_0000), Region::Vsyscall);
        assert_eq!(l4.classify(0xffff_8000_0000_0000), Region::Other);
        let l5 = Layout::new(5);
        assert_eq!(l5.classify(0x00ff_ffff_ffff_f000), Region::User);
        assert_eq!(l5.classify(0xff11_0000_0100_0000), Region::Direct);
        assert_eq!(l5.classify(0xffd4_0000_0000_0000), Region::Vmemmap);
        let old = Layout::for_version(4, Some(KernelVersion::new(2, 6, 5)));
        assert_eq!(old.classify(0x0000_0100_0000_0000), Region::Direct);
        assert_eq!(old.classify(0xffff_ffff_8800_0000), Region::Modules);
    }

    #[test]
    fn randomized_regions_end_where_the_next_starts() {
        // The slab dump's bases (crash's `mach`).
        let l = Layout {
            page_offset_base: 0xff29_412b_c000_0000,
            vmalloc_base: 0xff6a_2684_4000_0000,
            vmemmap_base: 0xffb8_d621_8000_0000,
            ..Layout::new(5)
        };
        assert_eq!(l.classify(0xff29_412b_ffb8_2000), Region::Direct);
        assert_eq!(l.classify(0xff6a_2684_4000_5000), Region::Vmalloc);
        assert_eq!(l.classify(0xffb8_d621_8000_0040), Region::Vmemmap);
    }
}
