//! Write a dump as a kdump-compressed file (header version 6), with the
//! page compression of one's choice, snappy and zstd included.
//!
//! Layout as makedumpfile writes it: header block, sub-header blocks (the
//! sub-header, VMCOREINFO and the ELF notes), the two bitmaps, the page
//! descriptors, the page data. Room for a descriptor is reserved for every
//! page of the source, so the pass over the pages is single and memory is
//! bounded by the bitmaps; slots of pages left out stay unused at the end of
//! the descriptor area, where no reader looks.

use std::io::{self, Seek, SeekFrom, Write};

use crate::compress::{compress, Compression};
use crate::kdump::{dh, sh, PAGE_DESC_SIZE, SIGNATURE};
use crate::{Dump, Utsname};

/// makedumpfile's dump-level bit for zero pages.
pub const DL_EXCLUDE_ZERO: i32 = 1;

/// How to write.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub compression: Compression,
    /// Leave out pages that are all zeros (makedumpfile's dump level bit 1).
    pub exclude_zero: bool,
}

/// What was written.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteStats {
    /// Pages written.
    pub pages: u64,
    /// Pages left out because they were zero.
    pub zero_excluded: u64,
    /// Pages of the source that could not be read (damaged), left out.
    pub unreadable: u64,
    /// Bytes of the output file.
    pub bytes: u64,
}

/// Write `dump` to `out` as a kdump-compressed file.
pub fn write_kdump<W: Write + Seek>(
    dump: &Dump,
    opts: WriteOptions,
    out: &mut W,
) -> io::Result<WriteStats> {
    if opts.compression == Compression::Lzo {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "writing LZO pages is not supported (choose none, zlib, snappy or zstd)",
        ));
    }
    let bs = dump.page_size();
    let max_mapnr = dump.max_pfn();
    let vmcoreinfo = dump.vmcoreinfo_raw().unwrap_or_default().to_vec();
    let notes = dump.notes_raw().to_vec();

    // Sub-header area: the sub-header, then VMCOREINFO, then the notes.
    let vmcoreinfo_at = bs + sh::SIZE as u64;
    let notes_at = vmcoreinfo_at + vmcoreinfo.len() as u64;
    let sub_hdr_blocks =
        (sh::SIZE as u64 + vmcoreinfo.len() as u64 + notes.len() as u64).div_ceil(bs);
    // Each bitmap, rounded up to whole blocks.
    let bitmap_len = max_mapnr.div_ceil(8).div_ceil(bs).max(1) * bs;
    let bitmap_at = (1 + sub_hdr_blocks) * bs;
    let desc_at = bitmap_at + 2 * bitmap_len;
    let present = dump.present_pages();
    let mut data_at = desc_at + present * PAGE_DESC_SIZE;

    // A damaged header can claim memory up to 2^64: allocate the bitmaps
    // only if the system can, and say so otherwise.
    let mut bitmap1 = zeroed(bitmap_len)?;
    let mut bitmap2 = zeroed(bitmap_len)?;
    let set = |b: &mut [u8], pfn: u64| b[(pfn / 8) as usize] |= 1 << (pfn % 8);

    // RAM pages: what the source held or excluded, range by range.
    for r in dump.memory_ranges() {
        let end = r.end.div_ceil(bs).min(max_mapnr);
        set_range(&mut bitmap1, (r.start / bs).min(end), end);
    }

    let mut stats = WriteStats::default();
    let mut out = Positioned {
        out,
        pos: None,
        end: 0,
    };
    let mut page = vec![0u8; bs as usize];
    let mut zero_page_at: Option<u64> = None;
    let mut descs = io::BufWriter::new(Vec::with_capacity(1 << 16));
    let mut desc_cursor = desc_at;
    for pfn in dump.present_pfns() {
        if dump.read_page(pfn, &mut page).is_err() {
            stats.unreadable += 1;
            continue;
        }
        let zero = page.iter().all(|&b| b == 0);
        if zero && opts.exclude_zero {
            stats.zero_excluded += 1;
            continue;
        }
        let (offset, size, flags) = if zero {
            // One copy of the zero page serves every zero page.
            let at = match zero_page_at {
                Some(at) => at,
                None => {
                    out.write_at(data_at, &page)?;
                    zero_page_at = Some(data_at);
                    data_at += bs;
                    data_at - bs
                }
            };
            (at, bs as u32, 0)
        } else {
            let at = data_at;
            let (size, flags) = match compress(opts.compression, &page) {
                Some(c) => {
                    out.write_at(at, &c)?;
                    (c.len() as u32, opts.compression.flag())
                }
                None => {
                    out.write_at(at, &page)?;
                    (bs as u32, 0)
                }
            };
            data_at += size as u64;
            (at, size, flags)
        };
        set(&mut bitmap2, pfn);
        let mut d = [0u8; PAGE_DESC_SIZE as usize];
        d[0..8].copy_from_slice(&offset.to_le_bytes());
        d[8..12].copy_from_slice(&size.to_le_bytes());
        d[12..16].copy_from_slice(&flags.to_le_bytes());
        descs.write_all(&d)?;
        if descs.get_ref().len() >= 1 << 16 {
            flush_descs(&mut out, &mut descs, &mut desc_cursor)?;
        }
        stats.pages += 1;
    }
    flush_descs(&mut out, &mut descs, &mut desc_cursor)?;

    // Headers and bitmaps last: they are known now.
    let source_level = dump.dump_level().unwrap_or(0);
    let level = source_level
        | if opts.exclude_zero {
            DL_EXCLUDE_ZERO
        } else {
            0
        };
    let header = header_block(dump, opts, bs, sub_hdr_blocks, bitmap_len, max_mapnr);
    let mut sub = vec![0u8; sh::SIZE];
    put64(&mut sub, sh::PHYS_BASE, dump.phys_base().unwrap_or(0));
    put32(&mut sub, sh::DUMP_LEVEL, level as u32);
    put64(
        &mut sub,
        sh::OFFSET_VMCOREINFO,
        if vmcoreinfo.is_empty() {
            0
        } else {
            vmcoreinfo_at
        },
    );
    put64(&mut sub, sh::SIZE_VMCOREINFO, vmcoreinfo.len() as u64);
    put64(
        &mut sub,
        sh::OFFSET_NOTE,
        if notes.is_empty() { 0 } else { notes_at },
    );
    put64(&mut sub, sh::SIZE_NOTE, notes.len() as u64);
    put64(&mut sub, sh::MAX_MAPNR_64, max_mapnr);
    let _ = (
        sh::START_PFN_64,
        sh::END_PFN_64,
        sh::SPLIT,
        sh::START_PFN,
        sh::END_PFN,
    );
    out.write_at(0, &header)?;
    out.write_at(bs, &sub)?;
    out.write_at(vmcoreinfo_at, &vmcoreinfo)?;
    out.write_at(notes_at, &notes)?;
    out.write_at(bitmap_at, &bitmap1)?;
    out.write_at(bitmap_at + bitmap_len, &bitmap2)?;
    // The file covers the whole descriptor area, even when pages left out
    // left its last slots unwritten (a seek alone would not extend it).
    let end = data_at.max(desc_at + present * PAGE_DESC_SIZE);
    if out.end < end {
        out.write_at(end - 1, &[0])?;
    }
    out.out.flush()?;
    stats.bytes = end;
    Ok(stats)
}

/// A writer that knows where it is, and seeks only to go elsewhere: a
/// `BufWriter` flushes its buffer on every seek, even to where it already
/// is, which made one write and one seek system call per page.
struct Positioned<'a, W: Write + Seek> {
    out: &'a mut W,
    pos: Option<u64>,
    /// One past the last byte written.
    end: u64,
}

impl<W: Write + Seek> Positioned<'_, W> {
    fn write_at(&mut self, at: u64, data: &[u8]) -> io::Result<()> {
        if self.pos != Some(at) {
            // Unknown after a failed write: seek again next time.
            self.pos = None;
            self.out.seek(SeekFrom::Start(at))?;
        }
        self.pos = None;
        self.out.write_all(data)?;
        self.pos = Some(at + data.len() as u64);
        self.end = self.end.max(at + data.len() as u64);
        Ok(())
    }
}

fn flush_descs<W: Write + Seek>(
    out: &mut Positioned<'_, W>,
    descs: &mut io::BufWriter<Vec<u8>>,
    cursor: &mut u64,
) -> io::Result<()> {
    descs.flush()?;
    let buf = descs.get_mut();
    out.write_at(*cursor, buf)?;
    *cursor += buf.len() as u64;
    buf.clear();
    Ok(())
}

fn header_block(
    dump: &Dump,
    opts: WriteOptions,
    bs: u64,
    sub_hdr_blocks: u64,
    bitmap_len: u64,
    max_mapnr: u64,
) -> Vec<u8> {
    let mut h = vec![0u8; bs as usize];
    h[..8].copy_from_slice(SIGNATURE);
    put32(&mut h, dh::VERSION, 6);
    let uts = utsname(dump);
    for (i, field) in [
        &uts.sysname,
        &uts.nodename,
        &uts.release,
        &uts.version,
        &uts.machine,
        &uts.domainname,
    ]
    .iter()
    .enumerate()
    {
        let at = dh::UTSNAME + i * dh::UTS_FIELD;
        let b = field.as_bytes();
        let n = b.len().min(dh::UTS_FIELD - 1);
        h[at..at + n].copy_from_slice(&b[..n]);
    }
    put64(&mut h, dh::TIMESTAMP, dump.crash_time().unwrap_or(0) as u64);
    put32(&mut h, dh::STATUS, opts.compression.flag());
    put32(&mut h, dh::BLOCK_SIZE, bs as u32);
    put32(&mut h, dh::SUB_HDR_SIZE, sub_hdr_blocks as u32);
    put32(&mut h, dh::BITMAP_BLOCKS, (2 * bitmap_len / bs) as u32);
    put32(&mut h, dh::MAX_MAPNR, max_mapnr.min(u32::MAX as u64) as u32);
    let _ = (
        dh::TOTAL_RAM_BLOCKS,
        dh::DEVICE_BLOCKS,
        dh::WRITTEN_BLOCKS,
        dh::CURRENT_CPU,
    );
    put32(&mut h, dh::NR_CPUS, dump.nr_cpus() as u32);
    h
}

/// The `utsname` of the header: the source's kdump header's; else the
/// kernel's own `init_uts_ns.name`, read where VMCOREINFO and the ELF
/// segments put it (makedumpfile reads it from memory too); else one made
/// of what is known. It matters: libkdumpfile (drgn) takes the architecture
/// from the header's utsname, and trusts it only when sysname is "Linux"
/// and release, version and machine are all set.
fn utsname(dump: &Dump) -> Utsname {
    if let Some(u) = dump.utsname() {
        return u.clone();
    }
    if let Some(u) = kernel_utsname(dump) {
        return u;
    }
    Utsname {
        sysname: "Linux".into(),
        release: dump.release().unwrap_or_else(|| "unknown".into()),
        version: "unknown".into(),
        machine: dump.machine().unwrap_or("x86_64").into(),
        ..Default::default()
    }
}

/// `init_uts_ns.name` from memory, if the ELF segments map its address and
/// what is there is the kernel's (its release is VMCOREINFO's).
fn kernel_utsname(dump: &Dump) -> Option<Utsname> {
    let vi = dump.vmcoreinfo()?;
    let vaddr = vi
        .symbol("init_uts_ns")?
        .checked_add(vi.decimal("OFFSET(uts_namespace.name)")?)?;
    let len = 6 * dh::UTS_FIELD as u64;
    let load = dump.loads().iter().find(|l| {
        vaddr >= l.vaddr
            && vaddr
                .checked_add(len)
                .is_some_and(|end| end <= l.vaddr + l.memsz)
    })?;
    let mut raw = vec![0u8; len as usize];
    dump.read_phys(load.paddr + (vaddr - load.vaddr), &mut raw)
        .ok()?;
    let mut fields = raw.chunks(dh::UTS_FIELD).map(|f| {
        let end = f.iter().position(|&b| b == 0)?;
        String::from_utf8(f[..end].to_vec()).ok()
    });
    let mut next = || fields.next().flatten();
    let u = Utsname {
        sysname: next()?,
        nodename: next()?,
        release: next()?,
        version: next()?,
        machine: next()?,
        domainname: next()?,
    };
    let sane = u.sysname == "Linux" && !u.version.is_empty() && !u.machine.is_empty();
    (sane && vi.get("OSRELEASE") == Some(u.release.as_str())).then_some(u)
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// A zeroed buffer of `len` bytes, or an error when it cannot be had.
fn zeroed(len: u64) -> io::Result<Vec<u8>> {
    let too_big = || {
        io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("the dump's memory needs bitmaps of {len} bytes, more than can be allocated"),
        )
    };
    let n = usize::try_from(len).map_err(|_| too_big())?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| too_big())?;
    v.resize(n, 0);
    Ok(v)
}

/// Set bits `start..end`, whole bytes at a time where possible.
fn set_range(b: &mut [u8], start: u64, end: u64) {
    let mut p = start;
    while p < end && p % 8 != 0 {
        b[(p / 8) as usize] |= 1 << (p % 8);
        p += 1;
    }
    let whole = (end - p) / 8;
    b[(p / 8) as usize..(p / 8 + whole) as usize].fill(0xff);
    p += whole * 8;
    while p < end {
        b[(p / 8) as usize] |= 1 << (p % 8);
        p += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::set_range;

    #[test]
    fn ranges_of_bits() {
        let mut b = [0u8; 4];
        set_range(&mut b, 3, 21);
        assert_eq!(b, [0xf8, 0xff, 0x1f, 0]);
        let mut b = [0u8; 2];
        set_range(&mut b, 5, 6);
        assert_eq!(b, [0x20, 0]);
    }
}
