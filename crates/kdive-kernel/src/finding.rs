//! What a walker met and went past: memory that did not read, a pointer
//! that leads nowhere sensible, a loop, a broken back-pointer, a walk cut
//! short. Walkers return these beside what they found instead of failing
//! (a dump is often damaged, and the rest is still worth having); a command
//! prints [`Finding::text`], JSON gives the fields, and triage reasons about
//! [`FindingKind`] and the address.
//!
//! The slab checks have their own, richer [`crate::slab::Finding`] (cache,
//! CPU or slab, object).

use std::fmt;

/// Something a walk found wrong or could not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
    /// The address at fault, when there is one: the structure that did not
    /// read, the bad pointer, the entry a loop came back to.
    pub addr: Option<u64>,
    /// What the text output says, naming the walk and the structure
    /// (`net_device ffff...: in_ifaddr ffff...: invalid kernel virtual
    /// address ...`).
    pub text: String,
}

/// What kind of trouble a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// Memory that did not read: not in the dump, left out by its dump
    /// level, or not mapped.
    Unreadable,
    /// A pointer or value that cannot be right: out of range, misaligned,
    /// of the wrong type.
    Corrupt,
    /// A list or chain that comes back on itself before its end.
    Loop,
    /// A link whose back-pointer does not lead back (`next->prev != self`).
    BackPointer,
    /// A walk stopped early: too many entries, nested too deep.
    Truncated,
}

impl FindingKind {
    /// A short name for machine output: `unreadable`, `corrupt`, `loop`,
    /// `back_pointer`, `truncated`.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Unreadable => "unreadable",
            FindingKind::Corrupt => "corrupt",
            FindingKind::Loop => "loop",
            FindingKind::BackPointer => "back_pointer",
            FindingKind::Truncated => "truncated",
        }
    }
}

impl Finding {
    pub fn new(kind: FindingKind, addr: Option<u64>, text: impl Into<String>) -> Finding {
        Finding {
            kind,
            addr,
            text: text.into(),
        }
    }

    /// Memory at `addr` did not read.
    pub fn unreadable(addr: u64, text: impl Into<String>) -> Finding {
        Finding::new(FindingKind::Unreadable, Some(addr), text)
    }

    /// The value at or of `addr` cannot be right.
    pub fn corrupt(addr: u64, text: impl Into<String>) -> Finding {
        Finding::new(FindingKind::Corrupt, Some(addr), text)
    }

    /// A walk came back to `addr`.
    pub fn looped(addr: u64, text: impl Into<String>) -> Finding {
        Finding::new(FindingKind::Loop, Some(addr), text)
    }

    /// `addr`'s back-pointer does not lead back.
    pub fn back_pointer(addr: u64, text: impl Into<String>) -> Finding {
        Finding::new(FindingKind::BackPointer, Some(addr), text)
    }

    /// A walk stopped early.
    pub fn truncated(text: impl Into<String>) -> Finding {
        Finding::new(FindingKind::Truncated, None, text)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
