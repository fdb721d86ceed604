//! Source lines of kernel addresses, from the real vmlinux's DWARF and the
//! crashme module's, agree with what crash printed (`sym`, `dis -l`,
//! `dis -rl`, `bt -l` in the corpus's `crash.txt`), with `addr2line` where
//! the two tools' rules agree, and, when crash is installed, with crash
//! itself on random addresses.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gimli::Section;
use kdive_debuginfo::lines::{LineTable, Location};
use object::{Object, ObjectSection, ObjectSymbol};

/// The kernel of the corpus and of Debian's debug package.
const RELEASE: &str = "6.1.0-47-cloud-amd64";

/// The vmlinux with debuginfo, where Debian installs it (or where
/// `KDIVE_VMLINUX_DIR` says). `None`, with a message, when it is missing
/// and `KDIVE_ALLOW_NO_VMLINUX=1`; a failed test otherwise.
fn vmlinux() -> Option<PathBuf> {
    let dir = std::env::var_os("KDIVE_VMLINUX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/debug/boot"));
    let p = dir.join(format!("vmlinux-{RELEASE}"));
    if p.is_file() {
        return Some(p);
    }
    if std::env::var_os("KDIVE_ALLOW_NO_VMLINUX").is_some_and(|v| v == "1") {
        eprintln!("skipping: no {} (KDIVE_ALLOW_NO_VMLINUX=1)", p.display());
        return None;
    }
    panic!(
        "{} is not installed: apt-get install linux-image-{RELEASE}-dbg, \
         or set KDIVE_ALLOW_NO_VMLINUX=1 to skip the line-table tests",
        p.display()
    );
}

/// The corpus's crashes of this kernel that have a `crash.txt` (the
/// testkit's roots: `KDIVE_CORPUS`, else `../shared/corpus` and the built
/// corpus).
fn scenarios() -> Vec<PathBuf> {
    let kernel = format!("linux-{RELEASE}");
    let mut dirs: Vec<PathBuf> = kdive_testkit::crashes()
        .into_iter()
        .filter(|c| c.kernel == kernel && c.file("crash.txt").is_some())
        .map(|c| c.dir)
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        if std::env::var_os("KDIVE_ALLOW_NO_CORPUS").is_some_and(|v| v == "1") {
            eprintln!("skipping: no {kernel} crash with a crash.txt (KDIVE_ALLOW_NO_CORPUS=1)");
        } else {
            panic!("no {kernel} crash with a crash.txt: set KDIVE_CORPUS, or KDIVE_ALLOW_NO_CORPUS=1 to skip");
        }
    }
    dirs
}

/// `crash.txt`: the output of each command, after its `@@@ crash> CMD` line.
struct CrashTxt {
    sections: Vec<(String, Vec<String>)>,
}

impl CrashTxt {
    fn read(dir: &Path) -> CrashTxt {
        let text = std::fs::read_to_string(dir.join("crash.txt")).unwrap();
        let mut sections: Vec<(String, Vec<String>)> = Vec::new();
        for line in text.lines() {
            // A command's output may end without a newline (`rd -a`), so the
            // next command's marker can be mid-line.
            if let Some(i) = line.find("@@@ crash> ") {
                if let Some(last) = sections.last_mut() {
                    if i > 0 {
                        last.1.push(line[..i].to_string());
                    }
                }
                sections.push((line[i + "@@@ crash> ".len()..].to_string(), Vec::new()));
            } else if let Some(last) = sections.last_mut() {
                last.1.push(line.to_string());
            }
        }
        CrashTxt { sections }
    }

    fn output(&self, command: &str) -> Option<&[String]> {
        self.sections
            .iter()
            .find(|(c, _)| c == command)
            .map(|(_, l)| l.as_slice())
    }
}

/// The vmlinux's `.symtab` functions: `(name, address, size)`.
fn functions(vmlinux: &Path) -> Vec<(String, u64, u64)> {
    let file = File::open(vmlinux).unwrap();
    // SAFETY: read-only map of a file nothing modifies during the test.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let obj = object::File::parse(&*map).unwrap();
    obj.symbols()
        .filter(|s| s.kind() == object::SymbolKind::Text && s.size() > 0)
        .filter_map(|s| Some((s.name().ok()?.to_string(), s.address(), s.size())))
        .collect()
}

fn symbol(functions: &[(String, u64, u64)], name: &str) -> u64 {
    functions
        .iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no function {name} in the vmlinux"))
        .1
}

/// The dump's KASLR offset: from the VMCOREINFO of a dump in `dir` that
/// opens, else from crash's `sym schedule` and the vmlinux's `schedule`.
fn kaslr_offset(dir: &Path, crash: &CrashTxt, functions: &[(String, u64, u64)]) -> u64 {
    if let Some((path, off)) = dump_offset(dir) {
        eprintln!("{}: KERNELOFFSET {off:#x}", path.display());
        return off;
    }
    let line = &crash
        .output("sym schedule")
        .expect("crash.txt has no `sym schedule`")[0];
    let addr = u64::from_str_radix(line.split_whitespace().next().unwrap(), 16).unwrap();
    let off = addr.wrapping_sub(symbol(functions, "schedule"));
    eprintln!(
        "{}: no dump opens; KASLR offset {off:#x} from crash's `sym schedule`",
        dir.display()
    );
    off
}

/// A dump in `dir` that opens, and its VMCOREINFO's KERNELOFFSET.
fn dump_offset(dir: &Path) -> Option<(PathBuf, u64)> {
    let mut dumps: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vmcore."))
        })
        .collect();
    dumps.sort();
    dumps.into_iter().find_map(|p| {
        let off = match kdive_dump::Dump::open(&p) {
            Ok(d) => d.vmcoreinfo()?.kernel_offset()?,
            Err(e) => {
                eprintln!("{}: {e}", p.display());
                return None;
            }
        };
        Some((p, off))
    })
}

fn show(loc: &Option<Location>) -> String {
    loc.as_ref().map(|l| l.to_string()).unwrap_or_default()
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// Check a `dis -l`/`dis -rl` listing: redo crash's loop (a header before
/// each instruction whose line differs from the last one printed) with our
/// lines, by `lookup` and by `rows_in`, and compare the whole listing.
fn check_dis(command: &str, out: &[String], lines: &LineTable, off: u64) {
    let insns: Vec<u64> = out
        .iter()
        .filter(|l| l.starts_with("0x"))
        .map(|l| hex(l.split([' ', ':']).next().unwrap()))
        .collect();
    assert!(!insns.is_empty(), "{command}: no instructions in crash.txt");
    let want: Vec<String> = out.iter().filter(|l| !l.is_empty()).cloned().collect();
    let (first, last) = (insns[0] - off, insns[insns.len() - 1] - off);
    let rows = lines.rows_in(first..last + 1);
    let by_rows = |a: u64| {
        let i = rows.partition_point(|(r, _)| *r <= a);
        show(&rows[i - 1].1)
    };
    for (how, line_of) in [
        (
            "lookup",
            &(|a: u64| show(&lines.lookup(a))) as &dyn Fn(u64) -> String,
        ),
        ("rows_in", &by_rows),
    ] {
        let mut got = Vec::new();
        let mut printed = String::new();
        let mut insn = insns.iter();
        for l in out.iter().filter(|l| l.starts_with("0x")) {
            let line = line_of(insn.next().unwrap() - off);
            if line != printed {
                got.push(line.clone());
                printed = line;
            }
            got.push(l.clone());
        }
        assert_eq!(got, want, "{command} (by {how})");
    }
    eprintln!("{command}: {} instructions, same headers", insns.len());
}

/// `bt -l`: each frame's `FUNC at ADDR`, and each exception frame's RIP,
/// with the line crash printed under it.
fn bt_lines(out: &[String]) -> Vec<(u64, String)> {
    let is_location = |l: &str| {
        l.starts_with("    ")
            && l.trim()
                .rsplit_once(": ")
                .is_some_and(|(f, n)| !f.contains(' ') && n.parse::<u32>().is_ok())
    };
    let mut frames = Vec::new();
    for (i, l) in out.iter().enumerate() {
        if l.trim_start().starts_with('#') && l.contains(" at ") {
            let addr = hex(l
                .split(" at ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap());
            if let Some(next) = out.get(i + 1).filter(|n| is_location(n)) {
                frames.push((addr, next.trim().to_string()));
            }
        } else if l.trim_start().starts_with("[exception RIP:") {
            let rip = out[i + 1..]
                .iter()
                .find_map(|r| r.trim_start().strip_prefix("RIP: "))
                .map(|r| hex(r.split_whitespace().next().unwrap()))
                .unwrap();
            let loc = out[i + 1..]
                .iter()
                .take_while(|r| !r.trim_start().starts_with('#'))
                .find(|r| is_location(r));
            if let Some(loc) = loc {
                frames.push((rip, loc.trim().to_string()));
            }
        }
    }
    frames
}

/// Where x86_64 modules are loaded.
const MODULES: u64 = 0xffff_ffff_c000_0000;

/// `dis` with `-l` among its options (`dis -l`, `dis -rl`).
fn is_dis_l(command: &str) -> bool {
    command
        .strip_prefix("dis -")
        .and_then(|r| r.split(' ').next())
        .is_some_and(|opts| opts.contains('l'))
}

/// The address of the first instruction of a `dis` listing.
fn first_insn(out: &[String]) -> Option<u64> {
    out.iter()
        .find(|l| l.starts_with("0x"))
        .map(|l| hex(l.split([' ', ':']).next().unwrap()))
}

/// The BASE column of crash's `mod` for `name`: where the module's core
/// layout starts, which in 6.1 is its `.text`.
fn module_base(crash: &CrashTxt, name: &str) -> Option<u64> {
    crash.output("mod")?.iter().find_map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        (w.len() >= 3 && w[1] == name).then(|| hex(w[2]))
    })
}

#[test]
fn crash_txt_lines() {
    let Some(vmlinux) = vmlinux() else { return };
    let t = Instant::now();
    let lines = LineTable::open(&vmlinux).unwrap();
    let open = t.elapsed();
    let functions = functions(&vmlinux);
    let schedule = symbol(&functions, "schedule");
    let t = Instant::now();
    let loc = lines.lookup(schedule);
    let first = t.elapsed();
    eprintln!("open {open:?}, first lookup {first:?}: schedule at {loc:?}");
    // Opening reads .debug_aranges only and a lookup one CU: a walk of every
    // DIE (about a second, optimized) would show here.
    assert!(
        open + first < Duration::from_secs(2),
        "open {open:?} + lookup {first:?}"
    );

    let mut checked = 0;
    for dir in scenarios() {
        let crash = CrashTxt::read(&dir);
        let off = kaslr_offset(&dir, &crash, &functions);

        // `sym schedule`: ADDR (T) schedule FILE: LINE
        if let Some(out) = crash.output("sym schedule") {
            let w: Vec<&str> = out[0].splitn(4, ' ').collect();
            let got = lines.lookup(hex(w[0]) - off).expect("no line for schedule");
            assert_eq!(got.to_string(), w[3], "{}: sym schedule", dir.display());
            assert_eq!(hex(w[0]) - off, schedule);
            checked += 1;
        }

        // `dis -l` / `dis -rl` of vmlinux functions.
        for (command, out) in &crash.sections {
            if is_dis_l(command) && first_insn(out).is_some_and(|a| a < MODULES) {
                check_dis(command, out, &lines, off);
                checked += 1;
            }
        }

        // `bt -l`: the line under each frame.
        if let Some(out) = crash.output("bt -l") {
            let frames = bt_lines(out);
            assert!(!frames.is_empty(), "{}: bt -l has no frames", dir.display());
            for (addr, want) in frames.into_iter().filter(|(a, _)| *a < MODULES) {
                let got = show(&lines.lookup(addr - off));
                assert_eq!(got, want, "{}: bt -l frame at {addr:#x}", dir.display());
                checked += 1;
            }
        }
    }
    eprintln!("{checked} crash.txt lines checked");
}

#[test]
fn module_lines() {
    let mut checked = 0;
    for dir in scenarios() {
        let ko = dir.join("crashme.ko");
        if !ko.is_file() {
            continue;
        }
        let crash = CrashTxt::read(&dir);
        let Some(base) = module_base(&crash, "crashme") else {
            continue;
        };
        // With .text placed where the dump has it (.init.text and
        // .exit.text elsewhere), lookups take the dump's addresses.
        let placed = LineTable::open_relocated(&ko, &|s| match s {
            ".text" => Some(base),
            ".init.text" => Some(0xffff_ffff_d000_0000),
            ".exit.text" => Some(0xffff_ffff_d000_1000),
            _ => None,
        })
        .unwrap();
        // Unplaced, .text is at 0: its addresses are offsets.
        let unplaced = LineTable::open(&ko).unwrap();

        let mut expect = Vec::new();
        // crash prints lines only for modules whose debuginfo it loaded:
        // here, crashme alone.
        if let Some(out) = crash.output("bt -l") {
            expect.extend(bt_lines(out).into_iter().filter(|(a, _)| *a >= MODULES));
        }
        for (command, out) in &crash.sections {
            if is_dis_l(command) && first_insn(out).is_some_and(|a| a >= MODULES) {
                let mut header = String::new();
                for l in out {
                    if l.starts_with("0x") {
                        expect.push((hex(l.split(' ').next().unwrap()), header.clone()));
                    } else if !l.is_empty() {
                        header = l.clone();
                    }
                }
            }
        }
        for (addr, want) in expect {
            assert_eq!(
                show(&placed.lookup(addr)),
                want,
                "{}: crashme at {addr:#x}",
                dir.display()
            );
            assert_eq!(
                show(&unplaced.lookup(addr - base)),
                want,
                "{}: .text+{:#x}",
                dir.display(),
                addr - base
            );
            checked += 1;
        }
    }
    eprintln!("{checked} module lines checked");
}

/// A small deterministic generator (xorshift64*), for samples that are the
/// same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n` addresses inside the vmlinux's functions, the same on every run.
fn sample(functions: &[(String, u64, u64)], n: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng(seed);
    let mut out: Vec<u64> = (0..n)
        .map(|_| {
            let (_, a, size) = &functions[rng.below(functions.len() as u64) as usize];
            a + rng.below(*size)
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Run `program args`, feeding it `input`, for at most `limit`.
fn run(program: &str, args: &[&str], input: String, limit: Duration) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).map(|_| s)
    });
    let start = Instant::now();
    loop {
        if child.try_wait().ok()?.is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} ran for over {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = feeder.join();
    reader.join().ok()?.ok()
}

/// For each address, whether crash's rule (gdb's) and addr2line's (BFD's)
/// must give the same answer there, read from the DWARF with gimli
/// directly, independently of the code under test: the row in force is the
/// only row at its address (no inlined or view rows), and gdb records it
/// (it drops a repeat of the line before when that line had a
/// discriminator). Rows of DWARF 5 file 1 are left out: binutils 2.40
/// names that file as file 0, the CU's own (`topology.h: 58` is printed
/// `numa.c:58`).
fn comparable(vmlinux: &Path, addrs: &[u64]) -> HashMap<u64, bool> {
    let file = File::open(vmlinux).unwrap();
    // SAFETY: read-only map of a file nothing modifies during the test.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let obj = object::File::parse(&*map).unwrap();
    let section = |id: gimli::SectionId| {
        let data = obj
            .section_by_name(id.name())
            .and_then(|s| s.data().ok())
            .unwrap_or(&[]);
        Ok::<_, gimli::Error>(gimli::EndianSlice::new(data, gimli::LittleEndian))
    };
    let dwarf = gimli::Dwarf::load(section).unwrap();
    let aranges = gimli::DebugAranges::load(section).unwrap();
    let mut ranges = Vec::new();
    let mut headers = aranges.headers();
    while let Some(h) = headers.next().unwrap() {
        let mut entries = h.entries();
        while let Some(e) = entries.next().unwrap() {
            ranges.push((e.range().begin, e.range().end, h.debug_info_offset()));
        }
    }
    let mut by_cu: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for &a in addrs {
        if let Some(r) = ranges.iter().find(|r| r.0 <= a && a < r.1) {
            by_cu.entry(r.2 .0).or_default().push(a);
        }
    }
    #[derive(Clone, Copy)]
    struct Row {
        addr: u64,
        file: u64,
        line: u64,
        discriminator: u64,
    }
    let mut out = HashMap::new();
    for (cu, cu_addrs) in by_cu {
        let header = dwarf
            .debug_info
            .header_from_offset(gimli::DebugInfoOffset(cu))
            .unwrap();
        let unit = dwarf.unit(header).unwrap();
        let program = unit.line_program.clone().unwrap();
        let dwarf5 = program.header().version() >= 5;
        let mut rows = program.rows();
        let mut sequences: Vec<(u64, Vec<Row>)> = Vec::new();
        let mut count: HashMap<u64, usize> = HashMap::new();
        let mut current: Vec<Row> = Vec::new();
        while let Some((_, row)) = rows.next_row().unwrap() {
            if row.end_sequence() {
                if !current.is_empty() {
                    sequences.push((row.address(), std::mem::take(&mut current)));
                }
            } else {
                current.push(Row {
                    addr: row.address(),
                    file: row.file_index(),
                    line: row.line().map_or(0, |l| l.get()),
                    discriminator: row.discriminator(),
                });
                *count.entry(row.address()).or_default() += 1;
            }
        }
        for a in cu_addrs {
            let ok = sequences
                .iter()
                .find(|(end, rows)| rows[0].addr <= a && a < *end)
                .is_some_and(|(_, rows)| {
                    let i = rows.partition_point(|r| r.addr <= a) - 1;
                    let r = rows[i];
                    // gdb keeps a repeat of the same line unless the line
                    // had a discriminator since it last changed.
                    let run = rows[..=i]
                        .iter()
                        .rev()
                        .take_while(|p| (p.file, p.line) == (r.file, r.line));
                    let kept = i == 0
                        || (rows[i - 1].file, rows[i - 1].line) != (r.file, r.line)
                        || run.clone().all(|p| p.discriminator == 0);
                    count[&r.addr] == 1 && !(dwarf5 && r.file == 1) && kept
                });
            out.insert(a, ok);
        }
    }
    out
}

#[test]
fn addr2line_sample() {
    let Some(vmlinux) = vmlinux() else { return };
    if Command::new("addr2line").arg("--version").output().is_err() {
        eprintln!("skipping: addr2line (binutils) is not installed");
        return;
    }
    let lines = LineTable::open(&vmlinux).unwrap();
    let addrs = sample(&functions(&vmlinux), 1000, 0x6b64_6976_6531);
    let input: String = addrs.iter().map(|a| format!("{a:x}\n")).collect();
    let vm = vmlinux.to_str().unwrap();
    let out = run("addr2line", &["-e", vm], input, Duration::from_secs(300)).unwrap();
    let theirs: Vec<&str> = out.lines().collect();
    assert_eq!(theirs.len(), addrs.len());
    let comparable = comparable(&vmlinux, &addrs);

    let (mut same, mut simple) = (0, 0);
    for (&a, t) in addrs.iter().zip(&theirs) {
        // addr2line: FILE:LINE, maybe " (discriminator N)"; "??:?" for none.
        let t = t.split(" (discriminator").next().unwrap();
        let t = if t.starts_with("??") {
            String::new()
        } else {
            let (file, line) = t.rsplit_once(':').unwrap();
            let mut f = String::new();
            for c in file.chars() {
                if !(c == '/' && f.ends_with('/')) {
                    f.push(c);
                }
            }
            format!("{f}: {line}")
        };
        let ours = show(&lines.lookup(a));
        // Both find the CU the same way: no line for one, none for the other.
        assert_eq!(
            ours.is_empty(),
            t.is_empty(),
            "{a:#x}: ours [{ours}], addr2line [{t}]"
        );
        same += usize::from(ours == t);
        if comparable.get(&a) == Some(&true) {
            simple += 1;
            assert_eq!(ours, t, "{a:#x}: where the rules agree, ours vs addr2line");
        }
    }
    eprintln!(
        "{} addresses: {same} the same as addr2line, and all {simple} where the two \
         rules agree",
        addrs.len()
    );
    // Where several rows share an address (inlined code), crash (gdb)
    // chooses differently from addr2line (the last row): most addresses
    // still agree.
    assert!(
        simple >= addrs.len() / 20,
        "only {simple} addresses where the rules agree"
    );
    assert!(
        same * 10 >= addrs.len() * 7,
        "only {same} the same as addr2line"
    );
}

/// crash itself, when installed, on a dump of this kernel: `sym ADDR` for
/// random addresses and for every place a line changes in random functions.
/// Only addresses inside a CU are compared: for the padding between
/// functions, which no CU covers, crash answers from whichever CU its gdb
/// happened to expand before (depending on the session's history).
#[test]
fn crash_sample() {
    let Some(vmlinux) = vmlinux() else { return };
    if Command::new("crash").arg("--version").output().is_err() {
        eprintln!("skipping: crash is not installed");
        return;
    }
    let Some((dump, off)) = scenarios().iter().find_map(|d| dump_offset(d)) else {
        eprintln!("skipping: no dump of {RELEASE} opens");
        return;
    };
    let lines = LineTable::open(&vmlinux).unwrap();
    let functions = functions(&vmlinux);
    let mut addrs = sample(&functions, 200, 0x0063_7261_7368);
    let mut rng = Rng(0x726f_7773);
    for _ in 0..20 {
        let (_, a, size) = &functions[rng.below(functions.len() as u64) as usize];
        for (r, _) in lines.rows_in(*a..a + size) {
            addrs.extend([r, r + 1]);
        }
    }
    addrs.sort_unstable();
    addrs.dedup();
    let mut input: String = addrs
        .iter()
        .map(|a| format!("sym {:x}\n", a + off))
        .collect();
    input.push_str("exit\n");
    let args = ["-s", vmlinux.to_str().unwrap(), dump.to_str().unwrap()];
    let out = run("crash", &args, input, Duration::from_secs(600)).unwrap();
    // ADDR (T) NAME+OFF [FILE: LINE]
    let mut theirs: HashMap<u64, String> = HashMap::new();
    for l in BufReader::new(out.as_bytes()).lines().map_while(Result::ok) {
        let w: Vec<&str> = l.splitn(4, ' ').collect();
        if w.len() >= 3 && w[0].len() == 16 && w[1].starts_with('(') {
            if let Ok(a) = u64::from_str_radix(w[0], 16) {
                theirs.insert(
                    a.wrapping_sub(off),
                    w.get(3).unwrap_or(&"").trim().to_string(),
                );
            }
        }
    }
    let (mut compared, mut outside) = (0, 0);
    for a in &addrs {
        let Some(t) = theirs.get(a) else { continue };
        match lines.lookup(*a) {
            Some(ours) => {
                assert_eq!(ours.to_string(), *t, "{a:#x} (sym {:x})", a + off);
                compared += 1;
            }
            None => outside += 1,
        }
    }
    eprintln!(
        "crash on {}: {compared} addresses the same, {outside} outside every CU",
        dump.display()
    );
    assert!(
        compared > addrs.len() / 2,
        "crash answered for {} of {}",
        theirs.len(),
        addrs.len()
    );
}
