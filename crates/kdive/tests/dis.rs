//! `dis` beside crash and gdb.
//!
//! - On the corpus dumps, every `dis` command of crash.txt prints what
//!   crash printed, byte for byte (with the vmlinux), and the same less the
//!   source lines without it. As crash.txt's session did, the module's
//!   debuginfo is loaded first (`mod -s`): its code has source lines too.
//! - On the vmlinux alone (no dump), a seeded sample of functions
//!   disassembles as `gdb -batch -ex 'disassemble START,+SIZE' VMLINUX`
//!   does, instruction for instruction. `KDIVE_DIS_SAMPLE=N` sets the
//!   sample's size (default 300), `KDIVE_DIS_SEED` its seed.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use kdive_testkit::{require, sections, vmlinux};

/// Run `script` (one command a line) in a kdive session on `args`.
fn kdive(args: &[&str], script: &str) -> (String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kdive");
    // Written from another thread: a long script's output fills the pipe
    // before the script is all written.
    let mut stdin = child.stdin.take().unwrap();
    let script = script.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "kdive panicked: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// Run `cmds`, each output after crash's marker, and split them.
fn run_marked(args: &[&str], cmds: &[String]) -> BTreeMap<String, String> {
    let script: String = cmds
        .iter()
        .map(|c| format!("!echo '@@@ crash> {c}'\n{c}\n"))
        .collect();
    sections(&kdive(args, &script).0)
}

/// The source-line headers of `dis -l` output (lines not starting `0x`).
fn without_lines(s: &str) -> String {
    s.lines()
        .filter(|l| l.starts_with("0x"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn dis_prints_what_crash_prints() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for crash in require("dis_prints_what_crash_prints") {
        let (Some(dump), Some(txt)) = (crash.variant("kdump-zlib"), crash.file("crash.txt")) else {
            continue;
        };
        let want = sections(&std::fs::read_to_string(txt).unwrap());
        let cmds: Vec<String> = want
            .keys()
            .filter(|c| c.starts_with("dis "))
            .cloned()
            .collect();
        let mut session: Vec<String> = crash
            .file("crashme.ko")
            .map(|ko| format!("mod -s crashme {}", ko.display()))
            .into_iter()
            .collect();
        session.extend(cmds.iter().cloned());
        let dump = dump.to_str().unwrap();
        let open = crash.open_args(dump);
        let with_vmlinux: Vec<&str> = open.iter().map(String::as_str).collect();
        for (args, with_lines) in [(with_vmlinux, true), (vec!["--no-vmlinux", dump], false)] {
            let got = run_marked(&args, &session);
            for c in &cmds {
                let mut expected = want[c].clone();
                let mut actual = got.get(c).cloned().unwrap_or_default();
                if !with_lines {
                    expected = without_lines(&expected);
                    actual = without_lines(&actual);
                }
                if actual != expected {
                    failures.push(format!(
                        "{} {args:?} `{c}`:\n--- crash\n{expected}--- kdive\n{actual}",
                        crash.name()
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("checked {checked} dis commands");
}

/// Without a dump, only the static commands run; the others say why.
#[test]
fn vmlinux_alone_refuses_what_needs_a_dump() {
    let Some(v) = vmlinux("6.1.0-47-cloud-amd64") else {
        return;
    };
    let v = v.to_str().unwrap();
    let (out, err) = kdive(
        &[v],
        "dis schedule 2\nsym schedule\nvtop init_task\nmod\nwhatis schedule\n",
    );
    assert!(out.contains("<schedule>:\tcall   0x"), "{out}");
    assert!(out.contains("(T) schedule "), "{out}");
    assert!(out.contains("void schedule(void);"), "{out}");
    assert!(err.contains("vtop: needs a dump"), "{err}");
    assert!(err.contains("mod: needs a dump"), "{err}");
}

/// A seeded pseudo-random sequence (xorshift), for a reproducible sample.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Functions of the vmlinux: `(address, size)`, one symbol at the address.
/// Not the objects of 7.3's executable `.data` (`_sdata` to `_edata`),
/// which `nm` letters `t` and `T` too.
fn functions(vmlinux: &Path) -> Vec<(u64, u64)> {
    let elf = kdive_debuginfo::ElfFile::open(vmlinux).unwrap();
    let syms = elf.symbols().unwrap();
    let data = match (syms.by_name("_sdata"), syms.by_name("_edata")) {
        (Some(a), Some(b)) => a.addr..b.addr,
        _ => 0..0,
    };
    let mut per_addr: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for s in syms.iter() {
        let code = s.is_text() && !data.contains(&s.addr);
        per_addr
            .entry(s.addr)
            .or_default()
            .push(if code { s.size } else { 0 });
    }
    (per_addr.into_iter())
        .filter(|(a, sizes)| *a >= 0xffff_ffff_8000_0000 && sizes.len() == 1 && sizes[0] > 0)
        .map(|(a, sizes)| (a, sizes[0]))
        .collect()
}

/// `addr -> text` of the instruction lines of gdb's or kdive's output.
fn instructions(out: &str) -> BTreeMap<u64, String> {
    let mut m = BTreeMap::new();
    for l in out.lines() {
        let l = l.trim_start().trim_start_matches("=> ");
        let Some((head, text)) = l.split_once(":\t") else {
            continue;
        };
        let addr = head.split_whitespace().next().unwrap_or("");
        if let Ok(a) = u64::from_str_radix(addr.trim_start_matches("0x"), 16) {
            m.insert(a, text.trim_end().to_string());
        }
    }
    m
}

/// The text with the `<...>` names taken out, and the names.
fn split_names(text: &str) -> (String, Vec<String>) {
    let mut plain = String::new();
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(" <") {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        plain.push_str(&rest[..open]);
        names.push(rest[open + 2..open + close].to_string());
        rest = &rest[open + close + 1..];
    }
    plain.push_str(rest);
    (plain, names)
}

/// Every address a name may stand for: a symbol's own name, its name
/// without clone suffixes (crash's), and the function before the first
/// `.` (gdb's, from the DWARF function a clone or `.cold` part came from).
fn places(syms: &kdive_debuginfo::SymbolTable) -> HashMap<String, Vec<u64>> {
    let mut m: HashMap<String, Vec<u64>> = HashMap::new();
    for s in syms.iter() {
        let first = s.name.split('.').next().unwrap_or("");
        for n in [s.name.as_str(), s.base_name(), first] {
            m.entry(n.to_string()).or_default().push(s.addr);
        }
    }
    m
}

/// Whether `name` (`sym`, `sym+off` or `sym-off`) can name `target`. gdb
/// names a `.cold` part placed before its function (7.3's layout) by the
/// function, less an offset.
fn names(name: &str, target: u64, places: &HashMap<String, Vec<u64>>) -> bool {
    let (sym, off) = match (name.rsplit_once('+'), name.rsplit_once('-')) {
        (Some((sym, off)), _) => (sym, off.parse::<u64>().unwrap_or(u64::MAX)),
        (None, Some((sym, off))) if off.bytes().all(|c| c.is_ascii_digit()) => (
            sym,
            off.parse::<u64>().map_or(u64::MAX, |o| o.wrapping_neg()),
        ),
        _ => (name, 0),
    };
    let hits = |addrs: &Vec<u64>| addrs.iter().any(|a| a.wrapping_add(off) == target);
    places.get(sym).is_some_and(hits)
}

/// The addresses named in `text`: the number before each ` <`.
fn named_addresses(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(" <") {
        let word = rest[..open].rsplit([' ', '\t', ',']).next().unwrap_or("");
        out.push(u64::from_str_radix(word.trim_start_matches("0x"), 16).unwrap_or(0));
        rest = &rest[open + 2..];
    }
    out
}

/// gdb 13 writes a few things otherwise than gdb 10, whose dialect kdive
/// follows (crash's): kdive's text as gdb 13 would have it.
fn as_gdb13(text: &str) -> String {
    let t = text.trim_end();
    if t == "sysret" {
        return "sysretl".into();
    }
    for seg in ["cs", "ds", "es", "ss"] {
        let shown = format!("%{seg}:");
        if t.starts_with("data16 ") && t.contains(&shown) {
            let words = t.trim_start_matches("data16 ");
            return format!("data16 {seg} {}", words.replacen(&shown, "", 1));
        }
    }
    t.to_string()
}

/// Why gdb names a place otherwise than crash (and kdive), for the report.
fn name_class(gdb: &str, kdive: &str) -> &'static str {
    let base = |n: &str| n.split(['.', '+']).next().unwrap_or("").to_string();
    if kdive.contains(".cold") {
        "a .cold part, named by gdb from its function's start"
    } else if kdive.contains('.') && base(gdb) == base(kdive) {
        "a clone (.part/.isra/.constprop), named by gdb as the function it came from"
    } else {
        "another symbol at the same place (gdb prefers a sized one to a label)"
    }
}

#[test]
fn dis_matches_gdb_on_vmlinux() {
    if Command::new("gdb").arg("--version").output().is_err() {
        assert!(
            kdive_testkit::allowed("KDIVE_ALLOW_NO_GDB"),
            "gdb is not installed (apt-get install gdb), or set KDIVE_ALLOW_NO_GDB=1 to skip"
        );
        eprintln!("skipping: no gdb (KDIVE_ALLOW_NO_GDB=1)");
        return;
    }
    // Every kernel of the corpus, each with its vmlinux.
    let mut releases: Vec<String> = require("dis_matches_gdb_on_vmlinux")
        .iter()
        .map(|c| c.kernel.trim_start_matches("linux-").to_string())
        .collect();
    releases.sort();
    releases.dedup();
    for release in releases {
        if let Some(v) = vmlinux(&release) {
            compare_with_gdb(&v);
        }
    }
}

/// A sample of the functions of `v` disassembled by kdive and by gdb.
fn compare_with_gdb(v: &Path) {
    let v = v.to_path_buf();
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (n, seed) = (env("KDIVE_DIS_SAMPLE", 300), env("KDIVE_DIS_SEED", 0x5eed));
    let all = functions(&v);
    let mut rng = Rng(seed | 1);
    // KDIVE_DIS_SAMPLE=all: every function.
    let mut pick: Vec<(u64, u64)> = match std::env::var("KDIVE_DIS_SAMPLE").as_deref() {
        Ok("all") => all.clone(),
        _ => (0..n.min(all.len() as u64))
            .map(|_| all[(rng.next() % all.len() as u64) as usize])
            .collect(),
    };
    pick.sort();
    pick.dedup();
    let dir = std::env::temp_dir().join(format!("kdive-dis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gdb_cmds = dir.join("gdb.cmd");
    let gdb_script: String = pick
        .iter()
        .map(|(a, s)| format!("disassemble {a:#x},+{s}\n"))
        .collect();
    std::fs::write(&gdb_cmds, gdb_script).unwrap();
    let gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-x"])
        .arg(&gdb_cmds)
        .arg(&v)
        .output()
        .expect("run gdb");
    let _ = std::fs::remove_dir_all(&dir);
    let script: String = pick.iter().map(|(a, _)| format!("dis {a:#x}\n")).collect();
    let (out, err) = kdive(&[v.to_str().unwrap()], &script);
    let want = instructions(&String::from_utf8_lossy(&gdb.stdout));
    let got = instructions(&out);
    assert!(
        want.len() > pick.len(),
        "gdb printed too little: {}",
        String::from_utf8_lossy(&gdb.stderr)
    );
    let syms = kdive_debuginfo::ElfFile::open(&v)
        .unwrap()
        .symbols()
        .unwrap();
    let places = places(&syms);
    let (mut exact, mut renamed, mut dialect) = (0usize, 0usize, 0usize);
    let mut wrong = Vec::new();
    let mut classes = BTreeMap::new();
    for (addr, g) in &want {
        let Some(k) = got.get(addr) else {
            wrong.push(format!("{addr:#x}: gdb `{g}`, kdive nothing"));
            continue;
        };
        if g == k {
            exact += 1;
            continue;
        }
        if *g == as_gdb13(k) {
            dialect += 1;
            continue;
        }
        let ((gp, gn), (kp, kn)) = (split_names(g), split_names(&as_gdb13(k)));
        let targets = named_addresses(g);
        let same = gn.len() == kn.len()
            && targets.len() == gn.len()
            && (gn.iter().zip(&kn).zip(&targets))
                .all(|((a, b), t)| names(a, *t, &places) && names(b, *t, &places));
        if gp == kp && same {
            renamed += 1;
            for (a, b) in gn.iter().zip(&kn).filter(|(a, b)| a != b) {
                *classes.entry(name_class(a, b)).or_insert(0usize) += 1;
            }
        } else {
            wrong.push(format!("{addr:#x}: gdb `{g}`, kdive `{k}`"));
        }
    }
    let extra = got.keys().filter(|a| !want.contains_key(a)).count();
    eprintln!(
        "{}: {} functions, {} instructions: {exact} identical, {dialect} in gdb 10's words (crash's), \
         {renamed} naming a place by another symbol (clones, labels), {} different, {extra} \
         not in gdb's output",
        v.display(),
        pick.len(),
        want.len(),
        wrong.len()
    );
    eprintln!("names gdb gives otherwise: {classes:?}");
    assert!(
        wrong.is_empty() && extra == 0,
        "{} differences:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(err.trim().is_empty(), "kdive: {err}");
}

/// crash's ways of choosing what to show, checked against the whole
/// function: one instruction at an offset, `-r` up to it (the last COUNT
/// with a count), `-f` from it, COUNT from the start, `-x` offsets.
#[test]
fn ranges_follow_crash() {
    let Some(v) = vmlinux("6.1.0-47-cloud-amd64") else {
        return;
    };
    let v = v.to_str().unwrap();
    let (whole, _) = kdive(&[v], "dis schedule\n");
    let full: Vec<&str> = whole.lines().collect();
    assert!(full.len() > 10, "{whole}");
    let off = |line: &str| -> u64 {
        let name = line.split_once(" <").unwrap().1.split_once('>').unwrap().0;
        name.split_once('+').map_or(0, |(_, o)| o.parse().unwrap())
    };
    let fifth = off(full[4]);
    let cmds = [
        format!("dis schedule+{fifth}"),
        format!("dis -r schedule+{fifth}"),
        format!("dis -r schedule+{fifth} 2"),
        format!("dis -f schedule+{fifth}"),
        "dis schedule 3".to_string(),
        format!("dis -r schedule+{}", fifth + 1),
        "dis -x schedule 3".to_string(),
    ];
    let got = run_marked(&[v], &cmds);
    let join = |l: &[&str]| l.iter().map(|x| format!("{x}\n")).collect::<String>();
    assert_eq!(got[&cmds[0]], join(&full[4..5]));
    assert_eq!(got[&cmds[1]], join(&full[..5]));
    assert_eq!(got[&cmds[2]], join(&full[3..5]));
    assert_eq!(got[&cmds[3]], join(&full[4..]));
    assert_eq!(got[&cmds[4]], join(&full[..3]));
    // A target inside an instruction: through the next one, as crash.
    assert_eq!(got[&cmds[5]], join(&full[..6]));
    let hex: Vec<String> = (full[..3].iter())
        .map(|l| match off(l) {
            0 => l.to_string(),
            o => l.replacen(&format!("<schedule+{o}>"), &format!("<schedule+{o:#x}>"), 1),
        })
        .collect();
    assert_eq!(
        got[&cmds[6]],
        hex.iter().map(|x| format!("{x}\n")).collect::<String>()
    );
}

/// Run `program args` with `input`, killed after `limit`.
fn run_with_limit(
    program: &str,
    args: &[&str],
    input: String,
    limit: std::time::Duration,
) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{program} ran over {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    reader.join().unwrap()
}

/// crash itself, when installed, on a corpus dump: `dis -l` of a seeded
/// sample of functions (`KDIVE_DIS_CRASH_SAMPLE`, default 60) prints what
/// crash prints, line for line. The one difference allowed is where crash
/// names a variable by a lockdep key (`__key.0`) that shares its address:
/// kdive names the variable.
#[test]
fn dis_matches_crash_on_dump() {
    let Some(v) = vmlinux("6.1.0-47-cloud-amd64") else {
        return;
    };
    if Command::new("crash").arg("--version").output().is_err() {
        eprintln!("skipping: crash is not installed");
        return;
    }
    let Some(crash) = require("dis_matches_crash_on_dump")
        .into_iter()
        .find(|c| c.kernel.ends_with("6.1.0-47-cloud-amd64") && c.variant("kdump-zlib").is_some())
    else {
        return;
    };
    let dump = crash
        .variant("kdump-zlib")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let v = v.to_str().unwrap();
    // The dump's KASLR offset, from where kdive finds `schedule`.
    let elf = kdive_debuginfo::ElfFile::open(Path::new(v))
        .unwrap()
        .symbols()
        .unwrap();
    let (out, _) = kdive(&[v, &dump], "sym schedule\n");
    let at = u64::from_str_radix(out.split_whitespace().next().unwrap(), 16).unwrap();
    let offset = at.wrapping_sub(elf.by_name("schedule").unwrap().addr);
    // Functions of the core text: init text is freed, its pages left out.
    let (text, etext) = (
        elf.by_name("_stext").unwrap().addr,
        elf.by_name("_etext").unwrap().addr,
    );
    let all: Vec<(u64, u64)> = functions(Path::new(v))
        .into_iter()
        .filter(|(a, _)| (text..etext).contains(a))
        .collect();
    let n = std::env::var("KDIVE_DIS_CRASH_SAMPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mut rng = Rng(0x0063_7261_7368);
    let mut pick: Vec<u64> = (0..n)
        .map(|_| all[(rng.next() % all.len() as u64) as usize].0)
        .collect();
    pick.sort();
    pick.dedup();
    let script: String = pick
        .iter()
        .map(|a| format!("dis -l {:#x}\n", a.wrapping_add(offset)))
        .collect();
    let theirs = run_with_limit(
        "crash",
        &["-s", v, &dump],
        format!("{script}q\n"),
        std::time::Duration::from_secs(900),
    );
    let (ours, err) = kdive(&[v, &dump], &script);
    assert!(err.trim().is_empty(), "kdive: {err}");
    // crash's start-up warnings, before the first command's output.
    let first = ours.lines().next().unwrap_or("");
    let theirs: Vec<&str> = theirs.lines().skip_while(|l| *l != first).collect();
    let ours: Vec<&str> = ours.lines().collect();
    assert_eq!(theirs.len(), ours.len(), "line counts differ");
    let mut keys = 0;
    for (t, o) in theirs.iter().zip(&ours) {
        if t == o {
            continue;
        }
        let (tp, tn) = split_names(t);
        let (op, on) = split_names(o);
        let key = |(a, b): (&String, &String)| a == b || a.starts_with("__key.");
        assert!(
            tp == op && tn.len() == on.len() && tn.iter().zip(&on).all(key),
            "crash: {t}\nkdive: {o}"
        );
        keys += 1;
    }
    eprintln!(
        "{} functions, {} lines as crash prints them ({keys} naming a variable crash names by a lockdep key)",
        pick.len(),
        ours.len()
    );
}

/// `dis -u`: user code of the current task, read through its page tables.
/// On a QEMU dump (all of memory) the code at init's user-mode RIP decodes
/// and is listed from there, in gdb's unfiltered layout; in a kdump dump
/// that left user pages out, crash's `page excluded` message.
#[test]
fn dis_u_reads_user_code() {
    let mut checked = 0;
    for crash in require("dis -u") {
        let release = crash.kernel.trim_start_matches("linux-");
        let Some(vmlinux) = vmlinux(release) else {
            continue;
        };
        let vmlinux = vmlinux.to_str().unwrap().to_string();
        for (variant, whole) in [("qemu-elf", true), ("kdump-zlib", false)] {
            let Some(dump) = crash.variant(variant) else {
                continue;
            };
            let dump = dump.to_str().unwrap();
            let (bt, _) = kdive(&[&vmlinux, dump], "bt 1\n");
            let Some(rip) = bt.lines().find_map(|l| l.trim().strip_prefix("RIP: 0000")) else {
                continue;
            };
            let rip = rip.split_whitespace().next().unwrap();
            let (out, err) = kdive(&[&vmlinux, dump], &format!("set 1\ndis -u {rip} 4\n"));
            let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("   0x")).collect();
            if whole {
                assert_eq!(lines.len(), 4, "{}: {out}{err}", crash.name());
                let first = format!("   0x{}:\t", rip.trim_start_matches('0'));
                assert!(
                    lines[0].starts_with(&first),
                    "{}: {}",
                    crash.name(),
                    lines[0]
                );
            } else {
                assert!(
                    err.contains("page excluded: user virtual address:")
                        || err.contains("invalid user virtual address"),
                    "{}: {err}",
                    crash.name()
                );
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked}");
}
