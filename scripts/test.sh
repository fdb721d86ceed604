#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# The project's test command: installs what the tests need on a fresh
# Debian 12 machine (as root), builds the project's own corpus of dumps when
# it is missing, then runs every test.
#
#   scripts/test.sh            everything
#   QUICK=1 scripts/test.sh    no corpus build, no drgn install (uses what is there)
#   KDIVE_MORE_KERNELS=0 scripts/test.sh   without the crashes of other suites' kernels
#                              (bullseye 5.10, trixie 6.12, trixie-backports 7.3), which are
#                              unpacked in /var/tmp/kdive-kernels, not installed (scripts/README.md)
#
# Real dumps: KDIVE_CORPUS, else ../shared/corpus; plus the built corpus at
# KDIVE_BUILT_CORPUS (default /var/tmp/kdive-corpus). See crates/kdive-testkit.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[test %s] %s\n' "$(date +%T)" "$*" >&2; }

if [ "${QUICK:-0}" != 1 ]; then
  # The vmlinux (with DWARF) of every kernel in the corpora, and crash, the
  # reference the outputs are compared with, and gdb (dis is compared with its
  # disassembly).
  want=(crash gdb tmux)
  # (Kernels of other Debian suites are not installed: scripts/fetch-kernel.sh
  # unpacks them with their vmlinux, in /var/tmp/kdive-kernels.)
  for d in ${KDIVE_CORPUS:-../shared/corpus} "${KDIVE_BUILT_CORPUS:-/var/tmp/kdive-corpus}"; do
    for k in "$d"/linux-*; do
      [ -d "$k" ] || continue
      p=linux-image-${k##*/linux-}-dbg
      policy=$(apt-cache policy "$p" 2>/dev/null)
      grep -q '^ *Candidate: [^(]' <<<"$policy" && want+=("$p")
    done
  done
  missing=()
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: ${missing[*]}"
    apt-get -q update
    DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 install -y "${missing[@]}"
  fi

  # Crashes in every variant makedumpfile writes, each with crash's
  # transcript (crash.txt), and a QEMU dump with no VMCOREINFO: the shared
  # corpus keeps only kdump-zlib files, and a clone with no ../shared beside
  # it needs a corpus of its own (null carries the module's types).
  log "corpus: scripts/mkcorpus.sh slab null qemu (skipped when already built)"
  WITH_DBG=1 scripts/mkcorpus.sh slab null qemu
  # A newer kernel than the shared corpus's (structures changed: maple
  # trees, 3 timer bases, pcpu_hot), dumped by a makedumpfile older than it.
  # Its -dbg package is large; KDIVE_NEW_KERNEL= (empty) skips it.
  new=${KDIVE_NEW_KERNEL-6.12.117+deb12-cloud-amd64}
  if [ -n "$new" ]; then
    log "corpus: scripts/mkcorpus.sh -k $new slab"
    WITH_DBG=1 scripts/mkcorpus.sh -k "$new" slab ||
      log "corpus: the $new crash could not be built; its tests will skip"
  fi

  # Kernels of other Debian suites, not installed but unpacked
  # (scripts/fetch-kernel.sh), each dumped at a level that keeps what it needs;
  # 7.3 also once at makedumpfile's usual -d 31, which leaves out its slab
  # pages (sysrq-d31: a damaged dump). Its crashme module builds (trixie's
  # kbuild on a newer glibc, see scripts/README.md), but slab does not crash
  # 7.x (SLUB's per-CPU sheaves keep the freed object off the freelist the
  # write clobbers): null instead.
  if [ "${KDIVE_MORE_KERNELS:-1}" = 1 ]; then
    for k in "5.10.0-32-cloud-amd64 slab sysrq" "6.12.117+deb13-cloud-amd64 slab" \
             "7.3.4+deb13-cloud-amd64 null sysrq sysrq-d31"; do
      read -ra args <<<"$k"
      log "corpus: scripts/mkcorpus.sh -k ${args[*]}"
      scripts/mkcorpus.sh -k "${args[@]}" || log "corpus: some crashes of ${args[0]} could not be built"
    done
  fi

  # drgn from PyPI bundles libkdumpfile: the independent reader that checks
  # what kdive convert writes.
  venv=${KDIVE_DRGN_VENV:-/var/tmp/kdive-drgn-venv}
  if ! "$venv/bin/python" -c 'import drgn' 2>/dev/null; then
    log "drgn: creating $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q drgn
  fi
  export KDIVE_DRGN_PYTHON=$venv/bin/python
fi

# libkdumpfile's translation cases are other projects' data, in ../shared
# only; without it that one test is skipped, and says so.
conf=${KDIVE_CONFORMANCE:-../shared/conformance}
if [ ! -f "$conf/libkdumpfile-xlat-x86_64/params.tsv" ]; then
  log "no conformance cases at $conf: xlat_conformance skips (KDIVE_ALLOW_NO_CONFORMANCE=1)"
  export KDIVE_ALLOW_NO_CONFORMANCE=1
fi

log "cargo clippy"
cargo clippy --workspace --all-targets -q -- -D warnings
log "cargo test"
out=$(mktemp); trap 'rm -f "$out"' EXIT
# --no-fail-fast: every test binary runs even when one fails, so one failure
# hides no other; the closing line below still fails the run.
rc=0
cargo test --workspace --no-fail-fast 2>&1 | tee "$out" || rc=$?
# One closing line for the whole run (cargo's last line is a crate's
# doc-tests, often "0 passed"). cargo's own status counts too: a test
# binary that did not build or died prints no "test result" line.
awk -v rc="$rc" '/^test result:/ { p += $4; f += $6; s += $8 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; exit (f > 0 || p == 0 || rc != 0) }' "$out"
