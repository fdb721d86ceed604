//! kdive's command library: crash's command language over the open kernel
//! of `kdive-kernel`, each command printed as crash prints it or as JSON.
//! The `kdive` binary (`main.rs`) is a thin front over it: its command line,
//! then a [`session::Session`] that reads commands.
//!
//! # API structure
//!
//! - [`session`]: a session over one open kernel: settings (`set`), the
//!   context task, history, aliases, redirection and pipes, the REPL;
//!   [`session::Session::run_line`] runs one command line.
//! - [`commands`]: one module (or folder) per crash command family, each a
//!   function from arguments to output; the table of commands and their
//!   help; `json` for machine-readable output.
//! - [`cexpr`]: C expressions over the kernel's types and memory (`p`,
//!   `struct`, `rd` arguments), and [`gdb`]: gdb-style printing of values
//!   and types; both from the `kdive-value` crate.
//! - [`expr`]: crash's address expressions (`sym+off`, arithmetic).
//! - [`dis`]: the disassembler's formatting in gdb's AT&T syntax.
//! - [`info`], [`verify`], [`convert`]: `kdive --info`, `--verify` and
//!   `kdive convert`, which need only the dump.
//! - [`time`]: crash's time formats.

pub use kdive_value::cexpr;
pub mod commands;
pub mod convert;
pub mod dis;
pub mod expr;
pub use kdive_value::gdb;
pub mod info;
pub mod session;
pub mod time;
pub mod verify;
