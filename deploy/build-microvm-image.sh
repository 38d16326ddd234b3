#!/usr/bin/env bash
# Builds what `microvm` VM mode boots, from local files only: an uncompressed kernel (vmlinux,
# taken out of this machine's Debian kernel package, so QEMU's microvm machine boots it directly
# through its PVH entry point) and an initramfs holding the plane's root filesystem
# (deploy/plane-rootfs.sh), the kernel modules for virtio-mmio disks and network and ext4, and
# deploy/microvm-init.sh as /init.
#   bash deploy/build-microvm-image.sh [outdir]   (default ~/.semibot/microvm; needs `npm run build`
#                                                  and apt-get install linux-image-amd64 busybox-static)
# Prints the directory; point SEMIBOT_MICROVM_IMAGE at it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${SEMIBOT_HOME:-$HOME/.semibot}/microvm}"
kver="${SEMIBOT_MICROVM_KERNEL_VERSION:-$(ls /boot | sed -n 's/^vmlinuz-//p' | sort -V | tail -n1)}"
[ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ] || { echo "build-microvm-image: no kernel in /boot (apt-get install linux-image-amd64)" >&2; exit 2; }
# shellcheck source=deploy/plane-rootfs.sh
. deploy/plane-rootfs.sh

mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
plane_rootfs "$root"
for tool in ip mount insmod seq grep tr poweroff sync; do ln -sf busybox "$root/bin/$tool"; done
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/lib/modules"
install -m 0755 deploy/microvm-init.sh "$root/init"

# modules, dependencies first
modules="virtio_ring virtio virtio_mmio virtio_blk failover net_failover virtio_net crc16 mbcache jbd2 crc32c_generic ext4"
for m in $modules; do
  src="$(modinfo -k "$kver" -n "$m")"
  case "$src" in
    (*.ko) cp "$src" "$root/lib/modules/$m.ko" ;;
    (*.ko.xz) xz -dc "$src" > "$root/lib/modules/$m.ko" ;;
    (*.ko.zst) zstd -qdc "$src" > "$root/lib/modules/$m.ko" ;;
    (*) : ;; # built into this kernel
  esac
  [ -f "$root/lib/modules/$m.ko" ] && echo "$m" >> "$root/lib/modules/load-order"
done

# the kernel: bzImage wraps a compressed vmlinux; QEMU's microvm boots the ELF one (PVH) fastest
python3 - "/boot/vmlinuz-$kver" "$work/vmlinux" <<'PY'
import lzma, gzip, sys
data = open(sys.argv[1], 'rb').read()
for magic, unpack in ((b'\xfd7zXZ\x00', lambda d: lzma.LZMADecompressor().decompress(d)),
                      (b'\x1f\x8b\x08', lambda d: gzip.GzipFile(fileobj=__import__('io').BytesIO(d)).read())):
    at = data.find(magic)
    if at >= 0:
        elf = unpack(data[at:])
        if elf[:4] == b'\x7fELF':
            open(sys.argv[2], 'wb').write(elf)
            sys.exit(0)
sys.exit('build-microvm-image: cannot find the vmlinux inside ' + sys.argv[1])
PY
# uncompressed: the guest copies it instead of inflating ~100 MB at boot
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) > "$work/initrd.img"
mv "$work/vmlinux" "$out/vmlinux"
mv "$work/initrd.img" "$out/initrd.img"
echo "$kver" > "$out/kernel-version"
# the guest's timer frequency: the driver works out the delay-loop constant from it (see microvm-driver.ts)
sed -n 's/^CONFIG_HZ=//p' "/boot/config-$kver" > "$out/kernel-hz"
echo "$out"
