//! `p`, `px`, `pd` (and `p/x`, `p/d`): C expressions printed as crash's gdb
//! prints them: `jiffies = $1 = 4294894342`, `$2 = {...}`, pointers with
//! their type, `(struct kmem_cache *) 0xff29412bc13afe00`.

use std::io::Write;

use kdive_debuginfo::types::{strip, type_name, IntEncoding, Kind, TypeId, TypeSource};
use kdive_kernel::Kernel;

use super::objects::format_value;
use super::{io, CmdResult, Command};
use crate::cexpr::{Ctx, Error, Evaluator, PerCpu, Place, Request};
use crate::session::Session;

/// The session's view for the evaluator.
struct KernelCtx<'a> {
    k: &'a Kernel,
    types: &'a dyn TypeSource,
}

impl Ctx for KernelCtx<'_> {
    fn types(&self) -> &dyn TypeSource {
        self.types
    }
    fn symbol_addr(&self, name: &str) -> Option<u64> {
        self.k.symbol(name)
    }
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), kdive_kernel::MemError> {
        self.k.read(addr, buf)
    }
    fn per_cpu_offset(&self, cpu: u32) -> Option<u64> {
        ((cpu as usize) < self.k.nr_cpus()).then(|| self.k.per_cpu_offset(cpu as usize))?
    }
    fn nr_cpus(&self) -> u32 {
        self.k.nr_cpus() as u32
    }
    fn current_cpu(&self) -> Option<u32> {
        self.k.panic_cpu().map(|c| c as u32)
    }
}

pub const P: Command = Command {
    name: "p",
    aliases: &[],
    summary: "print the value of a C expression (p/x, px: hexadecimal; p/d, pd: decimal)",
    usage: "p [-x|-d] EXPRESSION",
    run: p,
    without_dump: true,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn p(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    print(s, args, None, out)
}

pub const PX: Command = Command {
    name: "px",
    aliases: &[],
    summary: "p in hexadecimal",
    usage: "px EXPRESSION",
    run: px,
    without_dump: true,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn px(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    print(s, args, Some(true), out)
}

pub const PD: Command = Command {
    name: "pd",
    aliases: &[],
    summary: "p in decimal",
    usage: "pd EXPRESSION",
    run: pd,
    without_dump: true,
    minimal: false,
    json: true,
    foreach: false,
};

pub fn pd(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    print(s, args, Some(false), out)
}

/// `hex`: the base px/pd ask for; `None` (p) is the session's radix.
fn print(s: &mut Session, args: &[String], hex: Option<bool>, out: &mut dyn Write) -> CmdResult {
    let (hex, words) = match args.first().map(String::as_str) {
        Some("-x") => (true, &args[1..]),
        Some("-d") => (false, &args[1..]),
        _ => (hex.unwrap_or(s.radix == 16), args),
    };
    let expr = words.join(" ");
    if expr.trim().is_empty() {
        return Err("usage: p [-x|-d] EXPRESSION".into());
    }
    let k = &s.kernel;
    let types = k
        .types()
        .ok_or("no type information: neither DWARF (a vmlinux) nor BTF is available")?;
    let ctx = KernelCtx { k, types };
    let ev = Evaluator::new(&ctx);
    let mut text = String::new();
    let mut value_view = None;
    match ev.request(&expr).map_err(|e| gdb_error(&e, &expr))? {
        Request::Expr(e) if optimized_out(&ctx, e.trim()) => {
            // gdb shows such a variable, alone, as a value of its own.
            s.history += 1;
            text = format!("${} = <optimized out>\n", s.history);
        }
        Request::Expr(e) => {
            let v = ev.eval(&e).map_err(|err| gdb_error(&err, &e))?;
            // A value that cannot be shown takes no history number.
            let body = show(k, &ev, &v, hex, &expr)?;
            s.history += 1;
            let lead = if is_identifier(e.trim()) {
                format!("{} = ", e.trim())
            } else {
                String::new()
            };
            text = format!("{lead}${} = {body}\n", s.history);
            value_view = Some(serde_json::json!({
                "expression": e.trim(),
                "history": s.history,
                "type": type_name(ev.types(), v.ty),
                "address": match v.place {
                    Place::Memory(a) => Some(super::json::hex(a)),
                    Place::Bytes(_) => None,
                },
                "text": body,
            }));
            if !lead.is_empty() {
                text = break_first_brace(&text, lead.len());
            }
        }
        Request::PerCpuSummary { name, ty, addrs } => {
            text.push_str("PER-CPU DATA TYPE:\n");
            match ty {
                Some(t) => {
                    let decl = crate::gdb::ptype::declaration(ev.types(), t, &name, 0, 0);
                    text.push_str(&format!("  {decl};\n"));
                }
                None => text.push_str(&format!("  [undetermined type] {name};\n")),
            }
            text.push_str("PER-CPU ADDRESSES:\n");
            for (cpu, a) in addrs {
                text.push_str(&format!("  [{cpu}]: {a:x}\n"));
            }
        }
        Request::PerCpu { name, cpus } => {
            for cpu in cpus {
                let pc: PerCpu = ev.per_cpu(&name, cpu).map_err(|e| gdb_error(&e, &expr))?;
                let lead = if pc.typed { "" } else { "&" };
                let body = show(k, &ev, &pc.value, hex, &expr)?;
                text.push_str(&format!("{lead}per_cpu({name}, {cpu}) = {body}\n"));
            }
        }
        Request::NotPerCpu { name } => {
            eprintln!("WARNING: {name} is not percpu; cpuspec ignored.");
            let v = ev.eval(&name).map_err(|e| gdb_error(&e, &name))?;
            let body = show(k, &ev, &v, hex, &expr)?;
            s.history += 1;
            text = format!("{name} = ${} = {body}\n", s.history);
            text = break_first_brace(&text, name.len() + 3);
        }
    }
    if s.json {
        let v =
            value_view.unwrap_or_else(|| serde_json::json!({ "expression": expr, "text": text }));
        return super::json::emit(out, &v);
    }
    write!(out, "{text}").map_err(io)
}

/// A value as gdb prints it at the top level.
fn show(
    k: &Kernel,
    ev: &Evaluator<'_>,
    value: &crate::cexpr::Value,
    hex: bool,
    expr: &str,
) -> Result<String, String> {
    let data = ev.bytes(value).map_err(|e| gdb_error(&e, expr))?;
    let addr = match value.place {
        Place::Memory(a) => a,
        Place::Bytes(_) => 0,
    };
    let src: &dyn TypeSource = ev.types();
    let text = format_value(k, src, value.ty, &data, addr, hex);
    Ok(if needs_type_prefix(src, value.ty) {
        format!("({}) {text}", type_name(src, value.ty))
    } else {
        text
    })
}

/// gdb shows a pointer's type before it at the top level, except for the
/// strings behind `char *`.
fn needs_type_prefix(src: &dyn TypeSource, ty: TypeId) -> bool {
    let Some((_, t)) = strip(src, ty) else {
        return false;
    };
    let Kind::Pointer { target } = t.kind else {
        return false;
    };
    !matches!(
        strip(src, target).map(|(_, t)| t.kind.clone()),
        Some(Kind::Int {
            encoding: IntEncoding::Char,
            ..
        })
    )
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// crash prints gdb's message, then its own `gdb request failed` line;
/// for memory it cannot read, its own reason comes first.
fn gdb_error(e: &Error, expr: &str) -> String {
    match e.reason() {
        Some(r) => {
            format!("{r}  type: \"gdb_readmem_callback\"\np: {e}\np: gdb request failed: p {expr}")
        }
        None => format!("{e}\np: gdb request failed: p {expr}"),
    }
}

/// crash's `process_gdb_output()` with a leader (`p SYMBOL`): a `{` on
/// gdb's first line that does not end it starts a new line, ` {`. `text`
/// is the leader (`lead` bytes) and gdb's output.
fn break_first_brace(text: &str, lead: usize) -> String {
    let (head, gdb) = text.split_at(lead);
    let first = gdb.split_inclusive('\n').next().unwrap_or(gdb);
    match first.find('{') {
        Some(i) if !first[i..].starts_with("{\n") => {
            format!("{head}{}\n {{{}", &gdb[..i], &gdb[i + 1..])
        }
        _ => text.to_string(),
    }
}

/// A variable the debuginfo has no storage for, and no symbol names.
fn optimized_out(ctx: &KernelCtx, name: &str) -> bool {
    is_identifier(name)
        && ctx.k.symbol(name).is_none()
        && ctx.types.variable(name).is_some_and(|g| g.optimized_out)
}

/// gdb's `whatis EXPRESSION`: the name of the expression's type, `None`
/// when gdb could not evaluate it.
pub fn whatis_expr(s: &Session, expr: &str) -> Option<String> {
    let k = &s.kernel;
    let types = k.types()?;
    let ctx = KernelCtx { k, types };
    let ev = Evaluator::new(&ctx);
    let ty = ev.type_of(expr).ok()?;
    Some(kdive_debuginfo::types::type_name(ev.types(), ty))
}
