//! Small BTF look-ups for the system-wide walkers (devices, network,
//! interrupts, swap, machine): offsets and sizes by name, with errors that
//! say what is missing ([`LayoutError`]).

use kdive_debuginfo::btf::Btf;

use crate::{Kernel, LayoutError};

/// A kernel's BTF with name look-ups that fail with a [`LayoutError`].
pub(crate) struct Layouts<'a> {
    pub btf: &'a Btf,
}

impl<'a> Layouts<'a> {
    pub fn new(btf: &'a kdive_debuginfo::btf::Btf) -> Layouts<'a> {
        Layouts { btf }
    }

    pub fn of(k: &'a Kernel) -> Result<Layouts<'a>, LayoutError> {
        Ok(Layouts { btf: k.btf_or_err()? })
    }

    /// The byte offset of `path` in struct/union `outer`.
    pub fn off(&self, outer: &str, path: &str) -> Result<u64, LayoutError> {
        self.btf
            .member_offset(outer, path)
            .map(|m| m.offset())
            .ok_or_else(|| LayoutError::member(outer, path))
    }

    /// Whether `outer` has a member `path`.
    pub fn has(&self, outer: &str, path: &str) -> bool {
        self.btf.member_offset(outer, path).is_some()
    }

    /// The size of struct/union `name`.
    pub fn size(&self, name: &str) -> Result<u64, LayoutError> {
        self.btf
            .find_aggregate(name)
            .and_then(|id| self.btf.size_of(id))
            .ok_or_else(|| LayoutError::ty(name))
    }

    /// The size of member `path` of `outer`.
    pub fn member_size(&self, outer: &str, path: &str) -> Option<u64> {
        let m = self.btf.member_offset(outer, path)?;
        self.btf.size_of(m.type_id)
    }

    /// The number of elements of array member `path` of `outer`.
    pub fn array_len(&self, outer: &str, path: &str) -> Option<u64> {
        let m = self.btf.member_offset(outer, path)?;
        self.btf.array_info(m.type_id).map(|a| u64::from(a.len))
    }
}

impl Kernel {
    /// The kernel's BTF, or why there is none ([`LayoutError::NoBtf`]).
    pub(crate) fn btf_or_err(&self) -> Result<&Btf, LayoutError> {
        self.btf_result()
            .map_err(|why| LayoutError::NoBtf(why.to_string()))
    }

    /// A readable NUL-terminated string at `addr` (`None` for a NULL
    /// pointer or unreadable memory), as crash's `read_string`.
    pub(crate) fn string_at(&self, addr: u64, max: usize) -> Option<String> {
        if addr == 0 {
            return None;
        }
        self.read_cstr(addr, max).ok()
    }
}
