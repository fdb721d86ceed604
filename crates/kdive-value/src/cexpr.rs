//! C expressions as crash's `p`, `px` and `pd` take them: crash hands the
//! text to gdb, so this is gdb's C expression language, the parts kernel
//! engineers type, over a dump's memory and the kernel's types.
//!
//! - names of global variables and functions, enumerators, and symbols with
//!   no type (gdb: `'x' has unknown type; cast it to its declared type`,
//!   unless under a cast or `&`);
//! - integer, character and string literals; `.` and `->` (both follow
//!   pointers, as gdb's do, and see through anonymous members); `[i]`;
//!   unary `* & - + ~ !`; casts to types spelled in C; `sizeof`; gdb's
//!   `{TYPE} ADDR` and `VALUE@COUNT`;
//! - arithmetic with gdb's promotions (operands narrower than `int` become
//!   `int`; the wider operand wins; on a tie, unsigned wins; the result is a
//!   built-in `int`, `unsigned int`, `long` or `unsigned long`), pointer
//!   arithmetic, comparisons, `&& || ?: ,`;
//! - crash's per-CPU form `NAME:CPUS` of `p` ([`Evaluator::request`]).
//!
//! A [`Value`] is a type and a place: memory (an lvalue, which keeps its
//! address for `&` and lets large aggregates be printed by reading memory)
//! or bytes computed here. Types built here (`&x`'s pointer, a cast's
//! `char *`, the built-in `int`) live in an [`Overlay`] over the kernel's
//! types: print values through [`Evaluator::types`].
//!
//! Errors are gdb's messages ([`Error`]). crash prints gdb's message and then
//! `p: gdb request failed: p EXPR`; for a memory error, its own readmem
//! line comes first (`p: invalid kernel virtual address: ADDR  type:
//! "gdb_readmem_callback"`, [`Error::reason`]) and gdb's `Cannot access
//! memory at address 0x...` after it.
//!
//! Differences from gdb, on purpose: no floating point, no writes
//! (assignment, `++`), no function calls, no value history or `$`
//! variables; shifts by the width or more give 0 (or -1 for a negative
//! signed value shifted right).

mod arith;
mod eval;
mod lex;
mod overlay;
mod parse;
mod percpu;
#[cfg(test)]
mod tests;
mod typename;

use std::fmt;

use kdive_debuginfo::types::{TypeId, TypeSource};
use kdive_dump::MemError;

pub use overlay::Overlay;
#[cfg(test)]
pub(crate) use percpu::parse_cpus;
pub use percpu::{PerCpu, Request};

/// What an expression needs from the session: types, symbols, memory.
pub trait Ctx {
    /// The kernel's types.
    fn types(&self) -> &dyn TypeSource;
    /// A symbol's (relocated) address.
    fn symbol_addr(&self, name: &str) -> Option<u64>;
    /// Kernel virtual memory; the error says why (crash's readmem text,
    /// e.g. `invalid kernel virtual address: ffff...`).
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError>;
    /// `__per_cpu_offset[cpu]`, for CPUs the kernel has.
    fn per_cpu_offset(&self, cpu: u32) -> Option<u64>;
    /// How many CPUs there are (crash's `kt->cpus`). By default the
    /// kernel's `nr_cpu_ids`, else the CPUs with a per-CPU offset:
    /// `__per_cpu_offset` has room for every possible CPU id, so a session
    /// that knows better should say.
    fn nr_cpus(&self) -> u32 {
        let mut b = [0u8; 4];
        match self.symbol_addr("nr_cpu_ids").map(|a| self.read(a, &mut b)) {
            Some(Ok(())) if u32::from_le_bytes(b) > 0 => u32::from_le_bytes(b).min(8192),
            _ => (0..8192)
                .take_while(|&c| self.per_cpu_offset(c).is_some())
                .count() as u32,
        }
    }
    /// The CPU `p NAME:` (an empty CPU list) means: crash's current context.
    fn current_cpu(&self) -> Option<u32> {
        None
    }
    /// An enumerator by name (`PIDTYPE_PID`) and the enum type it is of.
    /// The type model has no index of them, so by default there are none.
    fn enumerator(&self, _name: &str) -> Option<(TypeId, i64)> {
        None
    }
}

/// Where a value is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// In the dump's memory at this address: an lvalue.
    Memory(u64),
    /// Computed: the bytes of the value, little-endian, its type's size.
    Bytes(Vec<u8>),
}

/// A typed value. `ty` is an id of [`Evaluator::types`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub ty: TypeId,
    pub place: Place,
}

impl Value {
    /// The address of an lvalue.
    pub fn address(&self) -> Option<u64> {
        match self.place {
            Place::Memory(a) => Some(a),
            Place::Bytes(_) => None,
        }
    }
}

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// gdb's message, e.g. `No symbol "foo" in current context.`
    Gdb(String),
    /// Memory that cannot be read: gdb says `Cannot access memory at
    /// address 0x...`; `reason` is the session's own account.
    Memory { addr: u64, reason: MemError },
}

impl Error {
    fn gdb(m: impl Into<String>) -> Error {
        Error::Gdb(m.into())
    }

    /// For a memory error, why the read failed (crash prints this first).
    pub fn reason(&self) -> Option<&MemError> {
        match self {
            Error::Memory { reason, .. } => Some(reason),
            Error::Gdb(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Gdb(m) => f.write_str(m),
            Error::Memory { addr, .. } => write!(f, "Cannot access memory at address {addr:#x}"),
        }
    }
}

impl std::error::Error for Error {}

/// The largest value read whole (`bytes`): bigger aggregates are printed
/// from memory piece by piece, not loaded.
pub const MAX_VALUE_BYTES: u64 = 16 << 20;

/// Evaluates expressions over one session; keeps the types it builds.
pub struct Evaluator<'a> {
    ctx: &'a dyn Ctx,
    types: Overlay<'a>,
}

impl<'a> Evaluator<'a> {
    pub fn new(ctx: &'a dyn Ctx) -> Evaluator<'a> {
        Evaluator {
            ctx,
            types: Overlay::new(ctx.types()),
        }
    }

    /// The types every [`Value`] from here refers to: the kernel's and the
    /// ones built by expressions.
    pub fn types(&self) -> &Overlay<'a> {
        &self.types
    }

    /// The value of `expr`.
    pub fn eval(&self, expr: &str) -> Result<Value, Error> {
        let ast = parse::parse(self, expr)?;
        eval::Ev::new(self, false).eval(&ast)
    }

    /// The type of `expr` without reading memory (gdb's `whatis`).
    pub fn type_of(&self, expr: &str) -> Result<TypeId, Error> {
        let ast = parse::parse(self, expr)?;
        Ok(eval::Ev::new(self, true).eval(&ast)?.ty)
    }

    /// The bytes of a value (read from memory for an lvalue).
    pub fn bytes(&self, v: &Value) -> Result<Vec<u8>, Error> {
        eval::Ev::new(self, false).bytes(v)
    }

    /// A value's integer (or pointer) content, zero- or sign-extended as
    /// its type says.
    pub fn as_i128(&self, v: &Value) -> Result<i128, Error> {
        let s = eval::Ev::new(self, false).scalar(v, "Value can't be converted to integer.")?;
        Ok(s.to_i128())
    }
}
