//! Why a walker of the open kernel failed: [`Error`], one type for every
//! walker ([`Kernel::irq_descs`](crate::Kernel::irq_descs),
//! [`Kernel::slub`](crate::Kernel::slub), [`Kernel::log`](crate::Kernel::log)...).
//!
//! Each variant says why, for a program to match on: memory that did not
//! read ([`Error::Read`], [`Error::Mem`], the [`MemError`] kept as the
//! source, so that [`MemError::is_excluded`] stays reachable), a symbol the
//! kernel lacks ([`Error::NoSymbol`]), types that lack a structure or
//! member ([`Error::Layout`], a [`LayoutError`]), an absurd value
//! ([`Error::Corrupt`]), a kernel shape kdive does not read
//! ([`Error::Unsupported`]). The texts are those the commands print, crash's
//! own where kdive follows crash.

use thiserror::Error;

use crate::memory::MemError;

/// Why a walker of the kernel failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A structure did not read. `what` names it as the message does
    /// (`irq_desc ffff88800...`, `file ffff88800... does not read`); the
    /// message is `what: source`.
    #[error("{what}: {source}")]
    Read {
        what: String,
        #[source]
        source: MemError,
    },
    /// A read failed, and the address it names says enough.
    #[error(transparent)]
    Mem(#[from] MemError),
    /// The kernel's types lack what the walker needs, or there are none.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A kernel symbol this kernel or dump lacks: `name` (the first one
    /// looked for, when there are alternatives). `said` is the message
    /// where it is not "no NAME symbol": crash's words, where kdive says
    /// what crash says.
    #[error("{}", no_symbol_text(.name, .said))]
    NoSymbol {
        name: String,
        said: Option<&'static str>,
    },
    /// The dump has no kernel symbols at all: `what` cannot be found.
    #[error("no kernel symbols: {what} cannot be found")]
    NoSymbols { what: &'static str },
    /// Something the dump or kernel lacks of CPU `cpu` (its registers, the
    /// task running on it, its per-CPU area).
    #[error("{}", .what.text(*.cpu))]
    NoCpuState { cpu: usize, what: CpuState },
    /// An absurd value: a bad pointer, a count out of range, a loop.
    /// `what` is the account (naming the address); `addr` is the address
    /// of the damage (the structure, or the pointer).
    #[error("{what}")]
    Corrupt { what: String, addr: u64 },
    /// The kernel's data do not tell `what` (crash's "cannot determine
    /// ..."); `source`, when a read is why.
    #[error("cannot determine {what}")]
    Undetermined {
        what: String,
        #[source]
        source: Option<MemError>,
    },
    /// A kernel shape kdive does not read (an allocator, a tree, a log
    /// layout of kernels it does not know): which, and what is missing.
    #[error("{0}")]
    Unsupported(String),
    /// The kernel log has records, none of which read: where the log is
    /// (`log_buf at 0x...`), and what was wrong with the first.
    #[error("no record of the log could be read ({at}): {first}")]
    NoLogRecords { at: String, first: String },
}

/// What the dump or kernel lacks of a CPU ([`Error::NoCpuState`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CpuState {
    /// The task running on it (its `current_task`).
    CurrentTask,
    /// Its registers: the dump has no `NT_PRSTATUS` note for it.
    Registers,
    /// Its register note is shorter than a `struct pt_regs`.
    ShortRegisters,
    /// Its registers are all zero (the CPU did not save them).
    EmptyRegisters,
    /// Its per-CPU area (`__per_cpu_offset[cpu]`).
    PerCpuOffset,
}

impl CpuState {
    fn text(self, cpu: usize) -> String {
        match self {
            CpuState::CurrentTask => format!("cannot find the task running on CPU {cpu}"),
            CpuState::Registers => format!("the dump has no registers for CPU {cpu}"),
            CpuState::ShortRegisters => "short register note".to_string(),
            CpuState::EmptyRegisters => format!("the dump's registers for CPU {cpu} are empty"),
            CpuState::PerCpuOffset => format!("no per-cpu offset for cpu {cpu}"),
        }
    }
}

fn no_symbol_text(name: &str, said: &Option<&'static str>) -> String {
    match said {
        Some(s) => (*s).to_string(),
        None => format!("no {name} symbol"),
    }
}

impl Error {
    /// `what` did not read ([`Error::Read`]).
    pub(crate) fn read(what: impl Into<String>, source: MemError) -> Error {
        Error::Read {
            what: what.into(),
            source,
        }
    }

    /// No symbol `name` ([`Error::NoSymbol`]): "no NAME symbol".
    pub(crate) fn no_symbol(name: impl Into<String>) -> Error {
        Error::NoSymbol {
            name: name.into(),
            said: None,
        }
    }

    /// No symbol `name`, said as `said` (crash's words).
    pub(crate) fn no_symbol_said(name: impl Into<String>, said: &'static str) -> Error {
        Error::NoSymbol {
            name: name.into(),
            said: Some(said),
        }
    }

    /// Damage at `addr` ([`Error::Corrupt`]).
    pub(crate) fn corrupt(what: impl Into<String>, addr: u64) -> Error {
        Error::Corrupt {
            what: what.into(),
            addr,
        }
    }

    /// The memory error underneath, when a read is why.
    pub fn mem_error(&self) -> Option<&MemError> {
        match self {
            Error::Read { source, .. } | Error::Mem(source) => Some(source),
            Error::Undetermined { source, .. } => source.as_ref(),
            _ => None,
        }
    }

    /// Whether the walker failed because the dump left a page out (its
    /// dump level), rather than the kernel lacking something or damage.
    pub fn is_excluded(&self) -> bool {
        self.mem_error().is_some_and(MemError::is_excluded)
    }
}

/// Why the kernel's types do not give a layout: no BTF, or a structure or
/// member missing or not of the expected shape. What [`crate::Kernel`]'s
/// offset look-ups fail with; it converts into [`Error::Layout`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The kernel has no BTF, nor a vmlinux with DWARF to read layouts
    /// from instead, and why there is no BTF.
    #[error("no BTF: {0}")]
    NoBtf(String),
    /// No types at all: no vmlinux (its DWARF), and no BTF (`why`); so
    /// `what` (`the log's layout`) is unknown.
    #[error("{what} is unknown: no vmlinux, and no BTF ({why})")]
    NoTypes { what: &'static str, why: String },
    /// The kernel's types have no struct (or union) `ty`, or, with
    /// `member`, no such member of it (`member` may be a path:
    /// `irq_data.chip`).
    #[error("{}", missing_text(.ty, .member))]
    Missing { ty: String, member: Option<String> },
    /// The kernel's types do not describe struct `0` as a walker needs it
    /// (a member of the group it reads is missing).
    #[error("no type information for struct {0}")]
    Incomplete(String),
    /// The struct `ty` (or its member `member`) is there, but not of a
    /// shape the walker can use: `why` says how (`is not an array`, `has
    /// no size`).
    #[error("{}", shape_text(.ty, .member, .why))]
    Shape {
        ty: String,
        member: Option<String>,
        why: String,
    },
}

impl LayoutError {
    /// No member `member` of `ty`.
    pub(crate) fn member(ty: &str, member: &str) -> LayoutError {
        LayoutError::Missing {
            ty: ty.to_string(),
            member: Some(member.to_string()),
        }
    }

    /// No struct `ty`.
    pub(crate) fn ty(ty: &str) -> LayoutError {
        LayoutError::Missing {
            ty: ty.to_string(),
            member: None,
        }
    }

    /// `ty.member` (or struct `ty`) is not of the shape needed.
    pub(crate) fn shape(ty: &str, member: Option<&str>, why: impl Into<String>) -> LayoutError {
        LayoutError::Shape {
            ty: ty.to_string(),
            member: member.map(str::to_string),
            why: why.into(),
        }
    }
}

fn missing_text(ty: &str, member: &Option<String>) -> String {
    match member {
        Some(m) => format!("no {ty}.{m} in the kernel's types"),
        None => format!("no struct {ty} in the kernel's types"),
    }
}

fn shape_text(ty: &str, member: &Option<String>, why: &str) -> String {
    match member {
        Some(m) => format!("{ty}.{m} {why}"),
        None => format!("struct {ty} {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdive_dump::ReadError;

    #[test]
    fn texts_are_the_messages_and_the_source_stays_reachable() {
        let excluded = MemError::Unreadable {
            vaddr: 0xffff_8880_0100_0000,
            source: ReadError::Excluded { addr: 0x100_0000 },
        };
        let e = Error::read("irq_desc ffff888001000000", excluded.clone());
        assert_eq!(
            e.to_string(),
            format!("irq_desc ffff888001000000: {excluded}")
        );
        assert!(e.is_excluded());
        assert_eq!(
            std::error::Error::source(&e).map(|s| s.to_string()),
            Some(excluded.to_string())
        );
        assert_eq!(
            Error::from(excluded.clone()).to_string(),
            excluded.to_string()
        );
        assert_eq!(
            Error::no_symbol("idt_table").to_string(),
            "no idt_table symbol"
        );
        assert_eq!(
            Error::no_symbol_said("chrdevs", "chrdevs: symbol does not exist").to_string(),
            "chrdevs: symbol does not exist"
        );
        assert_eq!(
            Error::from(LayoutError::member("irq_desc", "action")).to_string(),
            "no irq_desc.action in the kernel's types"
        );
        assert_eq!(
            LayoutError::shape("xa_node", Some("slots"), "is not an array").to_string(),
            "xa_node.slots is not an array"
        );
        assert_eq!(
            Error::NoCpuState {
                cpu: 3,
                what: CpuState::Registers
            }
            .to_string(),
            "the dump has no registers for CPU 3"
        );
        assert!(!Error::no_symbol("x").is_excluded());
    }
}
