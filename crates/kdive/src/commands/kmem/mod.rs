//! `kmem`: the kernel's memory, as crash's `cmd_kmem()` shows it. The slab
//! options (`-s`, `-S`, an address) are in [`self::slab`]; kdive
//! adds what crash does not: the allocator's corrupt metadata, reported on
//! standard error where it is found, crash's columns left as they are.

mod addr;
mod info;
mod pages;
mod sheaves;
mod slab;
mod slab_json;
mod vmalloc;

use std::io::Write;

use super::{CmdResult, Command};
use crate::session::Session;

pub const USAGE: &str =
    "kmem [-s|-S] [CACHE|ADDRESS] | kmem -p [ADDRESS] | kmem -i | kmem -v | kmem ADDRESS";

enum Mode {
    /// `-s`: one line per cache.
    Caches,
    /// `-S`: every slab of the caches, object by object.
    Slabs,
    /// `-p`: page structures.
    Pages,
    /// `-i`: the memory summary.
    Info,
    /// `-v`: the vmalloc areas.
    Vmalloc,
    /// No option: what an address is.
    Address,
}

pub const COMMAND: Command = Command {
    name: "kmem",
    aliases: &[],
    summary: "the slab allocator's caches, slabs and objects, and what an address is",
    usage: USAGE,
    run,
    without_dump: false,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let mut mode = Mode::Address;
    let mut rest = Vec::new();
    for a in args {
        match a.as_str() {
            "-s" => mode = Mode::Caches,
            "-S" => mode = Mode::Slabs,
            "-p" => mode = Mode::Pages,
            "-i" => mode = Mode::Info,
            "-v" => mode = Mode::Vmalloc,
            o if o.starts_with('-') && !is_number(o) => {
                return Err(format!("option {o} is not supported\nUsage: {USAGE}"))
            }
            _ => rest.push(a.as_str()),
        }
    }
    match mode {
        Mode::Info if s.json => return info::json(&s.kernel, out),
        Mode::Info => return info::show(&s.kernel, out),
        Mode::Vmalloc => return vmalloc::show(s, out),
        _ => {}
    }
    if let (Mode::Pages, true) = (&mode, s.json) {
        let addr = match rest.as_slice() {
            [] => None,
            [one] => Some(address(one).ok_or_else(|| format!("Usage: {USAGE}"))?),
            _ => return Err(format!("Usage: {USAGE}")),
        };
        return pages::json(&s.kernel, addr, out);
    }
    if let Mode::Pages = mode {
        return match rest.as_slice() {
            [] => pages::show(&s.kernel, None, out).map(|_| ()),
            [one] => {
                let addr = address(one).ok_or_else(|| format!("Usage: {USAGE}"))?;
                match pages::show(&s.kernel, Some(addr), out)? {
                    true => Ok(()),
                    false => Err(format!("{addr:x}: address not found in mem map")),
                }
            }
            _ => Err(format!("Usage: {USAGE}")),
        };
    }
    let slub = s.kernel.slub().map_err(|e| e.to_string())?;
    if s.json && matches!(mode, Mode::Caches | Mode::Slabs) {
        return slab::json(&slub, &rest, matches!(mode, Mode::Slabs), out);
    }
    match mode {
        Mode::Pages | Mode::Info | Mode::Vmalloc => Ok(()),
        Mode::Caches | Mode::Slabs => {
            let verbose = matches!(mode, Mode::Slabs);
            match rest.as_slice() {
                [] => slab::all(&slub, verbose, out),
                // As crash: a hexadecimal word is an address, of a cache or
                // of something in a slab.
                [one] => match address(one) {
                    Some(addr) => slab::by_address(&slub, virtual_of(s, addr), verbose, out),
                    None => match slub.cache_named(one) {
                        Some(c) => slab::cache(&slub, &c, verbose, out),
                        None => Err(format!("invalid kmem_cache name: {one}")),
                    },
                },
                _ => Err("only one kmem_cache reference is allowed".into()),
            }
        }
        Mode::Address => {
            let [one] = rest.as_slice() else {
                return Err(format!("Usage: {USAGE}"));
            };
            let addr = address(one).ok_or_else(|| format!("Usage: {USAGE}"))?;
            addr::show(s, addr, out)
        }
    }
}

/// crash takes an address below the kernel's half for a physical one.
fn virtual_of(s: &Session, addr: u64) -> u64 {
    if addr < s.kernel.layout().page_offset_base {
        s.kernel.ptov(addr)
    } else {
        addr
    }
}

/// A hexadecimal address (crash's `kmem` takes them with or without 0x).
pub(super) fn address(a: &str) -> Option<u64> {
    let h = a.strip_prefix("0x").unwrap_or(a);
    if h.is_empty() || !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(h, 16).ok()
}

fn is_number(a: &str) -> bool {
    a.trim_start_matches('-')
        .bytes()
        .all(|c| c.is_ascii_digit())
}
