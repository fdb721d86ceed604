#!/usr/bin/env python3
"""drgn (libkdumpfile) beside kdive on the same reads: random 4 KiB physical
reads per second and sequential MB/s. Usage: drgn_read.py VMCORE PFNFILE
where PFNFILE lists present page frame numbers, one per line (kdive's
benchmark order). Run with a python that has drgn (bench/run.sh does)."""
import sys
import time

import drgn


def main():
    path, pfn_file = sys.argv[1], sys.argv[2]
    pfns = [int(l) for l in open(pfn_file)]
    t = time.perf_counter()
    prog = drgn.Program()
    prog.set_core_dump(path)
    print(f"drgn open: {(time.perf_counter() - t) * 1e3:.1f} ms")
    t = time.perf_counter()
    for pfn in pfns:
        prog.read(pfn * 4096, 4096, True)
    s = time.perf_counter() - t
    print(f"drgn sequential: {len(pfns) * 4096 / 1e6 / s:.0f} MB/s ({len(pfns)} pages in {s:.3f} s)")
    n, x = 200000, 0x9E3779B97F4A7C15
    mask = (1 << 64) - 1
    t = time.perf_counter()
    for _ in range(n):
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        prog.read(pfns[x % len(pfns)] * 4096, 4096, True)
    s = time.perf_counter() - t
    print(f"drgn random 4 KiB: {n / s:.0f} reads/s ({n} reads in {s:.3f} s)")


if __name__ == "__main__":
    main()
