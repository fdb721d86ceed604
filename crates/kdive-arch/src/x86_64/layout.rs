//! The kernel's virtual memory layout on x86-64 (the kernel's
//! Documentation/arch/x86/x86_64/mm.rst, unchanged from 4.20 to 6.12, plus
//! the older layouts), and the arithmetic of its linear mappings.

use super::version::KernelVersion;

/// `__START_KERNEL_map`: the kernel image mapping starts here and maps
/// physical address `phys_base`. It has never moved.
pub const START_KERNEL_MAP: u64 = 0xffff_ffff_8000_0000;
/// Where `_text` is linked with the default `CONFIG_PHYSICAL_START` (16 MiB);
/// KASLR's `KERNELOFFSET` is the distance from here.
pub const DEFAULT_TEXT_START: u64 = 0xffff_ffff_8100_0000;
/// End of the kernel image mapping at its largest (1 GiB, with KASLR):
/// `KERNEL_IMAGE_SIZE` is 512 MiB or 1 GiB.
pub const KTEXT_END: u64 = 0xffff_ffff_c000_0000;
/// Default `page_offset_base` with 4-level paging (4.20 and later).
pub const PAGE_OFFSET_BASE_L4: u64 = 0xffff_8880_0000_0000;
/// Default `page_offset_base` with 5-level paging (4.20 and later).
pub const PAGE_OFFSET_BASE_L5: u64 = 0xff11_0000_0000_0000;
/// Default `vmalloc_base`, 4-level (2.6.31 and later).
pub const VMALLOC_BASE_L4: u64 = 0xffff_c900_0000_0000;
/// Default `vmalloc_base`, 5-level.
pub const VMALLOC_BASE_L5: u64 = 0xffa0_0000_0000_0000;
/// Default `vmemmap_base`, 4-level (2.6.31 and later).
pub const VMEMMAP_BASE_L4: u64 = 0xffff_ea00_0000_0000;
/// Default `vmemmap_base`, 5-level.
pub const VMEMMAP_BASE_L5: u64 = 0xffd4_0000_0000_0000;
/// `CPU_ENTRY_AREA_BASE` (4.15 and later): per-CPU GDT, TSS, entry stacks.
pub const CPU_ENTRY_AREA_BASE: u64 = 0xffff_fe00_0000_0000;
/// `ESPFIX_BASE_ADDR`: the %esp fixup stacks.
pub const ESPFIX_BASE: u64 = 0xffff_ff00_0000_0000;
/// `EFI_VA_END`: EFI runtime services are mapped in the 64 GiB from here.
pub const EFI_BASE: u64 = 0xffff_ffef_0000_0000;
/// `MODULES_END` (4.x and later); the fixmap is above.
pub const MODULES_END: u64 = 0xffff_ffff_ff00_0000;
/// `VSYSCALL_ADDR`: the legacy vsyscall page, inside the fixmap.
pub const VSYSCALL_ADDR: u64 = 0xffff_ffff_ff60_0000;
/// Top of the fixmap (`FIXADDR_TOP` rounded up to its 2 MiB).
pub const FIXMAP_END: u64 = 0xffff_ffff_ff80_0000;

const TB: u64 = 1 << 40;
const PB: u64 = 1 << 50;

/// The layout of one running kernel: the fixed parts from its version and
/// paging depth, the randomized ones (KASLR) as found in the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Paging levels, 4 or 5.
    pub levels: u8,
    /// `phys_base`: the physical address `__START_KERNEL_map` maps to (the
    /// kernel's load address minus its link-time physical address). `None`
    /// when not known yet.
    pub phys_base: Option<u64>,
    /// KASLR's `KERNELOFFSET`: where `_text` is minus where it was linked
    /// (assumed [`DEFAULT_TEXT_START`] when found from the page tables alone).
    pub kernel_offset: Option<u64>,
    /// Start of the direct map of all physical memory (`PAGE_OFFSET`).
    pub page_offset_base: u64,
    /// Size of the direct-map region (64 TiB, 4-level; 32 PiB, 5-level).
    pub direct_size: u64,
    /// Start of vmalloc and ioremap space.
    pub vmalloc_base: u64,
    /// Size of the vmalloc region.
    pub vmalloc_size: u64,
    /// Start of the `struct page` array (`vmemmap`); 0 where none.
    pub vmemmap_base: u64,
    /// Size of the vmemmap region.
    pub vmemmap_size: u64,
    /// `MODULES_VADDR`, the end of the kernel image mapping:
    /// `__START_KERNEL_map + KERNEL_IMAGE_SIZE`.
    pub modules_vaddr: u64,
}

impl Layout {
    /// The layout of a current kernel (4.20 and later) with KASLR's memory
    /// randomization off and KASLR's 1 GiB image size.
    pub fn new(levels: u8) -> Layout {
        Layout::for_version(levels, None)
    }

    /// The default layout of kernel `version` (`None`: a current one).
    pub fn for_version(levels: u8, version: Option<KernelVersion>) -> Layout {
        let v = version.unwrap_or(KernelVersion::new(u16::MAX, 0, 0));
        let at_least = |a, b, c| v >= KernelVersion::new(a, b, c);
        let (page_offset_base, direct_size) = if levels == 5 {
            let base = if at_least(4, 20, 0) {
                PAGE_OFFSET_BASE_L5
            } else {
                0xff10_0000_0000_0000
            };
            (base, 32 * PB)
        } else if at_least(4, 20, 0) {
            (PAGE_OFFSET_BASE_L4, 64 * TB)
        } else if at_least(2, 6, 31) {
            (0xffff_8800_0000_0000, 64 * TB)
        } else if at_least(2, 6, 27) {
            (
                0xffff_8800_0000_0000,
                0xffff_c100_0000_0000 - 0xffff_8800_0000_0000,
            )
        } else if at_least(2, 6, 11) {
            (
                0xffff_8100_0000_0000,
                0xffff_c100_0000_0000 - 0xffff_8100_0000_0000,
            )
        } else {
            // Before 2.6.11 the direct map sat in the lower half.
            (0x0000_0100_0000_0000, TB)
        };
        let (vmalloc_base, vmalloc_size, vmemmap_base, vmemmap_size) = if levels == 5 {
            (VMALLOC_BASE_L5, 12 * PB + PB / 2, VMEMMAP_BASE_L5, PB / 2)
        } else if at_least(2, 6, 31) {
            (VMALLOC_BASE_L4, 32 * TB, VMEMMAP_BASE_L4, TB)
        } else if at_least(2, 6, 11) {
            let vmemmap = if at_least(2, 6, 24) {
                0xffff_e200_0000_0000
            } else {
                0
            };
            (
                0xffff_c200_0000_0000,
                32 * TB,
                vmemmap,
                if vmemmap != 0 { TB } else { 0 },
            )
        } else {
            (0xffff_ff00_0000_0000, TB / 2, 0, 0)
        };
        let modules_vaddr = if at_least(4, 7, 0) {
            KTEXT_END
        } else if at_least(2, 6, 26) {
            0xffff_ffff_a000_0000
        } else {
            0xffff_ffff_8800_0000
        };
        Layout {
            levels: if levels == 5 { 5 } else { 4 },
            phys_base: None,
            kernel_offset: None,
            page_offset_base,
            direct_size,
            vmalloc_base,
            vmalloc_size,
            vmemmap_base,
            vmemmap_size,
            modules_vaddr,
        }
    }

    /// Physical address of kernel-image address `vaddr` (needs `phys_base`).
    pub fn ktext_to_phys(&self, vaddr: u64) -> Option<u64> {
        self.phys_base.map(|b| ktext_to_phys(vaddr, b))
    }

    /// Physical address of direct-map address `vaddr`.
    pub fn direct_to_phys(&self, vaddr: u64) -> u64 {
        direct_to_phys(vaddr, self.page_offset_base)
    }

    /// The direct-map address of physical address `phys` (crash's `ptov`).
    pub fn phys_to_direct(&self, phys: u64) -> u64 {
        phys_to_direct(phys, self.page_offset_base)
    }
}

/// `__pa_symbol()`: the physical address of a kernel-image address.
pub fn ktext_to_phys(vaddr: u64, phys_base: u64) -> u64 {
    vaddr.wrapping_sub(START_KERNEL_MAP).wrapping_add(phys_base)
}

/// `__pa()` of a direct-map address.
pub fn direct_to_phys(vaddr: u64, page_offset: u64) -> u64 {
    vaddr.wrapping_sub(page_offset)
}

/// `__va()`: the direct-map address of a physical address.
pub fn phys_to_direct(phys: u64, page_offset: u64) -> u64 {
    phys.wrapping_add(page_offset)
}

/// `per_cpu_ptr()`: a per-CPU variable's address (its symbol value, an
/// offset into the per-CPU section) for the CPU whose `__per_cpu_offset` is
/// `cpu_offset`. Per-CPU areas have no region of their own: they are in the
/// direct map, or in vmalloc space for the later chunks.
pub fn per_cpu_addr(symbol: u64, cpu_offset: u64) -> u64 {
    symbol.wrapping_add(cpu_offset)
}
