//! crash's declaration of a data type (`struct NAME`, `whatis NAME`, and
//! with `-o`, offsets): gdb's `ptype` text, line by line through crash's
//! fixups (its `do_datatype_declaration()` and `show_member_offset()`),
//! then `SIZE: N`.
//!
//! crash finds each member's offset by parsing the name back out of gdb's
//! line, and looks it up in the outer type, anonymous members included.
//! Lines whose name it cannot find there (members of a named inner
//! struct, braces) get blanks instead of an offset; those rules are kept
//! as they are, since they decide the columns.

use kdive_debuginfo::types::TypeSource;

use super::datatype::{member_offset, Datatype};
use crate::gdb::ptype::{declaration as gdb_declaration, PTYPE};

/// How to show the declaration.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeclOptions<'a> {
    /// `-o`: each member's offset (or address, with `vaddr`).
    pub offsets: bool,
    /// Only this member's line (`struct list_head.next`).
    pub member: Option<&'a str>,
    /// The object's address (`struct -o NAME ADDR`): addresses, not offsets.
    pub vaddr: Option<u64>,
    /// `-x`: offsets and size in hex.
    pub hex: bool,
}

/// The declaration crash prints for `dt`.
pub fn declaration(src: &dyn TypeSource, dt: &Datatype, opts: DeclOptions<'_>) -> String {
    let ptype = format!("type = {}\n", gdb_declaration(src, dt.id, "", PTYPE, 0));
    let offsets = opts.offsets || opts.member.is_some();
    let mut out = String::new();
    let mut multiline = false;
    let mut block = Block::None;
    for line in ptype.split_inclusive('\n') {
        if let Some(p1) = line.strip_prefix("type = ") {
            multiline = line.contains('{');
            if dt.typedef {
                out.push_str("typedef ");
            }
            if let Some(at) = p1.find("(*)()") {
                out.push_str(&format!("{}(*{})();\n", &p1[..at], dt.name));
            } else if let Some(at) = p1.find("()") {
                out.push_str(&format!("{}({})();\n", &p1[..at], dt.name));
            } else if multiline {
                out.push_str(p1);
            } else {
                out.push_str(&format!("{} {};\n", p1.trim_end_matches('\n'), dt.name));
            }
        } else if multiline && line.starts_with('}') && dt.typedef {
            if line.contains("} **()") {
                out.push_str(&format!("}} **({})();\n", dt.name));
            } else {
                out.push_str(&format!("{} {};\n", line.trim_end_matches('\n'), dt.name));
            }
        } else if offsets && line.starts_with([' ', '\t']) {
            member_line(src, dt, opts, line, &mut block, &mut out);
        } else {
            out.push_str(line);
        }
    }
    if opts.member.is_none() {
        if opts.hex {
            out.push_str(&format!("SIZE: {:#x}\n", dt.size));
        } else {
            out.push_str(&format!("SIZE: {}\n", dt.size));
        }
    }
    out
}

/// Whether the lines are inside an anonymous `union {` or `struct {`:
/// crash names it again before a lone member found inside one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Union,
    Struct,
}

/// One member line with its offset in front (crash's
/// `show_member_offset()`), or blanks where crash finds none.
fn member_line(
    src: &dyn TypeSource,
    dt: &Datatype,
    opts: DeclOptions<'_>,
    line: &str,
    block: &mut Block,
    out: &mut String,
) {
    if !line.starts_with("    ") {
        out.push_str(&format!("rejecting: {line}"));
        return;
    }
    if line.starts_with("    union {") {
        *block = Block::Union;
    }
    if line.starts_with("    struct {") {
        *block = Block::Struct;
    }
    let end_of_block = line.starts_with("    } ");
    let size = if opts.hex {
        format!("{:#x}", dt.size)
    } else {
        dt.size.to_string()
    };
    let width = size.len() + 4;
    let name = target(line);
    if let (Some(m), Some(t)) = (opts.member, &name) {
        if m != t {
            // Another member than the one asked for: nothing.
            if end_of_block {
                *block = Block::None;
            }
            return;
        }
    }
    let offset = name.as_deref().and_then(|t| member_offset(src, dt, t));
    let Some(offset) = offset else {
        if end_of_block {
            *block = Block::None;
        }
        if opts.member.is_none() {
            out.push_str(&" ".repeat(size.len() + 1));
            out.push_str(line);
        }
        return;
    };
    let label = match opts.vaddr {
        Some(v) => format!("  [{:x}]", v.wrapping_add(offset)),
        None if opts.hex => format!("  [{offset:#x}]"),
        None => format!("  [{offset}]"),
    };
    if end_of_block && opts.member.is_some() {
        out.push_str(&" ".repeat(width + 1));
        match *block {
            Block::Union => out.push_str("union {\n"),
            Block::Struct => out.push_str("struct {\n"),
            Block::None => {}
        }
        *block = Block::None;
    }
    out.push_str(&format!("{label:>width$}"));
    out.push_str(&line[3..]);
}

/// The member name crash reads out of a declaration line: the word before
/// ` : ` for a bitfield, the name inside `(*NAME)` for a function pointer,
/// else the last word when it ends the declaration (`*next;`, `comm[16];`),
/// cleaned of `*[];()` and cut at the first blank. `None` for no name
/// (`<no data fields>`); `Some("}")` and the like are looked up and not
/// found, as in crash.
fn target(line: &str) -> Option<String> {
    let args = parse_line(line);
    let mut target: Option<String> = None;
    if line.contains(':') {
        target = (1..args.len())
            .find(|&i| args[i] == ":")
            .map(|i| args[i - 1].clone());
    } else if !args.is_empty() {
        if line.contains("(*") {
            for a in &args {
                let rest = ["(*", "*(*", "**(*"].iter().find_map(|p| a.strip_prefix(p));
                if let Some(rest) = rest {
                    if let Some(close) = rest.find(')') {
                        target = Some(rest[..close].to_string());
                        break;
                    }
                }
            }
        }
        if target.is_none() {
            let last = args.last().unwrap();
            if last.contains(';') {
                target = Some(last.clone());
            }
        }
    }
    let t = target?;
    let cleaned: String = t
        .chars()
        .map(|c| if "*[];()".contains(c) { ' ' } else { c })
        .collect();
    let name = cleaned
        .trim()
        .split([' ', '\t'])
        .next()
        .unwrap_or("")
        .to_string();
    (!name.is_empty()).then_some(name)
}

/// crash's `parse_line()` for a declaration line: words split on blanks,
/// a word starting with `(` running to its matching `)` and on to the
/// next blank.
fn parse_line(line: &str) -> Vec<String> {
    let s = line.trim();
    let b = s.as_bytes();
    let mut args = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i] == b'(' {
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
        }
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            i += 1;
        }
        args.push(s[start..i].to_string());
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::super::datatype::lookup;
    use super::{declaration, parse_line, target, DeclOptions};
    use crate::gdb::fixture::fixture;

    #[test]
    fn offsets_in_front_of_members() {
        let f = fixture();
        let dt = lookup(&f, "demo").unwrap();
        let opts = DeclOptions {
            offsets: true,
            ..DeclOptions::default()
        };
        let want = "\
struct demo {
    [0] struct list_head list;
   [16] char comm[16];
   [32] int pid;
   [36] unsigned int flag : 1;
   [36] unsigned int mode : 3;
        union {
   [40]     int a;
   [40]     unsigned int b;
        };
   [44] enum state st;
   [48] void (*fn)(void *);
   [56] const char *name;
   [64] _Bool on;
   [65] u8 raw[4];
   [72] unsigned long arr[3];
   [96] struct empty e;
   [96] u8 marker[0];
   [96] unsigned long tail;
  [104] u8 flex[];
}
SIZE: 112
";
        assert_eq!(declaration(&f, &dt, opts), want);
        let one = DeclOptions {
            member: Some("b"),
            vaddr: Some(0x1000),
            ..DeclOptions::default()
        };
        assert_eq!(
            declaration(&f, &dt, one),
            "struct demo {\n  [1028]     unsigned int b;\n}\n"
        );
        let pid_t = lookup(&f, "pid_t").unwrap();
        assert_eq!(
            declaration(&f, &pid_t, DeclOptions::default()),
            "typedef int pid_t;\nSIZE: 4\n"
        );
    }

    #[test]
    fn names_read_back() {
        let t = |l: &str| target(l);
        assert_eq!(t("    struct list_head *next;\n").as_deref(), Some("next"));
        assert_eq!(t("    void (*ctor)(void *);\n").as_deref(), Some("ctor"));
        assert_eq!(
            t("    void *(*start)(struct seq_file *, loff_t *);\n").as_deref(),
            Some("start")
        );
        assert_eq!(
            t("    unsigned int frozen : 1;\n").as_deref(),
            Some("frozen")
        );
        assert_eq!(
            t("    u8 extended_state_area[0];\n").as_deref(),
            Some("extended_state_area")
        );
        assert_eq!(t("    } b;\n").as_deref(), Some("b"));
        assert_eq!(t("    };\n").as_deref(), Some("}"));
        assert_eq!(t("    union {\n"), None);
        assert_eq!(t("    <no data fields>\n"), None);
        assert_eq!(
            parse_line("  int (*f)(int, long) x;"),
            ["int", "(*f)(int,", "long)", "x;"]
        );
    }
}
