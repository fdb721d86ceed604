//! A process's memory map: the VMAs of an `mm_struct`, from its maple tree
//! (`mm_mt`, Linux 6.1 on) or its `mmap` list (before), whichever the
//! kernel's BTF says it has.

use std::collections::HashSet;

use crate::offsets::Layouts;

use crate::maple;
use crate::memory::Memory;
use crate::{Error, Kernel, LayoutError};

/// At most this many VMAs are read of one process (the kernel's default
/// `vm.max_map_count` is 65530).
pub const MAX_VMAS: usize = 1 << 20;

/// Where the VMAs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmaOffsets {
    pub list: VmaList,
    pub mm_pgd: Option<u64>,
    pub vm_start: u64,
    pub vm_end: u64,
    pub vm_flags: u64,
    pub vm_file: u64,
    /// `sizeof(struct vm_area_struct)`.
    pub size: u64,
}

/// How an `mm_struct` holds its VMAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmaList {
    /// `mm_mt.ma_root` of a maple tree.
    Maple { root: u64 },
    /// `mmap`, each VMA's `vm_next`.
    List { head: u64, next: u64 },
}

impl VmaOffsets {
    pub(crate) fn from_layouts(layouts: Layouts<'_>) -> Option<VmaOffsets> {
        let off = |s: &str, p: &str| layouts.member_offset(s, p).map(|m| m.offset());
        let list = match off("mm_struct", "mm_mt.ma_root") {
            Some(root) => VmaList::Maple { root },
            None => VmaList::List {
                head: off("mm_struct", "mmap")?,
                next: off("vm_area_struct", "vm_next")?,
            },
        };
        Some(VmaOffsets {
            list,
            mm_pgd: off("mm_struct", "pgd"),
            vm_start: off("vm_area_struct", "vm_start")?,
            vm_end: off("vm_area_struct", "vm_end")?,
            vm_flags: off("vm_area_struct", "vm_flags")?,
            vm_file: off("vm_area_struct", "vm_file")?,
            size: layouts.size_of(layouts.find_aggregate("vm_area_struct")?)?,
        })
    }
}

/// One VMA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vma {
    pub addr: u64,
    pub start: u64,
    pub end: u64,
    pub flags: u64,
    /// `vm_file`: 0 for anonymous memory.
    pub file: u64,
}

/// The VMAs of one `mm_struct`, by address, and what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vmas {
    pub vmas: Vec<Vma>,
    pub damage: Vec<crate::Finding>,
}

impl Kernel {
    /// `mm_struct.pgd` of the `mm_struct` at `mm`.
    pub fn mm_pgd(&self, mm: u64) -> Result<u64, Error> {
        let o = self.vma_offsets()?;
        let off = o
            .mm_pgd
            .ok_or_else(|| LayoutError::member("mm_struct", "pgd"))?;
        Memory::read_u64(self, mm + off)
            .map_err(|e| Error::read(format!("mm_struct {mm:x} does not read"), e))
    }

    fn vma_offsets(&self) -> Result<&VmaOffsets, LayoutError> {
        self.proc_offsets()
            .vma
            .as_ref()
            .ok_or_else(|| LayoutError::Incomplete("vm_area_struct".into()))
    }

    /// The VMAs of the `mm_struct` at `mm`, in address order.
    pub fn vmas(&self, mm: u64) -> Result<Vmas, Error> {
        let o = self.vma_offsets()?;
        read_vmas(self, mm, o, self.proc_offsets().maple.as_ref())
    }
}

/// The VMAs of the `mm_struct` at `mm`.
fn read_vmas(
    mem: &dyn Memory,
    mm: u64,
    o: &VmaOffsets,
    maple: Option<&maple::MapleOffsets>,
) -> Result<Vmas, Error> {
    let mut out = Vmas::default();
    let addrs: Vec<u64> = match o.list {
        VmaList::Maple { root } => {
            let mo = maple.ok_or_else(|| LayoutError::Incomplete("maple_node".into()))?;
            let r = mem
                .read_u64(mm + root)
                .map_err(|e| Error::read(format!("mm_struct {mm:x} does not read"), e))?;
            let w = maple::walk(mem, r, mo, MAX_VMAS);
            out.damage = w.damage;
            w.entries.iter().map(|e| e.entry).collect()
        }
        VmaList::List { head, next } => {
            let mut v = Vec::new();
            let mut seen = HashSet::new();
            let mut at = mem
                .read_u64(mm + head)
                .map_err(|e| Error::read(format!("mm_struct {mm:x} does not read"), e))?;
            while at != 0 {
                if !seen.insert(at) || v.len() >= MAX_VMAS {
                    out.damage.push(crate::Finding::looped(
                        at,
                        format!("vma list: comes back to {at:x}, or too long: stopped"),
                    ));
                    break;
                }
                v.push(at);
                at = match mem.read_u64(at + next) {
                    Ok(n) => n,
                    Err(e) => {
                        out.damage.push(crate::Finding::unreadable(
                            at,
                            format!("vma {at:x} does not read: {e}"),
                        ));
                        break;
                    }
                };
            }
            v
        }
    };
    let mut buf = vec![0u8; o.size as usize];
    for addr in addrs {
        if let Err(e) = mem.read(addr, &mut buf) {
            out.damage.push(crate::Finding::unreadable(
                addr,
                format!("vma {addr:x} does not read: {e}"),
            ));
            continue;
        }
        let word = |off: u64| {
            let i = off as usize;
            buf.get(i..i + 8)
                .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
        };
        out.vmas.push(Vma {
            addr,
            start: word(o.vm_start),
            end: word(o.vm_end),
            flags: word(o.vm_flags),
            file: word(o.vm_file),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
