#!/bin/bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# transcripts.sh: what crash printed on one corpus dump, as crash.txt.
#
#   usage: scripts/transcripts.sh DIR VMLINUX
#   DIR      a scenario folder written by mkcorpus.sh (vmcore.kdump-zlib inside)
#   VMLINUX  the kernel's vmlinux with debuginfo
#
# Each command's output follows a line `@@@ crash> COMMAND`, as in the shared
# corpus, so the tests read both alike. The commands are the shared corpus's,
# plus the scenario's own. A crash that cannot open the dump (crash 8.0.2 and
# Linux 6.12) writes no crash.txt: the tests then compare with drgn and the
# console only. Exit status: 0 written, 3 crash could not open it, else error.
set -uo pipefail
[ $# = 2 ] || { sed -n '4,7s/^# \{0,1\}//p' "$0" >&2; exit 2; }
D=$(realpath "$1"); VMLINUX=$2
DUMP=$D/vmcore.kdump-zlib
[ -f "$DUMP" ] && [ -f "$VMLINUX" ] || { echo "transcripts: need $DUMP and $VMLINUX" >&2; exit 2; }
command -v crash >/dev/null || { echo "transcripts: crash is not installed" >&2; exit 2; }
SCEN=$(basename "$D"); SCEN=${SCEN%%-*}   # slab-l4, sysrq-d31: slab, sysrq

cmds=$(mktemp); out=$(mktemp); trap 'rm -f "$cmds" "$out"' EXIT
add() { printf '!echo "@@@ crash> %s"\n%s\n' "$1" "$1" >>"$cmds"; }
# Relative: crash runs in DIR and prints the path as given (`mod`'s OBJECT FILE).
[ -f "$D/crashme.ko" ] && printf 'mod -s crashme crashme.ko\n' >>"$cmds"
for c in "sys" "bt" "bt -a" "bt -f" "bt -l" "ps" "log" "kmem -i" "kmem -s" "mod" \
  "sym schedule" "eval (0x1000 + 0x20) * 2" "eval -b 0x4141" "eval -0x7fb70480" \
  "rd -64 init_task 8" "rd -a linux_banner" "rd -8 init_task 16" "rd -32 init_task 8" \
  "p jiffies" "p init_uts_ns.name" "p/x init_task.pid" "whatis struct list_head" \
  "whatis schedule" "struct list_head" "struct -o list_head" \
  "struct task_struct.pid,comm init_task" "dis -l schedule 8" "task" "files" "vm" "runq" \
  "mach" "kmem -p 1000" "vtop init_task" "ptov 0x1000000" "kmem -v" \
  "list task_struct.tasks -s task_struct.pid,comm -h init_task" "irq -s" "timer" "net" \
  "dev" "swap"; do
  add "$c"
done
case $SCEN in
  slab)
    for c in "dis -rl kmem_cache_alloc+235" "kmem -s seed_cache" "kmem -S seed_cache" \
      "p seed_cache" "p *seed_cache" \
      "struct kmem_cache.name,offset,size,object_size,random seed_cache" "p objs" \
      "rd -64 objs 64" "bt -F"; do add "$c"; done ;;
  null)
    for c in "dis -rl seed_touch+5" "dis seed_touch" "p seed_device" "struct seed_dev" \
      "whatis seed_touch" "bt -F"; do add "$c"; done ;;
  sysrq) for c in "dis -rl sysrq_handle_crash" "bt -F"; do add "$c"; done ;;
esac
echo quit >>"$cmds"
# crash runs in the dump's folder so that DUMPFILE names the file alone, as
# in the shared corpus; no stdin terminal, no pager, a bounded run.
(cd "$D" && timeout -k 10 600 crash -s "$VMLINUX" vmcore.kdump-zlib <"$cmds" >"$out" 2>&1)
rc=$?
# crash that could not open the dump prints no command at all.
if ! grep -q '^@@@ crash> sys$' "$out" || ! grep -q 'KERNEL:' "$out"; then
  echo "transcripts: crash (exit $rc) could not open $DUMP:" >&2
  tail -n 5 "$out" >&2
  exit 3
fi
cp "$out" "$D/crash.txt"
echo "transcripts: $D/crash.txt, $(grep -c '^@@@ crash>' "$D/crash.txt") commands" >&2
