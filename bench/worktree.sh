#!/usr/bin/env bash
# Builds another commit of this repository beside the checkout, for an A/B run:
#
#   bash bench/worktree.sh <commit> /tmp/wt-old
#   SEMIBOT_BENCH_ROOT=/tmp/wt-old node bench/dist/main.js --only=long   # alternate with a run without it
#   git worktree remove --force /tmp/wt-old
#
# Nothing is installed: third-party packages are links into this checkout's node_modules. The
# workspace's own packages (@semibot/*) are linked into the worktree itself — linking node_modules
# as a whole would make the old build run this checkout's packages and execution plane.
set -euo pipefail
commit=${1:?usage: bench/worktree.sh <commit> <dir>}
dir=${2:?usage: bench/worktree.sh <commit> <dir>}
here=$(cd "$(dirname "$0")/.." && pwd)

git -C "$here" worktree add --force --detach "$dir" "$commit" >/dev/null
link_modules() { # <node_modules of this checkout> <node_modules to create>
  mkdir -p "$2"
  for entry in "$1"/* "$1"/.bin; do
    [ -e "$entry" ] || continue
    name=$(basename "$entry")
    if [ "$name" = "@semibot" ]; then
      mkdir -p "$2/@semibot"
      for pkg in "$entry"/*; do
        target=$(readlink -f "$pkg")
        ln -sfn "$dir${target#"$here"}" "$2/@semibot/$(basename "$pkg")"
      done
    else
      ln -sfn "$entry" "$2/$name"
    fi
  done
}
link_modules "$here/node_modules" "$dir/node_modules"
for modules in "$here"/*/*/node_modules; do
  [ -d "$modules" ] || continue
  link_modules "$modules" "$dir${modules#"$here"}"
done
# the web console's build is not compiled here: the old build serves this checkout's
[ -d "$here/apps/web/dist" ] && [ ! -e "$dir/apps/web/dist" ] && cp -r "$here/apps/web/dist" "$dir/apps/web/dist"
(cd "$dir" && npx tsc -b)
echo "$dir: $(git -C "$dir" log --oneline -1)"
