//! Putting it together: the page tables, the layout and the linear
//! mappings of a dumped kernel, from whatever the dump offers.
//!
//! With VMCOREINFO (every kdump), the root is `init_top_pgt` and `phys_base`
//! is given. Without it (QEMU's `dump-guest-memory`), a CPU's CR3 gives the
//! root, CR4 the depth, and the page tables give the rest: where the kernel
//! image is mapped (so `phys_base` and the KASLR offset) and where the
//! direct map is.

use kdive_dump::{QemuCpuState, VmcoreInfo};

use super::find::{direct_map_at, find_direct_map, find_kernel_text, find_vmalloc_vmemmap};
use super::layout::{
    ktext_to_phys, Layout, CPU_ENTRY_AREA_BASE, DEFAULT_TEXT_START, KTEXT_END, START_KERNEL_MAP,
};
use super::paging::{PageTables, PAGE_SIZE};
use super::version::KernelVersion;
use super::xlat::{LinearMap, Translator};
use crate::PhysMem;

/// Bit 12 of CR4: 5-level paging.
const CR4_LA57: u64 = 1 << 12;

/// Since 4.8 (KASLR of the memory regions) the direct map's place cannot be
/// told from the version.
const DIRECT_BY_VERSION_UNTIL: KernelVersion = KernelVersion::new(4, 8, 0);

/// What is known before the page tables are read. Every field is optional;
/// the more there is, the less is guessed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// Virtual address of the kernel's top page table: `init_top_pgt`,
    /// `init_level4_pgt` (before 4.13) or `swapper_pg_dir`.
    pub top_pgt: Option<u64>,
    /// A CPU's CR3.
    pub cr3: Option<u64>,
    /// That CPU's CR4 (its LA57 bit says 5-level paging).
    pub cr4: Option<u64>,
    /// `phys_base`.
    pub phys_base: Option<u64>,
    /// Address of `_stext` (or `_text`).
    pub stext: Option<u64>,
    /// The AMD SME C-bit, `NUMBER(sme_mask)`.
    pub sme_mask: u64,
    /// `NUMBER(pgtable_l5_enabled)`.
    pub l5: Option<bool>,
    /// The kernel version.
    pub version: Option<KernelVersion>,
    /// The value of the `page_offset_base` variable.
    pub page_offset_base: Option<u64>,
    /// `KERNELOFFSET`, the KASLR slide of the kernel image.
    pub kernel_offset: Option<u64>,
    /// `NUMBER(KERNEL_IMAGE_SIZE)`: where the modules start.
    pub kernel_image_size: Option<u64>,
}

impl Hints {
    /// What VMCOREINFO tells.
    pub fn from_vmcoreinfo(info: &VmcoreInfo) -> Hints {
        Hints {
            top_pgt: ["init_top_pgt", "init_level4_pgt", "swapper_pg_dir"]
                .iter()
                .find_map(|s| info.symbol(s)),
            phys_base: info.number("phys_base").map(|n| n as u64),
            stext: info.symbol("_stext"),
            sme_mask: info.number("sme_mask").unwrap_or(0) as u64,
            l5: info.number("pgtable_l5_enabled").map(|n| n != 0),
            version: info.get("OSRELEASE").and_then(KernelVersion::parse),
            kernel_offset: info.kernel_offset(),
            kernel_image_size: info.number("KERNEL_IMAGE_SIZE").map(|n| n as u64),
            ..Hints::default()
        }
    }

    /// What a CPU's QEMU state note tells.
    pub fn from_qemu_cpu(cpu: &QemuCpuState) -> Hints {
        Hints {
            cr3: Some(cpu.cr[3]),
            cr4: Some(cpu.cr[4]),
            ..Hints::default()
        }
    }

    fn levels(&self) -> u8 {
        match (self.l5, self.cr4) {
            (Some(true), _) => 5,
            (None, Some(cr4)) if cr4 & CR4_LA57 != 0 => 5,
            _ => 4,
        }
    }
}

/// What [`discover`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The layout, with what was found filled in.
    pub layout: Layout,
    /// The page tables and linear mappings, ready to translate.
    pub xlat: Translator,
    /// The kernel image mapping, as far as it is linear.
    pub kernel_text: Option<LinearMap>,
    /// The direct map.
    pub direct_map: Option<LinearMap>,
}

/// Find the page tables, the kernel image and the direct map of the kernel
/// in `mem`. Nothing found is not an error: the fields stay `None` and the
/// translator fails for what it cannot translate.
pub fn discover(mem: &impl PhysMem, hints: &Hints) -> Discovered {
    let found = discover_with(mem, hints);
    let from_cr3 = hints.top_pgt.zip(hints.phys_base).is_none();
    match hints.cr3 {
        // With page-table isolation, a CPU stopped in user mode has CR3 on
        // its process's user PGD, which maps no direct map; the kernel's
        // PGD is the page below (bit 12 clear).
        Some(cr3) if from_cr3 && found.direct_map.is_none() && cr3 & PAGE_SIZE != 0 => {
            let kernel = Hints {
                cr3: Some(cr3 & !PAGE_SIZE),
                ..hints.clone()
            };
            let k = discover_with(mem, &kernel);
            if k.direct_map.is_some() {
                k
            } else {
                found
            }
        }
        _ => found,
    }
}

fn discover_with(mem: &impl PhysMem, hints: &Hints) -> Discovered {
    let levels = hints.levels();
    let mut linear = Vec::new();
    let tables = match (hints.top_pgt, hints.phys_base, hints.cr3) {
        (Some(pgt), Some(phys_base), _) => {
            // The root is in the kernel image, which the kernel maps
            // linearly; its own page is translated without a walk, so that
            // walking never depends on itself.
            let root = ktext_to_phys(pgt, phys_base);
            linear.push(LinearMap {
                virt: pgt & !(PAGE_SIZE - 1),
                phys: root & !(PAGE_SIZE - 1),
                len: PAGE_SIZE,
            });
            Some(PageTables::new(root, levels).with_sme_mask(hints.sme_mask))
        }
        (_, _, Some(cr3)) => Some(PageTables::from_cr3(
            cr3,
            if levels == 5 { CR4_LA57 } else { 0 },
            hints.sme_mask,
        )),
        _ => None,
    };
    let mut layout = Layout::for_version(levels, hints.version);
    if let Some(size) = hints.kernel_image_size {
        layout.modules_vaddr = START_KERNEL_MAP.wrapping_add(size);
    }
    layout.phys_base = hints.phys_base.or_else(|| {
        let t = tables.as_ref()?;
        // The image mapping says where the image is: from _stext if known,
        // else from the lowest page mapped in it.
        let (virt, phys) = match hints.stext {
            Some(s) => (s, t.translate(mem, s).ok()?.phys),
            None => {
                let m = t.lowest_mapped(mem, START_KERNEL_MAP, KTEXT_END - 1)?;
                (m.vaddr, m.phys)
            }
        };
        Some(phys.wrapping_sub(virt.wrapping_sub(START_KERNEL_MAP)))
    });
    let kernel_text = match (&tables, layout.phys_base) {
        (Some(t), Some(phys_base)) => find_kernel_text(mem, t)
            .filter(|m| m.offset() == phys_base.wrapping_sub(START_KERNEL_MAP)),
        _ => None,
    };
    layout.kernel_offset = hints.kernel_offset;
    if let Some(text) = kernel_text {
        layout.kernel_offset = layout
            .kernel_offset
            .or(Some(text.virt.wrapping_sub(DEFAULT_TEXT_START)));
        // An image reaching past 512 MiB means the 1 GiB image size.
        if hints.kernel_image_size.is_none() && text.end() > layout.modules_vaddr {
            layout.modules_vaddr = KTEXT_END;
        }
        linear.push(text);
    }
    let direct_map = tables
        .as_ref()
        .and_then(|t| match hints.page_offset_base {
            Some(base) => direct_map_at(mem, t, base),
            None => find_direct_map(mem, t),
        })
        .or_else(|| direct_by_version(hints.version, &layout));
    if let Some(d) = direct_map {
        layout.page_offset_base = d.virt;
        linear.push(d);
    }
    let modern = hints.version.is_none_or(|v| v >= DIRECT_BY_VERSION_UNTIL);
    if let (Some(t), Some(d), true) = (&tables, direct_map, modern) {
        // KASLR's regions end where the unused hole below cpu_entry_area
        // starts (`vaddr_end`).
        let vaddr_end = CPU_ENTRY_AREA_BASE - (2u64 << 40);
        if let Some((vmalloc, vmemmap)) =
            find_vmalloc_vmemmap(mem, t, d.end(), layout.vmalloc_size, vaddr_end)
        {
            layout.vmalloc_base = vmalloc;
            layout.vmemmap_base = vmemmap;
        }
    }
    Discovered {
        layout,
        xlat: Translator {
            tables,
            levels,
            linear,
        },
        kernel_text,
        direct_map,
    }
}

/// Old kernels' direct map, from the version alone: all of its region.
fn direct_by_version(version: Option<KernelVersion>, layout: &Layout) -> Option<LinearMap> {
    (version? < DIRECT_BY_VERSION_UNTIL).then_some(LinearMap {
        virt: layout.page_offset_base,
        phys: 0,
        len: layout.direct_size,
    })
}
