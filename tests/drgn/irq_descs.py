"""Print the kernel's interrupt descriptors as drgn's tree helpers find them:
one line "IRQ ADDRESS" (hex address) per entry of `sparse_irqs` (maple tree,
6.5+) or `irq_desc_tree` (radix tree). Usage: irq_descs.py VMCORE VMLINUX.
Exit status 3 when the tree does not read (a page the dump lacks)."""

import sys

import drgn

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
    print(i, hex(e))
