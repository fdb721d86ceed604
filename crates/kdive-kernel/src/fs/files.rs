//! A task's root, working directory and open files (`task->fs`,
//! `task->files`), read as crash's `open_files_dump()` reads them: the
//! file table's `open_fds` bitmap, up to `max_fds`, and each open file's
//! dentry, inode, type and path.

use crate::offsets::Layouts;

use super::dentry_path;
use crate::memory::{MemError, Memory};
use crate::{Error, Kernel, LayoutError};

/// The most file descriptors read of one task: the kernel's default limit
/// (`fs.nr_open`, 2^20); a bigger table in a dump is most likely damage.
const MAX_FDS: u64 = 1 << 20;

/// Where `files` finds what it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesOffsets {
    pub task_fs: u64,
    pub task_files: u64,
    pub fs_root_mnt: u64,
    pub fs_root_dentry: u64,
    pub fs_pwd_mnt: u64,
    pub fs_pwd_dentry: u64,
    pub files_fdt: u64,
    pub fdt_max_fds: u64,
    pub fdt_fd: u64,
    pub fdt_open_fds: u64,
    pub file_dentry: u64,
    pub file_mnt: u64,
    pub inode_mode: u64,
    /// `sizeof(umode_t)`: 2 on current kernels.
    pub mode_size: usize,
    pub inode_op: u64,
    pub inode_fop: Option<u64>,
}

impl FilesOffsets {
    pub(crate) fn from_layouts(layouts: Layouts<'_>) -> Option<FilesOffsets> {
        let off = |s: &str, p: &str| layouts.member_offset(s, p).map(|m| m.offset());
        let mode = layouts.member_offset("inode", "i_mode")?;
        Some(FilesOffsets {
            task_fs: off("task_struct", "fs")?,
            task_files: off("task_struct", "files")?,
            fs_root_mnt: off("fs_struct", "root.mnt")?,
            fs_root_dentry: off("fs_struct", "root.dentry")?,
            fs_pwd_mnt: off("fs_struct", "pwd.mnt")?,
            fs_pwd_dentry: off("fs_struct", "pwd.dentry")?,
            files_fdt: off("files_struct", "fdt")?,
            fdt_max_fds: off("fdtable", "max_fds")?,
            fdt_fd: off("fdtable", "fd")?,
            fdt_open_fds: off("fdtable", "open_fds")?,
            file_dentry: off("file", "f_path.dentry")?,
            file_mnt: off("file", "f_path.mnt")?,
            inode_mode: mode.offset(),
            mode_size: layouts.size_of(mode.type_id)? as usize,
            inode_op: off("inode", "i_op")?,
            inode_fop: off("inode", "i_fop"),
        })
    }
}

/// An inode's type, as crash names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Reg,
    Lnk,
    Dir,
    Chr,
    Blk,
    Fifo,
    Pipe,
    Sock,
    Unknown,
}

impl FileType {
    /// crash's four-character column (`REG `, `CHR `, `PIPE`, `UNKN`).
    pub fn crash_name(self) -> &'static str {
        match self {
            FileType::Reg => "REG ",
            FileType::Lnk => "LNK ",
            FileType::Dir => "DIR ",
            FileType::Chr => "CHR ",
            FileType::Blk => "BLK ",
            FileType::Fifo => "FIFO",
            FileType::Pipe => "PIPE",
            FileType::Sock => "SOCK",
            FileType::Unknown => "UNKN",
        }
    }

    fn from_mode(mode: u32) -> FileType {
        match mode & 0o170000 {
            0o100000 => FileType::Reg,
            0o120000 => FileType::Lnk,
            0o040000 => FileType::Dir,
            0o020000 => FileType::Chr,
            0o060000 => FileType::Blk,
            0o010000 => FileType::Fifo,
            0o140000 => FileType::Sock,
            _ => FileType::Unknown,
        }
    }
}

/// What an open `struct file` refers to. `dentry` or `inode` is 0 when the
/// file has none (crash prints `?` for what follows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub dentry: u64,
    pub inode: u64,
    pub kind: FileType,
    /// The path, `?` when it could not be built (then `damage` says why).
    pub path: String,
    pub damage: Option<String>,
}

/// One open file descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFile {
    pub fd: u64,
    pub file: u64,
    pub info: Result<FileInfo, Error>,
}

/// A task's files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFiles {
    /// Root and working directory, when the task has a `fs_struct`.
    pub root_cwd: Option<(String, String)>,
    /// The open files, by descriptor; `None`: no file table.
    pub files: Option<Vec<OpenFile>>,
    /// What could not be read, each naming the address.
    pub notices: Vec<crate::Finding>,
}

impl Kernel {
    /// What `struct file` at `file` refers to: its dentry, inode, type and
    /// path (crash's `file_dump()`).
    pub fn file_info(&self, file: u64) -> Result<FileInfo, Error> {
        let fo = self
            .proc_offsets()
            .files
            .as_ref()
            .ok_or_else(|| LayoutError::Incomplete("file".into()))?;
        let what = |e: MemError| Error::read(format!("file {file:x} does not read"), e);
        let dentry = Memory::read_u64(self, file + fo.file_dentry).map_err(what)?;
        let mut info = FileInfo {
            dentry,
            inode: 0,
            kind: FileType::Unknown,
            path: String::new(),
            damage: None,
        };
        if dentry == 0 {
            return Ok(info);
        }
        let po = self
            .path_offsets()
            .ok_or_else(|| LayoutError::Incomplete("dentry".into()))?;
        info.inode = Memory::read_u64(self, dentry + po.d_inode)
            .map_err(|e| Error::read(format!("dentry {dentry:x} does not read"), e))?;
        if info.inode == 0 {
            return Ok(info);
        }
        let mnt = Memory::read_u64(self, file + fo.file_mnt).map_err(what)?;
        let mnt = self.root_vfsmount(mnt);
        match dentry_path(self, dentry, mnt, po) {
            Ok(p) => info.path = p,
            Err(e) => {
                info.path = "?".into();
                info.damage = Some(e.to_string());
            }
        }
        let inode = info.inode;
        let iwhat = |e: MemError| Error::read(format!("inode {inode:x} does not read"), e);
        let mut m = [0u8; 4];
        let n = fo.mode_size.clamp(1, 4);
        Memory::read(self, inode + fo.inode_mode, &mut m[..n]).map_err(iwhat)?;
        info.kind = FileType::from_mode(u32::from_le_bytes(m));
        if info.kind == FileType::Fifo {
            // crash: a pipe, when its inode operations say so.
            let (field, sym) = match self.symbol("pipe_inode_operations") {
                Some(s) => (Some(fo.inode_op), Some(s)),
                None => (fo.inode_fop, self.symbol("rdwr_pipe_fops")),
            };
            if let (Some(field), Some(sym)) = (field, sym) {
                if Memory::read_u64(self, inode + field).map_err(iwhat)? == sym {
                    info.kind = FileType::Pipe;
                    info.path.clear();
                }
            }
        }
        if info.kind == FileType::Sock && info.path == "/" {
            info.path.clear();
        }
        Ok(info)
    }

    /// The path of the `struct file` at `file`, through its own mount
    /// (`f_path`), as crash names a VMA's file; empty when it has no
    /// dentry.
    pub fn file_path(&self, file: u64) -> Result<String, Error> {
        let fo = self
            .proc_offsets()
            .files
            .as_ref()
            .ok_or_else(|| LayoutError::Incomplete("file".into()))?;
        let po = self
            .path_offsets()
            .ok_or_else(|| LayoutError::Incomplete("dentry".into()))?;
        let what = |e: MemError| Error::read(format!("file {file:x} does not read"), e);
        let dentry = Memory::read_u64(self, file + fo.file_dentry).map_err(what)?;
        if dentry == 0 {
            return Ok(String::new());
        }
        let mnt = Memory::read_u64(self, file + fo.file_mnt).map_err(what)?;
        dentry_path(self, dentry, mnt, po)
    }

    /// crash's `get_root_vfsmount()`: a file on a `devtmpfs` (or `udev`)
    /// mount that is mounted on another of the same is named through that
    /// parent.
    fn root_vfsmount(&self, vfsmnt: u64) -> u64 {
        let Some(super::MountOffsets::Mount {
            mnt,
            parent,
            devname: Some(devname),
            ..
        }) = self.path_offsets().map(|o| o.mounts)
        else {
            return vfsmnt;
        };
        let name = |v: u64| -> Option<String> {
            let p = Memory::read_u64(self, v.wrapping_sub(mnt) + devname).ok()?;
            Memory::read_cstr(self, p, 256).ok()
        };
        let Some(mine) = name(vfsmnt).filter(|n| n == "udev" || n == "devtmpfs") else {
            return vfsmnt;
        };
        let Ok(up) = Memory::read_u64(self, vfsmnt.wrapping_sub(mnt) + parent) else {
            return vfsmnt;
        };
        let up = up.wrapping_add(mnt);
        if name(up).as_deref() == Some(mine.as_str()) {
            up
        } else {
            vfsmnt
        }
    }

    /// The root, working directory and open files of the task at `task`.
    pub fn task_files(&self, task: u64) -> Result<TaskFiles, Error> {
        let fo = self
            .proc_offsets()
            .files
            .as_ref()
            .ok_or_else(|| LayoutError::Incomplete("files_struct".into()))?;
        let po = self
            .path_offsets()
            .ok_or_else(|| LayoutError::Incomplete("dentry".into()))?;
        let twhat = |e: MemError| Error::read(format!("task {task:x} does not read"), e);
        let mut out = TaskFiles::default();
        let fs = Memory::read_u64(self, task + fo.task_fs).map_err(twhat)?;
        if fs != 0 {
            let path = |mnt_off: u64, dentry_off: u64| -> Result<String, Error> {
                let w = |e: MemError| Error::read(format!("fs_struct {fs:x} does not read"), e);
                let d = Memory::read_u64(self, fs + dentry_off).map_err(w)?;
                let m = Memory::read_u64(self, fs + mnt_off).map_err(w)?;
                if d == 0 {
                    return Ok(String::new());
                }
                dentry_path(self, d, m, po)
            };
            let root = path(fo.fs_root_mnt, fo.fs_root_dentry);
            let cwd = path(fo.fs_pwd_mnt, fo.fs_pwd_dentry);
            let mut keep = |r: Result<String, Error>| {
                r.unwrap_or_else(|e| {
                    out.notices.push(crate::Finding::new(
                        crate::FindingKind::Unreadable,
                        None,
                        e.to_string(),
                    ));
                    "?".into()
                })
            };
            out.root_cwd = Some((keep(root), keep(cwd)));
        }
        let files = Memory::read_u64(self, task + fo.task_files).map_err(twhat)?;
        if files == 0 {
            return Ok(out);
        }
        let fdt = Memory::read_u64(self, files + fo.files_fdt)
            .map_err(|e| Error::read(format!("files_struct {files:x} does not read"), e))?;
        if fdt == 0 {
            return Ok(out);
        }
        let w = |e: MemError| Error::read(format!("fdtable {fdt:x} does not read"), e);
        let mut b = [0u8; 4];
        Memory::read(self, fdt + fo.fdt_max_fds, &mut b).map_err(w)?;
        let mut max_fds = u64::from(u32::from_le_bytes(b));
        let fd_array = Memory::read_u64(self, fdt + fo.fdt_fd).map_err(w)?;
        let open_fds = Memory::read_u64(self, fdt + fo.fdt_open_fds).map_err(w)?;
        if max_fds == 0 || fd_array == 0 || open_fds == 0 {
            out.files = Some(Vec::new());
            return Ok(out);
        }
        if max_fds > MAX_FDS {
            out.notices.push(crate::Finding::corrupt(
                fdt,
                format!(
                "fdtable {fdt:x}: max_fds {max_fds} is more than {MAX_FDS}: damaged? read {MAX_FDS}"
            ),
            ));
            max_fds = MAX_FDS;
        }
        let mut bitmap = vec![0u8; max_fds.div_ceil(8) as usize];
        Memory::read(self, open_fds, &mut bitmap).map_err(|e| {
            Error::read(
                format!("fdtable {fdt:x}: open_fds at {open_fds:x} does not read"),
                e,
            )
        })?;
        let mut list = Vec::new();
        for fd in 0..max_fds {
            if bitmap[(fd / 8) as usize] & (1 << (fd % 8)) == 0 {
                continue;
            }
            let slot = fd_array + 8 * fd;
            let file = match Memory::read_u64(self, slot) {
                Ok(f) => f,
                Err(e) => {
                    out.notices.push(crate::Finding::unreadable(
                        slot,
                        format!("fd {fd}: file pointer at {slot:x} does not read: {e}"),
                    ));
                    continue;
                }
            };
            if file != 0 {
                list.push(OpenFile {
                    fd,
                    file,
                    info: self.file_info(file),
                });
            }
        }
        out.files = Some(list);
        Ok(out)
    }
}
