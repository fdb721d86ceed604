//! `rd`: read memory and show it as crash does. The options, the plan of
//! the read and the text are in `format`; here the memory is read.

pub mod format;

use std::io::Write;

use kdive_dump::ReadError;
use kdive_kernel::MemError;

use self::format::{
    format_rd, format_rd_failed, parse_rd_args, plan, read_failure, symbol_not_found, AddrSpace,
    RdOptions, ReadFailure,
};
use super::{io, CmdResult, Command};
use crate::expr::parse_address;
use crate::session::Session;

/// The longest read `rd` makes at once (a count larger than this is cut,
/// with a message, rather than allocating without bound).
const MAX_READ: u64 = 64 << 20;

pub const COMMAND: Command = Command {
    name: "rd",
    aliases: &[],
    summary: "read memory: words, bytes, symbols or text",
    usage: self::format::USAGE,
    run,
    without_dump: true,
    minimal: true,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    let (opts, addr_text, count) = parse_rd_args(args)?;
    let k = &s.kernel;
    let syms = |name: &str| k.symbol(name);
    let addr = match parse_address(&addr_text, &syms) {
        Ok(a) => a,
        Err(_) if is_word(&addr_text) => {
            let alternatives: Vec<String> = k
                .symbols()
                .iter()
                .filter(|sym| sym.name.contains(addr_text.as_str()))
                .map(|sym| format!("{:x} ({}) {}", sym.addr, sym.kind, sym.name))
                .collect();
            let text = symbol_not_found(&addr_text, &alternatives);
            // JSON: an error object, with the alternatives crash lists.
            if s.json {
                return Err(text.trim_end().to_string());
            }
            return write!(out, "{text}").map_err(io);
        }
        Err(e) => return Err(e.to_string()),
    };
    let end = match &opts.end {
        Some(e) => Some(parse_address(e, &syms).map_err(|e| e.to_string())?),
        None => None,
    };
    let p = plan(&opts, addr, count, end)?;
    if let Some(w) = &p.warning {
        eprintln!("rd: WARNING: {w}");
    }
    if p.read_len > MAX_READ {
        return Err(format!(
            "{} bytes is more than rd reads at once ({MAX_READ}); give a smaller count",
            p.read_len
        ));
    }
    let (data, failure) = read(s, &opts, p.start, p.read_len as usize)?;
    // crash names only values in the kernel's symbol range: small numbers
    // equal to per-CPU offsets are not symbols.
    let symbolize = |v: u64| {
        if !k.arch().is_kernel_address(v) {
            return None;
        }
        let (sym, off) = k.symbols().lookup(v)?;
        // crash's value_to_symstr(): offsets in its output radix, decimal.
        Some(if off == 0 {
            sym.name.clone()
        } else {
            format!("{}+{off}", sym.name)
        })
    };
    if let Some(file) = &opts.raw_file {
        let (data, failure) = read(s, &opts, p.start, p.read_len as usize)?;
        if let Some((kind, at)) = failure {
            return Err(read_failure(kind, &opts, at));
        }
        std::fs::write(file, &data).map_err(|e| format!("cannot write {file}: {e}"))?;
        return write!(out, "{}", raw_copied(data.len() as u64, p.start, file)).map_err(io);
    }
    if s.json {
        return json(&opts, p.start, &data, failure, &symbolize, out);
    }
    match failure {
        None => write!(out, "{}", format_rd(&opts, p.start, &data, &symbolize)).map_err(io),
        Some((kind, at)) => {
            let (text, reached) = format_rd_failed(&opts, p.start, &data, &symbolize);
            write!(out, "{text}").map_err(io)?;
            if reached {
                return Err(read_failure(kind, &opts, at));
            }
            Ok(())
        }
    }
}

/// `rd --json`: `{"address", "size", "words": [hex...], "symbols":
/// [name or null...] (with -s)}`, or `{"address", "text"}` for `-a`; a
/// read that stopped short is the error the text mode prints.
fn json(
    opts: &RdOptions,
    start: u64,
    data: &[u8],
    failure: Option<Stop>,
    symbolize: &dyn Fn(u64) -> Option<String>,
    out: &mut dyn Write,
) -> CmdResult {
    use self::format::Display;
    use super::json::{emit, hex};
    if matches!(opts.display, Display::Ascii) {
        let reached = format_rd_failed(opts, start, data, symbolize).1;
        if let (Some((kind, at)), true) = (failure, reached) {
            return Err(read_failure(kind, opts, at));
        }
        let printable: String = data
            .iter()
            .take_while(|&&b| (0x20..0x7f).contains(&b))
            .map(|&b| b as char)
            .collect();
        return emit(
            out,
            &serde_json::json!({ "address": hex(start), "text": printable }),
        );
    }
    if let Some((kind, at)) = failure {
        return Err(read_failure(kind, opts, at));
    }
    let size = opts.size() as usize;
    let words: Vec<u64> = data
        .chunks_exact(size)
        .map(|c| {
            let mut b = [0u8; 8];
            if opts.net_endian && size < 8 {
                b[..size].copy_from_slice(c);
                b[..size].reverse();
            } else {
                b[..size].copy_from_slice(c);
            }
            u64::from_le_bytes(b)
        })
        .collect();
    let mut v = serde_json::json!({
        "address": hex(start),
        "size": size,
        "words": words.iter().map(|&w| hex(w)).collect::<Vec<_>>(),
    });
    if opts.symbols && size == 8 {
        v["symbols"] = words
            .iter()
            .map(|&w| symbolize(w))
            .collect::<Vec<_>>()
            .into();
    }
    emit(out, &v)
}

/// Why and where a read stopped short.
type Stop = (ReadFailure, u64);

/// Read `len` bytes from `start`, page by page, keeping what was read
/// before a failure and saying where and why it stopped.
fn read(
    s: &Session,
    opts: &RdOptions,
    start: u64,
    len: usize,
) -> Result<(Vec<u8>, Option<Stop>), String> {
    let k = &s.kernel;
    let mut data = vec![0u8; len];
    let mut done = 0usize;
    while done < len {
        let at = start.wrapping_add(done as u64);
        let n = ((0x1000 - (at & 0xfff)) as usize).min(len - done);
        let r = match opts.space {
            AddrSpace::Physical => k.read_phys(at, &mut data[done..done + n]),
            AddrSpace::Kernel => k.read(at, &mut data[done..done + n]),
            _ => return Err(
                "only kernel virtual (-k, the default) and physical (-p) memory can be read yet"
                    .into(),
            ),
        };
        if let Err(e) = r {
            data.truncate(done);
            return Ok((data, Some((failure_kind(&e), e.addr()))));
        }
        done += n;
    }
    Ok((data, None))
}

fn failure_kind(e: &MemError) -> ReadFailure {
    let source = match e {
        MemError::Invalid { .. } => return ReadFailure::Unmapped,
        MemError::Unreadable { source, .. } | MemError::Physical { source, .. } => source,
    };
    match source {
        ReadError::Excluded { .. } => ReadFailure::Excluded,
        ReadError::NotInDump { .. } | ReadError::BeyondMemory { .. } => ReadFailure::Seek,
        ReadError::Truncated { .. } => ReadFailure::Incomplete,
        ReadError::Corrupt { .. } => ReadFailure::Read,
    }
}

/// A bare name (crash lists alternatives for an unknown symbol).
fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What crash prints when `rd -r FILE` has written the memory.
fn raw_copied(count: u64, addr: u64, file: &str) -> String {
    format!("{count} bytes copied from 0x{addr:x} to {file}\n")
}
