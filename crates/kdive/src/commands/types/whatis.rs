//! `whatis`: a data type's declaration (as `struct` shows it), an enum's
//! constants, or a symbol's declaration (`void schedule(void);`), with
//! crash's words (its `cmd_whatis()` and `whatis_variable()`).

use std::io::Write;

use super::datatype::{lookup, member_offset, Class};
use super::decl::{declaration, DeclOptions};
use super::no_types;
use crate::commands::{io, CmdResult, Command};
use crate::gdb::ptype::{declaration as gdb_declaration, WHATIS};
use crate::session::Session;

/// `whatis`'s synopsis, as crash prints it after a usage error.
const USAGE: &str = "Usage:\n  whatis [[-o] [struct | union | typedef | symbol]] | \n         [[-r [size|range]] [-m member]]\nEnter \"help whatis\" for details.\n";

pub const COMMAND: Command = Command {
    name: "whatis",
    aliases: &[],
    summary: "show the definition of a structure, union, typedef or enum, or a symbol's type",
    usage: "whatis [-o] [struct|union|enum] NAME[.member] | SYMBOL",
    run,
    without_dump: true,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    if s.json {
        return crate::commands::json::as_text(s, "name", args, out, |s, out| run(s, args, out));
    }
    let mut offsets = false;
    let mut words = Vec::new();
    for a in args {
        match a.as_str() {
            "-o" => offsets = true,
            "-r" | "-m" => return Err(format!("option {a} is not supported yet")),
            o if o.starts_with('-') && o.len() > 1 => {
                let _ = out.flush();
                eprintln!("whatis: invalid option -- '{}'", &o[1..2]);
                return usage(s, out);
            }
            w => words.push(w),
        }
    }
    let Some(&first) = words.first() else {
        return usage(s, out);
    };
    let keyword = matches!(first, "struct" | "union" | "enum");
    let name = if keyword {
        words.get(1).copied()
    } else {
        Some(first)
    };
    if !keyword && s.kernel.symbol(first).is_some() {
        let line = variable(s, first);
        return writeln!(out, "{line}").map_err(io);
    }
    let Some(name) = name else {
        return usage(s, out);
    };
    let Some(src) = s.kernel.types() else {
        return Err(no_types(s));
    };
    let (base, member) = match name.split_once('.') {
        Some((b, m)) => (b, Some(m)),
        None => (name, None),
    };
    let resolved = lookup(src, base).filter(|dt| match member {
        Some(m) => !m.is_empty() && !m.contains('.') && member_offset(src, dt, m).is_some(),
        None => true,
    });
    let Some(dt) = resolved else {
        // Not a type: gdb's `whatis` of it as an expression.
        if !keyword {
            if let Some(t) = crate::commands::print::whatis_expr(s, &words.join(" ")) {
                return writeln!(out, "{t}").map_err(io);
            }
        }
        let _ = out.flush();
        eprintln!("whatis: cannot resolve: {}", words.join(" "));
        return usage(s, out);
    };
    if dt.class() == Class::Enum && member.is_none() {
        return write!(out, "{}", enumerators(&dt)).map_err(io);
    }
    let opts = DeclOptions {
        offsets,
        member,
        vaddr: None,
        hex: false,
    };
    let text = if dt.typedef || matches!(dt.class(), Class::Struct | Class::Union) {
        declaration(src, &dt, opts)
    } else {
        // A base type: gdb is asked nothing, and only the size is left.
        format!("SIZE: {}\n", dt.size)
    };
    write!(out, "{text}").map_err(io)
}

fn usage(s: &mut Session, out: &mut dyn Write) -> CmdResult {
    s.failures += 1;
    write!(out, "{USAGE}").map_err(io)
}

/// crash's own list of an enum's constants, one a line with its value.
fn enumerators(dt: &super::datatype::Datatype) -> String {
    let kdive_debuginfo::types::Kind::Enum { values } = &dt.resolved.kind else {
        return String::new();
    };
    let mut out = String::new();
    if dt.typedef {
        out.push_str("typedef ");
    }
    match (&dt.resolved.name, dt.typedef) {
        (Some(tag), _) => out.push_str(&format!("enum {tag} {{\n")),
        (None, _) => out.push_str("enum {\n"),
    }
    for (n, v) in values {
        out.push_str(&format!("  {n} = {v}\n"));
    }
    match &dt.resolved.name {
        Some(_) => out.push_str("};\n"),
        None => out.push_str(&format!("}} {};\n", dt.name)),
    }
    out
}

/// A symbol's declaration: gdb's `whatis` type with the name put where C
/// puts it (crash's `whatis_variable()`); gdb's words for a symbol with
/// no type information.
fn variable(s: &Session, name: &str) -> String {
    let src = s.kernel.types();
    let global = src.and_then(|t| t.function(name).or_else(|| t.variable(name)));
    let ty = match (src, global) {
        (Some(t), Some(g)) => gdb_declaration(t, g.ty, "", WHATIS, 0),
        _ => {
            let text = s
                .kernel
                .symbols()
                .by_name(name)
                .is_some_and(|sym| s.kernel.is_code(sym));
            let what = if text { "text" } else { "data" };
            format!("<{what} variable, no debug info>")
        }
    };
    place_name(&ty, name)
}

/// `type` with `name` inserted: before `[` for an array, before the `(`
/// of a function (or in `(*)` when there are several), else after the type.
pub fn place_name(ty: &str, name: &str) -> String {
    let ty = ty.trim();
    let at = if let Some(p) = ty.find('[') {
        Some(p)
    } else if let Some(p) = ty.find('(') {
        if ty.matches('(').count() == 1 {
            Some(p)
        } else {
            ty.find(')')
        }
    } else {
        None
    };
    match at {
        Some(p) => format!("{}{name}{};", &ty[..p], &ty[p..]),
        None if ty.ends_with('*') => format!("{ty}{name};"),
        None => format!("{ty} {name};"),
    }
}

#[cfg(test)]
mod tests {
    use super::place_name;

    #[test]
    fn names_go_where_c_puts_them() {
        assert_eq!(
            place_name("void (void)", "schedule"),
            "void schedule(void);"
        );
        assert_eq!(
            place_name("void *(struct kmem_cache *, gfp_t)", "kmem_cache_alloc"),
            "void *kmem_cache_alloc(struct kmem_cache *, gfp_t);"
        );
        assert_eq!(
            place_name("unsigned long [8192]", "__per_cpu_offset"),
            "unsigned long __per_cpu_offset[8192];"
        );
        assert_eq!(
            place_name("struct task_struct *", "current_task"),
            "struct task_struct *current_task;"
        );
        assert_eq!(place_name("struct rq", "runqueues"), "struct rq runqueues;");
        assert_eq!(place_name("void (*)(int)", "fp"), "void (*fp)(int);");
    }
}
