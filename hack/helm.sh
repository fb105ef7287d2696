#!/usr/bin/env bash
# The Helm chart's tasks with the pinned helm that hack/controlplane/build.sh builds (HELM_VERSION in
# hack/controlplane/versions.env). Run from anywhere:
#   hack/helm.sh sync-crds        copy crds/*.yaml (the output of `make crds`) into charts/wicked/crds/
#   hack/helm.sh check            fail when charts/wicked/crds/ differs from crds/, then helm lint --strict
#   hack/helm.sh template [args]  render the chart (extra args go to helm template)
#   hack/helm.sh package [dir]    sync-crds, check, and package the chart into dir (default dist/)
#   hack/helm.sh helm <args>      run the pinned helm itself
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
chart="$root/charts/wicked"
bin=$("$root/hack/controlplane/build.sh")
helm="$bin/helm"
# `helm template` renders for Kubernetes 1.20 unless told otherwise; the chart needs 1.30 or later.
kube_version=$(. "$root/hack/controlplane/versions.env" && echo "${KUBERNETES_VERSION#v}")

sync_crds() {
  mkdir -p "$chart/crds"
  rm -f "$chart/crds/"*.yaml
  cp "$root/crds/"*.yaml "$chart/crds/"
  echo "Copied $(ls "$root/crds/"*.yaml | wc -l) CRDs into charts/wicked/crds/"
}

check_crds() {
  if ! diff -r "$root/crds" "$chart/crds" >/dev/null; then
    echo "charts/wicked/crds/ differs from crds/: run \`make crds\` and \`hack/helm.sh sync-crds\`, then commit" >&2
    diff -rq "$root/crds" "$chart/crds" >&2 || true
    exit 1
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  sync-crds) sync_crds ;;
  check)
    check_crds
    "$helm" lint --strict "$chart" --kube-version "$kube_version"
    ;;
  template) "$helm" template wicked "$chart" --namespace wicked-system --kube-version "$kube_version" "$@" ;;
  package)
    sync_crds
    check_crds
    "$helm" lint --strict "$chart" --kube-version "$kube_version"
    out=${1:-$root/dist}
    mkdir -p "$out"
    "$helm" package "$chart" --destination "$out"
    ;;
  helm) exec "$helm" "$@" ;;
  *)
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
