#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Read kernel virtual memory as drgn does, for kdive's tests.

    vread.py VMCORE < REQUESTS
        REQUESTS: "ADDR LEN" a line (hex address, decimal length).
        Prints, in order, "ADDR HEX" (the bytes as hex) or "ADDR ERROR why".

The dump is opened with no debug info: drgn translates kernel virtual
addresses with the page tables that VMCOREINFO locates.
"""
import sys

import drgn


def main():
    prog = drgn.Program()
    prog.set_core_dump(sys.argv[1])
    for line in sys.stdin:
        if not line.strip():
            continue
        addr, n = line.split()
        a = int(addr, 16)
        try:
            data = prog.read(a, int(n))
            print(f"{a:x} {data.hex()}")
        except Exception as e:  # drgn.FaultError and friends
            print(f"{a:x} ERROR {str(e).splitlines()[0]}")


if __name__ == "__main__":
    main()
