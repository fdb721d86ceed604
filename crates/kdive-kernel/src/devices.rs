//! Character and block device majors, as crash 8.0.2's `dev` finds them.
//!
//! Character devices: every `struct char_device_struct` of the `chrdevs[]`
//! hash chains, with its `cdev` and the cdev's `ops`; a region without a
//! cdev of its own (registered with `__register_chrdev_region` and added
//! by `cdev_add` later) is matched, by major and base minor, with the
//! `cdev_map` probes that `cdev_add` made.
//!
//! Block devices: the first `struct blk_major_name` of each
//! `major_names[]` chain (crash does not follow the chains), with a gendisk
//! of that major: from the `bdev_map` probes before 5.11, else from the
//! block-device inodes on `blockdev_superblock`'s `s_inodes` list.

use std::collections::HashSet;

use crate::memory::MemError;
use crate::offsets::Layouts;
use crate::{Error, Kernel};

/// The hash sizes of `chrdevs[]`, `major_names[]` and `kobj_map.probes[]`
/// (`CHRDEV_MAJOR_HASH_SIZE`, `BLKDEV_MAJOR_HASH_SIZE`: 255 since 2.6).
const HASH: u64 = 255;
/// At most this many entries in one chain or list.
const MAX_CHAIN: usize = 1 << 20;

/// One registered character device region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharDev {
    pub major: u32,
    pub name: String,
    /// The `struct cdev` (0: none found).
    pub cdev: u64,
    /// Its `file_operations` (0: none found).
    pub fops: u64,
    /// The cdev's `ops` did not read.
    pub unreadable: bool,
}

/// One block device major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDev {
    pub major: u32,
    pub name: String,
    /// A `struct gendisk` of that major (0: none).
    pub gendisk: u64,
    /// Its `block_device_operations` (0: none).
    pub fops: u64,
    /// No gendisk found, and some did not read: whether it has one is
    /// unknown.
    pub unreadable: bool,
}

impl Kernel {
    /// The character device regions, in `chrdevs[]` order, and what could
    /// not be read.
    pub fn char_devices(&self) -> Result<(Vec<CharDev>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let base = self
            .symbol("chrdevs")
            .ok_or_else(|| Error::no_symbol_said("chrdevs", "chrdevs: symbol does not exist"))?;
        let next_off = l.off("char_device_struct", "next")?;
        let major_off = l.off("char_device_struct", "major")?;
        let minor_off = l.off("char_device_struct", "baseminor")?;
        let name_off = l.off("char_device_struct", "name")?;
        let name_len = l.array_len("char_device_struct", "name");
        let cdev_off = l.off("char_device_struct", "cdev")?;
        let ops_off = l.off("cdev", "ops")?;
        let mut notices = Vec::new();
        let mut out = Vec::new();
        for i in 0..HASH {
            let mut at = match self.read_u64(base + 8 * i) {
                Ok(p) => p,
                Err(e) => return Err(Error::read("chrdevs array", e)),
            };
            let mut seen = HashSet::new();
            while at != 0 {
                if !seen.insert(at) || seen.len() > MAX_CHAIN {
                    notices.push(crate::Finding::looped(
                        at,
                        format!("chrdevs[{i}]: the chain comes back to {at:x}"),
                    ));
                    break;
                }
                let (major, minor, next, cdev) = match (
                    self.read_u32(at + major_off),
                    self.read_u32(at + minor_off),
                    self.read_u64(at + next_off),
                    self.read_u64(at + cdev_off),
                ) {
                    (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
                    (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
                        notices.push(crate::Finding::unreadable(
                            at,
                            format!("chrdevs[{i}]: char_device_struct {at:x}: {e}"),
                        ));
                        break;
                    }
                };
                let name = match name_len {
                    // An array (since 2.6.x: `char name[64]`), read in place.
                    Some(n) => self
                        .read_cstr(at + name_off, (n as usize).saturating_sub(1))
                        .ok(),
                    None => self
                        .read_u64(at + name_off)
                        .ok()
                        .and_then(|p| self.string_at(p, 256)),
                }
                .unwrap_or_else(|| "(unknown)".into());
                let mut dev = CharDev {
                    major,
                    name,
                    cdev,
                    fops: 0,
                    unreadable: false,
                };
                if cdev != 0 {
                    match self.read_u64(cdev + ops_off) {
                        Ok(f) => dev.fops = f,
                        Err(e) => {
                            notices.push(crate::Finding::unreadable(
                                cdev,
                                format!("{}: cdev {cdev:x}: {e}", dev.name),
                            ));
                            dev.unreadable = true;
                            out.push(dev);
                            at = next;
                            continue;
                        }
                    }
                }
                if dev.fops == 0 {
                    match self.cdev_map_probe(&l, major, minor, ops_off) {
                        Ok(Some((c, f))) => (dev.cdev, dev.fops) = (c, f),
                        Ok(None) => {}
                        Err(e) => {
                            notices.push(crate::Finding::new(
                                crate::FindingKind::Unreadable,
                                None,
                                format!("{}: cdev_map: {e}", dev.name),
                            ));
                            dev.unreadable = true;
                        }
                    }
                }
                out.push(dev);
                at = next;
            }
        }
        Ok((out, notices))
    }

    /// The `cdev_map` probe for `major:minor`: its cdev and the cdev's ops
    /// (`None`: no probe; an error when the probes do not read).
    fn cdev_map_probe(
        &self,
        l: &Layouts,
        major: u32,
        minor: u32,
        ops_off: u64,
    ) -> Result<Option<(u64, u64)>, MemError> {
        let Some(sym) = self.symbol("cdev_map") else {
            return Ok(None);
        };
        let (Ok(probes), Ok(next_off), Ok(dev_off), Ok(data_off)) = (
            l.off("kobj_map", "probes"),
            l.off("probe", "next"),
            l.off("probe", "dev"),
            l.off("probe", "data"),
        ) else {
            return Ok(None);
        };
        let rd = |a: u64| self.read_u64(a);
        let map = rd(sym)?;
        let mut at = rd(map + probes + 8 * (u64::from(major) % HASH))?;
        let mut n = 0;
        while at != 0 && n < MAX_CHAIN {
            n += 1;
            let dev = self.read_u32(at + dev_off)?;
            if dev >> 20 == major && dev & 0xfffff == minor {
                let data = rd(at + data_off)?;
                return Ok(Some((data, rd(data + ops_off)?)));
            }
            at = rd(at + next_off)?;
        }
        Ok(None)
    }

    /// The block device majors, in `major_names[]` order, and what could
    /// not be read.
    pub fn block_devices(&self) -> Result<(Vec<BlockDev>, Vec<crate::Finding>), Error> {
        let l = Layouts::of(self)?;
        let base = self.symbol("major_names").ok_or_else(|| {
            Error::no_symbol_said("major_names", "major_names: symbol does not exist")
        })?;
        let major_off = l.off("blk_major_name", "major")?;
        let name_off = l.off("blk_major_name", "name")?;
        let fops_off = l.off("gendisk", "fops")?;
        let gd_major_off = l.off("gendisk", "major")?;
        let mut notices = Vec::new();
        let disks = self.gendisks(&l, &mut notices);
        let disks_incomplete = !notices.is_empty();
        let mut out = Vec::new();
        for i in 0..HASH {
            let at = self
                .read_u64(base + 8 * i)
                .map_err(|e| Error::read("major_names array", e))?;
            if at == 0 {
                continue;
            }
            let major = match self.read_u32(at + major_off) {
                Ok(m) => m,
                Err(e) => {
                    notices.push(crate::Finding::unreadable(
                        at,
                        format!("major_names[{i}]: blk_major_name {at:x}: {e}"),
                    ));
                    continue;
                }
            };
            let name = self.read_cstr(at + name_off, 16).unwrap_or_default();
            let name = if name.is_empty() {
                "(unknown)".to_string()
            } else {
                name
            };
            let mut dev = BlockDev {
                major,
                name,
                gendisk: 0,
                fops: 0,
                unreadable: false,
            };
            // Before 5.11 the gendisks are the `bdev_map` probes' data.
            let probed;
            let disks = match self.bdev_map_disks(&l, i) {
                Some(p) => {
                    probed = p;
                    &probed
                }
                None => {
                    dev.unreadable = disks_incomplete;
                    &disks
                }
            };
            for &d in disks {
                if self.read_u32(d + gd_major_off).ok() != Some(major) {
                    continue;
                }
                let fops = self.read_u64(d + fops_off).unwrap_or(0);
                if fops != 0 {
                    dev.gendisk = d;
                    dev.fops = fops;
                    dev.unreadable = false;
                    break;
                }
            }
            out.push(dev);
        }
        Ok((out, notices))
    }

    /// The gendisks of the `bdev_map` probes of hash slot `slot` (kernels
    /// before 5.11; `None` on later ones).
    fn bdev_map_disks(&self, l: &Layouts, slot: u64) -> Option<Vec<u64>> {
        let map = self.read_u64(self.symbol("bdev_map")?).ok()?;
        let probes = l.off("kobj_map", "probes").ok()?;
        let (next, data) = (l.off("probe", "next").ok()?, l.off("probe", "data").ok()?);
        let mut at = self.read_u64(map + probes + 8 * (slot % HASH)).ok()?;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        while at != 0 && seen.insert(at) && seen.len() < MAX_CHAIN {
            if let Ok(d) = self.read_u64(at + data) {
                if d != 0 && !out.contains(&d) {
                    out.push(d);
                }
            }
            at = match self.read_u64(at + next) {
                Ok(n) => n,
                Err(_) => break,
            };
        }
        Some(out)
    }

    /// The gendisks of the block devices on `blockdev_superblock`, in
    /// inode-list order, each once (a disk's partitions share it).
    pub(crate) fn gendisks(&self, l: &Layouts, notices: &mut Vec<crate::Finding>) -> Vec<u64> {
        let Some(sb) = self.symbol("blockdev_superblock") else {
            return Vec::new();
        };
        let sb = match self.read_u64(sb) {
            Ok(sb) => sb,
            Err(e) => {
                notices.push(crate::Finding::unreadable(
                    sb,
                    format!("blockdev_superblock: {e}"),
                ));
                return Vec::new();
            }
        };
        let (Ok(s_inodes), Ok(i_sb_list), Ok(bd_disk)) = (
            l.off("super_block", "s_inodes"),
            l.off("inode", "i_sb_list"),
            l.off("block_device", "bd_disk"),
        ) else {
            return Vec::new();
        };
        // The inode sits after its block_device in a `struct bdev_inode`.
        let Some(inode_in_bdev) = l
            .off("bdev_inode", "vfs_inode")
            .ok()
            .or_else(|| l.size("block_device").ok())
        else {
            return Vec::new();
        };
        let head = sb + s_inodes;
        let nodes =
            crate::tasks::list::list_nodes(self, head, "blockdev_superblock.s_inodes", notices);
        let mut out = Vec::new();
        for n in nodes {
            let bdev = n.wrapping_sub(i_sb_list).wrapping_sub(inode_in_bdev);
            match self.read_u64(bdev + bd_disk) {
                Ok(d) if d != 0 && !out.contains(&d) => out.push(d),
                Ok(_) => {}
                Err(e) => notices.push(crate::Finding::unreadable(
                    bdev,
                    format!("block_device {bdev:x}: {e}"),
                )),
            }
        }
        out
    }
}
