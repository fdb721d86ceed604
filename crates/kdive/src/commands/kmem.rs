//! `kmem`: the kernel's memory, as crash's `cmd_kmem()` shows it. The slab
//! options (`-s`, `-S`, an address) are in [`super::kmem_slab`]; kdive
//! adds what crash does not: the allocator's corrupt metadata, reported on
//! standard error where it is found, crash's columns left as they are.

use std::io::Write;

use super::{kmem_addr, kmem_info, kmem_pages, kmem_slab, kmem_vmalloc, CmdResult};
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
    if s.json && !matches!(mode, Mode::Caches) {
        return Err("no JSON view for this option yet (kmem -s has one)".into());
    }
    match mode {
        Mode::Info => return kmem_info::show(&s.kernel, out),
        Mode::Vmalloc => return kmem_vmalloc::show(&s.kernel, out),
        _ => {}
    }
    if let Mode::Pages = mode {
        return match rest.as_slice() {
            [] => kmem_pages::show(&s.kernel, None, out).map(|_| ()),
            [one] => {
                let addr = address(one).ok_or_else(|| format!("Usage: {USAGE}"))?;
                match kmem_pages::show(&s.kernel, Some(addr), out)? {
                    true => Ok(()),
                    false => Err(format!("{addr:x}: address not found in mem map")),
                }
            }
            _ => Err(format!("Usage: {USAGE}")),
        };
    }
    let slub = s.kernel.slub().map_err(|e| e.to_string())?;
    if s.json {
        return kmem_slab::json(&slub, &rest, out);
    }
    match mode {
        Mode::Pages | Mode::Info | Mode::Vmalloc => Ok(()),
        Mode::Caches | Mode::Slabs => {
            let verbose = matches!(mode, Mode::Slabs);
            match rest.as_slice() {
                [] => kmem_slab::all(&slub, verbose, out),
                // As crash: a hexadecimal word is an address, of a cache or
                // of something in a slab.
                [one] => match address(one) {
                    Some(addr) => kmem_slab::by_address(&slub, virtual_of(s, addr), verbose, out),
                    None => match slub.cache_named(one) {
                        Some(c) => kmem_slab::cache(&slub, &c, verbose, out),
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
            kmem_addr::show(s, addr, out)
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
