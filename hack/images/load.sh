#!/usr/bin/env bash
# Puts podman images into a containerd's k8s.io namespace (the one its CRI plugin, hence the kubelet, uses)
# without a registry: `podman save --format oci-archive`, then `ctr images import`. Each image keeps exactly
# its podman name (localhost/wicked:dev stays localhost/wicked:dev), for pods with imagePullPolicy Never or
# IfNotPresent. An image containerd already holds under that name with the same config digest (podman's
# image id) is skipped, so a re-run is quick.
# Usage: hack/images/load.sh <containerd-address> <image>...
# Needs ctr (Debian's containerd package; $CTR overrides); it unpacks into $CONTAINERD_SNAPSHOTTER (default
# overlayfs). Podman runs with hack/images/containers.conf (through CONTAINERS_CONF) unless that is set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
if [ $# -lt 2 ]; then echo "usage: $0 <containerd-address> <image>..." >&2; exit 2; fi
address=$1
shift
ctr=("${CTR:-ctr}" --address "$address" --namespace k8s.io)
command -v "${ctr[0]}" >/dev/null || { echo "error: ctr is required (apt-get install containerd)" >&2; exit 1; }
log() { echo "load.sh: $*" >&2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# containerd_config NAME: the config digest of containerd's image NAME, empty when it has none.
containerd_config() {
  local target
  target=$("${ctr[@]}" images ls | awk -v n="$1" '$1 == n { print $3 }')
  [ -n "$target" ] || return 0
  "${ctr[@]}" content get "$target" 2>/dev/null | tr -d ' \n\t' | grep -o '"config":{[^}]*}' |
    grep -o 'sha256:[0-9a-f]*' || true
}

for image in "$@"; do
  id=$(podman image inspect --format '{{.Id}}' "$image") || { echo "error: podman has no image $image" >&2; exit 1; }
  # The full name podman knows the argument by (wicked:dev is localhost/wicked:dev), else its first name.
  names=$(podman image inspect --format '{{range .RepoTags}}{{println .}}{{end}}' "$image")
  name=$(grep -m1 -xF -e "$image" -e "localhost/$image" <<< "$names" || head -n1 <<< "$names")
  [ -n "$name" ] || { echo "error: $image has no name to load it under" >&2; exit 1; }
  if [ "$(containerd_config "$name")" = "sha256:$id" ]; then
    log "$name is already loaded"
    continue
  fi
  log "loading $name (${id:0:12})"
  podman save --format oci-archive -o "$work/image.tar" "$name" >&2
  "${ctr[@]}" images import "$work/image.tar" >&2
  rm -f "$work/image.tar"
  if [ "$(containerd_config "$name")" != "sha256:$id" ]; then
    echo "error: containerd at $address did not get $name with config sha256:$id; it has:" >&2
    "${ctr[@]}" images ls >&2
    exit 1
  fi
done
