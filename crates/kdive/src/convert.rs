//! `kdive convert`: rewrite a dump as a kdump-compressed file with a chosen
//! page compression and dump level.
//!
//! The file is written beside OUT under a temporary name and renamed over
//! OUT only once complete: a failed conversion leaves no partial file and
//! does not clobber an existing OUT. OUT may not be the input.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

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
    if args.compress == Compression::Lzo {
        bail!("writing LZO pages is not supported (choose none, zlib, snappy or zstd)");
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
    if same_file(&args.input, &args.output) {
        bail!(
            "{} is the input: kdive convert never replaces the dump it reads",
            args.output.display()
        );
    }
    let dest = destination(&args.output, args.force)?;
    let tmp = temp_name(&dest);
    let file = File::options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| {
            format!(
                "cannot create {} (written first, then renamed to {})",
                tmp.display(),
                dest.display()
            )
        })?;
    // Removes the temporary file unless the conversion gets to the rename.
    let mut guard = RemoveOnDrop(Some(tmp.clone()));
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
    fs::rename(&tmp, &dest)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), dest.display()))?;
    guard.0 = None;
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

/// The path to rename the finished file to: OUT, or what OUT links to.
/// Only a regular file is replaced, and only with `-f`.
fn destination(output: &Path, force: bool) -> anyhow::Result<PathBuf> {
    let meta = match fs::metadata(output) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if output.is_symlink() {
                bail!("{} is a dangling symbolic link", output.display());
            }
            return Ok(output.to_path_buf());
        }
        Err(e) => return Err(e).with_context(|| output.display().to_string()),
    };
    if !force {
        bail!("{} exists (use -f to overwrite)", output.display());
    }
    if !meta.is_file() {
        bail!("{} exists and is not a regular file", output.display());
    }
    if output.is_symlink() {
        return fs::canonicalize(output).with_context(|| output.display().to_string());
    }
    Ok(output.to_path_buf())
}

/// `DIR/.NAME.kdive-PID.tmp` beside `dest`.
fn temp_name(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vmcore".into());
    dest.with_file_name(format!(".{name}.kdive-{}.tmp", std::process::id()))
}

struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

/// Whether two paths name one file (the output would truncate the input).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}
