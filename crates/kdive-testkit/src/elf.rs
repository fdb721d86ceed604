//! Writing small ELF files for tests: made-up vmlinux files (a BTF-only one
//! as linux-headers ships, one of another build) and files with a GNU build
//! id, without a toolchain. 64-bit little-endian x86-64, section headers
//! only (readers of symbols, notes and sections need no program headers).

/// `SHT_*` and `SHF_*` values the tests use.
pub const SHT_PROGBITS: u32 = 1;
pub const SHT_SYMTAB: u32 = 2;
pub const SHT_STRTAB: u32 = 3;
pub const SHT_NOTE: u32 = 7;
pub const SHF_ALLOC: u64 = 2;
pub const SHF_EXECINSTR: u64 = 4;
/// `e_type` of an executable (a vmlinux) and of a relocatable (a `.ko`).
pub const ET_EXEC: u16 = 2;
pub const ET_REL: u16 = 1;

/// `st_info` of a global function and of a global object.
pub const FUNC: u8 = 0x12;
pub const OBJECT: u8 = 0x11;

#[derive(Debug, Clone)]
struct Section {
    name: String,
    sh_type: u32,
    flags: u64,
    addr: u64,
    data: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Sym {
    name: String,
    value: u64,
    size: u64,
    info: u8,
    shndx: u16,
}

/// An ELF file being written.
#[derive(Debug, Clone, Default)]
pub struct ElfWriter {
    sections: Vec<Section>,
    symbols: Vec<Sym>,
}

impl ElfWriter {
    pub fn new() -> ElfWriter {
        ElfWriter::default()
    }

    /// Add a section; returns its index (sections are numbered from 1).
    pub fn section(&mut self, name: &str, sh_type: u32, flags: u64, addr: u64, data: &[u8]) -> u16 {
        self.sections.push(Section {
            name: name.to_string(),
            sh_type,
            flags,
            addr,
            data: data.to_vec(),
        });
        self.sections.len() as u16
    }

    /// A `.note.gnu.build-id` section holding `id`.
    pub fn build_id(&mut self, id: &[u8]) -> u16 {
        let mut note = Vec::new();
        for w in [4u32, id.len() as u32, 3] {
            note.extend_from_slice(&w.to_le_bytes());
        }
        note.extend_from_slice(b"GNU\0");
        note.extend_from_slice(id);
        note.resize(note.len().next_multiple_of(4), 0);
        self.section(".note.gnu.build-id", SHT_NOTE, SHF_ALLOC, 0, &note)
    }

    /// A symbol of `info` ([`FUNC`], [`OBJECT`]) in section `shndx`.
    pub fn symbol(&mut self, name: &str, value: u64, size: u64, info: u8, shndx: u16) {
        self.symbols.push(Sym {
            name: name.to_string(),
            value,
            size,
            info,
            shndx,
        });
    }

    /// The file, of type `e_type` ([`ET_EXEC`], [`ET_REL`]).
    pub fn finish(&self, e_type: u16) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; 24];
        for s in &self.symbols {
            let name = strtab.len() as u32;
            strtab.extend_from_slice(s.name.as_bytes());
            strtab.push(0);
            symtab.extend_from_slice(&name.to_le_bytes());
            symtab.extend_from_slice(&[s.info, 0]);
            symtab.extend_from_slice(&s.shndx.to_le_bytes());
            symtab.extend_from_slice(&s.value.to_le_bytes());
            symtab.extend_from_slice(&s.size.to_le_bytes());
        }
        let n = self.sections.len() as u32;
        let mut all = self.sections.clone();
        all.push(Section {
            name: ".symtab".into(),
            sh_type: SHT_SYMTAB,
            flags: 0,
            addr: 0,
            data: symtab,
        });
        all.push(Section {
            name: ".strtab".into(),
            sh_type: SHT_STRTAB,
            flags: 0,
            addr: 0,
            data: strtab,
        });
        let mut shstrtab = vec![0u8];
        let mut names = Vec::new();
        for s in all.iter().map(|s| s.name.as_str()).chain([".shstrtab"]) {
            names.push(shstrtab.len() as u32);
            shstrtab.extend_from_slice(s.as_bytes());
            shstrtab.push(0);
        }
        all.push(Section {
            name: ".shstrtab".into(),
            sh_type: SHT_STRTAB,
            flags: 0,
            addr: 0,
            data: shstrtab,
        });

        let mut out = vec![0u8; 64];
        let mut offsets = Vec::new();
        for s in &all {
            out.resize(out.len().next_multiple_of(8), 0);
            offsets.push(out.len() as u64);
            out.extend_from_slice(&s.data);
        }
        out.resize(out.len().next_multiple_of(8), 0);
        let shoff = out.len() as u64;
        out.extend_from_slice(&[0u8; 64]);
        for (i, s) in all.iter().enumerate() {
            let (link, info, entsize) = if s.sh_type == SHT_SYMTAB {
                (n + 2, 1, 24)
            } else {
                (0, 0, 0)
            };
            let mut h = Vec::with_capacity(64);
            h.extend_from_slice(&names[i].to_le_bytes());
            h.extend_from_slice(&s.sh_type.to_le_bytes());
            h.extend_from_slice(&s.flags.to_le_bytes());
            h.extend_from_slice(&s.addr.to_le_bytes());
            h.extend_from_slice(&offsets[i].to_le_bytes());
            h.extend_from_slice(&(s.data.len() as u64).to_le_bytes());
            h.extend_from_slice(&link.to_le_bytes());
            h.extend_from_slice(&(info as u32).to_le_bytes());
            h.extend_from_slice(&8u64.to_le_bytes());
            h.extend_from_slice(&(entsize as u64).to_le_bytes());
            out.extend_from_slice(&h);
        }
        let mut hdr = Vec::with_capacity(64);
        hdr.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        hdr.extend_from_slice(&e_type.to_le_bytes());
        hdr.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        hdr.extend_from_slice(&1u32.to_le_bytes());
        hdr.extend_from_slice(&0u64.to_le_bytes()); // entry
        hdr.extend_from_slice(&0u64.to_le_bytes()); // phoff
        hdr.extend_from_slice(&shoff.to_le_bytes());
        hdr.extend_from_slice(&0u32.to_le_bytes()); // flags
        for h in [64u16, 56, 0, 64, all.len() as u16 + 1, all.len() as u16] {
            hdr.extend_from_slice(&h.to_le_bytes());
        }
        out[..64].copy_from_slice(&hdr);
        out
    }
}

/// The BTF-only vmlinux of a linux-headers package (Debian's 6.12
/// `/lib/modules/RELEASE/build/vmlinux`), made up: a `.BTF` section holding
/// `btf`, a few hundred `__BTF_ID__` symbols and no kernel symbols.
pub fn btf_only_vmlinux(btf: &[u8]) -> Vec<u8> {
    let mut w = ElfWriter::new();
    let base = 0xffff_ffff_8262_eb80;
    let btf_sec = w.section(".BTF", SHT_PROGBITS, SHF_ALLOC, base, btf);
    let ids = w.section(
        ".BTF_ids",
        SHT_PROGBITS,
        SHF_ALLOC,
        base + 0x47_8041,
        &[0u8; 0x400],
    );
    w.symbol("__start_BTF", base, 0, 0x10, btf_sec);
    for i in 0..256u64 {
        w.symbol(
            &format!("__BTF_ID__func__f{i}__{i}"),
            base + 0x47_8041 + 4 * i,
            4,
            0x01,
            ids,
        );
    }
    w.finish(ET_EXEC)
}
