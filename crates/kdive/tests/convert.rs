//! `kdive convert` writes kdump-compressed files that readers other than
//! kdive take for the dump they came from.
//!
//! Each real dump of the corpus (the `kdump-zlib` file of every crash) is
//! converted by the kdive binary with each compression it writes: none,
//! zlib, snappy, zstd, and zstd with `-d 1` (zero pages left out). Then:
//!
//! - kdive's reader: every page the source holds reads back byte-identical
//!   from each output, every page frame up to the end of memory has the
//!   state it should (the source's, or excluded for a zero page at `-d 1`),
//!   and `kdive --info --json` says the same of source and output, but for
//!   the file name, the compression and (at `-d 1`) the page count;
//! - drgn, whose bundled libkdumpfile shares no code with kdive
//!   (`tests/drgn/pages.py`): it opens every output and the source, takes
//!   the release from their VMCOREINFO, and hashes every page kdive reads
//!   to the same sha256; page frames an output does not hold (probed at
//!   both edges of every run of present pages, and at a stride) are errors
//!   to drgn too;
//! - with the kernel's debuginfo (`tests/drgn/kernel.py`): drgn walks the
//!   kernel in the source and in the snappy and zstd outputs (the crashed
//!   thread's stack, the tasks, the log, the slab caches, the modules) and
//!   sees the same;
//! - makedumpfile, when installed: `--dump-dmesg` extracts the same log
//!   from the uncompressed and zlib outputs as from the source (Debian's
//!   makedumpfile is built without snappy and zstd).
//!
//! The same checks run on a crash's other variants when the corpus has
//! them (`scripts/mkcorpus.sh` builds them): an ELF vmcore, a flattened
//! file and an LZO one, each to one compression. And a failed or refused
//! conversion must leave no file behind and never touch an existing OUT or
//! the input.
//!
//! Environment:
//! - `KDIVE_CORPUS`, `KDIVE_ALLOW_NO_CORPUS=1`: see `kdive-testkit`;
//!   `KDIVE_ALLOW_NO_VARIANTS=1` lets the other variants be missing;
//! - `KDIVE_DRGN_PYTHON`: the Python that imports drgn (default
//!   `/opt/drgn-venv/bin/python`, else `python3` if it imports drgn);
//!   without one the drgn checks fail unless `KDIVE_ALLOW_NO_DRGN=1`;
//! - `KDIVE_VMLINUX_DIR` (default `/usr/lib/debug/boot`), then
//!   `$KDIVE_KERNELS/RELEASE/usr/lib/debug/boot`: where `vmlinux-RELEASE`
//!   is (see `kdive_testkit::vmlinux`); without it the kernel walk fails
//!   unless `KDIVE_ALLOW_NO_VMLINUX=1`;
//! - `KDIVE_KEEP_CONVERTED=1`: keep the converted files (their folder is
//!   printed) instead of deleting them.

use std::collections::{BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kdive_dump::{Compression, Dump, Format, PageState};
use kdive_testkit::Crash;
use serde_json::Value;
use sha2::{Digest, Sha256};

const KDIVE: &str = env!("CARGO_BIN_EXE_kdive");

/// One way of converting each source.
struct Target {
    name: &'static str,
    args: &'static [&'static str],
    compression: Compression,
    exclude_zero: bool,
    /// Also walk the kernel in it with drgn and the debuginfo (slow: the
    /// page check already covers every byte; this is the reader's view).
    walk: bool,
}

const TARGETS: [Target; 5] = [
    Target {
        name: "none",
        args: &["-c", "none"],
        compression: Compression::None,
        exclude_zero: false,
        walk: false,
    },
    Target {
        name: "zlib",
        args: &["-c", "zlib"],
        compression: Compression::Zlib,
        exclude_zero: false,
        walk: false,
    },
    Target {
        name: "snappy",
        args: &["-c", "snappy"],
        compression: Compression::Snappy,
        exclude_zero: false,
        walk: true,
    },
    Target {
        name: "zstd",
        args: &["-c", "zstd"],
        compression: Compression::Zstd,
        exclude_zero: false,
        walk: true,
    },
    // Not walked: the kernel's walk reads pages that happen to be zeros
    // (some .bss), which `-d 1` rightly leaves out.
    Target {
        name: "zstd-d1",
        args: &["-c", "zstd", "-d", "1"],
        compression: Compression::Zstd,
        exclude_zero: true,
        walk: false,
    },
];

/// The other variants of a crash converted too, when the corpus has them
/// (the built corpus does; the shared one keeps only kdump-zlib), each to
/// one compression.
const OTHER_VARIANTS: [(&str, [Target; 1]); 3] = [
    (
        "elf",
        [Target {
            name: "zlib",
            args: &["-c", "zlib"],
            compression: Compression::Zlib,
            exclude_zero: false,
            walk: false,
        }],
    ),
    (
        "flat",
        [Target {
            name: "zstd",
            args: &["-c", "zstd"],
            compression: Compression::Zstd,
            exclude_zero: false,
            walk: false,
        }],
    ),
    (
        "kdump-lzo",
        [Target {
            name: "snappy",
            args: &["-c", "snappy"],
            compression: Compression::Snappy,
            exclude_zero: false,
            walk: false,
        }],
    ),
];

/// Every this many page frames, one is probed with drgn whatever its state.
const PROBE_STRIDE: u64 = 61;

// ---------------------------------------------------------------------------
// Environment

use kdive_testkit::allowed as env_is_1;

/// The dumps to convert: the `kdump-zlib` file of each crash of the corpus
/// (one per kernel and scenario: the first root kdive-testkit finds wins).
/// Empty only when there is no corpus and `KDIVE_ALLOW_NO_CORPUS=1`.
fn sources(what: &str) -> Vec<(String, PathBuf)> {
    let crashes = kdive_testkit::require(what);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in &crashes {
        let Some(p) = c.variant("kdump-zlib") else {
            continue;
        };
        if seen.insert((c.kernel.clone(), c.scenario.clone())) {
            out.push((c.name(), p.to_path_buf()));
        }
    }
    assert!(
        crashes.is_empty() || !out.is_empty(),
        "{what}: no crash of the corpus has a vmcore.kdump-zlib ({:?})",
        crashes.iter().map(Crash::name).collect::<Vec<_>>()
    );
    out
}

/// The Python with drgn (see `kdive_testkit::drgn_python`).
fn drgn_python() -> Result<PathBuf, String> {
    kdive_testkit::drgn_python()
}

/// The Python with drgn, or `None` with a message when allowed to skip.
fn require_drgn(what: &str) -> Option<PathBuf> {
    match drgn_python() {
        Ok(p) => Some(p),
        Err(e) if env_is_1("KDIVE_ALLOW_NO_DRGN") => {
            eprintln!("{what}: skipping the checks with drgn (KDIVE_ALLOW_NO_DRGN=1): {e}");
            None
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

/// The vmlinux with debuginfo of `release` (see `kdive_testkit::vmlinux`).
fn require_vmlinux(_what: &str, release: &str) -> Option<PathBuf> {
    kdive_testkit::vmlinux(release)
}

fn makedumpfile() -> Option<PathBuf> {
    [
        "/usr/sbin/makedumpfile",
        "/usr/bin/makedumpfile",
        "/sbin/makedumpfile",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

fn script(name: &str) -> PathBuf {
    kdive_testkit::repo_root().join("tests/drgn").join(name)
}

/// A folder of converted files, deleted at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let tag: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let p = std::env::temp_dir().join(format!("kdive-convert-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if env_is_1("KDIVE_KEEP_CONVERTED") {
            eprintln!("kept the converted files in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ---------------------------------------------------------------------------
// Running the tools

fn run(cmd: &mut Command) -> Result<std::process::Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

fn kdive_convert(args: &[&str], src: &Path, out: &Path) -> Result<Duration, String> {
    let t = Instant::now();
    run(Command::new(KDIVE)
        .arg("convert")
        .args(args)
        .arg(src)
        .arg(out))?;
    Ok(t.elapsed())
}

fn kdive_info(path: &Path) -> Result<Value, String> {
    let out = run(Command::new(KDIVE).args([
        OsStr::new("--info"),
        OsStr::new("--json"),
        path.as_os_str(),
    ]))?;
    serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{}: --info --json: {e}", path.display()))
}

/// What drgn made of one dump with `pages.py`.
struct DrgnPages {
    path: String,
    open_error: Option<String>,
    release: String,
    /// `(pfn, Some(sha256) or None when drgn could not read it)`, in the
    /// order asked.
    pages: Vec<(u64, Option<String>)>,
}

/// Run `pages.py` over `files`, asking for `pfns`.
fn drgn_pages(python: &Path, files: &[&Path], pfns: &[u64]) -> Result<Vec<DrgnPages>, String> {
    let mut child = Command::new(python)
        .arg(script("pages.py"))
        .args(files)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    let mut input = String::with_capacity(pfns.len() * 8);
    for p in pfns {
        writeln!(input, "{p}").unwrap();
    }
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer
        .join()
        .expect("stdin writer")
        .map_err(|e| format!("pages.py stdin: {e}"))?;
    // 1: a dump did not open, which the caller checks; more is a failure.
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!(
            "pages.py: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut dumps: Vec<DrgnPages> = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("== ") {
            dumps.push(DrgnPages {
                path: path.to_string(),
                open_error: None,
                release: String::new(),
                pages: Vec::with_capacity(pfns.len()),
            });
            continue;
        }
        let d = dumps
            .last_mut()
            .ok_or_else(|| format!("pages.py: stray line {line:?}"))?;
        if let Some(e) = line.strip_prefix("OPEN-ERROR ") {
            d.open_error = Some(e.to_string());
        } else if let Some(r) = line.strip_prefix("RELEASE ") {
            d.release = r.to_string();
        } else {
            let (pfn, rest) = line
                .split_once(' ')
                .ok_or_else(|| format!("pages.py: bad line {line:?}"))?;
            let pfn: u64 = pfn
                .parse()
                .map_err(|_| format!("pages.py: bad line {line:?}"))?;
            let hash = (!rest.starts_with("ERROR")).then(|| rest.to_string());
            d.pages.push((pfn, hash));
        }
    }
    if dumps.len() != files.len() {
        return Err(format!(
            "pages.py: {} dumps answered of {}",
            dumps.len(),
            files.len()
        ));
    }
    Ok(dumps)
}

/// Run `kernel.py` over `files`: the lines each printed.
fn drgn_kernel(python: &Path, vmlinux: &Path, files: &[&Path]) -> Result<Vec<Vec<String>>, String> {
    let out = Command::new(python)
        .arg(script("kernel.py"))
        .arg(vmlinux)
        .args(files)
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!(
            "kernel.py: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut dumps: Vec<Vec<String>> = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if line.starts_with("== ") {
            dumps.push(Vec::new());
        } else if let Some(d) = dumps.last_mut() {
            d.push(line.to_string());
        }
    }
    if dumps.len() != files.len() {
        return Err(format!(
            "kernel.py: {} dumps answered of {}",
            dumps.len(),
            files.len()
        ));
    }
    Ok(dumps)
}

/// `makedumpfile --dump-dmesg`: the log, or why not.
fn dump_dmesg(makedumpfile: &Path, dump: &Path, out: &Path) -> Result<Vec<u8>, String> {
    let _ = std::fs::remove_file(out);
    run(Command::new(makedumpfile)
        .arg("--dump-dmesg")
        .arg(dump)
        .arg(out))?;
    std::fs::read(out).map_err(|e| format!("{}: {e}", out.display()))
}

fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

// ---------------------------------------------------------------------------
// The checks

/// Failures, reported together at the end (the first few of each kind in
/// full, then counted).
#[derive(Default)]
struct Failures {
    lines: Vec<String>,
    more: usize,
}

impl Failures {
    fn add(&mut self, msg: String) {
        if self.lines.len() < 40 {
            self.lines.push(msg);
        } else {
            self.more += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn render(&self) -> String {
        let mut s = self.lines.join("\n");
        if self.more > 0 {
            write!(s, "\n... and {} more", self.more).unwrap();
        }
        s
    }
}

/// What one source's check found (for the summary), and what failed.
#[derive(Default)]
struct Outcome {
    summary: Vec<String>,
    failures: Failures,
}

struct Converted {
    target: &'static Target,
    path: PathBuf,
    dump: Dump,
}

/// The state page frame `pfn` must have in an output.
fn expected_state(source: PageState, zero: bool, t: &Target) -> PageState {
    match source {
        PageState::Present if zero && t.exclude_zero => PageState::Excluded,
        s => s,
    }
}

/// `--info --json` of a dump, without what a conversion may change: the
/// container (checked on its own), the page count at `-d 1`, and for an
/// ELF source the memory ranges, which the kdump bitmap rounds to whole
/// pages, and the kernel version, which only the kdump header has (read
/// from the kernel's memory for it).
fn comparable_info(mut v: Value, zero_excluded: bool, from_elf: bool) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in [
            "file",
            "format",
            "compression",
            "header_version",
            "dump_level",
            "flattened",
        ] {
            o.remove(k);
        }
        if zero_excluded {
            o.remove("present_pages");
        }
        if from_elf {
            o.remove("memory");
            o.remove("version");
        }
    }
    v
}

/// Convert one source to each target and check the outputs every way
/// there is.
fn check_source(
    name: &str,
    src_path: &Path,
    targets: &'static [Target],
    python: Option<&Path>,
    walk_vmlinux: Option<&Path>,
) -> Outcome {
    let mut oc = Outcome::default();
    let src = match Dump::open(src_path) {
        Ok(d) => d,
        Err(e) => {
            oc.failures
                .add(format!("{name}: {}: {e}", src_path.display()));
            return oc;
        }
    };
    let mut c = Check {
        name,
        src_path,
        src,
        scratch: Scratch::new(name),
        outs: Vec::new(),
        oc,
    };
    c.convert(targets);
    c.headers();
    let hashes = c.pages();
    c.info();
    if let Some(python) = python {
        c.drgn_pages(python, &hashes);
        if let Some(vmlinux) = walk_vmlinux {
            c.kernel_walk(python, vmlinux);
        }
    }
    if let Some(mdf) = makedumpfile() {
        c.makedumpfile(&mdf);
    }
    c.oc
}

/// One source under check, and its outputs.
struct Check<'a> {
    name: &'a str,
    src_path: &'a Path,
    src: Dump,
    scratch: Scratch,
    outs: Vec<Converted>,
    oc: Outcome,
}

impl Check<'_> {
    fn fail(&mut self, label: &str, msg: String) {
        let sep = if label.is_empty() { "" } else { " " };
        self.oc
            .failures
            .add(format!("{}{sep}{label}: {msg}", self.name));
    }

    fn note(&mut self, label: &str, msg: String) {
        self.oc
            .summary
            .push(format!("{} {label:8}: {msg}", self.name));
    }

    /// Run `kdive convert` for each target; open what it wrote.
    fn convert(&mut self, targets: &'static [Target]) {
        for t in targets {
            let path = self.scratch.0.join(format!("vmcore.{}", t.name));
            match kdive_convert(t.args, self.src_path, &path) {
                Ok(took) => {
                    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                    let took = took.as_secs_f64();
                    self.note(t.name, format!("converted in {took:.2} s, {size} bytes"));
                }
                Err(e) => {
                    self.fail(t.name, format!("kdive convert: {e}"));
                    continue;
                }
            }
            match Dump::open(&path) {
                Ok(dump) => self.outs.push(Converted {
                    target: t,
                    path,
                    dump,
                }),
                Err(e) => self.fail(t.name, format!("kdive cannot open the output: {e}")),
            }
        }
    }

    /// What the headers say: the container, the compression, the level.
    fn headers(&mut self) {
        let src_level = self.src.dump_level().unwrap_or(0);
        let mut bad = Vec::new();
        for o in &self.outs {
            let (d, t) = (&o.dump, o.target);
            let compression: &[Compression] = match t.compression {
                Compression::None => &[],
                ref c => std::slice::from_ref(c),
            };
            let level = src_level | t.exclude_zero as i32;
            let checks = [
                ("format", d.format() == Format::Kdump),
                ("header version", d.header_version() == Some(6)),
                ("compression", d.compression() == compression),
                ("dump level", d.dump_level() == Some(level)),
                ("page size", d.page_size() == self.src.page_size()),
                ("max pfn", d.max_pfn() == self.src.max_pfn()),
                ("complete", !d.is_incomplete()),
                ("not flattened", !d.is_flattened()),
            ];
            for (what, ok) in checks {
                if !ok {
                    bad.push((
                        t.name,
                        format!(
                            "{what} wrong: {:?} {:?} {:?} level {:?} (expected {level}), \
                             page size {}, max pfn {:#x}",
                            d.format(),
                            d.header_version(),
                            d.compression(),
                            d.dump_level(),
                            d.page_size(),
                            d.max_pfn()
                        ),
                    ));
                }
            }
        }
        for (label, msg) in bad {
            self.fail(label, msg);
        }
    }

    /// Every present page of the source reads back byte for byte from each
    /// output, and every page frame to past the end has the state it
    /// should. Returns `(pfn, sha256)` of the source's present pages.
    fn pages(&mut self) -> Vec<(u64, String)> {
        let src = &self.src;
        let ps = src.page_size() as usize;
        let max_pfn = src.max_pfn();
        let (mut sp, mut op) = (vec![0u8; ps], vec![0u8; ps]);
        let mut src_present = vec![false; max_pfn as usize + 2];
        let mut hashes: Vec<(u64, String)> = Vec::new();
        let mut zero_pages = 0u64;
        let mut identical = vec![0u64; self.outs.len()];
        let mut bad: Vec<(&'static str, String)> = Vec::new();
        for pfn in src.present_pfns() {
            if let Err(e) = src.read_page(pfn, &mut sp) {
                bad.push(("source", format!("pfn {pfn:#x}: {e}")));
                continue;
            }
            if let Some(p) = src_present.get_mut(pfn as usize) {
                *p = true;
            }
            let zero = sp.iter().all(|&b| b == 0);
            zero_pages += zero as u64;
            hashes.push((pfn, sha256_hex(&sp)));
            for (i, o) in self.outs.iter().enumerate() {
                let label = o.target.name;
                let want = expected_state(PageState::Present, zero, o.target);
                let got = o.dump.page_state(pfn);
                if got != want {
                    bad.push((label, format!("pfn {pfn:#x} is {got:?}, expected {want:?}")));
                } else if want == PageState::Present {
                    match o.dump.read_page(pfn, &mut op) {
                        Ok(()) if op == sp => identical[i] += 1,
                        Ok(()) => {
                            let at = op.iter().zip(&sp).position(|(a, b)| a != b);
                            bad.push((
                                label,
                                format!("pfn {pfn:#x} differs from the source at byte {at:?}"),
                            ));
                        }
                        Err(e) => bad.push((label, format!("pfn {pfn:#x}: {e}"))),
                    }
                }
            }
        }
        // Every other page frame, to past the end: the source's state.
        for pfn in (0..max_pfn + 2).filter(|&p| !src_present[p as usize]) {
            let want = src.page_state(pfn);
            for o in &self.outs {
                let got = o.dump.page_state(pfn);
                if got != want {
                    bad.push((
                        o.target.name,
                        format!("pfn {pfn:#x} is {got:?}, expected {want:?}"),
                    ));
                }
            }
        }
        let n = hashes.len() as u64;
        let mut notes = Vec::new();
        for (o, same) in self.outs.iter().zip(identical) {
            let zero = if o.target.exclude_zero { zero_pages } else { 0 };
            if o.dump.present_pages() != n - zero {
                bad.push((
                    o.target.name,
                    format!(
                        "{} present pages, expected {}",
                        o.dump.present_pages(),
                        n - zero
                    ),
                ));
            }
            let excluded = if zero > 0 {
                format!(", {zero} zero pages excluded")
            } else {
                String::new()
            };
            notes.push((
                o.target.name,
                format!("kdive: {same} of {n} source pages identical{excluded}"),
            ));
        }
        for (label, msg) in bad {
            self.fail(label, msg);
        }
        for (label, msg) in notes {
            self.note(label, msg);
        }
        hashes
    }

    /// `kdive --info`: the same dump, whatever its compression.
    fn info(&mut self) {
        let src_info = match kdive_info(self.src_path) {
            Ok(v) => v,
            Err(e) => return self.fail("source", e),
        };
        let elf = self.src.format() == Format::Elf;
        let mut bad = Vec::new();
        for o in &self.outs {
            let zero = o.target.exclude_zero;
            match kdive_info(&o.path) {
                Err(e) => bad.push((o.target.name, e)),
                Ok(info) => {
                    let a = comparable_info(src_info.clone(), zero, elf);
                    let b = comparable_info(info, zero, elf);
                    if a != b {
                        bad.push((
                            o.target.name,
                            format!("--info differs from the source's:\n{}", info_diff(&a, &b)),
                        ));
                    }
                }
            }
        }
        for (label, msg) in bad {
            self.fail(label, msg);
        }
    }

    /// drgn, page by page: the source and every output.
    fn drgn_pages(&mut self, python: &Path, hashes: &[(u64, String)]) {
        let pfns = probe_pfns(hashes, self.src.max_pfn());
        let mut files: Vec<&Path> = vec![self.src_path];
        files.extend(self.outs.iter().map(|o| o.path.as_path()));
        let t = Instant::now();
        let views = match drgn_pages(python, &files, &pfns) {
            Ok(v) => v,
            Err(e) => return self.fail("", e),
        };
        let took = t.elapsed().as_secs_f64();
        let src_hash: HashMap<u64, &str> = hashes.iter().map(|(p, h)| (*p, h.as_str())).collect();
        let release = self.src.release().unwrap_or_default();
        let zero_sha = sha256_hex(&vec![0u8; self.src.page_size() as usize]);
        let dumps: Vec<(&str, &Dump)> = std::iter::once(("source", &self.src))
            .chain(self.outs.iter().map(|o| (o.target.name, &o.dump)))
            .collect();
        let (mut bad, mut notes) = (Vec::new(), Vec::new());
        for ((label, dump), view) in dumps.into_iter().zip(&views) {
            if let Some(e) = &view.open_error {
                bad.push((label, format!("drgn cannot open {}: {e}", view.path)));
                continue;
            }
            if view.release != release {
                bad.push((
                    label,
                    format!("drgn finds release {:?}, kdive {release:?}", view.release),
                ));
            }
            if view.pages.len() != pfns.len() {
                bad.push((
                    label,
                    format!(
                        "drgn answered {} page frames of {}",
                        view.pages.len(),
                        pfns.len()
                    ),
                ));
                continue;
            }
            let (mut same, mut absent, mut zero_filled) = (0u64, 0u64, 0u64);
            for (&pfn, (got_pfn, got)) in pfns.iter().zip(&view.pages) {
                if pfn != *got_pfn {
                    bad.push((label, format!("drgn answered pfn {got_pfn} for {pfn}")));
                    break;
                }
                let state = dump.page_state(pfn);
                let want = (state == PageState::Present)
                    .then(|| src_hash.get(&pfn).copied().unwrap_or("(not in the source)"));
                match (want, got.as_deref()) {
                    (Some(w), Some(g)) if w == g => same += 1,
                    (None, None) => absent += 1,
                    // libkdumpfile reads the part of an ELF segment past its
                    // p_filesz as zeros, as ELF has it; kdive calls it
                    // excluded (makedumpfile -E leaves pages out that way).
                    (None, Some(g))
                        if dump.format() == Format::Elf
                            && state == PageState::Excluded
                            && g == zero_sha =>
                    {
                        zero_filled += 1
                    }
                    (Some(w), Some(g)) => bad.push((
                        label,
                        format!("pfn {pfn:#x}: drgn reads sha256 {g}, kdive {w}"),
                    )),
                    (Some(_), None) => bad.push((
                        label,
                        format!("pfn {pfn:#x}: in the dump for kdive, drgn cannot read it"),
                    )),
                    (None, Some(_)) => bad.push((
                        label,
                        format!("pfn {pfn:#x}: drgn reads it, kdive says {state:?}"),
                    )),
                }
            }
            let filled = if zero_filled > 0 {
                format!(", {zero_filled} excluded by kdive and zero-filled by drgn")
            } else {
                String::new()
            };
            notes.push((
                label,
                format!(
                    "drgn: {same} pages with kdive's sha256, {absent} probed frames absent \
                     in both{filled}"
                ),
            ));
        }
        notes.push(("drgn", format!("read {} files in {took:.2} s", views.len())));
        for (label, msg) in bad {
            self.fail(label, msg);
        }
        for (label, msg) in notes {
            self.note(label, msg);
        }
    }

    /// drgn with the debuginfo: the kernel as a whole, in the source and
    /// the outputs to walk.
    fn kernel_walk(&mut self, python: &Path, vmlinux: &Path) {
        let walked: Vec<&Converted> = self.outs.iter().filter(|o| o.target.walk).collect();
        if walked.is_empty() {
            return;
        }
        let mut files: Vec<&Path> = vec![self.src_path];
        files.extend(walked.iter().map(|o| o.path.as_path()));
        let views = match drgn_kernel(python, vmlinux, &files) {
            Ok(v) => v,
            Err(e) => return self.fail("", e),
        };
        let names: Vec<&'static str> = walked.iter().map(|o| o.target.name).collect();
        let want = &views[0];
        if want.iter().any(|l| l.starts_with("ERROR")) || want.len() < 5 {
            self.fail("source", format!("drgn cannot walk the kernel: {want:?}"));
        }
        for (label, got) in names.iter().zip(&views[1..]) {
            if got != want {
                self.fail(
                    label,
                    format!(
                        "drgn's kernel walk differs from the source's:\n  source: {want:?}\n  \
                         output: {got:?}"
                    ),
                );
            }
        }
        let tasks = want.iter().find(|l| l.starts_with("tasks")).cloned();
        self.note(
            "drgn",
            format!(
                "walked the kernel alike in the source and {} ({})",
                names.join(", "),
                tasks.unwrap_or_default()
            ),
        );
    }

    /// makedumpfile: the same log from the outputs it can read (Debian's
    /// is built without snappy and zstd).
    fn makedumpfile(&mut self, mdf: &Path) {
        let readable: Vec<(&'static str, PathBuf)> = self
            .outs
            .iter()
            .filter(|o| matches!(o.target.compression, Compression::None | Compression::Zlib))
            .map(|o| (o.target.name, o.path.clone()))
            .collect();
        if readable.is_empty() {
            return;
        }
        let want = match dump_dmesg(mdf, self.src_path, &self.scratch.0.join("dmesg.source")) {
            Ok(w) => w,
            Err(e) => {
                return self.note("source", format!("makedumpfile cannot read it: {e}"));
            }
        };
        for (label, path) in readable {
            let out = self.scratch.0.join(format!("dmesg.{label}"));
            match dump_dmesg(mdf, &path, &out) {
                Err(e) => self.fail(label, e),
                Ok(got) if got != want => self.fail(
                    label,
                    "makedumpfile --dump-dmesg differs from the source's".into(),
                ),
                Ok(got) => {
                    let lines = got.iter().filter(|&&b| b == b'\n').count();
                    self.note(
                        label,
                        format!("makedumpfile --dump-dmesg: same log ({lines} lines)"),
                    );
                }
            }
        }
    }
}

/// The keys whose values differ, for a message.
fn info_diff(a: &Value, b: &Value) -> String {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return format!("  {a}\n  {b}");
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut s = String::new();
    for k in keys {
        if a.get(k) != b.get(k) {
            let show = |v: Option<&Value>| {
                let t = v.map_or("(none)".to_string(), |v| v.to_string());
                if t.len() > 300 {
                    format!("{}...", &t[..300])
                } else {
                    t
                }
            };
            writeln!(
                s,
                "  {k}: source {} / output {}",
                show(a.get(k)),
                show(b.get(k))
            )
            .unwrap();
        }
    }
    s
}

/// Page frames to ask drgn about: every present page of the source, the
/// frames on both sides of each run of them, a stride over all memory, and
/// the last frames to past the end.
fn probe_pfns(hashes: &[(u64, String)], max_pfn: u64) -> Vec<u64> {
    let mut set: BTreeSet<u64> = hashes.iter().map(|(p, _)| *p).collect();
    let present = set.clone();
    for &p in &present {
        if p > 0 && !present.contains(&(p - 1)) {
            set.insert(p - 1);
        }
        if !present.contains(&(p + 1)) {
            set.insert(p + 1);
        }
    }
    set.extend((0..max_pfn).step_by(PROBE_STRIDE as usize));
    set.extend([max_pfn.saturating_sub(1), max_pfn, max_pfn + 1]);
    set.into_iter().collect()
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn converted_dumps_read_identically_in_kdive_and_drgn() {
    const WHAT: &str = "converted_dumps_read_identically_in_kdive_and_drgn";
    let sources = sources(WHAT);
    if sources.is_empty() {
        return;
    }
    let python = require_drgn(WHAT);
    // One kernel for the walk: the first source's.
    let release = Dump::open(&sources[0].1)
        .ok()
        .and_then(|d| d.release())
        .unwrap_or_default();
    let vmlinux = python
        .as_ref()
        .and_then(|_| require_vmlinux(WHAT, &release));
    let t = Instant::now();
    // Every source at once: most of the work is in processes of its own
    // (the conversions, drgn, makedumpfile), and a source waits on them.
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = sources
            .iter()
            .map(|(name, path)| {
                let (py, vml) = (python.as_deref(), vmlinux.as_deref());
                let same_kernel =
                    Dump::open(path).ok().and_then(|d| d.release()) == Some(release.clone());
                s.spawn(move || check_source(name, path, &TARGETS, py, vml.filter(|_| same_kernel)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("check thread"))
            .collect()
    });
    report(&outcomes, t);
}

/// Print the summaries; fail with every failure.
fn report(outcomes: &[Outcome], t: Instant) {
    let mut failed = String::new();
    for oc in outcomes {
        for line in &oc.summary {
            eprintln!("{line}");
        }
        if !oc.failures.is_empty() {
            failed.push_str(&oc.failures.render());
            failed.push('\n');
        }
    }
    eprintln!(
        "{} dumps checked in {:.1} s",
        outcomes.len(),
        t.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "kdive convert:\n{failed}");
}

/// The other formats kdive reads convert as well: an ELF vmcore
/// (`makedumpfile -E`) to zlib, a flattened file to zstd, an LZO one to
/// snappy.
#[test]
fn other_source_formats_convert_too() {
    const WHAT: &str = "other_source_formats_convert_too";
    let crashes = kdive_testkit::require(WHAT);
    if crashes.is_empty() {
        return;
    }
    let Some(crash) = crashes
        .iter()
        .find(|c| OTHER_VARIANTS.iter().all(|(v, _)| c.variant(v).is_some()))
    else {
        let msg = format!(
            "{WHAT}: no crash has all of {:?}; build one with scripts/mkcorpus.sh \
             (the shared corpus keeps only kdump-zlib)",
            OTHER_VARIANTS.map(|(v, _)| v)
        );
        if env_is_1("KDIVE_ALLOW_NO_VARIANTS") {
            eprintln!("{msg}");
            return;
        }
        panic!("{msg}");
    };
    let python = require_drgn(WHAT);
    let t = Instant::now();
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = OTHER_VARIANTS
            .iter()
            .map(|(v, targets)| {
                let name = format!("{} {v}", crash.name());
                let path = crash.variant(v).expect("checked").to_path_buf();
                let py = python.as_deref();
                s.spawn(move || check_source(&name, &path, targets, py, None))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("check thread"))
            .collect()
    });
    report(&outcomes, t);
}

/// A refused conversion writes nothing and leaves an existing OUT alone,
/// and OUT may not be the input (`-f` on the input itself once truncated
/// the dump it was reading).
#[test]
fn convert_never_clobbers() {
    const WHAT: &str = "convert_never_clobbers";
    let Some((_, src)) = sources(WHAT).into_iter().next() else {
        return;
    };
    let scratch = Scratch::new("clobber");
    let out = scratch.0.join("vmcore.out");
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(&scratch.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };

    // LZO cannot be written: refused before any file is made.
    let r = kdive_convert(&["-c", "lzo"], &src, &out);
    assert!(r.as_ref().is_err_and(|e| e.contains("LZO")), "{r:?}");
    assert!(listing().is_empty(), "{:?}", listing());

    // An existing OUT: refused without -f, kept intact when -f fails.
    std::fs::write(&out, b"keep me").unwrap();
    let r = kdive_convert(&["-c", "zstd"], &src, &out);
    assert!(r.as_ref().is_err_and(|e| e.contains("exists")), "{r:?}");
    for args in [
        &["-f", "-c", "lzo"][..],
        &["-f", "-d", "64"],
        &["-f", "-c", "zstd"],
    ] {
        // The last one fails on its input: not a dump.
        let input = if args.contains(&"zstd") {
            out.clone()
        } else {
            src.clone()
        };
        let r = kdive_convert(args, &input, &out);
        assert!(r.is_err(), "{args:?}: {r:?}");
        assert_eq!(std::fs::read(&out).unwrap(), b"keep me", "{args:?}");
        assert_eq!(listing(), ["vmcore.out"], "{args:?}");
    }
    std::fs::remove_file(&out).unwrap();

    // The input itself, by its name, a symbolic link or a hard link:
    // refused, and the input stays whole.
    let copy = scratch.0.join("vmcore.copy");
    kdive_convert(&["-c", "snappy"], &src, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let symlink = scratch.0.join("vmcore.symlink");
    let hardlink = scratch.0.join("vmcore.hardlink");
    std::os::unix::fs::symlink(&copy, &symlink).unwrap();
    std::fs::hard_link(&copy, &hardlink).unwrap();
    for target in [&copy, &symlink, &hardlink] {
        let r = kdive_convert(&["-f", "-c", "zstd"], &copy, target);
        assert!(r.is_err(), "{}: {r:?}", target.display());
        assert!(
            std::fs::read(&copy).unwrap() == before,
            "{} changed",
            copy.display()
        );
    }
    assert_eq!(
        listing(),
        ["vmcore.copy", "vmcore.hardlink", "vmcore.symlink"]
    );
    let d = Dump::open(&copy).unwrap();
    assert_eq!(d.compression(), [Compression::Snappy]);

    // Not a regular file: refused, even with -f.
    let r = kdive_convert(&["-f", "-c", "zstd"], &src, &scratch.0);
    assert!(
        r.as_ref().is_err_and(|e| e.contains("not a regular file")),
        "{r:?}"
    );
}
