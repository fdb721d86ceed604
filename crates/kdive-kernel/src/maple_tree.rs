//! Maple trees (6.1 and later), walked into `(index, entry)` pairs: the
//! sparse IRQ descriptors (`sparse_irqs`, 6.5 and later).
//!
//! `ma_root` is a single entry for index 0, or an encoded node pointer
//! (low bits `10`, above 4096). Node pointers (the root's, and a parent's
//! slots) are the node's address with bit 2 set and the node's type in bits
//! 3-6 (0 dense, 1 leaf, 2 range, 3 allocation range; below 2 is a leaf). A range node's slot `i` covers
//! the indices after the previous pivot up to `pivot[i]` (the node's own
//! upper bound for the last slot, or for a 0 pivot past the first slot,
//! which ends the node's data). Entries that cover a range of indices are given once, at
//! their first index.
//!
//! Nodes that do not read, come back, or have bounds that do not nest are
//! reported and skipped with what is under them.

use std::collections::HashSet;

use crate::modules::Memory;
use crate::offsets::Layouts;
use crate::radix_tree::TreeEntries;
use crate::Kernel;

/// At most this many nodes are read from one tree.
const MAX_NODES: usize = 1 << 18;
/// Bounded descent: a maple tree is at most ~31 levels deep.
const MAX_DEPTH: usize = 64;

/// Where a maple tree's parts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MapleLayout {
    /// `ma_root` in `struct maple_tree`.
    pub root: u64,
    /// `maple_range_64`: pivot and slot offsets and slot count.
    pub range: NodeLayout,
    /// `maple_arange_64`.
    pub arange: NodeLayout,
    /// Dense nodes: `maple_node.slot` offset and count.
    pub dense_slot: u64,
    pub dense_slots: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodeLayout {
    pub pivot: u64,
    pub slot: u64,
    pub slots: usize,
}

impl MapleLayout {
    pub fn from_btf(l: &Layouts) -> Result<MapleLayout, String> {
        let node = |s: &str| -> Result<NodeLayout, String> {
            Ok(NodeLayout {
                pivot: l.off(s, "pivot")?,
                slot: l.off(s, "slot")?,
                slots: l
                    .array_len(s, "slot")
                    .ok_or_else(|| format!("{s}.slot is not an array"))?
                    as usize,
            })
        };
        Ok(MapleLayout {
            root: l.off("maple_tree", "ma_root")?,
            range: node("maple_range_64")?,
            arange: node("maple_arange_64")?,
            dense_slot: l.off("maple_node", "slot")?,
            dense_slots: l.array_len("maple_node", "slot").unwrap_or(31) as usize,
        })
    }
}

fn is_node(entry: u64) -> bool {
    entry & 3 == 2 && entry > 4096
}

/// The `(first index, entry)` pairs of the maple tree at `tree`, in index
/// order. Internal entries (zero, retry) are left out.
pub(crate) fn maple_entries(
    mem: &impl Memory,
    tree: u64,
    m: &MapleLayout,
    what: &str,
    notices: &mut Vec<String>,
) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let root = match mem.read_u64(tree + m.root) {
        Ok(r) => r,
        Err(e) => {
            notices.push(format!("{what}: its root {tree:#x}: {e}"));
            return out;
        }
    };
    if !is_node(root) {
        if root != 0 && root & 3 == 0 {
            out.push((0, root));
        }
        return out;
    }
    let mut seen = HashSet::new();
    // (encoded node, min, max, depth)
    let mut stack = vec![(root, 0u64, u64::MAX, 0usize)];
    while let Some((enode, min, max, depth)) = stack.pop() {
        let node = enode & !0xff;
        if !seen.insert(node) || seen.len() > MAX_NODES || depth > MAX_DEPTH {
            notices.push(format!(
                "{what}: node {node:#x} comes back or the tree is too deep: skipped"
            ));
            continue;
        }
        let kind = (enode >> 3) & 0xf;
        let layout = match kind {
            0 => NodeLayout {
                pivot: 0,
                slot: m.dense_slot,
                slots: m.dense_slots,
            },
            1 | 2 => m.range,
            3 => m.arange,
            _ => {
                notices.push(format!(
                    "{what}: node {node:#x} has unknown type {kind}: skipped"
                ));
                continue;
            }
        };
        let leaf = kind < 2;
        let n = layout.slots.clamp(1, 64);
        let mut slots = vec![0u8; n * 8];
        let mut pivots = vec![0u8; (n - 1) * 8];
        let read = mem.read(node + layout.slot, &mut slots).and_then(|_| {
            if kind == 0 {
                Ok(())
            } else {
                mem.read(node + layout.pivot, &mut pivots)
            }
        });
        if let Err(e) = read {
            notices.push(format!("{what}: node {node:#x}: {e}"));
            continue;
        }
        let word = |b: &[u8], i: usize| {
            u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or_default())
        };
        let mut children = Vec::new();
        let mut lo = min;
        for i in 0..n {
            let hi = if kind == 0 {
                lo
            } else if i < n - 1 {
                let p = word(&pivots, i);
                // A 0 pivot past the first slot: this slot runs to the
                // node's end, and is its last (the kernel's
                // `mas_logical_pivot`).
                if p == 0 && i > 0 {
                    max
                } else {
                    p.min(max)
                }
            } else {
                max
            };
            if hi < lo {
                notices.push(format!(
                    "{what}: node {node:#x} slot {i}: pivot {hi:#x} below {lo:#x}: skipped"
                ));
                break;
            }
            let e = word(&slots, i);
            if e != 0 {
                if leaf {
                    if e & 3 == 0 {
                        out.push((lo, e));
                    }
                } else if e >> 63 == 1 && e & 0xff & !0x7c == 0 {
                    // Below the root, a child is its node's address with
                    // bit 2 set and the type in bits 3-6.
                    children.push((e, lo, hi, depth + 1));
                } else {
                    notices.push(format!(
                        "{what}: node {node:#x} slot {i}: {e:#x} is not a node: skipped"
                    ));
                }
            }
            if hi >= max {
                break;
            }
            lo = hi + 1;
        }
        stack.extend(children.into_iter().rev());
    }
    out
}

impl Kernel {
    /// The `(first index, entry)` pairs of the maple tree (`struct
    /// maple_tree`) at `tree`, in index order, and what could not be read.
    pub fn maple_tree_entries(&self, tree: u64) -> Result<TreeEntries, String> {
        let m = MapleLayout::from_btf(&Layouts::of(self)?)?;
        let mut notices = Vec::new();
        let what = format!("maple tree {tree:x}");
        let entries = maple_entries(self, tree, &m, &what, &mut notices);
        Ok(TreeEntries { entries, notices })
    }
}

#[cfg(test)]
#[path = "maple_tree_tests.rs"]
mod tests;
