#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server on loopback for the test suite.
#   eval "$(.ci/pg.sh start)"   -> exports TEST_DATABASE_URL and TIANFU_PG_DIR
#   .ci/pg.sh stop "$TIANFU_PG_DIR"
set -euo pipefail

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

ensure_installed() {
  if ! pg_bin >/dev/null; then
    echo "PostgreSQL server not found; installing postgresql-15" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql-15 >&2
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  ensure_installed
  local bin dir port as
  bin=$(pg_bin)
  dir=$(mktemp -d /tmp/tianfu-pg.XXXXXX)
  port=$(free_port)
  as=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses to run as root
    chown postgres:postgres "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U tianfu --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U tianfu tianfu_test >&2
  echo "export TEST_DATABASE_URL=postgresql+psycopg://tianfu@127.0.0.1:$port/tianfu_test"
  echo "export TIANFU_PG_DIR=$dir"
}

stop() {
  local dir=${1:-${TIANFU_PG_DIR:-}}
  [ -n "$dir" ] && [ -d "$dir/data" ] || return 0
  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
