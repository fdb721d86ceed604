//! kdive: a Linux kernel crash-dump analyzer with crash's command language.
//!
//! The binary is thin: it parses the command line and hands over to the
//! library (`lib.rs`), one module per job. `info` describes a dump,
//! `convert` rewrites one, a session runs commands.

use kdive::{convert, info, session, verify};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
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
    /// Run the commands of FILE, one a line, then exit.
    #[arg(short = 'i', value_name = "FILE")]
    input: Option<PathBuf>,
    /// Use no vmlinux even if one is installed: symbols from the dump's own
    /// kallsyms.
    #[arg(long)]
    no_vmlinux: bool,
    /// Read no BTF: the kernel's structures from the vmlinux's DWARF only
    /// (to check that path; slower to start).
    #[arg(long)]
    no_btf: bool,
    /// Silent: no banner at start-up.
    #[arg(short = 's')]
    silent: bool,
    /// Print the dump's kernel release (OSRELEASE) and exit.
    #[arg(long)]
    osrelease: bool,
    /// Print the dump's kernel build id (BUILD-ID) and exit.
    #[arg(long)]
    build_id: bool,
    /// For dumps too damaged for a full start: only log, dis, rd, sym, eval, set.
    #[arg(long)]
    minimal: bool,
    /// Do not run ~/.kdiverc and ./.kdiverc.
    #[arg(long)]
    no_kdiverc: bool,
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
    if args.osrelease || args.build_id {
        let [dump] = args.files.as_slice() else {
            anyhow::bail!("--osrelease and --build-id take one dump file");
        };
        return print_release(dump, args.osrelease);
    }
    let (kernel, dump_path) = match split_files(&args.files)? {
        Files::Image(vmlinux) => (
            kdive_kernel::Kernel::open_image(&vmlinux)
                .with_context(|| vmlinux.display().to_string())?,
            String::new(),
        ),
        Files::Dump(vmlinux, vmcore) => {
            let path = vmcore.display().to_string();
            let opened = match open_dump(vmlinux, vmcore.clone(), args.no_vmlinux, args.no_btf) {
                // --minimal: a vmlinux that does not fit (another build, a
                // damaged file) is no reason to stop; the dump's own
                // kallsyms do for log, dis, rd, sym.
                Err(e) if args.minimal => {
                    eprintln!("kdive: {e:#}; going on without it (--minimal)");
                    open_dump(None, vmcore, true, args.no_btf)?
                }
                r => r?,
            };
            (opened, path)
        }
    };
    for note in kernel.notices() {
        eprintln!("kdive: {note}");
    }
    let mut session = session::Session::new(kernel);
    session.dump_path = dump_path;
    session.json = args.json;
    session.minimal = args.minimal;
    if !args.no_kdiverc {
        session::repl::run_startup_files(&mut session, &mut std::io::stdout());
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) && !args.silent && args.input.is_none() {
        banner(&mut session);
    }
    if let Some(file) = &args.input {
        let f =
            std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        session.run_lines(std::io::BufReader::new(f), &mut out)?;
        std::io::Write::flush(&mut out)?;
    } else {
        session.run_stdin()?;
    }
    if session.failures > 0 {
        anyhow::bail!("{} command(s) failed", session.failures);
    }
    Ok(())
}

/// `--osrelease`, `--build-id`: one line from the dump's VMCOREINFO.
fn print_release(path: &std::path::Path, release: bool) -> anyhow::Result<()> {
    let dump = kdive_dump::Dump::open(path).with_context(|| path.display().to_string())?;
    let key = if release { "OSRELEASE" } else { "BUILD-ID" };
    let value = match dump.vmcoreinfo().and_then(|v| v.get(key)) {
        Some(v) => v.to_string(),
        None if release => dump
            .release()
            .with_context(|| format!("{}: no OSRELEASE in the dump", path.display()))?,
        None => anyhow::bail!("{}: no {key} in the dump's VMCOREINFO", path.display()),
    };
    println!("{value}");
    Ok(())
}

/// What crash shows at start-up, before the first prompt: the program, and
/// the system (`sys`) when there is a dump.
fn banner(s: &mut session::Session) {
    println!(
        "kdive {} (type \"help\" for the commands, \"q\" to leave)\n",
        env!("CARGO_PKG_VERSION")
    );
    if s.kernel.has_dump() {
        s.run_line("sys", &mut std::io::stdout());
        println!();
    }
}

/// Open `vmcore`, with `vmlinux` or the one installed for it.
fn open_dump(
    vmlinux: Option<PathBuf>,
    vmcore: PathBuf,
    no_vmlinux: bool,
    no_btf: bool,
) -> anyhow::Result<kdive_kernel::Kernel> {
    use kdive_kernel::VmlinuxChoice;
    let choice = match (&vmlinux, no_vmlinux) {
        (Some(v), false) => VmlinuxChoice::Given(v),
        (Some(_), true) => anyhow::bail!("--no-vmlinux and a vmlinux given"),
        (None, true) => VmlinuxChoice::None,
        (None, false) => VmlinuxChoice::Find,
    };
    let options = kdive_kernel::OpenOptions { btf: !no_btf };
    kdive_kernel::Kernel::open_with_options(&vmcore, choice, options)
        .with_context(|| vmcore.display().to_string())
}

/// What the command line names: a vmlinux alone (static work: `dis`,
/// `sym`, `whatis`, `struct -o`), or a dump with or without its vmlinux.
enum Files {
    Image(PathBuf),
    Dump(Option<PathBuf>, PathBuf),
}

/// `[VMLINUX] VMCORE` in either order, as crash takes them: the dump is the
/// file that is not an ELF executable (a vmcore is an ELF core file or not
/// ELF at all).
fn split_files(files: &[PathBuf]) -> anyhow::Result<Files> {
    use kdive_kernel::vmlinux::{elf_type, ET_CORE};
    let is_vmlinux = |p: &PathBuf| elf_type(p).is_some_and(|t| t != ET_CORE);
    match files {
        [] => anyhow::bail!("no dump given (usage: kdive [VMLINUX] VMCORE, or kdive VMLINUX)"),
        [one] if is_vmlinux(one) => Ok(Files::Image(one.clone())),
        [one] => Ok(Files::Dump(None, one.clone())),
        [a, b] => match (is_vmlinux(a), is_vmlinux(b)) {
            (true, false) => Ok(Files::Dump(Some(a.clone()), b.clone())),
            (false, true) => Ok(Files::Dump(Some(b.clone()), a.clone())),
            (true, true) => {
                anyhow::bail!("both {} and {} are kernel images", a.display(), b.display())
            }
            (false, false) => anyhow::bail!(
                "neither {} nor {} is a kernel image (vmlinux)",
                a.display(),
                b.display()
            ),
        },
        _ => anyhow::bail!("too many files (usage: kdive [VMLINUX] VMCORE)"),
    }
}
