"""Print the kernel's interrupt descriptors as drgn's tree helpers find them:
one line "IRQ ADDRESS CPUS" per entry of `sparse_irqs` (maple tree, 6.5+) or
`irq_desc_tree` (radix tree): the hex address, and the CPUs of its affinity
mask joined by commas ("-" for a descriptor without an action). Usage:
irq_descs.py VMCORE VMLINUX. Exit status 3 when the tree does not read (a
page the dump lacks)."""

import sys

import drgn
from drgn import Object
from drgn.helpers.linux.cpumask import for_each_cpu

prog = drgn.Program()
prog.set_core_dump(sys.argv[1])
prog.load_debug_info([sys.argv[2]])
try:
    try:
        from drgn.helpers.linux.mapletree import mt_for_each

        tree = prog["sparse_irqs"].address_of_()
        entries = [(first, e.value_()) for first, _last, e in mt_for_each(tree)]
    except KeyError:
        from drgn.helpers.linux.radixtree import radix_tree_for_each

        tree = prog["irq_desc_tree"].address_of_()
        entries = [(i, e.value_()) for i, e in radix_tree_for_each(tree)]
except drgn.FaultError as e:
    print(e, file=sys.stderr)
    sys.exit(3)
for i, e in entries:
    desc = Object(prog, "struct irq_desc *", e)
    cpus = "-"
    if desc.action:
        cpus = ",".join(str(c) for c in for_each_cpu(desc.irq_common_data.affinity))
    print(i, hex(e), cpus)
