//! Socket buffer queues (`struct sk_buff_head`): the `sk_buff`s on one,
//! in order, walked with a bound and a loop check.

use std::collections::HashSet;

use crate::memory::Memory;
use crate::{Error, Finding, Kernel, MemError};

/// More buffers than this on one queue is a damaged queue.
const MAX_SKBS: usize = 100_000;

/// One queued `sk_buff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skb {
    pub addr: u64,
    /// `len`: the bytes of data, the linear part at `data` first.
    pub len: u32,
    /// `data`: where the data starts.
    pub data: u64,
}

/// What [`Kernel::skb_queue`] found on a queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkbQueue {
    /// The queue's own count (`qlen`).
    pub qlen: u32,
    pub skbs: Vec<Skb>,
    /// A loop, a pointer that is not a kernel address, an `sk_buff` that
    /// did not read, a count that does not match `qlen`.
    pub findings: Vec<Finding>,
}

/// Where the walk's members are: in `sk_buff_head` (`head_next`, `qlen`)
/// and `sk_buff`.
#[derive(Debug, Clone, Copy)]
struct Offsets {
    head_next: u64,
    qlen: u64,
    next: u64,
    len: u64,
    data: u64,
}

impl Kernel {
    /// The `sk_buff`s on the `sk_buff_head` at `head`, from `next`. Fails
    /// only when the types lack the members or the head does not read.
    pub fn skb_queue(&self, head: u64) -> Result<SkbQueue, Error> {
        let l = self.layouts_or_err()?;
        let o = Offsets {
            head_next: l.off("sk_buff_head", "next")?,
            qlen: l.off("sk_buff_head", "qlen")?,
            next: l.off("sk_buff", "next")?,
            len: l.off("sk_buff", "len")?,
            data: l.off("sk_buff", "data")?,
        };
        Ok(walk(self, &o, head)?)
    }

    /// The first `max` bytes (at most) of `skb`'s data, from `data`.
    pub fn skb_bytes(&self, skb: &Skb, max: usize) -> Result<Vec<u8>, MemError> {
        let mut b = vec![0u8; (skb.len as usize).min(max)];
        self.read(skb.data, &mut b)?;
        Ok(b)
    }
}

/// The walk of the queue at `head`.
fn walk<M: Memory + ?Sized>(mem: &M, o: &Offsets, head: u64) -> Result<SkbQueue, MemError> {
    let mut q = SkbQueue {
        qlen: mem.read_u32(head + o.qlen)?,
        ..SkbQueue::default()
    };
    let mut at = mem.read_u64(head + o.head_next)?;
    let mut seen = HashSet::new();
    // The list ends back at the head; a NULL ends it too (an emptied
    // buffer's links are cleared).
    while at != head && at != 0 {
        if at < 1 << 63 {
            q.findings.push(Finding::corrupt(
                at,
                format!("sk_buff_head {head:#x}: {at:#x} is not a kernel address"),
            ));
            break;
        }
        if !seen.insert(at) {
            q.findings.push(Finding::looped(
                at,
                format!("sk_buff_head {head:#x}: the queue comes back to {at:#x}: a loop"),
            ));
            break;
        }
        if q.skbs.len() == MAX_SKBS {
            q.findings.push(Finding::truncated(format!(
                "sk_buff_head {head:#x}: more than {MAX_SKBS} buffers: read no more"
            )));
            break;
        }
        let read = || -> Result<(Skb, u64), MemError> {
            let skb = Skb {
                addr: at,
                len: mem.read_u32(at + o.len)?,
                data: mem.read_u64(at + o.data)?,
            };
            Ok((skb, mem.read_u64(at + o.next)?))
        };
        match read() {
            Ok((skb, n)) => {
                q.skbs.push(skb);
                at = n;
            }
            Err(e) => {
                q.findings.push(Finding::unreadable(
                    at,
                    format!("sk_buff_head {head:#x}: sk_buff {at:#x}: {e}"),
                ));
                break;
            }
        }
    }
    // A count that disagrees with a walk that went well is damage too.
    if q.findings.is_empty() && q.skbs.len() != q.qlen as usize {
        q.findings.push(Finding::corrupt(
            head,
            format!(
                "sk_buff_head {head:#x}: qlen is {} but {} buffers are queued",
                q.qlen,
                q.skbs.len()
            ),
        ));
    }
    Ok(q)
}

#[cfg(test)]
#[path = "skb_tests.rs"]
mod tests;
