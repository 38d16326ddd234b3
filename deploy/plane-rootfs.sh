# Sourced by the plane image builders (build-plane-image.sh, build-microvm-image.sh): fills a
# directory with an execution plane's root filesystem from local files only — this machine's Node
# binary and the C libraries it links, busybox (a shell for the run_command tool and skills'
# scripts) and the plane bundled into one file by esbuild.
#   plane_rootfs <dir>        (run from the repository root, after `npm run build`)
plane_rootfs() {
  local root="$1" node_bin busybox lib tool
  node_bin="$(command -v node)"
  busybox="$(command -v busybox || true)"
  [ -n "$busybox" ] || { echo "plane image: busybox is needed for the plane's shell (apt-get install busybox-static)" >&2; return 2; }
  [ -f apps/runtime/dist/main.js ] || { echo "plane image: run npm run build first" >&2; return 2; }
  mkdir -p "$root/app" "$root/bin" "$root/usr/bin" "$root/tmp" "$root/plane" "$root/etc"
  chmod 1777 "$root/tmp"
  # one file: the daemon with everything it imports (dynamic imports included)
  node_modules/.bin/esbuild apps/runtime/dist/main.js --bundle --platform=node --format=esm --target=node20 \
    --outfile="$root/app/plane.mjs" --log-level=warning \
    --banner:js="import { createRequire as __semibotRequire } from 'node:module'; const require = __semibotRequire(import.meta.url);"
  cp "$node_bin" "$root/usr/bin/node"
  cp "$busybox" "$root/bin/busybox"
  for tool in sh ls cat echo env mkdir rm cp mv sleep; do ln -sf busybox "$root/bin/$tool"; done
  # the dynamic loader and every library node links
  for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  echo 'plane:x:1000:1000::/plane:/bin/sh' > "$root/etc/passwd"
  echo 'plane:x:1000:' > "$root/etc/group"
}
