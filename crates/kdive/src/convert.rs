//! `kdive convert`: rewrite a dump as a kdump-compressed file with a chosen
//! page compression and dump level.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Parser;
use kdive_dump::write::{write_kdump, WriteOptions, DL_EXCLUDE_ZERO};
use kdive_dump::{Compression, Dump};

/// Rewrite a dump (any format kdive reads) as a kdump-compressed file.
#[derive(Parser, Debug)]
#[command(name = "kdive convert")]
struct Args {
    /// Page compression: none, zlib, snappy or zstd.
    #[arg(short = 'c', long, default_value = "zstd")]
    compress: Compression,
    /// makedumpfile dump level of the output. The pages the source already
    /// left out stay out; of the other bits only 1 (zero pages) can be
    /// applied from the dump alone.
    #[arg(short = 'd', long, default_value_t = 0)]
    dump_level: i32,
    /// Overwrite OUT if it exists.
    #[arg(short = 'f', long)]
    force: bool,
    /// The dump to read.
    input: PathBuf,
    /// The file to write.
    output: PathBuf,
}

pub fn run(argv: &[String]) -> anyhow::Result<()> {
    let args = Args::parse_from(argv);
    if !(0..=31).contains(&args.dump_level) {
        bail!("dump level {} is not in 0..31", args.dump_level);
    }
    let needs_flags = args.dump_level & !DL_EXCLUDE_ZERO;
    let dump = Dump::open(&args.input).with_context(|| args.input.display().to_string())?;
    let have = dump.dump_level().unwrap_or(0);
    if needs_flags & !have != 0 {
        bail!(
            "dump level {} asks to exclude page kinds (bits {:#x}) that only the kernel's page \
             flags tell; kdive convert can exclude zero pages (level 1) and keeps what the \
             source already excluded (level {have})",
            args.dump_level,
            needs_flags & !have
        );
    }
    if args.output.exists() && !args.force {
        bail!("{} exists (use -f to overwrite)", args.output.display());
    }
    let file = File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let opts = WriteOptions {
        compression: args.compress,
        exclude_zero: args.dump_level & DL_EXCLUDE_ZERO != 0,
    };
    let stats = write_kdump(&dump, opts, &mut out)
        .with_context(|| format!("writing {}", args.output.display()))?;
    out.into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "kdive convert: wrote {} ({} pages, {} zero pages left out, {} unreadable, {} bytes)",
        args.output.display(),
        stats.pages,
        stats.zero_excluded,
        stats.unreadable,
        stats.bytes
    );
    Ok(())
}
