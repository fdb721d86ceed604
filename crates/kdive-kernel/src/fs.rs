//! Files: a dentry's path name, and a task's root, working directory and
//! open files, as crash's `files` reads them.
//!
//! The path of a dentry is built the way crash 8.0.2's `get_pathname()`
//! builds it: each dentry's name (`d_name`) in front of what is built, up
//! the `d_parent` chain to the root of its file system (a dentry that is
//! its own parent), then on through the mount it is reached by: the
//! `struct mount` around the `vfsmount` gives the dentry it is mounted on
//! (`mnt_mountpoint`) and its parent mount (`mnt_parent`), up to the mount
//! that is its own parent. A name whose length is not its `len` ends the
//! walk (as crash); a dentry or mount that does not read, or a walk longer
//! than any path can be (a loop), is an error naming the address.

mod files;
#[cfg(test)]
mod tests;

use crate::offsets::Layouts;

use crate::memory::{MemError, Memory};
use crate::{Error, Kernel, LayoutError};

pub use files::{FileInfo, FileType, FilesOffsets, OpenFile, TaskFiles};

/// The longest path built (the kernel's `PATH_MAX`).
const PATH_MAX: usize = 4096;
/// The most dentries and mounts one path walk goes through.
const MAX_STEPS: usize = 2048;

/// Where the path walk finds what it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathOffsets {
    pub d_parent: u64,
    /// `d_name.len` (a u32) and `d_name.name`.
    pub d_name_len: u64,
    pub d_name_name: u64,
    pub d_inode: u64,
    /// `d_iname`, the name stored in the dentry, when the name is short.
    pub d_iname: Option<u64>,
    pub mounts: MountOffsets,
}

/// How a mount gives the dentry it is mounted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountOffsets {
    /// `struct mount` (Linux 3.3 on): `mnt` is the `vfsmount` inside it;
    /// `mnt_parent` points to a `struct mount`.
    Mount {
        mnt: u64,
        parent: u64,
        mountpoint: u64,
        devname: Option<u64>,
    },
    /// `struct vfsmount` with its own `mnt_parent` and `mnt_mountpoint`.
    Vfsmount {
        parent: u64,
        mountpoint: u64,
        devname: Option<u64>,
    },
    /// Neither: paths stop at the root of their file system.
    None,
}

impl PathOffsets {
    pub(crate) fn from_layouts(layouts: Layouts<'_>) -> Option<PathOffsets> {
        let off = |s: &str, p: &str| layouts.member_offset(s, p).map(|m| m.offset());
        let mounts = match (
            off("mount", "mnt"),
            off("mount", "mnt_parent"),
            off("mount", "mnt_mountpoint"),
        ) {
            (Some(mnt), Some(parent), Some(mountpoint)) => MountOffsets::Mount {
                mnt,
                parent,
                mountpoint,
                devname: off("mount", "mnt_devname"),
            },
            _ => match (
                off("vfsmount", "mnt_parent"),
                off("vfsmount", "mnt_mountpoint"),
            ) {
                (Some(parent), Some(mountpoint)) => MountOffsets::Vfsmount {
                    parent,
                    mountpoint,
                    devname: off("vfsmount", "mnt_devname"),
                },
                _ => MountOffsets::None,
            },
        };
        Some(PathOffsets {
            d_parent: off("dentry", "d_parent")?,
            d_name_len: off("dentry", "d_name.len")?,
            d_name_name: off("dentry", "d_name.name")?,
            d_inode: off("dentry", "d_inode")?,
            d_iname: off("dentry", "d_iname").or_else(|| off("dentry", "d_shortname")),
            mounts,
        })
    }
}

/// The name of one dentry: `None` when its length is not `len` (crash
/// then stops the path there).
fn component(mem: &impl Memory, dentry: u64, o: &PathOffsets) -> Result<Option<String>, Error> {
    let what = |e: MemError| Error::read(format!("dentry {dentry:x} does not read"), e);
    let len = mem.read_u32(dentry + o.d_name_len).map_err(what)? as usize;
    if len == 0 {
        return Ok(None);
    }
    let name = mem.read_u64(dentry + o.d_name_name).map_err(what)?;
    if name == 0 {
        return Ok(None);
    }
    let s = mem.read_cstr(name, len.min(PATH_MAX) + 1).map_err(|e| {
        Error::read(
            format!("dentry {dentry:x}: name at {name:x} does not read"),
            e,
        )
    })?;
    Ok((s.len() == len).then_some(s))
}

/// The mount a `vfsmount` is mounted on: (its mountpoint dentry, the
/// parent's `vfsmount`), or `None` at the top mount.
fn mount_step(
    mem: &impl Memory,
    vfsmnt: u64,
    o: &PathOffsets,
) -> Result<Option<(u64, u64)>, Error> {
    let what = |e: MemError| Error::read(format!("mount of vfsmount {vfsmnt:x} does not read"), e);
    match o.mounts {
        MountOffsets::Mount {
            mnt,
            parent,
            mountpoint,
            ..
        } => {
            let mount = vfsmnt.wrapping_sub(mnt);
            let point = mem.read_u64(mount + mountpoint).map_err(what)?;
            let up = mem.read_u64(mount + parent).map_err(what)?;
            Ok((up != mount).then_some((point, up.wrapping_add(mnt))))
        }
        MountOffsets::Vfsmount {
            parent, mountpoint, ..
        } => {
            let point = mem.read_u64(vfsmnt + mountpoint).map_err(what)?;
            let up = mem.read_u64(vfsmnt + parent).map_err(what)?;
            Ok((up != vfsmnt).then_some((point, up)))
        }
        MountOffsets::None => Ok(None),
    }
}

/// The path of `dentry` reached through `vfsmnt` (0: within its file
/// system only), as crash prints it.
pub(crate) fn dentry_path(
    mem: &impl Memory,
    dentry: u64,
    vfsmnt: u64,
    o: &PathOffsets,
) -> Result<String, Error> {
    let mut path = String::new();
    let mut parent = dentry;
    let mut mnt = vfsmnt;
    for _ in 0..MAX_STEPS {
        let d = parent;
        let Some(name) = component(mem, d, o)? else {
            return Ok(path);
        };
        if d == dentry {
            path = name;
        } else if path.len() + name.len() < PATH_MAX {
            path = if (name.len() > 1 || name != "/") && !path.starts_with('/') {
                format!("{name}/{path}")
            } else {
                format!("{name}{path}")
            };
        }
        parent = mem
            .read_u64(d + o.d_parent)
            .map_err(|e| Error::read(format!("dentry {d:x} does not read"), e))?;
        if d == parent && mnt != 0 {
            if path.starts_with("//") {
                path.remove(0);
            }
            match mount_step(mem, mnt, o)? {
                Some((point, up)) => {
                    parent = point;
                    mnt = up;
                }
                None => return Ok(path),
            }
        }
        if d == parent || parent == 0 {
            return Ok(path);
        }
    }
    let what = format!(
        "the path of dentry {dentry:x} goes through more than {MAX_STEPS} dentries: a loop?"
    );
    Err(Error::corrupt(what, dentry))
}

impl Kernel {
    /// The offsets the path walk uses, from the kernel's BTF.
    pub fn path_offsets(&self) -> Option<&PathOffsets> {
        self.proc_offsets().path.as_ref()
    }

    /// The path of `dentry` reached through the `vfsmount` at `vfsmnt`
    /// (0 for a path within the dentry's file system), as crash prints
    /// it: `/proc/sysrq-trigger`.
    pub fn dentry_path(&self, dentry: u64, vfsmnt: u64) -> Result<String, Error> {
        let o = self
            .path_offsets()
            .ok_or_else(|| LayoutError::Incomplete("dentry".into()))?;
        dentry_path(self, dentry, vfsmnt, o)
    }
}
