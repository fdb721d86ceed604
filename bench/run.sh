#!/usr/bin/env bash
# kdive's benchmarks, beside drgn where it is installed.
#   bench/run.sh [VMCORE]     (default: the corpus's first kdump-zlib dump)
# drgn is looked for at $KDIVE_DRGN_PYTHON, /opt/drgn-venv/bin/python, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
pfns=$(mktemp); trap 'rm -f "$pfns"' EXIT
[ $# -ge 1 ] && export KDIVE_BENCH_DUMP=$1
echo "== kdive (kdive-dump, release build)"
out=$(KDIVE_BENCH_PFNS=$pfns cargo bench -q -p kdive-dump --bench read 2>/dev/null)
echo "$out"
dump=$(sed -n 's/^dump: \(.*\) (.*/\1/p' <<<"$out")
py=""
for c in "${KDIVE_DRGN_PYTHON:-}" /opt/drgn-venv/bin/python python3; do
  [ -n "$c" ] && "$c" -c 'import drgn' 2>/dev/null && { py=$c; break; }
done
if [ -n "$py" ]; then
  echo "== drgn $("$py" -c 'import drgn; print(drgn.__version__)') (libkdumpfile), same pages"
  "$py" bench/drgn_read.py "$dump" "$pfns"
else
  echo "== drgn not installed: skipped"
fi
