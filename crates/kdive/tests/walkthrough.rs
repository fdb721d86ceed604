//! The seed scenario's walk-through, as a person would type it, on every
//! `slab` dump: `sys`, `bt`, `bt -f`, `dis -rl` on the faulting RIP,
//! `struct kmem_cache` of the cache in RBP, `rd` of that cache's per-CPU
//! freelist head on the crashing CPU, `kmem -s` of the cache (once kdive
//! has kmem), `log`. Every address comes from the dump's own output (bt's
//! register block, the struct's members); the session runs from standard
//! input and again from `-i FILE`, and both must print the same.

use std::io::Write;
use std::process::{Command, Stdio};

use kdive_testkit::require;

fn kdive(args: &[&str], input: &str) -> (String, String) {
    let home = std::env::temp_dir().join(format!("kdive-walk-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kdive"))
        .env("HOME", &home)
        .current_dir(&home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kdive");
    // kdive may have stopped already (a dump it refuses): no input needed.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "kdive panicked: {err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

/// `NAME: VALUE` from bt's register block (`RIP: ffffffffa071577b  RSP: ...`).
fn reg(bt: &str, name: &str) -> u64 {
    let key = format!("{name}:");
    bt.split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .find(|w| w[0] == key && w[1].len() == 16)
        .and_then(|w| u64::from_str_radix(w[1], 16).ok())
        .unwrap_or_else(|| panic!("no {name} in bt:\n{bt}"))
}

/// Every `NAME: VALUE` of bt's register blocks.
fn registers(bt: &str) -> Vec<(String, u64)> {
    let words: Vec<&str> = bt.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0].ends_with(':') && w[1].len() == 16)
        .filter_map(|w| {
            Some((
                w[0].trim_end_matches(':').to_string(),
                u64::from_str_radix(w[1], 16).ok()?,
            ))
        })
        .collect()
}

/// A member's value from `struct`'s output: `  name = VALUE,`.
fn member<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("no member {name} in:\n{text}"))
        .trim_end_matches(',')
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim().trim_start_matches("0x"), 16).unwrap()
}

/// The sections of a transcript made with `!echo @@@ CMD` markers.
fn sections(text: &str) -> Vec<(String, String)> {
    text.split("@@@ ")
        .skip(1)
        .map(|b| {
            let (cmd, rest) = b.split_once('\n').unwrap_or((b, ""));
            (cmd.to_string(), rest.to_string())
        })
        .collect()
}

#[test]
fn seed_walkthrough() {
    for c in require("walk-through")
        .into_iter()
        .filter(|c| c.scenario.starts_with("slab"))
    {
        let Some(dump) = c
            .variant("kdump-zlib")
            .or(c.variants.first().map(|v| v.1.as_path()))
        else {
            continue;
        };
        // `p/x __per_cpu_offset[N]` needs the vmlinux's types (5.10's BTF
        // has no variables).
        walk(&c.name(), &c.open_args(dump.to_str().unwrap()));
    }
}

fn walk(name: &str, open: &[String]) {
    let dump_s: Vec<&str> = open.iter().map(String::as_str).collect();
    let dump_s = dump_s.as_slice();
    // What a person reads first: the panic task's registers and CPU.
    let (bt, _) = kdive(dump_s, "bt\n");
    let regs = registers(&bt);
    let rip = reg(&bt, "RIP");
    let cpu: usize = bt
        .split("CPU: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no CPU in bt"));
    // The register holding the cache (RBP on the 6.1 build, R12 on 6.12's):
    // the one whose `struct kmem_cache` has a name.
    let kernel_regs: Vec<u64> = regs
        .iter()
        .map(|r| r.1)
        .filter(|v| *v >> 56 == 0xff && *v != u64::MAX)
        .collect();
    let script: String = kernel_regs
        .iter()
        .map(|v| format!("!echo '@@@ {v:x}'\nstruct kmem_cache.name {v:x}\n"))
        .collect();
    let (tried, _) = kdive(dump_s, &script);
    let cache_reg = sections(&tried)
        .into_iter()
        .find(|(_, out)| out.contains("name = 0x") && out.contains('"'))
        .map(|(v, _)| hex(&v))
        .unwrap_or_else(|| panic!("{name}: no register holds a kmem_cache:\n{tried}"));
    // The cache, and where its per-CPU freelist head is.
    let (cache, _) = kdive(
        dump_s,
        &format!("struct kmem_cache {cache_reg:x}\np/x __per_cpu_offset[{cpu}]\n"),
    );
    let cache_name = member(&cache, "name")
        .split('"')
        .nth(1)
        .unwrap_or("")
        .to_string();
    assert!(
        !cache_name.is_empty(),
        "{name}: kmem_cache has no name:\n{cache}"
    );
    let cpu_slab = hex(member(&cache, "cpu_slab"));
    let free_offset: u64 = member(&cache, "offset").parse().unwrap();
    let offset = hex(cache.lines().last().unwrap().rsplit(" = ").next().unwrap());
    let freelist_at = cpu_slab.wrapping_add(offset);
    let (help, _) = kdive(dump_s, "help\n");
    let has_kmem = help
        .lines()
        .any(|l| l.split_whitespace().next() == Some("kmem"));

    let mut cmds = vec![
        "sys".to_string(),
        "bt".into(),
        "bt -f".into(),
        format!("dis -rl {rip:x}"),
        format!("p/x ((struct kmem_cache *){cache_reg:#x})->offset"),
        format!("struct kmem_cache {cache_reg:x}"),
        format!("rd -64 {freelist_at:x} 2"),
    ];
    if has_kmem {
        cmds.push(format!("kmem -s {cache_name}"));
    }
    cmds.push("log".into());
    let script: String = cmds
        .iter()
        .map(|c| format!("!echo '@@@ {c}'\n{c}\n"))
        .collect();
    let (out, err) = kdive(dump_s, &script);
    // The same walk from a file (-i), in one session too.
    let file = std::env::temp_dir().join(format!("kdive-walk-{}.cmds", std::process::id()));
    std::fs::write(&file, &script).unwrap();
    let (from_file, _) = kdive(&[&["-i", file.to_str().unwrap()], dump_s].concat(), "");
    assert_eq!(out, from_file, "{name}: -i and stdin differ");

    let s = sections(&out);
    assert_eq!(
        s.len(),
        cmds.len(),
        "{name}: every command ran:\n{out}\n{err}"
    );
    for (i, c) in cmds.iter().enumerate() {
        assert_eq!(&s[i].0, c, "{name}: sections in order");
    }
    let sys = &s[0].1;
    assert!(sys.contains("PANIC: "), "{name}: sys");
    let bt_text = &s[1].1;
    assert!(bt_text.contains(&format!("RIP: {rip:016x}")), "{name}: bt");
    // bt -f: the same frames, with the stack words between them.
    let full = &s[2].1;
    for l in bt_text.lines().filter(|l| l.trim_start().starts_with('#')) {
        let func = l.split_whitespace().nth(2).unwrap();
        assert!(full.contains(func), "{name}: bt -f lacks {func}");
    }
    assert!(
        full.lines().count() > bt_text.lines().count(),
        "{name}: bt -f shows the stack"
    );
    // dis -rl: up to the faulting instruction, with source lines.
    let dis = &s[3].1;
    let last = dis.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("{rip:#x} <")),
        "{name}: dis -rl ends at RIP: {last}"
    );
    assert!(
        dis.lines()
            .any(|l| l.contains(".c: ") || l.contains(".h: ")),
        "{name}: dis -l source lines"
    );
    // struct: the cache is the one the fault was in.
    let st = &s[5].1;
    assert!(st.starts_with("struct kmem_cache {"), "{name}: {st}");
    assert!(st.contains(&format!("\"{cache_name}\"")));
    // rd: the per-CPU freelist head is in a register, and so is the
    // address of its free pointer (head + kmem_cache.offset): the
    // corrupt pointer the fault came from.
    let rd = &s[6].1;
    let head = rd
        .split_whitespace()
        .nth(1)
        .map(hex)
        .unwrap_or_else(|| panic!("{name}: rd: {rd}"));
    let values: Vec<u64> = regs.iter().map(|r| r.1).collect();
    assert!(
        values.contains(&head),
        "{name}: freelist head {head:x} in a register"
    );
    assert!(
        values.contains(&head.wrapping_add(free_offset)),
        "{name}: head + offset {free_offset} in a register"
    );
    if has_kmem {
        assert!(s[7].1.contains(&cache_name), "{name}: kmem -s");
    }
    // log: the oops names the function bt's exception frame names.
    let exc = bt_text
        .split("[exception RIP: ")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or_else(|| panic!("{name}: no exception frame in bt"));
    let (func, off) = exc.split_once('+').unwrap();
    let off: u64 = off.parse().unwrap();
    let log = &s.last().unwrap().1;
    assert!(
        log.contains(&format!("RIP: 0010:{func}+{off:#x}/")),
        "{name}: log has the oops RIP"
    );
}
