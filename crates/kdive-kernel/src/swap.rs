//! Swap devices and files, as crash 8.0.2's `swap` reads them: the
//! `swap_info[]` pointers below `nr_swapfiles` whose `flags` have
//! `SWP_USED`, with their size, use, priority and the swap file's path.

use crate::offsets::Layouts;
use crate::Kernel;

/// `SWP_USED`: the slot is in use.
const SWP_USED: u64 = 1;
/// At most this many path components (dentries and mounts) are followed.
const MAX_PATH_STEPS: usize = 4096;

/// One swap area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapArea {
    /// The `struct swap_info_struct`.
    pub addr: u64,
    /// A block device (`old_block_size` set), else a file.
    pub partition: bool,
    /// Usable pages and pages in use.
    pub pages: u64,
    pub used: u64,
    pub prio: i64,
    /// The swap file's path, when it reads.
    pub path: Option<String>,
}

impl Kernel {
    /// Every swap area in use, and what could not be read.
    pub fn swap_areas(&self) -> Result<(Vec<SwapArea>, Vec<String>), String> {
        let l = Layouts::of(self)?;
        let nr_sym = self
            .symbol("nr_swapfiles")
            .ok_or("nr_swapfiles doesn't exist in this kernel!")?;
        let info = self
            .symbol("swap_info")
            .ok_or("swap_info doesn't exist in this kernel!")?;
        let nr = self
            .read_u32(nr_sym)
            .map_err(|e| format!("nr_swapfiles: {e}"))?;
        let s = "swap_info_struct";
        let field = |name: &str| -> Result<(u64, u64), String> {
            Ok((l.off(s, name)?, l.member_size(s, name).unwrap_or(8)))
        };
        let (flags, prio, pages, inuse, file) = (
            field("flags")?,
            field("prio")?,
            field("pages")?,
            field("inuse_pages")?,
            l.off(s, "swap_file")?,
        );
        let block = field("old_block_size").ok();
        let mut notices = Vec::new();
        let mut out = Vec::new();
        // MAX_SWAPFILES is at most 32.
        for i in 0..u64::from(nr).min(64) {
            let addr = match self.read_u64(info + 8 * i) {
                Ok(0) | Err(_) => continue,
                Ok(a) => a,
            };
            let read = |(off, size): (u64, u64)| -> Result<u64, String> {
                let mut b = [0u8; 8];
                let n = size.clamp(1, 8) as usize;
                self.read(addr + off, &mut b[..n])
                    .map_err(|e| format!("swap_info[{i}] {addr:x}: {e}"))?;
                Ok(u64::from_le_bytes(b))
            };
            let area = (|| -> Result<Option<SwapArea>, String> {
                if read(flags)? & SWP_USED == 0 {
                    return Ok(None);
                }
                let p = read(prio)?;
                let bits = prio.1.clamp(1, 8) * 8;
                let prio = ((p << (64 - bits)) as i64) >> (64 - bits);
                let swap_file = self.read_u64(addr + file).unwrap_or(0);
                Ok(Some(SwapArea {
                    addr,
                    partition: block.map(read).transpose()?.unwrap_or(0) != 0,
                    pages: read(pages)?,
                    used: read(inuse)?,
                    prio,
                    path: self.file_path(&l, swap_file),
                }))
            })();
            match area {
                Ok(Some(a)) => out.push(a),
                Ok(None) => {}
                Err(e) => notices.push(e),
            }
        }
        Ok((out, notices))
    }

    /// The path of a `struct file`: its dentry's names up to the root of
    /// its mount, and on through the mounts it sits on. A file on
    /// `devtmpfs` outside `/dev` gets crash's `/dev` prefix.
    fn file_path(&self, l: &Layouts, file: u64) -> Option<String> {
        if file == 0 {
            return None;
        }
        let dentry_off = l.off("file", "f_path.dentry").ok()?;
        let mnt_off = l.off("file", "f_path.mnt").ok()?;
        let (d_parent, d_name) = (
            l.off("dentry", "d_parent").ok()?,
            l.off("dentry", "d_name.name").ok()?,
        );
        let mnt_root = l.off("vfsmount", "mnt_root").ok()?;
        let (m_mnt, m_parent, m_point, m_dev) = (
            l.off("mount", "mnt").ok()?,
            l.off("mount", "mnt_parent").ok()?,
            l.off("mount", "mnt_mountpoint").ok()?,
            l.off("mount", "mnt_devname").ok()?,
        );
        let mut dentry = self.read_u64(file + dentry_off).ok()?;
        let vfsmnt = self.read_u64(file + mnt_off).ok()?;
        let mut mount = vfsmnt.wrapping_sub(m_mnt);
        let devname = self
            .read_u64(mount + m_dev)
            .ok()
            .and_then(|p| self.string_at(p, 256));
        let mut parts: Vec<String> = Vec::new();
        for _ in 0..MAX_PATH_STEPS {
            let root = self.read_u64(mount + m_mnt + mnt_root).ok()?;
            let parent = self.read_u64(dentry + d_parent).ok()?;
            if dentry == root || parent == dentry {
                let up = self.read_u64(mount + m_parent).ok()?;
                if up == mount || up == 0 {
                    break;
                }
                dentry = self.read_u64(mount + m_point).ok()?;
                mount = up;
                continue;
            }
            let name = self
                .read_u64(dentry + d_name)
                .ok()
                .and_then(|p| self.string_at(p, 256))?;
            parts.push(name);
            dentry = parent;
        }
        parts.reverse();
        let mut path = format!("/{}", parts.join("/"));
        if matches!(devname.as_deref(), Some("devtmpfs" | "udev")) && !path.starts_with("/dev/") {
            path = format!("/dev{path}");
        }
        Some(path)
    }
}
