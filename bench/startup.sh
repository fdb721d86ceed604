#!/usr/bin/env bash
# Cold start to the first answer on a dump, kdive beside crash and drgn
# where installed (hyperfine when present, else `time`).
#   bench/startup.sh [VMCORE [VMLINUX]]
#   WHAT=sym     the first `sym schedule` (default)
#   WHAT=bt      the first `bt` (drgn: the crashed thread's stack trace)
#   WHAT=struct  the first `struct task_struct.pid,comm init_task`: kdive
#                with its DWARF index cached (a second start), with no
#                cache (the first start after installing a vmlinux), and
#                from the dump's BTF with no vmlinux.
# Default dump: the first corpus crash with a kdump-zlib dump and the
# vmlinux of its release. Page cache warm: each tool runs once before timing.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${KDIVE_CORPUS:-../shared/corpus}
dump=${1:-$(ls "$corpus"/*/*/vmcore.kdump-zlib | head -1)}
kdive=target/release/kdive
cargo build -q --release
release=$($kdive --info "$dump" | sed -n 's/^ *RELEASE: //p')
vmlinux=${2:-/usr/lib/debug/boot/vmlinux-$release}
what=${WHAT:-sym}
echo "dump: $dump"; echo "vmlinux: $vmlinux"; echo "first answer: $what"
py=""
for c in "${KDIVE_DRGN_PYTHON:-}" /var/tmp/kdive-drgn-venv/bin/python /opt/drgn-venv/bin/python; do
  [ -n "$c" ] && "$c" -c 'import drgn' 2>/dev/null && { py=$c; break; }
done
drgn_open="import drgn; p=drgn.Program(); p.set_core_dump('$dump'); p.load_debug_info(['$vmlinux'])"
nocache=$(mktemp -d)
trap 'rm -rf "$nocache"' EXIT
case $what in
  sym)
    cmd='sym schedule'
    drgn_cmd="$drgn_open; print(hex(p.symbol('schedule').address))"
    ;;
  struct)
    cmd='struct task_struct.pid,comm init_task'
    drgn_cmd="$drgn_open; t=p['init_task']; print(t.pid, t.comm)"
    ;;
  bt)
    cmd='bt'
    drgn_cmd="$drgn_open; print(p.crashed_thread().stack_trace())"
    ;;
  *) echo "WHAT: sym, bt or struct" >&2; exit 2 ;;
esac
cmds=(
  "kdive (vmlinux)=printf '$cmd\n' | $kdive $vmlinux $dump"
  "kdive (no vmlinux)=printf '$cmd\n' | $kdive --no-vmlinux $dump"
)
[ "$what" = struct ] &&
  cmds+=("kdive (vmlinux, no index cache)=rm -rf $nocache/kdive; printf '$cmd\n' | XDG_CACHE_HOME=$nocache $kdive $vmlinux $dump")
command -v crash >/dev/null && [ -f "$vmlinux" ] &&
  cmds+=("crash=printf '$cmd\nq\n' | crash -s $vmlinux $dump")
[ -n "$py" ] && [ -f "$vmlinux" ] && cmds+=("drgn=$py -c \"$drgn_cmd\"")
if command -v hyperfine >/dev/null; then
  args=()
  for c in "${cmds[@]}"; do args+=(-n "${c%%=*}" "${c#*=}"); done
  hyperfine --warmup 1 --runs "${RUNS:-5}" "${args[@]}"
else
  for c in "${cmds[@]}"; do
    echo "== ${c%%=*}"; /usr/bin/time -f "%e s, %M KiB max RSS" bash -c "${c#*=}" >/dev/null
  done
fi
