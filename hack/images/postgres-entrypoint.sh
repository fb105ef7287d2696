#!/usr/bin/env bash
# Entrypoint of localhost/wicked-base/postgres:15 (hack/images/build.sh): Debian's PostgreSQL 15 started the
# way the official postgres image starts it, as far as charts/wicked/templates/postgres/postgres.yaml needs.
# On an empty $PGDATA: initdb with the superuser $POSTGRES_USER and $POSTGRES_PASSWORD (scram-sha-256 for
# host connections from anywhere, trust on the local socket), create $POSTGRES_DB, run
# /docker-entrypoint-initdb.d/*.sql and *.sh once. Then exec postgres listening on *:5432.
# It runs as uid 999 with a read-only root file system: it writes only to $PGDATA, /var/run/postgresql and
# /tmp. $PGDATA's parent may be a host directory with mode 1777; $PGDATA itself is created with mode 0700.
set -Eeo pipefail # no -u: init scripts are sourced, as in the official image

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

# `docker run IMAGE -c x=y` passes options to postgres; any other command runs as given (psql, bash, ...).
if [ $# -eq 0 ] || [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi

# Started as root (podman run --user 0): prepare the directories, then continue as postgres.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

# The socket goes to /var/run/postgresql (an emptyDir in the chart), or to /tmp when that is not writable:
# `podman run --read-only --tmpfs /var/run/postgresql` mounts it owned by root with mode 0755.
socket_dir=/var/run/postgresql
if [ ! -w "$socket_dir" ]; then
  echo "docker-entrypoint.sh: $socket_dir is not writable; the socket goes to /tmp" >&2
  socket_dir=/tmp
  set -- postgres -c unix_socket_directories=/tmp "${@:2}"
fi
export PGHOST=$socket_dir

mkdir -p "$PGDATA"
chmod 0700 "$PGDATA" 2>/dev/null || true # initdb refuses a directory others can read

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  pwfile=$(mktemp) # in /tmp
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" \
    --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf '\n# Any host, as in the official image (docker-entrypoint.sh).\nhost all all all %s\n' \
    "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

  # A temporary server on the socket only, for the database and the init scripts.
  pg_ctl --wait --silent -o "-c listen_addresses='' -p 5432 -c unix_socket_directories=$socket_dir" start
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        echo "docker-entrypoint.sh: running $f"
        if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql)
        echo "docker-entrypoint.sh: running $f"
        "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz)
        echo "docker-entrypoint.sh: running $f"
        gzip -dc "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      */\*) ;; # an empty directory
      *) echo "docker-entrypoint.sh: ignoring $f" ;;
    esac
  done
  pg_ctl --wait --silent -m fast stop
  echo "docker-entrypoint.sh: PostgreSQL init process complete; ready for start up."
fi

shift
exec postgres "$@"
