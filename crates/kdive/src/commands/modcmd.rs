//! `mod`: the loaded modules, as crash lists them, and their debuginfo:
//! `mod -s NAME [FILE]` loads one module's `.ko` (its types, globals and
//! lines join the kernel's), `mod -S [DIR]` every module found under a
//! tree, `mod -d NAME` / `mod -D` forget them (crash's `cmd_mod()`).
//! Without a file or tree, a module's debuginfo is the one its build id
//! finds where distributions install it, or from debuginfod
//! ([`kdive_kernel::Kernel::find_module_debuginfo`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use kdive_kernel::Module;

use super::text::center;
use super::{io, CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str = "mod [-s module [objfile] | -S [directory] | -d module | -D]";

enum Action {
    List,
    Load { name: String, file: Option<String> },
    LoadAll { tree: Option<String> },
    Delete(String),
    DeleteAll,
}

pub const COMMAND: Command = Command {
    name: "mod",
    aliases: &[],
    summary: "list the loaded modules; load or forget their debuginfo",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let action = parse(args)?;
    if s.kernel.modules().is_empty() && !matches!(action, Action::List) {
        return Err("no modules loaded in this kernel".into());
    }
    match action {
        Action::List if s.json => super::json::modules(s, out),
        Action::List => list(s, None, out),
        Action::Load { name, file } => {
            let m = module_by_ref(s, &name)?;
            let file = match file {
                Some(f) if Path::new(&f).exists() => PathBuf::from(f),
                Some(f) => s.kernel.find_module_debuginfo(&m, None).map_err(|e| {
                    format!("{}: cannot find or load object file: {f} ({e})", m.name)
                })?,
                None => s.kernel.find_module_debuginfo(&m, None).map_err(|e| {
                    format!(
                        "cannot find or load object file for {} module ({e})",
                        m.name
                    )
                })?,
            };
            load(s, &m.name, &file)?;
            list(s, Some(&m.name), out)
        }
        Action::LoadAll { tree } => {
            if let Some(t) = &tree {
                if !Path::new(t).is_dir() {
                    return Err(format!("{t} is not a directory\nUsage: {USAGE}"));
                }
            }
            let mods: Vec<Module> = s.kernel.modules().to_vec();
            let mut shown = false;
            for m in mods {
                let name = m.name.clone();
                match s
                    .kernel
                    .find_module_debuginfo(&m, tree.as_deref().map(Path::new))
                {
                    Ok(file) => {
                        if let Err(e) = load(s, &name, &file) {
                            let _ = out.flush();
                            eprintln!("mod: {e}");
                            s.failures += 1;
                        }
                        list_one(s, &name, !shown, out)?;
                        shown = true;
                    }
                    Err(_) => {
                        let _ = out.flush();
                        eprintln!("mod: cannot find or load object file for {name} module");
                    }
                }
            }
            Ok(())
        }
        Action::Delete(name) => {
            let m = module_by_ref(s, &name)?;
            s.kernel.unload_module_debuginfo(&m.name);
            Ok(())
        }
        Action::DeleteAll => {
            let names: Vec<String> = s.kernel.modules().iter().map(|m| m.name.clone()).collect();
            for n in names {
                s.kernel.unload_module_debuginfo(&n);
            }
            Ok(())
        }
    }
}

fn parse(args: &[String]) -> Result<Action, String> {
    let usage = || format!("Usage: {USAGE}");
    let mut it = args.iter();
    let Some(first) = it.next() else {
        return Ok(Action::List);
    };
    let rest: Vec<&String> = it.collect();
    let arg = |i: usize| rest.get(i).map(|s| s.to_string());
    let action = match first.as_str() {
        "-s" => Action::Load {
            name: arg(0).ok_or_else(usage)?,
            file: arg(1),
        },
        "-S" => Action::LoadAll { tree: arg(0) },
        "-d" => Action::Delete(arg(0).ok_or_else(usage)?),
        "-D" => Action::DeleteAll,
        o if o.starts_with('-') => return Err(format!("option {o} is not supported\n{}", usage())),
        _ => return Err(usage()),
    };
    let max = match action {
        Action::Load { .. } => 2,
        Action::LoadAll { .. } | Action::Delete(_) => 1,
        _ => 0,
    };
    if rest.len() > max {
        return Err(usage());
    }
    Ok(action)
}

/// A module by name, or by the address of its `struct module` or text.
fn module_by_ref(s: &Session, r: &str) -> Result<Module, String> {
    let k = &s.kernel;
    if let Some(m) = k.module(r) {
        return Ok(m.clone());
    }
    let hex = r.strip_prefix("0x").unwrap_or(r);
    if let Ok(a) = u64::from_str_radix(hex, 16) {
        if let Some(m) = k
            .modules()
            .iter()
            .find(|m| m.addr == a || m.base == a)
            .or_else(|| k.module_at(a))
        {
            return Ok(m.clone());
        }
    }
    Err(format!("{r}: not a loaded module\nUsage: {USAGE}"))
}

fn load(s: &Session, name: &str, file: &Path) -> Result<(), String> {
    match s.kernel.load_module_debuginfo(name, file) {
        Ok(Some(notice)) => {
            eprintln!("mod: {name}: {notice}");
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(format!("cannot load symbols from: {}: {e}", file.display())),
    }
}

/// The header and every module, or only `only`.
fn list(s: &Session, only: Option<&str>, out: &mut dyn Write) -> CmdResult {
    let mods = sorted(s);
    write_header(s, &mods, out)?;
    for m in mods.iter().filter(|m| only.is_none_or(|o| m.name == o)) {
        write_line(s, &mods, m, out)?;
    }
    Ok(())
}

fn list_one(s: &Session, name: &str, header: bool, out: &mut dyn Write) -> CmdResult {
    let mods = sorted(s);
    if header {
        write_header(s, &mods, out)?;
    }
    match mods.iter().find(|m| m.name == name) {
        Some(m) => write_line(s, &mods, m, out),
        None => Ok(()),
    }
}

/// crash keeps its modules sorted by the address of their struct module.
fn sorted(s: &Session) -> Vec<&Module> {
    let mut mods: Vec<_> = s.kernel.modules().iter().collect();
    mods.sort_by_key(|m| m.addr);
    mods
}

fn widths(mods: &[&Module]) -> (usize, usize) {
    let name_w = mods.iter().map(|m| m.name.len()).max().unwrap_or(4).max(4);
    let size_w = mods
        .iter()
        .map(|m| m.size.to_string().len())
        .max()
        .unwrap_or(4)
        .max(4);
    (name_w, size_w)
}

fn write_header(s: &Session, mods: &[&Module], out: &mut dyn Write) -> CmdResult {
    let (name_w, size_w) = widths(mods);
    // Kernels with `struct module_memory` (6.4 and later) have crash call
    // the base column TEXT_BASE.
    let base_label = if s
        .kernel
        .layouts()
        .is_some_and(|b| b.member_offset("module", "mem").is_some())
    {
        "TEXT_BASE"
    } else {
        "BASE"
    };
    writeln!(
        out,
        "{}  {:<name_w$}  {}  {:>size_w$}  OBJECT FILE",
        center("MODULE", 16, false),
        "NAME",
        center(base_label, 16, false),
        "SIZE"
    )
    .map_err(io)
}

fn write_line(s: &Session, mods: &[&Module], m: &Module, out: &mut dyn Write) -> CmdResult {
    let (name_w, size_w) = widths(mods);
    // crash prints the file's name and a blank (its " (temporary)" slot).
    let file = match s.kernel.module_debuginfo(&m.name) {
        Some(p) => format!(
            "{} ",
            p.file_name().map_or_else(
                || p.display().to_string(),
                |f| f.to_string_lossy().into_owned()
            )
        ),
        None => "(not loaded)  [CONFIG_KALLSYMS]".to_string(),
    };
    writeln!(
        out,
        "{:>16x}  {:<name_w$}  {:>16x}  {:>size_w$}  {file}",
        m.addr, m.name, m.base, m.size
    )
    .map_err(io)
}
