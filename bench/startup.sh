#!/usr/bin/env bash
# Cold start to the first answer: `sym schedule` on a dump, kdive beside
# crash and drgn where installed (hyperfine when present, else `time`).
#   bench/startup.sh [VMCORE [VMLINUX]]
# Default: the first corpus crash with a kdump-zlib dump and the vmlinux of
# its release. Page cache warm: each tool runs once before timing.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${KDIVE_CORPUS:-../shared/corpus}
dump=${1:-$(ls "$corpus"/*/*/vmcore.kdump-zlib | head -1)}
kdive=target/release/kdive
cargo build -q --release
release=$($kdive --info "$dump" | sed -n 's/^ *RELEASE: //p')
vmlinux=${2:-/usr/lib/debug/boot/vmlinux-$release}
echo "dump: $dump"; echo "vmlinux: $vmlinux"
cmds=(
  "kdive (vmlinux)=printf 'sym schedule\n' | $kdive $vmlinux $dump"
  "kdive (no vmlinux)=printf 'sym schedule\n' | $kdive --no-vmlinux $dump"
)
command -v crash >/dev/null && [ -f "$vmlinux" ] &&
  cmds+=("crash=printf 'sym schedule\nq\n' | crash -s $vmlinux $dump")
py=""
for c in "${KDIVE_DRGN_PYTHON:-}" /var/tmp/kdive-drgn-venv/bin/python /opt/drgn-venv/bin/python; do
  [ -n "$c" ] && "$c" -c 'import drgn' 2>/dev/null && { py=$c; break; }
done
[ -n "$py" ] && [ -f "$vmlinux" ] &&
  cmds+=("drgn=$py -c \"import drgn; p=drgn.Program(); p.set_core_dump('$dump'); p.load_debug_info(['$vmlinux']); print(hex(p.symbol('schedule').address))\"")
if command -v hyperfine >/dev/null; then
  args=()
  for c in "${cmds[@]}"; do args+=(-n "${c%%=*}" "${c#*=}"); done
  hyperfine --warmup 1 --runs "${RUNS:-5}" "${args[@]}"
else
  for c in "${cmds[@]}"; do
    echo "== ${c%%=*}"; /usr/bin/time -f "%e s, %M KiB max RSS" bash -c "${c#*=}" >/dev/null
  done
fi
