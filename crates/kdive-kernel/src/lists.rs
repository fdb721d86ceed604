//! Circular `list_head` lists, the kernel's commonest structure: one walk
//! for all of them, bounded, checking each link, and walking back from the
//! head when a pointer breaks so that one bad pointer loses as little as
//! possible. What it met on the way comes back beside the entries, never
//! as a failure: typed [`Fault`]s, which [`List::findings`] words as
//! [`Finding`]s (a walker with words of its own, such as the slab walk,
//! words them itself).

use std::collections::HashSet;

use crate::memory::{MemError, Memory};
use crate::{Finding, Kernel};

/// The entries of one list: their `list_head` addresses (the head left
/// out), in list order, and what the walk met.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    pub head: u64,
    pub nodes: Vec<u64>,
    pub faults: Vec<Fault>,
}

/// Something wrong a list walk met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The head did not read: no walk.
    Head(MemError),
    /// `entry` did not read: its `next` (walking forward; `after` is
    /// `None`), its `prev` (walking back), or, reached from `after`, the
    /// `prev` checked for the back-pointer.
    Unreadable {
        entry: u64,
        after: Option<u64>,
        error: MemError,
    },
    /// `entry` points to `to`, not a kernel address.
    BadPointer { entry: u64, to: u64 },
    /// `entry` leads back to `to`, met before, without reaching the head.
    Loop { entry: u64, to: u64 },
    /// `entry`, reached from `after`, has `prev` pointing elsewhere.
    BackPointer { entry: u64, after: u64, prev: u64 },
    /// More than `max` entries: the walk stopped there.
    TooMany { max: usize },
    /// The forward walk broke, and walking back from the head found
    /// `count` more entries.
    WalkedBack { count: usize },
}

impl List {
    /// The entries' `list_head` addresses.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.nodes.iter().copied()
    }

    /// The faults as findings, `what` naming the list (`"the task list
    /// (init_task.tasks)"`).
    pub fn findings(&self, what: &str) -> Vec<Finding> {
        let head = self.head;
        self.faults
            .iter()
            .map(|f| match f {
                Fault::Head(e) => {
                    Finding::unreadable(head, format!("{what}: its head {head:#x}: {e}"))
                }
                Fault::Unreadable {
                    entry,
                    after: None,
                    error,
                } => Finding::unreadable(*entry, format!("{what}: entry {entry:#x}: {error}")),
                Fault::Unreadable {
                    entry,
                    after: Some(a),
                    error,
                } => Finding::unreadable(
                    *entry,
                    format!("{what}: entry {entry:#x} (after {a:#x}): {error}"),
                ),
                Fault::BadPointer { entry, to } => Finding::corrupt(
                    *to,
                    format!("{what}: entry {entry:#x} points to {to:#x}, not a kernel address"),
                ),
                Fault::Loop { to, .. } => Finding::looped(
                    *to,
                    format!(
                        "{what}: the list comes back to {to:#x} without reaching its head: a loop"
                    ),
                ),
                Fault::BackPointer { entry, after, prev } => Finding::back_pointer(
                    *entry,
                    format!(
                        "{what}: entry {entry:#x} (after {after:#x}): its prev is {prev:#x}, not {after:#x}"
                    ),
                ),
                Fault::TooMany { max } => Finding::truncated(format!(
                    "{what}: more than {max} entries: damaged? read no more"
                )),
                Fault::WalkedBack { count } => Finding::truncated(format!(
                    "{what}: {count} more entries found walking back from its head"
                )),
            })
            .collect()
    }
}

impl IntoIterator for List {
    type Item = u64;
    type IntoIter = std::vec::IntoIter<u64>;
    fn into_iter(self) -> Self::IntoIter {
        self.nodes.into_iter()
    }
}

/// How to walk a list: the most entries to read, and which checks to
/// make. [`ListWalk::new`] makes them all.
#[derive(Debug, Clone, Copy)]
pub struct ListWalk {
    max: usize,
    back_pointers: bool,
    walk_back: bool,
}

/// [`ListWalk::new`]'s bound: far more than any list in a sane kernel.
pub const MAX_ENTRIES: usize = 4 * 1024 * 1024;

/// Where `next` and `prev` are in a `list_head`.
const NEXT: u64 = 0;
const PREV: u64 = 8;

impl Default for ListWalk {
    fn default() -> Self {
        ListWalk::new()
    }
}

impl ListWalk {
    /// At most [`MAX_ENTRIES`], checking each `next->prev`, walking back
    /// from the head when a pointer breaks.
    pub fn new() -> ListWalk {
        ListWalk {
            max: MAX_ENTRIES,
            back_pointers: true,
            walk_back: true,
        }
    }

    /// Read at most `max` entries (both ways together).
    pub fn max(self, max: usize) -> Self {
        ListWalk { max, ..self }
    }

    /// Whether to check that each entry's `prev` leads back.
    pub fn back_pointers(self, on: bool) -> Self {
        ListWalk {
            back_pointers: on,
            ..self
        }
    }

    /// Whether to walk back from the head (through `prev`) when the
    /// forward walk breaks.
    pub fn walk_back(self, on: bool) -> Self {
        ListWalk {
            walk_back: on,
            ..self
        }
    }

    /// Walk the list at `head`.
    pub fn walk<M: Memory + ?Sized>(&self, mem: &M, head: u64) -> List {
        let mut l = List {
            head,
            ..List::default()
        };
        if let Err(e) = mem.read_u64(head) {
            // Neither way can start: one fault.
            l.faults.push(Fault::Head(e));
            return l;
        }
        let mut seen = HashSet::from([head]);
        let broken = self.follow(mem, head, NEXT, &mut seen, &mut l.nodes, &mut l.faults);
        if broken && self.walk_back {
            let mut back = Vec::new();
            self.follow(mem, head, PREV, &mut seen, &mut back, &mut l.faults);
            if !back.is_empty() {
                l.faults.push(Fault::WalkedBack { count: back.len() });
            }
            l.nodes.extend(back.into_iter().rev());
        }
        l
    }

    /// Follow `next` (`link` [`NEXT`]) or `prev` ([`PREV`]) from `head`;
    /// true when the list broke before coming back to it.
    fn follow<M: Memory + ?Sized>(
        &self,
        mem: &M,
        head: u64,
        link: u64,
        seen: &mut HashSet<u64>,
        out: &mut Vec<u64>,
        faults: &mut Vec<Fault>,
    ) -> bool {
        let mut at = head;
        loop {
            let next = match mem.read_u64(at.wrapping_add(link)) {
                Ok(n) => n,
                Err(error) => {
                    faults.push(Fault::Unreadable {
                        entry: at,
                        after: None,
                        error,
                    });
                    return true;
                }
            };
            if next == head {
                return false;
            }
            if next < 1 << 63 {
                faults.push(Fault::BadPointer {
                    entry: at,
                    to: next,
                });
                return true;
            }
            if !seen.insert(next) {
                // Backwards, meeting what the forward walk found ends the
                // walk: the loop, if any, is reported already.
                if link == NEXT {
                    faults.push(Fault::Loop {
                        entry: at,
                        to: next,
                    });
                }
                return true;
            }
            // Entries found both ways count: the head is in `seen` too.
            if seen.len() - 1 > self.max {
                faults.push(Fault::TooMany { max: self.max });
                return false;
            }
            // A broken back-pointer is reported and the walk goes on:
            // `next` still leads somewhere that reads.
            if self.back_pointers && link == NEXT {
                match mem.read_u64(next.wrapping_add(PREV)) {
                    Ok(prev) if prev == at => {}
                    Ok(prev) => faults.push(Fault::BackPointer {
                        entry: next,
                        after: at,
                        prev,
                    }),
                    Err(error) => {
                        faults.push(Fault::Unreadable {
                            entry: next,
                            after: Some(at),
                            error,
                        });
                        return true;
                    }
                }
            }
            out.push(next);
            at = next;
        }
    }
}

impl Kernel {
    /// The entries of the `list_head` list at `head`, with every check
    /// ([`ListWalk::new`]).
    pub fn list(&self, head: u64) -> List {
        ListWalk::new().walk(self, head)
    }
}

#[cfg(test)]
#[path = "lists_tests.rs"]
mod tests;
