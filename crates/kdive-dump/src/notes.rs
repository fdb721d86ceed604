//! ELF notes of a dump: VMCOREINFO, each CPU's `NT_PRSTATUS`, QEMU's CPU
//! state. The same note stream sits in an ELF vmcore's `PT_NOTE` segments
//! and in a kdump-compressed file's note area.

use crate::source::{i32_at, u32_at, u64_at};

pub const NT_PRSTATUS: u32 = 1;

/// One ELF note.
#[derive(Debug, Clone)]
pub struct Note {
    pub name: String,
    pub kind: u32,
    pub desc: Vec<u8>,
}

/// Split a note stream (64-bit ELF layout: 4-byte aligned names and
/// descriptors). Stops at the first malformed or empty header; what came
/// before it is kept, since kernels pad note segments with zeros.
pub fn parse_notes(mut b: &[u8]) -> Vec<Note> {
    let mut out = Vec::new();
    let align = |n: usize| n.checked_add(3).map(|v| v & !3);
    while b.len() >= 12 {
        let namesz = u32_at(b, 0) as usize;
        let descsz = u32_at(b, 4) as usize;
        let kind = u32_at(b, 8);
        if namesz == 0 && descsz == 0 && kind == 0 {
            break;
        }
        let Some(name_end) = align(namesz).and_then(|n| n.checked_add(12)) else {
            break;
        };
        let Some(desc_end) = align(descsz).and_then(|n| n.checked_add(name_end)) else {
            break;
        };
        // The last note's padding may be missing; its bytes may not.
        if name_end.checked_add(descsz).is_none_or(|e| e > b.len()) {
            break;
        }
        let name = &b[12..12 + namesz];
        let name = String::from_utf8_lossy(name.split(|&c| c == 0).next().unwrap_or(&[]));
        let desc = b[name_end..name_end + descsz].to_vec();
        out.push(Note {
            name: name.into_owned(),
            kind,
            desc,
        });
        b = &b[desc_end.min(b.len())..];
    }
    out
}

/// Offset of `pr_reg` in a 64-bit `struct elf_prstatus`: the common part
/// before it (signal info, PIDs, times) is the same on every 64-bit
/// architecture.
const PR_REG: usize = 112;
/// After `pr_reg`: `pr_fpvalid` and its padding.
const PR_TAIL: usize = 8;
/// The most registers a gregset holds here (arm64 has 34, x86-64 27).
const MAX_REGS: usize = 64;
/// Size of x86-64's `struct elf_prstatus`.
pub const PRSTATUS_SIZE: usize = 336;

/// One CPU's state at the crash, from its `NT_PRSTATUS` note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuState {
    /// Index among the dump's CPU notes: the kernel writes one per CPU, in
    /// CPU order.
    pub cpu: usize,
    /// `pr_pid`: the PID running on that CPU (0 for an idle CPU).
    pub pid: i32,
    /// The registers of `pr_reg` (`elf_gregset_t`), in the order the
    /// architecture stores them: `kdive_arch::Arch::gregset_names` names
    /// them (x86-64: `r15` first, `rip` 17th).
    pub regs: Vec<u64>,
}

/// The CPU states of all `NT_PRSTATUS` notes of a 64-bit dump. The
/// gregset is what lies between `pr_reg` and `pr_fpvalid`: its size says
/// how many registers the architecture saves.
pub fn cpu_states(notes: &[Note]) -> Vec<CpuState> {
    notes
        .iter()
        .filter(|n| {
            n.kind == NT_PRSTATUS && n.name == "CORE" && n.desc.len() >= PR_REG + PR_TAIL + 8
        })
        .enumerate()
        .map(|(cpu, n)| {
            let count = ((n.desc.len() - PR_REG - PR_TAIL) / 8).min(MAX_REGS);
            CpuState {
                cpu,
                pid: i32_at(&n.desc, 32),
                regs: (0..count)
                    .map(|i| u64_at(&n.desc, PR_REG + i * 8))
                    .collect(),
            }
        })
        .collect()
}

/// The VMCOREINFO text: `KEY=VALUE` lines the kernel writes for dump tools.
#[derive(Debug, Clone, Default)]
pub struct VmcoreInfo {
    entries: Vec<(String, String)>,
}

impl VmcoreInfo {
    pub fn parse(text: &[u8]) -> VmcoreInfo {
        let text = String::from_utf8_lossy(text);
        let entries = text
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once('=')?;
                Some((k.to_string(), v.trim_end_matches('\0').to_string()))
            })
            .collect();
        VmcoreInfo { entries }
    }

    /// Every entry in the order the kernel wrote them.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `SYMBOL(name)`, a hexadecimal address.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        u64::from_str_radix(self.get(&format!("SYMBOL({name})"))?, 16).ok()
    }

    /// `NUMBER(name)`, decimal (possibly negative).
    pub fn number(&self, name: &str) -> Option<i64> {
        self.get(&format!("NUMBER({name})"))?.parse().ok()
    }

    /// `OFFSET(type.member)` or `SIZE(type)` style decimal entries.
    pub fn decimal(&self, key: &str) -> Option<u64> {
        self.get(key)?.parse().ok()
    }

    /// `KERNELOFFSET`, the KASLR slide of the kernel text, hexadecimal.
    pub fn kernel_offset(&self) -> Option<u64> {
        u64::from_str_radix(self.get("KERNELOFFSET")?, 16).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The VMCOREINFO note's text, if the notes hold one.
pub fn vmcoreinfo_note(notes: &[Note]) -> Option<&[u8]> {
    notes
        .iter()
        .find(|n| n.name == "VMCOREINFO")
        .map(|n| n.desc.as_slice())
}

/// QEMU's `QEMUCPUState` note (`dump-guest-memory`), the control registers
/// of which give the page-table root of a dump with no VMCOREINFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuCpuState {
    pub cpu: usize,
    /// rax..r15 in QEMU's order (rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8..r15).
    pub gprs: [u64; 16],
    pub rip: u64,
    pub rflags: u64,
    /// cr0, cr1, cr2, cr3, cr4.
    pub cr: [u64; 5],
    /// Base of the GS segment (per-CPU area in the kernel).
    pub gs_base: u64,
    /// `kernel_gs_base` (note version 1 and later).
    pub kernel_gs_base: Option<u64>,
}

/// Every "QEMU" note of the dump, in CPU order.
pub fn qemu_cpu_states(notes: &[Note]) -> Vec<QemuCpuState> {
    // Layout: version u32, size u32, 16 GPRs, rip, rflags (u64 each), then
    // cs ds es fs gs ss ldt tr gdt idt as {selector, limit, flags, pad: u32;
    // base: u64} (24 bytes), then cr[5], then kernel_gs_base (version >= 1).
    const SEGS: usize = 8 + 18 * 8;
    const CR: usize = SEGS + 10 * 24;
    notes
        .iter()
        .filter(|n| n.name == "QEMU" && n.desc.len() >= CR + 5 * 8)
        .enumerate()
        .map(|(cpu, n)| {
            let d = &n.desc;
            let version = u32_at(d, 0);
            let q = |i: usize| u64_at(d, 8 + i * 8);
            let mut gprs = [0u64; 16];
            for (i, g) in gprs.iter_mut().enumerate() {
                *g = q(i);
            }
            let mut cr = [0u64; 5];
            for (i, c) in cr.iter_mut().enumerate() {
                *c = u64_at(d, CR + i * 8);
            }
            let kgs = CR + 5 * 8;
            QemuCpuState {
                cpu,
                gprs,
                rip: q(16),
                rflags: q(17),
                cr,
                // gs is the fifth segment; its base is at +16 in the record.
                gs_base: u64_at(d, SEGS + 4 * 24 + 16),
                kernel_gs_base: (version >= 1 && d.len() >= kgs + 8).then(|| u64_at(d, kgs)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(name: &str, kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((name.len() + 1) as u32).to_le_bytes());
        v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        v.extend_from_slice(&kind.to_le_bytes());
        v.extend_from_slice(name.as_bytes());
        v.push(0);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v.extend_from_slice(desc);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn prstatus_and_vmcoreinfo() {
        let mut pr = vec![0u8; PRSTATUS_SIZE];
        pr[32..36].copy_from_slice(&50i32.to_le_bytes());
        let rip = PR_REG + 16 * 8;
        pr[rip..rip + 8].copy_from_slice(&0xffffffff81000000u64.to_le_bytes());
        let mut stream = note("CORE", NT_PRSTATUS, &pr);
        stream.extend(note(
            "VMCOREINFO",
            0,
            b"OSRELEASE=6.1.0\nKERNELOFFSET=1f400000\n",
        ));
        stream.extend([0u8; 24]);
        let notes = parse_notes(&stream);
        assert_eq!(notes.len(), 2);
        let cpus = cpu_states(&notes);
        assert_eq!(cpus.len(), 1);
        assert_eq!(cpus[0].pid, 50);
        // x86-64's 27 registers, rip the 17th.
        assert_eq!(cpus[0].regs.len(), 27);
        assert_eq!(cpus[0].regs[16], 0xffffffff81000000);
        let info = VmcoreInfo::parse(vmcoreinfo_note(&notes).unwrap());
        assert_eq!(info.get("OSRELEASE"), Some("6.1.0"));
        assert_eq!(info.kernel_offset(), Some(0x1f400000));
    }

    #[test]
    fn garbage_notes_do_not_panic() {
        let mut s = note("CORE", 1, &[1, 2, 3]);
        s[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let _ = parse_notes(&s);
        let _ = parse_notes(&[0xff; 13]);
    }
}
