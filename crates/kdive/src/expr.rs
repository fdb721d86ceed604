//! crash's integer expressions: what `eval` evaluates and what `rd` and the
//! other memory commands take as an address.
//!
//! crash's own evaluator (`eval_common()` in tools.c) takes one operator
//! and two operands; anything longer is "invalid expression", and
//! `eval (0x1000 + 0x20) * 2` silently drops the `* 2` (crash 8.0.2 prints
//! 0x1020). This one is a real C-like expression language on `u64` with C's
//! precedence, and accepts every input crash accepts with the same value.
//!
//! Rules taken from crash's source (tools.c: `calculate()`, `stol()`,
//! `htol()`, `eval_common()`; memory.c: `cmd_rd()`), and checked against
//! crash 8.0.2 on the corpus dumps:
//!
//! - A word is first a symbol, then a number (`calculate()` calls
//!   `symbol_search()` before looking at digits). `eval jiffies` is the
//!   address of `jiffies`.
//! - Numbers in expressions have a *decimal bias*: `stol()` without
//!   `HEX_BIAS` reads a word made only of decimal digits as decimal, and
//!   anything else made of hex digits as hex. So `eval 10` is 0xa, while
//!   `eval dead` and `eval ffffffff81000000` are hex. `0x`/`0X` forces hex.
//!   There is no octal: `010` is ten.
//! - A number may end in `k`/`K`, `m`/`M` or `g`/`G`: times 1024, 1 MiB,
//!   1 GiB (`1k`, `0xak` = 10240).
//! - `~` before an operand is the one's complement; a leading `-` is
//!   subtraction from zero (crash rewrites `-x` as `0-x`).
//! - crash computes on `ulong`: every operation is unsigned and wraps
//!   (`-8 / 2` is 0x7ffffffffffffffc, `>>` is logical). Only the *display*
//!   of `eval` shows a signed value. This module does the same.
//! - crash's `#` operator is a power (`2 # 10` = 1024); kept here, binding
//!   tighter than `*`.
//! - `rd`'s address argument is different: a bare word that *looks like hex*
//!   is hex even when it is all decimal digits (`rd 1000` reads 0x1000;
//!   `cmd_rd()` tries `hexadecimal()` before the symbol table), and only a
//!   parenthesized argument is an expression (with the decimal bias again:
//!   `rd (1000)` would be 0x3e8). See [`parse_address`].
//!
//! Where this evaluator differs from crash, on purpose:
//! - full expressions with precedence and parentheses;
//! - division or remainder by zero is an error (crash 8.0.2 spins forever
//!   on SIGFPE);
//! - `0x` alone and words with a stray `x` inside (`1x2`, which crash
//!   reads as 0x12) are errors, not numbers;
//! - a decimal number too large for 64 bits is an error (crash saturates
//!   to 0xffffffffffffffff); a hex number with more than 16 significant
//!   digits is an error, as in crash;
//! - shifts by 64 or more give 0 (C leaves them undefined; x86 masks the
//!   count).

use std::fmt;

/// Where symbol values come from: the kernel's symbol table, in the session.
pub trait Symbols {
    /// The value (the address) of the symbol `name`, if there is one.
    fn value(&self, name: &str) -> Option<u64>;
}

/// No symbols at all: for plain numbers, and for tests.
#[allow(dead_code)]
pub struct NoSymbols;

impl Symbols for NoSymbols {
    fn value(&self, _: &str) -> Option<u64> {
        None
    }
}

/// Any closure from a name to a value is a symbol table.
impl<F: Fn(&str) -> Option<u64>> Symbols for F {
    fn value(&self, name: &str) -> Option<u64> {
        self(name)
    }
}

/// Why an expression has no value. `Display` gives crash-like text without
/// the command's name; commands put `NAME: ` in front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprError {
    /// Nothing to evaluate.
    Empty,
    /// Not an expression: a missing operand, a stray character, unbalanced
    /// parentheses, or nesting too deep to be meant.
    Invalid,
    /// A word that is neither a known symbol nor a number.
    Unknown(String),
    /// A number that does not fit in 64 bits (the digits as written).
    TooLarge(String),
    /// `/` or `%` by zero.
    DivideByZero,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprError::Empty => write!(f, "no expression"),
            ExprError::Invalid => write!(f, "invalid expression"),
            ExprError::Unknown(w) => write!(f, "symbol not found: {w}"),
            // crash: `input string too large: "11111111111111111" (17 vs 16)`
            ExprError::TooLarge(w) => write!(f, "input string too large: \"{w}\""),
            ExprError::DivideByZero => write!(f, "divide by zero"),
        }
    }
}

impl std::error::Error for ExprError {}

/// Evaluate `s` as an expression: words are symbols, then numbers with
/// crash's decimal bias.
pub fn eval(s: &str, syms: &dyn Symbols) -> Result<u64, ExprError> {
    let tokens = lex(s, syms)?;
    if tokens.is_empty() {
        return Err(ExprError::Empty);
    }
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
        live: true,
    };
    let v = p.expr(0)?;
    if p.pos != p.tokens.len() {
        return Err(ExprError::Invalid);
    }
    Ok(v)
}

/// An address argument, the way `rd` and the other memory commands read
/// one: a bare hex number (`ffffffff81000000`, `0x1000`, and also `1000`,
/// which is hex here), a symbol, `SYMBOL+OFFSET`, or an expression, usually
/// in parentheses (`(init_task + 0x10)`).
///
/// The order is crash's: hex first, then the symbol table. Anything else,
/// crash rejects unless it is in parentheses; here any expression is
/// accepted (`schedule+16`: the offset has the decimal bias of
/// expressions, like the offsets crash prints in `bt`).
pub fn parse_address(s: &str, syms: &dyn Symbols) -> Result<u64, ExprError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ExprError::Empty);
    }
    if let Some(v) = hex_word(s)? {
        return Ok(v);
    }
    if let Some(v) = syms.value(s) {
        return Ok(v);
    }
    eval(s, syms)
}

/// A count or offset argument, as crash's `stol()` reads one: decimal when
/// it is all decimal digits, else hex (`rd x 10` is ten items, `rd x a` is
/// also ten). No symbols, no suffixes.
pub fn parse_number(s: &str) -> Result<u64, ExprError> {
    let s = s.trim();
    if let Some(v) = decimal_word(s)? {
        return Ok(v);
    }
    match hex_word(s)? {
        Some(v) => Ok(v),
        None if s.is_empty() => Err(ExprError::Empty),
        None => Err(ExprError::Unknown(s.to_string())),
    }
}

/// A hex-only argument, as crash's `htol()` reads one (`0x` optional).
pub fn parse_hex(s: &str) -> Result<u64, ExprError> {
    let s = s.trim();
    match hex_word(s)? {
        Some(v) => Ok(v),
        None if s.is_empty() => Err(ExprError::Empty),
        None => Err(ExprError::Unknown(s.to_string())),
    }
}

// ---------------------------------------------------------------------
// Words: numbers and symbols.

/// The value of one word of an expression (crash's `calculate()`).
fn word_value(word: &str, syms: &dyn Symbols) -> Result<u64, ExprError> {
    if let Some(v) = syms.value(word) {
        return Ok(v);
    }
    if let Some(v) = number_with_suffix(word)? {
        return Ok(v);
    }
    Err(ExprError::Unknown(word.to_string()))
}

/// A number, possibly followed by k/K, m/M or g/G. `None` if `word` is not
/// a number at all.
fn number_with_suffix(word: &str) -> Result<Option<u64>, ExprError> {
    let factor: u64 = match word.as_bytes().last() {
        Some(b'k' | b'K') => 1 << 10,
        Some(b'm' | b'M') => 1 << 20,
        Some(b'g' | b'G') => 1 << 30,
        _ => 1,
    };
    let digits = if factor == 1 {
        word
    } else {
        &word[..word.len() - 1]
    };
    let v = match decimal_word(digits)? {
        Some(v) => Some(v),
        None => hex_word(digits)?,
    };
    // Wrapping, as crash's `localval * factor` on ulong.
    Ok(v.map(|v| v.wrapping_mul(factor)))
}

/// All decimal digits: its value. `None` if it is not all decimal digits.
fn decimal_word(s: &str) -> Result<Option<u64>, ExprError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    s.parse::<u64>()
        .map(Some)
        .map_err(|_| ExprError::TooLarge(s.to_string()))
}

/// Hex digits with an optional 0x/0X: its value. `None` if it is not one.
fn hex_word(s: &str) -> Result<Option<u64>, ExprError> {
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    // crash refuses more than 16 characters; leading zeros are harmless
    // here, only the value has to fit.
    u64::from_str_radix(digits, 16)
        .map(Some)
        .map_err(|_| ExprError::TooLarge(digits.to_string()))
}

/// Characters a word (a number or a symbol name) is made of. Kernel symbol
/// names have dots (`foo.cold`, `__func__.12`); `$` appears in some.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

// ---------------------------------------------------------------------
// Tokens.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Shl,
    Shr,
    And,
    Or,
    Xor,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    LogAnd,
    LogOr,
    Not,    // !
    Invert, // ~
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Num(u64),
    Op(Op),
    Open,
    Close,
}

/// Split `s` into tokens, resolving words to values on the way.
fn lex(s: &str, syms: &dyn Symbols) -> Result<Vec<Token>, ExprError> {
    let mut tokens = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if is_word_char(c) {
            let end = rest.find(|c| !is_word_char(c)).unwrap_or(rest.len());
            tokens.push(Token::Num(word_value(&rest[..end], syms)?));
            rest = &rest[end..];
            continue;
        }
        let (token, len) = punct(rest).ok_or(ExprError::Invalid)?;
        tokens.push(token);
        rest = &rest[len..];
    }
    Ok(tokens)
}

/// The operator or parenthesis `s` starts with, and its length.
fn punct(s: &str) -> Option<(Token, usize)> {
    const TWO: &[(&str, Op)] = &[
        ("<<", Op::Shl),
        (">>", Op::Shr),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("&&", Op::LogAnd),
        ("||", Op::LogOr),
    ];
    if let Some((text, op)) = TWO.iter().find(|(t, _)| s.starts_with(t)) {
        return Some((Token::Op(*op), text.len()));
    }
    let op = match s.as_bytes().first()? {
        b'(' => return Some((Token::Open, 1)),
        b')' => return Some((Token::Close, 1)),
        b'+' => Op::Add,
        b'-' => Op::Sub,
        b'*' => Op::Mul,
        b'/' => Op::Div,
        b'%' => Op::Rem,
        b'&' => Op::And,
        b'|' => Op::Or,
        b'^' => Op::Xor,
        b'#' => Op::Pow,
        b'<' => Op::Lt,
        b'>' => Op::Gt,
        b'!' => Op::Not,
        b'~' => Op::Invert,
        _ => return None,
    };
    Some((Token::Op(op), 1))
}

// ---------------------------------------------------------------------
// Parsing and evaluating in one pass: precedence climbing. No tree is
// built, so a long flat chain (`1+1+...+1`) costs no recursion; nesting
// (parentheses, prefix operators, right-associative `#`) is bounded.

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 200;

/// C's binary precedence (higher binds tighter) and right-associativity.
fn binary_prec(op: Op) -> Option<(u8, bool)> {
    Some(match op {
        Op::LogOr => (1, false),
        Op::LogAnd => (2, false),
        Op::Or => (3, false),
        Op::Xor => (4, false),
        Op::And => (5, false),
        Op::Eq | Op::Ne => (6, false),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => (7, false),
        Op::Shl | Op::Shr => (8, false),
        Op::Add | Op::Sub => (9, false),
        Op::Mul | Op::Div | Op::Rem => (10, false),
        Op::Pow => (11, true),
        Op::Not | Op::Invert => return None,
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    /// False while parsing the side of `&&`/`||` that C does not evaluate:
    /// its syntax is still checked, but `1/0` there is no error.
    live: bool,
}

impl Parser {
    fn peek(&self) -> Option<Token> {
        self.tokens.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.peek();
        self.pos += 1;
        t
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::Invalid);
        }
        Ok(())
    }

    /// A binary expression whose operators bind at least as tight as `min`.
    fn expr(&mut self, min: u8) -> Result<u64, ExprError> {
        self.enter()?;
        let mut lhs = self.unary()?;
        while let Some(Token::Op(op)) = self.peek() {
            let Some((prec, right)) = binary_prec(op) else {
                break;
            };
            if prec < min {
                break;
            }
            self.pos += 1;
            let next_min = if right { prec } else { prec + 1 };
            lhs = self.apply(op, lhs, next_min)?;
        }
        self.depth -= 1;
        Ok(lhs)
    }

    /// Parse the right operand of `op` and combine it with `lhs`.
    fn apply(&mut self, op: Op, lhs: u64, min: u8) -> Result<u64, ExprError> {
        let short_circuit = match op {
            Op::LogAnd => lhs == 0,
            Op::LogOr => lhs != 0,
            _ => false,
        };
        let was_live = self.live;
        self.live = was_live && !short_circuit;
        let rhs = self.expr(min);
        self.live = was_live;
        let rhs = rhs?;
        if !was_live {
            return Ok(0);
        }
        match op {
            Op::LogAnd => Ok(u64::from(lhs != 0 && rhs != 0)),
            Op::LogOr => Ok(u64::from(lhs != 0 || rhs != 0)),
            _ => binary(op, lhs, rhs),
        }
    }

    /// Prefix operators, then a number or a parenthesized expression.
    fn unary(&mut self) -> Result<u64, ExprError> {
        self.enter()?;
        let v = match self.next().ok_or(ExprError::Invalid)? {
            Token::Num(v) => v,
            Token::Open => {
                let inner = self.expr(0)?;
                if self.next() != Some(Token::Close) {
                    return Err(ExprError::Invalid);
                }
                inner
            }
            Token::Op(Op::Add) => self.unary()?,
            Token::Op(Op::Sub) => self.unary()?.wrapping_neg(),
            Token::Op(Op::Invert) => !self.unary()?,
            Token::Op(Op::Not) => u64::from(self.unary()? == 0),
            Token::Op(_) | Token::Close => return Err(ExprError::Invalid),
        };
        self.depth -= 1;
        Ok(v)
    }
}

/// One binary operation on `ulong`, as crash does it: unsigned, wrapping.
fn binary(op: Op, a: u64, b: u64) -> Result<u64, ExprError> {
    Ok(match op {
        Op::Add => a.wrapping_add(b),
        Op::Sub => a.wrapping_sub(b),
        Op::Mul => a.wrapping_mul(b),
        Op::Div => a.checked_div(b).ok_or(ExprError::DivideByZero)?,
        Op::Rem => a.checked_rem(b).ok_or(ExprError::DivideByZero)?,
        Op::Shl => shift_count(b).map_or(0, |b| a << b),
        Op::Shr => shift_count(b).map_or(0, |b| a >> b),
        Op::And => a & b,
        Op::Or => a | b,
        Op::Xor => a ^ b,
        Op::Pow => pow(a, b),
        Op::Lt => u64::from(a < b),
        Op::Le => u64::from(a <= b),
        Op::Gt => u64::from(a > b),
        Op::Ge => u64::from(a >= b),
        Op::Eq => u64::from(a == b),
        Op::Ne => u64::from(a != b),
        Op::LogAnd => u64::from(a != 0 && b != 0),
        Op::LogOr => u64::from(a != 0 || b != 0),
        // Prefix-only operators are never binary (binary_prec says so).
        Op::Not | Op::Invert => return Err(ExprError::Invalid),
    })
}

/// A shift count that keeps some bits; shifting by 64 or more leaves none.
fn shift_count(b: u64) -> Option<u32> {
    u32::try_from(b).ok().filter(|&b| b < 64)
}

/// `base` to the power `exp`, wrapping, by squaring (crash loops `exp`
/// times, which is the same value, slower).
fn pow(mut base: u64, mut exp: u64) -> u64 {
    let mut acc: u64 = 1;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        exp >>= 1;
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syms(name: &str) -> Option<u64> {
        match name {
            "jiffies" => Some(0xffff_ffff_8e40_79c0),
            "init_task" => Some(0xffff_ffff_8e41_aa40),
            "schedule" => Some(0xffff_ffff_8d40_6090),
            "foo.cold" => Some(0x1000),
            // A symbol that looks like hex: eval takes the symbol, rd the number.
            "add" => Some(0x4242),
            _ => None,
        }
    }

    fn ev(s: &str) -> Result<u64, ExprError> {
        eval(s, &syms)
    }

    #[test]
    fn numbers_have_crash_s_decimal_bias() {
        assert_eq!(ev("10"), Ok(10));
        assert_eq!(ev("010"), Ok(10)); // no octal
        assert_eq!(ev("dead"), Ok(0xdead));
        assert_eq!(ev("0x10"), Ok(0x10));
        assert_eq!(ev("0X1f"), Ok(0x1f));
        assert_eq!(ev("ffffffff81000000"), Ok(0xffff_ffff_8100_0000));
        assert_eq!(ev("1a"), Ok(0x1a));
    }

    #[test]
    fn suffixes() {
        assert_eq!(ev("1k"), Ok(1024));
        assert_eq!(ev("1K"), Ok(1024));
        assert_eq!(ev("3m"), Ok(3 << 20));
        assert_eq!(ev("1g"), Ok(1 << 30));
        assert_eq!(ev("1G"), Ok(1 << 30));
        assert_eq!(ev("0xak"), Ok(10240));
        assert_eq!(ev("128 * 1m"), Ok(128 << 20));
        assert_eq!(ev("k"), Err(ExprError::Unknown("k".into())));
    }

    #[test]
    fn symbols_come_first() {
        assert_eq!(ev("jiffies"), Ok(0xffff_ffff_8e40_79c0));
        assert_eq!(ev("jiffies + 8"), Ok(0xffff_ffff_8e40_79c8));
        assert_eq!(ev("~jiffies"), Ok(0x71bf_863f));
        assert_eq!(ev("add"), Ok(0x4242));
        assert_eq!(ev("foo.cold+1"), Ok(0x1001));
        assert_eq!(ev("foo"), Err(ExprError::Unknown("foo".into())));
    }

    #[test]
    fn precedence_and_parentheses() {
        assert_eq!(ev("(0x1000 + 0x20) * 2"), Ok(0x2040));
        assert_eq!(ev("0x1000 + 0x20 * 2"), Ok(0x1040));
        assert_eq!(ev("1 + 2 + 3"), Ok(6));
        assert_eq!(ev("10 - 4 - 3"), Ok(3));
        assert_eq!(ev("1 << 4 + 1"), Ok(32));
        assert_eq!(ev("1 | 2 ^ 3 & 4"), Ok(3)); // 1 | (2 ^ (3 & 4))
        assert_eq!(ev("6 & 3 ^ 1 | 8"), Ok(11)); // ((6 & 3) ^ 1) | 8
        assert_eq!(ev("2 # 10"), Ok(1024));
        assert_eq!(ev("2 # 3 # 2"), Ok(512)); // right-associative
        assert_eq!(ev("-2 # 2"), Ok(4));
        assert_eq!(ev("((((1))))"), Ok(1));
        assert_eq!(ev("( 5 )"), Ok(5));
        assert_eq!(ev("1 < 2 == 1"), Ok(1));
        assert_eq!(ev("3 >= 4 || 0 && 1"), Ok(0));
    }

    #[test]
    fn unary() {
        assert_eq!(ev("-0x7fb70480"), Ok(0xffff_ffff_8048_fb80));
        assert_eq!(ev("-1"), Ok(u64::MAX));
        assert_eq!(ev("~0"), Ok(u64::MAX));
        assert_eq!(ev("!0"), Ok(1));
        assert_eq!(ev("!5"), Ok(0));
        assert_eq!(ev("- -3"), Ok(3));
        assert_eq!(ev("+3"), Ok(3));
        assert_eq!(ev("-b"), Ok(0u64.wrapping_sub(0xb)));
        assert_eq!(ev("1 -b"), Ok(0u64.wrapping_sub(10)));
    }

    #[test]
    fn unsigned_wrapping_like_ulong() {
        assert_eq!(ev("10 - 20"), Ok(0xffff_ffff_ffff_fff6));
        assert_eq!(ev("-8 / 2"), Ok(0x7fff_ffff_ffff_fffc));
        assert_eq!(ev("-1 >> 60"), Ok(0xf));
        assert_eq!(ev("ffffffffffffffff + 2"), Ok(1));
        assert_eq!(ev("1 << 63"), Ok(1 << 63));
        assert_eq!(ev("1 << 64"), Ok(0));
        assert_eq!(ev("1 >> 100000000000"), Ok(0));
        assert_eq!(ev("7 % 3"), Ok(1));
        assert_eq!(ev("3 # 100000000000000"), Ok(pow(3, 100_000_000_000_000)));
    }

    #[test]
    fn errors() {
        assert_eq!(ev("5 / 0"), Err(ExprError::DivideByZero));
        assert_eq!(ev("5 % (1 - 1)"), Err(ExprError::DivideByZero));
        assert_eq!(ev("0 && 1 / 0"), Ok(0)); // C skips the right side
        assert_eq!(ev(""), Err(ExprError::Empty));
        assert_eq!(ev("   "), Err(ExprError::Empty));
        assert_eq!(ev("-"), Err(ExprError::Invalid));
        assert_eq!(ev("1 <<"), Err(ExprError::Invalid));
        assert_eq!(ev("(1"), Err(ExprError::Invalid));
        assert_eq!(ev("1)"), Err(ExprError::Invalid));
        assert_eq!(ev("()"), Err(ExprError::Invalid));
        assert_eq!(ev("1 2"), Err(ExprError::Invalid));
        assert_eq!(ev("1 @ 2"), Err(ExprError::Invalid));
        assert_eq!(ev("0x"), Err(ExprError::Unknown("0x".into())));
        assert_eq!(ev("1x2"), Err(ExprError::Unknown("1x2".into())));
        assert_eq!(
            ev("0x11111111111111111"),
            Err(ExprError::TooLarge("11111111111111111".into()))
        );
        assert_eq!(
            ev("99999999999999999999"),
            Err(ExprError::TooLarge("99999999999999999999".into()))
        );
        assert_eq!(ev("11111111111111111"), Ok(11_111_111_111_111_111));
        assert_eq!(ev("0x00000000000000000001"), Ok(1));
        assert_eq!(
            ExprError::TooLarge("123".into()).to_string(),
            "input string too large: \"123\""
        );
    }

    #[test]
    fn addresses_as_rd_reads_them() {
        let a = |s| parse_address(s, &syms);
        assert_eq!(a("1000"), Ok(0x1000)); // hex, not decimal
        assert_eq!(a("0x1000"), Ok(0x1000));
        assert_eq!(a("ffffffff8e41aa40"), Ok(0xffff_ffff_8e41_aa40));
        assert_eq!(a("add"), Ok(0xadd)); // hex before the symbol table
        assert_eq!(a("init_task"), Ok(0xffff_ffff_8e41_aa40));
        assert_eq!(a("schedule+16"), Ok(0xffff_ffff_8d40_60a0));
        assert_eq!(a("schedule+0x10"), Ok(0xffff_ffff_8d40_60a0));
        assert_eq!(a("(init_task+0x10)"), Ok(0xffff_ffff_8e41_aa50));
        assert_eq!(a("(init_task + 16)"), Ok(0xffff_ffff_8e41_aa50));
        assert_eq!(a("(1000)"), Ok(1000)); // crash's eval bias inside ()
        assert_eq!(a(" init_task "), Ok(0xffff_ffff_8e41_aa40));
        assert_eq!(a("nosuch"), Err(ExprError::Unknown("nosuch".into())));
        assert_eq!(a(""), Err(ExprError::Empty));
        assert_eq!(
            ExprError::Unknown("nosuch".into()).to_string(),
            "symbol not found: nosuch"
        );
    }

    #[test]
    fn counts_as_stol_reads_them() {
        assert_eq!(parse_number("10"), Ok(10));
        assert_eq!(parse_number("a"), Ok(10));
        assert_eq!(parse_number("0x10"), Ok(16));
        assert_eq!(parse_number("1k"), Err(ExprError::Unknown("1k".into())));
        assert_eq!(parse_number(""), Err(ExprError::Empty));
        assert_eq!(parse_hex("10"), Ok(16));
        assert_eq!(
            parse_hex("init_task"),
            Err(ExprError::Unknown("init_task".into()))
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let open = "(".repeat(100_000);
        assert_eq!(ev(&open), Err(ExprError::Invalid));
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(ev(&deep), Err(ExprError::Invalid));
        let minus = format!("{}1", "-".repeat(100_000));
        assert_eq!(ev(&minus), Err(ExprError::Invalid));
        let ok = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert_eq!(ev(&ok), Ok(1));
        let long = vec!["1"; 100_000].join("+");
        assert_eq!(ev(&long), Ok(100_000));
    }

    /// Odd input of every kind: no panics, whatever the answer.
    #[test]
    fn fuzzish_no_panics() {
        let mut pieces: Vec<&str> = "( ) 0x 1 ff k - ~ ! + * / % << >> < > = == & && | || ^ # \
                                     jiffies é \u{0} 99999999999999999999 0xffffffffffffffff \
                                     1g \t \" . $ 0"
            .split(' ')
            .collect();
        pieces.extend(["", " "]);
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(seed % 9) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                s.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let _ = ev(&s);
            let _ = parse_address(&s, &syms);
            let _ = parse_number(&s);
            let _ = parse_hex(&s);
        }
    }
}
