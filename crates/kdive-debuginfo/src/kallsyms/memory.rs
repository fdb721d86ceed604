//! Reading kernel memory for the kallsyms decoder: in big chunks, since a
//! dump reader pays per call (a page-cache lookup, maybe a decompression),
//! and tolerant of an unreadable tail, since the length of the names table
//! is only known once it has been walked.

use kdive_dump::{MemError, Memory};

use super::KallsymsError;

/// How much of a table is read at once.
const CHUNK: usize = 256 << 10;
/// The granularity of retries after a failed chunk.
pub const PAGE: u64 = 4096;

pub struct Reader<'a> {
    mem: &'a dyn Memory,
}

impl<'a> Reader<'a> {
    pub fn new(mem: &'a dyn Memory) -> Self {
        Reader { mem }
    }

    /// Exactly `len` bytes at `addr`.
    pub fn exact(
        &mut self,
        what: &'static str,
        addr: u64,
        len: usize,
    ) -> Result<Vec<u8>, KallsymsError> {
        let mut buf = vec![0u8; len];
        self.mem
            .read(addr, &mut buf)
            .map_err(|source| KallsymsError::Read { what, addr, source })?;
        Ok(buf)
    }

    pub fn u32(&mut self, what: &'static str, addr: u64) -> Result<u32, KallsymsError> {
        let b = self.exact(what, addr, 4)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    pub fn u64(&mut self, what: &'static str, addr: u64) -> Result<u64, KallsymsError> {
        let b = self.exact(what, addr, 8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// `len` bytes at `addr`, and for each page of them whether it could be
    /// read (zeros where not): for scans, which skip what a dump left out.
    pub fn pages(&mut self, addr: u64, len: usize) -> (Vec<u8>, Vec<bool>) {
        let mut buf = vec![0u8; len];
        let first = addr - addr % PAGE;
        let count = (addr + len as u64).div_ceil(PAGE) - first / PAGE;
        if self.mem.read(addr, &mut buf).is_ok() {
            return (buf, vec![true; count as usize]);
        }
        let mut good = Vec::with_capacity(count as usize);
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let n = ((PAGE - a % PAGE) as usize).min(len - done);
            let ok = self.mem.read(a, &mut buf[done..done + n]).is_ok();
            if !ok {
                buf[done..done + n].fill(0);
            }
            good.push(ok);
            done += n;
        }
        (buf, good)
    }

    /// Up to `len` bytes at `addr`: all of them, or those before the first
    /// page that cannot be read (an error if that is the first one).
    pub fn prefix(
        &mut self,
        what: &'static str,
        addr: u64,
        len: usize,
    ) -> Result<Vec<u8>, KallsymsError> {
        let mut buf = vec![0u8; len];
        let Err(first) = self.mem.read(addr, &mut buf) else {
            return Ok(buf);
        };
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let n = ((PAGE - a % PAGE) as usize).min(len - done);
            if self.mem.read(a, &mut buf[done..done + n]).is_err() {
                break;
            }
            done += n;
        }
        if done == 0 {
            return Err(KallsymsError::Read {
                what,
                addr,
                source: first,
            });
        }
        buf.truncate(done);
        Ok(buf)
    }
}

/// A table read from kernel memory as far as it is used.
pub struct Table {
    what: &'static str,
    addr: u64,
    pub bytes: Vec<u8>,
    /// The memory after `bytes` could not be read.
    ended: bool,
}

impl Table {
    pub fn new(what: &'static str, addr: u64) -> Table {
        Table {
            what,
            addr,
            bytes: Vec::new(),
            ended: false,
        }
    }

    /// Make `bytes` at least `len` long, reading on in chunks.
    pub fn want(&mut self, mem: &mut Reader<'_>, len: usize) -> Result<(), KallsymsError> {
        while self.bytes.len() < len {
            let at = self.addr + self.bytes.len() as u64;
            if self.ended {
                // The page after the bytes read did not read: read it again
                // for the reason.
                let source = match mem.mem.read(at, &mut [0u8; 1]) {
                    Err(e) => e,
                    Ok(()) => MemError::Invalid {
                        vaddr: at,
                        why: "the page did not read a moment before".into(),
                    },
                };
                return Err(KallsymsError::Read {
                    what: self.what,
                    addr: at,
                    source,
                });
            }
            let n = CHUNK.max(len - self.bytes.len());
            let more = mem.prefix(self.what, at, n)?;
            self.ended = more.len() < n;
            self.bytes.extend_from_slice(&more);
        }
        Ok(())
    }
}
