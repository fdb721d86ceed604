//! Made-up memory for the walkers' tests: regions written by hand. A read
//! of a byte no region holds fails, as an address the dump lacks does; a
//! write outside every region makes a zeroed 4 KiB page for it.

use std::collections::BTreeMap;

use crate::memory::{MemError, Memory};

#[derive(Default, Clone)]
pub(crate) struct FakeMem {
    /// base -> bytes.
    regions: BTreeMap<u64, Vec<u8>>,
    /// Pages that read as missing even where a region covers them.
    holes: Vec<u64>,
}

impl FakeMem {
    /// A zeroed region of `len` bytes at `base`.
    pub fn region(&mut self, base: u64, len: usize) {
        self.regions.insert(base, vec![0; len]);
    }

    /// Take away the region that starts at `base`.
    pub fn remove_region(&mut self, base: u64) {
        self.regions.remove(&base);
    }

    /// Make the page holding `addr` unreadable (left out of the dump).
    pub fn hole(&mut self, addr: u64) {
        self.holes.push(addr & !0xfff);
    }

    fn byte(&self, a: u64) -> Option<u8> {
        if self.holes.contains(&(a & !0xfff)) {
            return None;
        }
        self.regions
            .range(..=a)
            .rev()
            .find_map(|(base, r)| r.get((a - base) as usize).copied())
    }

    fn byte_mut(&mut self, a: u64) -> &mut u8 {
        let held = self
            .regions
            .range(..=a)
            .rev()
            .find(|(base, r)| ((a - *base) as usize) < r.len())
            .map(|(base, _)| *base);
        let base = match held {
            Some(b) => b,
            None => {
                let page = a & !0xfff;
                self.regions.insert(page, vec![0; 4096]);
                page
            }
        };
        let r = self.regions.get_mut(&base).expect("the region just found");
        &mut r[(a - base) as usize]
    }

    pub fn write(&mut self, addr: u64, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            *self.byte_mut(addr + i as u64) = b;
        }
    }

    pub fn u64(&mut self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes());
    }

    pub fn u32(&mut self, addr: u64, v: u32) {
        self.write(addr, &v.to_le_bytes());
    }

    pub fn u16(&mut self, addr: u64, v: u16) {
        self.write(addr, &v.to_le_bytes());
    }

    pub fn u8(&mut self, addr: u64, v: u8) {
        self.write(addr, &[v]);
    }

    /// A NUL-terminated string.
    pub fn str(&mut self, addr: u64, s: &str) {
        self.write(addr, s.as_bytes());
        self.write(addr + s.len() as u64, &[0]);
    }
}

impl Memory for FakeMem {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemError> {
        for (i, b) in buf.iter_mut().enumerate() {
            let at = addr.wrapping_add(i as u64);
            *b = self.byte(at).ok_or_else(|| MemError::Invalid {
                vaddr: at,
                why: format!("no memory at {at:#x}"),
            })?;
        }
        Ok(())
    }

    fn read_cstr(&self, addr: u64, max: usize) -> Result<String, MemError> {
        let mut out = Vec::new();
        for i in 0..max as u64 {
            let mut b = [0u8];
            self.read(addr + i, &mut b)?;
            if b[0] == 0 {
                break;
            }
            out.push(b[0]);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}
