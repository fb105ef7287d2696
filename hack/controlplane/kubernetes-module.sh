# Sourced by build.sh and ../cluster/build.sh: building commands of k8s.io/kubernetes from Go modules.
# k8s.io/kubernetes requires its staging modules at v0.0.0 through local replace directives, so a wrapper
# module replaces each with its published v0.Y.Z; the list is read from the pinned go.mod, so a version bump
# needs no hand-edited list.

# kubernetes_module DIR VERSION CMD... : a wrapper module in DIR whose tools.go imports k8s.io/kubernetes/cmd/CMD.
kubernetes_module() {
  local dir=$1 version=$2 mod staging_version
  shift 2
  staging_version="v0.${version#v1.}"
  mkdir -p "$dir" && cd "$dir"
  go mod init wicked.dev/hack/kubernetes >/dev/null 2>&1
  mod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  go mod edit -require="k8s.io/kubernetes@$version"
  grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$mod" | awk '{print $1}' | while read -r m; do
    go mod edit -replace="$m=$m@$staging_version"
  done
  { printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for cmd in "$@"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"; done
    printf ')\n'; } > tools.go
  echo "build.sh: resolving k8s.io/kubernetes@$version" >&2
  go mod tidy >&2
}

# kubernetes_build VERSION OUT CMD : builds k8s.io/kubernetes/cmd/CMD (in a kubernetes_module) into OUT, with
# the version stamped so that `--version` and discovery report it.
kubernetes_build() {
  local version=$1 out=$2 cmd=$3 minor flags=""
  minor=$(echo "$version" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  echo "build.sh: building $cmd $version" >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $flags" -o "$out.tmp" "k8s.io/kubernetes/cmd/$cmd" >&2
  mv "$out.tmp" "$out"
}
