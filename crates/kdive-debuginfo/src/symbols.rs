//! A kernel's symbol table: address and name lookups over symbols from a
//! vmlinux, from kallsyms in the dump, or from modules.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::OnceLock;

/// One symbol, as `nm` would list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub addr: u64,
    /// Size in bytes; 0 when unknown (assembler labels; the last kallsyms
    /// symbol before a gap).
    pub size: u64,
    /// `nm`'s letter: `T`/`t` text, `D`/`d` data, `B`/`b` bss, `R`/`r`
    /// read-only data, `A`/`a` absolute, `W`/`w` weak, `V`/`v` weak object...
    /// Upper case is a global symbol, lower case a local one.
    pub kind: char,
    /// The module the symbol belongs to; `None` for the kernel itself.
    pub module: Option<String>,
}

impl Symbol {
    /// Global binding: an upper-case kind other than the weak ones.
    pub fn is_global(&self) -> bool {
        self.kind.is_ascii_uppercase() && !self.is_weak()
    }

    pub fn is_weak(&self) -> bool {
        matches!(self.kind, 'W' | 'w' | 'V' | 'v')
    }

    /// Code: `T`/`t`, or a weak symbol that is not an object (`W`).
    pub fn is_text(&self) -> bool {
        matches!(self.kind, 'T' | 't' | 'W')
    }

    /// Whether `addr` is inside the symbol (never, when its size is unknown).
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.addr && addr - self.addr < self.size
    }

    /// The name without the suffixes GCC and LLVM give clones of a function
    /// (`.isra.0`, `.part.1`, `.llvm.123`), as crash prints it: cut at the
    /// first of `.isra.`, `.part.`, `.llvm.` found, tried in that order
    /// (`strip_symbol_end`), so `f.part.0.isra.0` is `f.part.0`.
    pub fn base_name(&self) -> &str {
        [".isra.", ".part.", ".llvm."]
            .iter()
            .find_map(|s| self.name.find(s))
            .map_or(&self.name, |i| &self.name[..i])
    }

    /// Whether the symbol names an address in the kernel's address space
    /// (one [`SymbolTable::lookup`] may return): not an absolute value, not
    /// undefined, not debugging.
    fn is_addressable(&self) -> bool {
        !matches!(self.kind, 'A' | 'a' | 'U' | 'w' | 'v' | 'N' | 'n' | '?')
    }

    /// Whether KASLR moves the symbol: absolute symbols and the per-CPU
    /// offsets of x86-64 (in the lower half, from 0) stay where they are.
    fn is_relocatable(&self) -> bool {
        !matches!(self.kind, 'A' | 'a' | 'U') && self.addr >= LOWEST_KERNEL_ADDR
    }

    /// Preference among symbols of the same name or address: global, then
    /// weak, then local; text before data.
    fn rank(&self) -> u8 {
        let binding = if self.is_global() {
            0
        } else if self.is_weak() {
            2
        } else {
            4
        };
        binding + u8::from(!self.is_text())
    }
}

/// Kernel addresses are in the upper half of a 64-bit address space.
const LOWEST_KERNEL_ADDR: u64 = 1 << 63;

/// How far past a symbol's start [`SymbolTable::lookup`] still names an
/// address by it when the symbol's size does not cover the address (labels
/// of size 0, padding after a function). drgn uses the same bound.
pub const MAX_LOOKUP_DISTANCE: u64 = 0x10000;

/// How many symbols below the closest one `lookup` looks at for one that
/// contains the address (a large object with smaller labels inside).
const CONTAINER_WINDOW: usize = 64;

/// Symbols sorted by address, with lookups by address and by name.
#[derive(Debug, Clone, Default)]
pub struct SymbolTable {
    syms: Vec<Symbol>,
    /// `(hash of the name, index into syms)` sorted by hash then rank, built
    /// on first use: a few milliseconds, where sorting the names takes tens.
    by_hash: OnceLock<Vec<(u64, u32)>>,
    /// Indices into `syms` sorted by name, for prefix search, built on
    /// first use.
    by_name: OnceLock<Vec<u32>>,
}

impl SymbolTable {
    /// A table of `syms`, in any order.
    pub fn new(syms: Vec<Symbol>) -> SymbolTable {
        SymbolTable {
            syms: sorted_by_addr(syms),
            by_hash: OnceLock::new(),
            by_name: OnceLock::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.syms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    /// Every symbol, by increasing address.
    pub fn iter(&self) -> std::slice::Iter<'_, Symbol> {
        self.syms.iter()
    }

    /// The symbols as a slice sorted by address.
    pub fn as_slice(&self) -> &[Symbol] {
        &self.syms
    }

    /// The symbols whose address is in `r`, by increasing address.
    pub fn range(&self, r: Range<u64>) -> &[Symbol] {
        let lo = self.syms.partition_point(|s| s.addr < r.start);
        let hi = self.syms.partition_point(|s| s.addr < r.end).max(lo);
        &self.syms[lo..hi]
    }

    /// The symbol named `name`: of several, a global one first, then a weak
    /// one, then a local one; text before data.
    pub fn by_name(&self, name: &str) -> Option<&Symbol> {
        self.all_by_name(name).next()
    }

    /// Every symbol named `name`, preferred first (see [`Self::by_name`]).
    pub fn all_by_name<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = &'a Symbol> + use<'a, 'n> {
        let idx = self.hash_index();
        let h = name_hash(name);
        let lo = idx.partition_point(|&(x, _)| x < h);
        idx[lo..]
            .iter()
            .take_while(move |&&(x, _)| x == h)
            .map(|&(_, i)| &self.syms[i as usize])
            .filter(move |s| s.name == name)
    }

    /// Symbols whose name starts with `prefix`, by name (for completion).
    pub fn with_prefix<'a, 'p>(
        &'a self,
        prefix: &'p str,
    ) -> impl Iterator<Item = &'a Symbol> + use<'a, 'p> {
        let idx = self.name_index();
        let lo = idx.partition_point(|&i| self.syms[i as usize].name.as_str() < prefix);
        idx[lo..]
            .iter()
            .map(|&i| &self.syms[i as usize])
            .take_while(move |s| s.name.starts_with(prefix))
    }

    /// The symbol an address belongs to and the offset into it, as crash's
    /// `sym` prints `schedule+16`: the closest symbol at or below `addr`
    /// (of several at one address, as [`Self::by_name`] prefers) when it
    /// contains `addr` or starts less than [`MAX_LOOKUP_DISTANCE`] below it;
    /// else a nearby larger symbol that contains `addr`.
    pub fn lookup(&self, addr: u64) -> Option<(&Symbol, u64)> {
        let end = self.syms.partition_point(|s| s.addr <= addr);
        if let Some(exact) = self.exact(addr, end) {
            return Some((exact, 0));
        }
        let below = self.syms[..end].iter().rev().filter(|s| s.is_addressable());
        let mut nearest: Option<&Symbol> = None;
        for s in below.take(CONTAINER_WINDOW) {
            match nearest {
                None => nearest = Some(s),
                Some(n) if s.addr == n.addr => {
                    if better_at_addr(s, n, addr) {
                        nearest = Some(s)
                    }
                }
                Some(n) => {
                    if n.contains(addr) || addr - n.addr < MAX_LOOKUP_DISTANCE {
                        return Some((n, addr - n.addr));
                    }
                    if s.contains(addr) {
                        return Some((s, addr - s.addr));
                    }
                }
            }
        }
        nearest
            .filter(|n| n.contains(addr) || addr - n.addr < MAX_LOOKUP_DISTANCE)
            .map(|n| (n, addr - n.addr))
    }

    /// Move the symbols by a KASLR slide (`KERNELOFFSET`), wrapping. Absolute
    /// symbols and per-CPU offsets (lower half) stay put.
    pub fn relocate(&mut self, offset: u64) {
        if offset == 0 {
            return;
        }
        for s in self.syms.iter_mut().filter(|s| s.is_relocatable()) {
            s.addr = s.addr.wrapping_add(offset);
        }
        // The indexes hold positions: only a new order invalidates them.
        if !self.syms.is_sorted_by_key(|s| s.addr) {
            self.syms = sorted_by_addr(std::mem::take(&mut self.syms));
            self.by_hash = OnceLock::new();
            self.by_name = OnceLock::new();
        }
    }

    /// Add another table's symbols (a module's to the kernel's).
    pub fn merge(&mut self, other: SymbolTable) {
        let mut syms = std::mem::take(&mut self.syms);
        syms.extend(other.syms);
        self.syms = sorted_by_addr(syms);
        self.by_hash = OnceLock::new();
        self.by_name = OnceLock::new();
    }

    fn hash_index(&self) -> &[(u64, u32)] {
        self.by_hash.get_or_init(|| {
            // The rank goes into the key: reading symbols while sorting
            // would cost a cache miss per comparison.
            let mut idx: Vec<(u64, u8, u32)> = (self.syms.iter().enumerate())
                .map(|(i, s)| (name_hash(&s.name), s.rank(), i as u32))
                .collect();
            idx.sort_unstable();
            idx.into_iter().map(|(h, _, i)| (h, i)).collect()
        })
    }

    fn name_index(&self) -> &[u32] {
        self.by_name.get_or_init(|| {
            // Sorting on the names' first bytes as an integer first keeps
            // most comparisons off the strings themselves.
            let mut idx: Vec<(u64, u32)> = (self.syms.iter().enumerate())
                .map(|(i, s)| (name_key(&s.name), i as u32))
                .collect();
            idx.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0).then_with(|| {
                    self.syms[a.1 as usize]
                        .name
                        .cmp(&self.syms[b.1 as usize].name)
                })
            });
            idx.into_iter().map(|(_, i)| i).collect()
        })
    }
}

/// FNV-1a: fast on short names, and collisions only cost a comparison.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A name's first 8 bytes, big-endian: integers that sort as the names do.
fn name_key(name: &str) -> u64 {
    let mut b = [0u8; 8];
    let n = name.len().min(8);
    b[..n].copy_from_slice(&name.as_bytes()[..n]);
    u64::from_be_bytes(b)
}

/// Symbols sorted by address, those at one address in their first order
/// (for kallsyms, the kernel's own). Sorting keys then moving each symbol
/// once is faster than sorting the symbols themselves.
fn sorted_by_addr(syms: Vec<Symbol>) -> Vec<Symbol> {
    if syms.is_sorted_by_key(|s| s.addr) {
        return syms;
    }
    let mut order: Vec<(u64, u32)> = (syms.iter().enumerate())
        .map(|(i, s)| (s.addr, i as u32))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<Symbol>> = syms.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&(_, i)| slots[i as usize].take())
        .collect()
}

impl SymbolTable {
    /// Of the symbols exactly at `addr` (they end at `end`), the one crash's
    /// `value_search` names: the first in `nm -n` order (by name), passing
    /// over syscall aliases (`SyS_*`) and region markers (`*_text_start`)
    /// when a real symbol shares the address.
    fn exact(&self, addr: u64, end: usize) -> Option<&Symbol> {
        let start = self.syms[..end].partition_point(|s| s.addr < addr);
        let mut at: Vec<&Symbol> = self.syms[start..end]
            .iter()
            .filter(|s| s.is_addressable())
            .collect();
        at.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        let alias = |s: &&Symbol| {
            s.name.starts_with("SyS_")
                || s.name.starts_with("compat_SyS_")
                || s.name.ends_with("_text_start")
        };
        at.iter().find(|s| !alias(s)).or(at.first()).copied()
    }
}

/// Of two symbols at one address, whether `a` names `addr` better than `b`.
fn better_at_addr(a: &Symbol, b: &Symbol, addr: u64) -> bool {
    match b.contains(addr).cmp(&a.contains(addr)) {
        Ordering::Less => true,
        Ordering::Greater => false,
        Ordering::Equal => a.rank() <= b.rank(),
    }
}

impl<'a> IntoIterator for &'a SymbolTable {
    type Item = &'a Symbol;
    type IntoIter = std::slice::Iter<'a, Symbol>;
    fn into_iter(self) -> Self::IntoIter {
        self.syms.iter()
    }
}

impl FromIterator<Symbol> for SymbolTable {
    fn from_iter<I: IntoIterator<Item = Symbol>>(iter: I) -> Self {
        SymbolTable::new(iter.into_iter().collect())
    }
}

/// Symbols both `nm`-based tools and crash leave out: compiler-local labels
/// (`.L*`), ARM mapping symbols (`$x`, `$d`), and lockdep's `__key.N`
/// statics (empty without lockdep, they alias real variables).
pub fn is_noise(name: &str) -> bool {
    name.is_empty()
        || name.starts_with(".L")
        || name.starts_with('$')
        || name
            .strip_prefix("__key")
            .is_some_and(|r| r.is_empty() || r.strip_prefix('.').is_some_and(is_digits))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
