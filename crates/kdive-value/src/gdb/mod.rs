//! gdb's text for C types and values, as crash shows it: crash hands
//! `ptype`, `whatis` and `print` to its embedded gdb (10.2 in crash 8.0.2,
//! with crash's patches and print settings) and prints what gdb wrote.
//! These modules write the same text from kdive's type model
//! (`kdive_debuginfo::types`), for `struct`, `union`, `whatis` and `p`.

pub mod chars;
pub mod ptype;
pub mod value;

/// Hand-made types for tests, here and in the crates that print with
/// these modules (feature `fixture`).
#[cfg(any(test, feature = "fixture"))]
pub mod fixture;
