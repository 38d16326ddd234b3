#!/bin/sh
# /init of the execution plane's microVM (deploy/build-microvm-image.sh puts it there). The root
# filesystem is this initramfs; the plane's own disk is the first virtio disk (/dev/vda, ext4, one
# per user, kept by the host), its settings the second (/dev/vdb: raw `KEY=value` lines). The guest
# network is QEMU's user-mode one: the host — and its loopback, where the control plane listens —
# is 10.0.2.2. When the plane exits the VM powers off, so the host sees the plane's end.
export PATH=/usr/bin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o mode=1777 tmp /tmp
for m in $(cat /lib/modules/load-order); do insmod "/lib/modules/$m.ko" || echo "microvm init: insmod $m failed"; done
for _ in $(seq 1 50); do [ -b /dev/vda ] && [ -b /dev/vdb ] && break; sleep 0.1; done
mount -t ext4 -o noatime /dev/vda /plane || { echo "microvm init: cannot mount the plane's disk"; poweroff -f; }
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
# settings: NUL-padded KEY=value lines; only SEMIBOT_* and LOG_LEVEL are taken
tr -d '\000' < /dev/vdb | grep -E '^(SEMIBOT_[A-Z_]+|LOG_LEVEL)=' > /tmp/plane.env
set -a
. /tmp/plane.env
set +a
rm -f /tmp/plane.env
export SEMIBOT_HOME=/plane HOME=/plane
cd /plane
node --max-semi-space-size=4 --v8-pool-size=1 /app/plane.mjs
echo "microvm init: plane exited ($?)"
sync
poweroff -f
