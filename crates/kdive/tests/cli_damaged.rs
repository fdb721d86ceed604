//! `kdive --info` and `kdive --verify` on damaged dumps: a nonzero exit, a
//! message on stderr naming the file (and the offset or address), never a
//! panic and never a hang. The dumps are the synthetic one of
//! `kdive-dump/tests/common`, damaged, written to a temporary directory.

#[path = "../../kdive-dump/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use kdive_dump::Compression;

/// A directory of its own under the system's temporary directory, removed
/// when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("kdive-cli-damaged-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write temp file");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run kdive with `args`; a run longer than a minute is a hang.
fn kdive(args: &[&str], file: &Path) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .args(args)
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kdive");
    // Read the pipes on threads so that a chatty child cannot block.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).map(|_| s)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for kdive") {
            break st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "kdive {args:?} {} hangs (killed after 60 s)",
                file.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap().unwrap_or_default(),
        stderr: err.join().unwrap().unwrap_or_default(),
    }
}

/// `kdive ARGS FILE` fails cleanly: exit 1, stderr names the file and each
/// of `says`, no panic.
#[track_caller]
fn fails(args: &[&str], file: &Path, says: &[&str]) -> Run {
    let r = kdive(args, file);
    let what = format!(
        "kdive {args:?} {}: exit {:?}, stderr:\n{}",
        file.display(),
        r.code,
        r.stderr
    );
    assert_eq!(r.code, Some(1), "{what}");
    assert!(!r.stderr.contains("panicked"), "{what}");
    assert!(
        r.stderr.contains(&file.display().to_string()),
        "stderr does not name the file: {what}"
    );
    for s in says {
        assert!(r.stderr.contains(s), "stderr does not say {s:?}: {what}");
    }
    r
}

#[test]
fn valid_synthetic_dumps_pass() {
    let dir = TempDir::new("valid");
    let s = Synth::standard();
    let mut files = vec![("elf", s.elf()), ("flat-elf", flatten(&s.elf(), 3000))];
    for c in WRITABLE {
        files.push(("kdump", s.kdump(c)));
        files.push(("flat-kdump", flatten(&s.kdump(c), 3000)));
    }
    for (i, (name, bytes)) in files.into_iter().enumerate() {
        let path = dir.write(&format!("{name}-{i}"), &bytes);
        let r = kdive(&["--info"], &path);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        assert!(r.stdout.contains(OSRELEASE), "{name}: {}", r.stdout);
        let r = kdive(&["--verify"], &path);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        assert!(
            r.stdout.contains("7 pages read, 0 unreadable"),
            "{name}: {}",
            r.stdout
        );
    }
}

#[test]
fn not_a_dump() {
    let dir = TempDir::new("not-a-dump");
    let missing = dir.0.join("no-such-vmcore");
    let empty = dir.write("empty", b"");
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let random = dir.write("random", &random);
    let tiny = dir.write("tiny", b"KDUMP   ");
    for args in [&["--info"][..], &["--verify"], &["--info", "--json"]] {
        fails(args, &missing, &["No such file"]);
        fails(args, &empty, &["not a vmcore"]);
        fails(args, &random, &["not a vmcore"]);
        fails(args, &tiny, &["truncated", "kdump header"]);
    }
}

/// Damage that makes the dump impossible to open: both commands fail.
#[test]
fn damaged_headers_fail_both_commands() {
    let dir = TempDir::new("headers");
    let s = Synth::standard();
    let kdump = s.kdump(Compression::Zstd);
    let l = KdumpLayout::of(&kdump);
    let (elf, el) = s.elf_layout();
    let edit = |mut f: Vec<u8>, e: &dyn Fn(&mut Vec<u8>)| {
        e(&mut f);
        f
    };
    let cases: Vec<(&str, Vec<u8>, Vec<String>)> = vec![
        (
            "kdump-cut-in-header",
            kdump[..300].to_vec(),
            vec!["kdump header".into()],
        ),
        (
            "kdump-cut-in-bitmaps",
            kdump[..(l.bitmap2 as usize)].to_vec(),
            vec!["bitmaps".into(), format!("{:#x}", l.bitmap1)],
        ),
        (
            "kdump-block-size-0",
            edit(kdump.clone(), &|f| put32(f, kd::BLOCK_SIZE, 0)),
            vec!["block size 0".into(), "0x1ac".into()],
        ),
        (
            "kdump-bitmap-blocks-huge",
            edit(kdump.clone(), &|f| put32(f, kd::BITMAP_BLOCKS, u32::MAX)),
            vec!["bitmaps".into(), format!("{:#x}", l.bitmap1)],
        ),
        (
            "kdump-notes-huge",
            edit(kdump.clone(), &|f| put64(f, 4096 + kd::SIZE_NOTE, 1 << 40)),
            vec!["ELF notes".into(), format!("{:#x}", 4096 + kd::SIZE_NOTE)],
        ),
        (
            "elf-cut-in-header",
            elf[..50].to_vec(),
            vec!["ELF header".into()],
        ),
        (
            "elf-phentsize-0",
            edit(elf.clone(), &|f| put16(f, 54, 0)),
            vec!["program header size 0".into(), "0x36".into()],
        ),
        (
            "elf-load-overflow",
            edit(elf.clone(), &|f| {
                put64(f, el.load_phdrs[1] as usize + 24, u64::MAX - 0xfff)
            }),
            vec!["overflows".into(), format!("{:#x}", el.load_phdrs[1])],
        ),
        (
            "flat-wrong-type",
            edit(flatten(&kdump, 3000), &|f| {
                f[16..24].copy_from_slice(&7i64.to_be_bytes())
            }),
            vec!["flattened header".into(), "0x10".into()],
        ),
        (
            "flat-cut-in-record",
            flatten_in_order(&kdump, 3000)[..4096 + 16 + 1000].to_vec(),
            vec!["flattened record data".into(), "0x1010".into()],
        ),
        (
            "diskdump",
            b"DISKDUMP".iter().copied().chain([0u8; 1000]).collect(),
            vec!["diskdump".into()],
        ),
    ];
    for (name, bytes, says) in cases {
        let path = dir.write(name, &bytes);
        let says: Vec<&str> = says.iter().map(String::as_str).collect();
        fails(&["--info"], &path, &says);
        fails(&["--info", "--json"], &path, &says);
        fails(&["--verify"], &path, &says);
    }
}

/// Damage to pages only: `--info` still describes the dump, `--verify`
/// fails and names the address and offset of each bad page.
#[test]
fn damaged_pages_fail_verify() {
    let dir = TempDir::new("pages");
    let s = Synth::standard();
    let kdump = s.kdump(Compression::Zlib);
    let l = KdumpLayout::of(&kdump);
    let (data0, size0, _) = l.desc(&kdump, 0);
    let (elf, el) = s.elf_layout();
    let mut garbage = kdump.clone();
    garbage[data0 as usize..(data0 + size0 as u64) as usize].fill(0xa5);
    let mut past = kdump.clone();
    put64(&mut past, l.desc_at(1) as usize, 1 << 40);
    let mut size = kdump.clone();
    put32(&mut size, l.desc_at(3) as usize + 8, 0);
    let mut elf_past = elf.clone();
    put64(&mut elf_past, el.load_phdrs[2] as usize + 8, 1 << 40);
    let last_data = l.desc(&kdump, 6).0;
    let cases: Vec<(&str, Vec<u8>, Vec<String>)> = vec![
        (
            "kdump-garbage-page",
            garbage,
            vec![
                "physical address 0x0:".into(),
                "zlib".into(),
                format!("{data0:#x}"),
            ],
        ),
        (
            "kdump-desc-past-file",
            past,
            vec!["physical address 0x1000".into(), "0x10000000000".into()],
        ),
        (
            "kdump-size-0",
            size,
            vec!["physical address 0x3000".into(), "size of 0 bytes".into()],
        ),
        (
            "kdump-cut-in-data",
            kdump[..(last_data + 10) as usize].to_vec(),
            vec!["truncated".into(), format!("{last_data:#x}")],
        ),
        (
            "elf-data-past-file",
            elf_past,
            vec!["physical address 0x8000".into(), "0x10000000000".into()],
        ),
        (
            "elf-cut-in-data",
            elf[..(el.data_at[2] + 100) as usize].to_vec(),
            vec!["physical address 0x9000".into(), "truncated".into()],
        ),
    ];
    for (name, bytes, says) in cases {
        let path = dir.write(name, &bytes);
        let r = kdive(&["--info"], &path);
        assert_eq!(r.code, Some(0), "{name}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        let says: Vec<&str> = says.iter().map(String::as_str).collect();
        let r = fails(&["--verify"], &path, &says);
        assert!(
            r.stderr.contains("pages are unreadable"),
            "{name}: {}",
            r.stderr
        );
    }
}

/// A segment header claiming a petabyte the file does not hold: `--info`
/// answers at once (it counts pages by ranges, not one by one).
#[test]
fn huge_segment_does_not_hang_info() {
    let dir = TempDir::new("huge");
    let (mut elf, el) = Synth::standard().elf_layout();
    put64(&mut elf, el.load_phdrs[2] as usize + 32, 1 << 50);
    put64(&mut elf, el.load_phdrs[2] as usize + 40, 1 << 50);
    let path = dir.write("elf-huge-segment", &elf);
    let r = kdive(&["--info"], &path);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains(&(5 + (1u64 << 38)).to_string()),
        "{}",
        r.stdout
    );
}
