//! The open kernel.
