//! The offsets of the per-task walkers (files, VMAs, runqueues), looked up
//! in the kernel's BTF once per kernel.

use crate::fs::{FilesOffsets, PathOffsets};
use crate::maple::MapleOffsets;
use crate::runq::RunqOffsets;
use crate::vma::VmaOffsets;
use crate::Kernel;

#[derive(Debug, Clone, Default)]
pub(crate) struct ProcOffsets {
    pub path: Option<PathOffsets>,
    pub files: Option<FilesOffsets>,
    pub vma: Option<VmaOffsets>,
    pub maple: Option<MapleOffsets>,
    pub runq: Option<RunqOffsets>,
}

impl Kernel {
    pub(crate) fn proc_offsets(&self) -> &ProcOffsets {
        self.proc_offsets.get_or_init(|| match self.btf() {
            None => ProcOffsets::default(),
            Some(btf) => ProcOffsets {
                path: PathOffsets::from_btf(btf),
                files: FilesOffsets::from_btf(btf),
                vma: VmaOffsets::from_btf(btf),
                maple: MapleOffsets::from_btf(btf),
                runq: RunqOffsets::from_btf(btf),
            },
        })
    }
}
