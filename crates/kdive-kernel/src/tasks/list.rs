//! Circular `list_head` lists as the task walks and others read them:
//! [`crate::lists::ListWalk`] with its loop check and walk back from the
//! head, bounded by [`MAX_TASKS`], without the back-pointer check (the
//! notices these walks give stay what they were).

use super::MAX_TASKS;
use crate::lists::ListWalk;
use crate::memory::Memory;

/// The nodes of the circular list at `head`, the head left out. When the
/// forward walk breaks, the rest is walked backwards from the head, so that
/// one bad pointer loses as little as possible.
pub(crate) fn list_nodes(
    mem: &impl Memory,
    head: u64,
    what: &str,
    notices: &mut Vec<crate::Finding>,
) -> Vec<u64> {
    let l = ListWalk::new()
        .max(MAX_TASKS)
        .back_pointers(false)
        .walk(mem, head);
    notices.extend(l.findings(what));
    l.nodes
}
