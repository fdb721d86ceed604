# SPDX-License-Identifier: MIT OR Apache-2.0
"""drgn_truth.py: what drgn reads in one corpus dump, as drgn.txt.

    usage: PYTHON-WITH-DRGN scripts/drgn_truth.py VMCORE VMLINUX [MODULE.ko...] >drgn.txt

The sections are those of the shared corpus's drgn.txt files, which the
tests parse (tasks.rs, ps.rs, slab.rs, modules.rs, bt_chains.rs, ...):

    ### tasks: pid ppid cpu task state comm
    ### crashed thread              "tid N", then drgn's stack trace
    ### active task per cpu         "=== cpu C pid P COMM", then its stack trace
    ### slab caches: address name object_size
    ### modules: name base size     base and size of the core memory
    ### dmesg

Only the given debuginfo is loaded (the vmlinux, and e.g. crashme.ko), none
found elsewhere. A section drgn cannot finish (a dump can leave out pages it
needs) is left out whole, with the reason on stderr, so that no reader takes a
partial list for the full one. Exit status: 0 all sections, 1 some left out,
2 none (the dump could not be opened, or drgn could read nothing in it).
"""

import io
import sys
import traceback

import drgn
from drgn.helpers.linux.module import for_each_module
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_dmesg
from drgn.helpers.linux.sched import task_cpu, task_state_to_char
from drgn.helpers.linux.slab import for_each_slab_cache


def comm(task):
    return task.comm.string_().decode(errors="replace")


def tasks(prog, out):
    print("### tasks: pid ppid cpu task state comm", file=out)
    for t in for_each_task(prog):
        print(
            t.pid.value_(),
            t.real_parent.pid.value_(),
            task_cpu(t),
            hex(t.value_()),
            task_state_to_char(t),
            comm(t),
            file=out,
        )


def crashed_thread(prog, out):
    print("### crashed thread", file=out)
    th = prog.crashed_thread()
    print("tid", th.tid, file=out)
    print(th.stack_trace(), file=out)


def active_tasks(prog, out):
    # The tasks running on a CPU when the dump was taken (idle CPUs have
    # none here: their idle task is not one of the program's threads).
    print("### active task per cpu", file=out)
    for th in prog.threads():
        t = th.object
        try:
            if not t.on_cpu:
                continue
        except drgn.FaultError:
            continue
        print("=== cpu", task_cpu(t), "pid", th.tid, comm(t), file=out)
        print(th.stack_trace(), file=out)


def slab_caches(prog, out):
    print("### slab caches: address name object_size", file=out)
    for s in for_each_slab_cache(prog):
        print(hex(s.value_()), s.name.string_().decode(), s.object_size.value_(), file=out)


def module_core(prog, m):
    """(base, size) of a module's core memory, for either layout of
    struct module: mem[MOD_TEXT..MOD_RO_AFTER_INIT] from Linux 6.4 on (base:
    the text; size: the core parts together, as crash counts them),
    core_layout before."""
    if has_member(prog, "struct module", "mem"):
        base = m.mem[prog["MOD_TEXT"]].base.value_()
        size = 0
        for kind in ("MOD_TEXT", "MOD_DATA", "MOD_RODATA", "MOD_RO_AFTER_INIT"):
            size += m.mem[prog[kind]].size.value_()
        return base, size
    return m.core_layout.base.value_(), m.core_layout.size.value_()


def has_member(prog, type_name, member):
    try:
        prog.type(type_name).member(member)
        return True
    except LookupError:
        return False


def modules(prog, out):
    print("### modules: name base size", file=out)
    for m in for_each_module(prog):
        base, size = module_core(prog, m)
        print(m.name.string_().decode(), hex(base), size, file=out)


def dmesg(prog, out):
    print("### dmesg", file=out)
    print(get_dmesg(prog).decode(errors="replace"), file=out)


def main(argv):
    if len(argv) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    vmcore, debuginfo = argv[1], argv[2:]
    prog = drgn.Program()
    try:
        prog.set_core_dump(vmcore)
        prog.load_debug_info(debuginfo)
    except drgn.MissingDebugInfoError as e:
        # e.g. no debuginfo for the virtio modules: the kernel's own is enough
        print(f"drgn_truth: {e}", file=sys.stderr)
    except Exception as e:
        print(f"drgn_truth: cannot open {vmcore}: {e}", file=sys.stderr)
        return 2
    status, written = 0, 0
    for section in (tasks, crashed_thread, active_tasks, slab_caches, modules, dmesg):
        buf = io.StringIO()
        try:
            section(prog, buf)
        except Exception as e:
            status = 1
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(
                f"drgn_truth: section {section.__name__} left out: "
                f"{type(e).__name__}: {e} (at {where.name}:{where.lineno})",
                file=sys.stderr,
            )
            continue
        sys.stdout.write(buf.getvalue())
        written += 1
    return status if written else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
