//! Dumps written by a makedumpfile older than their kernel.
//!
//! makedumpfile decides which pages to leave out (`-d 8` user pages, `-d
//! 16` free pages) from each `struct page`, whose meaning changes with the
//! kernel: Linux 6.2 moved `slab.slabs` over `page.mapping`, 6.10 moved
//! `PG_slab` into the page type, 6.12 made page types values. A
//! makedumpfile that predates the kernel takes some slab pages for user or
//! free pages and leaves them out, and with them `task_struct`s and
//! `kmem_cache`s: the walks of tasks and slabs stop at pages the dump does
//! not hold. Each release knows kernels up to its `LATEST_VERSION`
//! ([`KNOWS`]).
//!
//! makedumpfile does not record its version in the dump (not in the
//! kdump-compressed header or sub-header, not in the ELF notes it copies;
//! the flattened format's header holds the format's version only), so the
//! symptom is looked for instead: at start-up, the task list and the
//! slab-cache list are followed (a few thousand reads at most), and a
//! `next` pointer to an excluded page is what no dump level explains.

use kdive_dump::ReadError;

use crate::{Kernel, MemError};

/// The most entries followed on each list.
const MAX_STEPS: usize = 2048;

/// makedumpfile releases and the newest kernel each knows (its
/// `LATEST_VERSION`, makedumpfile.h), oldest first.
const KNOWS: [(&str, (u32, u32)); 8] = [
    ("1.7.2", (6, 0)),
    ("1.7.3", (6, 3)),
    ("1.7.4", (6, 6)),
    ("1.7.5", (6, 8)),
    ("1.7.6", (6, 11)),
    ("1.7.7", (6, 14)),
    ("1.7.8", (6, 17)),
    ("1.7.9", (7, 0)),
];

/// What following one list found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Walk {
    /// Entries read.
    read: usize,
    /// The entry whose page is excluded, where the walk stopped.
    excluded: Option<u64>,
}

/// The notice to give when the dump lacks pages of kernel structures.
pub(crate) fn check(k: &Kernel) -> Option<String> {
    let tasks = k
        .layouts()
        .and_then(|b| b.member_offset("task_struct", "tasks"))
        .map(|m| m.offset());
    let lists = [
        ("task", k.symbol("init_task").zip(tasks).map(|(t, o)| t + o)),
        ("slab cache", k.symbol("slab_caches")),
    ];
    let mut broken = Vec::new();
    for (what, head) in lists {
        let Some(head) = head else { continue };
        let w = follow(|a| k.read_u64(a), head);
        if let Some(at) = w.excluded {
            broken.push(format!(
                "the {what} list breaks after {} entries, at {at:x}, on a page it left out",
                w.read
            ));
        }
    }
    if broken.is_empty() {
        return None;
    }
    let release = k.dump().release().unwrap_or_default();
    let needs = first_knowing(&release)
        .map(|v| {
            format!(
                "; makedumpfile {v} is the first to know Linux {}",
                major_minor_text(&release)
            )
        })
        .unwrap_or_default();
    Some(format!(
        "pages of kernel structures are excluded from this dump ({}). \
         The makedumpfile that wrote it (the dump does not record its version) probably did not know \
         this kernel ({release}) and took slab pages for user or free pages{needs}. \
         Tasks, slab objects and what they point to may be missing: those pages read as excluded",
        broken.join("; ")
    ))
}

/// Follow the `next` pointers of a `list_head` ring from `head`.
fn follow(read: impl Fn(u64) -> Result<u64, MemError>, head: u64) -> Walk {
    let mut w = Walk::default();
    let mut at = head;
    for _ in 0..MAX_STEPS {
        match read(at) {
            Ok(next) if next == head || next == 0 => break,
            Ok(next) => {
                at = next;
                w.read += 1;
            }
            Err(MemError::Unreadable {
                source: ReadError::Excluded { .. },
                ..
            }) => {
                w.excluded = Some(at);
                break;
            }
            Err(_) => break,
        }
    }
    w
}

/// `(major, minor)` of a release string (`6.12.117+deb12-cloud-amd64`).
fn major_minor(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

fn major_minor_text(release: &str) -> String {
    major_minor(release)
        .map(|(a, b)| format!("{a}.{b}"))
        .unwrap_or_default()
}

/// The first makedumpfile release that knows `release`'s kernel.
fn first_knowing(release: &str) -> Option<&'static str> {
    let v = major_minor(release)?;
    KNOWS
        .iter()
        .find(|(_, latest)| *latest >= v)
        .map(|(m, _)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_release_that_knows_a_kernel() {
        assert_eq!(first_knowing("6.12.117+deb12-cloud-amd64"), Some("1.7.7"));
        assert_eq!(first_knowing("6.1.0-47-cloud-amd64"), Some("1.7.3"));
        assert_eq!(first_knowing("5.10.0-30-amd64"), Some("1.7.2"));
        assert_eq!(first_knowing("6.14.2"), Some("1.7.7"));
        assert_eq!(first_knowing("7.1.0"), None);
        assert_eq!(first_knowing("garbage"), None);
    }

    fn excluded(vaddr: u64) -> MemError {
        MemError::Unreadable {
            vaddr,
            source: ReadError::Excluded { addr: 0x1000 },
        }
    }

    #[test]
    fn a_list_that_stops_at_an_excluded_page() {
        // head 0x10 -> 0x20 -> 0x30 (excluded)
        let read = |a: u64| match a {
            0x10 => Ok(0x20),
            0x20 => Ok(0x30),
            a => Err(excluded(a)),
        };
        assert_eq!(
            follow(read, 0x10),
            Walk {
                read: 2,
                excluded: Some(0x30)
            }
        );
    }

    #[test]
    fn a_whole_list_and_a_bad_pointer() {
        let ring = |a: u64| Ok(if a == 0x30 { 0x10 } else { a + 0x10 });
        assert_eq!(
            follow(ring, 0x10),
            Walk {
                read: 2,
                excluded: None
            }
        );
        let invalid = |a: u64| {
            if a == 0x10 {
                Ok(0x20)
            } else {
                Err(MemError::Invalid {
                    vaddr: a,
                    why: String::new(),
                })
            }
        };
        assert_eq!(
            follow(invalid, 0x10),
            Walk {
                read: 1,
                excluded: None
            }
        );
    }
}
