//! The entries of an xarray (the radix tree under an IDR), read from a dump:
//! what a PID namespace's `idr` holds (`struct pid *` by PID number).
//!
//! An entry whose two low bits are `10` and whose value is above 4096 is an
//! inner node (`xa_to_node`: the pointer minus 2); other internal entries
//! (retry, zero, sibling) and value entries (low bit 1) are no pointers and
//! are skipped. A node's children have a `shift` 6 below its own; a node
//! whose shift is not that, that was already seen, or that does not read,
//! is reported and skipped with what is under it.

use std::collections::HashSet;

use super::offsets::PidNsOffsets;
use crate::modules::Memory;

/// At most this many nodes are read (4 million PIDs need ~66 000).
const MAX_NODES: usize = 1 << 18;

/// The pointers stored in the xarray whose head entry is `head`.
pub(crate) fn entries(
    mem: &impl Memory,
    head: u64,
    o: &PidNsOffsets,
    notices: &mut Vec<String>,
) -> Vec<u64> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // (entry, the shift its node must have; None at the head)
    let mut stack: Vec<(u64, Option<u64>)> = vec![(head, None)];
    let node_len = o.node_len.clamp(1, 256);
    let mut slots = vec![0u8; node_len * 8];
    while let Some((entry, want_shift)) = stack.pop() {
        if entry == 0 {
            continue;
        }
        if entry & 3 != 2 {
            if entry & 1 == 0 {
                out.push(entry);
            }
            continue;
        }
        if entry <= 4096 {
            continue;
        }
        let node = entry - 2;
        if !seen.insert(node) {
            notices.push(format!(
                "pid namespace: the tree comes back to node {node:#x}: skipped"
            ));
            continue;
        }
        if seen.len() > MAX_NODES {
            notices.push(format!(
                "pid namespace: more than {MAX_NODES} tree nodes: damaged? read no more"
            ));
            break;
        }
        let shift = match read_byte(mem, node + o.node_shift.off as u64) {
            Ok(s) => u64::from(s),
            Err(e) => {
                notices.push(format!("pid namespace: tree node {node:#x}: {e}"));
                continue;
            }
        };
        if want_shift.is_some_and(|w| w != shift) || shift > 64 {
            notices.push(format!(
                "pid namespace: tree node {node:#x} has shift {shift}, expected {}: skipped",
                want_shift.map_or("at most 64".into(), |w| w.to_string())
            ));
            continue;
        }
        if let Err(e) = mem.read(node + o.node_slots as u64, &mut slots) {
            notices.push(format!("pid namespace: tree node {node:#x}: {e}"));
            continue;
        }
        let child_shift = if shift == 0 {
            None
        } else {
            Some(shift.saturating_sub(6))
        };
        // Pushed in reverse, so that entries come out in index order.
        for c in slots.chunks_exact(8).rev() {
            let v = u64::from_le_bytes(c.try_into().unwrap_or_default());
            if v == 0 {
                continue;
            }
            if shift == 0 && v & 3 == 2 && v > 4096 {
                notices.push(format!(
                    "pid namespace: tree node {node:#x} is a leaf but holds node {v:#x}: skipped"
                ));
                continue;
            }
            stack.push((v, child_shift));
        }
    }
    out
}

fn read_byte(mem: &impl Memory, addr: u64) -> Result<u8, String> {
    let mut b = [0u8];
    mem.read(addr, &mut b)?;
    Ok(b[0])
}
