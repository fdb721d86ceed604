//! The timer wheel (Linux 4.8 and later): each CPU's `timer_bases`, an
//! array of `struct timer_base` (two since 4.8 with NO_HZ_COMMON, three
//! since 6.9: local, global, deferrable), each with `vectors[]` of
//! `hlist_head`s chaining `struct timer_list` by their `entry`.
//!
//! A chain that loops or leads to unreadable memory is cut where it goes
//! wrong, with a notice; the rest is still read.

use std::collections::HashSet;

use crate::{Error, Kernel, LayoutError};

/// At most this many timers are read from one chain.
const MAX_CHAIN: usize = 100_000;

/// One pending timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// The `struct timer_list`.
    pub addr: u64,
    pub expires: u64,
    pub function: u64,
}

/// One `struct timer_base` of one CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerBase {
    pub cpu: usize,
    /// Its index in the CPU's `timer_bases[]`.
    pub index: usize,
    pub addr: u64,
    /// In wheel order (bucket, then chain order).
    pub timers: Vec<Timer>,
}

/// Every CPU's timer bases, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct TimerWheel {
    /// How many bases each CPU has.
    pub nr_bases: usize,
    pub bases: Vec<TimerBase>,
    pub notices: Vec<crate::Finding>,
}

struct Offsets {
    vectors: u64,
    nr_vectors: u64,
    base_size: u64,
    entry: u64,
    expires: u64,
    function: u64,
}

impl Kernel {
    /// The pending timers of every CPU (the timer wheel of 4.8 and later).
    pub fn timer_wheel(&self) -> Result<TimerWheel, Error> {
        let layouts = self.layouts_or_err()?;
        let off = |s: &str, m: &str| {
            layouts
                .member_offset(s, m)
                .map(|i| i.offset())
                .ok_or_else(|| LayoutError::member(s, m))
        };
        let vec_info = layouts
            .member_offset("timer_base", "vectors")
            .ok_or_else(|| {
                Error::Unsupported("no timer_base.vectors: not a 4.8+ timer wheel".into())
            })?;
        let nr_vectors = layouts
            .array_info(vec_info.type_id)
            .map(|a| a.len)
            .ok_or_else(|| LayoutError::shape("timer_base", Some("vectors"), "is not an array"))?;
        let base_id = layouts
            .find_aggregate("timer_base")
            .ok_or_else(|| LayoutError::ty("timer_base"))?;
        let o = Offsets {
            vectors: vec_info.offset(),
            nr_vectors,
            base_size: layouts
                .size_of(base_id)
                .ok_or_else(|| LayoutError::shape("timer_base", None, "has no size"))?,
            entry: off("timer_list", "entry")?,
            expires: off("timer_list", "expires")?,
            function: off("timer_list", "function")?,
        };
        let sym = self
            .symbol("timer_bases")
            .ok_or_else(|| Error::no_symbol("timer_bases"))?;
        // The per-CPU variable's type says how many bases there are; a BTF
        // without per-CPU variables (5.10) leaves the symbol's size to say.
        let from_size = || {
            let size = self.symbols().by_name("timer_bases")?.size;
            let n = size.checked_div(o.base_size)?;
            (size % o.base_size == 0 && (1..=3).contains(&n)).then_some(n as usize)
        };
        let nr_bases = layouts
            .variable_type("timer_bases")
            .and_then(|ty| layouts.array_info(ty))
            .map(|a| a.len.max(1) as usize)
            .or_else(from_size)
            .unwrap_or(1);
        let mut wheel = TimerWheel {
            nr_bases,
            ..TimerWheel::default()
        };
        for cpu in 0..self.nr_cpus() {
            let Some(pcpu) = self.per_cpu_offset(cpu) else {
                continue;
            };
            for index in 0..nr_bases {
                let addr = sym
                    .wrapping_add(pcpu)
                    .wrapping_add(index as u64 * o.base_size);
                let timers = self.read_base(addr, &o, &mut wheel.notices);
                wheel.bases.push(TimerBase {
                    cpu,
                    index,
                    addr,
                    timers,
                });
            }
        }
        Ok(wheel)
    }

    fn read_base(&self, base: u64, o: &Offsets, notices: &mut Vec<crate::Finding>) -> Vec<Timer> {
        let mut timers = Vec::new();
        for i in 0..o.nr_vectors {
            let head = base + o.vectors + i * 8;
            let mut node = match self.read_u64(head) {
                Ok(n) => n,
                Err(e) => {
                    notices.push(crate::Finding::unreadable(
                        base,
                        format!("timer_base {base:x}: vectors[{i}]: {e}"),
                    ));
                    continue;
                }
            };
            let mut seen = HashSet::new();
            while node != 0 {
                if !seen.insert(node) || seen.len() > MAX_CHAIN {
                    notices.push(crate::Finding::looped(
                        node,
                        format!("timer_base {base:x}: vectors[{i}]: loop at {node:x}"),
                    ));
                    break;
                }
                let t = node.wrapping_sub(o.entry);
                let (expires, function) =
                    match (self.read_u64(t + o.expires), self.read_u64(t + o.function)) {
                        (Ok(e), Ok(f)) => (e, f),
                        (Err(e), _) | (_, Err(e)) => {
                            notices.push(crate::Finding::unreadable(
                                t,
                                format!("timer_base {base:x}: vectors[{i}]: timer {t:x}: {e}"),
                            ));
                            break;
                        }
                    };
                timers.push(Timer {
                    addr: t,
                    expires,
                    function,
                });
                node = match self.read_u64(node) {
                    Ok(n) => n,
                    Err(e) => {
                        notices.push(crate::Finding::unreadable(
                            node,
                            format!("timer_base {base:x}: vectors[{i}]: {node:x}: {e}"),
                        ));
                        break;
                    }
                };
            }
        }
        timers
    }
}
