//! What crash printed for a dump (`crash.txt`: each command's output after
//! a line `@@@ crash> COMMAND`), for comparison.

use std::path::Path;

/// The outputs of one crash session.
pub struct CrashTxt {
    text: String,
}

impl CrashTxt {
    /// Read `crash.txt`.
    pub fn read(path: &Path) -> CrashTxt {
        CrashTxt {
            text: std::fs::read_to_string(path).expect("crash.txt"),
        }
    }

    /// What `cmd` printed (a command's output may not end its last line, so
    /// sections are split at the marker wherever it is).
    pub fn output(&self, cmd: &str) -> Option<&str> {
        self.text.split("@@@ crash> ").find_map(|s| {
            let (line, rest) = s.split_once('\n')?;
            (line.trim_end() == cmd).then_some(rest)
        })
    }

    /// A `mach` field, hexadecimal (`KERNEL VIRTUAL BASE: ff29412bc0000000`).
    pub fn mach_hex(&self, field: &str) -> Option<u64> {
        self.output("mach")?.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == field).then(|| u64::from_str_radix(v.trim(), 16).ok())?
        })
    }

    /// `rd -64 SYMBOL N`: `(address, words)` per line.
    pub fn rd64(&self, sym: &str, n: usize) -> Vec<(u64, Vec<u64>)> {
        let Some(out) = self.output(&format!("rd -64 {sym} {n}")) else {
            return Vec::new();
        };
        out.lines()
            .filter_map(|l| {
                let (addr, rest) = l.split_once(":  ")?;
                let words = rest
                    .split_whitespace()
                    .take(2)
                    .map_while(|w| {
                        (w.len() == 16)
                            .then(|| u64::from_str_radix(w, 16).ok())
                            .flatten()
                    })
                    .collect();
                Some((u64::from_str_radix(addr, 16).ok()?, words))
            })
            .collect()
    }

    /// `ptov PHYS`: the virtual address crash gave.
    pub fn ptov(&self, phys: u64) -> Option<u64> {
        let out = self.output(&format!("ptov {phys:#x}"))?;
        let line = out.lines().nth(1)?;
        u64::from_str_radix(line.split_whitespace().next()?, 16).ok()
    }

    /// `vtop SYMBOL`: the `   PGD: a => b` lines, if crash could walk it.
    pub fn vtop_lines(&self, what: &str) -> Vec<String> {
        self.output(&format!("vtop {what}"))
            .map(|o| {
                o.lines()
                    .map(str::trim)
                    .filter(|l| {
                        ["PGD:", "P4D:", "PUD:", "PMD:", "PTE:", "PAGE:"]
                            .iter()
                            .any(|p| l.starts_with(p))
                    })
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}
