//! The kernel's resource trees (`ioport_resource`, `iomem_resource`):
//! each `struct resource` with its range and name, in the tree's order
//! (a resource, then its children, then its siblings), as crash's
//! `dev -i` walks them.

use std::collections::HashSet;

use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// At most this many resources are read from one tree.
const MAX_RESOURCES: usize = 1 << 20;

/// One resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub addr: u64,
    pub start: u64,
    pub end: u64,
    /// `None` when the name does not read.
    pub name: Option<String>,
}

impl Kernel {
    /// The resources of the tree whose root is the global `root`
    /// (`ioport_resource`, `iomem_resource`), root first, and what could
    /// not be read.
    pub fn resources(&self, root: &str) -> Result<(Vec<Resource>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let first = self.symbol(root).ok_or_else(|| Error::no_symbol(root))?;
        let (start, end, name, child, sibling) = (
            l.off("resource", "start")?,
            l.off("resource", "end")?,
            l.off("resource", "name")?,
            l.off("resource", "child")?,
            l.off("resource", "sibling")?,
        );
        let mut out = Vec::new();
        let mut notices = Vec::new();
        let mut seen = HashSet::new();
        // Depth first: the next sibling waits under the children.
        let mut stack = vec![first];
        while let Some(mut r) = stack.pop() {
            while r != 0 {
                if !seen.insert(r) || seen.len() > MAX_RESOURCES {
                    notices.push(crate::Finding::looped(
                        r,
                        format!("{root}: the tree comes back to {r:x}"),
                    ));
                    break;
                }
                let rd = |o: u64| self.read_u64(r + o);
                let (Ok(s), Ok(e), Ok(c), Ok(sib)) = (rd(start), rd(end), rd(child), rd(sibling))
                else {
                    notices.push(crate::Finding::unreadable(
                        r,
                        format!("{root}: resource {r:x} does not read"),
                    ));
                    break;
                };
                let n = rd(name).ok().and_then(|p| self.string_at(p, 256));
                out.push(Resource {
                    addr: r,
                    start: s,
                    end: e,
                    name: n,
                });
                if c != 0 && c != r {
                    stack.push(sib);
                    r = c;
                } else {
                    r = sib;
                }
            }
        }
        Ok((out, notices))
    }
}
