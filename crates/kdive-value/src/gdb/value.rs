//! gdb's values, with crash's print settings: structs pretty-printed (one
//! member a line, two spaces more per level), arrays on one line (`{1, 2,
//! 3}`, at most 256 elements then `...`), no `<repeats N times>`, char
//! arrays as strings, pointers in hex with `<symbol+offset>` when they
//! point at one, the string behind a `char *`, enums by name, `_Bool` as
//! `true`/`false`. With crash's `-x` (gdb's output radix 16) integers,
//! chars and bools print in hex; pointers and enums do not change.

use kdive_debuginfo::types::{size_of, IntEncoding, Kind, Member, Type, TypeId, TypeSource};
use std::sync::Arc;

use super::chars::{self, PRINT_MAX};

/// gdb's `print max-depth`: structs nested deeper print `{...}`.
const MAX_DEPTH: usize = 20;

/// Where a value is: its bytes, its address, and how deep it is nested
/// (`recurse` for the indentation, `depth` for `max-depth`, which does not
/// count anonymous members).
#[derive(Clone, Copy)]
struct At<'d> {
    data: &'d [u8],
    addr: u64,
    recurse: usize,
    depth: usize,
}

/// Reads memory: `Err` holds the first address that could not be read.
pub type ReadFn<'a> = dyn Fn(u64, &mut [u8]) -> Result<(), u64> + 'a;

/// What the printer needs besides the types.
pub struct Printer<'a> {
    pub src: &'a dyn TypeSource,
    /// crash's `-x`: integers in hex.
    pub hex: bool,
    /// The `name+offset` gdb shows in `<...>` after an address, or `None`.
    pub symbol: &'a dyn Fn(u64) -> Option<String>,
    /// Reads memory for the strings behind char pointers; the error is
    /// the first address that could not be read.
    pub read: &'a ReadFn<'a>,
}

impl Printer<'_> {
    /// The value of type `ty` held in `data`, read at `addr`, as gdb's
    /// `output` prints it at nesting `recurse` (0 for a whole value).
    pub fn value(&self, ty: TypeId, data: &[u8], addr: u64, recurse: usize) -> String {
        let mut out = String::new();
        let at = At {
            data,
            addr,
            recurse,
            depth: recurse,
        };
        self.val(&mut out, ty, at);
        out
    }

    /// `ty` through typedefs and qualifiers.
    fn resolve(&self, ty: TypeId) -> Option<Arc<Type>> {
        kdive_debuginfo::types::strip(self.src, ty).map(|(_, t)| t)
    }

    fn val(&self, out: &mut String, ty: TypeId, at: At<'_>) {
        let data = at.data;
        let Some(t) = self.resolve(ty) else {
            out.push_str("<unknown type>");
            return;
        };
        match &t.kind {
            Kind::Struct { members } | Kind::Union { members } => {
                if at.depth >= MAX_DEPTH {
                    out.push_str("{...}");
                } else {
                    self.aggregate(out, members, at);
                }
            }
            Kind::Array { elem, len } => self.array(out, *elem, *len, at),
            Kind::Pointer { target } => {
                let v = le(data, 8);
                self.pointer(out, *target, v);
            }
            Kind::Int { .. } | Kind::Enum { .. } | Kind::Float => {
                let size = t.size.unwrap_or(data.len() as u64).min(8) as usize;
                self.scalar(out, &t, le(data, size), size);
            }
            Kind::Forward { .. } => out.push_str("<incomplete type>"),
            Kind::Void => out.push_str("void"),
            // A function itself (`p schedule`): its type, then its address.
            Kind::Function { .. } => {
                out.push_str(&format!(
                    "{{{}}} ",
                    super::ptype::declaration(self.src, ty, "", super::ptype::WHATIS, 0)
                ));
                self.address(out, at.addr);
            }
            Kind::Typedef { .. } | Kind::Qualified { .. } => out.push_str("<unknown type>"),
        }
    }

    /// `{` members `}`, one a line.
    fn aggregate(&self, out: &mut String, members: &[Member], at: At<'_>) {
        let (data, recurse) = (at.data, at.recurse);
        out.push('{');
        if members.is_empty() {
            out.push_str("<No data fields>}");
            return;
        }
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('\n');
            out.push_str(&" ".repeat(2 + 2 * recurse));
            if let Some(n) = &m.name {
                out.push_str(n);
                out.push_str(" = ");
            }
            // An anonymous member does not count towards the depth.
            let depth = if m.name.is_some() {
                at.depth + 1
            } else {
                at.depth
            };
            match m.bit_size {
                Some(bits) => self.bitfield(out, m.ty, data, m.offset_bits, bits),
                None => {
                    let start = (m.offset_bits / 8) as usize;
                    let size = size_of(self.src, m.ty).unwrap_or(0) as usize;
                    let end = start.saturating_add(size).min(data.len());
                    let slice = data.get(start..end).unwrap_or(&[]);
                    let inner = At {
                        data: slice,
                        addr: at.addr.wrapping_add(start as u64),
                        recurse: recurse + 1,
                        depth,
                    };
                    self.val(out, m.ty, inner);
                }
            }
        }
        out.push('\n');
        out.push_str(&" ".repeat(2 * recurse));
        out.push('}');
    }

    /// A bitfield: its bits, sign-extended for a signed type, printed as
    /// a value of its type.
    fn bitfield(&self, out: &mut String, ty: TypeId, data: &[u8], offset_bits: u64, bits: u32) {
        let Some(t) = self.resolve(ty) else {
            out.push_str("<unknown type>");
            return;
        };
        let mut v: u64 = 0;
        for i in 0..u64::from(bits.min(64)) {
            let bit = offset_bits + i;
            let byte = data.get((bit / 8) as usize).copied().unwrap_or(0);
            v |= u64::from((byte >> (bit % 8)) & 1) << i;
        }
        let size = t.size.unwrap_or(8).min(8) as usize;
        if is_signed(&t) && bits > 0 && bits < 64 && v >> (bits - 1) & 1 == 1 {
            v |= !0u64 << bits;
        }
        self.scalar(out, &t, v & mask(size), size);
    }

    /// An integer, char, bool, enum or float of `size` bytes whose bits are
    /// `raw`.
    fn scalar(&self, out: &mut String, t: &Type, raw: u64, size: usize) {
        match &t.kind {
            Kind::Int { signed, encoding } => {
                if self.hex {
                    out.push_str(&format!("0x{raw:x}"));
                    return;
                }
                let value = if *signed {
                    sign_extend(raw, size).to_string()
                } else {
                    raw.to_string()
                };
                match encoding {
                    IntEncoding::Bool if raw == 0 => out.push_str("false"),
                    IntEncoding::Bool if raw == 1 => out.push_str("true"),
                    IntEncoding::Bool => out.push_str(&value),
                    // gdb shows any one-byte integer as a character too.
                    _ if size == 1 => {
                        out.push_str(&value);
                        out.push(' ');
                        out.push_str(&chars::char_literal(raw as u8));
                    }
                    _ => out.push_str(&value),
                }
            }
            Kind::Enum { values } => {
                let signed = values.iter().any(|(_, v)| *v < 0);
                let v = if signed {
                    sign_extend(raw, size)
                } else {
                    raw as i64
                };
                enum_value(out, values, v);
            }
            Kind::Float => out.push_str(&float(raw, size)),
            _ => out.push_str(&format!("0x{raw:x}")),
        }
    }

    /// `0x...`, then ` <symbol+offset>` when it points at one, then the
    /// string for a pointer to chars.
    fn pointer(&self, out: &mut String, target: TypeId, v: u64) {
        self.address(out, v);
        if v != 0 && self.is_textual(target) {
            out.push(' ');
            self.string_at(out, v);
        }
    }

    fn address(&self, out: &mut String, v: u64) {
        out.push_str(&format!("0x{v:x}"));
        if v != 0 {
            if let Some(s) = (self.symbol)(v) {
                out.push_str(&format!(" <{s}>"));
            }
        }
    }

    /// gdb's c_textual_element_type: a one-byte integer that is not a bool.
    fn is_textual(&self, ty: TypeId) -> bool {
        let Some(t) = self.resolve(ty) else {
            return false;
        };
        match t.kind {
            Kind::Int { encoding, .. } => encoding != IntEncoding::Bool && t.size == Some(1),
            _ => false,
        }
    }

    fn array(&self, out: &mut String, elem: TypeId, len: Option<u64>, at: At<'_>) {
        let data = at.data;
        let esize = size_of(self.src, elem).unwrap_or(0);
        let len = len.unwrap_or(0);
        if len == 0 || esize == 0 {
            // An array of no length prints like a pointer to its start.
            return self.pointer(out, elem, at.addr);
        }
        if self.is_textual(elem) {
            let n = (len as usize).min(data.len());
            out.push_str(&chars::string(&data[..n], false));
            return;
        }
        if at.depth >= MAX_DEPTH {
            out.push_str("{...}");
            return;
        }
        out.push('{');
        let shown = len.min(PRINT_MAX as u64);
        for i in 0..shown {
            if i > 0 {
                out.push_str(", ");
            }
            let start = (i * esize) as usize;
            let end = start.saturating_add(esize as usize).min(data.len());
            let slice = data.get(start..end).unwrap_or(&[]);
            let inner = At {
                data: slice,
                addr: at.addr.wrapping_add(i * esize),
                recurse: at.recurse + 1,
                depth: at.depth + 1,
            };
            self.val(out, elem, inner);
        }
        if shown < len {
            out.push_str("...");
        }
        out.push('}');
    }

    /// gdb's val_print_string for a `char *`: up to 256 characters up to a
    /// NUL; `...` when more follow; the address of a failed read.
    fn string_at(&self, out: &mut String, addr: u64) {
        let mut buf = Vec::new();
        let mut err = None;
        let mut at = addr;
        while buf.len() < PRINT_MAX && !buf.ends_with(&[0]) {
            let page_left = (0x1000 - (at & 0xfff)) as usize;
            let mut chunk = vec![0u8; page_left.min(PRINT_MAX - buf.len())];
            if let Err(e) = (self.read)(at, &mut chunk) {
                err = Some(e.max(at));
                break;
            }
            match chunk.iter().position(|&b| b == 0) {
                Some(nul) => buf.extend_from_slice(&chunk[..=nul]),
                None => buf.extend_from_slice(&chunk),
            }
            at = addr.wrapping_add(buf.len() as u64);
        }
        let found_nul = buf.last() == Some(&0);
        let mut ellipsis = false;
        if !found_nul && err.is_none() {
            let mut next = [0u8];
            ellipsis = (self.read)(at, &mut next).is_ok() && next[0] != 0;
        }
        if err.is_none() || !buf.is_empty() {
            out.push_str(&chars::string(&buf, ellipsis));
        }
        if let Some(e) = err {
            out.push_str(&format!("<error: Cannot access memory at address 0x{e:x}>"));
        }
    }
}

/// gdb's enum value: the constant's name; for an enum of single bits, the
/// bits by name (`(A | B | unknown: 0x10)`); else the number.
fn enum_value(out: &mut String, values: &[(String, i64)], v: i64) {
    if let Some((name, _)) = values.iter().find(|(_, x)| *x == v) {
        out.push_str(name);
        return;
    }
    let flag_enum = values.iter().all(|(_, x)| *x >= 0 && x.count_ones() <= 1);
    if !flag_enum {
        out.push_str(&v.to_string());
        return;
    }
    let mut rest = v;
    let mut parts = Vec::new();
    for (name, x) in values {
        if rest & x != 0 {
            parts.push(name.clone());
            rest &= !x;
        }
    }
    if rest != 0 {
        parts.push(format!("unknown: 0x{rest:x}"));
    }
    if parts.is_empty() {
        out.push('0');
    } else {
        out.push_str(&format!("({})", parts.join(" | ")));
    }
}

fn is_signed(t: &Type) -> bool {
    match &t.kind {
        Kind::Int { signed, .. } => *signed,
        Kind::Enum { values } => values.iter().any(|(_, v)| *v < 0),
        _ => false,
    }
}

/// The little-endian value of the first `size` bytes (fewer if short).
fn le(data: &[u8], size: usize) -> u64 {
    data.iter()
        .take(size.min(8))
        .enumerate()
        .fold(0, |v, (i, &b)| v | (u64::from(b) << (8 * i)))
}

fn mask(size: usize) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * size)) - 1
    }
}

fn sign_extend(raw: u64, size: usize) -> i64 {
    if size >= 8 || size == 0 {
        return raw as i64;
    }
    let shift = 64 - 8 * size as u32;
    ((raw << shift) as i64) >> shift
}

/// A float as gdb's `%g` with the type's significant digits (9 or 17).
fn float(raw: u64, size: usize) -> String {
    let (v, digits) = match size {
        4 => (f64::from(f32::from_bits(raw as u32)), 9),
        _ => (f64::from_bits(raw), 17),
    };
    if v.is_nan() {
        return if v.is_sign_negative() {
            "-nan(0x8000000000000)".into()
        } else {
            "nan(0x8000000000000)".into()
        };
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let exp = v.abs().log10().floor() as i32;
    if exp < -4 || exp >= digits {
        let s = format!("{:.*e}", (digits - 1) as usize, v);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = trim_zeros(m);
        let e: i32 = e.parse().unwrap_or(0);
        format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    } else {
        let decimals = (digits - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
