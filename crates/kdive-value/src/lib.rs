//! Values of a kernel's C types: evaluating C expressions over the types
//! and memory of a kernel, and printing types and values as gdb prints
//! them (and so as crash shows them). Nothing here knows dumps or the
//! kernel's structures: types come from any
//! [`kdive_debuginfo::types::TypeSource`] (BTF or DWARF), memory from
//! whatever implements the evaluator's context.
//!
//! # API structure
//!
//! - [`cexpr`]: C expressions as `p` takes them: an [`cexpr::Evaluator`]
//!   over a [`cexpr::Ctx`] (symbols, memory, per-CPU offsets) gives
//!   [`cexpr::Value`]s, a type and a place (memory or computed bytes);
//!   types made on the way (`&x`, casts) live in a [`cexpr::Overlay`].
//!   Errors are gdb's messages ([`cexpr::Error`]).
//! - [`gdb`]: gdb's text: `ptype` and `whatis` of a type
//!   ([`gdb::ptype`]), `print` of a value ([`gdb::value`]), character and
//!   string escapes ([`gdb::chars`]).

pub mod cexpr;
pub mod gdb;
