//! Swap devices and files, as crash 8.0.2's `swap` reads them: the
//! `swap_info[]` pointers below `nr_swapfiles` whose `flags` have
//! `SWP_USED`, with their size, use, priority and the swap file's path.

use crate::memory::MemError;
use crate::memory::Memory;
use crate::offsets::Layouts;
use crate::{Error, Kernel, LayoutError};

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

/// A member's offset and size.
type Field = (u64, u64);

/// Where the parts of the swap structures are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SwapOffsets {
    pub flags: Field,
    pub prio: Field,
    pub pages: Field,
    pub inuse: Field,
    pub old_block_size: Option<Field>,
    pub swap_file: u64,
    /// `file.f_path.dentry`, `file.f_path.mnt`.
    pub f_dentry: u64,
    pub f_mnt: u64,
    /// `dentry.d_parent`, `dentry.d_name.name`.
    pub d_parent: u64,
    pub d_name: u64,
    /// `vfsmount.mnt_root`.
    pub mnt_root: u64,
    /// `mount.mnt`, `.mnt_parent`, `.mnt_mountpoint`, `.mnt_devname`.
    pub m_mnt: u64,
    pub m_parent: u64,
    pub m_point: u64,
    pub m_dev: u64,
}

impl SwapOffsets {
    pub fn from_layouts(l: &Layouts) -> Result<SwapOffsets, LayoutError> {
        let s = "swap_info_struct";
        let field = |name: &str| -> Result<Field, LayoutError> {
            Ok((l.off(s, name)?, l.member_size(s, name).unwrap_or(8)))
        };
        Ok(SwapOffsets {
            flags: field("flags")?,
            prio: field("prio")?,
            pages: field("pages")?,
            inuse: field("inuse_pages")?,
            old_block_size: field("old_block_size").ok(),
            swap_file: l.off(s, "swap_file")?,
            f_dentry: l.off("file", "f_path.dentry")?,
            f_mnt: l.off("file", "f_path.mnt")?,
            d_parent: l.off("dentry", "d_parent")?,
            d_name: l.off("dentry", "d_name.name")?,
            mnt_root: l.off("vfsmount", "mnt_root")?,
            m_mnt: l.off("mount", "mnt")?,
            m_parent: l.off("mount", "mnt_parent")?,
            m_point: l.off("mount", "mnt_mountpoint")?,
            m_dev: l.off("mount", "mnt_devname")?,
        })
    }
}

impl Kernel {
    /// Every swap area in use, and what could not be read.
    pub fn swap_areas(&self) -> Result<(Vec<SwapArea>, Vec<crate::Finding>), Error> {
        let o = SwapOffsets::from_layouts(&Layouts::of(self)?)?;
        let nr_sym = self.symbol("nr_swapfiles").ok_or_else(|| {
            Error::no_symbol_said("nr_swapfiles", "nr_swapfiles doesn't exist in this kernel!")
        })?;
        let info = self.symbol("swap_info").ok_or_else(|| {
            Error::no_symbol_said("swap_info", "swap_info doesn't exist in this kernel!")
        })?;
        let nr = self
            .read_u32(nr_sym)
            .map_err(|e| Error::read("nr_swapfiles", e))?;
        Ok(swap_areas(self, &o, info, nr))
    }
}

/// The areas of the `swap_info[nr]` array at `info`.
pub(crate) fn swap_areas(
    mem: &impl Memory,
    o: &SwapOffsets,
    info: u64,
    nr: u32,
) -> (Vec<SwapArea>, Vec<crate::Finding>) {
    let mut notices = Vec::new();
    let mut out = Vec::new();
    // MAX_SWAPFILES is at most 32.
    for i in 0..u64::from(nr).min(64) {
        let addr = match mem.read_u64(info + 8 * i) {
            Ok(0) | Err(_) => continue,
            Ok(a) => a,
        };
        match area(mem, o, addr) {
            Ok(Some(a)) => out.push(a),
            Ok(None) => {}
            Err(e) => notices.push(crate::Finding::unreadable(
                addr,
                format!("swap_info[{i}] {addr:x}: {e}"),
            )),
        }
    }
    (out, notices)
}

fn area(mem: &impl Memory, o: &SwapOffsets, addr: u64) -> Result<Option<SwapArea>, MemError> {
    let read = |(off, size): Field| -> Result<u64, MemError> {
        let mut b = [0u8; 8];
        mem.read(addr + off, &mut b[..size.clamp(1, 8) as usize])?;
        Ok(u64::from_le_bytes(b))
    };
    if read(o.flags)? & SWP_USED == 0 {
        return Ok(None);
    }
    let bits = o.prio.1.clamp(1, 8) * 8;
    let prio = ((read(o.prio)? << (64 - bits)) as i64) >> (64 - bits);
    let swap_file = mem.read_u64(addr + o.swap_file).unwrap_or(0);
    Ok(Some(SwapArea {
        addr,
        partition: o.old_block_size.map(read).transpose()?.unwrap_or(0) != 0,
        pages: read(o.pages)?,
        used: read(o.inuse)?,
        prio,
        path: file_path(mem, o, swap_file),
    }))
}

/// The path of a `struct file`: its dentry's names up to the root of its
/// mount, and on through the mounts it sits on. A file on `devtmpfs`
/// outside `/dev` gets crash's `/dev` prefix.
fn file_path(mem: &impl Memory, o: &SwapOffsets, file: u64) -> Option<String> {
    if file == 0 {
        return None;
    }
    let mut dentry = mem.read_u64(file + o.f_dentry).ok()?;
    let mut mount = mem.read_u64(file + o.f_mnt).ok()?.wrapping_sub(o.m_mnt);
    let devname = mem
        .read_u64(mount + o.m_dev)
        .ok()
        .and_then(|p| mem.read_cstr(p, 256).ok());
    let mut parts: Vec<String> = Vec::new();
    for _ in 0..MAX_PATH_STEPS {
        let root = mem.read_u64(mount + o.m_mnt + o.mnt_root).ok()?;
        let parent = mem.read_u64(dentry + o.d_parent).ok()?;
        if dentry == root || parent == dentry {
            let up = mem.read_u64(mount + o.m_parent).ok()?;
            if up == mount || up == 0 {
                break;
            }
            dentry = mem.read_u64(mount + o.m_point).ok()?;
            mount = up;
            continue;
        }
        let name = mem.read_u64(dentry + o.d_name).ok()?;
        parts.push(mem.read_cstr(name, 256).ok()?);
        dentry = parent;
    }
    parts.reverse();
    let mut path = format!("/{}", parts.join("/"));
    if matches!(devname.as_deref(), Some("devtmpfs" | "udev")) && !path.starts_with("/dev/") {
        path = format!("/dev{path}");
    }
    Some(path)
}

#[cfg(test)]
#[path = "swap_tests.rs"]
mod tests;
