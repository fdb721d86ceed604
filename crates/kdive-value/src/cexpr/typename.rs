//! C type names in casts, `sizeof` and `{TYPE}`: specifiers (`struct x`,
//! `unsigned long`, a typedef, `const`), then an abstract declarator (`*`,
//! `[N]`, `(*)(int)`), read inside out as C does.

use kdive_debuginfo::types::{Namespace, Qualifier, TypeId, TypeSource};

use super::lex::Tok;
use super::overlay::Builtin;
use super::parse::Parser;
use super::Error;

const BASE_WORDS: &[&str] = &[
    "unsigned", "signed", "int", "char", "long", "short", "void", "_Bool", "float", "double",
];
const QUALIFIERS: &[&str] = &[
    "const",
    "volatile",
    "restrict",
    "__restrict",
    "__const",
    "__volatile",
];

impl Parser<'_, '_> {
    /// Whether the token `n` ahead starts a type name.
    pub(super) fn type_starts(&self, n: usize) -> bool {
        let Tok::Name(w) = self.peek_at(n) else {
            return false;
        };
        let w = w.as_str();
        matches!(w, "struct" | "union" | "enum")
            || BASE_WORDS.contains(&w)
            || QUALIFIERS.contains(&w)
            || self.typedef(w).is_some()
    }

    /// A typedef (or base type) name that no variable hides.
    fn typedef(&self, w: &str) -> Option<TypeId> {
        let types = self.ev.types();
        let t = types.find(Namespace::Plain, w)?;
        (types.variable(w).is_none() && types.function(w).is_none()).then_some(t)
    }

    pub(super) fn type_name(&mut self) -> Result<TypeId, Error> {
        self.enter()?;
        let base = self.specifiers()?;
        let t = self.declarator(base)?;
        self.depth -= 1;
        Ok(t)
    }

    fn specifiers(&mut self) -> Result<TypeId, Error> {
        let types = self.ev.types();
        let mut quals = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut named: Option<TypeId> = None;
        while let Tok::Name(w) = self.peek().clone() {
            if QUALIFIERS.contains(&w.as_str()) {
                quals.push(if w.contains("const") {
                    Qualifier::Const
                } else {
                    Qualifier::Volatile
                });
            } else if matches!(w.as_str(), "struct" | "union" | "enum")
                && named.is_none()
                && words.is_empty()
            {
                self.pos += 1;
                let Tok::Name(tag) = self.peek().clone() else {
                    return Err(self.syntax());
                };
                let ns = match w.as_str() {
                    "struct" => Namespace::Struct,
                    "union" => Namespace::Union,
                    _ => Namespace::Enum,
                };
                named = Some(
                    types
                        .find(ns, &tag)
                        .ok_or_else(|| Error::gdb(format!("No {w} type named {tag}.")))?,
                );
            } else if BASE_WORDS.contains(&w.as_str()) && named.is_none() {
                words.push(w);
            } else if named.is_none() && words.is_empty() && self.typedef(&w).is_some() {
                named = self.typedef(&w);
            } else {
                break;
            }
            self.pos += 1;
        }
        let mut t = match named {
            Some(t) => t,
            None if words.is_empty() => return Err(self.syntax()),
            None => self
                .ev
                .types()
                .builtin(base_type(&words).ok_or_else(|| self.syntax())?),
        };
        for q in quals {
            t = types.qualified(t, q);
        }
        Ok(t)
    }

    /// An abstract declarator around `base`: `*`, `[N]`, `(*)(...)`.
    fn declarator(&mut self, base: TypeId) -> Result<TypeId, Error> {
        self.enter()?;
        let types = self.ev.types();
        let mut t = base;
        while self.eat("*") {
            t = types.pointer(t);
            while let Tok::Name(w) = self.peek() {
                if !QUALIFIERS.contains(&w.as_str()) {
                    break;
                }
                let q = if w.contains("const") {
                    Qualifier::Const
                } else {
                    Qualifier::Volatile
                };
                t = types.qualified(t, q);
                self.pos += 1;
            }
        }
        let grouped = self.is("(") && matches!(self.peek_at(1), Tok::Punct("*" | "(" | "["));
        if grouped {
            // `(*)[4]`: the suffixes after the parentheses apply first,
            // then the declarator inside them.
            let inner = self.pos + 1;
            let close = self.matching_paren()?;
            self.pos = close + 1;
            t = self.suffixes(t)?;
            let after = self.pos;
            self.pos = inner;
            t = self.declarator(t)?;
            if self.pos != close {
                return Err(self.syntax());
            }
            self.pos = after;
        } else {
            t = self.suffixes(t)?;
        }
        self.depth -= 1;
        Ok(t)
    }

    /// The index of the `)` matching the `(` at the current token.
    fn matching_paren(&self) -> Result<usize, Error> {
        let mut depth = 0;
        for (i, tk) in self.toks.iter().enumerate().skip(self.pos) {
            match tk.tok {
                Tok::Punct("(") => depth += 1,
                Tok::Punct(")") => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                _ => {}
            }
        }
        Err(self.syntax())
    }

    /// `[N]...` and `(PARAMS)`, applied innermost last as C reads them.
    fn suffixes(&mut self, base: TypeId) -> Result<TypeId, Error> {
        enum Suffix {
            Array(Option<u64>),
            Func(Vec<TypeId>, bool),
        }
        let mut list = Vec::new();
        loop {
            if self.eat("[") {
                let len = if self.eat("]") {
                    None
                } else {
                    let e = self.expr()?;
                    self.expect("]")?;
                    let v = super::eval::Ev::new(self.ev, false).eval(&e)?;
                    let n = self.ev.as_i128(&v)?;
                    Some(u64::try_from(n).map_err(|_| Error::gdb("Invalid array length."))?)
                };
                list.push(Suffix::Array(len));
            } else if self.eat("(") {
                let (params, variadic) = self.params()?;
                list.push(Suffix::Func(params, variadic));
            } else {
                break;
            }
        }
        let types = self.ev.types();
        let mut t = base;
        for s in list.into_iter().rev() {
            t = match s {
                Suffix::Array(len) => types
                    .array(t, len)
                    .ok_or_else(|| Error::gdb("Array type too large."))?,
                Suffix::Func(params, variadic) => types.function_type(t, params, variadic),
            };
        }
        Ok(t)
    }

    /// A prototype's parameter types, after its `(`, through its `)`.
    fn params(&mut self) -> Result<(Vec<TypeId>, bool), Error> {
        let mut params = Vec::new();
        let mut variadic = false;
        if self.eat(")") {
            return Ok((params, variadic));
        }
        loop {
            if self.is(".") {
                for _ in 0..3 {
                    self.expect(".")?;
                }
                variadic = true;
            } else {
                params.push(self.type_name()?);
            }
            if !self.eat(",") {
                break;
            }
        }
        self.expect(")")?;
        // `(void)` is no parameters.
        let void = self.ev.types().builtin(Builtin::Void);
        if params == [void] {
            params.clear();
        }
        Ok((params, variadic))
    }
}

/// The built-in type a list of C's base-type words names (`unsigned long
/// int`, `char`, `long long`), or `None` for an invalid combination.
fn base_type(words: &[String]) -> Option<Builtin> {
    let count = |w: &str| words.iter().filter(|x| *x == w).count();
    let (uns, sig) = (count("unsigned"), count("signed"));
    let (long, short, int, char) = (count("long"), count("short"), count("int"), count("char"));
    let others = ["void", "_Bool", "float", "double"].map(count);
    if uns + sig > 1
        || int > 1
        || char > 1
        || short > 1
        || long > 2
        || others.iter().sum::<usize>() > 1
    {
        return None;
    }
    let [void, bool_, float, double] = others;
    let plain = uns + sig + long + short + int + char == 0;
    use Builtin::*;
    Some(match () {
        _ if void == 1 && plain => Void,
        _ if bool_ == 1 && plain => Bool,
        _ if float == 1 && plain => Float,
        _ if double == 1 && uns + sig + short + int + char == 0 && long <= 1 => {
            if long == 1 {
                LongDouble
            } else {
                Double
            }
        }
        _ if others.iter().sum::<usize>() > 0 => return None,
        _ if char == 1 && long + short + int == 0 => match (uns, sig) {
            (1, _) => UChar,
            (_, 1) => SChar,
            _ => Char,
        },
        _ if char == 1 => return None,
        _ if short == 1 && long == 0 => {
            if uns == 1 {
                UShort
            } else {
                Short
            }
        }
        _ if short == 1 => return None,
        _ if long == 2 => {
            if uns == 1 {
                ULongLong
            } else {
                LongLong
            }
        }
        _ if long == 1 => {
            if uns == 1 {
                ULong
            } else {
                Long
            }
        }
        _ => {
            if uns == 1 {
                UInt
            } else {
                Int
            }
        }
    })
}
