//! The loaded modules, read from the dump: names, memory and symbols, with
//! no `.ko` files.
//!
//! Like crash and drgn, the walk follows the kernel's `modules` list and
//! reads each `struct module`: its name, where its memory is, and the
//! symbol table the kernel keeps for kallsyms (`mod->kallsyms`: an
//! `Elf64_Sym` array, its string table and, since 5.2, a type letter per
//! symbol). The layout of `struct module` depends on the kernel's
//! configuration and version, so every offset comes from the kernel's BTF
//! ([`Kernel::layouts`]), and what the BTF says exists decides between the
//! layouts: `mem[MOD_TEXT..]` (`struct module_memory`, Linux 6.4 on) or
//! `core_layout`/`init_layout` (`struct module_layout`, 4.5 to 6.3).
//! Older layouts predate BTF and are not read.
//!
//! A damaged list (a loop, a pointer to nowhere) ends the walk with a
//! notice; a module whose symbols cannot be read keeps its entry, with a
//! notice and no symbols.
//!
//! ## Symbol kinds, and crash's `(?)`
//!
//! A module symbol's [`Symbol::kind`] is the kernel's own letter for it (the
//! `typetab` that `/proc/kallsyms` shows; before 5.2 the kernel kept it in
//! `st_info`), upper case for a global symbol as `nm` prints it: `t` for
//! `seed_touch`, `b` for the static `seed_cache` in `.bss`. crash 8 does not
//! read `typetab`: it turns `st_info` into a letter (`t`/`T` for a local or
//! global function, the byte itself when it is printable, which is the
//! pre-5.2 letter, and `?` for anything else: every data symbol of a 5.2+
//! kernel's module; `symbols.c`, `Elf64_Sym_to_common`). kdive keeps the
//! real letter, which the symbol lookups need (a `?` symbol names no
//! address); [`crash_module_kind`] gives crash's letter for output that
//! must match it.

use std::ops::Range;

use crate::offsets::Layouts;
use kdive_debuginfo::types::TypeId;
use kdive_debuginfo::{is_noise, Symbol};

use crate::lists::ListWalk;
use crate::memory::Memory;
use crate::Kernel;

/// At most this many modules are read: a list longer than that is damaged.
pub const MAX_MODULES: usize = 10_000;

/// At most this many symbols are read from one module (the largest modules
/// have some tens of thousands).
const MAX_MODULE_SYMBOLS: u64 = 1 << 20;

/// The size of an `Elf64_Sym`.
const ELF64_SYM: usize = 24;

/// The longest symbol name the kernel allows (`KSYM_NAME_LEN`, 512 since
/// 6.1), for the string read past the last name's start.
const KSYM_NAME_LEN: usize = 512;

/// What one part of a module's memory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemKind {
    Text,
    Data,
    Rodata,
    RoAfterInit,
    InitText,
    InitData,
    InitRodata,
}

impl MemKind {
    /// Memory freed when the module's init function has returned.
    pub fn is_init(self) -> bool {
        matches!(
            self,
            MemKind::InitText | MemKind::InitData | MemKind::InitRodata
        )
    }

    /// The `enum mod_mem_type` constant of Linux 6.4 on.
    pub fn mod_mem_type(self) -> &'static str {
        match self {
            MemKind::Text => "MOD_TEXT",
            MemKind::Data => "MOD_DATA",
            MemKind::Rodata => "MOD_RODATA",
            MemKind::RoAfterInit => "MOD_RO_AFTER_INIT",
            MemKind::InitText => "MOD_INIT_TEXT",
            MemKind::InitData => "MOD_INIT_DATA",
            MemKind::InitRodata => "MOD_INIT_RODATA",
        }
    }

    const ALL: [MemKind; 7] = [
        MemKind::Text,
        MemKind::Data,
        MemKind::Rodata,
        MemKind::RoAfterInit,
        MemKind::InitText,
        MemKind::InitData,
        MemKind::InitRodata,
    ];
}

/// One part of a module's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModuleMemory {
    pub kind: MemKind,
    pub base: u64,
    pub size: u64,
}

impl ModuleMemory {
    pub fn range(&self) -> Range<u64> {
        self.base..self.base.saturating_add(self.size)
    }

    pub fn contains(&self, addr: u64) -> bool {
        self.range().contains(&addr)
    }
}

/// A loaded module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    pub name: String,
    /// The address of its `struct module` (crash's `MODULE` column).
    pub addr: u64,
    /// `enum module_state`: 0 live, 1 coming (in its init function), 2
    /// going, 3 unformed. `None` when the BTF has no `state` member.
    pub state: Option<u64>,
    /// Where its core memory starts: the text (crash's `BASE`).
    pub base: u64,
    /// Bytes of core memory, init memory left out (crash's `SIZE`):
    /// `core_layout.size`, or the sum of the core `mem[]` sizes.
    pub size: u64,
    /// Its memory by kind, leaving out empty parts.
    pub mem: Vec<ModuleMemory>,
    /// How many symbols it gave the kernel's symbol table.
    pub nsyms: usize,
}

impl Module {
    /// The core text.
    pub fn text(&self) -> Option<Range<u64>> {
        self.memory(MemKind::Text).map(|m| m.range())
    }

    /// The part of its memory of kind `kind`.
    pub fn memory(&self, kind: MemKind) -> Option<&ModuleMemory> {
        self.mem.iter().find(|m| m.kind == kind)
    }

    /// Which part of the module's memory `addr` is in.
    pub fn region(&self, addr: u64) -> Option<MemKind> {
        self.mem.iter().find(|m| m.contains(addr)).map(|m| m.kind)
    }

    pub fn contains(&self, addr: u64) -> bool {
        self.region(addr).is_some()
    }
}

/// The letter crash 8 prints for a module symbol (`sym`): `t`/`T` for
/// code, `?` for the rest (see the module documentation). Exact for
/// Linux 5.2 and later except for weak symbols and untyped labels, which
/// crash shows as `"`, `!` or `?` from the raw `st_info`.
pub fn crash_module_kind(kind: char) -> char {
    match kind {
        't' | 'T' => kind,
        _ => '?',
    }
}

impl Kernel {
    /// The loaded modules, in the kernel's list order (the most recently
    /// loaded first, as `lsmod` lists them). Empty when they could not be
    /// read; [`Kernel::notices`] says why.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The module whose memory holds `addr`.
    pub fn module_at(&self, addr: u64) -> Option<&Module> {
        self.modules.iter().find(|m| m.contains(addr))
    }

    /// The module named `name`.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }
}

/// Offset and size of a field.
#[derive(Debug, Clone, Copy)]
struct Field {
    off: usize,
    size: usize,
}

impl Field {
    fn get(&self, buf: &[u8]) -> Option<u64> {
        if !matches!(self.size, 1 | 2 | 4 | 8) {
            return None;
        }
        let b = buf.get(self.off..self.off.checked_add(self.size)?)?;
        let mut w = [0u8; 8];
        w[..self.size].copy_from_slice(b);
        Some(u64::from_le_bytes(w))
    }

    /// The field's bytes.
    fn bytes<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        buf.get(self.off..self.off.checked_add(self.size)?)
    }
}

/// `struct module_layout`'s fields, at their offsets in `struct module`.
#[derive(Debug)]
struct LayoutFields {
    base: Field,
    size: Field,
    text_size: Field,
    ro_size: Field,
    ro_after_init_size: Option<Field>,
}

#[derive(Debug)]
enum MemLayout {
    /// Linux 6.4 on: `mem[t].base`, `mem[t].size`.
    Memory(Vec<(MemKind, Field, Field)>),
    /// Linux 4.5 to 6.3: `core_layout`, `init_layout`.
    Layouts {
        core: LayoutFields,
        init: Option<LayoutFields>,
    },
}

/// Where what the walk reads is, from the BTF.
#[derive(Debug)]
struct Offsets {
    module_size: usize,
    list_next: usize,
    name: Field,
    state: Option<Field>,
    mem: MemLayout,
    /// Where the symbols are, or why they cannot be read (a kernel
    /// without `CONFIG_KALLSYMS`).
    ks: Result<KsOffsets, String>,
}

/// `module.kallsyms` and `struct mod_kallsyms`.
#[derive(Debug)]
struct KsOffsets {
    kallsyms: Field,
    size: usize,
    symtab: Field,
    num_symtab: Field,
    strtab: Field,
    typetab: Option<Field>,
}

impl Offsets {
    fn from_layouts(layouts: Layouts<'_>) -> Result<Offsets, String> {
        let module = layouts
            .find_struct("module")
            .ok_or("the BTF has no struct module")?;
        let field = |outer: TypeId, path: &str| -> Option<Field> {
            let m = layouts.member_offset_in(outer, path)?;
            if m.is_bitfield() || m.offset_bits % 8 != 0 {
                return None;
            }
            Some(Field {
                off: usize::try_from(m.offset()).ok()?,
                size: usize::try_from(layouts.size_of(m.type_id)?).ok()?,
            })
        };
        let need = |outer: TypeId, path: &str| {
            field(outer, path)
                .ok_or_else(|| format!("the BTF has no {}.{path}", layouts.name(outer)))
        };
        let layout = |prefix: &str| -> Option<LayoutFields> {
            Some(LayoutFields {
                base: field(module, &format!("{prefix}.base"))?,
                size: field(module, &format!("{prefix}.size"))?,
                text_size: field(module, &format!("{prefix}.text_size"))?,
                ro_size: field(module, &format!("{prefix}.ro_size"))?,
                ro_after_init_size: field(module, &format!("{prefix}.ro_after_init_size")),
            })
        };
        let mem = if layouts.member_offset_in(module, "mem").is_some() {
            let len = layouts
                .member_offset_in(module, "mem")
                .and_then(|m| layouts.array_info(m.type_id))
                .map_or(0, |a| i64::try_from(a.len).unwrap_or(0));
            let mut parts = Vec::new();
            for (i, kind) in MemKind::ALL.into_iter().enumerate() {
                // The enum says which index is which; without it, the order
                // of 6.4.
                let idx = layouts
                    .enum_value("mod_mem_type", kind.mod_mem_type())
                    .unwrap_or(i as i64);
                if !(0..len).contains(&idx) {
                    continue;
                }
                parts.push((
                    kind,
                    need(module, &format!("mem[{idx}].base"))?,
                    need(module, &format!("mem[{idx}].size"))?,
                ));
            }
            MemLayout::Memory(parts)
        } else if let Some(core) = layout("core_layout") {
            MemLayout::Layouts {
                core,
                init: layout("init_layout"),
            }
        } else {
            return Err("the BTF's struct module has neither mem[] nor core_layout".into());
        };
        let ks = || -> Result<KsOffsets, String> {
            let ks = layouts
                .find_struct("mod_kallsyms")
                .ok_or("the BTF has no struct mod_kallsyms")?;
            Ok(KsOffsets {
                kallsyms: need(module, "kallsyms")?,
                size: layouts
                    .size_of(ks)
                    .and_then(|s| usize::try_from(s).ok())
                    .filter(|&s| s <= 4096)
                    .ok_or("the BTF gives struct mod_kallsyms no size")?,
                symtab: need(ks, "symtab")?,
                num_symtab: need(ks, "num_symtab")?,
                strtab: need(ks, "strtab")?,
                typetab: field(ks, "typetab"),
            })
        };
        let list = need(module, "list")?;
        Ok(Offsets {
            module_size: layouts
                .size_of(module)
                .and_then(|s| usize::try_from(s).ok())
                .filter(|&s| s <= 1 << 20)
                .ok_or("the BTF gives struct module no size")?,
            list_next: list.off,
            name: need(module, "name")?,
            state: field(module, "state"),
            mem,
            ks: ks(),
        })
    }
}

/// The modules and their symbols, with notices for what could not be read.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    pub modules: Vec<Module>,
    pub symbols: Vec<Symbol>,
    pub notices: Vec<String>,
}

/// Walk the `modules` list of `kernel` (whose symbols are loaded).
pub(crate) fn load(kernel: &Kernel) -> Loaded {
    let candidates = symbols_named(kernel, "modules")
        .filter(|s| s.module.is_none() && !kernel.is_code(s))
        .map(|s| s.addr);
    let Some(head) = list_head(kernel, candidates) else {
        let mut out = Loaded::default();
        if symbols_named(kernel, "modules").next().is_some() {
            out.notices.push(
                "modules: the `modules` list head does not read as a list: no module symbols"
                    .into(),
            );
        }
        return out;
    };
    match kernel
        .layout_source()
        .map(Layouts::new)
        .and_then(Offsets::from_layouts)
    {
        Ok(offsets) => walk(kernel, head, &offsets),
        Err(why) => Loaded {
            notices: vec![format!("modules not read: {why}")],
            ..Loaded::default()
        },
    }
}

/// Read the modules on the list at `head`.
fn walk(mem: &impl Memory, head: u64, offsets: &Offsets) -> Loaded {
    let mut out = Loaded::default();
    if let Err(why) = &offsets.ks {
        out.notices
            .push(format!("modules: no module symbols: {why}"));
    }
    let mut buf = vec![0u8; offsets.module_size];
    let list = ListWalk::new().max(MAX_MODULES).walk(mem, head);
    out.notices
        .extend(list.findings("modules").into_iter().map(|f| f.text));
    for next in list.nodes {
        let addr = next.wrapping_sub(offsets.list_next as u64);
        if let Err(e) = mem.read(addr, &mut buf) {
            // The list led past it: the next module may read.
            out.notices
                .push(format!("modules: struct module at {addr:#x}: {e}: skipped"));
            continue;
        }
        let mut module = read_module(addr, &buf, offsets);
        if let Ok(ks) = &offsets.ks {
            match read_symbols(mem, &module, &buf, ks) {
                Ok(syms) => {
                    module.nsyms = syms.len();
                    out.symbols.extend(syms);
                }
                Err(why) => out
                    .notices
                    .push(format!("module {}: no symbols: {why}", module.name)),
            }
        }
        out.modules.push(module);
    }
    out
}

/// The address of the `modules` list head: of the candidates (the data
/// symbols of that name: one in Linux 6.x, a static of `kernel/module.c`
/// before), the first whose `next` and `prev` read and point back to it.
fn list_head(mem: &impl Memory, mut candidates: impl Iterator<Item = u64>) -> Option<u64> {
    candidates.find(|&head| {
        let (Ok(next), Ok(prev)) = (mem.read_u64(head), mem.read_u64(head.wrapping_add(8))) else {
            return false;
        };
        (next == head && prev == head)
            || mem.read_u64(next.wrapping_add(8)).is_ok_and(|p| p == head)
    })
}

/// The symbols named `name`, found by going through them all: the index
/// by name takes tens of milliseconds to build, and merging the modules'
/// symbols would throw it away.
pub(crate) fn symbols_named<'a>(
    kernel: &'a Kernel,
    name: &'a str,
) -> impl Iterator<Item = &'a Symbol> {
    kernel.symbols().iter().filter(move |s| s.name == name)
}

fn read_module(addr: u64, buf: &[u8], o: &Offsets) -> Module {
    let name = o.name.bytes(buf).unwrap_or(&[]);
    let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
    let mut m = Module {
        name: String::from_utf8_lossy(name).into_owned(),
        addr,
        state: o.state.and_then(|f| f.get(buf)),
        base: 0,
        size: 0,
        mem: Vec::new(),
        nsyms: 0,
    };
    let get = |f: &Field| f.get(buf).unwrap_or(0);
    match &o.mem {
        MemLayout::Memory(parts) => {
            for (kind, base, size) in parts {
                let (base, size) = (get(base), get(size));
                if !kind.is_init() {
                    m.size += size;
                }
                if *kind == MemKind::Text {
                    m.base = base;
                }
                if base != 0 && size != 0 {
                    m.mem.push(ModuleMemory {
                        kind: *kind,
                        base,
                        size,
                    });
                }
            }
        }
        MemLayout::Layouts { core, init } => {
            m.base = get(&core.base);
            m.size = get(&core.size);
            split_layout(
                &mut m.mem,
                core,
                buf,
                [
                    MemKind::Text,
                    MemKind::Rodata,
                    MemKind::RoAfterInit,
                    MemKind::Data,
                ],
            );
            if let Some(init) = init {
                split_layout(
                    &mut m.mem,
                    init,
                    buf,
                    [
                        MemKind::InitText,
                        MemKind::InitRodata,
                        MemKind::InitRodata,
                        MemKind::InitData,
                    ],
                );
            }
        }
    }
    m
}

/// A `struct module_layout`'s memory: text up to `text_size`, read-only
/// data up to `ro_size`, read-only-after-init data up to
/// `ro_after_init_size`, writable data up to `size`.
fn split_layout(out: &mut Vec<ModuleMemory>, l: &LayoutFields, buf: &[u8], kinds: [MemKind; 4]) {
    let get = |f: &Field| f.get(buf).unwrap_or(0);
    let base = get(&l.base);
    let size = get(&l.size);
    if base == 0 || size == 0 {
        return;
    }
    let text = get(&l.text_size).min(size);
    let ro = get(&l.ro_size).clamp(text, size);
    let ro_after = l.ro_after_init_size.map_or(ro, |f| get(&f).clamp(ro, size));
    for (kind, lo, hi) in [
        (kinds[0], 0, text),
        (kinds[1], text, ro),
        (kinds[2], ro, ro_after),
        (kinds[3], ro_after, size),
    ] {
        if hi <= lo {
            continue;
        }
        match out.last_mut() {
            // Init memory has no ro_after_init part: rodata goes on.
            Some(prev) if prev.kind == kind && prev.base + prev.size == base + lo => {
                prev.size += hi - lo
            }
            _ => out.push(ModuleMemory {
                kind,
                base: base + lo,
                size: hi - lo,
            }),
        }
    }
}

/// The symbols of one module from its `mod_kallsyms`.
fn read_symbols(
    mem: &impl Memory,
    m: &Module,
    buf: &[u8],
    o: &KsOffsets,
) -> Result<Vec<Symbol>, String> {
    let ks = o.kallsyms.get(buf).ok_or("no kallsyms member")?;
    if ks == 0 {
        return Err("its kallsyms pointer is NULL".into());
    }
    let mut kb = vec![0u8; o.size];
    mem.read(ks, &mut kb)
        .map_err(|e| format!("struct mod_kallsyms at {ks:#x}: {e}"))?;
    let get = |f: &Field| f.get(&kb).unwrap_or(0);
    let (symtab, num, strtab) = (get(&o.symtab), get(&o.num_symtab), get(&o.strtab));
    if num > MAX_MODULE_SYMBOLS {
        return Err(format!("{num} symbols: damaged?"));
    }
    if num == 0 {
        return Ok(Vec::new());
    }
    let mut syms = vec![0u8; num as usize * ELF64_SYM];
    mem.read(symtab, &mut syms)
        .map_err(|e| format!("symtab at {symtab:#x}: {e}"))?;
    let typetab = match o.typetab.map(|f| get(&f)) {
        Some(t) if t != 0 => {
            let mut b = vec![0u8; num as usize];
            mem.read(t, &mut b)
                .map_err(|e| format!("typetab at {t:#x}: {e}"))?;
            Some(b)
        }
        _ => None,
    };
    let entry = |i: usize| {
        let e = &syms[i * ELF64_SYM..(i + 1) * ELF64_SYM];
        let word = |at: usize, n: usize| {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&e[at..at + n]);
            u64::from_le_bytes(w)
        };
        // st_name, st_info, st_shndx, st_value, st_size
        (word(0, 4), e[4], word(6, 2), word(8, 8), word(16, 8))
    };
    let strings = Strings::read(
        mem,
        strtab,
        (1..num as usize).map(|i| entry(i).0).max().unwrap_or(0),
    )?;

    let mut out = Vec::new();
    for i in 1..num as usize {
        let (st_name, st_info, st_shndx, value, size) = entry(i);
        if st_shndx == 0 || !m.contains(value) {
            // Undefined, or absolute or per-CPU (not an address in the
            // module; crash leaves them out too).
            continue;
        }
        let Some(name) = strings.get(mem, strtab, st_name) else {
            continue;
        };
        if is_noise(&name) {
            continue;
        }
        let kind = match &typetab {
            Some(t) => {
                let k = char::from(t[i]);
                match k {
                    'U' | 'u' => continue,
                    // Defined weak symbols (undefined ones were left out).
                    'w' => 'W',
                    'v' => 'V',
                    _ if st_info >> 4 == 1 => k.to_ascii_uppercase(),
                    _ => k,
                }
            }
            // Before 5.2, st_info holds the letter.
            None if st_info.is_ascii_graphic() => char::from(st_info),
            None => '?',
        };
        out.push(Symbol {
            name,
            addr: value,
            size,
            kind,
            module: Some(m.name.clone()),
        });
    }
    Ok(out)
}

/// A module's string table, read at once up to the last name.
struct Strings {
    bytes: Vec<u8>,
}

impl Strings {
    fn read(mem: &impl Memory, strtab: u64, last: u64) -> Result<Strings, String> {
        let len = usize::try_from(last).map_err(|_| "string table too large")?;
        if len > 64 << 20 {
            return Err(format!("st_name {last:#x}: damaged?"));
        }
        let mut bytes = vec![0u8; len];
        if mem.read(strtab, &mut bytes).is_err() {
            // Read name by name: some may be readable.
            bytes.clear();
        } else if let Ok(tail) = mem.read_cstr(strtab + last, KSYM_NAME_LEN) {
            bytes.extend_from_slice(tail.as_bytes());
            bytes.push(0);
        }
        Ok(Strings { bytes })
    }

    fn get(&self, mem: &impl Memory, strtab: u64, off: u64) -> Option<String> {
        let name = match usize::try_from(off).ok().and_then(|o| self.bytes.get(o..)) {
            Some(s) if s.contains(&0) => {
                let s = &s[..s.iter().position(|&c| c == 0)?];
                String::from_utf8_lossy(s).into_owned()
            }
            _ => mem
                .read_cstr(strtab.checked_add(off)?, KSYM_NAME_LEN)
                .ok()?,
        };
        (!name.is_empty()).then_some(name)
    }
}

#[cfg(test)]
mod tests;

mod sections;
