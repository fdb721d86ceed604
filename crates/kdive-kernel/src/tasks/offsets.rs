//! Where the task walk finds what it reads, from the kernel's BTF, looked up
//! once per kernel. Which layout a kernel has (where the CPU number is, how
//! threads are linked, how RSS is counted) is decided by what the BTF says
//! exists, never by the kernel's version.

use kdive_debuginfo::types::TypeId;

use crate::offsets::Layouts;

use crate::LayoutError;

/// Offset and size of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Field {
    pub off: usize,
    pub size: usize,
}

impl Field {
    /// The field's value (little-endian, zero-extended), when `buf` holds
    /// it and it is 1, 2, 4 or 8 bytes.
    pub fn get(&self, buf: &[u8]) -> Option<u64> {
        if !matches!(self.size, 1 | 2 | 4 | 8) {
            return None;
        }
        let b = buf.get(self.off..self.off.checked_add(self.size)?)?;
        let mut w = [0u8; 8];
        w[..self.size].copy_from_slice(b);
        Some(u64::from_le_bytes(w))
    }

    /// The value sign-extended from its size.
    pub fn get_signed(&self, buf: &[u8]) -> Option<i64> {
        let v = self.get(buf)?;
        let shift = 64 - 8 * self.size as u32;
        Some(((v << shift) as i64) >> shift)
    }

    pub fn bytes<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        buf.get(self.off..self.off.checked_add(self.size)?)
    }

    /// The first byte after the field.
    pub fn end(&self) -> usize {
        self.off + self.size
    }

    fn at(self, base: usize) -> Field {
        Field {
            off: self.off + base,
            size: self.size,
        }
    }
}

/// How a thread group's threads are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// `signal->thread_head`, each thread's `thread_node` (Linux 3.14 on;
    /// the only link from 6.7).
    SignalList {
        signal: Field,
        head: usize,
        node: usize,
    },
    /// The ring of `thread_group` through the leader (before 6.7).
    Ring {
        node: usize,
    },
    None,
}

/// How an `mm_struct` counts its resident pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RssLayout {
    /// `atomic_long_t rss_stat.count[NR_MM_COUNTERS]` (before 6.2).
    Atomic {
        base: usize,
    },
    /// `struct percpu_counter rss_stat[NR_MM_COUNTERS]` (6.2 on).
    PerCpu {
        base: usize,
        stride: usize,
        count: Field,
        counters: Option<Field>,
    },
    None,
}

/// `struct mm_struct`'s fields that `ps` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MmOffsets {
    pub size: usize,
    pub total_vm: Field,
    pub rss: RssLayout,
    pub pgd: Option<Field>,
    pub arg_start: Option<Field>,
    pub arg_end: Option<Field>,
    pub env_start: Option<Field>,
    pub env_end: Option<Field>,
}

/// The task walk's offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Offsets {
    /// How many bytes of a `task_struct` are read: up to the last field used.
    pub task_len: usize,
    pub state: Field,
    pub exit_state: Option<Field>,
    pub flags: Field,
    pub pid: Field,
    pub tgid: Field,
    pub parent: Field,
    pub real_parent: Option<Field>,
    pub group_leader: Option<Field>,
    pub comm: Field,
    pub mm: Field,
    pub active_mm: Option<Field>,
    pub stack: Option<Field>,
    pub cpu: Option<Field>,
    /// `thread_info` inside the task (`CONFIG_THREAD_INFO_IN_TASK`).
    pub thread_info: Option<usize>,
    /// The saved kernel stack pointer of a task that is not running.
    pub ksp: Option<Field>,
    /// `tasks`: the list of thread-group leaders through `init_task`.
    pub tasks: usize,
    pub threads: Threads,
    /// `pid_links[PIDTYPE_PID]`, through which a `struct pid` lists its task.
    pub pid_link: Option<usize>,
    /// `rss_stat.count[]` of the task (`SPLIT_RSS_COUNTING`): `int`s.
    pub task_rss: Option<Field>,
    pub last_arrival: Option<Field>,
    pub start_time: Option<Field>,
    pub utime: Option<Field>,
    pub stime: Option<Field>,
    pub mm_offsets: Option<MmOffsets>,
    /// `MM_FILEPAGES`, `MM_ANONPAGES`, `MM_SHMEMPAGES` (when it exists).
    pub rss_kinds: Vec<usize>,
    pub rq: Option<RqOffsets>,
    pub pid_ns: Option<PidNsOffsets>,
}

/// `struct rq`'s fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RqOffsets {
    pub curr: Field,
    pub idle: Field,
    pub clock: Option<Field>,
}

/// The PID namespace's IDR and the tree under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PidNsOffsets {
    /// `pid_namespace.idr.idr_rt`: the tree's root (an xarray, or a radix
    /// tree before 4.20).
    pub root: usize,
    /// The tree under it.
    pub tree: crate::radix_tree::TreeLayout,
    /// `pid.tasks[PIDTYPE_PID].first`.
    pub pid_first: usize,
    /// `pid.numbers[0].nr`.
    pub pid_nr: Option<Field>,
}

/// Looks members up in one BTF.
struct Look<'a> {
    layouts: Layouts<'a>,
}

impl Look<'_> {
    fn id(&self, name: &str) -> Option<TypeId> {
        self.layouts
            .find_struct(name)
            .or_else(|| self.layouts.find_aggregate(name))
    }

    fn field(&self, outer: TypeId, path: &str) -> Option<Field> {
        let m = self.layouts.member_offset_in(outer, path)?;
        if m.is_bitfield() || m.offset_bits % 8 != 0 {
            return None;
        }
        Some(Field {
            off: usize::try_from(m.offset()).ok()?,
            size: usize::try_from(self.layouts.size_of(m.type_id)?).ok()?,
        })
    }

    fn need(&self, outer: TypeId, path: &str) -> Result<Field, LayoutError> {
        self.field(outer, path)
            .ok_or_else(|| LayoutError::member(&self.layouts.name(outer), path))
    }

    fn size(&self, id: TypeId) -> Option<usize> {
        usize::try_from(self.layouts.size_of(id)?).ok()
    }

    fn enumerator(&self, name: &str) -> Option<usize> {
        usize::try_from(self.layouts.enumerator(name)?).ok()
    }
}

impl Offsets {
    pub fn from_layouts(layouts: Layouts<'_>) -> Result<Offsets, LayoutError> {
        let l = Look { layouts };
        let task = l
            .id("task_struct")
            .ok_or_else(|| LayoutError::ty("task_struct"))?;
        let f = |p: &str| l.field(task, p);
        let need = |p: &str| l.need(task, p);
        let state = f("__state")
            .or_else(|| f("state"))
            .ok_or_else(|| LayoutError::member("task_struct", "__state or state"))?;
        let pid_type = l.enumerator("PIDTYPE_PID").unwrap_or(0);
        let threads = match (f("signal"), f("thread_node"), l.id("signal_struct")) {
            (Some(signal), Some(node), Some(sig)) => match l.field(sig, "thread_head") {
                Some(head) => Threads::SignalList {
                    signal,
                    head: head.off,
                    node: node.off,
                },
                None => f("thread_group").map_or(Threads::None, |n| Threads::Ring { node: n.off }),
            },
            _ => f("thread_group").map_or(Threads::None, |n| Threads::Ring { node: n.off }),
        };
        let thread_info = f("thread_info").map(|t| t.off);
        let cpu = f("cpu").or_else(|| {
            let ti = l.id("thread_info")?;
            Some(l.field(ti, "cpu")?.at(thread_info?))
        });
        let ksp = f("thread.sp").or_else(|| f("thread.ksp"));
        let mut o = Offsets {
            task_len: 0,
            state,
            exit_state: f("exit_state"),
            flags: need("flags")?,
            pid: need("pid")?,
            tgid: need("tgid")?,
            parent: f("parent")
                .or_else(|| f("p_pptr"))
                .ok_or_else(|| LayoutError::member("task_struct", "parent"))?,
            real_parent: f("real_parent"),
            group_leader: f("group_leader"),
            comm: need("comm")?,
            mm: need("mm")?,
            active_mm: f("active_mm"),
            stack: f("stack"),
            cpu,
            thread_info,
            ksp,
            tasks: need("tasks")?.off,
            threads,
            pid_link: f(&format!("pid_links[{pid_type}]")).map(|x| x.off),
            task_rss: f("rss_stat.count"),
            last_arrival: f("sched_info.last_arrival"),
            start_time: f("start_time"),
            utime: f("utime"),
            stime: f("stime"),
            mm_offsets: mm_offsets(&l),
            rss_kinds: ["MM_FILEPAGES", "MM_ANONPAGES", "MM_SHMEMPAGES"]
                .iter()
                .filter_map(|n| l.enumerator(n))
                .collect(),
            rq: rq_offsets(&l),
            pid_ns: pid_ns_offsets(&l, pid_type),
        };
        if o.rss_kinds.is_empty() {
            o.rss_kinds = vec![0, 1];
        }
        let mut fields = vec![o.state, o.flags, o.pid, o.tgid, o.parent, o.comm, o.mm];
        fields.extend(
            [
                o.exit_state,
                o.real_parent,
                o.group_leader,
                o.active_mm,
                o.stack,
                o.cpu,
                o.ksp,
                o.task_rss,
                o.last_arrival,
                o.start_time,
                o.utime,
                o.stime,
            ]
            .into_iter()
            .flatten(),
        );
        if let Threads::SignalList { signal, .. } = o.threads {
            fields.push(signal);
        }
        o.task_len = fields.iter().map(Field::end).max().unwrap_or(0);
        if o.task_len > 1 << 20 {
            return Err(LayoutError::shape(
                "task_struct",
                None,
                format!("has fields {} bytes in: damaged?", o.task_len),
            ));
        }
        Ok(o)
    }
}

fn mm_offsets(l: &Look) -> Option<MmOffsets> {
    let mm = l.id("mm_struct")?;
    let f = |p: &str| l.field(mm, p);
    let rss = match l.layouts.member_offset_in(mm, "rss_stat") {
        None => RssLayout::None,
        Some(m) => match l.layouts.array_info(m.type_id) {
            // An array of percpu_counter.
            Some(a) => match l.id("percpu_counter") {
                Some(pc) => RssLayout::PerCpu {
                    base: m.offset() as usize,
                    stride: l.size(a.elem)?,
                    count: l.field(pc, "count")?,
                    counters: l.field(pc, "counters"),
                },
                None => RssLayout::None,
            },
            None => match f("rss_stat.count") {
                Some(c) => RssLayout::Atomic { base: c.off },
                None => RssLayout::None,
            },
        },
    };
    Some(MmOffsets {
        size: l.size(mm)?,
        total_vm: f("total_vm")?,
        rss,
        pgd: f("pgd"),
        arg_start: f("arg_start"),
        arg_end: f("arg_end"),
        env_start: f("env_start"),
        env_end: f("env_end"),
    })
}

fn rq_offsets(l: &Look) -> Option<RqOffsets> {
    let rq = l.id("rq")?;
    Some(RqOffsets {
        curr: l.field(rq, "curr")?,
        idle: l.field(rq, "idle")?,
        clock: l.field(rq, "clock"),
    })
}

fn pid_ns_offsets(l: &Look, pid_type: usize) -> Option<PidNsOffsets> {
    let ns = l.id("pid_namespace")?;
    let root = l.layouts.member_offset_in(ns, "idr.idr_rt")?.offset() as usize;
    let tree = crate::radix_tree::TreeLayout::from_layouts(&l.layouts).ok()?;
    let pid = l.id("pid")?;
    Some(PidNsOffsets {
        root,
        tree,
        pid_first: l.field(pid, &format!("tasks[{pid_type}].first"))?.off,
        pid_nr: l.field(pid, "numbers[0].nr"),
    })
}
