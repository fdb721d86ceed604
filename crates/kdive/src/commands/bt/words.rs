//! `bt -F`: a stack word as crash shows it, a symbol (`name+off`) when it
//! points into the kernel's symbols, else its hex value.

use kdive_kernel::Kernel;

/// One word for `bt -F`, 16 columns wide at least.
pub fn symbolic(k: &Kernel, v: u64) -> String {
    if k.in_symbol_range(v) && k.read(v, &mut [0u8; 1]).is_ok() {
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
