//! Kernel objects printed as gdb prints them inside crash: the bytes read
//! from the dump, symbols in `<...>` by gdb's rules, and crash's words when
//! a read fails.

use std::ops::Range;

use kdive_debuginfo::types::{TypeId, TypeSource};
use kdive_debuginfo::Symbol;
use kdive_dump::ReadError;
use kdive_kernel::{Kernel, MemError, SymbolSource};

use crate::gdb::value::Printer;

/// How far back among zero-sized symbols the lookup goes for a sized one.
const MAX_SCAN: usize = 64;

/// The name crash gives gdb's memory reads in its error messages.
const GDB_READ: &str = "gdb_readmem_callback";

/// An object's bytes, read page by page. Pages that could not be read are
/// left zero and remembered: bytes past what the kernel allocated need not
/// be there (a `task_struct` ends before `sizeof` says, maybe next to a
/// page the dump left out).
pub struct ObjectBytes {
    pub data: Vec<u8>,
    addr: u64,
    /// Offsets in the object that could not be read, with why.
    holes: Vec<(Range<u64>, MemError)>,
}

impl ObjectBytes {
    /// crash's message for the first byte of `r` (offsets in the object)
    /// that could not be read; `None` when all could.
    pub fn missing(&self, r: Range<u64>) -> Option<String> {
        let (hole, e) = self
            .holes
            .iter()
            .find(|(h, _)| h.start < r.end && r.start < h.end)?;
        Some(read_error(
            e,
            self.addr.wrapping_add(hole.start.max(r.start)),
        ))
    }
}

/// `len` bytes at `addr`, page by page, whatever pages can be read. A
/// failed page gives crash's message for it (`invalid kernel virtual
/// address: ffffffffc0415000  type: "gdb_readmem_callback"`) when a
/// caller needs its bytes.
pub fn read_parts(k: &Kernel, addr: u64, len: u64) -> Result<ObjectBytes, String> {
    let size = usize::try_from(len).map_err(|_| format!("{len} bytes is too large to read"))?;
    let mut data = vec![0u8; size];
    let mut holes = Vec::new();
    let mut done = 0usize;
    while done < size {
        let at = addr.wrapping_add(done as u64);
        let n = ((0x1000 - (at & 0xfff)) as usize).min(size - done);
        if let Err(e) = k.read(at, &mut data[done..done + n]) {
            holes.push((done as u64..(done + n) as u64, e));
        }
        done += n;
    }
    Ok(ObjectBytes { data, addr, holes })
}

/// How many bytes of a `name` object (`sizeof` is `size`) the kernel
/// allocates: fewer for a `task_struct` whose FPU state area is smaller
/// than its type says (x86's `arch_task_struct_size`, which crash uses
/// too). The bytes after that belong to the next object, or to a page the
/// dump may have left out.
pub fn allocated_size(k: &Kernel, name: &str, size: u64) -> u64 {
    if name != "task_struct" {
        return size;
    }
    let mut b = [0u8; 4];
    match k.symbol("arch_task_struct_size").map(|a| k.read(a, &mut b)) {
        Some(Ok(())) => match u64::from(u32::from_le_bytes(b)) {
            n if n > 0 && n < size => n,
            _ => size,
        },
        _ => size,
    }
}

/// crash's `readmem()` error for a failed read at `at`.
pub fn read_error(e: &MemError, at: u64) -> String {
    let what = match e {
        MemError::Invalid { .. } => {
            return format!("invalid kernel virtual address: {at:x}  type: \"{GDB_READ}\"")
        }
        MemError::Unreadable { source, .. } | MemError::Physical { source, .. } => match source {
            ReadError::Excluded { .. } => "page excluded",
            ReadError::NotInDump { .. } | ReadError::BeyondMemory { .. } => "seek error",
            ReadError::Truncated { .. } => "page incomplete",
            ReadError::Corrupt { .. } => "read error",
        },
    };
    format!("{what}: kernel virtual address: {at:x}  type: \"{GDB_READ}\"")
}

/// What gdb shows in `<...>` after an address: the symbol holding it and
/// the offset in decimal (`slab_caches`, `init_task+2192`). crash lets gdb
/// look only at kernel addresses (at or above the direct map). Like gdb,
/// a sized symbol must contain the address; a zero-sized one only names
/// code. In a module's memory, crash's own lookup among the module's
/// symbols answers instead.
pub fn gdb_symbol(k: &Kernel, addr: u64) -> Option<String> {
    if addr == 0 || addr < k.layout().page_offset_base {
        return None;
    }
    let syms = k.symbols().as_slice();
    let end = syms.partition_point(|s| s.addr <= addr);
    let below = || {
        syms[..end]
            .iter()
            .rev()
            .take(MAX_SCAN)
            .filter(|s| !kdive_debuginfo::is_noise(&s.name))
    };
    let best = match k.module_at(addr) {
        // gdb knows no module's symbols: crash looks among the module's
        // own, the first of those at the address, else the closest below.
        Some(m) => {
            let mine = |s: &&Symbol| s.module.as_deref() == Some(m.name.as_str());
            let exact = below().filter(mine).take_while(|s| s.addr == addr).last();
            exact.or_else(|| below().find(mine))?
        }
        None => {
            let mut zero = None;
            let mut sized = None;
            for s in below() {
                if s.size == 0 {
                    zero.get_or_insert(s);
                    continue;
                }
                sized = Some(s);
                break;
            }
            match sized {
                Some(s) if s.contains(addr) => s,
                _ => zero.filter(|z| k.is_code(z))?,
            }
        }
    };
    let off = addr - best.addr;
    if off != 0 && guessed_size_in_rodata(k, addr) {
        return None;
    }
    Some(if off == 0 {
        best.name.clone()
    } else {
        format!("{}+{off}", best.name)
    })
}

/// Whether `addr` is in the kernel's read-only data while the symbols'
/// sizes are guesses: kallsyms gives none, so a symbol seems to run to the
/// next one and would swallow the string literals after it, which have no
/// symbol of their own (`<SIGMA2+79278> "perf_event"`). gdb, with the
/// vmlinux's sizes, names none of them.
fn guessed_size_in_rodata(k: &Kernel, addr: u64) -> bool {
    if k.symbol_source() != SymbolSource::Kallsyms {
        return false;
    }
    match (k.symbol("__start_rodata"), k.symbol("__end_rodata")) {
        (Some(start), Some(end)) => (start..end).contains(&addr),
        _ => false,
    }
}

/// The value of type `ty` in `data` (read at `addr`), as gdb prints it
/// for crash; `hex` for crash's `-x`.
pub fn format_value(
    k: &Kernel,
    src: &dyn TypeSource,
    ty: TypeId,
    data: &[u8],
    addr: u64,
    hex: bool,
) -> String {
    let symbol = |a: u64| gdb_symbol(k, a);
    let read = |a: u64, buf: &mut [u8]| k.read(a, buf).map_err(|_| a);
    let p = Printer {
        src,
        hex,
        symbol: &symbol,
        read: &read,
    };
    p.value(ty, data, addr, 0)
}
