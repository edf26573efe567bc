#!/usr/bin/env bash
# Prepares what the VM harness boots, in OUT (default: the build tree's vm/):
# Debian's stock 6.1 kernel, fetched with `apt-get download` and unpacked
# (never installed onto this machine), its module index (depmod), and a small
# busybox-static initramfs that loads the 9p modules and mounts this machine's
# root read-only. Idempotent; concurrent callers wait on a lock.
#   prepare.sh [OUT]            prints OUT/kernel.env (KVERSION, VMLINUZ, INITRD, KROOT)
# Environment: NETDSL_VM_KERNEL_DEB=/path/to/linux-image-*.deb uses that package
# instead of resolving and fetching `linux-image-amd64`'s current dependency.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-${NETDSL_VM_DIR:-$HERE/../../build/vm}}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

die() { echo "vm prepare: $*" >&2; exit 1; }

exec 9>"$OUT/.prepare.lock"
flock 9

# Modules the initramfs loads (9p and the console over virtio-pci or virtio-mmio), with their dependencies
# first (from modules.dep).
BOOT_MODULES=(virtio_pci virtio_mmio virtio_console 9pnet_virtio 9p)
# Bump when the initramfs layout or its init changes.
INITRD_REV=$(cat "$HERE/initramfs-init" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)

if [[ -f $OUT/kernel.env ]]; then
  # shellcheck disable=SC1091
  source "$OUT/kernel.env"
  if [[ ${INITRD_REV_BUILT:-} == "$INITRD_REV" && -f ${VMLINUX:-} && -f ${INITRD:-} ]]; then
    echo "$OUT/kernel.env"
    exit 0
  fi
fi

for tool in dpkg-deb depmod cpio xz; do
  command -v "$tool" >/dev/null || die "\`$tool\` is missing (./bootstrap.sh installs it)"
done
BUSYBOX=$(command -v busybox || true)
[[ -n $BUSYBOX ]] || die "busybox is missing (./bootstrap.sh installs busybox-static)"
file_out=$(LC_ALL=C od -An -c -N 4 "$BUSYBOX" | tr -d ' ')
[[ $file_out == '177ELF' ]] || die "$BUSYBOX is not an ELF binary"
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is dynamically linked; install busybox-static"

# 1. The kernel package.
deb=${NETDSL_VM_KERNEL_DEB:-}
if [[ -z $deb ]]; then
  resolve() { apt-cache depends linux-image-amd64 2>/dev/null | sed -nE 's/^ *Depends: (linux-image-6\.1\.[0-9]+-[0-9]+-amd64)$/\1/p' | head -1; }
  pkg=$(resolve)
  if [[ -z $pkg ]]; then
    [[ $(id -u) -eq 0 ]] || die "apt does not know linux-image-amd64; run \`apt-get update\` as root"
    apt-get update -qq >&2 || die "apt-get update failed"
    pkg=$(resolve)
  fi
  [[ -n $pkg ]] || die "linux-image-amd64 does not depend on a linux-image-6.1.*-amd64 here (not Debian 12?); set NETDSL_VM_KERNEL_DEB"
  mkdir -p "$OUT/dl"
  deb=$(ls "$OUT/dl/${pkg}_"*.deb 2>/dev/null | head -1 || true)
  if [[ -z $deb ]]; then
    echo "vm prepare: fetching $pkg (apt-get download)" >&2
    (cd "$OUT/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2 2>&1) || die "apt-get download $pkg failed"
    deb=$(ls "$OUT/dl/${pkg}_"*.deb | head -1)
  fi
fi
[[ -f $deb ]] || die "no kernel package at $deb"

# 2. Unpack (never install) and index its modules, once per package.
KROOT=$OUT/kernel
if [[ $(cat "$KROOT/.from" 2>/dev/null) != "$(basename "$deb")" ]]; then
  rm -rf "$KROOT" "$KROOT.tmp"
  mkdir -p "$KROOT.tmp"
  dpkg-deb -x "$deb" "$KROOT.tmp"
  KVERSION=$(ls "$KROOT.tmp/lib/modules" | head -1)
  [[ -n $KVERSION && -f $KROOT.tmp/boot/vmlinuz-$KVERSION ]] || die "$deb holds no kernel image"
  depmod -b "$KROOT.tmp" "$KVERSION"
  basename "$deb" >"$KROOT.tmp/.from"
  mv "$KROOT.tmp" "$KROOT"
fi
KVERSION=$(ls "$KROOT/lib/modules" | head -1)

# The uncompressed kernel: QEMU boots its ELF image through the PVH entry point
# (CONFIG_PVH), which skips the in-guest decompression of vmlinuz (xz: 5-10 s
# of emulated CPU under TCG).
VMLINUX=$KROOT/vmlinux
if [[ ! -s $VMLINUX ]]; then
  vmlinuz=$KROOT/boot/vmlinuz-$KVERSION
  extracted=
  for fmt in xz zstd gzip; do
    case $fmt in
      xz) magic='\xfd7zXZ\x00'; dec=(xz -dc --single-stream) ;;
      zstd) magic='\x28\xb5\x2f\xfd'; dec=(zstd -dqc) ;;
      gzip) magic='\x1f\x8b\x08'; dec=(gzip -dc) ;;
    esac
    command -v "${dec[0]}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1 | head -5); do
      if tail -c +$((off + 1)) "$vmlinuz" | "${dec[@]}" >"$VMLINUX.tmp" 2>/dev/null ||
        [[ -s $VMLINUX.tmp ]]; then
        if [[ $(LC_ALL=C od -An -c -N 4 "$VMLINUX.tmp" | tr -d ' ') == '177ELF' ]]; then
          extracted=1
          break 2
        fi
      fi
    done
  done
  [[ -n $extracted ]] || die "cannot extract vmlinux from $vmlinuz"
  mv "$VMLINUX.tmp" "$VMLINUX"
fi

# 3. The initramfs: busybox, the boot modules, /init.
stage=$(mktemp -d "$OUT/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/mods" "$stage/proc" "$stage/dev" "$stage/newroot"
cp "$BUSYBOX" "$stage/bin/busybox"
install -m 0755 "$HERE/initramfs-init" "$stage/init"
moddir=$KROOT/lib/modules/$KVERSION
: >"$stage/modules"
declare -A loaded=()
add_module() {  # PATH relative to $moddir, dependencies first
  local rel=$1 m dep
  m=$(basename "$rel"); m=${m%%.ko*}
  [[ -n ${loaded[$m]:-} ]] && return
  loaded[$m]=1
  for dep in $(sed -n "s|^$rel: *||p" "$moddir/modules.dep"); do add_module "$dep"; done
  case $rel in
    *.ko) cp "$moddir/$rel" "$stage/mods/$m.ko" ;;
    *.ko.xz) xz -dc "$moddir/$rel" >"$stage/mods/$m.ko" ;;
    *.ko.zst) zstd -dqc "$moddir/$rel" >"$stage/mods/$m.ko" ;;
    *) die "unknown module compression: $rel" ;;
  esac
  echo "$m" >>"$stage/modules"
}
for m in "${BOOT_MODULES[@]}"; do
  rel=$(grep -E "(^|/)$m\.ko(\.xz|\.zst)?:" "$moddir/modules.dep" | head -1 | cut -d: -f1)
  [[ -n $rel ]] || die "module $m not found in $deb"
  add_module "$rel"
done
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$OUT/initramfs.cpio.tmp"
mv "$OUT/initramfs.cpio.tmp" "$OUT/initramfs.cpio"

cat >"$OUT/kernel.env.tmp" <<ENV
KVERSION=$KVERSION
KROOT=$KROOT
VMLINUZ=$KROOT/boot/vmlinuz-$KVERSION
VMLINUX=$VMLINUX
INITRD=$OUT/initramfs.cpio
KERNEL_DEB=$(basename "$deb")
INITRD_REV_BUILT=$INITRD_REV
ENV
mv "$OUT/kernel.env.tmp" "$OUT/kernel.env"
echo "vm prepare: kernel $KVERSION from $(basename "$deb") ready in $OUT" >&2
echo "$OUT/kernel.env"
