//! Synthetic SLUB.
