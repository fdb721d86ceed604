//! A maple tree's entries, read from a dump (`lib/maple_tree.c`, Linux
//! 6.1 on): what an `mm_struct`'s `mm_mt` holds (its VMAs, by address).
//!
//! The root (`ma_root`) is either an entry (the tree holds one thing, at
//! index 0) or an encoded node: a 256-byte-aligned `struct maple_node`
//! pointer whose low byte holds the node's type (bits 3-6) and the root
//! mark (bits 0-1 `10`); the children in an inner node's slots are encoded
//! the same way with bit 2 set instead. Leaves (`maple_leaf_64`) and inner nodes
//! (`maple_range_64`) have 16 slots and 15 pivots, `maple_arange_64` inner
//! nodes 10 slots and 9 pivots; slot `i` covers the indices from one past
//! pivot `i-1` (the node's minimum for slot 0) up to pivot `i` (the node's
//! maximum for the last slot used). Where a node's data ends is its
//! metadata's `end`, or for a full range node the slot whose pivot is the
//! node's maximum — as the kernel's `ma_data_end()` decides it.
//!
//! Every node is checked: its type, that it was not seen before, that its
//! pivots rise and stay within the range its parent gave it, that the tree
//! is no deeper than the kernel allows. What is wrong is reported
//! ([`MapleWalk::damage`], naming the node) and the walk goes on with the
//! rest of the tree.

use std::collections::HashSet;

use crate::offsets::Layouts;

use crate::memory::Memory;

/// Deeper than this, a tree is damaged (the kernel's `MAPLE_HEIGHT_MAX`).
const MAX_HEIGHT: usize = 31;
/// At most this many nodes are read (a process with a million VMAs needs
/// about 100 000).
const MAX_NODES: usize = 1 << 20;

const NODE_MASK: u64 = 255;
const TYPE_SHIFT: u64 = 3;
const TYPE_MASK: u64 = 0xf;
const LEAF_64: u64 = 1;
const RANGE_64: u64 = 2;
const ARANGE_64: u64 = 3;
/// `XA_ZERO_ENTRY`: a reserved slot, no entry.
const ZERO_ENTRY: u64 = 0x406;

/// Where a `struct maple_node`'s parts are, from the kernel's BTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapleOffsets {
    /// `maple_node.mr64.pivot`, `.slot`, the number of slots, and
    /// `.meta.end`.
    pub range_pivot: u64,
    pub range_slot: u64,
    pub range_slots: usize,
    pub range_end: u64,
    /// The same of `maple_node.ma64`.
    pub arange_pivot: u64,
    pub arange_slot: u64,
    pub arange_slots: usize,
    pub arange_end: u64,
    /// `sizeof(struct maple_node)`.
    pub node_size: usize,
}

impl MapleOffsets {
    /// The offsets the kernel's BTF gives; `None` for a kernel without
    /// maple trees.
    pub(crate) fn from_layouts(layouts: Layouts<'_>) -> Option<MapleOffsets> {
        let node = layouts.find_aggregate("maple_node")?;
        let off = |p: &str| layouts.member_offset_in(node, p).map(|m| m.offset());
        let slots = |p: &str| {
            let m = layouts.member_offset_in(node, p)?;
            Some(layouts.array_info(m.type_id)?.len as usize)
        };
        let o = MapleOffsets {
            range_pivot: off("mr64.pivot")?,
            range_slot: off("mr64.slot")?,
            range_slots: slots("mr64.slot")?,
            range_end: off("mr64.meta.end")?,
            arange_pivot: off("ma64.pivot")?,
            arange_slot: off("ma64.slot")?,
            arange_slots: slots("ma64.slot")?,
            arange_end: off("ma64.meta.end")?,
            node_size: layouts.size_of(node)? as usize,
        };
        let fits = |end: u64| end < o.node_size as u64;
        (o.range_slots >= 2
            && o.arange_slots >= 2
            && o.node_size <= 4096
            && fits(o.range_slot + 8 * o.range_slots as u64 - 1)
            && fits(o.arange_slot + 8 * o.arange_slots as u64 - 1)
            && fits(o.range_end)
            && fits(o.arange_end))
        .then_some(o)
    }

    /// The layout of Linux 6.1 to 6.12 on 64-bit machines, for tests.
    pub fn linux_6_1() -> MapleOffsets {
        MapleOffsets {
            range_pivot: 8,
            range_slot: 128,
            range_slots: 16,
            range_end: 248,
            arange_pivot: 8,
            arange_slot: 80,
            arange_slots: 10,
            arange_end: 240,
            node_size: 256,
        }
    }
}

/// One entry and the indices it covers (both inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapleEntry {
    pub first: u64,
    pub last: u64,
    pub entry: u64,
}

/// A tree's entries, in index order, and what was wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapleWalk {
    pub entries: Vec<MapleEntry>,
    pub damage: Vec<crate::Finding>,
}

/// Whether an entry is an encoded node (`xa_is_node()`).
fn is_node(entry: u64) -> bool {
    entry & 3 == 2 && entry > 4096
}

/// The entries of the tree whose `ma_root` is `root`, in index order.
/// `max_entries` bounds what is returned.
pub(crate) fn walk<M: Memory + ?Sized>(
    mem: &M,
    root: u64,
    o: &MapleOffsets,
    max_entries: usize,
) -> MapleWalk {
    let mut out = MapleWalk::default();
    if root == 0 {
        return out;
    }
    if !is_node(root) {
        if root & 3 != 2 {
            out.entries.push(MapleEntry {
                first: 0,
                last: 0,
                entry: root,
            });
        }
        return out;
    }
    let mut seen = HashSet::new();
    // Depth first, the lowest indices first: (encoded node, min, max, depth).
    let mut stack = vec![(root, 0u64, u64::MAX, 0usize)];
    let mut buf = vec![0u8; o.node_size];
    while let Some((enode, min, max, depth)) = stack.pop() {
        let node = enode & !NODE_MASK;
        if depth >= MAX_HEIGHT {
            out.damage.push(crate::Finding::truncated(format!(
                "maple tree: node {node:#x} is {depth} levels deep: skipped"
            )));
            continue;
        }
        if !seen.insert(node) {
            out.damage.push(crate::Finding::looped(
                node,
                format!("maple tree: node {node:#x} is reached twice: skipped"),
            ));
            continue;
        }
        if seen.len() > MAX_NODES {
            out.damage.push(crate::Finding::truncated(format!(
                "maple tree: more than {MAX_NODES} nodes: damaged? read no more"
            )));
            break;
        }
        if let Err(e) = mem.read(node, &mut buf) {
            out.damage.push(crate::Finding::unreadable(
                node,
                format!("maple tree: node {node:#x} does not read: {e}"),
            ));
            continue;
        }
        let kind = (enode >> TYPE_SHIFT) & TYPE_MASK;
        let (pivot_off, slot_off, nslots, end_off) = match kind {
            LEAF_64 | RANGE_64 => (o.range_pivot, o.range_slot, o.range_slots, o.range_end),
            ARANGE_64 => (o.arange_pivot, o.arange_slot, o.arange_slots, o.arange_end),
            _ => {
                out.damage.push(crate::Finding::corrupt(
                    node,
                    format!("maple tree: node {node:#x} has type {kind}, not a node type: skipped"),
                ));
                continue;
            }
        };
        let word = |off: u64| {
            let i = off as usize;
            u64::from_le_bytes(buf[i..i + 8].try_into().unwrap_or_default())
        };
        let pivot = |i: usize| word(pivot_off + 8 * i as u64);
        let slot = |i: usize| word(slot_off + 8 * i as u64);
        let meta_end = usize::from(buf[end_off as usize]);
        let npivots = nslots - 1;
        let end = if kind == ARANGE_64 {
            meta_end
        } else {
            match pivot(npivots - 1) {
                0 => meta_end,
                p if p == max => npivots - 1,
                _ => npivots,
            }
        };
        if end >= nslots {
            out.damage.push(crate::Finding::corrupt(
                node,
                format!(
                    "maple tree: node {node:#x} says it ends at slot {end} of {nslots}: skipped"
                ),
            ));
            continue;
        }
        let leaf = kind == LEAF_64;
        let mut children = Vec::new();
        let mut lo = min;
        for i in 0..=end {
            let hi = if i < end { pivot(i) } else { max };
            if hi < lo || hi > max {
                out.damage.push(crate::Finding::corrupt(node, format!(
                    "maple tree: node {node:#x} slot {i}: pivot {hi:#x} outside {lo:#x}-{max:#x}: rest of node skipped"
                )));
                break;
            }
            let s = slot(i);
            if leaf {
                if s != 0 && s != ZERO_ENTRY && s & 3 != 2 {
                    if out.entries.len() >= max_entries {
                        out.damage.push(crate::Finding::truncated(format!(
                            "maple tree: more than {max_entries} entries: read no more"
                        )));
                        return out;
                    }
                    out.entries.push(MapleEntry {
                        first: lo,
                        last: hi,
                        entry: s,
                    });
                }
            } else if s != 0 {
                // A child: `mt_mk_node()`, the node's address with its type
                // and `MAPLE_ENODE_NULL` (4) in the low byte.
                children.push((s, lo, hi, depth + 1));
            }
            if hi == max {
                break;
            }
            lo = hi + 1;
        }
        stack.extend(children.into_iter().rev());
    }
    out
}

impl crate::Kernel {
    /// The entries of the maple tree whose `ma_root` holds `root`, in
    /// index order, at most `max_entries` of them; `None` for a kernel
    /// whose BTF has no `struct maple_node`.
    pub fn maple_entries(&self, root: u64, max_entries: usize) -> Option<MapleWalk> {
        let o = self.proc_offsets().maple.as_ref()?;
        Some(walk(self, root, o, max_entries))
    }

    /// The `(first index, entry)` pairs of the `struct maple_tree` at
    /// `tree`, in index order, and what could not be read.
    pub fn maple_tree_at(&self, tree: u64) -> Result<crate::TreeEntries, crate::Error> {
        let layouts = self.layouts_or_err()?;
        let root_off = layouts
            .member_offset("maple_tree", "ma_root")
            .ok_or_else(|| crate::LayoutError::member("maple_tree", "ma_root"))?
            .offset();
        let root = self
            .read_u64(tree + root_off)
            .map_err(|e| crate::Error::read(format!("maple tree {tree:x}"), e))?;
        let walk = self
            .maple_entries(root, MAX_NODES * 16)
            .ok_or_else(|| crate::LayoutError::Incomplete("maple_node".into()))?;
        Ok(crate::TreeEntries {
            entries: walk.entries.iter().map(|e| (e.first, e.entry)).collect(),
            notices: walk.damage,
        })
    }
}

#[cfg(test)]
mod tests;
