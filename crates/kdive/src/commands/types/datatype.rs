//! crash's data type names (its `arg_to_datatype()`): a word names a
//! struct, union or enum by its tag, else a typedef or base type; with
//! `.member` after it, a member too. And crash's last try for a command
//! word it does not know (`is_datatype_command()`): a type name used as a
//! command (`task_struct ADDR`, `list_head`) runs `struct`, `union` or
//! `whatis` on it.

use std::sync::Arc;

use kdive_debuginfo::types::{size_of, strip, Kind, Namespace, Type, TypeId, TypeSource};

/// What a data type name resolved to.
#[derive(Debug, Clone)]
pub struct Datatype {
    /// The name as given (the tag, or the typedef's name).
    pub name: String,
    /// The struct, union or enum found by its tag, or the typedef (or base
    /// type) found by its name.
    pub id: TypeId,
    /// Found as a typedef: crash writes `typedef ... NAME;` around it.
    pub typedef: bool,
    /// The type behind typedefs and qualifiers.
    pub resolved: Arc<Type>,
    /// `sizeof`, 0 when C has none.
    pub size: u64,
}

/// The class crash sorts a data type into (its `dm->type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Struct,
    Union,
    Enum,
    Pointer,
    Array,
    Function,
    /// Integers, chars, bools, floats: `rd` sized for them.
    Integer,
    Other,
}

impl Datatype {
    pub fn class(&self) -> Class {
        match self.resolved.kind {
            Kind::Struct { .. } => Class::Struct,
            Kind::Union { .. } => Class::Union,
            Kind::Forward {
                ns: Namespace::Union,
            } => Class::Union,
            Kind::Forward { .. } => Class::Struct,
            Kind::Enum { .. } => Class::Enum,
            Kind::Pointer { .. } => Class::Pointer,
            Kind::Array { .. } => Class::Array,
            Kind::Function { .. } => Class::Function,
            Kind::Int { .. } | Kind::Float => Class::Integer,
            _ => Class::Other,
        }
    }
}

/// The data type `name` (no member part): tags first, then typedefs and
/// base types, the order of crash's lookup through gdb.
pub fn lookup(src: &dyn TypeSource, name: &str) -> Option<Datatype> {
    let tagged = [Namespace::Struct, Namespace::Union, Namespace::Enum]
        .into_iter()
        .find_map(|ns| src.find(ns, name));
    let (id, typedef) = match tagged {
        Some(id) => (id, false),
        None => {
            let id = src
                .find(Namespace::Plain, name)
                .or_else(|| src.find(Namespace::Plain, compiler_name(name)?))?;
            let t = src.get(id)?;
            (id, matches!(t.kind, Kind::Typedef { .. }))
        }
    };
    let (_, resolved) = strip(src, id)?;
    Some(Datatype {
        name: name.to_string(),
        id,
        typedef,
        // gdb gives functions and void a size of 1.
        size: size_of(src, id).unwrap_or(match resolved.kind {
            Kind::Function { .. } | Kind::Void => 1,
            _ => 0,
        }),
        resolved,
    })
}

/// The compilers' name of a base type C lets one spell shorter
/// (`unsigned` is `unsigned int`, `unsigned long` is `long unsigned int`).
fn compiler_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "unsigned" => "unsigned int",
        "signed" => "int",
        "long" => "long int",
        "short" => "short int",
        "unsigned long" => "long unsigned int",
        "unsigned short" => "short unsigned int",
        "long long" => "long long int",
        "unsigned long long" => "long long unsigned int",
        _ => return None,
    })
}

/// The offset in bytes of `member` (a name, or a dotted path) in `dt`,
/// looking into anonymous members as C does.
pub fn member_offset(src: &dyn TypeSource, dt: &Datatype, member: &str) -> Option<u64> {
    if member.is_empty() || member.contains('[') {
        return None;
    }
    kdive_debuginfo::types::member(src, dt.id, member).map(|m| m.offset_bits / 8)
}

/// crash's `is_datatype_command()`: the command and arguments a command
/// line `WORD ARGS...` stands for when WORD is no command but a data type
/// (`task_struct ADDR` is `struct task_struct ADDR`); `None` when it is
/// not one. `is_symbol` says whether a word is a kernel symbol and `has_p`
/// whether there is a `p` command to hand a lone symbol to.
pub fn as_command(
    src: &dyn TypeSource,
    words: &[String],
    is_symbol: &dyn Fn(&str) -> bool,
    has_p: bool,
) -> Option<(&'static str, Vec<String>)> {
    let word = words.first()?;
    let with = |cmd: &'static str, rest: &[String]| Some((cmd, rest.to_vec()));
    if word == "enum" {
        return with("whatis", words);
    }
    if has_p && words.len() == 1 && is_symbol(word) {
        return with("p", words);
    }
    let base = word.split('.').next().unwrap_or(word);
    let dt = lookup(src, base)?;
    if has_p && is_symbol(word) {
        return with("p", words);
    }
    let lone = words.len() == 1;
    match dt.class() {
        Class::Struct if dt.typedef && lone => with("whatis", words),
        Class::Struct => with("struct", words),
        Class::Union if dt.typedef && lone => with("whatis", words),
        Class::Union => with("union", words),
        Class::Integer if !lone => {
            if has_p && is_symbol(&words[1]) {
                return with("p", &words[1..]);
            }
            let width = match dt.size {
                8 => "-64",
                4 => "-32",
                2 => "-16",
                1 => "-8",
                _ => return None,
            };
            let mut args = vec![width.to_string()];
            args.extend_from_slice(&words[1..]);
            Some(("rd", args))
        }
        Class::Other => None,
        _ => with("whatis", words),
    }
}

/// [`as_command`] for a session: the command to run for `words` whose
/// first word is no command, if it names a data type.
pub fn session_command(
    s: &crate::session::Session,
    words: &[String],
) -> Option<(&'static crate::commands::Command, Vec<String>)> {
    let src = s.kernel.types()?;
    let is_symbol = |w: &str| s.kernel.symbol(w).is_some();
    let has_p = crate::commands::find("p").is_some();
    let (name, args) = as_command(src, words, &is_symbol, has_p)?;
    Some((crate::commands::find(name)?, args))
}
