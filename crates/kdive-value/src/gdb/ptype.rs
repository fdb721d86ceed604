//! gdb's C declarations (`ptype`, `whatis`, the members of a struct), from
//! gdb's c-typeprint.c rules: the base type, then the declarator's prefix
//! (`*`, `(`), the name, then its suffix (`[N]`, `)(args)`).
//!
//! `show` is gdb's level of detail: above 0 expands the type's own body
//! (`ptype`), 0 names named types and expands anonymous ones, below 0
//! writes `struct {...}` for an anonymous body (`whatis`). Members get
//! `show - 1`, except anonymous members, which keep `show`: crash patches
//! gdb so, and `struct page` prints whole.

use std::sync::Arc;

use kdive_debuginfo::types::{gdb_int_name, Kind, Namespace, Qualifier, Type, TypeId, TypeSource};

/// `ptype`'s detail: the type's own body.
pub const PTYPE: i32 = 1;
/// `whatis`'s detail: names only.
pub const WHATIS: i32 = -1;

/// How deep declarations nest before giving up (a damaged source).
const MAX_DEPTH: u32 = 64;

/// `ty` declared as `name` (empty for none), as gdb writes it at indent
/// `level`: `struct list_head *next`, `void (*ctor)(void *)`, or a whole
/// body with `show` > 0.
pub fn declaration(
    src: &dyn TypeSource,
    ty: TypeId,
    name: &str,
    show: i32,
    level: usize,
) -> String {
    let mut p = Printer {
        src,
        out: String::new(),
        depth: 0,
        flex_as_zero: false,
    };
    p.decl(ty, name, show, level);
    p.out
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Quals {
    konst: bool,
    volatile: bool,
    restrict: bool,
}

/// A type seen through its qualifiers.
#[derive(Clone)]
struct View {
    quals: Quals,
    t: Arc<Type>,
}

struct Printer<'a> {
    src: &'a dyn TypeSource,
    out: String,
    depth: u32,
    /// An array of unknown length prints `[0]`: set for members that are
    /// not last, where C allows no flexible array (BTF writes `x[0]` and
    /// `x[]` alike; the kernel uses `[0]` markers inside structs).
    flex_as_zero: bool,
}

/// The name gdb prints for a type in a declaration: none for the derived
/// types, `void` for void.
fn type_name(t: &Type) -> Option<&str> {
    match t.kind {
        Kind::Pointer { .. }
        | Kind::Array { .. }
        | Kind::Function { .. }
        | Kind::Qualified { .. } => None,
        Kind::Void => Some("void"),
        _ => t.name.as_deref(),
    }
}

impl Printer<'_> {
    /// `id` through its qualifiers, and through typedefs too with `strip`
    /// (gdb's check_typedef, which keeps the qualifiers).
    fn view(&self, id: TypeId, strip: bool) -> Option<View> {
        let mut quals = Quals::default();
        let mut id = id;
        for _ in 0..MAX_DEPTH {
            let t = self.src.get(id)?;
            match t.kind {
                Kind::Qualified { target, qualifier } => {
                    match qualifier {
                        Qualifier::Const => quals.konst = true,
                        Qualifier::Volatile => quals.volatile = true,
                        Qualifier::Restrict => quals.restrict = true,
                        Qualifier::Other => {}
                    }
                    id = target;
                }
                Kind::Typedef { target } if strip => id = target,
                _ => return Some(View { quals, t }),
            }
        }
        None
    }

    fn stripped(&self, v: &View) -> View {
        match v.t.kind {
            Kind::Typedef { target } => match self.view(target, true) {
                Some(mut inner) => {
                    inner.quals.konst |= v.quals.konst;
                    inner.quals.volatile |= v.quals.volatile;
                    inner.quals.restrict |= v.quals.restrict;
                    inner
                }
                None => v.clone(),
            },
            _ => v.clone(),
        }
    }

    /// gdb's c_print_type_1.
    fn decl(&mut self, ty: TypeId, var: &str, show: i32, level: usize) {
        let Some(v) = self.view(ty, show > 0) else {
            self.out.push_str("<unknown type>");
            if !var.is_empty() {
                self.out.push(' ');
                self.out.push_str(var);
            }
            return;
        };
        self.base(&v, show, level);
        let derived = matches!(
            v.t.kind,
            Kind::Pointer { .. } | Kind::Function { .. } | Kind::Array { .. }
        );
        if !var.is_empty() || ((show > 0 || type_name(&v.t).is_none()) && derived) {
            self.out.push(' ');
        }
        self.prefix(&v, show, false, !var.is_empty());
        self.out.push_str(var);
        self.suffix(&v, show, false);
    }

    /// gdb's c_type_print_modifier.
    fn modifier(&mut self, q: Quals, pre_space: bool, post_space: bool) {
        let mut did = false;
        for (on, word) in [
            (q.konst, "const"),
            (q.volatile, "volatile"),
            (q.restrict, "restrict"),
        ] {
            if on {
                if did || pre_space {
                    self.out.push(' ');
                }
                self.out.push_str(word);
                did = true;
            }
        }
        if did && post_space {
            self.out.push(' ');
        }
    }

    /// gdb's c_type_print_base_1.
    fn base(&mut self, v: &View, show: i32, level: usize) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.out.push_str("...");
            self.depth -= 1;
            return;
        }
        if let (true, Some(name)) = (show <= 0, type_name(&v.t)) {
            self.modifier(v.quals, false, true);
            self.out.push_str(match v.t.kind {
                Kind::Struct { .. }
                | Kind::Forward {
                    ns: Namespace::Struct | Namespace::Plain,
                } => "struct ",
                Kind::Union { .. }
                | Kind::Forward {
                    ns: Namespace::Union,
                } => "union ",
                Kind::Enum { .. }
                | Kind::Forward {
                    ns: Namespace::Enum,
                } => "enum ",
                _ => "",
            });
            self.out.push_str(gdb_int_name(name));
        } else {
            let v = self.stripped(v);
            match &v.t.kind {
                Kind::Function { ret, .. } => self.base_of(*ret, show, level),
                Kind::Pointer { target } => self.base_of(*target, show, level),
                Kind::Array { elem, .. } => self.base_of(*elem, show, level),
                Kind::Struct { .. } | Kind::Union { .. } | Kind::Forward { .. } => {
                    self.body(&v, show, level)
                }
                Kind::Enum { values } => self.enumeration(&v, values, show),
                Kind::Void => {
                    self.modifier(v.quals, false, true);
                    self.out.push_str("void");
                }
                Kind::Int { .. } | Kind::Float => {
                    self.modifier(v.quals, false, true);
                    self.out
                        .push_str(gdb_int_name(v.t.name.as_deref().unwrap_or("int")));
                }
                Kind::Typedef { .. } | Kind::Qualified { .. } => {
                    self.out.push_str("<unnamed typedef>")
                }
            }
        }
        self.depth -= 1;
    }

    fn base_of(&mut self, id: TypeId, show: i32, level: usize) {
        match self.view(id, false) {
            Some(v) => self.base(&v, show, level),
            None => self.out.push_str("<unknown type>"),
        }
    }

    /// A struct or union: `struct NAME`, or its members between braces.
    fn body(&mut self, v: &View, show: i32, level: usize) {
        self.modifier(v.quals, false, true);
        let (members, is_union) = match &v.t.kind {
            Kind::Struct { members } => (&members[..], false),
            Kind::Union { members } => (&members[..], true),
            Kind::Forward { ns } => (&[][..], *ns == Namespace::Union),
            _ => (&[][..], false),
        };
        if !self.tag_head(
            if is_union { "union" } else { "struct" },
            v.t.name.as_deref(),
            show,
        ) {
            return;
        }
        self.out.push_str("{\n");
        if members.is_empty() {
            let what = if matches!(v.t.kind, Kind::Forward { .. }) {
                "<incomplete type>"
            } else {
                "<no data fields>"
            };
            self.out.push_str(&format!("{:1$}{what}\n", "", level + 4));
        }
        for (i, m) in members.iter().enumerate() {
            self.out.push_str(&" ".repeat(level + 4));
            let newshow = if m.name.is_none() { show } else { show - 1 };
            let saved = self.flex_as_zero;
            self.flex_as_zero = i + 1 < members.len();
            self.decl(m.ty, m.name.as_deref().unwrap_or(""), newshow, level + 4);
            self.flex_as_zero = saved;
            if let Some(bits) = m.bit_size {
                self.out.push_str(&format!(" : {bits}"));
            }
            self.out.push_str(";\n");
        }
        self.out.push_str(&" ".repeat(level));
        self.out.push('}');
    }

    /// `struct NAME `, `enum NAME`...: the keyword and the tag as gdb
    /// writes them at print depth `show`; whether the body follows (a
    /// named type below the top prints no body, an anonymous one `{...}`).
    fn tag_head(&mut self, keyword: &str, name: Option<&str>, show: i32) -> bool {
        self.out.push_str(keyword);
        self.out.push(' ');
        if let Some(n) = name {
            self.out.push_str(n);
            if show > 0 {
                self.out.push(' ');
            }
        }
        if show < 0 {
            if name.is_none() {
                self.out.push_str("{...}");
            }
            return false;
        }
        !(show <= 0 && name.is_some())
    }

    /// `enum NAME`, or its constants: `{A, B, C = 5, D}` (a value is
    /// written where it is not the previous one plus one).
    fn enumeration(&mut self, v: &View, values: &[(String, i64)], show: i32) {
        self.modifier(v.quals, false, true);
        if !self.tag_head("enum", v.t.name.as_deref(), show) {
            return;
        }
        self.out.push('{');
        let mut last = 0i64;
        for (i, (name, value)) in values.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.out.push_str(name);
            if *value != last {
                self.out.push_str(&format!(" = {value}"));
                last = *value;
            }
            last = last.wrapping_add(1);
        }
        self.out.push('}');
    }

    /// gdb's c_type_print_varspec_prefix.
    fn prefix(&mut self, v: &View, show: i32, passed_ptr: bool, post_space: bool) {
        if type_name(&v.t).is_some() && show <= 0 {
            return;
        }
        match &v.t.kind {
            Kind::Pointer { target } => {
                if let Some(t) = self.view(*target, false) {
                    self.prefix(&t, show, true, true);
                }
                self.out.push('*');
                self.modifier(v.quals, true, post_space);
            }
            Kind::Function { ret, .. } => {
                if let Some(t) = self.view(*ret, false) {
                    self.prefix(&t, show, false, false);
                }
                if passed_ptr {
                    self.out.push('(');
                }
            }
            Kind::Array { elem, .. } => {
                if let Some(t) = self.view(*elem, false) {
                    self.prefix(&t, show, false, post_space);
                }
                if passed_ptr {
                    self.out.push('(');
                }
            }
            Kind::Typedef { target } => {
                if let Some(t) = self.view(*target, false) {
                    self.prefix(&t, show, passed_ptr, false);
                }
            }
            _ => {}
        }
    }

    /// gdb's c_type_print_varspec_suffix.
    fn suffix(&mut self, v: &View, show: i32, passed_ptr: bool) {
        if type_name(&v.t).is_some() && show <= 0 {
            return;
        }
        match &v.t.kind {
            Kind::Array { elem, len } => {
                if passed_ptr {
                    self.out.push(')');
                }
                match len {
                    Some(n) => self.out.push_str(&format!("[{n}]")),
                    None if self.flex_as_zero => self.out.push_str("[0]"),
                    None => self.out.push_str("[]"),
                }
                if let Some(t) = self.view(*elem, false) {
                    self.suffix(&t, show, false);
                }
            }
            Kind::Pointer { target } => {
                if let Some(t) = self.view(*target, false) {
                    self.suffix(&t, show, true);
                }
            }
            Kind::Function {
                ret,
                params,
                variadic,
            } => {
                if passed_ptr {
                    self.out.push(')');
                }
                self.out.push('(');
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    // Parameters are declared in a fresh printer context.
                    let saved = self.flex_as_zero;
                    self.flex_as_zero = false;
                    self.decl(p.ty, "", WHATIS, 0);
                    self.flex_as_zero = saved;
                }
                if *variadic && !params.is_empty() {
                    self.out.push_str(", ...");
                } else if params.is_empty() {
                    self.out.push_str("void");
                }
                self.out.push(')');
                if let Some(t) = self.view(*ret, false) {
                    self.suffix(&t, show, passed_ptr);
                }
            }
            Kind::Typedef { target } => {
                if let Some(t) = self.view(*target, false) {
                    self.suffix(&t, show, passed_ptr);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
