#!/bin/bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# mkcorpus.sh: build real Linux kernel crash dumps from nothing (Debian 12, root).
#
# A Debian kernel boots under QEMU (TCG) with a kdump capture kernel loaded,
# crashes on purpose, and the capture kernel writes every dump variant of that
# one crash onto a virtual disk, which is then read back with debugfs.
#
#   usage: scripts/mkcorpus.sh [-k KVER] [-o OUTROOT] SCENARIO...
#   SCENARIO  sysrq | slab | null | qemu | tasks, suffixed -dN (makedumpfile -d N) and/or -l4
#             (4-level paging), e.g. sysrq-d31, slab-l4. tasks: 20,000 sleeping threads, then
#             sysrq (RAM 3 GiB; zlib dump only), for benchmarks (-o /var/tmp/kdive-bench-corpus)
#   KVER      a kernel apt installs here, or one of another Debian suite, unpacked, not
#             installed (scripts/fetch-kernel.sh: /var/tmp/kdive-kernels/KVER)
#   output    OUTROOT/linux-KVER/SCENARIO/   (a DONE file marks it complete)
#   env       FORCE=1 redo finished scenarios   WITH_DBG=1 also install -dbg (~600 MB)
#             CPU=max (5-level paging) | max,la57=off (4-level)   TIMEOUT=secs per QEMU run
#             ACCEL="-accel tcg,thread=multi"   DUMPLEVEL=31 (makedumpfile -d; 23 past 6.1)
#             VARIANTS=all|few (few: dmesg, kdump-zlib, elf; the default for kernels but 6.1)
set -euo pipefail

DEFAULT_KVER=6.1.0-47-cloud-amd64
KVER=$DEFAULT_KVER
OUTROOT=${KDIVE_BUILT_CORPUS:-/var/tmp/kdive-corpus}
usage() { sed -n '9,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while getopts k:o:h opt; do
  case $opt in k) KVER=$OPTARG ;; o) OUTROOT=$OPTARG ;; *) usage ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
# A scenario's name: its base, then suffixes: sysrq-d31-l4 is sysrq, "d31 l4".
scen_base() { echo "${1%%-*}"; }
scen_sfx() { [ "$1" = "${1#*-}" ] || echo "${1#*-}" | tr - ' '; }
for s in "$@"; do
  case $(scen_base "$s") in sysrq|slab|null|qemu|tasks) ;; *) echo "unknown scenario: $s" >&2; usage ;; esac
  for x in $(scen_sfx "$s"); do
    case $x in l4|d[0-9]|d[0-9][0-9]) ;; *) echo "unknown suffix -$x in $s" >&2; usage ;; esac
  done
done
[ "$(id -u)" = 0 ] || { echo "mkcorpus: must run as root (apt, kernel headers)" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
OUTROOT=$(realpath -m "$OUTROOT")
TMO=${TIMEOUT:-1500}
ACCEL=${ACCEL:-"-accel tcg,thread=multi"}
log() { printf '[mkcorpus %s] %s\n' "$(date +%T)" "$*" >&2; }
# The dump level. At 31 makedumpfile leaves out the pages it takes for user
# pages, by the page flags of the kernels it knows. Debian 12's 1.7.2 knows
# 6.1 (its level-31 dumps are complete), but takes slab pages (task_structs
# among them) of 6.12 and 7.3 for user pages. For kernels newer than 6.1,
# level 23 (user pages kept) keeps what the kernel needs; a -dN scenario
# says its own (sysrq-d31: the usual level, a dump missing those pages).
kver_num() { local v=${1%%[-+]*}; IFS=. read -r a b _ <<<"$v"; echo $((a * 1000 + b)); }
if [ -n "${DUMPLEVEL:-}" ]; then DL=$DUMPLEVEL
elif [ "$(kver_num "$KVER")" -gt "$(kver_num 6.1)" ]; then DL=23
else DL=31; fi
# Every variant for the default kernel; for the others, to bound the time and
# disk of a build, the kdump-compressed file and the ELF one (two formats
# from one crash, enough to compare), no /proc/vmcore copy.
VARIANTS=${VARIANTS:-$([ "$KVER" = "$DEFAULT_KVER" ] && echo all || echo few)}
case $VARIANTS in all|few) ;; *) echo "VARIANTS is all or few" >&2; exit 2 ;; esac

# ---- 1. packages (apt waits for a busy dpkg lock instead of failing)
apt_() {
  local n=0
  until DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 "$@"; do
    n=$((n + 1)); [ $n -lt 10 ] || return 1
    log "apt-get $1 failed (lock busy?), retrying in 30 s"; sleep 30
  done
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
# A package apt can install from this machine's sources.
installable() {   # (no pipe into grep -q: with pipefail, apt-cache's SIGPIPE fails it)
  local p; installed "$1" || { p=$(apt-cache policy "$1" 2>/dev/null); grep -q '^ *Candidate: [^(]' <<<"$p"; }
}
want=(qemu-system-x86 kexec-tools makedumpfile cpio e2fsprogs xz-utils zstd gzip make python3 kmod)
installed busybox-static || installed busybox || want+=(busybox-static)
# The kernel: installed with apt when this machine's suites have it (KROOT
# empty), else unpacked from another suite's packages (KROOT, its -dbg too).
KROOT=
if installable "linux-image-$KVER"; then
  want+=("linux-image-$KVER" "linux-headers-$KVER")
  [ "${WITH_DBG:-0}" = 1 ] && want+=("linux-image-$KVER-dbg")
fi
missing=(); for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt_ update
  apt_ install -y --no-install-recommends "${missing[@]}"
fi
if ! installable "linux-image-$KVER"; then
  log "linux-image-$KVER is not in this machine's suites: fetching it from another"
  KROOT=$("$HERE/fetch-kernel.sh" "$KVER" | tail -n 1)
fi
MODDIR=$KROOT/lib/modules/$KVER
[ -d "$MODDIR/kernel" ] || MODDIR=$KROOT/usr/lib/modules/$KVER
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
[ -r "$VMLINUZ" ] || VMLINUZ=$MODDIR/vmlinuz
VMLINUX=$KROOT/usr/lib/debug/boot/vmlinux-$KVER   # the debuginfo, for crash.txt and drgn.txt
[ -r "$VMLINUZ" ] && [ -d "$MODDIR/build" ] || { echo "no $VMLINUZ or $MODDIR/build" >&2; exit 1; }
log "kernel $KVER from ${KROOT:-this system}; dump level $DL, variants: $VARIANTS"

W=$(mktemp -d "${TMPDIR:-/var/tmp}/mkcorpus.XXXXXX")
trap 'rm -rf "$W"' EXIT
BASE=$OUTROOT/linux-$KVER
mkdir -p "$BASE"

# ---- 2. the crashing module, built in a stable folder (its path is in the debuginfo)
# An unpacked kernel's headers name the compiler Debian built it with
# (.kernelvariables: gcc-10 for 5.10, gcc-14 for 6.12 and 7.x). When that
# one is not installed, the system's gcc builds the module, with the
# kernel's own fallback for an older compiler (-falign-functions for gcc-14's
# -fmin-function-alignment). An unpacked kernel's module gets no BTF (that
# needs a pahole as new as the kernel's); its DWARF is there. Kbuild
# programs linked against a newer glibc were made to run here by
# fetch-kernel.sh. A kernel for which the module still cannot be built gets
# a sysrq crash instead of slab and null, and the log says why.
MB=$BASE/.build/crashme
CRASHME=1
kflags=()
if [ -n "$KROOT" ]; then
  kflags+=(CONFIG_DEBUG_INFO_BTF_MODULES=)
  cc=$(grep -o 'gcc-[0-9]*' "$MODDIR/build/.kernelvariables" 2>/dev/null | head -n 1 || true)
  if [ -n "$cc" ] && ! command -v "$cc" >/dev/null; then
    log "$KVER: built with $cc, not installed here: building the module with gcc $(gcc -dumpfullversion)"
    kflags+=(CC=gcc CONFIG_CC_HAS_MIN_FUNCTION_ALIGNMENT=)
  fi
fi
mkdir -p "$MB"; rm -f "$MB/crashme.ko"
cp "$HERE/crashme/crashme.c" "$MB/"; echo 'obj-m += crashme.o' >"$MB/Kbuild"
make -s -C "$MODDIR/build" M="$MB" "${kflags[@]}" modules >"$W/kbuild.log" 2>&1 &&
  [ -f "$MB/crashme.ko" ] || CRASHME=0
if [ $CRASHME = 0 ]; then
  [ -n "$KROOT" ] || { cat "$W/kbuild.log" >&2; echo "crashme.ko build failed" >&2; exit 1; }
  log "$KVER: crashme.ko cannot be built here; slab and null become sysrq. The build said:"
  { grep -m 3 -E "error|not found" "$W/kbuild.log" || tail -n 3 "$W/kbuild.log"; } | cut -c 1-300 >&2
  # slab and null (with their suffixes) become sysrq, once each
  scens=(); for s in "$@"; do
    case $(scen_base "$s") in slab|null) s=sysrq${s#"$(scen_base "$s")"} ;; esac
    case " ${scens[*]} " in *" $s "*) log "$s: already in the list" ;; *) scens+=("$s") ;; esac
  done
  set -- "${scens[@]}"
  log "$KVER: scenarios now: $*"
fi

# ---- 3. one initramfs for both kernels: busybox, kexec, makedumpfile, virtio, crashme
R=$W/root
mkdir -p "$R"/{bin,proc,sys,dev,mnt,tmp,lib/modules}
add_bin() {   # a program and the shared libraries it needs
  cp "$1" "$R/bin/"
  for l in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
    mkdir -p "$R$(dirname "$l")"; cp -L "$l" "$R$l"
  done
}
add_bin /bin/busybox; add_bin /usr/sbin/kexec; add_bin /usr/bin/makedumpfile
# many sleeping threads, for the `tasks` scenario (static: no libpthread to copy)
gcc -O2 -static -pthread -o "$R/bin/manythreads" "$HERE/crashme/manythreads.c"
mods=()       # virtio_pci + virtio_blk and their dependencies, in load order (modules.dep)
for m in virtio_pci virtio_blk; do
  line=$(grep -E "/$m\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep" || true)   # empty: built in
  [ -n "$line" ] || continue
  deps=(${line#*:}); for ((i = ${#deps[@]} - 1; i >= 0; i--)); do mods+=("${deps[i]}"); done
  mods+=("${line%%:*}")
done
n=0; seen=" "
for f in "${mods[@]}"; do
  b=$(basename "${f%.*}"); [ "${f##*.}" != ko ] || b=$(basename "$f")
  case $seen in *" $b "*) continue ;; esac; seen+="$b "
  n=$((n + 1)); dst=$R/lib/modules/$(printf %02d "$n")-$b
  case $f in
    *.xz) xz -dc "$MODDIR/$f" >"$dst" ;; *.zst) zstd -qdc "$MODDIR/$f" >"$dst" ;;
    *) cp "$MODDIR/$f" "$dst" ;;
  esac
done
[ $CRASHME = 0 ] || cp "$MB/crashme.ko" "$R/crashme.ko"
cat >"$R/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in /lib/modules/*.ko; do insmod \$m; done
SCEN=; DL=31; VAR=all   # the scenario, makedumpfile's dump level, which variants
for a in \$(cat /proc/cmdline); do
  case \$a in kdive.scen=*) SCEN=\${a#*=} ;; kdive.dl=*) DL=\${a#*=} ;; kdive.var=*) VAR=\${a#*=} ;; esac
done
[ "\$SCEN" = qemu ] || for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 1; done
if [ -e /proc/vmcore ]; then            # capture kernel: write every variant
  echo "=== capture kernel: writing dumps (makedumpfile -d \$DL, variants: \$VAR)"
  M="makedumpfile --message-level 6"   # 6: messages and errors, no progress bars
  mount -t ext4 /dev/vda /mnt; cd /mnt/out
  run() { out=\$1; shift; "\$@" >\$out; echo "=== rc=\$? \$out"; }
  \$M --dump-dmesg /proc/vmcore dmesg.txt; echo "=== rc=\$? dmesg.txt"
  \$M -c -d \$DL /proc/vmcore vmcore.kdump-zlib; echo "=== rc=\$? vmcore.kdump-zlib"
  if [ "\$SCEN" = tasks ]; then                     # big: one variant only
    ls -l; cd /; umount /mnt; sync; echo "=== capture DONE"; poweroff -f
  fi
  \$M -E -d \$DL /proc/vmcore vmcore.elf;        echo "=== rc=\$? vmcore.elf"
  if [ "\$VAR" = all ]; then
    \$M -l -d \$DL /proc/vmcore vmcore.kdump-lzo;  echo "=== rc=\$? vmcore.kdump-lzo"
    \$M -d \$DL /proc/vmcore vmcore.kdump-raw;     echo "=== rc=\$? vmcore.kdump-raw"
    run vmcore.flat     \$M -F -c -d \$DL /proc/vmcore
    run vmcore.flat-raw \$M -F -d \$DL /proc/vmcore
    cp /proc/vmcore vmcore.proc; echo "=== rc=\$? vmcore.proc"
  fi
  ls -l; cd /; umount /mnt; sync
  echo "=== capture DONE"; poweroff -f
fi
if [ "\$SCEN" != qemu ]; then           # first kernel: load the capture kernel from the disk
  mount -t ext4 /dev/vda /mnt
  kexec -p /mnt/vmlinuz --initrd=/mnt/initrd.img \\
    --append="console=ttyS0 irqpoll nr_cpus=1 reset_devices rdinit=/init kdive.scen=\$SCEN kdive.dl=\$DL kdive.var=\$VAR" ||
    { echo "=== KEXEC FAILED"; poweroff -f; }
  echo "=== kexec_crash_loaded=\$(cat /sys/kernel/kexec_crash_loaded)"; umount /mnt
fi
# some life in the system before the crash
mkdir -p /tmp/work; mount -t tmpfs tmpfs /tmp/work
for i in 1 2 3; do (while true; do echo \$i >/tmp/work/f\$i; sleep 1; done) & done
sleep 1000 &
(cat /dev/zero >/dev/null) &
sleep 2; echo 1 >/proc/sys/kernel/panic_on_oops
echo "=== crashing: \$SCEN"
case \$SCEN in
  sysrq|qemu) echo c >/proc/sysrq-trigger ;;
  tasks)
    echo 200000 >/proc/sys/kernel/threads-max; echo 200000 >/proc/sys/kernel/pid_max
    manythreads \${KDIVE_THREADS:-20000} &
    for i in \$(seq 600); do
      [ "\$(ls /proc/\$!/task 2>/dev/null | wc -l)" -gt \${KDIVE_THREADS:-20000} ] && break; sleep 2
    done
    echo "=== tasks: \$(ls /proc/\$!/task | wc -l) threads"; echo c >/proc/sysrq-trigger ;;
  *) insmod /crashme.ko mode=\$SCEN ;;
esac
sleep 60; echo "=== STILL ALIVE"; poweroff -f
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$W/initrd.img"

# ---- 4. one scenario: boot, crash, capture, check, list
qemu_() {     # qemu_ CPU CONSOLE ARGS...: the common machine, under a timeout
  local cpu=$1 con=$2; shift 2
  timeout -k 10 "$TMO" qemu-system-x86_64 $ACCEL -cpu "$cpu" -smp 2 -m "${MEM:-1024}" \
    -display none -monitor none -serial "file:$con" -no-reboot -kernel "$VMLINUZ" "$@"
}
finish() {    # finish DIR T0 CPU [MORE]: checksums, listing, DONE marker
  local d=$1 t0=$2 cpu=$3 more=${4:-}
  chmod 0644 "$d"/*
  (cd "$d" && shopt -s nullglob && sha256sum vmcore.* *.txt *.ko >SHA256SUMS)
  printf 'kver=%s cpu=%s seconds=%s date=%s qemu=%s%s\n' "$KVER" "$cpu" $((SECONDS - t0)) \
    "$(date -u +%FT%TZ)" "$(qemu-system-x86_64 --version | head -1)" "${more:+ $more}" >"$d/DONE"
  ls -l "$d"
}
# The crashed kernel's own report on the serial console, before the capture
# kernel: the oops or panic line, and a Call Trace after it (the tests take
# the truth from there). Prints the first lines.
console_report() {   # console_report CONSOLE
  local c=$1
  sed -n '/=== capture kernel/q; p' "$c" | tr -d '\r' | awk '
    !on && /(BUG: |Oops: |general protection fault|kernel BUG at|Kernel panic - not syncing)/ { on = 1 }
    on && !done { print; if (/Call Trace:/) t = 1; else if (t && ++n >= 20) done = 1 }
    END { exit !t }'    # reads to the end: an early exit would fail the pipe (pipefail)
}
kdump_scenario() {
  local s=$1 d=$2 cpu=$3 base t0=$SECONDS disk=$W/disk-$1.img level=$DL x
  base=$(scen_base "$s")
  for x in $(scen_sfx "$s"); do case $x in d*) level=${x#d} ;; esac; done
  # the capture kernel's disk: /proc/vmcore alone is the size of RAM
  truncate -s $(( ${MEM:-1024} * 3 / 1024 + 1 ))G "$disk"; mkfs.ext4 -q -F "$disk"
  for f in "$VMLINUZ:vmlinuz" "$W/initrd.img:initrd.img"; do
    debugfs -w -R "write ${f%:*} ${f#*:}" "$disk" >/dev/null 2>&1
  done
  debugfs -w -R "mkdir out" "$disk" >/dev/null 2>&1
  log "$s: booting (cpu=$cpu, makedumpfile -d $level, variants $VARIANTS, timeout ${TMO}s)"
  qemu_ "$cpu" "$d/console.txt" -initrd "$W/initrd.img" -drive "file=$disk,format=raw,if=virtio" \
    -append "console=ttyS0 crashkernel=256M oops=panic slab_nomerge panic=-1 rdinit=/init kdive.scen=$base kdive.dl=$level kdive.var=$VARIANTS" ||
    log "$s: qemu exited with status $?"
  debugfs -R "rdump /out $W" "$disk" >/dev/null 2>&1; rm -f "$disk"
  cp -a "$W/out/." "$d/"; rm -rf "$W/out"
  case $base in sysrq|tasks) ;; *) cp "$MB/crashme.ko" "$d/" ;; esac
  local bad= files="dmesg.txt vmcore.kdump-zlib vmcore.elf"
  [ "$VARIANTS" = few ] || files+=" vmcore.kdump-lzo vmcore.kdump-raw vmcore.flat vmcore.flat-raw vmcore.proc"
  [ "$base" = tasks ] && files="dmesg.txt vmcore.kdump-zlib"
  for f in $files; do
    local min=$((1 << 20)); [ "$f" = dmesg.txt ] && min=1000
    [ "$(stat -c %s "$d/$f" 2>/dev/null || echo 0)" -ge $min ] || bad+=" $f"
    grep -q "=== rc=0 $f[[:space:]]*\$" "$d/console.txt" || bad+=" $f(rc)"   # serial lines end in \r
  done
  if grep -q '=== STILL ALIVE' "$d/console.txt"; then
    echo "$s: the kernel did not crash (see $d/console.txt)" >&2; return 1
  fi
  [ -z "$bad" ] || { echo "$s: capture did not produce:$bad (see $d/console.txt)" >&2; return 1; }
  console_report "$d/console.txt" >"$W/report" ||
    { echo "$s: no oops or panic with its Call Trace on the console (see $d/console.txt)" >&2; return 1; }
  log "$s: the kernel's report:"   # its first line, the trace's first sure frames
  { head -n 1 "$W/report"; sed -n '/Call Trace:/,$p' "$W/report" | grep -v '] *? ' | head -n 6; } >&2
  finish "$d" $t0 "$cpu" "dumplevel=$level variants=$VARIANTS"
}
qemu_scenario() {   # crash without kdump; QEMU's dump-guest-memory saves it (no VMCOREINFO)
  local s=$1 d=$2 cpu=$3 t0=$SECONDS sock=$W/qmp.sock
  log "$s: booting (cpu=$cpu, no kdump; dump-guest-memory after the panic)"
  qemu_ "$cpu" "$d/console.txt" -initrd "$W/initrd.img" -qmp "unix:$sock,server=on,wait=off" \
    -append "console=ttyS0 oops=panic slab_nomerge panic=0 rdinit=/init kdive.scen=qemu" &
  local qpid=$! i
  for ((i = 0; i < TMO; i += 2)); do   # wait for the end of the panic on the serial console
    grep -q 'end Kernel panic' "$d/console.txt" 2>/dev/null && break
    kill -0 $qpid 2>/dev/null || break; sleep 2
  done
  python3 - "$sock" "$d" <<'PY' || { kill $qpid 2>/dev/null; wait $qpid; return 1; }
import json, socket, sys
sock, out = sys.argv[1], sys.argv[2]
f = socket.socket(socket.AF_UNIX); f.connect(sock); f = f.makefile("rw")
def cmd(name, **args):
    f.write(json.dumps({"execute": name, "arguments": args}) + "\n"); f.flush()
    while True:                      # skip asynchronous events
        r = json.loads(f.readline())
        if "return" in r or "error" in r: return r
json.loads(f.readline()); cmd("qmp_capabilities")
# Stop the guest first: it is still in its panic loop, and every format must
# hold one state (registers included), not two moments of a running CPU.
cmd("stop")
fmts = cmd("query-dump-guest-memory-capability")["return"]["formats"]
print("dump-guest-memory formats:", " ".join(fmts))
ok = True
for fmt in fmts:
    if fmt == "win-dmp": continue    # Windows guests only
    r = cmd("dump-guest-memory", paging=False, protocol=f"file:{out}/vmcore.qemu-{fmt}", format=fmt)
    print(fmt, "ok" if "return" in r else r["error"]); ok &= "return" in r
cmd("quit")
sys.exit(0 if ok else 1)
PY
  wait $qpid || true
  [ "$(stat -c %s "$d/vmcore.qemu-elf" 2>/dev/null || echo 0)" -ge $((1 << 20)) ] ||
    { echo "$s: no vmcore.qemu-elf (see $d/console.txt)" >&2; return 1; }
  finish "$d" $t0 "$cpu"
}

# What the reference tools read in a kdump scenario, beside the dump, so that
# the built corpus needs nothing from elsewhere: crash's transcript
# (crash.txt, when crash is installed and can open the dump: crash 8.0.2
# cannot open Linux 6.12 or 7.x) and drgn's (drgn.txt, scripts/drgn_truth.py,
# drgn from PyPI in a venv). Both need the vmlinux with its debuginfo.
drgn_python() {   # the venv's Python, made when missing
  local venv=${KDIVE_DRGN_VENV:-/var/tmp/kdive-drgn-venv}
  if ! "$venv/bin/python" -c 'import drgn' 2>/dev/null; then
    log "drgn: creating $venv"
    python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q drgn >&2 || return 1
  fi
  echo "$venv/bin/python"
}
truths() {   # truths DIR
  local d=$1 rc py n
  n=$(basename "$d")
  [ -f "$d/vmcore.kdump-zlib" ] || return 0
  [ -f "$VMLINUX" ] || { log "$n: no crash.txt, no drgn.txt (no $VMLINUX: WITH_DBG=1)"; return 0; }
  if [ ! -f "$d/crash.txt" ]; then
    if ! command -v crash >/dev/null; then log "$n: no crash.txt (crash is not installed)"
    else
      "$HERE/transcripts.sh" "$d" "$VMLINUX"; rc=$?
      case $rc in
        0) chmod 0644 "$d/crash.txt"; (cd "$d" && sha256sum crash.txt >>SHA256SUMS) ;;
        3) log "$n: crash cannot open this kernel's dump; no crash.txt" ;;
        *) return $rc ;;
      esac
    fi
  fi
  # drgn.txt only when drgn read it all: the tests take a drgn.txt for a
  # complete dump. What it read of a dump missing pages it needs (a
  # makedumpfile older than the kernel) goes to drgn-partial.txt, after the
  # reasons for what it left out.
  if [ ! -f "$d/drgn.txt" ] && [ ! -f "$d/drgn-partial.txt" ]; then
    py=$(drgn_python) || { log "$n: no drgn.txt (no drgn: pip install failed)"; return 1; }
    local ko=(); [ ! -f "$d/crashme.ko" ] || ko=("$d/crashme.ko")
    set +e
    "$py" "$HERE/drgn_truth.py" "$d/vmcore.kdump-zlib" "$VMLINUX" "${ko[@]}" >"$W/drgn.txt" 2>"$W/drgn.err"
    rc=$?; set -e
    [ ! -s "$W/drgn.err" ] || sed "s/^/[drgn] $n: /" "$W/drgn.err" >&2
    case $rc in
      0) cp "$W/drgn.txt" "$d/drgn.txt"; chmod 0644 "$d/drgn.txt"
         (cd "$d" && sha256sum drgn.txt >>SHA256SUMS) ;;
      1) { sed 's/^/# /' "$W/drgn.err"; cat "$W/drgn.txt"; } >"$d/drgn-partial.txt"
         chmod 0644 "$d/drgn-partial.txt"; (cd "$d" && sha256sum drgn-partial.txt >>SHA256SUMS)
         log "$n: drgn could not read it all (above): drgn-partial.txt, no drgn.txt" ;;
      *) log "$n: drgn could not open the dump; no drgn.txt" ;;
    esac
  fi
}

# ---- 5. run each scenario in its own subshell: one failing does not stop the others
failed=()
for s in "$@"; do
  d=$BASE/$s
  if [ -f "$d/DONE" ] && [ "${FORCE:-0}" != 1 ]; then
    log "$s: already DONE, skipping"; truths "$d" || failed+=("$s"); continue
  fi
  rm -rf "$d"; mkdir -p "$d"
  cpu=${CPU:-max}; case " $(scen_sfx "$s") " in *" l4 "*) cpu=max,la57=off ;; esac
  [ "$(scen_base "$s")" = tasks ] && export MEM=${MEM:-3072}
  set +e
  ( set -e; if [ "$(scen_base "$s")" = qemu ]; then qemu_scenario "$s" "$d" "$cpu"
            else kdump_scenario "$s" "$d" "$cpu"; fi )
  rc=$?
  [ $rc != 0 ] || ( set -e; truths "$d" ) || rc=$?
  set -e
  if [ $rc = 0 ]; then log "$s: done in $(cut -d' ' -f3 "$d/DONE")"; else failed+=("$s"); log "$s: FAILED"; fi
done
[ ${#failed[@]} = 0 ] || { echo "mkcorpus: failed scenarios: ${failed[*]}" >&2; exit 1; }
log "all done: $BASE"
