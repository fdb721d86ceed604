//! Tokens of gdb's C expressions (gdb's `c-exp.y` lexer, the parts kernel
//! engineers type): names, integer, character and string literals, and the
//! operators. Messages are gdb's own.

use super::Error;

/// The longest input taken, and the most tokens: expressions typed at a
/// prompt are short, and the limits bound the parser and the evaluator.
const MAX_INPUT: usize = 4096;
const MAX_TOKENS: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A name: a symbol, a member, a keyword, a typedef (`'quoted'` names too).
    Name(String),
    /// An integer literal: its value and C type.
    Int(u64, LitType),
    /// `'a'`: gdb gives it type `char`.
    Char(u8),
    /// `"abc"`, without the terminating NUL.
    Str(Vec<u8>),
    /// An operator or punctuation.
    Punct(&'static str),
    End,
}

/// The C type of an integer literal, chosen as C does it (gdb 13 and
/// later): decimal literals are `int`, `long`, then `unsigned long`; hex
/// and octal ones may also be `unsigned int`; `u` and `l` suffixes narrow.
/// (gdb 10, in crash 8.0.2, made any literal with bit 31 set `unsigned
/// int`: `p -2147483648` there is 2147483648, here -2147483648.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LitType {
    Int,
    UInt,
    Long,
    ULong,
}

/// A token and where it starts in the input (for "near `...'").
#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub at: usize,
}

/// Longest first, so `<<=` wins over `<<` and `<`.
const PUNCT: &[&str] = &[
    "<<=", ">>=", "->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "++", "--", "+=", "-=",
    "*=", "/=", "%=", "&=", "|=", "^=", "::", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!",
    "<", ">", "=", "?", ":", ",", ".", "(", ")", "[", "]", "{", "}", "@",
];

/// The tokens of `s`, ending with [`Tok::End`].
pub fn lex(s: &str) -> Result<Vec<Token>, Error> {
    if s.len() > MAX_INPUT {
        return Err(Error::gdb("Expression too long."));
    }
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if out.len() >= MAX_TOKENS {
            return Err(Error::gdb("Expression too long."));
        }
        let at = i;
        let tok = if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            Tok::Name(s[at..i].to_string())
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            // gdb takes the whole run of letters and digits as one number,
            // so `1f` is an invalid number, not `1` then `f`.
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            number(&s[at..i])?
        } else if c == b'\'' {
            let (t, n) = quoted_char(&b[i..])?;
            i += n;
            t
        } else if c == b'"' {
            let (t, n) = string(&b[i..])?;
            i += n;
            t
        } else if let Some(p) = PUNCT.iter().find(|p| b[i..].starts_with(p.as_bytes())) {
            i += p.len();
            Tok::Punct(p)
        } else {
            let ch = s[i..].chars().next().unwrap_or('?');
            return Err(Error::gdb(format!(
                "Invalid character '{ch}' in expression."
            )));
        };
        out.push(Token { tok, at });
    }
    out.push(Token {
        tok: Tok::End,
        at: s.len(),
    });
    Ok(out)
}

/// An integer literal: `123`, `0x7f`, `017` (octal), `0b101`, with `u`,
/// `l`, `ul`, `ll` suffixes in any case.
fn number(w: &str) -> Result<Tok, Error> {
    let invalid = || Error::gdb(format!("Invalid number \"{w}\"."));
    let lower = w.to_ascii_lowercase();
    let digits_end = lower.trim_end_matches(['u', 'l']).len();
    let (body, suffix) = lower.split_at(digits_end);
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x") {
        (16, h)
    } else if let Some(bin) = body.strip_prefix("0b") {
        (2, bin)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if body.contains('.') || (radix == 10 && body.contains('e')) {
        return Err(Error::gdb("Floating-point numbers are not supported."));
    }
    let unsigned = suffix.contains('u');
    let longs = suffix.matches('l').count();
    if digits.is_empty() || suffix.matches('u').count() > 1 || longs > 2 {
        return Err(invalid());
    }
    let v = u64::from_str_radix(digits, radix).map_err(|e| match e.kind() {
        std::num::IntErrorKind::PosOverflow => Error::gdb("Numeric constant too large."),
        _ => invalid(),
    })?;
    let fits_int = v <= i32::MAX as u64 && longs == 0;
    let fits_uint = v <= u32::MAX as u64 && longs == 0 && radix != 10;
    let ty = match () {
        _ if fits_int && !unsigned => LitType::Int,
        _ if (fits_int || fits_uint || (unsigned && v <= u32::MAX as u64 && longs == 0)) => {
            LitType::UInt
        }
        _ if v <= i64::MAX as u64 && !unsigned => LitType::Long,
        _ => LitType::ULong,
    };
    Ok(Tok::Int(v, ty))
}

/// `'a'`, `'\n'`, `'\x41'`, `'\101'`; or a quoted name (`'foo.isra.0'`),
/// as gdb takes a quoted word longer than one character.
fn quoted_char(b: &[u8]) -> Result<(Tok, usize), Error> {
    let Some(close) = b[1..].iter().position(|&c| c == b'\'') else {
        return Err(Error::gdb("Unmatched single quote."));
    };
    let inner = &b[1..1 + close];
    if inner.is_empty() {
        return Err(Error::gdb("Empty character constant."));
    }
    // `'\''`: the quote found is the escaped one.
    if inner == b"\\" {
        return match b.get(3) {
            Some(b'\'') => Ok((Tok::Char(b'\''), 4)),
            _ => Err(Error::gdb("Unmatched single quote.")),
        };
    }
    let (c, used) = escape(inner)?;
    if used == inner.len() {
        return Ok((Tok::Char(c), close + 2));
    }
    match std::str::from_utf8(inner) {
        Ok(name) if inner[0] != b'\\' => Ok((Tok::Name(name.to_string()), close + 2)),
        _ => Err(Error::gdb("Invalid character constant.")),
    }
}

/// `"..."` with C escapes.
fn string(b: &[u8]) -> Result<(Tok, usize), Error> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'"' => return Ok((Tok::Str(out), i + 1)),
            _ => {
                let (c, n) = escape(&b[i..])?;
                out.push(c);
                i += n;
            }
        }
    }
    Err(Error::gdb("Unterminated string in expression."))
}

/// One character, escaped or not: the byte and how many input bytes it took.
fn escape(b: &[u8]) -> Result<(u8, usize), Error> {
    if b[0] != b'\\' {
        return Ok((b[0], 1));
    }
    let Some(&e) = b.get(1) else {
        return Err(Error::gdb("Unmatched single quote."));
    };
    let simple = match e {
        b'n' => Some(b'\n'),
        b't' => Some(b'\t'),
        b'r' => Some(b'\r'),
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'v' => Some(11),
        b'e' => Some(27),
        b'\\' | b'\'' | b'"' | b'?' => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok((c, 2));
    }
    let (radix, start, max) = match e {
        b'x' => (16, 2, 2),
        b'0'..=b'7' => (8, 1, 3),
        _ => {
            return Err(Error::gdb(format!(
                "Unknown escape sequence \\{}.",
                e as char
            )))
        }
    };
    let digits = b[start..]
        .iter()
        .take(max)
        .take_while(|c| (char::from(**c)).is_digit(radix))
        .count();
    if digits == 0 {
        return Err(Error::gdb("\\x escape without a following hex digit"));
    }
    let text = std::str::from_utf8(&b[start..start + digits]).unwrap_or("0");
    let v = u32::from_str_radix(text, radix).unwrap_or(0);
    Ok(((v & 0xff) as u8, start + digits))
}
