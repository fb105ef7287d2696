#!/usr/bin/env bash
# Fetches the Gateway API's CRDs (standard channel) at the pinned GATEWAY_API_VERSION through the Go module
# proxy (the module sigs.k8s.io/gateway-api carries them under config/crd/standard; `go mod download`
# verifies the module against the checksum database) and caches them outside the repository, in
# $WICKED_CACHE (default ~/.cache/wicked), like the control plane's builds. Prints the directory holding the
# CRD manifests. A second run with the cache in place is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${WICKED_CACHE:-$HOME/.cache/wicked}
dir="$cache/gateway-api-$GATEWAY_API_VERSION/standard"
if compgen -G "$dir/*.yaml" >/dev/null; then echo "$dir"; exit 0; fi

command -v go >/dev/null || { echo "error: Go is required to fetch the Gateway API CRDs (apt-get install golang or see go.dev)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "gateway-api.sh: fetching sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" >&2
module=$(cd "$work" && go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
[ -d "$module/config/crd/standard" ] || { echo "error: sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION has no config/crd/standard" >&2; exit 1; }
mkdir -p "$work/standard"
# The CRDs only: the release's ValidatingAdmissionPolicy (vap_*) guards upgrades of clusters, not tests.
for f in "$module"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
  case "$f" in *_vap_*) continue ;; esac
  cp "$f" "$work/standard/"
done
mkdir -p "$(dirname "$dir")"
rm -rf "$dir" && mv "$work/standard" "$dir"
echo "$dir"
