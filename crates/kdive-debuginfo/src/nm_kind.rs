//! The one-letter symbol kind `nm` prints for an ELF symbol.
//!
//! The kernel's kallsyms table stores the letters `nm` gave at build time
//! (scripts/kallsyms reads `nm -n` output), so symbols read from a vmlinux
//! must get the same letters to compare with it. The rules are binutils'
//! (`bfd_decode_symclass`): weak and unique binding first, then the
//! section: absolute, common, code, loaded data (read-only or not),
//! no-contents (bss), debugging.

use object::elf;

/// What of a symbol's section decides its letter.
#[derive(Debug, Clone, Copy, Default)]
pub struct SectionInfo {
    /// `SHF_ALLOC`, `SHF_WRITE`, `SHF_EXECINSTR` of `sh_flags`.
    pub flags: u64,
    /// `SHT_NOBITS`: no contents in the file.
    pub nobits: bool,
    /// A debugging section (`.debug*`, `.zdebug*`, `.stab*`, `.line`).
    pub debug: bool,
}

impl SectionInfo {
    /// From a section's name, type and flags.
    pub fn new(name: &[u8], sh_type: u32, flags: u64) -> SectionInfo {
        let debug = [&b".debug"[..], b".zdebug", b".stab", b".gnu.linkonce.wi."]
            .iter()
            .any(|p| name.starts_with(p))
            || name == b".line";
        SectionInfo {
            flags,
            nobits: sh_type == elf::SHT_NOBITS.0,
            debug,
        }
    }
}

/// Where an ELF symbol is defined.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    Undefined,
    Absolute,
    Common,
    Section(SectionInfo),
}

/// `nm`'s letter for a symbol of binding `bind`, type `typ`, at `place`.
pub fn nm_kind(bind: u8, typ: u8, place: Place) -> char {
    let object = typ == elf::STT_OBJECT.0;
    let weak = bind == elf::STB_WEAK.0;
    match place {
        Place::Common => return 'C',
        Place::Undefined if weak => return if object { 'v' } else { 'w' },
        Place::Undefined => return 'U',
        _ => {}
    }
    if typ == elf::STT_GNU_IFUNC.0 {
        return 'i';
    }
    if weak {
        return if object { 'V' } else { 'W' };
    }
    if bind == elf::STB_GNU_UNIQUE.0 {
        return 'u';
    }
    if bind != elf::STB_GLOBAL.0 && bind != elf::STB_LOCAL.0 {
        return '?';
    }
    let c = match place {
        Place::Section(s) => section_letter(s),
        _ => 'a',
    };
    if bind == elf::STB_GLOBAL.0 {
        c.to_ascii_uppercase()
    } else {
        c
    }
}

/// The lower-case letter for a defined symbol's section (binutils'
/// `decode_section_type` over the section flags BFD derives from ELF's).
fn section_letter(s: SectionInfo) -> char {
    let alloc = s.flags & elf::SHF_ALLOC.0 != 0;
    let write = s.flags & elf::SHF_WRITE.0 != 0;
    let code = s.flags & elf::SHF_EXECINSTR.0 != 0;
    let contents = !s.nobits;
    if code {
        't'
    } else if alloc && contents {
        // BFD's SEC_DATA: loaded and not code.
        if write {
            'd'
        } else {
            'r'
        }
    } else if !contents {
        'b'
    } else if s.debug {
        'N'
    } else if !write {
        'n'
    } else {
        '?'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: u64 = 0x6; // AX
    const DATA: u64 = 0x3; // WA

    fn sec(flags: u64, nobits: bool) -> Place {
        Place::Section(SectionInfo {
            flags,
            nobits,
            debug: false,
        })
    }

    #[test]
    fn letters() {
        let (local, global, weak) = (0, 1, 2);
        let (notype, object, func) = (0, 1, 2);
        assert_eq!(nm_kind(global, func, sec(TEXT, false)), 'T');
        assert_eq!(nm_kind(local, func, sec(TEXT, false)), 't');
        assert_eq!(nm_kind(global, object, sec(DATA, false)), 'D');
        assert_eq!(nm_kind(local, object, sec(DATA, true)), 'b');
        assert_eq!(nm_kind(global, object, sec(0x2, false)), 'R');
        assert_eq!(nm_kind(weak, func, sec(TEXT, false)), 'W');
        assert_eq!(nm_kind(weak, object, sec(DATA, false)), 'V');
        assert_eq!(nm_kind(global, notype, Place::Absolute), 'A');
        assert_eq!(nm_kind(local, notype, Place::Absolute), 'a');
        assert_eq!(nm_kind(global, notype, Place::Undefined), 'U');
        assert_eq!(nm_kind(weak, notype, Place::Undefined), 'w');
    }
}
