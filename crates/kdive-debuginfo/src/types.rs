//! One model of C types for both sources of them: BTF (the kernel's own,
//! in the vmlinux and in memory) and DWARF (vmlinux and module `.ko`
//! files). Commands print types and values from this model and never ask
//! which source it came from.
//!
//! A source hands out [`TypeId`]s, small handles valid for that source, and
//! the [`Type`] behind each. Types refer to each other by id, so cyclic
//! types (a `list_head` pointing to itself) are plain data. A source may
//! build types lazily (DWARF: on first use) and must be cheap to ask twice.

use std::sync::Arc;

/// A handle on a type of one [`TypeSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u64);

/// C's name spaces: `struct x`, `union x`, `enum x` and plain names
/// (typedefs and base types) can all be different types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Namespace {
    Struct,
    Union,
    Enum,
    /// Typedefs and base types (`u64`, `unsigned long`, `pid_t`).
    Plain,
}

/// A C type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Type {
    /// `None` for anonymous types and for the derived ones (pointers,
    /// arrays, qualifiers, function prototypes).
    pub name: Option<String>,
    /// Size in bytes; `None` where C has none (void, functions, incomplete
    /// types, arrays of unknown length).
    pub size: Option<u64>,
    pub kind: Kind,
}

/// What a type is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Void,
    /// An integer, `char` and `_Bool` included: the name says which.
    Int { signed: bool, encoding: IntEncoding },
    Float,
    Pointer { target: TypeId },
    /// `len` is `None` for a flexible or unknown-length array (`x[]`).
    Array { elem: TypeId, len: Option<u64> },
    Struct { members: Vec<Member> },
    Union { members: Vec<Member> },
    Enum { values: Vec<(String, i64)> },
    Typedef { target: TypeId },
    /// `const`, `volatile` and the like around a type.
    Qualified { target: TypeId, qualifier: Qualifier },
    Function { ret: TypeId, params: Vec<Param>, variadic: bool },
    /// `struct x;` with no definition in this source.
    Forward { ns: Namespace },
}

/// How an integer prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntEncoding {
    Plain,
    /// `char`, `signed char`, `unsigned char`: gdb prints the character.
    Char,
    Bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Const,
    Volatile,
    Restrict,
    /// BTF type tags, DWARF's atomic and the rest: no effect on values.
    Other,
}

/// A member of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// `None` for an anonymous struct or union member.
    pub name: Option<String>,
    pub ty: TypeId,
    /// From the start of the containing type.
    pub offset_bits: u64,
    /// `Some(width)` for a bitfield.
    pub bit_size: Option<u32>,
}

/// A parameter of a function type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: Option<String>,
    pub ty: TypeId,
}

/// A global variable or function with its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    pub name: String,
    pub ty: TypeId,
    /// The link-time address for a vmlinux (add the KASLR offset), or
    /// `None` when the source does not know it (BTF's non-per-CPU globals).
    pub addr: Option<u64>,
    /// The debuginfo says it has no storage (a DWARF variable without a
    /// location or a constant value: gdb's `<optimized out>`).
    pub optimized_out: bool,
}

/// A source of types: the BTF, the vmlinux's DWARF, a module's DWARF.
pub trait TypeSource: Send + Sync {
    /// The type named `name` in `ns` (the definition, when there is one
    /// besides forward declarations).
    fn find(&self, ns: Namespace, name: &str) -> Option<TypeId>;
    /// The type behind an id this source handed out.
    fn get(&self, id: TypeId) -> Option<Arc<Type>>;
    /// A global variable by name.
    fn variable(&self, name: &str) -> Option<Global>;
    /// A function by name (its type is a `Kind::Function`).
    fn function(&self, name: &str) -> Option<Global>;
    /// A short name for messages: `BTF`, `DWARF (vmlinux)`, ...
    fn describe(&self) -> String;
    /// The enum type that declares the constant `name` (an enumerator:
    /// `PIDTYPE_PID`, or `MM_SHMEMPAGES` of an anonymous enum) and its
    /// value. Sources that cannot tell say `None`.
    fn enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        let _ = name;
        None
    }
}

/// A member found by path (`a.b.c`), with its offset from the outer type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundMember {
    pub member: Member,
    /// Offset of the member from the start of the type searched, in bits
    /// (the sum over the path, anonymous members included).
    pub offset_bits: u64,
}

/// Skip typedefs and qualifiers.
pub fn strip(src: &dyn TypeSource, mut id: TypeId) -> Option<(TypeId, Arc<Type>)> {
    for _ in 0..64 {
        let t = src.get(id)?;
        match t.kind {
            Kind::Typedef { target } | Kind::Qualified { target, .. } => id = target,
            _ => return Some((id, t)),
        }
    }
    None
}

/// The size of a type, looking through typedefs and qualifiers.
pub fn size_of(src: &dyn TypeSource, id: TypeId) -> Option<u64> {
    let t = src.get(id)?;
    if let Some(s) = t.size {
        return Some(s);
    }
    match t.kind {
        Kind::Typedef { target } | Kind::Qualified { target, .. } => size_of(src, target),
        Kind::Pointer { .. } => Some(8),
        Kind::Array { elem, len: Some(n) } => size_of(src, elem)?.checked_mul(n),
        _ => None,
    }
}

/// Find a member by a dotted path (`thread.sp`), looking into anonymous
/// struct and union members as C does, and through typedefs.
pub fn member(src: &dyn TypeSource, id: TypeId, path: &str) -> Option<FoundMember> {
    let mut cur = id;
    let mut offset = 0u64;
    let mut found: Option<Member> = None;
    for name in path.split('.') {
        let (_, t) = strip(src, cur)?;
        let m = find_direct(src, &t, name, 0)?;
        offset += m.offset_bits;
        cur = m.member.ty;
        found = Some(m.member);
    }
    found.map(|member| FoundMember {
        member,
        offset_bits: offset,
    })
}

/// `name` among the members of `t`, searching anonymous members too.
fn find_direct(src: &dyn TypeSource, t: &Type, name: &str, depth: u32) -> Option<FoundMember> {
    let members = match &t.kind {
        Kind::Struct { members } | Kind::Union { members } => members,
        _ => return None,
    };
    if depth > 16 {
        return None;
    }
    for m in members {
        match &m.name {
            Some(n) if n == name => {
                return Some(FoundMember {
                    member: m.clone(),
                    offset_bits: m.offset_bits,
                })
            }
            None => {
                let (_, inner) = strip(src, m.ty)?;
                if let Some(f) = find_direct(src, &inner, name, depth + 1) {
                    return Some(FoundMember {
                        offset_bits: m.offset_bits + f.offset_bits,
                        member: f.member,
                    });
                }
            }
            _ => {}
        }
    }
    None
}

/// The C spelling of a type as gdb prints it in `whatis` and `ptype`
/// headers: `struct task_struct *`, `unsigned long`, `char [16]`.
pub fn type_name(src: &dyn TypeSource, id: TypeId) -> String {
    let (base, suffix) = split_name(src, id, 0);
    match (base.ends_with('*'), suffix.is_empty()) {
        (_, true) => base,
        (true, false) => format!("{base}{suffix}"),
        (false, false) => format!("{base} {suffix}"),
    }
}

/// A base type's name as gdb prints it: the compilers' `long unsigned int`
/// is `unsigned long` (gdb puts every name in canonical C form); other
/// names are unchanged.
pub fn gdb_int_name(name: &str) -> &str {
    match name {
        "long unsigned int" => "unsigned long",
        "long int" => "long",
        "short int" => "short",
        "short unsigned int" => "unsigned short",
        "long long int" => "long long",
        "long long unsigned int" => "unsigned long long",
        "__int128 unsigned" => "unsigned __int128",
        other => other,
    }
}

/// A declarator split into the part before the name and the part after
/// (`char` and `[16]`, `int (*` and `)(void)`).
fn split_name(src: &dyn TypeSource, id: TypeId, depth: u32) -> (String, String) {
    let Some(t) = src.get(id) else {
        return ("<unknown type>".into(), String::new());
    };
    if depth > 32 {
        return ("...".into(), String::new());
    }
    let tag = |kw: &str| match &t.name {
        Some(n) => format!("{kw} {n}"),
        None => format!("{kw} {{...}}"),
    };
    match &t.kind {
        Kind::Void => ("void".into(), String::new()),
        Kind::Int { .. } | Kind::Float => {
            (gdb_int_name(t.name.as_deref().unwrap_or("int")).to_string(), String::new())
        }
        Kind::Typedef { .. } => (t.name.clone().unwrap_or_default(), String::new()),
        Kind::Struct { .. } => (tag("struct"), String::new()),
        Kind::Union { .. } => (tag("union"), String::new()),
        Kind::Enum { .. } => (tag("enum"), String::new()),
        Kind::Forward { ns } => (
            tag(match ns {
                Namespace::Union => "union",
                Namespace::Enum => "enum",
                _ => "struct",
            }),
            String::new(),
        ),
        Kind::Qualified { target, qualifier } => {
            let (b, s) = split_name(src, *target, depth + 1);
            let q = match qualifier {
                Qualifier::Const => "const ",
                Qualifier::Volatile => "volatile ",
                _ => "",
            };
            if b.ends_with('*') {
                (format!("{b} {}", q.trim_end()), s)
            } else {
                (format!("{q}{b}"), s)
            }
        }
        Kind::Pointer { target } => {
            let inner = src.get(*target);
            match inner.as_deref().map(|t| &t.kind) {
                Some(Kind::Function { .. }) | Some(Kind::Array { .. }) => {
                    let (b, s) = split_name(src, *target, depth + 1);
                    (format!("{b} (*"), format!("){s}"))
                }
                _ => {
                    let (b, s) = split_name(src, *target, depth + 1);
                    if b.ends_with('*') {
                        (format!("{b}*"), s)
                    } else {
                        (format!("{b} *"), s)
                    }
                }
            }
        }
        Kind::Array { elem, len } => {
            let (b, s) = split_name(src, *elem, depth + 1);
            let n = len.map(|n| n.to_string()).unwrap_or_default();
            (b, format!("[{n}]{s}"))
        }
        Kind::Function { ret, params, variadic } => {
            let (b, s) = split_name(src, *ret, depth + 1);
            let mut ps: Vec<String> = params.iter().map(|p| type_name(src, p.ty)).collect();
            if *variadic {
                ps.push("...".into());
            }
            if ps.is_empty() {
                ps.push("void".into());
            }
            (b, format!("{s}({})", ps.join(", ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A source from a vector, for tests.
    struct Vec_(Vec<Type>, HashMap<String, u64>);

    impl TypeSource for Vec_ {
        fn find(&self, _: Namespace, name: &str) -> Option<TypeId> {
            self.1.get(name).map(|&i| TypeId(i))
        }
        fn get(&self, id: TypeId) -> Option<Arc<Type>> {
            self.0.get(id.0 as usize).cloned().map(Arc::new)
        }
        fn variable(&self, _: &str) -> Option<Global> {
            None
        }
        fn function(&self, _: &str) -> Option<Global> {
            None
        }
        fn describe(&self) -> String {
            "test".into()
        }
    }

    fn t(name: Option<&str>, size: Option<u64>, kind: Kind) -> Type {
        Type {
            name: name.map(str::to_string),
            size,
            kind,
        }
    }

    fn src() -> Vec_ {
        let char_ = t(Some("char"), Some(1), Kind::Int { signed: true, encoding: IntEncoding::Char });
        let list = t(
            Some("list_head"),
            Some(16),
            Kind::Struct {
                members: vec![
                    Member { name: Some("next".into()), ty: TypeId(2), offset_bits: 0, bit_size: None },
                    Member { name: Some("prev".into()), ty: TypeId(2), offset_bits: 64, bit_size: None },
                ],
            },
        );
        let ptr = t(None, Some(8), Kind::Pointer { target: TypeId(1) });
        let arr = t(None, Some(16), Kind::Array { elem: TypeId(0), len: Some(16) });
        let anon = t(
            None,
            Some(16),
            Kind::Union {
                members: vec![Member { name: Some("tasks".into()), ty: TypeId(1), offset_bits: 0, bit_size: None }],
            },
        );
        let task = t(
            Some("task_struct"),
            Some(48),
            Kind::Struct {
                members: vec![
                    Member { name: Some("comm".into()), ty: TypeId(3), offset_bits: 0, bit_size: None },
                    Member { name: None, ty: TypeId(4), offset_bits: 128, bit_size: None },
                ],
            },
        );
        let fptr_fn = t(None, None, Kind::Function { ret: TypeId(0), params: vec![], variadic: false });
        let fptr = t(None, Some(8), Kind::Pointer { target: TypeId(6) });
        let names = [("list_head", 1), ("task_struct", 5)].map(|(n, i)| (n.to_string(), i));
        Vec_(vec![char_, list, ptr, arr, anon, task, fptr_fn, fptr], HashMap::from(names))
    }

    #[test]
    fn names_as_gdb_prints_them() {
        let s = src();
        assert_eq!(type_name(&s, TypeId(2)), "struct list_head *");
        assert_eq!(type_name(&s, TypeId(3)), "char [16]");
        assert_eq!(type_name(&s, TypeId(7)), "char (*)(void)");
    }

    #[test]
    fn members_through_anonymous_unions() {
        let s = src();
        let task = s.find(Namespace::Struct, "task_struct").unwrap();
        let m = member(&s, task, "tasks.prev").unwrap();
        assert_eq!(m.offset_bits, 128 + 64);
        assert_eq!(size_of(&s, task), Some(48));
        assert!(member(&s, task, "nope").is_none());
    }
}
