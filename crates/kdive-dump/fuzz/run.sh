#!/usr/bin/env bash
# Run every fuzz target of kdive-dump, two at a time, SECONDS_EACH seconds
# each (default 300), after writing the seed corpora. Logs go to
# fuzz/logs/<target>.log, crashes to fuzz/artifacts/<target>/.
#
#   crates/kdive-dump/fuzz/run.sh [SECONDS_EACH] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(kdump elf flat notes)
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets stable provide them.
export RUSTC_BOOTSTRAP=1
(cd .. && cargo run -q --example fuzz_seeds >/dev/null)
cargo fuzz build
mkdir -p logs
run() {
  cargo fuzz run "$1" -- -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
    >"logs/$1.log" 2>&1 && echo "$1: ok" || echo "$1: FAILED (see fuzz/logs/$1.log)"
  grep -E '^Done|stat::number_of_executed_units' "logs/$1.log" | tail -1 || true
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  if [ $((i + 1)) -lt ${#targets[@]} ]; then run "${targets[i + 1]}" & fi
  wait
done
