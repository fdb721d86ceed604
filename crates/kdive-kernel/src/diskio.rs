//! Disks and their requests in flight, as crash 8.0.2's `dev -d` counts
//! them: the disks of `block_class` (its devices of type `disk_type`, each
//! a `block_device.bd_device` whose `bd_disk` is the gendisk, or before
//! 5.11 the gendisk's own `part0.__dev`), and for each
//! blk-mq queue the busy tags of every hardware context whose request is
//! in flight on that queue, reads and writes apart.
//!
//! From 6.4 `struct class` has no `p`: the class's `subsys_private` is
//! found on `class_kset`. Where neither reads, the disks of the block
//! device inodes are used.

use crate::memory::{MemError, Memory};
use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// `MQ_RQ_IN_FLIGHT`.
const IN_FLIGHT: u32 = 1;
/// At most this many tags are looked at in one bitmap.
const MAX_TAGS: u64 = 1 << 20;

/// One disk's requests in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskIo {
    pub major: i32,
    pub gendisk: u64,
    pub name: String,
    /// `gendisk.queue`.
    pub queue: u64,
    pub read: u64,
    pub write: u64,
}

impl Kernel {
    /// Every disk but RAM and loop disks, in `block_class` order, with its
    /// requests in flight, and what could not be read.
    pub fn disk_io(&self) -> Result<(Vec<DiskIo>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let mut notices = Vec::new();
        let disks = match self.class_disks(&l, &mut notices) {
            Some(d) => d,
            None => self.inode_disks(&l, &mut notices),
        };
        let name_len = l.array_len("gendisk", "disk_name").unwrap_or(32) as usize;
        let mut out = Vec::new();
        for g in disks {
            let name = self
                .read_cstr(g + l.off("gendisk", "disk_name")?, name_len)
                .unwrap_or_default();
            if name.starts_with("ram") || name.starts_with("loop") {
                continue;
            }
            let queue = self.read_u64(g + l.off("gendisk", "queue")?).unwrap_or(0);
            let major = self.read_u32(g + l.off("gendisk", "major")?).unwrap_or(0) as i32;
            let (read, write) = match self.in_flight(&l, queue) {
                Ok(c) => c,
                Err(e) => {
                    notices.push(crate::Finding::unreadable(
                        queue,
                        format!("{name}: queue {queue:x}: {e}"),
                    ));
                    (0, 0)
                }
            };
            out.push(DiskIo {
                major,
                gendisk: g,
                name,
                queue,
                read,
                write,
            });
        }
        Ok((out, notices))
    }

    /// The gendisks of `block_class`'s devices of type `disk_type`.
    fn class_disks(&self, l: &Layouts, notices: &mut Vec<crate::Finding>) -> Option<Vec<u64>> {
        let class = self.symbol("block_class")?;
        let disk_type = self.symbol("disk_type")?;
        let sp = match l.off("class", "p") {
            Ok(p) => self.read_u64(class + p).ok()?,
            Err(_) => self.class_subsys(l, class, notices)?,
        };
        let head = sp + l.off("subsys_private", "klist_devices.k_list").ok()?;
        let n_node = l.off("klist_node", "n_node").ok()?;
        let n_klist = l.off("klist_node", "n_klist").ok()?;
        let knode = l.off("device_private", "knode_class").ok()?;
        let dev_off = l.off("device_private", "device").ok()?;
        let type_off = l.off("device", "type").ok()?;
        // A disk's device is its partition 0's: embedded in the gendisk
        // as `part0.__dev` (an `hd_struct`) before 5.11, a `block_device`
        // that points at its gendisk after.
        let disk_of: Box<dyn Fn(u64) -> Option<u64>> = match l.off("gendisk", "part0.__dev") {
            Ok(dev_in_disk) => Box::new(move |dev: u64| Some(dev.wrapping_sub(dev_in_disk))),
            Err(_) => {
                let bd_device = l.off("block_device", "bd_device").ok()?;
                let bd_disk = l.off("block_device", "bd_disk").ok()?;
                Box::new(move |dev: u64| self.read_u64(dev.wrapping_sub(bd_device) + bd_disk).ok())
            }
        };
        let mut out = Vec::new();
        for n in crate::tasks::list::list_nodes(self, head, "block_class devices", notices) {
            let kn = n.wrapping_sub(n_node);
            let read = |a: u64, notices: &mut Vec<crate::Finding>| {
                self.read_u64(a)
                    .map_err(|e| {
                        notices.push(crate::Finding::unreadable(
                            kn,
                            format!("block_class device node {kn:x}: {e}"),
                        ))
                    })
                    .ok()
            };
            // A dead node (its klist pointer's low bit set) is skipped.
            if read(kn + n_klist, notices).is_none_or(|k| k & 1 == 1) {
                continue;
            }
            let Some(dev) = read(kn.wrapping_sub(knode) + dev_off, notices) else {
                continue;
            };
            if read(dev + type_off, notices) != Some(disk_type) {
                continue;
            }
            if let Some(g) = disk_of(dev) {
                out.push(g);
            }
        }
        Some(out)
    }

    /// The `subsys_private` of class `class` on `class_kset` (6.4 on).
    fn class_subsys(
        &self,
        l: &Layouts,
        class: u64,
        notices: &mut Vec<crate::Finding>,
    ) -> Option<u64> {
        let kset = self.read_u64(self.symbol("class_kset")?).ok()?;
        let head = kset + l.off("kset", "list").ok()?;
        let entry = l.off("subsys_private", "subsys.kobj.entry").ok()?;
        let class_off = l.off("subsys_private", "class").ok()?;
        crate::tasks::list::list_nodes(self, head, "class_kset", notices)
            .into_iter()
            .map(|n| n.wrapping_sub(entry))
            .find(|&sp| self.read_u64(sp + class_off).ok() == Some(class))
    }

    /// The disks of the block device inodes, each once.
    fn inode_disks(&self, l: &Layouts, notices: &mut Vec<crate::Finding>) -> Vec<u64> {
        self.gendisks(l, notices)
    }

    /// Requests in flight on blk-mq queue `q`: (reads, writes).
    fn in_flight(&self, l: &Layouts, q: u64) -> Result<(u64, u64), Error> {
        if q == 0 {
            return Ok((0, 0));
        }
        // Not blk-mq, or blk-mq before request states: not counted.
        if self.read_u64(q + l.off("request_queue", "mq_ops")?)? == 0 || !l.has("request", "state")
        {
            return Ok((0, 0));
        }
        let hctxs: Vec<u64> = match l.off("request_queue", "hctx_table") {
            Ok(t) => self
                .radix_tree_entries(q + t)?
                .entries
                .into_iter()
                .map(|(_, h)| h)
                .collect(),
            Err(_) => {
                let n = self.read_u32(q + l.off("request_queue", "nr_hw_queues")?)?;
                let arr = self.read_u64(q + l.off("request_queue", "queue_hw_ctx")?)?;
                (0..u64::from(n).min(4096))
                    .filter_map(|i| self.read_u64(arr + 8 * i).ok())
                    .collect()
            }
        };
        let (tags_off, nr_res_off) = (
            l.off("blk_mq_hw_ctx", "tags")?,
            l.off("blk_mq_tags", "nr_reserved_tags")?,
        );
        let (bitmap, reserved, rqs_off) = (
            l.off("blk_mq_tags", "bitmap_tags")?,
            l.off("blk_mq_tags", "breserved_tags")?,
            l.off("blk_mq_tags", "rqs")?,
        );
        // Pointers to the bitmaps before 5.16, embedded after.
        let by_ptr = l.member_size("blk_mq_tags", "bitmap_tags") == Some(8);
        let (q_off, flags_off, state_off) = (
            l.off("request", "q")?,
            l.off("request", "cmd_flags")?,
            l.off("request", "state")?,
        );
        let sb_layout = SbitmapLayout::from_layouts(l)?;
        let mut counts = (0, 0);
        for h in hctxs {
            let tags = self.read_u64(h + tags_off)?;
            let nr_reserved = u64::from(self.read_u32(tags + nr_res_off)?);
            let rqs = self.read_u64(tags + rqs_off)?;
            let mut maps = vec![(bitmap, nr_reserved)];
            if nr_reserved > 0 {
                maps.insert(0, (reserved, 0));
            }
            for (off, first) in maps {
                let sbq = if by_ptr {
                    self.read_u64(tags + off)?
                } else {
                    tags + off
                };
                for bit in sbitmap_bits(self, sbq + l.off("sbitmap_queue", "sb")?, &sb_layout)? {
                    let Ok(rq) = self.read_u64(rqs + 8 * (bit + first)) else {
                        continue;
                    };
                    if rq >> 63 == 0 {
                        continue;
                    }
                    let (Ok(rq_q), Ok(flags), Ok(state)) = (
                        self.read_u64(rq + q_off),
                        self.read_u32(rq + flags_off),
                        self.read_u32(rq + state_off),
                    ) else {
                        continue;
                    };
                    if rq_q == q && state == IN_FLIGHT {
                        if flags & 0xff & 1 == 1 {
                            counts.1 += 1;
                        } else {
                            counts.0 += 1;
                        }
                    }
                }
            }
        }
        Ok(counts)
    }
}

/// Where the parts of a `struct sbitmap` and its words are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SbitmapLayout {
    pub depth: u64,
    pub shift: u64,
    pub map_nr: u64,
    pub map: u64,
    pub word_size: u64,
    pub word: u64,
    /// `sbitmap_word.cleared` (5.0 and later).
    pub cleared: Option<u64>,
}

impl SbitmapLayout {
    pub fn from_layouts(l: &Layouts) -> Result<SbitmapLayout, crate::LayoutError> {
        Ok(SbitmapLayout {
            depth: l.off("sbitmap", "depth")?,
            shift: l.off("sbitmap", "shift")?,
            map_nr: l.off("sbitmap", "map_nr")?,
            map: l.off("sbitmap", "map")?,
            word_size: l.size("sbitmap_word")?,
            word: l.off("sbitmap_word", "word")?,
            cleared: l.off("sbitmap_word", "cleared").ok(),
        })
    }
}

/// The set bits of the `struct sbitmap` at `sb` (less those `cleared`), in
/// order: `map_nr` words of `1 << shift` bits, the last holding what is
/// left of `depth`.
pub(crate) fn sbitmap_bits(
    mem: &impl Memory,
    sb: u64,
    o: &SbitmapLayout,
) -> Result<Vec<u64>, MemError> {
    let u32_at = |a: u64| mem.read_u32(a).map(u64::from);
    let depth = u32_at(sb + o.depth)?.min(MAX_TAGS);
    let shift = u32_at(sb + o.shift)?.min(6);
    let map_nr = u32_at(sb + o.map_nr)?.min(MAX_TAGS);
    let map = mem.read_u64(sb + o.map)?;
    let mut out = Vec::new();
    for i in 0..map_nr {
        let bits = if i == map_nr - 1 {
            depth.saturating_sub(i << shift)
        } else {
            1 << shift
        };
        let w = map + i * o.word_size;
        let word = mem.read_u64(w + o.word)?;
        let cleared = match o.cleared {
            Some(c) => mem.read_u64(w + c)?,
            None => 0,
        };
        let set = word & !cleared;
        out.extend(
            (0..bits.min(64))
                .filter(|b| set & (1 << b) != 0)
                .map(|b| (i << shift) + b),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radix_tree::tests::Fake;

    /// 6.1's layout: words of 64 bytes (cache-line aligned).
    const SB: SbitmapLayout = SbitmapLayout {
        depth: 0,
        shift: 4,
        map_nr: 8,
        map: 16,
        word_size: 64,
        word: 0,
        cleared: Some(8),
    };

    #[test]
    fn set_bits_less_cleared_ones_up_to_the_depth() {
        let base = 0xffff_8880_0100_0000;
        let map = base + 0x100;
        let mut m = Fake::default();
        m.region(base, 0x1000);
        // 70 tags, 16 a word: words 0-3 full, word 4 holds 6.
        m.u32(base, 70);
        m.u32(base + 4, 4);
        m.u32(base + 8, 5);
        m.u64(base + 16, map);
        m.u64(map, 0b1011);
        m.u64(map + 8, 0b0010);
        // Beyond the word's 16 bits: not a tag.
        m.u64(map + 64, 1 << 20 | 1 << 15);
        m.u64(map + 4 * 64, 0b11_1111_1111);
        assert_eq!(
            sbitmap_bits(&m, base, &SB).unwrap(),
            vec![0, 3, 31, 64, 65, 66, 67, 68, 69]
        );
        // A map the dump lacks.
        m.u64(base + 16, 0xffff_8880_0900_0000);
        assert!(sbitmap_bits(&m, base, &SB).is_err());
    }
}
