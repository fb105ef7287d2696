#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kubectl, etcd and helm from Go modules at the pinned
# versions and caches them outside the repository, in $WICKED_CACHE (default ~/.cache/wicked).
# Prints the directory holding the binaries. A second run with the cache in place is a no-op.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
cache=${WICKED_CACHE:-$HOME/.cache/wicked}
bin="$cache/controlplane-k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION/bin"
wanted=(kube-apiserver kube-controller-manager kubectl etcd helm)

have_all() { for b in "${wanted[@]}"; do [ -x "$bin/$b" ] || return 1; done; }
if have_all; then echo "$bin"; exit 0; fi

command -v go >/dev/null || { echo "error: Go is required to build the control plane (apt-get install golang or see go.dev)" >&2; exit 1; }
mkdir -p "$bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# GOTOOLCHAIN is left to the user: with "auto" (the default) an older Go fetches the toolchain the modules need.
export CGO_ENABLED=0 GOFLAGS=-mod=mod
log() { echo "build.sh: $*" >&2; }

# shellcheck source=kubernetes-module.sh
. "$here/kubernetes-module.sh"
build_kubernetes() {
  kubernetes_module "$work/k8s" "$KUBERNETES_VERSION" kube-apiserver kube-controller-manager kubectl
  for cmd in kube-apiserver kube-controller-manager kubectl; do
    kubernetes_build "$KUBERNETES_VERSION" "$bin/$cmd" "$cmd"
  done
}

# etcd: server/v3's go.mod replaces its sibling modules with local paths as well.
build_etcd() {
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init wicked.dev/hack/etcd >/dev/null 2>&1
  go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  log "resolving etcd $ETCD_VERSION"
  go mod tidy >&2
  log "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$bin/etcd.tmp" go.etcd.io/etcd/server/v3 >&2
  mv "$bin/etcd.tmp" "$bin/etcd"
}

build_helm() {
  log "building helm $HELM_VERSION"
  GOBIN="$work/helm" go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  mv "$work/helm/helm" "$bin/helm"
}

[ -x "$bin/etcd" ] || build_etcd
{ [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] && [ -x "$bin/kubectl" ]; } || build_kubernetes
[ -x "$bin/helm" ] || build_helm
have_all || { echo "error: the control plane build did not produce all of: ${wanted[*]}" >&2; exit 1; }
echo "$bin"
