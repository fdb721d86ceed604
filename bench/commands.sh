#!/usr/bin/env bash
# Commands over a whole dump, kdive beside crash (and drgn where it has an
# equivalent): each run is a cold start plus one command, so a start alone
# is timed too, to subtract.
#   bench/commands.sh [VMCORE [VMLINUX]]     CMDS="ps|log|kmem -s" to choose
# Default dump: the first corpus crash. For the cost's growth with the
# number of tasks, give the 20,000-task dump that
# `scripts/mkcorpus.sh -o /var/tmp/kdive-bench-corpus tasks` makes.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${KDIVE_CORPUS:-../shared/corpus}
dump=${1:-$(ls "$corpus"/*/*/vmcore.kdump-zlib | head -1)}
kdive=target/release/kdive
cargo build -q --release
release=$($kdive --info "$dump" | sed -n 's/^ *RELEASE: //p')
vmlinux=${2:-/usr/lib/debug/boot/vmlinux-$release}
IFS='|' read -r -a cmds <<<"${CMDS:-ps|log|kmem -s|foreach bt}"
echo "dump: $dump"; echo "vmlinux: $vmlinux"
for c in "${cmds[@]}"; do
  printf '%s\n' "$c" | $kdive "$vmlinux" "$dump" >/dev/null 2>&1 ||
    echo "note: kdive: '$c' failed or is missing" >&2
  printf '%s: kdive prints %s lines\n' "$c" "$(printf '%s\n' "$c" | $kdive "$vmlinux" "$dump" 2>/dev/null | wc -l)"
done
runs=()
runs+=("kdive: start=printf '' | $kdive $vmlinux $dump")
for c in "${cmds[@]}"; do runs+=("kdive: $c=printf '$c\n' | $kdive $vmlinux $dump"); done
if command -v crash >/dev/null && [ -f "$vmlinux" ]; then
  runs+=("crash: start=printf 'q\n' | crash -s $vmlinux $dump")
  for c in "${cmds[@]}"; do runs+=("crash: $c=printf '$c\nq\n' | crash -s $vmlinux $dump"); done
fi
if command -v hyperfine >/dev/null; then
  args=()
  for r in "${runs[@]}"; do args+=(-n "${r%%=*}" "${r#*=}"); done
  hyperfine -i --warmup 1 --runs "${RUNS:-3}" "${args[@]}"
else
  for r in "${runs[@]}"; do
    echo "== ${r%%=*}"; /usr/bin/time -f "%e s, %M KiB max RSS" bash -c "${r#*=}" >/dev/null
  done
fi
