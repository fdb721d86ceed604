//! `mod`: the loaded modules, as crash lists them.

use std::io::Write;

use super::{io, CmdResult};
use crate::session::Session;

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    if let Some(a) = args.iter().find(|a| a.starts_with('-')) {
        return Err(format!(
            "option {a}: only the module list is available yet (loading module debuginfo with -s/-S comes with the type layer)"
        ));
    }
    let k = &s.kernel;
    let mut mods: Vec<_> = k.modules().iter().collect();
    // crash keeps its modules sorted by the address of their struct module.
    mods.sort_by_key(|m| m.addr);
    let name_w = mods.iter().map(|m| m.name.len()).max().unwrap_or(4).max(4);
    let size_w = mods.iter().map(|m| m.size.to_string().len()).max().unwrap_or(4).max(4);
    // Kernels with `struct module_memory` (6.4 and later) have crash call
    // the base column TEXT_BASE.
    let base_label = if k.btf().is_some_and(|b| b.member_offset("module", "mem").is_some()) {
        "TEXT_BASE"
    } else {
        "BASE"
    };
    writeln!(
        out,
        "{}  {:<name_w$}  {}  {:>size_w$}  OBJECT FILE",
        center("MODULE", 16),
        "NAME",
        center(base_label, 16),
        "SIZE"
    )
    .map_err(io)?;
    for m in mods {
        writeln!(
            out,
            "{:>16x}  {:<name_w$}  {:>16x}  {:>size_w$}  (not loaded)  [CONFIG_KALLSYMS]",
            m.addr, m.name, m.base, m.size
        )
        .map_err(io)?;
    }
    Ok(())
}

/// crash's `mkstring(.., CENTER|LJUST, ..)`: centered, the odd blank on the
/// right.
fn center(s: &str, width: usize) -> String {
    let pad = width.saturating_sub(s.len());
    format!("{}{s}{}", " ".repeat(pad / 2), " ".repeat(pad - pad / 2))
}
