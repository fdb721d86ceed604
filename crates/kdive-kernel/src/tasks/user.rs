//! A task's user memory, through its own page tables (`mm->pgd`): what
//! `ps -a` shows (the arguments and environment). A dump made with
//! `makedumpfile -d 31` leaves user pages out; the error then names the
//! first user address that could not be read, as crash's message does.

use kdive_arch::x86_64::PageTables;
use thiserror::Error;

use super::Task;
use crate::{Error, Kernel, LayoutError};

/// The most bytes of arguments or environment read (the kernel's own limit
/// on them is a quarter of the stack limit; this is a bound against a
/// damaged mm).
const MAX_ARGS: u64 = 1 << 20;

/// Why user memory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UserReadError {
    /// The task has no mm (a kernel thread).
    #[error("no user stack")]
    NoMm,
    /// The user address does not translate or its page is not in the dump.
    #[error("cannot access user stack address: {0:x}")]
    Unreadable(u64),
    /// The address translates, but the dump left its page out.
    #[error("cannot access user stack address: {0:x}")]
    Excluded(u64),
    /// Its mm_struct does not read, or the kernel's types do not describe it.
    #[error(transparent)]
    Mm(#[from] Error),
}

/// The arguments and environment of a task: the bytes between
/// `mm->arg_start` and `arg_end`, `env_start` and `env_end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskArgs {
    pub args: Vec<u8>,
    pub env: Vec<u8>,
}

impl Kernel {
    /// Read `buf.len()` bytes at user address `uaddr` of `task`.
    pub fn read_user(&self, task: &Task, uaddr: u64, buf: &mut [u8]) -> Result<(), UserReadError> {
        let tables = self.user_tables(task)?;
        let mut done = 0usize;
        while done < buf.len() {
            let at = uaddr.wrapping_add(done as u64);
            let n = ((0x1000 - (at & 0xfff)) as usize).min(buf.len() - done);
            let phys = tables
                .translate(self.dump(), at)
                .map_err(|_| UserReadError::Unreadable(at))?
                .phys;
            self.read_phys(phys, &mut buf[done..done + n])
                .map_err(|_| UserReadError::Excluded(at))?;
            done += n;
        }
        Ok(())
    }

    /// `ps -a`'s arguments and environment of `task`.
    pub fn task_args(&self, task: &Task) -> Result<TaskArgs, UserReadError> {
        if task.mm == 0 {
            return Err(UserReadError::NoMm);
        }
        let mo = self.mm_offsets()?;
        let (Some(a0), Some(a1), Some(e0), Some(e1)) =
            (mo.arg_start, mo.arg_end, mo.env_start, mo.env_end)
        else {
            return Err(UserReadError::Mm(
                LayoutError::member("mm_struct", "arg_start").into(),
            ));
        };
        let word = |f: super::offsets::Field| {
            self.read_u64(task.mm + f.off as u64)
                .map_err(|e| UserReadError::Mm(Error::read(format!("mm_struct {:x}", task.mm), e)))
        };
        let (a0, a1, e0, e1) = (word(a0)?, word(a1)?, word(e0)?, word(e1)?);
        let read = |lo: u64, hi: u64| -> Result<Vec<u8>, UserReadError> {
            let len = hi.saturating_sub(lo).min(MAX_ARGS) as usize;
            let mut b = vec![0u8; len];
            self.read_user(task, lo, &mut b)?;
            Ok(b)
        };
        let args = read(a0, a1)?;
        let env = read(e0, e1)?;
        Ok(TaskArgs { args, env })
    }

    fn mm_offsets(&self) -> Result<&super::offsets::MmOffsets, UserReadError> {
        self.tasks()
            .offsets
            .as_ref()
            .and_then(|o| o.mm_offsets.as_ref())
            .ok_or_else(|| UserReadError::Mm(LayoutError::Incomplete("mm_struct".into()).into()))
    }

    /// The page tables of `task`'s mm.
    fn user_tables(&self, task: &Task) -> Result<PageTables, UserReadError> {
        if task.mm == 0 {
            return Err(UserReadError::NoMm);
        }
        let pgd_field = self
            .mm_offsets()?
            .pgd
            .ok_or_else(|| Error::from(LayoutError::member("mm_struct", "pgd")))?;
        let pgd = self
            .read_u64(task.mm + pgd_field.off as u64)
            .map_err(|e| Error::read(format!("mm_struct {:x}", task.mm), e))?;
        let phys = self.vtop(pgd).map_err(Error::Mem)?;
        let kernel = self.found.xlat.tables;
        let levels = kernel.map_or(self.found.xlat.levels, |t| t.levels);
        let sme = kernel.map_or(0, |t| t.sme_mask);
        Ok(PageTables::new(phys, levels).with_sme_mask(sme))
    }
}
