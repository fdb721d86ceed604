//! One compilation unit's line table, built and searched the way gdb 10.2
//! (the gdb inside crash 8) builds and searches it, so that a lookup answers
//! what `crash` prints.
//!
//! gdb does not search the DWARF line matrix directly. Reading a CU, it
//! splits the rows into one table per source file (a *subfile*, later a
//! *symtab*): a row goes to its file's table, and when the program switches
//! to another file, or a sequence ends, the table of the file it leaves gets
//! a line-0 "end" entry at the switch address, which first deletes that
//! table's entries at the same address. Each table is then sorted by address
//! (stably, end entries first among equals). A lookup of a PC takes, in each
//! table, the last entry at or below the PC, ignores tables where that entry
//! is an end entry, and keeps the one with the highest address, the first
//! table in the CU's order winning ties (the CU's own file first, then the
//! other files in the order of the line header's file list). A non-statement
//! entry gives way to a statement entry at the same address before it.
//!
//! The details below follow gdb 10.2's `lnp_state_machine` and
//! `dwarf_decode_lines` (gdb/dwarf2/read.c), `buildsym_compunit`
//! (gdb/buildsym.c) and `find_pc_sect_line` (gdb/symtab.c); each piece says
//! which gdb function it stands for.

use std::collections::HashMap;
use std::sync::Arc;

use gimli::{AttributeValue, LineInstruction};

type R<'a> = gimli::EndianSlice<'a, gimli::RunTimeEndian>;

/// One entry of a symtab's line table (gdb's `linetable_entry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    pub pc: u64,
    /// 0: an end entry, no line here.
    pub line: u32,
    pub is_stmt: bool,
}

/// One source file's table.
#[derive(Debug)]
pub(super) struct Symtab {
    /// The file as crash prints it.
    pub file: Arc<str>,
    /// Sorted by `pc`, end entries first among equal addresses.
    pub entries: Vec<Entry>,
}

/// A CU's tables, in gdb's search order. Tables without entries are left out.
#[derive(Debug, Default)]
pub(super) struct CuLines {
    pub symtabs: Vec<Symtab>,
}

impl CuLines {
    /// gdb's `find_pc_sect_line(pc, section, notcurrent = 0)` within this CU:
    /// `(symtab index, line)`, or `None` where the CU has no line for `pc`.
    pub(super) fn lookup(&self, pc: u64) -> Option<(usize, u32)> {
        let mut best: Option<(usize, Entry)> = None;
        for (si, st) in self.symtabs.iter().enumerate() {
            let e = &st.entries;
            let upper = e.partition_point(|x| x.pc <= pc);
            if upper == 0 {
                continue;
            }
            let prev = upper - 1;
            if e[prev].line == 0 || best.is_some_and(|(_, b)| e[prev].pc <= b.pc) {
                continue;
            }
            // "If during the binary search we land on a non-statement
            // entry, scan backward through entries at the same address to
            // see if there is an entry marked as is-statement."
            let mut t = prev;
            if !e[t].is_stmt {
                while t > 0 && e[t - 1].pc == e[t].pc && e[t - 1].line != 0 && !e[t].is_stmt {
                    t -= 1;
                }
                if !e[t].is_stmt {
                    t = prev;
                }
            }
            best = Some((si, e[t]));
        }
        let (si, entry) = best?;
        (entry.line != 0).then_some((si, entry.line))
    }

    /// Every address in `range` at which some table has an entry: the only
    /// places where [`CuLines::lookup`]'s answer can change.
    pub(super) fn boundaries(&self, range: &std::ops::Range<u64>, out: &mut Vec<u64>) {
        for st in &self.symtabs {
            let e = &st.entries;
            let from = e.partition_point(|x| x.pc < range.start);
            out.extend(
                e[from..]
                    .iter()
                    .take_while(|x| x.pc < range.end)
                    .map(|x| x.pc),
            );
        }
    }
}

/// What crash prints for a symtab: its file name when absolute, else the
/// CU's `DW_AT_comp_dir`, a `/` and the name (crash's `gdb_get_line_number`:
/// `"%s%s%s: %d", dirname, LASTCHAR(dirname) == '/' ? "" : "/", filename`),
/// then with every `//` made `/` (crash's `get_line_number`: a directory
/// `arch/x86/include/asm/trace/` in the line header gives
/// `arch/x86/include/asm/trace/fpu.h`). With no `DW_AT_comp_dir` crash
/// prints nothing; we give the bare name.
pub(super) fn crash_path(filename: &str, comp_dir: Option<&str>) -> String {
    let joined = match comp_dir {
        Some(dir) if !filename.starts_with('/') => {
            if dir.ends_with('/') {
                format!("{dir}{filename}")
            } else {
                format!("{dir}/{filename}")
            }
        }
        _ => filename.to_string(),
    };
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// A source file being collected (gdb's `struct subfile`).
struct Subfile {
    name: String,
    entries: Vec<Entry>,
    /// Index in the symtab order, once gdb would have allocated one.
    symtab: Option<usize>,
}

/// gdb's `buildsym_compunit`, the part of it line tables need.
struct Builder {
    comp_dir: Option<String>,
    /// In creation order (gdb's list is newest first: searched backwards).
    subfiles: Vec<Subfile>,
    current: usize,
    main: usize,
}

impl Builder {
    fn new(name: &str, comp_dir: Option<String>) -> Builder {
        let mut b = Builder {
            comp_dir,
            subfiles: Vec::new(),
            current: 0,
            main: 0,
        };
        b.start_subfile(name);
        b.main = b.current;
        b
    }

    /// `buildsym_compunit::start_subfile`: make the subfile called `name`
    /// current, creating it if it is new. Returns whether one was created.
    fn start_subfile(&mut self, name: &str) -> bool {
        let absolute = name.starts_with('/');
        for (i, s) in self.subfiles.iter().enumerate().rev() {
            let same = if absolute && !s.name.starts_with('/') {
                match &self.comp_dir {
                    Some(d) => {
                        name.len() == d.len() + 1 + s.name.len()
                            && name.starts_with(d.as_str())
                            && name.as_bytes()[d.len()] == b'/'
                            && name.ends_with(s.name.as_str())
                    }
                    None => s.name == name,
                }
            } else {
                s.name == name
            };
            if same {
                self.current = i;
                return false;
            }
        }
        self.subfiles.push(Subfile {
            name: name.to_string(),
            entries: Vec::new(),
            symtab: None,
        });
        self.current = self.subfiles.len() - 1;
        true
    }

    /// `buildsym_compunit::record_line`.
    fn record_line(&mut self, subfile: usize, line: u32, pc: u64, is_stmt: bool) {
        let entries = &mut self.subfiles[subfile].entries;
        if line == 0 {
            // "The easiest way to accomplish this is to delete any empty
            // lines from our table, if they are followed by end of sequence
            // markers."
            while entries.last().is_some_and(|e| e.pc == pc) {
                entries.pop();
            }
        }
        entries.push(Entry { pc, line, is_stmt });
    }
}

/// The CU's file list, as gdb names the subfile of each entry.
struct Files {
    version: u16,
    /// `dir/name` (or `name` when absolute or without a directory), by
    /// position in the header's list.
    names: Vec<String>,
    /// The subfile of each entry, found once (cleared whenever a subfile is
    /// created, since a new one can change what a name resolves to).
    subfile: Vec<Option<usize>>,
}

impl Files {
    /// `line_header::file_name_at`: 1-based before DWARF 5, 0-based after.
    fn index(&self, file: u64) -> Option<usize> {
        let i = if self.version <= 4 {
            file.checked_sub(1)?
        } else {
            file
        };
        let i = usize::try_from(i).ok()?;
        (i < self.names.len()).then_some(i)
    }

    /// `dwarf2_start_subfile` for entry `i`.
    fn start(&mut self, b: &mut Builder, i: usize) {
        if let Some(s) = self.subfile[i] {
            b.current = s;
            return;
        }
        if b.start_subfile(&self.names[i]) {
            self.subfile.iter_mut().for_each(|s| *s = None);
        }
        self.subfile[i] = Some(b.current);
    }
}

/// The line-number state machine of one sequence (`lnp_state_machine`).
struct Machine {
    address: u64,
    op_index: u64,
    file: u64,
    line: u32,
    is_stmt: bool,
    discriminator: u64,
    last_subfile: Option<usize>,
    last_address: u64,
    stmt_at_address: bool,
    recording: bool,
    last_line: u32,
    line_has_non_zero_discriminator: bool,
}

struct Header {
    min_inst_len: u64,
    max_ops: u64,
    line_base: i64,
    line_range: u64,
    opcode_base: u64,
    default_is_stmt: bool,
}

impl Machine {
    fn new(h: &Header) -> Machine {
        Machine {
            address: 0,
            op_index: 0,
            file: 1,
            line: 1,
            is_stmt: h.default_is_stmt,
            discriminator: 0,
            last_subfile: None,
            last_address: 0,
            stmt_at_address: false,
            recording: true,
            last_line: 0,
            line_has_non_zero_discriminator: false,
        }
    }

    fn advance_line(&mut self, delta: i64) {
        // gdb's m_line is an unsigned int.
        self.line = self.line.wrapping_add(delta as u32);
        if delta != 0 {
            self.line_has_non_zero_discriminator = self.discriminator != 0;
        }
    }

    fn advance_ops(&mut self, h: &Header, adjust: u64) {
        let ops = self.op_index.wrapping_add(adjust);
        self.address = self
            .address
            .wrapping_add((ops / h.max_ops).wrapping_mul(h.min_inst_len));
        self.op_index = ops % h.max_ops;
    }

    /// `lnp_state_machine::record_line`.
    fn record_line(&mut self, end_sequence: bool, b: &mut Builder, files: &Files) {
        if files.index(self.file).is_some() && (self.op_index == 0 || end_sequence) {
            let current = b.current;
            let file_changed = self.last_subfile != Some(current);
            let ignore_this_line = file_changed
                && !end_sequence
                && self.last_address == self.address
                && !self.is_stmt
                && self.stmt_at_address;
            if (file_changed && !ignore_this_line) || end_sequence {
                // dwarf_finish_line: an end entry in the file being left.
                if let (Some(last), true) = (self.last_subfile, self.recording) {
                    b.record_line(last, 0, self.address, true);
                }
            }
            if !end_sequence && !ignore_this_line {
                // dwarf_record_line_p (PR 17276: the same line again, in
                // the same file, with discriminators, is not recorded).
                let record = self.last_subfile != Some(current)
                    || self.line != self.last_line
                    || !self.line_has_non_zero_discriminator;
                if record && self.recording {
                    b.record_line(current, self.line, self.address, self.is_stmt);
                }
                self.last_subfile = Some(current);
                self.last_line = self.line;
            }
        }
        if self.last_address != self.address {
            self.stmt_at_address = false;
            self.last_address = self.address;
        }
        self.stmt_at_address |= self.is_stmt;
    }
}

fn string(
    dwarf: &gimli::Dwarf<R<'_>>,
    unit: &gimli::Unit<R<'_>>,
    v: AttributeValue<R<'_>>,
) -> Option<String> {
    let r = dwarf.attr_string(unit, v).ok()?;
    Some(r.to_string_lossy().into_owned())
}

/// Build the tables of the CU at `offset` in `.debug_info`. `cu_low` is the
/// CU's lowest address: as gdb does (`check_line_address`, for functions
/// the linker dropped), a sequence set to address 0 is not recorded when
/// the CU starts above 0.
pub(super) fn build(
    dwarf: &gimli::Dwarf<R<'_>>,
    offset: gimli::DebugInfoOffset<usize>,
    cu_low: u64,
) -> gimli::Result<CuLines> {
    let header = dwarf.debug_info.header_from_offset(offset)?;
    let unit = dwarf.unit(header)?;
    let Some(program) = unit.line_program.clone() else {
        return Ok(CuLines::default());
    };
    let lossy = |r: R<'_>| r.to_string_lossy().into_owned();
    let name = unit
        .name
        .map(lossy)
        .unwrap_or_else(|| "<unknown>".to_string());
    let comp_dir = unit.comp_dir.map(lossy);
    let lh = program.header();

    let version = lh.version();
    let dirs: Vec<Option<String>> = lh
        .include_directories()
        .iter()
        .map(|d| string(dwarf, &unit, *d))
        .collect();
    let file_name = |fe: &gimli::FileEntry<R<'_>>| -> String {
        let name = string(dwarf, &unit, fe.path_name()).unwrap_or_default();
        // line_header::include_dir_at: 1-based before DWARF 5 (0, the
        // compilation directory, is "no directory"), 0-based after.
        let d = fe.directory_index();
        let dir = if version <= 4 {
            d.checked_sub(1)
        } else {
            Some(d)
        }
        .and_then(|d| dirs.get(usize::try_from(d).ok()?)?.as_deref());
        match dir {
            Some(dir) if !name.starts_with('/') => format!("{dir}/{name}"),
            _ => name,
        }
    };
    let names: Vec<String> = lh.file_names().iter().map(file_name).collect();
    let mut files = Files {
        version,
        subfile: vec![None; names.len()],
        names,
    };
    let h = Header {
        min_inst_len: u64::from(lh.minimum_instruction_length()),
        max_ops: u64::from(lh.maximum_operations_per_instruction()).max(1),
        line_base: i64::from(lh.line_base()),
        line_range: u64::from(lh.line_range()).max(1),
        opcode_base: u64::from(lh.opcode_base()),
        default_is_stmt: lh.default_is_stmt(),
    };

    let mut b = Builder::new(&name, comp_dir.clone());
    let mut instructions = lh.instructions();
    // dwarf_decode_lines_1: one state machine per sequence.
    'program: loop {
        let mut m = Machine::new(&h);
        if let Some(i) = files.index(m.file) {
            files.start(&mut b, i);
        }
        let mut started = false;
        loop {
            let ins = match instructions.next_instruction(lh) {
                Ok(Some(ins)) => ins,
                // gdb stops at the first instruction it cannot read.
                Ok(None) | Err(_) => {
                    if started {
                        m.record_line(true, &mut b, &files);
                    }
                    break 'program;
                }
            };
            started = true;
            match ins {
                LineInstruction::Special(op) => {
                    let adj = u64::from(op).wrapping_sub(h.opcode_base);
                    m.advance_ops(&h, adj / h.line_range);
                    m.advance_line(h.line_base + (adj % h.line_range) as i64);
                    m.record_line(false, &mut b, &files);
                    m.discriminator = 0;
                }
                LineInstruction::Copy => {
                    m.record_line(false, &mut b, &files);
                    m.discriminator = 0;
                }
                LineInstruction::AdvancePc(n) => m.advance_ops(&h, n),
                LineInstruction::AdvanceLine(d) => m.advance_line(d),
                LineInstruction::SetFile(f) => {
                    // lnp_state_machine::handle_set_file: the file being
                    // left counts as the last one, rows or not.
                    m.file = f;
                    if let Some(i) = files.index(f) {
                        m.last_subfile = Some(b.current);
                        m.line_has_non_zero_discriminator = m.discriminator != 0;
                        files.start(&mut b, i);
                    }
                }
                LineInstruction::NegateStatement => m.is_stmt = !m.is_stmt,
                LineInstruction::ConstAddPc => {
                    let adjust = 255u64.wrapping_sub(h.opcode_base) / h.line_range;
                    m.advance_ops(&h, adjust);
                }
                LineInstruction::FixedAddPc(n) => {
                    m.address = m.address.wrapping_add(u64::from(n));
                    m.op_index = 0;
                }
                LineInstruction::EndSequence => {
                    m.recording = true;
                    m.record_line(true, &mut b, &files);
                    continue 'program;
                }
                LineInstruction::SetAddress(a) => {
                    if a == 0 && cu_low > 0 {
                        m.recording = false;
                    }
                    m.address = a;
                    m.op_index = 0;
                }
                LineInstruction::DefineFile(fe) => {
                    let n = file_name(&fe);
                    files.names.push(n);
                    files.subfile.push(None);
                }
                LineInstruction::SetDiscriminator(d) => {
                    m.discriminator = d;
                    m.line_has_non_zero_discriminator |= d != 0;
                }
                // "mangled .debug_line section": gdb gives up on the rest.
                LineInstruction::UnknownExtended(..) => break 'program,
                LineInstruction::SetColumn(_)
                | LineInstruction::SetBasicBlock
                | LineInstruction::SetPrologueEnd
                | LineInstruction::SetEpilogueBegin
                | LineInstruction::SetIsa(_)
                | LineInstruction::UnknownStandard0(_)
                | LineInstruction::UnknownStandard1(..)
                | LineInstruction::UnknownStandardN(..) => {}
            }
        }
    }

    // dwarf_decode_lines: a symtab for every file of the header, in order.
    let mut order: Vec<usize> = Vec::new();
    for i in 0..files.names.len() {
        files.start(&mut b, i);
        let s = &mut b.subfiles[b.current];
        if s.symtab.is_none() {
            s.symtab = Some(order.len());
            order.push(b.current);
        }
    }
    // watch_main_source_file_lossage: a main file with neither lines nor a
    // symtab takes over the one other file of the same base name.
    let main = b.main;
    if b.subfiles[main].entries.is_empty() && b.subfiles[main].symtab.is_none() {
        let base = |n: &str| n.rsplit('/').next().unwrap_or(n).to_string();
        let main_base = base(&b.subfiles[main].name);
        let matches: Vec<usize> = (0..b.subfiles.len())
            .filter(|&i| i != main && base(&b.subfiles[i].name) == main_base)
            .collect();
        if let [alias] = matches[..] {
            if let Some(st) = b.subfiles[alias].symtab {
                order[st] = main;
                b.subfiles[main].symtab = Some(st);
            }
            b.subfiles[main].entries = std::mem::take(&mut b.subfiles[alias].entries);
            // The symtab keeps the alias's file name.
            b.subfiles[main].name = std::mem::take(&mut b.subfiles[alias].name);
            b.subfiles[alias].symtab = None;
        }
    }
    // end_symtab_with_blockvector: the main file's symtab goes first.
    if let Some(st) = b.subfiles[main].symtab {
        let m = order.remove(st);
        order.insert(0, m);
    }

    let mut dedup: HashMap<String, Arc<str>> = HashMap::new();
    let mut symtabs = Vec::new();
    for si in order {
        let s = &mut b.subfiles[si];
        if s.entries.is_empty() {
            continue;
        }
        let mut entries = std::mem::take(&mut s.entries);
        // Stable: entries at one address keep their order (inlined call
        // chains), except that end entries go first.
        entries.sort_by(|a, b| a.pc.cmp(&b.pc).then((b.line == 0).cmp(&(a.line == 0))));
        let path = crash_path(&s.name, comp_dir.as_deref());
        let file = dedup
            .entry(path.clone())
            .or_insert_with(|| path.into())
            .clone();
        symtabs.push(Symtab { file, entries });
    }
    Ok(CuLines { symtabs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(pc: u64, line: u32, is_stmt: bool) -> Entry {
        Entry { pc, line, is_stmt }
    }

    #[test]
    fn paths_as_crash_prints_them() {
        let dir = Some("debian/build/build_amd64_none_cloud-amd64");
        assert_eq!(
            crash_path("kernel/sched/core.c", dir),
            "debian/build/build_amd64_none_cloud-amd64/kernel/sched/core.c"
        );
        assert_eq!(
            crash_path("arch/x86/include/asm/trace//fpu.h", dir),
            "debian/build/build_amd64_none_cloud-amd64/arch/x86/include/asm/trace/fpu.h"
        );
        assert_eq!(crash_path("/abs/entry_64.S", dir), "/abs/entry_64.S");
        assert_eq!(crash_path("a.c", Some("/src/")), "/src/a.c");
        assert_eq!(crash_path("a.c", None), "a.c");
    }

    #[test]
    fn an_end_entry_deletes_lines_at_its_address() {
        let mut b = Builder::new("a.c", None);
        b.record_line(0, 10, 0x90, true);
        b.record_line(0, 11, 0x95, true);
        b.record_line(0, 0, 0x95, true);
        assert_eq!(b.subfiles[0].entries, [e(0x90, 10, true), e(0x95, 0, true)]);
    }

    /// `schedule`'s first bytes, as gdb's tables have them once built from
    /// rows core.c 6632 @90; core.c 6633, current.h 13, current.h 15 (x8),
    /// core.c 6632 (not a statement, dropped) @95; current.h 15 (not a
    /// statement) @97; current.h 15, core.c 6635 .. 6592 @a0.
    fn schedule() -> CuLines {
        let core = Symtab {
            file: "core.c".into(),
            entries: vec![
                e(0x90, 6632, true),
                e(0x95, 0, true),
                e(0x97, 0, true),
                e(0xa0, 6635, true),
                e(0xa0, 6592, true),
            ],
        };
        let current = Symtab {
            file: "current.h".into(),
            entries: vec![
                e(0x95, 13, true),
                e(0x95, 15, true),
                e(0x97, 15, false),
                e(0xa0, 0, true),
            ],
        };
        CuLines {
            symtabs: vec![core, current],
        }
    }

    #[test]
    fn lookups_pick_as_gdb_does() {
        let t = schedule();
        let at = |pc| t.lookup(pc).map(|(s, l)| (&*t.symtabs[s].file, l));
        assert_eq!(at(0x8f), None);
        assert_eq!(at(0x90), Some(("core.c", 6632)));
        // core.c's end entry at 0x95 is skipped, current.h's last row wins.
        assert_eq!(at(0x95), Some(("current.h", 15)));
        assert_eq!(at(0x97), Some(("current.h", 15)));
        // A tie at 0xa0: current.h has an end entry, core.c its last row.
        assert_eq!(at(0xa0), Some(("core.c", 6592)));
        let mut points = Vec::new();
        t.boundaries(&(0x91..0xa0), &mut points);
        points.sort_unstable();
        assert_eq!(points, [0x95, 0x95, 0x95, 0x97, 0x97]);
    }

    #[test]
    fn a_non_statement_gives_way_to_a_statement_at_its_address() {
        let t = CuLines {
            symtabs: vec![Symtab {
                file: "crashme.c".into(),
                entries: vec![e(0x25, 33, true), e(0x25, 35, true), e(0x25, 32, false)],
            }],
        };
        assert_eq!(t.lookup(0x26), Some((0, 35)));
    }
}
