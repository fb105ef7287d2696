#!/usr/bin/env bash
# Builds the container images of wicked's development cluster locally with podman, without any registry:
#   localhost/wicked-base/node:<.node-version>  Debian bookworm (debootstrap minbase) + the pinned Node + npm
#                                               + this machine's CA bundle (NODE_EXTRA_CA_CERTS)
#   localhost/wicked-base/postgres:15           Debian's postgresql-15, started like the official image
#   localhost/wicked-base/pause:1               the pod sandbox: hack/images/pause, one static binary
#   localhost/wicked:dev                        the project's Dockerfile on the node base above
#   localhost/wicked-test/kong-double:dev       THE KONG TEST DOUBLE (test/kong/image/Containerfile) in Kong's
#                                               image's place, for managed gateways in tests; never shipped
#   localhost/wicked-test/kong-double:next      the same, claiming the next Kong version (an upgrade to play)
# Usage: hack/images/build.sh [node-base|postgres|pause|wicked|kong-double|kong-double-next|all]   (default
# all: the images a user's cluster runs; the double's only on request)
# Prints the references of the requested images one per line on stdout; progress goes to stderr. A base
# image carrying a label with the hash of its inputs is not rebuilt; the debootstrapped Debian is cached as
# a tarball in $WICKED_CACHE/images (default ~/.cache/wicked/images), so a rebuild takes seconds.
# Podman runs with hack/images/containers.conf (through CONTAINERS_CONF) unless CONTAINERS_CONF is set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CONTAINERS_CONF=${CONTAINERS_CONF:-$here/containers.conf}
cache=${WICKED_CACHE:-$HOME/.cache/wicked}/images
suite=bookworm
sources=/etc/apt/sources.list.d/debian.sources
node_version=$(tr -d '[:space:]' < "$root/.node-version")

NODE_IMAGE=localhost/wicked-base/node:$node_version
DEBIAN_IMAGE=localhost/wicked-base/debian:$suite # the Debian rootfs as an image: the postgres build's FROM
POSTGRES_IMAGE=localhost/wicked-base/postgres:15
PAUSE_IMAGE=localhost/wicked-base/pause:1
WICKED_IMAGE=localhost/wicked:dev
KONG_DOUBLE_IMAGE=localhost/wicked-test/kong-double:dev
KONG_DOUBLE_NEXT_IMAGE=localhost/wicked-test/kong-double:next

log() { echo "build.sh: $*" >&2; }
need() { command -v "$1" >/dev/null || { echo "error: $1 is required ($2)" >&2; exit 1; }; }
need podman "apt-get install podman"
work=$(mktemp -d)
trap 'rm -rf --one-file-system "$work"' EXIT # never into a mount debootstrap left behind

# inputs_hash FILE... : a short hash of the files and of stdin, for the images' dev.wicked.*.inputs labels.
inputs_hash() { { cat "$@"; cat; } | sha256sum | cut -c1-16; }
# up_to_date IMAGE LABEL HASH: the image exists and was built from the same inputs.
up_to_date() { [ "$(podman image inspect --format "{{index .Labels \"$2\"}}" "$1" 2>/dev/null)" = "$3" ]; }

# drop_replaced OLD_ID IMAGE: removes the image a rebuild untagged, unless something still uses it (podman refuses).
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
drop_replaced() { if [ -n "$1" ] && [ "$1" != "$(image_id "$2")" ]; then podman rmi "$1" >/dev/null 2>&1 || true; fi; }

# The Debian mirror and security mirror this machine's apt uses (deb.debian.org without a sources file).
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' "$sources" 2>/dev/null | grep -v debian-security | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
security=$(sed -n 's/^URIs:[[:space:]]*//p' "$sources" 2>/dev/null | grep debian-security | head -n1 || true)
security=${security:-http://deb.debian.org/debian-security}
rootfs_tar="$cache/debian-$suite-minbase-$(uname -m).tar"

# A slim Debian root file system from debootstrap, made once and kept as a tarball.
debian_rootfs() {
  [ -s "$rootfs_tar" ] && return
  need debootstrap "apt-get install debootstrap"
  local dir="$work/debootstrap"
  log "debootstrap --variant=minbase $suite from $mirror (once; cached in $rootfs_tar)"
  debootstrap --variant=minbase "$suite" "$dir" "$mirror" >&2
  # As Debian's own slim images: no documentation or translations, no recommended packages.
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    > "$dir/etc/dpkg/dpkg.cfg.d/slim"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$dir/etc/apt/apt.conf.d/90slim"
  find "$dir/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  rm -rf "$dir"/usr/share/{man,info,locale}/* "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin \
    "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/* "$dir"/dev/*
  rm -f "$dir/etc/apt/sources.list"
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: %s\n\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: %s\n' \
    "$mirror" "$suite" "$suite" /usr/share/keyrings/debian-archive-keyring.gpg \
    "$security" "$suite" /usr/share/keyrings/debian-archive-keyring.gpg > "$dir/etc/apt/sources.list.d/debian.sources"
  : > "$dir/etc/resolv.conf"
  echo localhost > "$dir/etc/hostname"
  mkdir -p "$cache"
  tar --numeric-owner -C "$dir" -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$dir"
}
rootfs_id() { stat -c '%n %s %Y' "$rootfs_tar"; }

build_node_base() {
  debian_rootfs
  local node_bin npm_version npm_tgz hash dir old
  node_bin=$("$root/hack/node.sh" --pinned)
  need npm "it fetches the npm package"
  npm_version=${NPM_VERSION:-$(npm --version)}
  npm_tgz="$cache/npm-$npm_version.tgz"
  hash=$(inputs_hash "$here/build.sh" /etc/ssl/certs/ca-certificates.crt <<< "node $node_version npm $npm_version $(rootfs_id)")
  if up_to_date "$NODE_IMAGE" dev.wicked.node-base.inputs "$hash"; then log "$NODE_IMAGE is up to date"; return; fi
  if [ ! -s "$npm_tgz" ]; then
    log "fetching npm@$npm_version"
    (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null && mv "npm-$npm_version.tgz" "$npm_tgz")
  fi
  old=$(image_id "$NODE_IMAGE")
  log "building $NODE_IMAGE (Node $node_version, npm $npm_version)"
  dir="$work/node" && mkdir -p "$dir"
  tar -C "$dir" -xf "$rootfs_tar"
  install -m 0755 "$node_bin/node" "$dir/usr/local/bin/node"
  mkdir -p "$dir/usr/local/lib/node_modules/npm"
  tar -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner -xzf "$npm_tgz"
  chmod 0755 "$dir"/usr/local/lib/node_modules/npm/bin/{npm,npx}-cli.js
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  # This network intercepts TLS: npm inside image builds must trust the machine's CAs.
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
  tar --numeric-owner -C "$dir" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$node_version" \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change "LABEL dev.wicked.node-base.inputs=$hash" \
    --change 'CMD ["node"]' - "$NODE_IMAGE" >/dev/null
  rm -rf "$dir"
  drop_replaced "$old" "$NODE_IMAGE"
}

build_postgres() {
  debian_rootfs
  local hash old ctx="$work/postgres"
  hash=$(inputs_hash "$here/build.sh" "$here/postgres-entrypoint.sh" <<< "$(rootfs_id)")
  if up_to_date "$POSTGRES_IMAGE" dev.wicked.postgres.inputs "$hash"; then log "$POSTGRES_IMAGE is up to date"; return; fi
  old=$(image_id "$POSTGRES_IMAGE")
  log "importing $DEBIAN_IMAGE from $rootfs_tar"
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$rootfs_tar" "$DEBIAN_IMAGE" >/dev/null
  log "building $POSTGRES_IMAGE (Debian's postgresql-15)"
  mkdir -p "$ctx" && cp "$here/postgres-entrypoint.sh" "$ctx/"
  cat > "$ctx/Containerfile" <<EOF
FROM $DEBIAN_IMAGE
# uid/gid 999 as in the official image (the chart runs it as 999); no cluster from the package itself.
RUN groupadd --system --gid 999 postgres \\
 && useradd --system --uid 999 --gid 999 --home-dir /var/lib/postgresql --no-create-home --shell /bin/bash postgres \\
 && export DEBIAN_FRONTEND=noninteractive \\
 && apt-get update \\
 && apt-get install -y postgresql-common \\
 && sed -ri 's/#?(create_main_cluster) .*\$/\\1 = false/' /etc/postgresql-common/createcluster.conf \\
 && apt-get install -y postgresql-15 \\
 && sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!" /usr/share/postgresql/15/postgresql.conf.sample \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \\
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \\
 && chown postgres:postgres /var/lib/postgresql /var/lib/postgresql/data /var/run/postgresql \\
 && chmod 1777 /var/lib/postgresql/data && chmod 3777 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8 \\
    PGDATA=/var/lib/postgresql/data
LABEL dev.wicked.postgres.inputs=$hash
VOLUME /var/lib/postgresql/data
USER 999:999
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
  podman build --layers=false -t "$POSTGRES_IMAGE" "$ctx" >&2
  drop_replaced "$old" "$POSTGRES_IMAGE"
}

build_pause() {
  local hash old dir="$work/pause"
  need go "apt-get install golang, or see go.dev"
  hash=$(inputs_hash "$here/build.sh" "$here/pause/main.go" "$here/pause/go.mod" <<< "$(go env GOVERSION)")
  if up_to_date "$PAUSE_IMAGE" dev.wicked.pause.inputs "$hash"; then log "$PAUSE_IMAGE is up to date"; return; fi
  old=$(image_id "$PAUSE_IMAGE")
  log "building $PAUSE_IMAGE"
  mkdir -p "$dir"
  (cd "$here/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/pause" .) >&2
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -c pause | podman import \
    --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' \
    --change "LABEL dev.wicked.pause.inputs=$hash" - "$PAUSE_IMAGE" >/dev/null
  drop_replaced "$old" "$PAUSE_IMAGE"
}

# The project's image exactly as users build it, only FROM the local node base; podman's layer cache makes
# a second build with unchanged sources quick.
build_wicked() {
  build_node_base
  log "building $WICKED_IMAGE from $root"
  podman build --build-arg NODE_IMAGE="$NODE_IMAGE" -t "$WICKED_IMAGE" -f "$root/Dockerfile" "$root" >&2
}

# The Kong test double's image, from the test tree on the same node base (test/kong/image/Containerfile).
build_kong_double() {
  build_node_base
  log "building $KONG_DOUBLE_IMAGE (the Kong TEST DOUBLE) from $root/test/kong"
  podman build --build-arg NODE_IMAGE="$NODE_IMAGE" -t "$KONG_DOUBLE_IMAGE" -f "$root/test/kong/image/Containerfile" "$root" >&2
}

# The double again under another tag, claiming the next Kong version: changing a managed gateway's image to
# it plays a Kong upgrade (migrations up, rollout, finish).
build_kong_double_next() {
  build_kong_double
  log "building $KONG_DOUBLE_NEXT_IMAGE"
  printf 'FROM %s\nENV KONG_DOUBLE_VERSION=3.9.1\n' "$KONG_DOUBLE_IMAGE" |
    podman build --layers=false -t "$KONG_DOUBLE_NEXT_IMAGE" -f - "$work" >&2
}

# Not `build_x && echo`: errexit does not apply inside a function called on the left of &&.
case "${1:-all}" in
  node-base) build_node_base; echo "$NODE_IMAGE" ;;
  postgres) build_postgres; echo "$POSTGRES_IMAGE" ;;
  pause) build_pause; echo "$PAUSE_IMAGE" ;;
  wicked) build_wicked; echo "$WICKED_IMAGE" ;;
  kong-double) build_kong_double; echo "$KONG_DOUBLE_IMAGE" ;;
  kong-double-next) build_kong_double_next; echo "$KONG_DOUBLE_NEXT_IMAGE" ;;
  all)
    build_node_base; echo "$NODE_IMAGE"
    build_postgres; echo "$POSTGRES_IMAGE"
    build_pause; echo "$PAUSE_IMAGE"
    build_wicked; echo "$WICKED_IMAGE" ;;
  *) echo "usage: $0 [node-base|postgres|pause|wicked|kong-double|kong-double-next|all]" >&2; exit 2 ;;
esac
