//! crash's aliases: a word that stands for a command line. crash's
//! built-in ones, those of the startup files (`~/.kdiverc`, `./.kdiverc`),
//! and those made with `alias NAME COMMAND...` during the session.

use std::io::Write;

use crate::commands::{self, io, CmdResult, Command};
use crate::session::Session;

/// Where an alias was made, as `alias` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    HomeRc,
    LocalRc,
    Runtime,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Builtin => "builtin",
            Origin::HomeRc => "$HOME/.kdiverc",
            Origin::LocalRc => ".kdiverc",
            Origin::Runtime => "runtime",
        }
    }
}

pub struct Alias {
    pub name: String,
    pub command: String,
    pub origin: Origin,
}

/// crash 8.0.2's `alias_init` (less `g gdb`: kdive has no gdb command).
const BUILTIN: &[(&str, &str)] = &[
    ("man", "help"),
    ("?", "help"),
    ("quit", "q"),
    ("exit", "q"),
    ("sf", "set scroll off"),
    ("sn", "set scroll on"),
    ("hex", "set radix 16"),
    ("dec", "set radix 10"),
    ("px", "p -x"),
    ("pd", "p -d"),
    ("for", "foreach"),
    ("size", "*"),
    ("dmesg", "log"),
    ("lsmod", "mod"),
    ("last", "ps -l"),
];

/// The session's aliases, in the order they were made.
pub struct Aliases {
    list: Vec<Alias>,
}

impl Default for Aliases {
    fn default() -> Aliases {
        let list = BUILTIN
            .iter()
            .map(|(n, c)| Alias {
                name: n.to_string(),
                command: c.to_string(),
                origin: Origin::Builtin,
            })
            .collect();
        Aliases { list }
    }
}

impl Aliases {
    /// `line` with its first word replaced when that word is an alias
    /// (aliases of aliases too, a few levels deep).
    pub fn expand(&self, line: &str) -> String {
        let mut line = line.to_string();
        for _ in 0..8 {
            let word_end = line.find(char::is_whitespace).unwrap_or(line.len());
            let Some(a) = self.list.iter().find(|a| a.name == line[..word_end]) else {
                break;
            };
            line = format!("{}{}", a.command, &line[word_end..]);
        }
        line
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|a| a.name.as_str())
    }

    fn set(&mut self, name: &str, command: String, origin: Origin) {
        self.list.retain(|a| a.name != name);
        self.list.push(Alias {
            name: name.to_string(),
            command,
            origin,
        });
    }
}

pub const COMMAND: Command = Command {
    name: "alias",
    aliases: &[],
    summary: "list the aliases, or make one: alias NAME COMMAND...",
    usage: "alias [NAME [COMMAND ...]]",
    run,
    without_dump: false,
    minimal: true,
    json: true,
    foreach: false,
};

/// `alias`: list the aliases; `alias NAME`: show one; `alias NAME CMD...`:
/// make one; `alias NAME ""`: delete it.
pub fn run(s: &mut Session, args: &[String], out: &mut dyn Write) -> CmdResult {
    match args {
        [] => show(s, None, out),
        [name] => show(s, Some(name), out),
        [name, rest @ ..] => {
            let command = rest.join(" ");
            if commands::COMMANDS.iter().any(|c| c.name == *name) {
                return Err(format!("cannot alias existing command name: {name}"));
            }
            if command.trim().is_empty() {
                let before = s.aliases.list.len();
                s.aliases.list.retain(|a| a.name != *name);
                let deleted = s.aliases.list.len() < before;
                if s.json {
                    let v = serde_json::json!({ "deleted": deleted.then_some(name) });
                    return commands::json::emit(out, &v);
                }
                if deleted {
                    writeln!(out, "alias deleted: {name}").map_err(io)?;
                }
                return Ok(());
            }
            let first = command.split_whitespace().next().unwrap_or("");
            if commands::find(first).is_none() && !s.aliases.names().any(|n| n == first) {
                return Err(format!(
                    "invalid alias attempt on non-existent command: {first}"
                ));
            }
            s.aliases.set(name, command, s.alias_origin);
            // Made at the prompt: shown, as crash does; from a startup
            // file: quietly.
            match s.alias_origin {
                Origin::Runtime => show(s, Some(name), out),
                _ => Ok(()),
            }
        }
    }
}

/// crash's table: `ORIGIN   ALIAS    COMMAND`; in JSON an array of
/// `{origin, alias, command}` (an alias asked for that does not exist is
/// an error).
fn show(s: &Session, only: Option<&String>, out: &mut dyn Write) -> CmdResult {
    if s.json {
        let v: Vec<serde_json::Value> = s
            .aliases
            .list
            .iter()
            .filter(|a| only.is_none_or(|n| *n == a.name))
            .map(|a| {
                serde_json::json!({
                    "origin": a.origin.name(),
                    "alias": a.name,
                    "command": a.command,
                })
            })
            .collect();
        if let (Some(n), true) = (only, v.is_empty()) {
            return Err(format!("alias does not exist: {n}"));
        }
        return commands::json::emit(out, &v);
    }
    let width = s
        .aliases
        .list
        .iter()
        .map(|a| a.origin.name().len())
        .max()
        .unwrap_or(7)
        .max(7);
    writeln!(out, "{:<width$}  ALIAS    COMMAND", "ORIGIN").map_err(io)?;
    let mut found = false;
    for a in &s.aliases.list {
        if only.is_some_and(|n| *n != a.name) {
            continue;
        }
        found = true;
        writeln!(
            out,
            "{:<width$}  {:<7}  {} ",
            a.origin.name(),
            a.name,
            a.command
        )
        .map_err(io)?;
    }
    if let (Some(n), false) = (only, found) {
        writeln!(out, "alias does not exist: {n}").map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Aliases;

    #[test]
    fn builtins_expand_with_their_arguments() {
        let a = Aliases::default();
        assert_eq!(a.expand("dmesg -T"), "log -T");
        assert_eq!(a.expand("px jiffies"), "p -x jiffies");
        assert_eq!(a.expand("sf"), "set scroll off");
        assert_eq!(a.expand("bt -a"), "bt -a");
    }
}
