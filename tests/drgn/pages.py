#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Hash the pages of vmcores as drgn (and its bundled libkdumpfile) reads them.

An independent reader for kdive's tests: kdive hashes the pages it reads,
this script hashes the same page frames through drgn, and the two lists must
agree.

    pages.py [--page-size N] VMCORE [VMCORE...] < PFNS
        PFNS: one page frame number a line (decimal, or hex with 0x).
        For each VMCORE prints "== VMCORE", then "RELEASE OSRELEASE" (what
        drgn took from the dump's VMCOREINFO; "RELEASE ERROR why" without
        it), then one line per PFN, in input order: "PFN SHA256" when drgn
        reads the page, else "PFN ERROR why".
        A dump drgn cannot open gives "== VMCORE" then "OPEN-ERROR why".

    pages.py --scan [--page-size N] VMCORE [VMCORE...]
        No input: tries every page frame from 0 to the dump's end (found by
        bisecting on libkdumpfile's "Out-of-bounds PFN") and prints
        "PFN SHA256" for each page drgn reads. Slow (about 20 us per page
        frame that is not in the dump), but needs nothing from kdive. The
        "RELEASE" line comes first here too.

The dump is opened with no debug info: drgn.Program() then set_core_dump();
drgn takes the architecture from the dump. Reads are physical
(prog.read(addr, size, True)). Consecutive PFNs are read in one call and
split, falling back to one read per page when the run has a hole.

Exit status: 0 when every dump opened (unreadable pages are not failures:
the caller decides), 1 when one did not open, 2 on bad usage.
"""

import hashlib
import sys

try:
    import drgn
except ImportError as e:  # pragma: no cover - the caller checks this first
    sys.stderr.write(f"pages.py: cannot import drgn: {e}\n")
    sys.exit(2)

# Pages read in one call at most.
MAX_RUN = 256


def open_dump(path):
    prog = drgn.Program()
    prog.set_core_dump(path)
    return prog


def release(prog):
    try:
        return prog["UTS_RELEASE"].string_().decode(errors="replace")
    except Exception as e:  # no VMCOREINFO, or an unreadable one
        return f"ERROR {type(e).__name__}: {e}"


def fault_reason(e):
    msg = str(e)
    # "could not read memory from kdump: Excluded page"
    return msg.split(": ", 1)[-1] if ": " in msg else msg


def read_page(prog, pfn, ps):
    try:
        return prog.read(pfn * ps, ps, True), None
    except drgn.FaultError as e:
        return None, fault_reason(e)
    except (ValueError, OverflowError) as e:
        return None, f"{type(e).__name__}: {e}"


def runs(pfns):
    """Split a list of PFNs into runs of consecutive ones (input order kept)."""
    i, n = 0, len(pfns)
    while i < n:
        j = i + 1
        while j < n and j - i < MAX_RUN and pfns[j] == pfns[j - 1] + 1:
            j += 1
        yield pfns[i:j]
        i = j


def hash_pfns(prog, pfns, ps, out):
    sha = hashlib.sha256
    for run in runs(pfns):
        if len(run) > 1:
            try:
                data = prog.read(run[0] * ps, len(run) * ps, True)
            except drgn.FaultError:
                data = None
            if data is not None:
                for k, pfn in enumerate(run):
                    out.append(f"{pfn} {sha(data[k * ps:(k + 1) * ps]).hexdigest()}")
                continue
        for pfn in run:
            page, why = read_page(prog, pfn, ps)
            if page is None:
                out.append(f"{pfn} ERROR {why}")
            else:
                out.append(f"{pfn} {sha(page).hexdigest()}")


def end_pfn(prog, ps):
    """One past the last PFN libkdumpfile accepts (not out of bounds)."""

    def in_bounds(pfn):
        _, why = read_page(prog, pfn, ps)
        return why is None or "Out-of-bounds" not in why

    lo, hi = 0, 1
    while in_bounds(hi):
        lo, hi = hi, hi * 2
        if hi > 1 << 52:
            raise RuntimeError("no end of memory found")
    # in_bounds(lo) (or lo == 0), not in_bounds(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if in_bounds(mid):
            lo = mid
        else:
            hi = mid
    return hi


def scan(prog, ps, out):
    sha = hashlib.sha256
    for pfn in range(end_pfn(prog, ps)):
        page, _ = read_page(prog, pfn, ps)
        if page is not None:
            out.append(f"{pfn} {sha(page).hexdigest()}")


def main(argv):
    args = argv[1:]
    do_scan = False
    ps = 4096
    paths = []
    while args:
        a = args.pop(0)
        if a == "--scan":
            do_scan = True
        elif a == "--page-size":
            ps = int(args.pop(0), 0)
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(a)
    if not paths:
        sys.stderr.write("usage: pages.py [--scan] [--page-size N] VMCORE [VMCORE...]\n")
        return 2
    pfns = []
    if not do_scan:
        for line in sys.stdin:
            line = line.strip()
            if line:
                pfns.append(int(line, 0))
    status = 0
    w = sys.stdout.write
    for path in paths:
        w(f"== {path}\n")
        try:
            prog = open_dump(path)
        except Exception as e:  # drgn raises several kinds here
            w(f"OPEN-ERROR {type(e).__name__}: {e}\n")
            status = 1
            continue
        out = [f"RELEASE {release(prog)}"]
        if do_scan:
            scan(prog, ps, out)
        else:
            hash_pfns(prog, pfns, ps, out)
        w("\n".join(out))
        w("\n")
        del prog
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
