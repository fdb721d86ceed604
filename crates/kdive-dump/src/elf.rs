//! ELF vmcores: what the kernel exposes as /proc/vmcore (and a copy of it),
//! `makedumpfile -E`, and QEMU's `dump-guest-memory`.
//!
//! Physical memory is the `PT_LOAD` segments by `p_paddr`; notes are the
//! `PT_NOTE` segments. A segment's bytes past `p_filesz` (up to `p_memsz`)
//! are not in the file: makedumpfile -E leaves excluded pages out that way,
//! so they read as excluded rather than as zeros.

use crate::error::{OpenError, ReadError};
use crate::source::{u16_at, u32_at, u64_at, Source};

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
/// e_phnum value meaning "the count is in section header 0's sh_info".
const PN_XNUM: u16 = 0xffff;
pub(crate) const EM_X86_64: u16 = 62;
pub(crate) const EM_386: u16 = 3;
pub(crate) const EM_PPC64: u16 = 21;
pub(crate) const EM_S390: u16 = 22;
pub(crate) const EM_AARCH64: u16 = 183;
pub(crate) const EM_RISCV: u16 = 243;
/// More program headers than this is not a vmcore we can sensibly hold.
const MAX_PHNUM: u64 = 1 << 22;

/// One `PT_LOAD` segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub paddr: u64,
    pub vaddr: u64,
    pub offset: u64,
    pub filesz: u64,
    pub memsz: u64,
}

pub(crate) struct ElfDump {
    pub(crate) machine: u16,
    /// Sorted by `paddr`.
    pub(crate) loads: Vec<Load>,
    /// `max_end[i]` = the highest `paddr + memsz` among `loads[..=i]`, so
    /// that overlapping segments (kernel text inside RAM) are found.
    max_end: Vec<u64>,
    pub(crate) notes: Vec<u8>,
}

/// Where a physical address is in an ELF dump.
pub(crate) enum ElfPage {
    /// At this file offset, with this many bytes of the segment's file
    /// part from there on.
    File(u64, u64),
    /// In a segment, past its file size.
    Excluded,
    Missing,
}

impl ElfDump {
    pub(crate) fn is_elf(head: &[u8]) -> bool {
        head.starts_with(b"\x7fELF")
    }

    pub(crate) fn parse(src: &Source) -> Result<ElfDump, OpenError> {
        let eh = src.need("ELF header", 0, 64)?;
        if eh[4] != 2 {
            return Err(OpenError::Unsupported(
                "32-bit ELF vmcore (only 64-bit dumps are read)".into(),
            ));
        }
        if eh[5] != 1 {
            return Err(OpenError::Unsupported(
                "big-endian ELF vmcore (only little-endian dumps are read)".into(),
            ));
        }
        let machine = u16_at(&eh, 18);
        let phoff = u64_at(&eh, 32);
        let shoff = u64_at(&eh, 40);
        let phentsize = u16_at(&eh, 54) as u64;
        let mut phnum = u16_at(&eh, 56) as u64;
        if phentsize != 56 {
            return Err(OpenError::BadHeader {
                what: "ELF header",
                offset: 54,
                why: format!("program header size {phentsize}, expected 56"),
            });
        }
        if phnum == PN_XNUM as u64 {
            let sh = src.need("ELF section header 0", shoff, 64)?;
            phnum = u32_at(&sh, 44) as u64;
        }
        if phnum > MAX_PHNUM {
            return Err(OpenError::BadHeader {
                what: "ELF header",
                offset: 56,
                why: format!("{phnum} program headers"),
            });
        }
        let table = src.need("ELF program headers", phoff, (phnum * phentsize) as usize)?;
        let mut loads = Vec::new();
        let mut notes = Vec::new();
        for i in 0..phnum as usize {
            let ph = &table[i * 56..(i + 1) * 56];
            let at = phoff + (i as u64) * 56;
            let (offset, filesz) = (u64_at(ph, 8), u64_at(ph, 32));
            match u32_at(ph, 0) {
                PT_LOAD => {
                    let load = Load {
                        offset,
                        vaddr: u64_at(ph, 16),
                        paddr: u64_at(ph, 24),
                        filesz,
                        memsz: u64_at(ph, 40),
                    };
                    let bad = |why: String| OpenError::BadHeader {
                        what: "ELF PT_LOAD",
                        offset: at,
                        why,
                    };
                    if load.paddr.checked_add(load.memsz).is_none() {
                        return Err(bad(format!(
                            "paddr {:#x} + memsz {:#x} overflows",
                            load.paddr, load.memsz
                        )));
                    }
                    if load.offset.checked_add(load.filesz).is_none() {
                        return Err(bad(format!(
                            "offset {:#x} + filesz {:#x} overflows",
                            load.offset, load.filesz
                        )));
                    }
                    if load.filesz > load.memsz {
                        return Err(bad(format!(
                            "filesz {:#x} > memsz {:#x}",
                            load.filesz, load.memsz
                        )));
                    }
                    // Data past the end of the file is a truncated dump:
                    // keep the segment, its pages read as truncated.
                    loads.push(load);
                }
                PT_NOTE => {
                    // A damaged note segment loses the notes, not the dump.
                    let len = usize::try_from(filesz).unwrap_or(usize::MAX);
                    if let Some(b) = src.get(offset, len) {
                        notes.extend_from_slice(&b);
                    }
                }
                _ => {}
            }
        }
        loads.sort_by_key(|l| l.paddr);
        let mut max_end = Vec::with_capacity(loads.len());
        let mut m = 0u64;
        for l in &loads {
            m = m.max(l.paddr + l.memsz);
            max_end.push(m);
        }
        Ok(ElfDump {
            machine,
            loads,
            max_end,
            notes,
        })
    }

    /// Where the byte at physical address `addr` is.
    pub(crate) fn locate(&self, addr: u64) -> ElfPage {
        let mut i = self.loads.partition_point(|l| l.paddr <= addr);
        let mut excluded = false;
        while i > 0 && self.max_end[i - 1] > addr {
            i -= 1;
            let l = &self.loads[i];
            let rel = addr - l.paddr;
            if rel < l.filesz {
                return ElfPage::File(l.offset + rel, l.filesz - rel);
            }
            if rel < l.memsz {
                excluded = true;
            }
        }
        if excluded {
            ElfPage::Excluded
        } else {
            ElfPage::Missing
        }
    }

    /// End of the highest segment.
    pub(crate) fn end(&self) -> u64 {
        self.max_end.last().copied().unwrap_or(0)
    }

    /// Read one page (or less) that lies in one segment.
    pub(crate) fn read(&self, src: &Source, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        // A read may cross from one segment into the next: go byte-run by
        // byte-run, each run inside one segment.
        let mut done = 0usize;
        while done < buf.len() {
            let a = addr + done as u64;
            let (off, run) = match self.locate(a) {
                ElfPage::File(off, run) => (off, run),
                ElfPage::Excluded => return Err(ReadError::Excluded { addr: a }),
                ElfPage::Missing if a >= self.end() => {
                    return Err(ReadError::BeyondMemory {
                        addr: a,
                        end: self.end(),
                    })
                }
                ElfPage::Missing => return Err(ReadError::NotInDump { addr: a }),
            };
            let run = run.min((buf.len() - done) as u64) as usize;
            let bytes = src.get(off, run).ok_or(ReadError::Truncated {
                addr: a,
                offset: off,
            })?;
            buf[done..done + run].copy_from_slice(&bytes);
            done += run;
        }
        Ok(())
    }
}
