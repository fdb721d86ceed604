//! Radix trees and xarrays, walked into `(index, entry)` pairs: the sparse
//! IRQ descriptors (`irq_desc_tree`, until 6.5) and any other tree a
//! walker needs by index.
//!
//! Since 4.20 a `struct radix_tree_root` is a `struct xarray`: the head
//! `xa_head`, inner nodes `struct xa_node` tagged with low bits `10` (and
//! above 4096: smaller internal entries are sibling, retry and zero
//! entries), value entries with low bit 1. From 4.7 to 4.19 the root's
//! `rnode` and inner `struct radix_tree_node`s are tagged with low bit 1,
//! and exceptional entries with bit 1. Either way a node's `shift` says
//! how far its slot number moves the index, and its children have a shift
//! one chunk (log2 of the slot count) lower.
//!
//! A node that does not read, comes back, or has the wrong shift is
//! reported and skipped with what is under it; the rest is still read.

use std::collections::HashSet;

use crate::memory::Memory;
use crate::offsets::Layouts;
use crate::{Error, Kernel, LayoutError};

/// At most this many nodes are read from one tree.
const MAX_NODES: usize = 1 << 18;

/// Where a tree's parts are, and how its inner nodes are tagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TreeLayout {
    /// `struct xarray` (4.20+), else a 4.7-4.19 radix tree.
    pub xarray: bool,
    /// The head pointer's offset in the root.
    pub head: u64,
    /// `shift` (a byte) in a node.
    pub node_shift: u64,
    /// `slots[]` in a node.
    pub node_slots: u64,
    /// How many slots a node has (64, or 16 with `CONFIG_BASE_SMALL`).
    pub nr_slots: usize,
}

impl TreeLayout {
    pub fn from_layouts(l: &Layouts) -> Result<TreeLayout, Error> {
        if let Ok(head) = l.off("xarray", "xa_head") {
            let nr_slots = l
                .array_len("xa_node", "slots")
                .ok_or_else(|| LayoutError::shape("xa_node", Some("slots"), "is not an array"))?;
            return Ok(TreeLayout {
                xarray: true,
                head,
                node_shift: l.off("xa_node", "shift")?,
                node_slots: l.off("xa_node", "slots")?,
                nr_slots: nr_slots as usize,
            });
        }
        let nr_slots = l.array_len("radix_tree_node", "slots").ok_or_else(|| {
            LayoutError::shape("radix_tree_node", Some("slots"), "is not an array")
        })?;
        Ok(TreeLayout {
            xarray: false,
            head: l.off("radix_tree_root", "rnode")?,
            node_shift: l.off("radix_tree_node", "shift").map_err(|_| {
                Error::Unsupported(
                    "a radix tree with node heights (before 4.7) is not supported".into(),
                )
            })?,
            node_slots: l.off("radix_tree_node", "slots")?,
            nr_slots: nr_slots as usize,
        })
    }

    /// The node an entry points to, if it is an inner node.
    fn node(&self, entry: u64) -> Option<u64> {
        if self.xarray {
            (entry & 3 == 2 && entry > 4096).then(|| entry - 2)
        } else {
            (entry & 1 == 1).then(|| entry - 1)
        }
    }

    /// Whether an entry is a stored pointer (not a value, exceptional,
    /// sibling or retry entry).
    fn is_pointer(&self, entry: u64) -> bool {
        entry != 0 && entry & 3 == 0
    }
}

/// The `(index, pointer)` pairs of the tree whose root is at `root`, in
/// index order.
pub(crate) fn tree_entries(
    mem: &impl Memory,
    root: u64,
    t: &TreeLayout,
    what: &str,
    notices: &mut Vec<crate::Finding>,
) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let head = match mem.read_u64(root + t.head) {
        Ok(h) => h,
        Err(e) => {
            notices.push(crate::Finding::unreadable(
                root,
                format!("{what}: its root {root:#x}: {e}"),
            ));
            return out;
        }
    };
    let nr = t.nr_slots.clamp(1, 256);
    let chunk = u64::from(nr.trailing_zeros());
    let mut slots = vec![0u8; nr * 8];
    let mut seen = HashSet::new();
    // (entry, index of its first slot, the shift its node must have)
    let mut stack: Vec<(u64, u64, Option<u64>)> = vec![(head, 0, None)];
    while let Some((entry, base, want)) = stack.pop() {
        let Some(node) = t.node(entry) else {
            if t.is_pointer(entry) {
                out.push((base, entry));
            }
            continue;
        };
        if !seen.insert(node) {
            notices.push(crate::Finding::looped(
                node,
                format!("{what}: the tree comes back to node {node:#x}: skipped"),
            ));
            continue;
        }
        if seen.len() > MAX_NODES {
            notices.push(crate::Finding::truncated(format!(
                "{what}: more than {MAX_NODES} tree nodes: damaged? read no more"
            )));
            break;
        }
        let mut b = [0u8];
        if let Err(e) = mem.read(node + t.node_shift, &mut b) {
            notices.push(crate::Finding::unreadable(
                node,
                format!("{what}: tree node {node:#x}: {e}"),
            ));
            continue;
        }
        let shift = u64::from(b[0]);
        if want.is_some_and(|w| w != shift) || shift >= 64 || shift % chunk.max(1) != 0 {
            notices.push(crate::Finding::corrupt(
                node,
                format!("{what}: tree node {node:#x} has shift {shift}: skipped"),
            ));
            continue;
        }
        if let Err(e) = mem.read(node + t.node_slots, &mut slots) {
            notices.push(crate::Finding::unreadable(
                node,
                format!("{what}: tree node {node:#x}: {e}"),
            ));
            continue;
        }
        // Pushed in reverse, so that entries come out in index order.
        for (i, c) in slots.chunks_exact(8).enumerate().rev() {
            let v = u64::from_le_bytes(c.try_into().unwrap_or_default());
            if v == 0 {
                continue;
            }
            let index = base.wrapping_add((i as u64) << shift);
            if t.node(v).is_some() && shift == 0 {
                notices.push(crate::Finding::corrupt(
                    v,
                    format!("{what}: tree node {node:#x} is a leaf but holds node {v:#x}: skipped"),
                ));
                continue;
            }
            stack.push((v, index, shift.checked_sub(chunk)));
        }
    }
    out
}

/// What a tree walk found: `(index, entry)` pairs in index order, and
/// what could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeEntries {
    pub entries: Vec<(u64, u64)>,
    pub notices: Vec<crate::Finding>,
}

impl Kernel {
    /// The `(index, pointer)` pairs of the radix tree or xarray whose root
    /// (`struct radix_tree_root` or `struct xarray`) is at `root`, in index
    /// order, and what could not be read.
    pub fn radix_tree_entries(&self, root: u64) -> Result<TreeEntries, Error> {
        let t = TreeLayout::from_layouts(&Layouts::of(self)?)?;
        let mut notices = Vec::new();
        let what = format!("radix tree {root:x}");
        let entries = tree_entries(self, root, &t, &what, &mut notices);
        Ok(TreeEntries { entries, notices })
    }
}

#[cfg(test)]
#[path = "radix_tree_tests.rs"]
pub(crate) mod tests;
