//! `kdive --verify VMCORE`: read every page the dump claims to hold and
//! report the ones that cannot be read (truncated file, damaged descriptor
//! or compressed data). Exits nonzero when any page is bad.

use std::path::Path;

use anyhow::{bail, Context};
use kdive_dump::Dump;

/// Bad pages listed one by one before only counting.
const LIST_AT_MOST: usize = 20;
/// Bad pages after which the check stops: a damaged header can describe
/// billions of pages that are not in the file.
const STOP_AFTER: u64 = 100_000;

pub fn run(path: &Path) -> anyhow::Result<()> {
    let dump = Dump::open(path).with_context(|| format!("{}", path.display()))?;
    let mut page = vec![0u8; dump.page_size() as usize];
    let (mut good, mut bad) = (0u64, 0u64);
    for pfn in dump.present_pfns() {
        match dump.read_page(pfn, &mut page) {
            Ok(()) => good += 1,
            Err(e) => {
                bad += 1;
                if bad as usize <= LIST_AT_MOST {
                    eprintln!("{}: {e}", path.display());
                }
                if bad >= STOP_AFTER {
                    bail!(
                        "{}: stopped after {bad} unreadable pages ({good} read)",
                        path.display()
                    );
                }
            }
        }
    }
    println!("{}: {good} pages read, {bad} unreadable", path.display());
    if bad > 0 {
        bail!(
            "{}: {bad} of {} pages are unreadable",
            path.display(),
            good + bad
        );
    }
    Ok(())
}
