//! Commands run in-process, on a made-up kernel: the test writes a small
//! vmlinux (BTF, a symbol table, code and initialized data), opens it with
//! `Kernel::open_image` and runs commands through `Session::run_line`, no
//! dump and no process. This is how a command is tested on its own, with
//! types and memory the test chose.

use kdive::session::Session;
use kdive_debuginfo::btf::writer::BtfWriter;
use kdive_testkit::elf::{
    ElfWriter, ET_EXEC, FUNC, OBJECT, SHF_ALLOC, SHF_EXECINSTR, SHT_PROGBITS,
};

const TEXT: u64 = 0xffff_ffff_8100_0000;
const DATA: u64 = 0xffff_ffff_8200_0000;

/// A vmlinux with `struct demo { int a; int b; long c; }` in its BTF,
/// `schedule` in its code and `jiffies` (0x1234) in its data.
fn vmlinux() -> Vec<u8> {
    let mut b = BtfWriter::new();
    let int = b.int("int", 4, true);
    let long = b.int("long int", 8, true);
    b.st("demo", 16, &[("a", int, 0), ("b", int, 4), ("c", long, 8)]);
    let btf = b.finish();

    let mut data = vec![0u8; 0x1000];
    let banner = b"Linux version 6.1.0-test (kdive@test) #1 SMP\n\0";
    data[..banner.len()].copy_from_slice(banner);
    data[0x800..0x808].copy_from_slice(&0x1234u64.to_le_bytes());

    let mut w = ElfWriter::new();
    let text = w.section(
        ".text",
        SHT_PROGBITS,
        SHF_ALLOC | SHF_EXECINSTR,
        TEXT,
        &[0xc3; 0x2000],
    );
    let dat = w.section(".data", SHT_PROGBITS, SHF_ALLOC, DATA, &data);
    w.section(".BTF", SHT_PROGBITS, SHF_ALLOC, DATA + 0x10_0000, &btf);
    w.symbol("_stext", TEXT, 0, FUNC, text);
    w.symbol("schedule", TEXT + 0x100, 0x10, FUNC, text);
    w.symbol("linux_banner", DATA, banner.len() as u64, OBJECT, dat);
    w.symbol("init_task", DATA + 0x400, 0x100, OBJECT, dat);
    w.symbol("jiffies", DATA + 0x800, 8, OBJECT, dat);
    // A kernel's table has thousands of symbols; kdive checks for that.
    for i in 0..1000u64 {
        w.symbol(&format!("filler_{i}"), TEXT + 0x1000 + 4 * i, 4, FUNC, text);
    }
    w.finish(ET_EXEC)
}

fn session() -> (Session, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("kdive-in-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vmlinux");
    std::fs::write(&path, vmlinux()).unwrap();
    let kernel = kdive_kernel::Kernel::open_image(&path).unwrap();
    (Session::new(kernel), dir)
}

fn run(s: &mut Session, line: &str) -> String {
    let mut out = Vec::new();
    s.run_line(line, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn commands_run_in_process_on_a_made_up_kernel() {
    let (mut s, dir) = session();
    assert_eq!(
        run(&mut s, "sym schedule"),
        format!("{:x} (T) schedule\n", TEXT + 0x100)
    );
    assert_eq!(
        run(&mut s, "struct demo"),
        "struct demo {\n    int a;\n    int b;\n    long c;\n}\nSIZE: 16\n"
    );
    assert_eq!(
        run(&mut s, "struct demo -o"),
        "struct demo {\n   [0] int a;\n   [4] int b;\n   [8] long c;\n}\nSIZE: 16\n"
    );
    // Memory is the file's initialized data.
    let rd = run(&mut s, "rd jiffies");
    assert!(
        rd.ends_with("0000000000001234                    4.......\n"),
        "{rd}"
    );
    // JSON, as a program would read it.
    let v: serde_json::Value =
        serde_json::from_str(run(&mut s, "sym jiffies --json").trim()).unwrap();
    assert_eq!(v["command"], "sym jiffies --json");
    assert_eq!(
        v["result"][0]["address"],
        format!("{:#x}", DATA + 0x800),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
