#!/usr/bin/env bash
# Builds the execution plane's Docker image from local files only (no registry, no base image): the
# root filesystem of deploy/plane-rootfs.sh, imported with `docker import`; `docker` VM mode runs it
# (SEMIBOT_DOCKER_IMAGE). For a registry-based build use deploy/Dockerfile.runtime instead.
#   bash deploy/build-plane-image.sh [image]        (default semibot/plane:local; needs `npm run build`)
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-semibot/plane:local}"
# shellcheck source=deploy/plane-rootfs.sh
. deploy/plane-rootfs.sh

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
plane_rootfs "$root"
# the plane runs as uid 1000: its disk (a named volume, initialised from /plane) is its own
chown 1000:1000 "$root/plane"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/bin:/bin SEMIBOT_HOME=/plane' \
  --change 'WORKDIR /plane' \
  --change 'CMD ["/usr/bin/node", "--max-semi-space-size=4", "--v8-pool-size=1", "/app/plane.mjs"]' \
  --change 'LABEL semibot.image=plane' \
  - "$image" >/dev/null
echo "$image"
