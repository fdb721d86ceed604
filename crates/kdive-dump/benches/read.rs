//! Physical-read throughput: random 4 KiB reads per second and sequential
//! MB/s over a real dump (`cargo bench -p kdive-dump`).
//!
//! The dump is `KDIVE_BENCH_DUMP`, else the first corpus crash's
//! `vmcore.kdump-zlib`. The page cache holds 1024 pages; the dumps hold tens
//! of thousands, so random reads measure lookup plus decompression.

use std::time::Instant;

use kdive_dump::Dump;

fn main() {
    let path = std::env::var_os("KDIVE_BENCH_DUMP")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            kdive_testkit::crashes()
                .into_iter()
                .find_map(|c| c.variant("kdump-zlib").map(|p| p.to_path_buf()))
        })
        .expect("no dump: set KDIVE_BENCH_DUMP or KDIVE_CORPUS");
    let t = Instant::now();
    let dump = Dump::open(&path).expect("open");
    let open = t.elapsed();
    let pfns: Vec<u64> = dump.present_pfns().collect();
    let ps = dump.page_size() as usize;
    let mut page = vec![0u8; ps];
    println!("dump: {} ({} pages present)", path.display(), pfns.len());
    // The same pages for another reader to time (bench/run.sh, drgn).
    if let Some(out) = std::env::var_os("KDIVE_BENCH_PFNS") {
        let list: String = pfns.iter().map(|p| format!("{p}\n")).collect();
        std::fs::write(out, list).expect("write the pfn list");
    }
    println!("open: {:.3} ms", open.as_secs_f64() * 1e3);

    // Sequential: every present page in order, best of 3.
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        for &pfn in &pfns {
            dump.read_page(pfn, &mut page).expect("read");
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    let mb = (pfns.len() * ps) as f64 / 1e6;
    println!(
        "sequential: {:.0} MB/s ({} pages in {:.3} s)",
        mb / best,
        pfns.len(),
        best
    );

    // Random: 4 KiB reads at random present pages (xorshift, fixed seed).
    let n = 200_000;
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let t = Instant::now();
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let pfn = pfns[(x % pfns.len() as u64) as usize];
        dump.read_phys(pfn * ps as u64, &mut page[..4096.min(ps)])
            .expect("read");
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "random 4 KiB: {:.0} reads/s ({n} reads in {s:.3} s)",
        n as f64 / s
    );
}
