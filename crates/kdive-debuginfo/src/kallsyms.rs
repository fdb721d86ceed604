//! The kernel's own symbol table, kallsyms, decoded from a dump's memory:
//! symbols with no vmlinux.
//!
//! The tables are found through VMCOREINFO (`SYMBOL(kallsyms_names)` and
//! the rest, since Linux 6.0 and in some distribution backports), or else
//! by scanning the kernel's read-only data for them ([`scan`]), and read
//! through a reader of kernel virtual memory. 64-bit little-endian kernels.
//! The variants handled: names with one-byte token counts (before 6.1) or
//! with two-byte counts for long entries (6.1 on), told apart by
//! `kallsyms_markers` (see [`LengthFormat`]); addresses absolute,
//! base-relative, absolute per-CPU or place-relative (see
//! [`AddressEncoding`]).

mod addrs;
mod derive;
mod memory;
mod names;
mod scan;

use kdive_dump::VmcoreInfo;

pub use addrs::AddressEncoding;
pub use scan::{scan, ScanHints, Scanned, MAX_SCAN};

use crate::symbols::{is_noise, Symbol, SymbolTable};
use memory::{Reader, Table};

/// An error decoding kallsyms.
#[derive(Debug, thiserror::Error)]
pub enum KallsymsError {
    #[error("VMCOREINFO has no SYMBOL({0}): this kernel does not publish its kallsyms tables (Linux 6.0 and later do)")]
    Missing(&'static str),
    #[error("reading {what} at {addr:#x}: {source}")]
    Read {
        what: &'static str,
        addr: u64,
        source: kdive_dump::MemError,
    },
    #[error("kallsyms: {0}")]
    Bad(String),
    #[error("no kallsyms tables found in {start:#x}..{end:#x} ({} KiB read){}", scanned >> 10, last_try(last))]
    NotFound {
        start: u64,
        end: u64,
        scanned: u64,
        /// Why the last candidate was not believed.
        last: Option<Box<KallsymsError>>,
    },
}

fn last_try(last: &Option<Box<KallsymsError>>) -> String {
    last.as_ref()
        .map(|e| format!("; the last candidate: {e}"))
        .unwrap_or_default()
}

/// Where the kallsyms tables are in kernel virtual memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KallsymsLocations {
    pub num_syms: u64,
    pub names: u64,
    pub token_table: u64,
    pub token_index: u64,
    /// `kallsyms_offsets`, absent in kernels storing absolute addresses.
    pub offsets: Option<u64>,
    /// `kallsyms_relative_base`, absent before base-relative kallsyms and
    /// since 7.0.
    pub relative_base: Option<u64>,
    /// `kallsyms_addresses`, in kernels without base-relative kallsyms.
    pub addresses: Option<u64>,
    /// The address of `_stext`, to tell the address encodings apart.
    pub stext: Option<u64>,
    /// The kernel release, to choose a names format when the data cannot.
    pub release: Option<String>,
}

impl KallsymsLocations {
    /// The locations VMCOREINFO gives.
    pub fn from_vmcoreinfo(info: &VmcoreInfo) -> Result<KallsymsLocations, KallsymsError> {
        let need = |name| info.symbol(name).ok_or(KallsymsError::Missing(name));
        let loc = KallsymsLocations {
            num_syms: need("kallsyms_num_syms")?,
            names: need("kallsyms_names")?,
            token_table: need("kallsyms_token_table")?,
            token_index: need("kallsyms_token_index")?,
            offsets: info.symbol("kallsyms_offsets"),
            relative_base: info.symbol("kallsyms_relative_base"),
            addresses: info.symbol("kallsyms_addresses"),
            stext: info.symbol("_stext"),
            release: info.get("OSRELEASE").map(str::to_string),
        };
        if loc.offsets.is_none() && loc.addresses.is_none() {
            return Err(KallsymsError::Missing("kallsyms_offsets"));
        }
        Ok(loc)
    }
}

/// How the names' token counts were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthFormat {
    /// No entry of 128 tokens or more: both formats read the same.
    Unambiguous,
    /// One byte, or two when the high bit is set (6.1 on); checked against
    /// `kallsyms_markers`.
    TwoByte,
    /// Always one byte (before 6.1); checked against `kallsyms_markers`.
    OneByte,
    /// `kallsyms_markers` could not tell: two bytes guessed from the release.
    TwoByteGuessed,
    /// `kallsyms_markers` could not tell: one byte guessed from the release.
    OneByteGuessed,
}

/// Symbols decoded from kallsyms, and how they were stored.
#[derive(Debug, Clone)]
pub struct Kallsyms {
    pub symbols: SymbolTable,
    /// Entries in the kernel's table (`kallsyms_num_syms`), before
    /// [`is_noise`] ones were left out.
    pub num_syms: usize,
    pub lengths: LengthFormat,
    pub encoding: AddressEncoding,
    /// `kallsyms_markers` agrees with the walk of the names: a check that
    /// the count and the tables are what the kernel wrote.
    pub markers_match: bool,
}

/// More symbols than any kernel has: a bound against a corrupt count.
const MAX_SYMS: u64 = 4 << 20;

/// Sizes come from the next symbol's address, up to this: beyond, the gap
/// is a hole between regions (per-CPU offsets, then kernel text), not the
/// symbol.
pub const MAX_DERIVED_SIZE: u64 = 4 << 20;

/// Decode kallsyms at `loc`, reading kernel virtual memory from `mem`.
pub fn load(
    loc: &KallsymsLocations,
    mem: &dyn kdive_dump::Memory,
) -> Result<Kallsyms, KallsymsError> {
    let mut mem = Reader::new(mem);
    let n = u64::from(mem.u32("kallsyms_num_syms", loc.num_syms)?);
    if n == 0 || n > MAX_SYMS {
        return Err(KallsymsError::Bad(format!("kallsyms_num_syms is {n}")));
    }
    let names = Names::decode(&mut mem, loc, n as usize)?;
    let (addrs, encoding) = addrs::read(&mut mem, loc, names.len(), names.stext())?;
    Ok(names.with_addresses(&addrs, encoding))
}

/// The decoded names of kallsyms, before their addresses.
struct Names {
    decoded: Vec<(char, String)>,
    lengths: LengthFormat,
    markers_match: bool,
}

impl Names {
    /// Decode the `n` names at `loc`.
    fn decode(
        mem: &mut Reader<'_>,
        loc: &KallsymsLocations,
        n: usize,
    ) -> Result<Names, KallsymsError> {
        let tokens = names::Tokens::read(mem, loc.token_table, loc.token_index)?;
        let mut table = Table::new("kallsyms_names", loc.names);
        let (entries, lengths) = walk_names(&mut table, mem, loc, n)?;
        let markers_match = match lengths {
            LengthFormat::TwoByte | LengthFormat::OneByte => true,
            LengthFormat::Unambiguous => names::markers_match(&mut table, mem, loc.names, &entries),
            _ => false,
        };
        let mut buf = Vec::with_capacity(128);
        let mut decoded: Vec<(char, String)> = Vec::with_capacity(n);
        for &(_, start, count) in &entries.spans {
            let (start, count) = (start as usize, count as usize);
            tokens.expand(&table.bytes[start..start + count], &mut buf);
            let kind = buf.first().map_or('?', |&b| b as char);
            let name = String::from_utf8_lossy(buf.get(1..).unwrap_or_default()).into_owned();
            decoded.push((kind, name));
        }
        Ok(Names {
            decoded,
            lengths,
            markers_match,
        })
    }

    fn len(&self) -> usize {
        self.decoded.len()
    }

    /// The index of the `_stext` entry.
    fn stext(&self) -> Option<usize> {
        self.decoded.iter().position(|(_, name)| name == "_stext")
    }

    fn with_addresses(self, addrs: &[u64], encoding: AddressEncoding) -> Kallsyms {
        let num_syms = self.decoded.len();
        let mut syms = Vec::with_capacity(num_syms);
        for (i, (kind, name)) in self.decoded.into_iter().enumerate() {
            if is_noise(&name) {
                continue;
            }
            syms.push(Symbol {
                name,
                addr: addrs[i],
                size: derived_size(addrs, i),
                kind,
                module: None,
            });
        }
        Kallsyms {
            symbols: SymbolTable::new(syms),
            num_syms,
            lengths: self.lengths,
            encoding,
            markers_match: self.markers_match,
        }
    }
}

/// The size of symbol `i`: up to the next higher address, within reason.
fn derived_size(addrs: &[u64], i: usize) -> u64 {
    let a = addrs[i];
    addrs[i + 1..]
        .iter()
        .find(|&&b| b != a)
        .map(|&b| b.wrapping_sub(a))
        .filter(|&d| d <= MAX_DERIVED_SIZE)
        .unwrap_or(0)
}

/// Walk the names with the right count format (see names.rs).
fn walk_names(
    table: &mut Table,
    mem: &mut Reader<'_>,
    loc: &KallsymsLocations,
    n: usize,
) -> Result<(names::Entries, LengthFormat), KallsymsError> {
    // A wrong guess of the format can run off the end of the table: an
    // error of one walk is final only if the other fails too.
    let long = names::walk(table, mem, n, true);
    match &long {
        Ok(l) if !l.ambiguous => return long.map(|l| (l, LengthFormat::Unambiguous)),
        Ok(l) if names::markers_match(table, mem, loc.names, l) => {
            return long.map(|l| (l, LengthFormat::TwoByte))
        }
        _ => {}
    }
    let short = names::walk(table, mem, n, false);
    if let Ok(s) = &short {
        if names::markers_match(table, mem, loc.names, s) {
            return short.map(|s| (s, LengthFormat::OneByte));
        }
    }
    let recent = release_at_least(loc.release.as_deref(), (6, 1));
    match (long, short) {
        (Ok(l), _) if recent => Ok((l, LengthFormat::TwoByteGuessed)),
        (_, Ok(s)) => Ok((s, LengthFormat::OneByteGuessed)),
        (Ok(l), Err(_)) => Ok((l, LengthFormat::TwoByteGuessed)),
        (Err(e), Err(_)) => Err(e),
    }
}

/// Whether a release string (`6.1.0-47-cloud-amd64`) is at least
/// `major.minor`; an unknown or unparsable release counts as recent.
fn release_at_least(release: Option<&str>, want: (u32, u32)) -> bool {
    let Some(r) = release else { return true };
    let mut it = r.split(|c: char| !c.is_ascii_digit());
    let major = it.next().and_then(|s| s.parse::<u32>().ok());
    let minor = it.next().and_then(|s| s.parse::<u32>().ok()).unwrap_or(0);
    major.is_none_or(|m| (m, minor) >= want)
}

#[cfg(test)]
mod scan_tests;
#[cfg(test)]
mod tests;
