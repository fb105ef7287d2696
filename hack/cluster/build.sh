#!/usr/bin/env bash
# Builds the node's binaries from Go modules at the pinned versions (../controlplane/versions.env) and caches
# them outside the repository, in $WICKED_CACHE (default ~/.cache/wicked): kubelet, kube-scheduler and
# kube-proxy from k8s.io/kubernetes (the same wrapper module as the control plane, so the Go build cache is
# shared), CoreDNS, and crictl (cri-tools) to remove pods through the runtime. Prints the directory holding them. A second run with the cache in place is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../controlplane/versions.env
. "$here/../controlplane/versions.env"
cache=${WICKED_CACHE:-$HOME/.cache/wicked}
bin="$cache/node-k8s-$KUBERNETES_VERSION-coredns-$COREDNS_VERSION-crictl-$CRI_TOOLS_VERSION/bin"
wanted=(kubelet kube-scheduler kube-proxy coredns crictl)

have_all() { for b in "${wanted[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "error: Go is required to build the node (apt-get install golang or see go.dev)" >&2; exit 1; }
mkdir -p "$bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod
# shellcheck source=../controlplane/kubernetes-module.sh
. "$here/../controlplane/kubernetes-module.sh"

if ! { [ -x "$bin/kubelet" ] && [ -x "$bin/kube-scheduler" ] && [ -x "$bin/kube-proxy" ]; }; then
  kubernetes_module "$work/k8s" "$KUBERNETES_VERSION" kubelet kube-scheduler kube-proxy
  for cmd in kubelet kube-scheduler kube-proxy; do kubernetes_build "$KUBERNETES_VERSION" "$bin/$cmd" "$cmd"; done
fi
if [ ! -x "$bin/coredns" ]; then
  echo "build.sh: building coredns $COREDNS_VERSION" >&2
  GOBIN="$work/coredns" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION" >&2
  mv "$work/coredns/coredns" "$bin/coredns"
fi
if [ ! -x "$bin/crictl" ]; then
  echo "build.sh: building crictl $CRI_TOOLS_VERSION" >&2
  GOBIN="$work/crictl" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/cri-tools/cmd/crictl@$CRI_TOOLS_VERSION" >&2
  mv "$work/crictl/crictl" "$bin/crictl"
fi
have_all || { echo "error: the node build did not produce all of: ${wanted[*]}" >&2; exit 1; }
echo "$bin"
