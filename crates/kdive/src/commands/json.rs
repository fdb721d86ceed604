//! `--json` (for the whole session) or `CMD --json` (one command): machine
//! readable output. A command that has it checks `s.json` and hands a
//! serde value to [`emit`]; adding JSON to a command is that, plus its
//! name in [`SUPPORTED`].

use std::io::Write;

use serde::Serialize;

use super::{io, CmdResult};

/// The commands that print JSON.
pub const SUPPORTED: &[&str] = &["bt", "ps", "log", "sym", "sys", "mod"];

pub fn supports(name: &str) -> bool {
    SUPPORTED.contains(&name)
}

/// `value` as pretty JSON, one document per command.
pub fn emit<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> CmdResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    writeln!(out, "{text}").map_err(io)
}

/// An address as JSON shows it: a hexadecimal string, as the text output
/// does (JSON numbers lose 64-bit precision in many readers).
pub fn hex(addr: u64) -> String {
    format!("{addr:#x}")
}
