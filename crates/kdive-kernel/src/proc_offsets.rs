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
        self.proc_offsets.get_or_init(|| match self.layouts() {
            None => ProcOffsets::default(),
            Some(btf) => ProcOffsets {
                path: PathOffsets::from_layouts(btf),
                files: FilesOffsets::from_layouts(btf),
                vma: VmaOffsets::from_layouts(btf),
                maple: MapleOffsets::from_layouts(btf),
                runq: RunqOffsets::from_layouts(btf),
            },
        })
    }
}
