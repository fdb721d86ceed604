//! Made-up memory for the walkers' tests: pages written by hand; reading a
//! page never written fails, as an address the dump lacks does.

use std::collections::HashMap;

use crate::modules::Memory;

#[derive(Default)]
pub(crate) struct FakeMem {
    pages: HashMap<u64, Vec<u8>>,
}

impl FakeMem {
    pub fn write(&mut self, addr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            let a = addr + i as u64;
            let page = self
                .pages
                .entry(a & !0xfff)
                .or_insert_with(|| vec![0; 4096]);
            page[(a & 0xfff) as usize] = *b;
        }
    }

    pub fn u64(&mut self, addr: u64, v: u64) {
        self.write(addr, &v.to_le_bytes());
    }

    pub fn u32(&mut self, addr: u64, v: u32) {
        self.write(addr, &v.to_le_bytes());
    }

    /// A NUL-terminated string.
    pub fn str(&mut self, addr: u64, s: &str) {
        self.write(addr, s.as_bytes());
        self.write(addr + s.len() as u64, &[0]);
    }
}

impl Memory for FakeMem {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr.wrapping_add(i as u64);
            let page = self
                .pages
                .get(&(a & !0xfff))
                .ok_or_else(|| format!("no memory at {a:#x}"))?;
            *b = page[(a & 0xfff) as usize];
        }
        Ok(())
    }

    fn read_cstr(&self, addr: u64, max: usize) -> Result<String, String> {
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
