//! `rd`, without the memory: its options, how much to read, and the text
//! crash prints for what was read (memory.c: `cmd_rd()`,
//! `display_memory()`, `readmem()`), column for column.
//!
//! The caller:
//!
//! 1. `parse_rd_args(args)` gives the options, the address text and the
//!    count as typed;
//! 2. resolves the address (`crate::expr::parse_address`) and `-e`'s, and
//!    calls `plan()` for where to start, how many items and bytes;
//! 3. reads `plan.read_len` bytes once, keeping the readable prefix if the
//!    read fails part-way;
//! 4. prints `format_rd()` of the data; or, when the read failed after
//!    `data`, `format_rd_failed()` and then, when that says crash would
//!    get there, the error from `read_failure()`, right after the text:
//!    crash leaves the line it was building open (words, no ASCII column,
//!    no newline), so the error follows on the same line:
//!
//! ```text
//!         3ffdcfe8:  0000000000000000 0000000000000000   ................
//!         3ffdcff8:  0000000000000000 rd: seek error: physical address: 3ffdd000  type: "64-bit PHYSADDR"
//! ```
//!
//! The address in the error is that of the first byte that could not be
//! read (`readmem()` reads page by page), which is `start + data.len()`
//! when `data` is the readable prefix.
//!
//! Line layout (x86-64): the address right-justified in 16 columns, `:  `,
//! then the items, each followed by one blank: 2 per line at 64 bits
//! (`%016lx`), 4 at 32, 8 at 16, 16 at 8. In hexadecimal, unless `-s`,
//! `-S` or `-x`, two more blanks and the bytes as ASCII (`.` for anything
//! outside 0x20..0x7e); a short last line is padded so that its ASCII
//! column lines up with the others. With `-s` a 64-bit word that is a
//! symbol's address prints as the symbol (`%-16s `). `-d` and `-D` print
//! `%15ld`/`%20lu` (64), `%12d`/`%12u` (32), `%5`, `%3` wide, no ASCII.
//! `-a` prints the bytes as text, 60 to a line, skipping non-printable
//! bytes (each starts a new line), and without a count stops at the first
//! one.
//!
//! Where this differs from crash 8.0.2, on purpose:
//! - `rd -a ADDR` without a count ends its last line with a newline; crash
//!   returns without one, so the next prompt (or, in the corpus
//!   transcripts, the next `@@@` marker) runs on after the text.
//! - `-d` on 8- and 16-bit items is signed, as documented; crash passes the
//!   unsigned byte/short to `%3d`/`%5d` and so prints 0..255/0..65535.
//! - `-e` takes an address expression (crash takes only hex digits).
//! - `rd (EXPR)` works: crash 8.0.2 on 64-bit reads an uninitialized
//!   result and fails (`evall()` returns `ll_num`, which `eval_common()`
//!   only sets on 32-bit).
//! - A read without a count but with `-a` stops after `ASCII_UNLIMITED_MAX`
//!   bytes with no terminator (crash goes on until it finds one).

/// crash's synopsis of `rd`.
pub const USAGE: &str =
    "rd [-adDsSupxmfNR][-8|-16|-32|-64][-o offs][-e addr][-r file][address|symbol]\n     [count]";

/// How far `rd -a ADDR` (no count) reads looking for the end of the text.
pub const ASCII_UNLIMITED_MAX: u64 = 64 * 1024;

/// What the address means (crash's memtype).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrSpace {
    /// Kernel virtual (the default).
    Kernel,
    /// User virtual, in the current task's address space (`-u`).
    User,
    /// Physical (`-p`).
    Physical,
    /// An offset in the dump file itself (`-f`).
    DumpFile,
}

impl AddrSpace {
    /// crash's short name, as in the read type `64-bit KVADDR`.
    fn tag(self) -> &'static str {
        match self {
            AddrSpace::Kernel => "KVADDR",
            AddrSpace::User => "UVADDR",
            AddrSpace::Physical => "PHYSADDR",
            AddrSpace::DumpFile => "FILEADDR",
        }
    }

    /// crash's words, as in `read error: kernel virtual address: …`.
    fn words(self) -> &'static str {
        match self {
            AddrSpace::Kernel => "kernel virtual",
            AddrSpace::User => "user virtual",
            AddrSpace::Physical => "physical",
            AddrSpace::DumpFile => "dumpfile",
        }
    }
}

/// What is displayed: one of these, the last option given wins, as in crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    Bits8,
    Bits16,
    Bits32,
    Bits64,
    /// `-a`: text.
    Ascii,
    /// `-r FILE`: the bytes, to a file; nothing is displayed. crash then
    /// prints `16 bytes copied from 0xffffffff8e41aa40 to FILE`.
    Raw,
}

/// How numbers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Radix {
    Hex,
    /// `-d`
    Signed,
    /// `-D`
    Unsigned,
}

/// `rd`'s options. `Default` is crash's: 64-bit hexadecimal words of kernel
/// virtual memory, with the ASCII column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdOptions {
    pub display: Display,
    pub radix: Radix,
    /// `-s` or `-S`: show symbols (64-bit hexadecimal only).
    pub symbols: bool,
    /// How many `-S`: 1 shows slab objects as `[cache]`, 2 as `[addr:cache]`
    /// (the symbolizer's business; kept for it).
    pub slab: u8,
    /// `-x`: no ASCII column.
    pub no_ascii: bool,
    pub space: AddrSpace,
    /// `-R`: the count items *ending* at the address.
    pub reverse: bool,
    /// `-N`: 16- and 32-bit items in network (big-endian) byte order.
    pub net_endian: bool,
    /// `-r FILE`.
    pub raw_file: Option<String>,
    /// `-e END`, as typed: the caller resolves it.
    pub end: Option<String>,
    /// `-o OFFSET`, added to the address.
    pub offset: Option<u64>,
    /// `-a` with neither a count nor `-e`: stop at the first byte that is
    /// not printable. Set by `parse_rd_args()`.
    pub ascii_unlimited: bool,
}

impl Default for RdOptions {
    fn default() -> Self {
        RdOptions {
            display: Display::Bits64,
            radix: Radix::Hex,
            symbols: false,
            slab: 0,
            no_ascii: false,
            space: AddrSpace::Kernel,
            reverse: false,
            net_endian: false,
            raw_file: None,
            end: None,
            offset: None,
            ascii_unlimited: false,
        }
    }
}

impl RdOptions {
    /// Bytes per item: 8, 4, 2, or 1 for text and raw.
    pub fn size(&self) -> u64 {
        match self.display {
            Display::Bits64 => 8,
            Display::Bits32 => 4,
            Display::Bits16 => 2,
            Display::Bits8 | Display::Ascii | Display::Raw => 1,
        }
    }

    /// Whether 64-bit words are shown as symbols: crash needs `-s` with
    /// hexadecimal 64-bit display (`rd -s -32` prints plain 32-bit hex).
    fn symbolic(&self) -> bool {
        self.symbols && self.radix == Radix::Hex && self.display == Display::Bits64
    }

    /// Whether lines end with the ASCII column (crash's ASCII_ENDLINE: any
    /// `-s`, even one that shows no symbols, turns it off).
    fn ascii_column(&self) -> bool {
        self.radix == Radix::Hex && !self.symbols && !self.no_ascii
    }
}

// ---------------------------------------------------------------------
// Arguments.

/// Parse `rd`'s words (after the command name) as crash's getopt does:
/// options may be grouped (`-xs`) and come anywhere (`rd init_task -e X`);
/// `-8 -16 -32 -64 -a -r` choose the display and the last one wins.
/// Words from `(` to the matching `)` are one argument (the session splits
/// on blanks; crash keeps them together).
///
/// Returns the options, the address as typed, and the count if one was
/// given (crash's `stol()`: decimal, or hex when not all decimal digits).
pub fn parse_rd_args(args: &[String]) -> Result<(RdOptions, String, Option<u64>), String> {
    let words = group_parens(args);
    let mut opts = RdOptions::default();
    let mut positional = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        if w == "--" {
            positional.extend(words[i..].iter().cloned());
            break;
        }
        match w.strip_prefix('-') {
            Some(cluster) if !cluster.is_empty() => {
                i += parse_cluster(cluster, words.get(i), &mut opts)?;
            }
            _ => positional.push(w.clone()),
        }
    }
    let mut positional = positional.into_iter();
    let addr = positional
        .next()
        .ok_or_else(|| format!("missing address\nUsage:\n  {USAGE}"))?;
    let count = match positional.next() {
        Some(c) => {
            Some(crate::expr::parse_number(&c).map_err(|_| format!("not a valid number: {c}"))?)
        }
        None => None,
    };
    opts.ascii_unlimited = opts.display == Display::Ascii && count.is_none() && opts.end.is_none();
    Ok((opts, addr, count))
}

/// Join a word starting with `(` with the words after it until the
/// parentheses balance (or the line ends, as in crash's `parse_line()`).
fn group_parens(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: Option<(String, i64)> = None;
    for a in args {
        let depth_change = a.matches('(').count() as i64 - a.matches(')').count() as i64;
        match open.take() {
            Some((mut text, depth)) => {
                text.push(' ');
                text.push_str(a);
                let depth = depth + depth_change;
                if depth > 0 {
                    open = Some((text, depth));
                } else {
                    out.push(text);
                }
            }
            None if a.starts_with('(') && depth_change > 0 => {
                open = Some((a.clone(), depth_change))
            }
            None => out.push(a.clone()),
        }
    }
    out.extend(open.map(|(text, _)| text));
    out
}

/// One word of options (without its `-`). Options that take a value take
/// the rest of the word or else `next`; returns how many following words
/// were used (0 or 1).
fn parse_cluster(
    cluster: &str,
    next: Option<&String>,
    opts: &mut RdOptions,
) -> Result<usize, String> {
    for (pos, c) in cluster.char_indices() {
        if !matches!(c, 'e' | 'r' | 'o' | '1' | '3' | '6') {
            flag(c, opts)?;
            continue;
        }
        let rest = &cluster[pos + c.len_utf8()..];
        let (value, used) = if !rest.is_empty() {
            (rest.to_string(), 0)
        } else {
            let v = next.ok_or_else(|| format!("option requires an argument -- '{c}'"))?;
            (v.clone(), 1)
        };
        valued(c, &value, opts)?;
        return Ok(used);
    }
    Ok(0)
}

/// An option without a value.
fn flag(c: char, opts: &mut RdOptions) -> Result<(), String> {
    match c {
        'R' => opts.reverse = true,
        'a' => opts.display = Display::Ascii,
        'x' => opts.no_ascii = true,
        '8' => opts.display = Display::Bits8,
        'p' => opts.space = AddrSpace::Physical,
        'u' => opts.space = AddrSpace::User,
        'f' => opts.space = AddrSpace::DumpFile,
        'm' => return Err("-m option only applies to xen architecture".into()),
        // -d wins over -D whatever the order (crash tests DECIMAL first).
        'd' => opts.radix = Radix::Signed,
        'D' if opts.radix != Radix::Signed => opts.radix = Radix::Unsigned,
        'D' => {}
        'N' => opts.net_endian = true,
        's' | 'S' => symbols_flag(c, opts)?,
        _ => return Err(format!("invalid option -- '{c}'")),
    }
    Ok(())
}

/// `-s`/`-S`: allowed only while the display is 64-bit (crash checks the
/// display chosen so far, so `-s -32` is accepted and `-32 -s` is not).
fn symbols_flag(c: char, opts: &mut RdOptions) -> Result<(), String> {
    if opts.display != Display::Bits64 {
        return Err(format!("-{c} option is only allowed with 64-bit display"));
    }
    opts.symbols = true;
    if c == 'S' {
        opts.slab = opts.slab.saturating_add(1);
    }
    Ok(())
}

/// An option with a value.
fn valued(c: char, value: &str, opts: &mut RdOptions) -> Result<(), String> {
    match (c, value) {
        ('1', "6") => opts.display = Display::Bits16,
        ('3', "2") => opts.display = Display::Bits32,
        ('6', "4") => opts.display = Display::Bits64,
        ('1' | '3' | '6', _) => return Err(format!("invalid option: {c}{value}")),
        ('e', _) => opts.end = Some(value.to_string()),
        ('r', _) => {
            opts.display = Display::Raw;
            opts.raw_file = Some(value.to_string());
        }
        // 'o': crash's stol(), like the count.
        _ => {
            let v = crate::expr::parse_number(value)
                .map_err(|_| format!("not a valid number: {value}"))?;
            opts.offset = Some(v);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------
// What to read.

/// Where `rd` starts and how much it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdPlan {
    /// The first address displayed (after `-o` and `-R`).
    pub start: u64,
    /// Items to display (bytes for `-a` and `-r`).
    pub items: u64,
    /// Bytes to read from `start`.
    pub read_len: u64,
    /// A warning crash prints before the output (as `rd: WARNING: …`).
    pub warning: Option<String>,
}

/// Work out the read, with crash's rules and messages: `addr` is the
/// resolved address, `count` as parsed, `end` the resolved `-e`.
pub fn plan(
    opts: &RdOptions,
    addr: u64,
    count: Option<u64>,
    end: Option<u64>,
) -> Result<RdPlan, String> {
    let addr = addr.wrapping_add(opts.offset.unwrap_or(0));
    let size = opts.size();
    let mut warning = None;
    let mut items = match (count, end) {
        (Some(c), e) => {
            if e.is_some() {
                warning = Some("ending address ignored when count is specified".to_string());
            }
            c
        }
        (None, Some(end)) if end <= addr => {
            return Err(format!("invalid ending address: {end:x}"));
        }
        // Whole items only: `rd -p -e 100c 1000` shows one word, and
        // `-e 1001` none, which crash reports as a count of 0.
        (None, Some(end)) => (end - addr) / size,
        (None, None) if opts.display == Display::Raw => {
            return Err("-r option requires either a count argument or the -e option".into());
        }
        (None, None) if opts.ascii_unlimited => ASCII_UNLIMITED_MAX,
        (None, None) => 1,
    };
    let mut start = addr;
    if opts.reverse && !opts.ascii_unlimited {
        items = items.max(1); // crash: `if (!count) count = 1`
        start = addr.wrapping_sub((items - 1).wrapping_mul(size));
    }
    if items == 0 {
        return Err("invalid count request: 0".into());
    }
    Ok(RdPlan {
        start,
        items,
        read_len: items.saturating_mul(size),
        warning,
    })
}

// ---------------------------------------------------------------------
// Errors and messages.

/// Why a read stopped, as crash's `readmem()` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    /// `read error:` the data could not be read.
    Read,
    /// `seek error:` no such address in the dump (not RAM, past its end).
    Seek,
    /// `page excluded:` the dump level left the page out (crash 8.0.2 says
    /// so; later versions print nothing but stop all the same).
    Excluded,
    /// `page incomplete:` the page is cut short in the file.
    Incomplete,
    /// `invalid kernel virtual address:` / `invalid user virtual address:`
    /// the address does not translate.
    Unmapped,
}

/// crash's name for what `rd` was reading: `64-bit KVADDR`, `8-bit
/// PHYSADDR`, `ascii`, …
pub fn read_type(opts: &RdOptions) -> String {
    match opts.display {
        Display::Ascii => "ascii".to_string(),
        Display::Raw => "raw dump to file".to_string(),
        _ => format!("{}-bit {}", opts.size() * 8, opts.space.tag()),
    }
}

/// The error message for a read of `rd` that failed at `addr`, without the
/// `rd: ` crash puts in front (the session adds the command's name), e.g.
/// `seek error: physical address: 3ffdd000  type: "64-bit PHYSADDR"`.
pub fn read_failure(kind: ReadFailure, opts: &RdOptions, addr: u64) -> String {
    let what = match kind {
        ReadFailure::Read => "read error",
        ReadFailure::Seek => "seek error",
        ReadFailure::Excluded => "page excluded",
        ReadFailure::Incomplete => "page incomplete",
        ReadFailure::Unmapped => {
            return match opts.space {
                AddrSpace::User => unmapped("user", addr, opts),
                AddrSpace::Kernel => unmapped("kernel", addr, opts),
                // Physical addresses do not translate, so cannot fail to.
                _ => read_failure(ReadFailure::Read, opts, addr),
            };
        }
    };
    format!(
        "{what}: {} address: {addr:x}  type: \"{}\"",
        opts.space.words(),
        read_type(opts)
    )
}

fn unmapped(space: &str, addr: u64, opts: &RdOptions) -> String {
    format!(
        "invalid {space} virtual address: {addr:x}  type: \"{}\"",
        read_type(opts)
    )
}

/// What crash prints for `rd NAME` when NAME is neither a number nor a
/// symbol: `alternatives` are the lines `sym` would print for symbols
/// containing NAME. crash prints this as output, not as an error.
pub fn symbol_not_found(name: &str, alternatives: &[String]) -> String {
    let mut out = format!("symbol not found: {name}\npossible alternatives:\n");
    if alternatives.is_empty() {
        out.push_str("  (none found)\n");
    }
    for a in alternatives {
        out.push_str("  ");
        out.push_str(a);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------
// Formatting.

/// The text crash prints for `data` read from `addr`: whole items only
/// (`data.len() / size`), every line complete.
pub fn format_rd(
    opts: &RdOptions,
    addr: u64,
    data: &[u8],
    symbolize: &dyn Fn(u64) -> Option<String>,
) -> String {
    render(opts, addr, data, symbolize, false).0
}

/// The text crash prints when the read failed right after `data`, and
/// whether crash gets as far as the failure (false when `-a` without a
/// count met the end of the text first: then there is no error to print).
/// The last line is left as crash leaves it: no ASCII column, no newline,
/// for the error message to follow.
pub fn format_rd_failed(
    opts: &RdOptions,
    addr: u64,
    data: &[u8],
    symbolize: &dyn Fn(u64) -> Option<String>,
) -> (String, bool) {
    render(opts, addr, data, symbolize, true)
}

fn render(
    opts: &RdOptions,
    addr: u64,
    data: &[u8],
    symbolize: &dyn Fn(u64) -> Option<String>,
    failed: bool,
) -> (String, bool) {
    match opts.display {
        Display::Ascii => render_text(opts, addr, data, failed),
        // Raw output goes to a file; nothing is displayed.
        Display::Raw => (String::new(), failed),
        _ => (render_items(opts, addr, data, symbolize, failed), failed),
    }
}

/// 0x20..0x7e: crash's test for the ASCII column, and `isprint()` in the C
/// locale for `-a`.
fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Lines of 8-, 16-, 32- or 64-bit items.
fn render_items(
    opts: &RdOptions,
    addr: u64,
    data: &[u8],
    symbolize: &dyn Fn(u64) -> Option<String>,
    failed: bool,
) -> String {
    let size = opts.size() as usize;
    let per_line = 16 / size;
    let items: Vec<&[u8]> = data.chunks_exact(size).collect();
    let lines = items.chunks(per_line).count();
    let mut out = String::new();
    for (n, line) in items.chunks(per_line).enumerate() {
        let line_addr = addr.wrapping_add((n * per_line * size) as u64);
        out.push_str(&format!("{line_addr:>16x}:  "));
        let mut ascii = String::new();
        for item in line {
            let bytes = item_bytes(opts, item);
            out.push_str(&item_text(opts, &bytes, symbolize));
            ascii.extend(
                bytes
                    .iter()
                    .map(|&b| if printable(b) { b as char } else { '.' }),
            );
        }
        if failed && n + 1 == lines {
            break; // crash completes a line only when the next item is read
        }
        if opts.ascii_column() {
            // Pad a short line so its ASCII lines up: each missing item is
            // its hex digits and a blank.
            let missing = per_line - line.len();
            out.push_str(&" ".repeat(missing * (2 * size + 1)));
            out.push_str("  ");
            out.push_str(&ascii);
        }
        out.push('\n');
    }
    out
}

/// The item's bytes in memory order, swapped for `-N` on 16- and 32-bit
/// items (crash swaps the value in place, so the ASCII column shows the
/// swapped bytes too).
fn item_bytes(opts: &RdOptions, item: &[u8]) -> Vec<u8> {
    let mut bytes = item.to_vec();
    if opts.net_endian && matches!(bytes.len(), 2 | 4) {
        bytes.reverse();
    }
    bytes
}

/// One item and the blank after it.
fn item_text(opts: &RdOptions, bytes: &[u8], symbolize: &dyn Fn(u64) -> Option<String>) -> String {
    let mut le = [0u8; 8];
    le[..bytes.len()].copy_from_slice(bytes);
    let v = u64::from_le_bytes(le);
    if opts.symbolic() {
        if let Some(name) = symbolize(v).filter(|n| !n.is_empty()) {
            return format!("{name:<16} ");
        }
    }
    match (opts.radix, bytes.len()) {
        (Radix::Hex, n) => format!("{v:0width$x} ", width = 2 * n),
        (Radix::Signed, 8) => format!("{:>15} ", v as i64),
        (Radix::Signed, 4) => format!("{:>12} ", v as u32 as i32),
        (Radix::Signed, 2) => format!("{:>5} ", v as u16 as i16),
        (Radix::Signed, _) => format!("{:>3} ", v as u8 as i8),
        (Radix::Unsigned, 8) => format!("{v:>20} "),
        (Radix::Unsigned, 4) => format!("{v:>12} "),
        (Radix::Unsigned, 2) => format!("{v:>5} "),
        (Radix::Unsigned, _) => format!("{v:>3} "),
    }
}

/// `-a`: printable bytes, 60 to a line; a non-printable byte ends the
/// display (no count) or ends the line (with a count).
fn render_text(opts: &RdOptions, addr: u64, data: &[u8], failed: bool) -> (String, bool) {
    const PER_LINE: usize = 60;
    let mut out = String::new();
    let mut col = 0;
    let mut shown = false;
    for (i, &b) in data.iter().enumerate() {
        if !printable(b) {
            if opts.ascii_unlimited {
                // crash returns here without ending the line; kdive ends it.
                if shown {
                    out.push('\n');
                }
                return (out, false);
            }
            col = 0;
            continue;
        }
        if col % PER_LINE == 0 {
            if shown {
                out.push('\n');
            }
            out.push_str(&format!("{:>16x}:  ", addr.wrapping_add(i as u64)));
        }
        out.push(b as char);
        shown = true;
        col += 1;
    }
    if !failed {
        // crash ends with a newline even when nothing was printable.
        out.push('\n');
    }
    (out, failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn no_syms(_: u64) -> Option<String> {
        None
    }

    /// Parse, plan and format as the session will, for `rd LINE` over
    /// `data` at `addr` (the address argument's value).
    fn rd(line: &str, addr: u64, data: &[u8], syms: &dyn Fn(u64) -> Option<String>) -> String {
        let (opts, _, count) = parse_rd_args(&words(line)).unwrap();
        let p = plan(&opts, addr, count, None).unwrap();
        let len = (p.read_len as usize).min(data.len());
        format_rd(&opts, p.start, &data[..len], syms)
    }

    // -- the corpus ----------------------------------------------------

    /// Every `rd` in the corpus's crash.txt files, formatted from the
    /// bytes its own output shows, gives crash's text.
    #[test]
    fn corpus_transcripts() {
        let mut checked = 0;
        for (cmd, expected) in kdive_testkit::crash_transcripts("rd") {
            let (opts, _, _) = parse_rd_args(&words(&cmd)[1..]).unwrap();
            let (addr, data) = bytes_from_transcript(&opts, &expected);
            let syms = |v: u64| symbols_from_transcript(&expected, &opts, v);
            let got = rd(&cmd[3..], addr, &data, &syms);
            if opts.ascii_unlimited {
                // crash leaves the last line without its newline.
                assert_eq!(got, format!("{expected}\n"), "{cmd}");
            } else {
                assert_eq!(got, expected, "{cmd}");
            }
            checked += 1;
        }
        // However many the corpus has (the shared one 22, a built one 9):
        // none would mean nothing was compared.
        assert!(checked > 0, "no rd command in any crash.txt of the corpus");
    }

    /// Rebuild the bytes a transcript of `rd` shows: from the hex words,
    /// from the text of `-a`, and from the ASCII column for words shown as
    /// symbols (`.data` at ffffffffa1e1aa60 is a kernel address: its bytes
    /// come from `rd -64` of the same place, which the ASCII can't give;
    /// see `symbols_from_transcript`).
    fn bytes_from_transcript(opts: &RdOptions, text: &str) -> (u64, Vec<u8>) {
        let mut data = Vec::new();
        let mut first = None;
        for line in text.lines() {
            let Some((addr, rest)) = line.split_once(":  ") else {
                continue;
            };
            let addr = u64::from_str_radix(addr.trim(), 16).unwrap();
            first.get_or_insert(addr);
            if opts.display == Display::Ascii {
                data.extend_from_slice(rest.as_bytes());
                continue;
            }
            // The first words are the items (the corpus has no short
            // lines, so the ASCII column never gets taken for items).
            let size = opts.size() as usize;
            for w in rest.split_whitespace().take(16 / size) {
                let v = u64::from_str_radix(w, 16).unwrap_or(SYMBOL_STANDIN);
                data.extend_from_slice(&v.to_le_bytes()[..size]);
            }
        }
        if opts.display == Display::Ascii {
            data.push(b'\n'); // what ended linux_banner
        }
        (first.unwrap_or(0), data)
    }

    /// A word a transcript shows as a symbol name stands for this value.
    const SYMBOL_STANDIN: u64 = 0xffff_ffff_0000_dada;

    fn symbols_from_transcript(text: &str, opts: &RdOptions, v: u64) -> Option<String> {
        if !opts.symbols || v != SYMBOL_STANDIN {
            return None;
        }
        // The only one in the corpus: `.data` (rd -s init_task 8).
        text.contains(".data ").then(|| ".data".to_string())
    }

    // -- by hand: what crash 8.0.2 printed on the `null` dump ----------

    /// The first 0x50 bytes of init_task on the `null` dump.
    fn init_task() -> Vec<u8> {
        let words: [u64; 10] = [
            0x4000,
            0,
            0,
            0,
            0xffff_ffff_8e40_0000,
            0x0420_0002_0000_0002,
            0,
            0,
            0x30,
            5,
        ];
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    const INIT_TASK: u64 = 0xffff_ffff_8e41_aa40;

    fn check(line: &str, addr: u64, data: &[u8], want: &str) {
        assert_eq!(rd(line, addr, data, &no_syms), want, "rd {line}");
    }

    #[test]
    fn short_lines_pad_the_ascii_column() {
        let t = init_task();
        check(
            "init_task 3",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  0000000000004000 0000000000000000   .@..............\n\
             ffffffff8e41aa50:  0000000000000000                    ........\n",
        );
        check(
            "init_task",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  0000000000004000                    .@......\n",
        );
        check(
            "-8 init_task 5",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  00 40 00 00 00                                    .@...\n",
        );
        check(
            "-16 init_task 5",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  4000 0000 0000 0000 0000                  .@........\n",
        );
        check(
            "-32 init_task 5",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  00004000 00000000 00000000 00000000   .@..............\n\
             ffffffff8e41aa50:  00000000                              ....\n",
        );
        check(
            "-32 -16 init_task 3",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  4000 0000 0000                            .@....\n",
        );
        check(
            "-64 init_task 0x3",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  0000000000004000 0000000000000000   .@..............\n\
             ffffffff8e41aa50:  0000000000000000                    ........\n",
        );
        check(
            "init_task a",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  0000000000004000 0000000000000000   .@..............\n\
             ffffffff8e41aa50:  0000000000000000 0000000000000000   ................\n\
             ffffffff8e41aa60:  ffffffff8e400000 0420000200000002   ..@........... .\n\
             ffffffff8e41aa70:  0000000000000000 0000000000000000   ................\n\
             ffffffff8e41aa80:  0000000000000030 0000000000000005   0...............\n",
        );
    }

    #[test]
    fn decimal_columns() {
        let t = init_task();
        check(
            "-d init_task 4",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:            16384               0 \n\
             ffffffff8e41aa50:                0               0 \n",
        );
        check(
            "-D init_task 4",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:                 16384                    0 \n\
             ffffffff8e41aa50:                     0                    0 \n",
        );
        check(
            "-d -32 init_task 8",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:         16384            0            0            0 \n\
             ffffffff8e41aa50:             0            0            0            0 \n",
        );
        check(
            "-D -16 init_task 8",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  16384     0     0     0     0     0     0     0 \n",
        );
        check(
            "-d -8 init_task 16",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:    0  64   0   0   0   0   0   0   0   0   0   0   0   0   0   0 \n",
        );
        check(
            "-d -D init_task 2",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:            16384               0 \n",
        );
        check(
            "-D -d init_task 2",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:            16384               0 \n",
        );
        // Signed, as -d says (crash shows 255 and 65535 for these).
        let ff = [0xffu8; 16];
        check("-d -8 0 2", 0x1000, &ff, "            1000:   -1  -1 \n");
        check("-d -16 0 1", 0x1000, &ff, "            1000:     -1 \n");
        check(
            "-d -32 0 1",
            0x1000,
            &ff,
            "            1000:            -1 \n",
        );
        check(
            "-d 0 1",
            0x1000,
            &ff,
            "            1000:               -1 \n",
        ); // %15ld
        check(
            "-D 0 1",
            0x1000,
            &ff,
            "            1000:  18446744073709551615 \n",
        );
    }

    #[test]
    fn no_ascii_symbols_and_byte_order() {
        let t = init_task();
        check(
            "-x init_task 3",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  0000000000004000 0000000000000000 \n\
             ffffffff8e41aa50:  0000000000000000 \n",
        );
        check(
            "-x -s init_task 2",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  0000000000004000 0000000000000000 \n",
        );
        check(
            "-S init_task 4",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  0000000000004000 0000000000000000 \n\
             ffffffff8e41aa50:  0000000000000000 0000000000000000 \n",
        );
        check(
            "-s -32 init_task 4",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  00004000 00000000 00000000 00000000 \n",
        );
        check(
            "-N -32 init_task 2",
            INIT_TASK,
            &t,
            "ffffffff8e41aa40:  00400000 00000000                     ..@.....\n",
        );
        let banner = b"Linux version 6.1.0-47-cloud-amd64 (debian-kernel@lists.debi";
        check(
            "-s linux_banner 4",
            0xffff_ffff_8db1_fa00,
            banner,
            "ffffffff8db1fa00:  65762078756e694c 2e36206e6f697372 \n\
             ffffffff8db1fa10:  632d37342d302e31 646d612d64756f6c \n",
        );
        // Symbols: the name padded to 16, longer names as they are.
        let syms = |v: u64| match v {
            0x4000 => Some("a_rather_long_symbol+0x10".to_string()),
            0 => Some(String::new()), // an empty name is no symbol
            _ => None,
        };
        assert_eq!(
            rd("-s init_task 2", INIT_TASK, &t, &syms),
            "ffffffff8e41aa40:  a_rather_long_symbol+0x10 0000000000000000 \n"
        );
        // -s only acts on 64-bit hexadecimal.
        assert_eq!(
            rd("-s -d init_task 2", INIT_TASK, &t, &syms),
            rd("-d init_task 2", INIT_TASK, &t, &no_syms)
        );
    }

    #[test]
    fn text() {
        let banner =
            b"Linux version 6.1.0-47-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12\n";
        let a = 0xffff_ffff_8db1_fa00;
        check(
            "-a linux_banner 10",
            a,
            banner,
            "ffffffff8db1fa00:  Linux vers\n",
        );
        check(
            "-a linux_banner 70",
            a,
            banner,
            "ffffffff8db1fa00:  Linux version 6.1.0-47-cloud-amd64 (debian-kernel@lists.debi\n\
             ffffffff8db1fa3c:  an.org) (g\n",
        );
        check(
            "-a -x linux_banner 3",
            a,
            banner,
            "ffffffff8db1fa00:  Lin\n",
        );
        check(
            "-8 -a linux_banner 3",
            a,
            banner,
            "ffffffff8db1fa00:  Lin\n",
        );
        check(
            "-a -8 linux_banner 3",
            a,
            banner,
            "ffffffff8db1fa00:  4c 69 6e                                          Lin\n",
        );
        // Without a count: up to the newline, and the line ended.
        assert!(rd("-a linux_banner", a, banner, &no_syms).ends_with("(gcc-12\n"));
        // With a count, a non-printable byte starts a new line.
        check(
            "-a 0 9",
            0x1000,
            b"abc\0\0def\0",
            "            1000:  abc\n            1005:  def\n",
        );
        // Nothing printable: crash prints an empty line (with a count) or
        // nothing at all (without).
        check("-a 0 4", 0x1000, &[0; 4], "\n");
        check("-a 0", 0x1000, &[0; 4], "");
    }

    // -- arguments and plans ----------------------------------------------

    fn parse(line: &str) -> Result<(RdOptions, String, Option<u64>), String> {
        parse_rd_args(&words(line))
    }

    #[test]
    fn options() {
        let (o, addr, count) = parse("init_task").unwrap();
        assert_eq!(
            (o.display, o.radix, o.space, addr.as_str(), count),
            (
                Display::Bits64,
                Radix::Hex,
                AddrSpace::Kernel,
                "init_task",
                None
            )
        );
        let (o, _, c) = parse("-8 init_task 16").unwrap();
        assert_eq!((o.size(), c), (1, Some(16)));
        assert_eq!(parse("-16 x").unwrap().0.size(), 2);
        assert_eq!(parse("-32 x").unwrap().0.size(), 4);
        assert_eq!(parse("-32 -64 x").unwrap().0.size(), 8);
        assert_eq!(parse("-a -8 x").unwrap().0.display, Display::Bits8);
        let (o, _, _) = parse("-pxR -N x").unwrap();
        assert!(o.no_ascii && o.reverse && o.net_endian && o.space == AddrSpace::Physical);
        assert_eq!(parse("-u x").unwrap().0.space, AddrSpace::User);
        assert_eq!(parse("-f x").unwrap().0.space, AddrSpace::DumpFile);
        let (o, _, _) = parse("-SS x").unwrap();
        assert!(o.symbols && o.slab == 2);
        // Options after the address, values attached or not.
        let (o, addr, c) = parse("init_task -e ffffffff00000000").unwrap();
        assert_eq!(
            (o.end.as_deref(), addr.as_str(), c),
            (Some("ffffffff00000000"), "init_task", None)
        );
        assert_eq!(parse("-e0x10 x").unwrap().0.end.as_deref(), Some("0x10"));
        assert_eq!(parse("-o 10 x").unwrap().0.offset, Some(10)); // decimal
        assert_eq!(parse("-o 0x10 x").unwrap().0.offset, Some(16));
        assert_eq!(parse("-oa x").unwrap().0.offset, Some(10));
        let (o, _, _) = parse("-r /tmp/f x 16").unwrap();
        assert_eq!(
            (o.display, o.raw_file.as_deref()),
            (Display::Raw, Some("/tmp/f"))
        );
        // Counts: decimal, else hex.
        assert_eq!(parse("x 10").unwrap().2, Some(10));
        assert_eq!(parse("x a").unwrap().2, Some(10));
        assert_eq!(parse("-- -x 1").unwrap().1, "-x");
        // -a: unlimited only without a count and without -e.
        assert!(parse("-a x").unwrap().0.ascii_unlimited);
        assert!(!parse("-a x 5").unwrap().0.ascii_unlimited);
        assert!(!parse("-a -e y x").unwrap().0.ascii_unlimited);
    }

    #[test]
    fn parenthesized_addresses_are_one_word() {
        let (_, addr, count) = parse("(init_task + 0x10) 4").unwrap();
        assert_eq!((addr.as_str(), count), ("(init_task + 0x10)", Some(4)));
        let (_, addr, count) = parse("-32 (init_task + (8 - 2)) 2").unwrap();
        assert_eq!((addr.as_str(), count), ("(init_task + (8 - 2))", Some(2)));
        // A minus inside the parentheses is not an option.
        let (_, addr, _) = parse("(init_task -8)").unwrap();
        assert_eq!(addr, "(init_task -8)");
        // Unbalanced: to the end of the line, as crash.
        assert_eq!(parse("(a + 1 2").unwrap().1, "(a + 1 2");
        assert_eq!(parse("(a) 2").unwrap().1, "(a)");
    }

    #[test]
    fn argument_errors() {
        assert_eq!(
            parse("-32 -s x").unwrap_err(),
            "-s option is only allowed with 64-bit display"
        );
        assert_eq!(
            parse("-16 -S x").unwrap_err(),
            "-S option is only allowed with 64-bit display"
        );
        assert!(parse("-s -32 x").is_ok()); // crash accepts this order
        assert_eq!(
            parse("x -1").unwrap_err(),
            "option requires an argument -- '1'"
        );
        assert_eq!(parse("-12 x").unwrap_err(), "invalid option: 12");
        assert_eq!(parse("-6 x").unwrap_err(), "invalid option: 6x");
        assert_eq!(parse("-z x").unwrap_err(), "invalid option -- 'z'");
        assert_eq!(parse("x 1k").unwrap_err(), "not a valid number: 1k");
        assert_eq!(parse("-o zz x").unwrap_err(), "not a valid number: zz");
        assert_eq!(
            parse("-e").unwrap_err(),
            "option requires an argument -- 'e'"
        );
        assert!(parse("").unwrap_err().starts_with("missing address"));
        assert!(parse("-m x").is_err());
    }

    fn plan_of(line: &str, addr: u64, end: Option<u64>) -> Result<RdPlan, String> {
        let (o, _, c) = parse(line).unwrap();
        plan(&o, addr, c, end)
    }

    #[test]
    fn plans() {
        let p = plan_of("x", 0x1000, None).unwrap();
        assert_eq!((p.start, p.items, p.read_len), (0x1000, 1, 8));
        let p = plan_of("-32 x 5", 0x1000, None).unwrap();
        assert_eq!((p.items, p.read_len), (5, 20));
        // -o adds; -R ends at the address.
        assert_eq!(plan_of("-o 0x10 x 2", 0x1000, None).unwrap().start, 0x1010);
        assert_eq!(plan_of("-o 10 x 2", 0x1000, None).unwrap().start, 0x100a);
        let p = plan_of("-R x 3", INIT_TASK, None).unwrap();
        assert_eq!((p.start, p.items), (INIT_TASK - 0x10, 3));
        assert_eq!(
            plan_of("-16 -R x 3", INIT_TASK, None).unwrap().start,
            INIT_TASK - 4
        );
        // -e: whole items up to the end.
        let p = plan_of("-p -e 1008 1000", 0x1000, Some(0x1008)).unwrap();
        assert_eq!((p.items, p.read_len), (1, 8));
        assert_eq!(
            plan_of("-p -e 100c 1000", 0x1000, Some(0x100c))
                .unwrap()
                .items,
            1
        );
        assert_eq!(
            plan_of("-8 -e y x", 0x1000, Some(0x100c)).unwrap().items,
            12
        );
        assert_eq!(
            plan_of("-p -e 1001 1000", 0x1000, Some(0x1001)).unwrap_err(),
            "invalid count request: 0"
        );
        assert_eq!(
            plan_of("-e 10 x", INIT_TASK, Some(0x10)).unwrap_err(),
            "invalid ending address: 10"
        );
        let p = plan_of("-e 10 x 2", 0x1000, Some(0x10)).unwrap();
        assert_eq!(
            (p.items, p.warning.as_deref()),
            (2, Some("ending address ignored when count is specified"))
        );
        assert_eq!(
            plan_of("x 0", 0x1000, None).unwrap_err(),
            "invalid count request: 0"
        );
        assert_eq!(plan_of("-R x 0", 0x1000, None).unwrap().items, 1);
        // -a: unlimited reads a bounded amount; raw needs a count.
        assert_eq!(
            plan_of("-a x", 0x1000, None).unwrap().read_len,
            ASCII_UNLIMITED_MAX
        );
        assert_eq!(plan_of("-a x 7", 0x1000, None).unwrap().read_len, 7);
        assert!(plan_of("-r f x", 0x1000, None)
            .unwrap_err()
            .starts_with("-r option requires"));
        assert_eq!(plan_of("-r f x 16", 0x1000, None).unwrap().read_len, 16);
        // Huge counts saturate instead of overflowing.
        assert_eq!(
            plan_of("x ffffffffffffffff", 0, None).unwrap().read_len,
            u64::MAX
        );
        assert_eq!(
            plan_of("-R x ffffffffffffffff", 0, None).unwrap().read_len,
            u64::MAX
        );
    }

    // -- read errors --------------------------------------------------

    /// What crash 8.0.2 printed for reads that failed part-way (the
    /// `null` dump's RAM ends at 0x3ffdd000): the text, then the error.
    #[test]
    fn failing_reads_like_crash() {
        let zeros = [0u8; 64];
        let cases: &[(&str, u64, usize, &str)] = &[
            ("-p 3ffdcff0 4", 0x3ffd_cff0, 16,
             "        3ffdcff0:  0000000000000000 0000000000000000 rd: seek error: physical address: 3ffdd000  type: \"64-bit PHYSADDR\"\n"),
            ("-p 3ffdcfe8 8", 0x3ffd_cfe8, 24,
             "        3ffdcfe8:  0000000000000000 0000000000000000   ................\n        3ffdcff8:  0000000000000000 rd: seek error: physical address: 3ffdd000  type: \"64-bit PHYSADDR\"\n"),
            ("-32 -p 3ffdcff0 8", 0x3ffd_cff0, 16,
             "        3ffdcff0:  00000000 00000000 00000000 00000000 rd: seek error: physical address: 3ffdd000  type: \"32-bit PHYSADDR\"\n"),
            ("-8 -p 3ffdcffa 8", 0x3ffd_cffa, 6,
             "        3ffdcffa:  00 00 00 00 00 00 rd: seek error: physical address: 3ffdd000  type: \"8-bit PHYSADDR\"\n"),
            ("-x -p 3ffdcff0 4", 0x3ffd_cff0, 16,
             "        3ffdcff0:  0000000000000000 0000000000000000 rd: seek error: physical address: 3ffdd000  type: \"64-bit PHYSADDR\"\n"),
            ("-s -p 3ffdcff0 4", 0x3ffd_cff0, 16,
             "        3ffdcff0:  0000000000000000 0000000000000000 rd: seek error: physical address: 3ffdd000  type: \"64-bit PHYSADDR\"\n"),
            ("-p 3ffdcff8 2", 0x3ffd_cff8, 8,
             "        3ffdcff8:  0000000000000000 rd: seek error: physical address: 3ffdd000  type: \"64-bit PHYSADDR\"\n"),
            // The first word straddles the end: nothing before the error.
            ("-p 3ffdcffc 2", 0x3ffd_cffc, 4,
             "rd: seek error: physical address: 3ffdd000  type: \"64-bit PHYSADDR\"\n"),
            ("-a -p 3ffdcffa 20", 0x3ffd_cffa, 6,
             "rd: seek error: physical address: 3ffdd000  type: \"ascii\"\n"),
            // No count: the zeros end the text before the failure; nothing.
            ("-a -p 3ffdcffa", 0x3ffd_cffa, 6, ""),
        ];
        for (line, addr, good, want) in cases {
            let (opts, _, count) = parse(line).unwrap();
            let p = plan(&opts, *addr, count, None).unwrap();
            let (mut text, reached) = format_rd_failed(&opts, p.start, &zeros[..*good], &no_syms);
            if reached {
                let at = p.start + *good as u64;
                text.push_str(&format!(
                    "rd: {}\n",
                    read_failure(ReadFailure::Seek, &opts, at)
                ));
            }
            assert_eq!(&text, want, "rd {line}");
        }
    }

    #[test]
    fn error_messages() {
        let o = |line: &str| parse(line).unwrap().0;
        let read = |line: &str, addr| read_failure(ReadFailure::Read, &o(line), addr);
        assert_eq!(
            read("x", 0xffff_ffe9_7f68_4000),
            "read error: kernel virtual address: ffffffe97f684000  type: \"64-bit KVADDR\""
        );
        assert_eq!(
            read("-p x", 0x1000),
            "read error: physical address: 1000  type: \"64-bit PHYSADDR\""
        );
        assert_eq!(
            read("-8 -p x", 0x1000),
            "read error: physical address: 1000  type: \"8-bit PHYSADDR\""
        );
        assert_eq!(
            read("-16 x", 0x1000),
            "read error: kernel virtual address: 1000  type: \"16-bit KVADDR\""
        );
        assert_eq!(
            read("-32 x", 0x1000),
            "read error: kernel virtual address: 1000  type: \"32-bit KVADDR\""
        );
        assert_eq!(
            read_failure(ReadFailure::Excluded, &o("-p x"), 0x2000_0000),
            "page excluded: physical address: 20000000  type: \"64-bit PHYSADDR\""
        );
        assert_eq!(
            read_failure(ReadFailure::Unmapped, &o("x"), 0x48),
            "invalid kernel virtual address: 48  type: \"64-bit KVADDR\""
        );
        assert_eq!(
            read_failure(ReadFailure::Unmapped, &o("-u -32 x"), 0x48),
            "invalid user virtual address: 48  type: \"32-bit UVADDR\""
        );
        assert_eq!(
            read_failure(ReadFailure::Incomplete, &o("-a x"), 0x48),
            "page incomplete: kernel virtual address: 48  type: \"ascii\""
        );
        assert_eq!(
            read_failure(ReadFailure::Read, &o("-r f x 1"), 0x48),
            "read error: kernel virtual address: 48  type: \"raw dump to file\""
        );
        assert_eq!(
            read_failure(ReadFailure::Read, &o("-f x"), 0x48),
            "read error: dumpfile address: 48  type: \"64-bit FILEADDR\""
        );
        assert_eq!(
            symbol_not_found("init_task+8", &[]),
            "symbol not found: init_task+8\npossible alternatives:\n  (none found)\n"
        );
        assert_eq!(
            symbol_not_found("foo", &["ffffffff81000000 (T) foobar".into()]),
            "symbol not found: foo\npossible alternatives:\n  ffffffff81000000 (T) foobar\n"
        );
    }

    // -- robustness -----------------------------------------------------

    #[test]
    fn odd_input_no_panics() {
        let opts_words = [
            "-8", "-16", "-32", "-64", "-a", "-s", "-S", "-d", "-D", "-x", "-p", "-u", "-R", "-N",
            "-e", "-o", "-r", "-", "--", "(", ")", "x", "0", "5", "-1", "-6", "-é", "é", "-ee",
        ];
        let data: Vec<u8> = (0..=255u8).cycle().take(700).collect();
        let syms = |v: u64| (v % 3 == 0).then(|| format!("sym{v:x}"));
        let mut seed: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..20_000 {
            let mut args = Vec::new();
            for _ in 0..(seed % 7) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                args.push(opts_words[(seed % opts_words.len() as u64) as usize].to_string());
            }
            let Ok((opts, _, count)) = parse_rd_args(&args) else {
                continue;
            };
            let addr = seed.rotate_left(17);
            let end = (seed % 2 == 0).then_some(seed.rotate_left(3));
            if let Ok(p) = plan(&opts, addr, count, end) {
                let n = (p.read_len.min(data.len() as u64)) as usize;
                let cut = (seed as usize) % (n + 1);
                let _ = format_rd(&opts, p.start, &data[..n], &syms);
                let _ = format_rd_failed(&opts, p.start, &data[..cut], &syms);
                let _ = read_failure(ReadFailure::Unmapped, &opts, p.start);
            }
        }
        // Data that is not a whole number of items: the tail is ignored.
        let o = RdOptions::default();
        assert_eq!(format_rd(&o, 0, &[1, 2, 3], &no_syms), "");
        assert_eq!(
            format_rd(&o, u64::MAX - 7, &[0; 24], &no_syms)
                .lines()
                .count(),
            2
        );
    }
}
