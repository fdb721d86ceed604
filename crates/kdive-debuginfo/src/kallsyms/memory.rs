//! Reading kernel memory for the kallsyms decoder: in big chunks, since a
//! dump reader pays per call (a page-cache lookup, maybe a decompression),
//! and tolerant of an unreadable tail, since the length of the names table
//! is only known once it has been walked.

use super::KallsymsError;

/// The error a memory reader gives, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A reader of kernel virtual memory.
pub type ReadFn<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), BoxError> + 'a;

/// How much of a table is read at once.
const CHUNK: usize = 256 << 10;
/// The granularity of retries after a failed chunk.
pub const PAGE: u64 = 4096;

pub struct Memory<'a> {
    read: &'a mut ReadFn<'a>,
}

impl<'a> Memory<'a> {
    pub fn new(read: &'a mut ReadFn<'a>) -> Self {
        Memory { read }
    }

    /// Exactly `len` bytes at `addr`.
    pub fn exact(&mut self, what: &'static str, addr: u64, len: usize) -> Result<Vec<u8>, KallsymsError> {
        let mut buf = vec![0u8; len];
        (self.read)(addr, &mut buf).map_err(|source| KallsymsError::Read { what, addr, source })?;
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
        if (self.read)(addr, &mut buf).is_ok() {
            return (buf, vec![true; count as usize]);
        }
        let mut good = Vec::with_capacity(count as usize);
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let n = ((PAGE - a % PAGE) as usize).min(len - done);
            let ok = (self.read)(a, &mut buf[done..done + n]).is_ok();
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
    pub fn prefix(&mut self, what: &'static str, addr: u64, len: usize) -> Result<Vec<u8>, KallsymsError> {
        let mut buf = vec![0u8; len];
        let Err(first) = (self.read)(addr, &mut buf) else {
            return Ok(buf);
        };
        let mut done = 0usize;
        while done < len {
            let a = addr + done as u64;
            let n = ((PAGE - a % PAGE) as usize).min(len - done);
            if (self.read)(a, &mut buf[done..done + n]).is_err() {
                break;
            }
            done += n;
        }
        if done == 0 {
            return Err(KallsymsError::Read { what, addr, source: first });
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
    pub fn want(&mut self, mem: &mut Memory<'_>, len: usize) -> Result<(), KallsymsError> {
        while self.bytes.len() < len {
            let at = self.addr + self.bytes.len() as u64;
            if self.ended {
                return Err(KallsymsError::Read {
                    what: self.what,
                    addr: at,
                    source: "the memory before it was readable, this page is not".into(),
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
