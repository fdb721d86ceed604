//! `bt -F`: a stack word as crash shows it, a symbol (`name+off`) when it
//! points into the kernel's symbols, else its hex value.

use kdive_kernel::Kernel;

/// One word for `bt -F`, 16 columns wide at least.
pub fn symbolic(k: &Kernel, v: u64) -> String {
    if in_symbol_range(k, v) && k.read(v, &mut [0u8; 1]).is_ok() {
        if let Some((sym, off)) = k.symbols().lookup(v) {
            let s = if off == 0 {
                sym.name.clone()
            } else {
                format!("{}+{off}", sym.name)
            };
            return format!("{s:<16}");
        }
    }
    if let Some(cache) = k.slab_cache_name(v) {
        return format!("{:<16}", format!("[{cache}]"));
    }
    format!("{v:016x}")
}

/// crash's `in_ksymbol_range()`: from the first kernel-half symbol to the
/// end of the last one.
fn in_symbol_range(k: &Kernel, addr: u64) -> bool {
    const KERNEL_HALF: u64 = 0xffff_8000_0000_0000;
    let syms = k.symbols();
    let first = syms.iter().find(|s| s.addr >= KERNEL_HALF).map(|s| s.addr);
    let last = syms.iter().next_back().map(|s| s.addr + s.size.max(1));
    matches!((first, last), (Some(a), Some(b)) if addr >= a && addr < b)
}
