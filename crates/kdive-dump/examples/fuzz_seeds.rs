//! Write the seed corpora of the fuzz targets (`fuzz/`), from the synthetic
//! dump of `tests/common`:
//!
//! ```sh
//! cargo run -p kdive-dump --example fuzz_seeds            # into fuzz/corpus/
//! cargo run -p kdive-dump --example fuzz_seeds -- DIR     # into DIR/<target>/
//! ```
//!
//! Each seed is named `seed-*` and is smaller than 64 KiB; mostly 512-byte
//! pages, so that the fuzzer works on small inputs.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use common::*;
use kdive_dump::Compression;

fn main() -> std::io::Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"));
    let small = Synth::new(512);
    let big = Synth::standard();
    let pattern = b"kdive lzo seed!\n";

    let mut seeds: Vec<(&str, String, Vec<u8>)> = vec![
        ("elf", "elf-512".into(), small.elf()),
        ("elf", "elf-4k".into(), big.elf()),
        (
            "kdump",
            "kdump-lzo-512".into(),
            kdump_with_lzo_page(&small, pattern).0,
        ),
        (
            "kdump",
            "kdump-zstd-4k".into(),
            big.kdump(Compression::Zstd),
        ),
        (
            "kdump",
            "kdump-zero-excluded-512".into(),
            small.kdump_with(Compression::Zlib, true),
        ),
        ("flat", "flat-elf-512".into(), flatten(&small.elf(), 700)),
        (
            "flat",
            "flat-kdump-zstd-512".into(),
            flatten(&small.kdump(Compression::Zstd), 700),
        ),
        (
            "flat",
            "flat-kdump-snappy-4k".into(),
            flatten(&big.kdump(Compression::Snappy), 5000),
        ),
        ("notes", "notes".into(), small.notes()),
        ("notes", "notes-qemu".into(), qemu_notes(&small)),
        (
            "notes",
            "vmcoreinfo".into(),
            small.vmcoreinfo_text().into_bytes(),
        ),
    ];
    for c in WRITABLE {
        seeds.push(("kdump", format!("kdump-{}-512", c.name()), small.kdump(c)));
    }
    for (target, name, bytes) in seeds {
        assert!(
            bytes.len() < 64 << 10,
            "seed {name} is {} bytes",
            bytes.len()
        );
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("seed-{name}"));
        std::fs::write(&path, &bytes)?;
        println!("{} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}

/// The synthetic notes and a QEMU CPU state note (version 1: with
/// `kernel_gs_base`).
fn qemu_notes(s: &Synth) -> Vec<u8> {
    let mut desc = vec![0u8; 8 + 18 * 8 + 10 * 24 + 5 * 8 + 8];
    put32(&mut desc, 0, 1);
    let len = desc.len() as u32;
    put32(&mut desc, 4, len);
    for (i, v) in (0..18u64).enumerate() {
        put64(&mut desc, 8 + i * 8, 0x1111 * (v + 1));
    }
    let cr = 8 + 18 * 8 + 10 * 24;
    put64(&mut desc, cr + 3 * 8, 0x1234_5000);
    let mut v = s.notes();
    v.extend(note("QEMU", 0, &desc));
    v
}
