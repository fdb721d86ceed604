//! crash's per-CPU forms of `p` (`cmd_p()` and `display_per_cpu_info()`
//! in crash's symbols.c): `p NAME` of a per-CPU variable lists each CPU's
//! copy, `p NAME:CPUS` prints the copies (`NAME` plus
//! `__per_cpu_offset[cpu]`). CPUS is crash's list: `1`, `0,2-3`, `a` or
//! `all`, or nothing for the current CPU.

use kdive_debuginfo::types::{TypeId, TypeSource};

use super::overlay::Builtin;
use super::{Error, Evaluator, Place, Value};

/// What `p ARG` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// An ordinary expression (the whole argument).
    Expr(String),
    /// `p NAME` of a per-CPU variable. crash prints `PER-CPU DATA TYPE:`,
    /// the declaration (or `[undetermined type] NAME;` when `ty` is
    /// `None`), `PER-CPU ADDRESSES:` and `  [CPU]: ADDR` a line.
    PerCpuSummary {
        name: String,
        ty: Option<TypeId>,
        addrs: Vec<(u32, u64)>,
    },
    /// `p NAME:CPUS`: print [`Evaluator::per_cpu`] for each CPU, with
    /// crash's leader `per_cpu(NAME, CPU) = `.
    PerCpu { name: String, cpus: Vec<u32> },
    /// `p NAME:CPUS` where NAME is a symbol but not a per-CPU one: crash
    /// warns `WARNING: NAME is not percpu; cpuspec ignored.` and prints NAME.
    NotPerCpu { name: String },
}

/// A variable's copy on one CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerCpu {
    pub cpu: u32,
    /// The copy, or with no known type a `void *` to it (crash then prints
    /// `&per_cpu(NAME, CPU) = (void *) 0x...`).
    pub value: Value,
    pub typed: bool,
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '.')
}

impl Evaluator<'_> {
    /// Sort `p`'s argument as crash does before it goes to gdb.
    pub fn request(&self, arg: &str) -> Result<Request, Error> {
        let arg = arg.trim();
        let (name, spec) = match arg.rsplit_once(':') {
            Some((n, s)) => (n.trim(), Some(s.trim())),
            None => (arg, None),
        };
        let known = is_ident(name)
            && (self.ctx.symbol_addr(name).is_some() || self.types.variable(name).is_some());
        if !known {
            return Ok(Request::Expr(arg.to_string()));
        }
        if !self.is_per_cpu(name) {
            return Ok(match spec {
                Some(_) => Request::NotPerCpu {
                    name: name.to_string(),
                },
                None => Request::Expr(arg.to_string()),
            });
        }
        let name = name.to_string();
        match spec {
            Some(spec) => {
                let cpus = parse_cpus(spec, self.ctx.nr_cpus(), self.ctx.current_cpu())
                    .map_err(Error::Gdb)?;
                Ok(Request::PerCpu { name, cpus })
            }
            None => {
                let base = self.symbol_value(&name)?;
                let addrs = (0..self.ctx.nr_cpus())
                    .filter_map(|c| Some((c, base.wrapping_add(self.ctx.per_cpu_offset(c)?))))
                    .collect();
                let ty = self.types.variable(&name).map(|g| g.ty);
                Ok(Request::PerCpuSummary { name, ty, addrs })
            }
        }
    }

    /// Whether `name` lies in the kernel's per-CPU section.
    pub fn is_per_cpu(&self, name: &str) -> bool {
        let ctx = self.ctx;
        let (Some(start), Some(end)) = (
            ctx.symbol_addr("__per_cpu_start"),
            ctx.symbol_addr("__per_cpu_end"),
        ) else {
            return false;
        };
        self.symbol_value(name)
            .is_ok_and(|a| (start..end).contains(&a))
            && ctx.per_cpu_offset(0).is_some()
    }

    fn symbol_value(&self, name: &str) -> Result<u64, Error> {
        self.ctx
            .symbol_addr(name)
            .or_else(|| self.types.variable(name).and_then(|g| g.addr))
            .ok_or_else(|| Error::gdb(format!("No symbol \"{name}\" in current context.")))
    }

    /// `name`'s copy on `cpu`: its symbol value plus `__per_cpu_offset[cpu]`.
    pub fn per_cpu(&self, name: &str, cpu: u32) -> Result<PerCpu, Error> {
        let off = self
            .ctx
            .per_cpu_offset(cpu)
            .ok_or_else(|| Error::gdb(format!("no per-CPU offset for cpu {cpu}")))?;
        let addr = self.symbol_value(name)?.wrapping_add(off);
        Ok(match self.types.variable(name) {
            Some(g) => PerCpu {
                cpu,
                value: Value {
                    ty: g.ty,
                    place: Place::Memory(addr),
                },
                typed: true,
            },
            None => {
                let ty = self.types.pointer(self.types.builtin(Builtin::Void));
                let value = Value {
                    ty,
                    place: Place::Bytes(addr.to_le_bytes().to_vec()),
                };
                PerCpu {
                    cpu,
                    value,
                    typed: false,
                }
            }
        })
    }
}

/// crash's CPU list (`make_cpumask()`): `1`, `0,2-3`, `a` or `all`; an
/// empty list is the current CPU. Sorted, each CPU once.
pub(crate) fn parse_cpus(spec: &str, nr_cpus: u32, current: Option<u32>) -> Result<Vec<u32>, String> {
    let bad = || format!("invalid cpu specification: {spec}");
    if spec.is_empty() {
        return current
            .map(|c| vec![c])
            .ok_or_else(|| "no current CPU".to_string());
    }
    let mut set = std::collections::BTreeSet::new();
    for part in spec.split(',') {
        let (start, end) = match part {
            "a" | "all" if nr_cpus > 0 => (0, nr_cpus - 1),
            _ => {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                let n = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
                (n(a)?, n(b)?)
            }
        };
        if start > end || end >= nr_cpus {
            return Err(bad());
        }
        set.extend(start..=end);
    }
    Ok(set.into_iter().collect())
}
