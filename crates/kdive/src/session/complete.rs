//! Tab completion at the prompt: command names and aliases for the first
//! word; type names after `struct`, `union`, `whatis`, `*`; member names
//! after `TYPE.` (`struct task_struct.pi<TAB>`, nested: `task_struct.se.`);
//! symbol names elsewhere; file names after `>`, `>>`, `<` and in `!cmd`.
//! The lists are taken once, when the prompt starts: the helper owns a
//! copy of the kernel's BTF for types.

use kdive_debuginfo::btf::{Btf, Kind};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::session::Session;

/// Candidates beyond this many are not offered (an empty prefix among a
/// hundred thousand symbols helps no one).
const MAX_CANDIDATES: usize = 2000;

pub struct KdiveHelper {
    commands: Vec<String>,
    symbols: Vec<String>,
    types: Vec<String>,
    btf: Option<Btf>,
    files: FilenameCompleter,
}

impl KdiveHelper {
    pub fn new(s: &Session) -> KdiveHelper {
        let mut commands: Vec<String> = crate::commands::COMMANDS
            .iter()
            .map(|c| c.name.to_string())
            .chain(s.aliases.names().map(str::to_string))
            .collect();
        commands.sort();
        commands.dedup();
        let mut symbols: Vec<String> = s.kernel.symbols().iter().map(|s| s.name.clone()).collect();
        symbols.sort();
        symbols.dedup();
        let btf = s.kernel.btf().and_then(|b| Btf::parse(b.bytes()).ok());
        let mut types: Vec<String> = btf
            .iter()
            .flat_map(|b| b.types())
            .filter(|t| {
                matches!(
                    t.kind,
                    Kind::Struct | Kind::Union | Kind::Typedef | Kind::Enum
                )
            })
            .map(|t| t.name().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        types.sort();
        types.dedup();
        KdiveHelper {
            commands,
            symbols,
            types,
            btf,
            files: FilenameCompleter::new(),
        }
    }

    /// The candidates for `word`, the `index`th word of a line whose first
    /// word is `cmd`.
    pub fn candidates(&self, cmd: &str, index: usize, word: &str) -> Vec<String> {
        if index == 0 {
            return prefixed(&self.commands, word);
        }
        if let Some(dot) = word.rfind('.') {
            return self.members(&word[..dot], &word[dot + 1..]);
        }
        let wants_type = matches!(cmd, "struct" | "union" | "*" | "size" | "whatis");
        if wants_type && !word.starts_with('-') {
            let mut v = prefixed(&self.types, word);
            if cmd == "whatis" && !word.is_empty() {
                v.extend(prefixed(&self.symbols, word));
            }
            return v;
        }
        if word.is_empty() {
            return Vec::new();
        }
        prefixed(&self.symbols, word)
    }

    /// `PATH.PREFIX`: members of the struct PATH names (`task_struct`,
    /// `task_struct.se`) that start with PREFIX, each as the whole word.
    fn members(&self, path: &str, prefix: &str) -> Vec<String> {
        let Some(btf) = &self.btf else {
            return Vec::new();
        };
        let mut parts = path.split('.');
        let Some(mut id) = parts.next().and_then(|t| btf.find_aggregate(t)) else {
            return Vec::new();
        };
        for p in parts {
            let Some(m) = member_names(btf, id).into_iter().find(|(n, _)| n == p) else {
                return Vec::new();
            };
            id = m.1;
        }
        member_names(btf, id)
            .into_iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(n, _)| format!("{path}.{n}"))
            .collect()
    }
}

/// The named members of aggregate `id` with their type ids; anonymous
/// structs' and unions' members count as the outer one's, as in C.
fn member_names(btf: &Btf, id: u32) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![id];
    let mut steps = 0;
    while let Some(id) = stack.pop() {
        steps += 1;
        let Some(t) = btf
            .resolved(id)
            .filter(|t| matches!(t.kind, Kind::Struct | Kind::Union))
        else {
            continue;
        };
        if steps > 64 {
            break;
        }
        for m in t.members() {
            if m.name.is_empty() {
                stack.push(m.type_id);
            } else {
                out.push((m.name.to_string(), m.type_id));
            }
        }
    }
    out
}

/// The entries of sorted `list` that start with `prefix`, at most
/// [`MAX_CANDIDATES`].
fn prefixed(list: &[String], prefix: &str) -> Vec<String> {
    let lo = list.partition_point(|s| s.as_str() < prefix);
    let v: Vec<String> = list[lo..]
        .iter()
        .take_while(|s| s.starts_with(prefix))
        .take(MAX_CANDIDATES + 1)
        .cloned()
        .collect();
    if v.len() > MAX_CANDIDATES {
        Vec::new()
    } else {
        v
    }
}

impl Completer for KdiveHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        // Words break at blanks and at C punctuation (`p &init_task`,
        // `p (jiffies`), but `.` stays inside a word for member paths.
        let start = head
            .rfind(|c: char| c.is_whitespace() || "()&*,=+|<>!~[]".contains(c))
            .map_or(0, |i| i + 1);
        // After `>`, `>>`, `<`, or `!`: file names, as a shell completes them.
        let before_word = head[..start].trim_end();
        if before_word.ends_with(['>', '<']) || head.trim_start().starts_with('!') {
            return self.files.complete_path(line, pos);
        }
        let word = &head[start..];
        let before = head[..start].trim_start();
        let index = if before.trim().is_empty() { 0 } else { 1 };
        let cmd = before.split_whitespace().next().unwrap_or("");
        let found = self.candidates(cmd, index, word);
        // One command: the word is done, and a blank follows (a type or a
        // symbol may go on with `.member`).
        let blank = if found.len() == 1 && index == 0 {
            " "
        } else {
            ""
        };
        let pairs = found
            .into_iter()
            .map(|c| Pair {
                replacement: format!("{c}{blank}"),
                display: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for KdiveHelper {
    type Hint = String;
}
impl Highlighter for KdiveHelper {}
impl Validator for KdiveHelper {}
impl Helper for KdiveHelper {}

#[cfg(test)]
mod tests {
    use super::prefixed;

    #[test]
    fn prefixes_from_a_sorted_list() {
        let list: Vec<String> = ["jiffies", "jiffies_64", "jiffies_lock", "schedule"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(prefixed(&list, "jiffies_"), ["jiffies_64", "jiffies_lock"]);
        assert_eq!(prefixed(&list, "sched"), ["schedule"]);
        assert!(prefixed(&list, "zz").is_empty());
        assert_eq!(prefixed(&list, "").len(), 4);
    }
}
