//! The grammar, after gdb's `c-exp.y`: C's precedence, with gdb's `@`
//! between the shifts and `+ -`, and `{TYPE} ADDR`. Type names are
//! resolved while parsing, as C's grammar needs (`(u64)x` is a cast only
//! because `u64` names a type).

use kdive_debuginfo::types::TypeId;

use super::lex::{lex, LitType, Tok, Token};
use super::{Error, Evaluator};

/// Nesting deeper than this is not typed by hand; the limit bounds the
/// recursion of both the parser and the evaluator.
const MAX_DEPTH: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Un {
    Neg,
    Plus,
    Not,
    Compl,
    Deref,
    Addr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bin {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
    BitAnd,
    BitXor,
    BitOr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Int(u64, LitType),
    Char(u8),
    Str(Vec<u8>),
    Name(String),
    /// `a.b` (`arrow` false) or `a->b`.
    Member {
        base: Box<Expr>,
        name: String,
        arrow: bool,
    },
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Expr>),
    Unary(Un, Box<Expr>),
    Cast(TypeId, Box<Expr>),
    /// gdb's `{TYPE} ADDR`.
    Memval(TypeId, Box<Expr>),
    SizeofType(TypeId),
    SizeofValue(Box<Expr>),
    Binary(Bin, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Comma(Box<Expr>, Box<Expr>),
    /// gdb's `VALUE@COUNT`.
    Repeat(Box<Expr>, Box<Expr>),
}

/// Parse `s` whole.
pub fn parse(ev: &Evaluator, s: &str) -> Result<Expr, Error> {
    let toks = lex(s)?;
    let mut p = Parser {
        ev,
        src: s,
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.expr()?;
    match p.peek() {
        Tok::End => Ok(e),
        _ => Err(p.syntax()),
    }
}

pub(super) struct Parser<'e, 's> {
    pub(super) ev: &'e Evaluator<'e>,
    pub(super) src: &'s str,
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
    pub(super) depth: u32,
}

fn b(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// Binary operators by precedence, loosest first.
fn binary_op(t: &Tok) -> Option<(u8, Option<Bin>)> {
    let Tok::Punct(p) = t else { return None };
    let r = match *p {
        "||" => (1, None),
        "&&" => (2, None),
        "|" => (3, Some(Bin::BitOr)),
        "^" => (4, Some(Bin::BitXor)),
        "&" => (5, Some(Bin::BitAnd)),
        "==" => (6, Some(Bin::Eq)),
        "!=" => (6, Some(Bin::Ne)),
        "<" => (7, Some(Bin::Lt)),
        ">" => (7, Some(Bin::Gt)),
        "<=" => (7, Some(Bin::Le)),
        ">=" => (7, Some(Bin::Ge)),
        "<<" => (8, Some(Bin::Shl)),
        ">>" => (8, Some(Bin::Shr)),
        "@" => (9, None),
        "+" => (10, Some(Bin::Add)),
        "-" => (10, Some(Bin::Sub)),
        "*" => (11, Some(Bin::Mul)),
        "/" => (11, Some(Bin::Div)),
        "%" => (11, Some(Bin::Rem)),
        _ => return None,
    };
    Some(r)
}

impl Parser<'_, '_> {
    pub(super) fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    pub(super) fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    pub(super) fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Tok::Punct(q) if *q == p)
    }

    pub(super) fn eat(&mut self, p: &str) -> bool {
        let yes = self.is(p);
        if yes {
            self.pos += 1;
        }
        yes
    }

    pub(super) fn expect(&mut self, p: &str) -> Result<(), Error> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// gdb's message, naming the rest of the input from the current token.
    pub(super) fn syntax(&self) -> Error {
        let rest = self.src.get(self.toks[self.pos].at..).unwrap_or("");
        Error::gdb(format!("A syntax error in expression, near `{rest}'."))
    }

    pub(super) fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::gdb("Expression too deeply nested."));
        }
        Ok(())
    }

    pub(super) fn expr(&mut self) -> Result<Expr, Error> {
        let saved = self.depth;
        self.enter()?;
        let mut e = self.assign()?;
        while self.eat(",") {
            // Each operator nests the tree one deeper: count it.
            self.enter()?;
            e = Expr::Comma(b(e), b(self.assign()?));
        }
        self.depth = saved;
        Ok(e)
    }

    fn assign(&mut self) -> Result<Expr, Error> {
        let e = self.cond()?;
        match self.peek() {
            Tok::Punct(p) if p.ends_with('=') && !matches!(*p, "==" | "!=" | "<=" | ">=") => {
                Err(Error::gdb("Writing to the dump is not supported."))
            }
            _ => Ok(e),
        }
    }

    fn cond(&mut self) -> Result<Expr, Error> {
        self.enter()?;
        let c = self.binary(1)?;
        let e = if self.eat("?") {
            let a = self.expr()?;
            self.expect(":")?;
            Expr::Cond(b(c), b(a), b(self.cond()?))
        } else {
            c
        };
        self.depth -= 1;
        Ok(e)
    }

    /// Precedence climbing: operators of `min` or tighter, left-associative.
    fn binary(&mut self, min: u8) -> Result<Expr, Error> {
        let saved = self.depth;
        let mut lhs = self.unary()?;
        while let Some((prec, op)) = binary_op(self.peek()) {
            if prec < min {
                break;
            }
            // `1+1+...` builds a tree as deep as it is long: bound it too.
            self.enter()?;
            let Tok::Punct(p) = *self.peek() else { break };
            self.pos += 1;
            let rhs = self.binary(prec + 1)?;
            lhs = match (p, op) {
                ("||", _) => Expr::Or(b(lhs), b(rhs)),
                ("&&", _) => Expr::And(b(lhs), b(rhs)),
                ("@", _) => Expr::Repeat(b(lhs), b(rhs)),
                (_, Some(op)) => Expr::Binary(op, b(lhs), b(rhs)),
                _ => return Err(self.syntax()),
            };
        }
        self.depth = saved;
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, Error> {
        self.enter()?;
        let e = self.unary_inner()?;
        self.depth -= 1;
        Ok(e)
    }

    fn unary_inner(&mut self) -> Result<Expr, Error> {
        let op = match self.peek() {
            Tok::Punct("-") => Some(Un::Neg),
            Tok::Punct("+") => Some(Un::Plus),
            Tok::Punct("!") => Some(Un::Not),
            Tok::Punct("~") => Some(Un::Compl),
            Tok::Punct("*") => Some(Un::Deref),
            Tok::Punct("&") => Some(Un::Addr),
            Tok::Punct("++" | "--") => {
                return Err(Error::gdb("Writing to the dump is not supported."))
            }
            _ => None,
        };
        if let Some(op) = op {
            self.pos += 1;
            return Ok(Expr::Unary(op, b(self.unary()?)));
        }
        if matches!(self.peek(), Tok::Name(n) if n == "sizeof") {
            self.pos += 1;
            if self.is("(") && self.type_starts(1) {
                self.pos += 1;
                let t = self.type_name()?;
                self.expect(")")?;
                return Ok(Expr::SizeofType(t));
            }
            return Ok(Expr::SizeofValue(b(self.unary()?)));
        }
        if self.is("(") && self.type_starts(1) {
            self.pos += 1;
            let t = self.type_name()?;
            self.expect(")")?;
            return Ok(Expr::Cast(t, b(self.unary()?)));
        }
        if self.is("{") && self.type_starts(1) {
            self.pos += 1;
            let t = self.type_name()?;
            self.expect("}")?;
            return Ok(Expr::Memval(t, b(self.unary()?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, Error> {
        let saved = self.depth;
        let mut e = self.primary()?;
        loop {
            // `a->b->c...` nests as deep as it is long.
            self.enter()?;
            if self.eat("[") {
                let i = self.expr()?;
                self.expect("]")?;
                e = Expr::Index(b(e), b(i));
            } else if self.is(".") || self.is("->") {
                let arrow = self.is("->");
                self.pos += 1;
                let Tok::Name(name) = self.peek().clone() else {
                    return Err(self.syntax());
                };
                self.pos += 1;
                e = Expr::Member {
                    base: b(e),
                    name,
                    arrow,
                };
            } else if self.eat("(") {
                // Parsed so that its errors come first, then refused.
                if !self.eat(")") {
                    self.expr()?;
                    self.expect(")")?;
                }
                e = Expr::Call(b(e));
            } else if self.is("++") || self.is("--") {
                return Err(Error::gdb("Writing to the dump is not supported."));
            } else {
                self.depth = saved;
                return Ok(e);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        let e = match self.peek().clone() {
            Tok::Int(v, t) => Expr::Int(v, t),
            Tok::Char(c) => Expr::Char(c),
            Tok::Str(mut s) => {
                // Adjacent strings concatenate, as in C.
                while let Tok::Str(more) = self.peek_at(1) {
                    s.extend_from_slice(more);
                    self.pos += 1;
                }
                Expr::Str(s)
            }
            Tok::Name(n) if n.starts_with('$') => {
                return Err(Error::gdb(format!(
                    "History and convenience variables ({n}) are not supported."
                )))
            }
            Tok::Name(_) if self.type_starts(0) => {
                return Err(Error::gdb("Attempt to use a type name as an expression"))
            }
            Tok::Name(n) if n == "sizeof" => return Err(self.syntax()),
            Tok::Name(n) => Expr::Name(n),
            Tok::Punct("(") => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(")")?;
                return Ok(e);
            }
            _ => return Err(self.syntax()),
        };
        self.pos += 1;
        Ok(e)
    }
}
