//! The CPU's interrupt vectors (`idt_table`) and the kernel's softirq
//! handlers (`softirq_vec`).

use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// One IDT gate: its handler and its IST slot (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    pub handler: u64,
    pub ist: u8,
}

impl Kernel {
    /// The 256 gates of `idt_table` (16-byte x86-64 gate descriptors: the
    /// handler's address in bits 0-15 and 48-95, the IST slot in bits 32-34).
    pub fn idt_gates(&self) -> Result<Vec<Gate>, Error> {
        let idt = self
            .symbol("idt_table")
            .ok_or_else(|| Error::no_symbol("idt_table"))?;
        let mut table = vec![0u8; 256 * 16];
        self.read(idt, &mut table)
            .map_err(|e| Error::read("idt_table", e))?;
        Ok(table
            .chunks_exact(16)
            .map(|g| {
                let lo = u64::from_le_bytes(g[..8].try_into().unwrap_or_default());
                let hi = u64::from_le_bytes(g[8..].try_into().unwrap_or_default());
                Gate {
                    handler: (hi << 32) | (lo & 0xffff) | ((lo >> 32) & 0xffff_0000),
                    ist: ((lo >> 32) & 7) as u8,
                }
            })
            .collect())
    }

    /// The `action` of each `softirq_vec[]` entry (`NR_SOFTIRQS` of them),
    /// 0 for none.
    pub fn softirq_actions(&self) -> Result<Vec<u64>, Error> {
        let l = Layouts::of(self)?;
        let vec = self
            .symbol("softirq_vec")
            .ok_or_else(|| Error::no_symbol("softirq_vec"))?;
        let n = l
            .enumerator("NR_SOFTIRQS")
            .filter(|&n| n > 0 && n <= 64)
            .ok_or_else(|| Error::Undetermined {
                what: "softirq_vec array length".into(),
                source: None,
            })?;
        let size = l.size("softirq_action")?;
        let action = l.off("softirq_action", "action")?;
        (0..n as u64)
            .map(|i| {
                self.read_u64(vec + i * size + action)
                    .map_err(|e| Error::read(format!("softirq_vec[{i}]"), e))
            })
            .collect()
    }
}
