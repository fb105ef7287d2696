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

# kube-apiserver, kube-controller-manager and kubectl: k8s.io/kubernetes requires its staging modules at
# v0.0.0 through local replace directives, so a wrapper module replaces each with its published v0.Y.Z.
build_kubernetes() {
  local minor staging_version mod
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  staging_version="v0.${KUBERNETES_VERSION#v1.}"
  mkdir -p "$work/k8s" && cd "$work/k8s"
  go mod init wicked.dev/hack/kubernetes >/dev/null 2>&1
  mod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  go mod edit -require="k8s.io/kubernetes@$KUBERNETES_VERSION"
  grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$mod" | awk '{print $1}' | while read -r m; do
    go mod edit -replace="$m=$m@$staging_version"
  done
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "resolving k8s.io/kubernetes@$KUBERNETES_VERSION"
  go mod tidy >&2
  local v=k8s.io/component-base/version cv=k8s.io/client-go/pkg/version flags=""
  for pkg in $v $cv; do
    flags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  for cmd in kube-apiserver kube-controller-manager kubectl; do
    log "building $cmd $KUBERNETES_VERSION (a cold build takes 10-20 minutes)"
    go build -trimpath -ldflags "-s -w $flags" -o "$bin/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd" >&2
    mv "$bin/$cmd.tmp" "$bin/$cmd"
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
