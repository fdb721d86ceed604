//! Kernel symbols.
