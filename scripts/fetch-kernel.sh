#!/bin/bash
# SPDX-License-Identifier: MIT OR Apache-2.0
# fetch-kernel.sh: a Debian kernel of another suite, unpacked, not installed.
#
#   usage: scripts/fetch-kernel.sh KVER       e.g. 5.10.0-32-cloud-amd64, 7.3.4+deb13-cloud-amd64
#   output $KDIVE_KERNELS/KVER/  (default /var/tmp/kdive-kernels): the packages' files, as
#          dpkg-deb -x lays them out; its path is the last line printed on stdout
#   env    KDIVE_APT=/var/tmp/kdive-apt  the separate apt configuration (made if missing)
#
# The machine stays Debian 12: a separate apt configuration (its own sources
# list, lists and cache, an empty dpkg status, no dpkg lock) lists bullseye,
# bullseye-security, trixie, trixie-backports and sid; `apt-get download`
# fetches linux-image-KVER, its -dbg package and linux-headers-KVER, with the
# linux-* packages they depend on (-common headers, linux-kbuild-*, and on 7.x
# the linux-binary/-modules/-base parts of the image), and `dpkg-deb -x`
# unpacks them. Of the -dbg package the modules' debuginfo is left out (it
# would add ~1.2 GB a kernel): the vmlinux is usr/lib/debug/boot/vmlinux-KVER
# (on 7.x a link to usr/lib/debug/lib/modules/KVER/vmlinux).
#
# Made usable here after unpacking: the absolute links (lib/modules/KVER/build,
# source) and the paths in the headers' Makefile point into the tree;
# modules.dep is made (depmod: the image's postinst does it on install); and
# when the kbuild programs (fixdep, modpost, objtool) were linked against a
# newer glibc than this system's (trixie's need 2.38), each becomes a small
# script that runs it through the loader of a libc6 of those suites,
# unpacked in KVER/hostlibc (the program itself is kept as .NAME.elf).
# Nothing is downloaded when KVER/.fetched exists (remove it to fetch again).
set -euo pipefail
[ $# = 1 ] || { sed -n '4,7s/^# \{0,1\}//p' "$0" >&2; exit 2; }
KVER=$1
APT=${KDIVE_APT:-/var/tmp/kdive-apt}
KROOT=${KDIVE_KERNELS:-/var/tmp/kdive-kernels}/$KVER
log() { printf '[fetch-kernel %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---- the separate apt configuration
O=(-o "Dir::Etc::SourceList=$APT/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
   -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o Dir::State::status=/dev/null
   -o Debug::NoLocking=1 -o APT::Architecture=amd64 -o APT::Architectures=amd64
   -o APT::Sandbox::User=root -o Dir::Cache::pkgcache=pkgcache.bin
   -o Dir::Cache::srcpkgcache=srcpkgcache.bin)
updated=0
apt_setup() {
  local key=/usr/share/keyrings/debian-archive-keyring.gpg src
  mkdir -p "$APT/etc" "$APT/lists/partial" "$APT/cache/archives/partial"
  src=$(for s in bullseye trixie trixie-backports sid; do
          echo "deb [arch=amd64 signed-by=$key] http://deb.debian.org/debian $s main"
        done
        echo "deb [arch=amd64 signed-by=$key] http://deb.debian.org/debian-security bullseye-security main")
  [ "$(cat "$APT/etc/sources.list" 2>/dev/null)" = "$src" ] || echo "$src" >"$APT/etc/sources.list"
  ls "$APT"/lists/*_Packages* >/dev/null 2>&1 || update
}
update() { log "apt-get update ($APT)"; apt-get -q "${O[@]}" update >&2; updated=1; }
# A package's Depends field (the first stanza: the candidate's).
depends() { apt-cache "${O[@]}" show "$1" 2>/dev/null | sed -n '/^$/q; s/^Depends: //p'; }
exists() { apt-cache "${O[@]}" show "$1" >/dev/null 2>&1; }
download() {   # download DIR PKG...: into DIR; with stale lists, update once and retry
  local dir=$1; shift
  (cd "$dir" && apt-get -q "${O[@]}" download "$@" >&2) && return 0
  [ $updated = 0 ] && update && (cd "$dir" && apt-get -q "${O[@]}" download "$@" >&2) ||
    { log "download of $* failed (a 404 above: that file is not on the mirror)"; return 1; }
}

fetch() {
  apt_setup
  exists "linux-image-$KVER" || [ $updated = 1 ] || update
  exists "linux-image-$KVER" || { log "no package linux-image-$KVER in bullseye, trixie or sid"; exit 1; }
  # the packages: these three and the linux-* parts they depend on
  local pkgs=("linux-image-$KVER" "linux-image-$KVER-dbg" "linux-headers-$KVER") i g a
  local groups alts name rel ver pick args=() D=$APT/debs/$KVER
  declare -A pin=()
  for ((i = 0; i < ${#pkgs[@]}; i++)); do
    exists "${pkgs[i]}" || { log "no ${pkgs[i]}"; exit 1; }
    IFS=',' read -ra groups <<<"$(depends "${pkgs[i]}")"
    for g in "${groups[@]}"; do            # one dependency: alternatives "a (= v) | b"
      IFS='|' read -ra alts <<<"$g"; pick=
      for a in "${alts[@]}"; do
        read -r name rel ver <<<"$(echo "$a" | tr -d '()')"
        case $name in                      # the kernel's own parts only, no tools
          linux-base|linux-initramfs-tool|linux-compiler-*) continue ;;
          linux-*) ;; *) continue ;;
        esac
        if printf '%s\n' "${pkgs[@]}" | grep -qxF "$name"; then pick=; break; fi
        [ -n "$pick" ] || ! exists "$name" || { pick=$name; [ "${rel:-}" != = ] || pin[$name]=$ver; }
      done
      [ -z "$pick" ] || pkgs+=("$pick")
    done
  done
  for a in "${pkgs[@]}"; do args+=("$a${pin[$a]:+=${pin[$a]}}"); done
  mkdir -p "$D"
  log "$KVER: apt-get download ${args[*]}"
  download "$D" "${args[@]}" || exit 1
  log "$KVER: downloaded $(du -sh "$D" | cut -f1): $(cd "$D" && echo *.deb)"
  rm -rf "$KROOT"; mkdir -p "$KROOT"
  for a in "$D"/*.deb; do
    case ${a##*/} in
      linux-image-*-dbg_*)                 # the vmlinux, not the modules' debuginfo
        dpkg-deb --fsys-tarfile "$a" |
          tar -x -C "$KROOT" --wildcards --exclude='./usr/lib/debug/lib/modules/*/kernel' ;;
      *) dpkg-deb -x "$a" "$KROOT" ;;
    esac
  done
  rm -rf "$D"
  # absolute links (to /usr/src/..., /usr/lib/linux-kbuild-...) into the tree
  find "$KROOT" -type l -lname '/*' | while read -r a; do
    ver=$(readlink "$a")
    case $ver in /usr/src/*|/usr/lib/linux-kbuild-*|/lib/linux-kbuild-*) ;; *) continue ;; esac
    if [ -e "$KROOT$ver" ]; then ln -sfn "$KROOT$ver" "$a"
    elif [ -e "$KROOT/usr$ver" ]; then ln -sfn "$KROOT/usr$ver" "$a"; fi
  done
  # the headers' Makefile names the -common one (and on 7.x KBUILD_OUTPUT)
  # by its absolute path
  for a in "$KROOT"/usr/src/linux-headers-*/Makefile; do
    sed -i "s#\(^\|[= ]\)/usr/src/#\1$KROOT/usr/src/#g" "$a"
  done
  # no modules.dep in the packages (the image's postinst runs depmod)
  for a in "$KROOT" "$KROOT/usr"; do
    [ ! -d "$a/lib/modules/$KVER/kernel" ] || depmod -b "$a" "$KVER"
  done
  printf '%s\n' "${args[@]}" >"$KROOT/.fetched"
  log "$KVER: unpacked in $KROOT ($(du -sh "$KROOT" | cut -f1))"
}

# ---- kbuild programs that need a newer glibc run through that glibc's loader
# The newest glibc symbol version a program needs, and this system's glibc.
glibc_needed() { readelf -V --wide "$1" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1; }
GLIBC=$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)
newer() { [ -n "$1" ] && [ "$(printf '%s\n%s\n' "$1" "$GLIBC" | sort -V | tail -n 1)" != "$GLIBC" ]; }
runnable_kbuild() {
  local kb f ldso libdir n=0 wrap=()
  for kb in "$KROOT"/usr/lib/linux-kbuild-*; do
    [ -d "$kb" ] || continue
    while read -r f; do
      [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
      ! newer "$(glibc_needed "$f")" || wrap+=("$f")
    done < <(find "$kb" -type f ! -name '.*.elf')
  done
  [ ${#wrap[@]} -gt 0 ] || return 0
  log "$KVER: ${#wrap[@]} kbuild programs need a newer glibc than $GLIBC: wrapping them"
  if [ ! -d "$KROOT/hostlibc" ]; then
    apt_setup
    f=$APT/debs/libc6; mkdir -p "$f"; rm -f "$f"/*.deb
    download "$f" libc6 || exit 1
    dpkg-deb -x "$f"/libc6_*.deb "$KROOT/hostlibc"
    echo "$(cd "$f" && echo libc6_*.deb) (for kbuild)" >>"$KROOT/.fetched"; rm -rf "$f"
  fi
  ldso=$(find "$KROOT/hostlibc" -name ld-linux-x86-64.so.2 -type f | head -n 1)
  libdir=$(dirname "$ldso")
  for f in "${wrap[@]}"; do
    mv "$f" "$(dirname "$f")/.$(basename "$f").elf"
    { printf '#!/bin/sh\n# %s, through the loader of a newer glibc (scripts/fetch-kernel.sh)\n' \
        "$(basename "$f")"
      printf 'exec %s --library-path %s --argv0 "$0" %s "$@"\n' \
        "$ldso" "$libdir" "$(dirname "$f")/.$(basename "$f").elf"; } >"$f"
    chmod 0755 "$f"; n=$((n + 1))
  done
  log "$KVER: $n programs wrapped, glibc from $KROOT/hostlibc"
}

if [ -f "$KROOT/.fetched" ]; then log "$KVER: already unpacked in $KROOT"; else fetch; fi
runnable_kbuild
echo "$KROOT"
