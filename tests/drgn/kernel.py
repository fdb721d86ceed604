#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""What drgn sees of the kernel in vmcores, with the kernel's debug info.

    kernel.py VMLINUX VMCORE [VMCORE...]

For each VMCORE prints "== VMCORE", then a few lines that depend on much of
the dump being read right through the kernel's page tables: the release,
the crashed thread and its stack, every task, the log, the slab caches and
the modules (long lists as a count and a sha256). Two files of the same
crash (a dump and its conversion) must print the same lines. A dump drgn
cannot open or walk gives "== VMCORE" then "ERROR why".

Exit status: 0 when every dump was walked, 1 otherwise, 2 on bad usage.
"""

import hashlib
import sys

try:
    import drgn
    from drgn.helpers.linux.module import for_each_module
    from drgn.helpers.linux.pid import for_each_task
    from drgn.helpers.linux.printk import get_dmesg
    from drgn.helpers.linux.slab import for_each_slab_cache
except ImportError as e:
    sys.stderr.write(f"kernel.py: cannot import drgn: {e}\n")
    sys.exit(2)


def digest(lines):
    text = "\n".join(lines).encode()
    return f"{len(lines)} {hashlib.sha256(text).hexdigest()}"


def describe(vmlinux, path):
    prog = drgn.Program()
    prog.set_core_dump(path)
    prog.load_debug_info([vmlinux])
    out = []
    out.append("release " + prog["init_uts_ns"].name.release.string_().decode())
    thread = prog.crashed_thread()
    out.append(f"crashed tid {thread.tid}")
    frames = []
    for f in thread.stack_trace():
        frames.append(f.name or hex(f.pc))
    out.append("stack " + " ".join(frames))
    tasks = [
        f"{t.pid.value_()} {t.comm.string_().decode(errors='replace')} {t.__state.value_():#x}"
        for t in for_each_task(prog)
    ]
    out.append("tasks " + digest(tasks))
    out.append("log " + digest(get_dmesg(prog).decode(errors="replace").splitlines()))
    caches = [
        f"{c.name.string_().decode()} {c.object_size.value_()}"
        for c in for_each_slab_cache(prog)
    ]
    out.append("slab caches " + digest(caches))
    out.append("modules " + " ".join(m.name.string_().decode() for m in for_each_module(prog)))
    return out


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: kernel.py VMLINUX VMCORE [VMCORE...]\n")
        return 2
    vmlinux, paths = argv[1], argv[2:]
    status = 0
    for path in paths:
        print(f"== {path}")
        try:
            lines = describe(vmlinux, path)
        except Exception as e:  # any failure is the answer for this dump
            print(f"ERROR {type(e).__name__}: {e}")
            status = 1
            continue
        for line in lines:
            print(line)
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
