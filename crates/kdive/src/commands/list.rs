//! `list`: walk a linked list in the dump, printing each entry's address
//! and, with `-s`, the structure around it. The walk itself (options,
//! stop rules, loops and broken back-pointers) is in [`super::list_walk`];
//! this joins it to the kernel's memory and the struct printer.

use std::io::Write;

use super::list_walk::{self, unreadable, StructSpec};
use super::struct_cmd::{no_types, print_object};
use super::CmdResult;
use crate::session::Session;

pub use list_walk::USAGE;

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let types = s.kernel.types();
    let syms = |n: &str| s.kernel.symbol(n);
    let a = list_walk::parse_args(args, types, &syms)?;
    if !a.structs.is_empty() && types.is_none() {
        return Err(no_types(s));
    }
    let k = &s.kernel;
    let mut read = |addr: u64, what: &str| k.read_u64(addr).map_err(|_| unreadable(addr, what));
    let mut failed = false;
    let hex = a.radix == Some(16);
    let mut print = |spec: &StructSpec, addr: u64, out: &mut dyn Write| -> Result<(), String> {
        let src = types.ok_or("no type information")?;
        failed |= print_object(s, src, &spec.name, &spec.members, addr, hex, out)?;
        Ok(())
    };
    list_walk::walk(&a, &mut read, &mut print, out)?;
    if failed {
        s.failures += 1;
    }
    Ok(())
}
