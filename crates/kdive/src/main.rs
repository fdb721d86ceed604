//! kdive: a Linux kernel crash-dump analyzer with crash's command language.
//!
//! The binary is thin: it parses the command line and hands over to one
//! module per job. `info` describes a dump, `convert` rewrites one.

mod convert;
mod info;
mod time;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Command line of `kdive` itself (`kdive convert` has its own).
#[derive(Parser, Debug)]
#[command(
    name = "kdive",
    version,
    about = "Analyze Linux kernel crash dumps",
    after_help = "Other commands:\n  kdive convert [-c METHOD] [-d LEVEL] IN OUT   rewrite a dump (see kdive convert --help)"
)]
struct Args {
    /// Describe the dump (format, compression, memory, notes, registers); needs no vmlinux.
    #[arg(long)]
    info: bool,
    /// Read every page the dump holds and report those that cannot be read.
    #[arg(long)]
    verify: bool,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// [VMLINUX] VMCORE, in either order.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let result = if argv.get(1).map(String::as_str) == Some("convert") {
        convert::run(&argv[1..])
    } else {
        run(Args::parse())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kdive: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.info {
        let [dump] = args.files.as_slice() else {
            anyhow::bail!("--info takes one dump file");
        };
        return info::run(dump, args.json);
    }
    if args.verify {
        let [dump] = args.files.as_slice() else {
            anyhow::bail!("--verify takes one dump file");
        };
        return verify::run(dump);
    }
    anyhow::bail!(
        "the interactive session is not built yet; `kdive --info VMCORE` describes a dump"
    )
}
