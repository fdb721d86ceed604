#!/bin/bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# mkcorpus.sh: build real Linux kernel crash dumps from nothing (Debian 12, root).
#
# A Debian kernel boots under QEMU (TCG) with a kdump capture kernel loaded,
# crashes on purpose, and the capture kernel writes every dump variant of that
# one crash onto a virtual disk, which is then read back with debugfs.
#
#   usage: scripts/mkcorpus.sh [-k KVER] [-o OUTROOT] SCENARIO...
#   SCENARIO  sysrq | slab | null | qemu | tasks, optionally suffixed -l4 (4-level paging)
#             tasks: 20,000 sleeping threads, then sysrq (RAM 3 GiB; zlib dump only), for
#             benchmarks: build it outside the test corpus (-o /var/tmp/kdive-bench-corpus)
#   output    OUTROOT/linux-KVER/SCENARIO/   (a DONE file marks it complete)
#   env       FORCE=1 redo finished scenarios   WITH_DBG=1 also install -dbg (~600 MB)
#             CPU=max (5-level paging) | max,la57=off (4-level)   TIMEOUT=secs per QEMU run
#             ACCEL="-accel tcg,thread=multi"   DUMPLEVEL=31 (makedumpfile -d)
set -euo pipefail

KVER=6.1.0-47-cloud-amd64
OUTROOT=${KDIVE_BUILT_CORPUS:-/var/tmp/kdive-corpus}
usage() { sed -n '9,14s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while getopts k:o:h opt; do
  case $opt in k) KVER=$OPTARG ;; o) OUTROOT=$OPTARG ;; *) usage ;; esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
for s in "$@"; do
  case ${s%-l4} in sysrq|slab|null|qemu|tasks) ;; *) echo "unknown scenario: $s" >&2; usage ;; esac
done
[ "$(id -u)" = 0 ] || { echo "mkcorpus: must run as root (apt, kernel headers)" >&2; exit 2; }

HERE=$(cd "$(dirname "$0")" && pwd)
OUTROOT=$(realpath -m "$OUTROOT")
TMO=${TIMEOUT:-1500}
DL=${DUMPLEVEL:-31}
ACCEL=${ACCEL:-"-accel tcg,thread=multi"}
log() { printf '[mkcorpus %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---- 1. packages (apt waits for a busy dpkg lock instead of failing)
apt_() {
  local n=0
  until DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600 "$@"; do
    n=$((n + 1)); [ $n -lt 10 ] || return 1
    log "apt-get $1 failed (lock busy?), retrying in 30 s"; sleep 30
  done
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
want=(qemu-system-x86 kexec-tools makedumpfile cpio e2fsprogs xz-utils gzip make python3
      "linux-image-$KVER" "linux-headers-$KVER")
installed busybox-static || installed busybox || want+=(busybox-static)
[ "${WITH_DBG:-0}" = 1 ] && want+=("linux-image-$KVER-dbg")
missing=(); for p in "${want[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  apt_ update
  apt_ install -y --no-install-recommends "${missing[@]}"
fi
VMLINUZ=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[ -r "$VMLINUZ" ] && [ -d "$MODDIR/build" ] || { echo "no $VMLINUZ or $MODDIR/build" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/var/tmp}/mkcorpus.XXXXXX")
trap 'rm -rf "$W"' EXIT
BASE=$OUTROOT/linux-$KVER
mkdir -p "$BASE"

# ---- 2. the crashing module, built in a stable folder (its path is in the debuginfo)
MB=$BASE/.build/crashme
mkdir -p "$MB"
cp "$HERE/crashme/crashme.c" "$MB/"; echo 'obj-m += crashme.o' > "$MB/Kbuild"
make -s -C "$MODDIR/build" M="$MB" modules >"$W/kbuild.log" 2>&1 ||
  { cat "$W/kbuild.log" >&2; echo "crashme.ko build failed" >&2; exit 1; }

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
  line=$(grep -E "/$m\.ko(\.xz)?:" "$MODDIR/modules.dep" || true)   # empty: built in
  [ -n "$line" ] || continue
  deps=(${line#*:}); for ((i = ${#deps[@]} - 1; i >= 0; i--)); do mods+=("${deps[i]}"); done
  mods+=("${line%%:*}")
done
n=0; seen=" "
for f in "${mods[@]}"; do
  b=$(basename "${f%.xz}"); case $seen in *" $b "*) continue ;; esac; seen+="$b "
  n=$((n + 1)); dst=$R/lib/modules/$(printf %02d "$n")-$b
  case $f in *.xz) xz -dc "$MODDIR/$f" >"$dst" ;; *) cp "$MODDIR/$f" "$dst" ;; esac
done
cp "$MB/crashme.ko" "$R/crashme.ko"
cat >"$R/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in /lib/modules/*.ko; do insmod \$m; done
SCEN=; for a in \$(cat /proc/cmdline); do case \$a in kdive.scen=*) SCEN=\${a#*=} ;; esac; done
[ "\$SCEN" = qemu ] || for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 1; done
if [ -e /proc/vmcore ]; then            # capture kernel: write every variant
  echo "=== capture kernel: writing dumps"
  M="makedumpfile --message-level 6"   # 6: messages and errors, no progress bars
  mount -t ext4 /dev/vda /mnt; cd /mnt/out
  run() { out=\$1; shift; "\$@" >\$out; echo "=== rc=\$? \$out"; }
  \$M --dump-dmesg /proc/vmcore dmesg.txt; echo "=== rc=\$? dmesg.txt"
  \$M -c -d $DL /proc/vmcore vmcore.kdump-zlib; echo "=== rc=\$? vmcore.kdump-zlib"
  if [ "\$SCEN" = tasks ]; then                     # big: one variant only
    ls -l; cd /; umount /mnt; sync; echo "=== capture DONE"; poweroff -f
  fi
  \$M -l -d $DL /proc/vmcore vmcore.kdump-lzo;  echo "=== rc=\$? vmcore.kdump-lzo"
  \$M -d $DL /proc/vmcore vmcore.kdump-raw;     echo "=== rc=\$? vmcore.kdump-raw"
  \$M -E -d $DL /proc/vmcore vmcore.elf;        echo "=== rc=\$? vmcore.elf"
  run vmcore.flat     \$M -F -c -d $DL /proc/vmcore
  run vmcore.flat-raw \$M -F -d $DL /proc/vmcore
  cp /proc/vmcore vmcore.proc; echo "=== rc=\$? vmcore.proc"
  ls -l; cd /; umount /mnt; sync
  echo "=== capture DONE"; poweroff -f
fi
if [ "\$SCEN" != qemu ]; then           # first kernel: load the capture kernel from the disk
  mount -t ext4 /dev/vda /mnt
  kexec -p /mnt/vmlinuz --initrd=/mnt/initrd.img \\
    --append="console=ttyS0 irqpoll nr_cpus=1 reset_devices rdinit=/init kdive.scen=\$SCEN" ||
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
finish() {    # finish DIR: checksums, listing, DONE marker
  local d=$1 t0=$2 cpu=$3
  chmod 0644 "$d"/*
  (cd "$d" && shopt -s nullglob && sha256sum vmcore.* *.txt *.ko >SHA256SUMS)
  printf 'kver=%s cpu=%s seconds=%s date=%s qemu=%s\n' "$KVER" "$cpu" $((SECONDS - t0)) \
    "$(date -u +%FT%TZ)" "$(qemu-system-x86_64 --version | head -1)" >"$d/DONE"
  ls -l "$d"
}
kdump_scenario() {
  local s=$1 d=$2 cpu=$3 base=${1%-l4} t0=$SECONDS disk=$W/disk-$1.img
  # the capture kernel's disk: /proc/vmcore alone is the size of RAM
  truncate -s $(( ${MEM:-1024} * 3 / 1024 + 1 ))G "$disk"; mkfs.ext4 -q -F "$disk"
  for f in "$VMLINUZ:vmlinuz" "$W/initrd.img:initrd.img"; do
    debugfs -w -R "write ${f%:*} ${f#*:}" "$disk" >/dev/null 2>&1
  done
  debugfs -w -R "mkdir out" "$disk" >/dev/null 2>&1
  log "$s: booting (cpu=$cpu, timeout ${TMO}s)"
  qemu_ "$cpu" "$d/console.txt" -initrd "$W/initrd.img" -drive "file=$disk,format=raw,if=virtio" \
    -append "console=ttyS0 crashkernel=256M oops=panic slab_nomerge panic=-1 rdinit=/init kdive.scen=$base" ||
    log "$s: qemu exited with status $?"
  debugfs -R "rdump /out $W" "$disk" >/dev/null 2>&1; rm -f "$disk"
  cp -a "$W/out/." "$d/"; rm -rf "$W/out"
  case $base in sysrq|tasks) ;; *) cp "$MB/crashme.ko" "$d/" ;; esac
  local bad= files="dmesg.txt vmcore.kdump-zlib vmcore.kdump-lzo vmcore.kdump-raw vmcore.elf vmcore.flat"
  files+=" vmcore.flat-raw vmcore.proc"
  [ "$base" = tasks ] && files="dmesg.txt vmcore.kdump-zlib"
  for f in $files; do
    local min=$((1 << 20)); [ "$f" = dmesg.txt ] && min=1000
    [ "$(stat -c %s "$d/$f" 2>/dev/null || echo 0)" -ge $min ] || bad+=" $f"
    grep -q "=== rc=0 $f[[:space:]]*\$" "$d/console.txt" || bad+=" $f(rc)"   # serial lines end in \r
  done
  [ -z "$bad" ] || { echo "$s: capture did not produce:$bad (see $d/console.txt)" >&2; return 1; }
  finish "$d" $t0 "$cpu"
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

# crash's transcript of a kdump scenario (crash.txt), when crash and the
# vmlinux are installed: the built corpus then needs nothing from elsewhere.
transcript() {   # transcript DIR
  local d=$1 vmlinux=/usr/lib/debug/boot/vmlinux-$KVER rc
  [ -f "$d/vmcore.kdump-zlib" ] && [ ! -f "$d/crash.txt" ] || return 0
  command -v crash >/dev/null && [ -f "$vmlinux" ] ||
    { log "$(basename "$d"): no crash.txt (needs crash and $vmlinux)"; return 0; }
  "$HERE/transcripts.sh" "$d" "$vmlinux"; rc=$?
  case $rc in
    0) (cd "$d" && sha256sum crash.txt >>SHA256SUMS) ;;
    3) log "$(basename "$d"): crash cannot open this kernel's dump; no crash.txt" ;;
    *) return $rc ;;
  esac
}

# ---- 5. run each scenario in its own subshell: one failing does not stop the others
failed=()
for s in "$@"; do
  d=$BASE/$s
  if [ -f "$d/DONE" ] && [ "${FORCE:-0}" != 1 ]; then
    log "$s: already DONE, skipping"; transcript "$d" || failed+=("$s"); continue
  fi
  rm -rf "$d"; mkdir -p "$d"
  cpu=${CPU:-max}; [ "$s" = "${s%-l4}" ] || cpu=max,la57=off
  [ "${s%-l4}" = tasks ] && export MEM=${MEM:-3072}
  set +e
  ( set -e; if [ "${s%-l4}" = qemu ]; then qemu_scenario "$s" "$d" "$cpu"
            else kdump_scenario "$s" "$d" "$cpu"; fi )
  rc=$?
  [ $rc != 0 ] || transcript "$d" || rc=$?
  set -e
  if [ $rc = 0 ]; then log "$s: done in $(cut -d' ' -f3 "$d/DONE")"; else failed+=("$s"); log "$s: FAILED"; fi
done
[ ${#failed[@]} = 0 ] || { echo "mkcorpus: failed scenarios: ${failed[*]}" >&2; exit 1; }
log "all done: $BASE"
