//! Circular `list_head` lists, walked with a bound, a loop check, and a
//! walk back from the head when a pointer breaks.

use std::collections::HashSet;

use super::MAX_TASKS;
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
    let mut out = Vec::new();
    if let Err(e) = mem.read_u64(head) {
        // Neither way can start: one notice.
        notices.push(crate::Finding::unreadable(
            head,
            format!("{what}: its head {head:#x}: {e}"),
        ));
        return out;
    }
    let mut seen = HashSet::new();
    seen.insert(head);
    let broken = follow(mem, head, 0, what, &mut seen, &mut out, notices);
    if broken {
        let mut back = Vec::new();
        follow(mem, head, 8, what, &mut seen, &mut back, notices);
        if !back.is_empty() {
            notices.push(crate::Finding::truncated(format!(
                "{what}: {} more entries found walking back from its head",
                back.len()
            )));
        }
        out.extend(back.into_iter().rev());
    }
    out
}

/// Follow `next` (`link` 0) or `prev` (8) from `head`; true when the list
/// broke before coming back to it.
fn follow(
    mem: &impl Memory,
    head: u64,
    link: u64,
    what: &str,
    seen: &mut HashSet<u64>,
    out: &mut Vec<u64>,
    notices: &mut Vec<crate::Finding>,
) -> bool {
    let mut at = head;
    loop {
        let next = match mem.read_u64(at + link) {
            Ok(n) => n,
            Err(e) => {
                notices.push(crate::Finding::unreadable(
                    at,
                    format!("{what}: entry {at:#x}: {e}"),
                ));
                return true;
            }
        };
        if next == head {
            return false;
        }
        if next < 1 << 63 {
            notices.push(crate::Finding::corrupt(
                next,
                format!("{what}: entry {at:#x} points to {next:#x}, not a kernel address"),
            ));
            return true;
        }
        if !seen.insert(next) {
            // Backwards, meeting what the forward walk found ends the walk.
            if link == 0 {
                notices.push(crate::Finding::looped(
                    next,
                    format!(
                    "{what}: the list comes back to {next:#x} without reaching its head: a loop"
                ),
                ));
            }
            return true;
        }
        if seen.len() > MAX_TASKS {
            notices.push(crate::Finding::truncated(format!(
                "{what}: more than {MAX_TASKS} entries: damaged? read no more"
            )));
            return false;
        }
        out.push(next);
        at = next;
    }
}
