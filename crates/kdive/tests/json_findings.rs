//! What a walker finds wrong reaches a JSON line as typed fields: a copy of
//! an ELF dump with one task's `tasks.next` pointer overwritten must give
//! `ps --json` a `findings` entry (kind `corrupt`, the entry's address),
//! the text mode the same warning on stderr, and every task still.

use std::path::Path;
use std::process::{Command, Stdio};

use kdive_testkit::crashes;

const BIN: &str = env!("CARGO_BIN_EXE_kdive");

fn kdive(args: &[&str], input: &str) -> (String, String) {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kdive");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn json(args: &[&str], cmd: &str) -> serde_json::Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let (out, err) = kdive(&a, &format!("{cmd}\n"));
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{cmd}: {e}: {out} {err}"))
}

fn hex(v: &serde_json::Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// The file offset of physical address `paddr` in the ELF dump `bytes`.
fn file_offset(bytes: &[u8], paddr: u64) -> Option<u64> {
    let u16_at = |o: usize| u16::from_le_bytes(bytes[o..o + 2].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (u64_at(32) as usize, u16_at(54) as usize, u16_at(56));
    (0..phnum as usize).find_map(|i| {
        let p = phoff + i * phentsize;
        let (ty, off, pa, filesz) = (
            u32::from_le_bytes(bytes[p..p + 4].try_into().unwrap()),
            u64_at(p + 8),
            u64_at(p + 24),
            u64_at(p + 32),
        );
        (ty == 1 && (pa..pa + filesz).contains(&paddr)).then(|| off + (paddr - pa))
    })
}

#[test]
fn a_broken_task_list_is_a_typed_finding_in_json() {
    let Some((c, elf)) = crashes()
        .into_iter()
        .find_map(|c| c.variant("elf").map(Path::to_path_buf).map(|p| (c, p)))
    else {
        return;
    };
    let elf_s = elf.to_str().unwrap();
    let open = c.open_args(elf_s);
    let args: Vec<&str> = open.iter().map(String::as_str).collect();

    // Where pid 1's `tasks.next` is, from kdive itself.
    let ps = json(&args, "ps");
    let tasks = ps["result"].as_array().unwrap();
    let init = tasks.iter().find(|t| t["pid"] == 1).expect("pid 1");
    let task = hex(&init["task"]);
    let (text, _) = kdive(&args, "struct task_struct.tasks -o\n");
    let off: u64 = text
        .split('[')
        .nth(1)
        .and_then(|r| r.split(']').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no offset in {text}"));
    let vtop = json(&args, &format!("vtop {:x}", task + off));
    let paddr = hex(&vtop["result"][0]["physical"]);

    // A copy of the dump with that pointer made garbage.
    let mut bytes = std::fs::read(&elf).unwrap();
    let at = file_offset(&bytes, paddr).expect("the page is in the dump") as usize;
    bytes[at..at + 8].copy_from_slice(&0x4141_4141_4141_4141u64.to_le_bytes());
    let dir = std::env::temp_dir().join(format!("kdive-json-findings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let damaged = dir.join("vmcore.elf");
    std::fs::write(&damaged, &bytes).unwrap();
    drop(bytes);
    let mut dargs = args.clone();
    *dargs.last_mut().unwrap() = damaged.to_str().unwrap();

    let broken = json(&dargs, "ps");
    let findings = broken["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {broken}"));
    let bad = findings
        .iter()
        .find(|f| {
            f["kind"] == "corrupt" && f["text"].as_str().unwrap().contains("4141414141414141")
        })
        .unwrap_or_else(|| panic!("no corrupt pointer among {findings:?}"));
    assert_eq!(hex(&bad["address"]), 0x4141_4141_4141_4141, "{bad}");
    // The walk back from the head still finds every task.
    assert_eq!(broken["result"].as_array().unwrap().len(), tasks.len());
    // The text mode tells the same on stderr.
    let (_, err) = kdive(&dargs, "ps\n");
    assert!(err.contains(bad["text"].as_str().unwrap()), "{err}");
    // And the clean dump has no findings.
    assert!(ps.get("findings").is_none(), "{ps}");
    let _ = std::fs::remove_dir_all(&dir);
}
