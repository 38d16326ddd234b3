#!/usr/bin/env bash
# Builds the execution plane's Docker image from local files only (no registry, no base image):
# this machine's Node binary and the C libraries it links, busybox as /bin/sh (the run_command tool
# and skills' scripts need a shell), and the plane bundled into one file by esbuild. Imported with
# `docker import`; `docker` VM mode runs it (SEMIBOT_DOCKER_IMAGE). For a registry-based build use
# deploy/Dockerfile.runtime instead.
#   bash deploy/build-plane-image.sh [image]        (default semibot/plane:local; needs `npm run build`)
set -euo pipefail
cd "$(dirname "$0")/.."
image="${1:-semibot/plane:local}"
node_bin="$(command -v node)"
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || { echo "build-plane-image: busybox is needed for the plane's shell (apt-get install busybox-static)" >&2; exit 2; }
[ -f apps/runtime/dist/main.js ] || { echo "build-plane-image: run npm run build first" >&2; exit 2; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/app" "$root/bin" "$root/usr/bin" "$root/tmp" "$root/plane" "$root/etc"
# the plane runs as uid 1000: its disk (a named volume, initialised from /plane) is its own
chmod 1777 "$root/tmp"
chown 1000:1000 "$root/plane"
# one file: the daemon with everything it imports (dynamic imports included)
node_modules/.bin/esbuild apps/runtime/dist/main.js --bundle --platform=node --format=esm --target=node20 \
  --outfile="$root/app/plane.mjs" --log-level=warning \
  --banner:js="import { createRequire as __semibotRequire } from 'node:module'; const require = __semibotRequire(import.meta.url);"
cp "$node_bin" "$root/usr/bin/node"
cp "$busybox" "$root/bin/busybox"
for tool in sh ls cat echo env mkdir rm cp mv sleep; do ln -s busybox "$root/bin/$tool"; done
# the dynamic loader and every library node links
for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
echo 'plane:x:1000:1000::/plane:/bin/sh' > "$root/etc/passwd"
echo 'plane:x:1000:' > "$root/etc/group"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/bin:/bin SEMIBOT_HOME=/plane' \
  --change 'WORKDIR /plane' \
  --change 'CMD ["/usr/bin/node", "--max-semi-space-size=1", "--v8-pool-size=1", "/app/plane.mjs"]' \
  --change 'LABEL semibot.image=plane' \
  - "$image" >/dev/null
echo "$image"
