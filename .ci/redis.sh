#!/usr/bin/env bash
# Start or stop a throwaway Redis server on loopback (appendonly) for the test suite.
#   eval "$(.ci/redis.sh start)"   -> exports TEST_REDIS_URL and TIANFU_REDIS_DIR
#   .ci/redis.sh stop "$TIANFU_REDIS_DIR"
set -euo pipefail

ensure_installed() {
  if ! command -v redis-server >/dev/null; then
    echo "redis-server not found; installing Debian's redis-server" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq redis-server >&2
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  ensure_installed
  local dir port
  dir=$(mktemp -d /tmp/tianfu-redis.XXXXXX)
  port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes \
    --appendfsync always --save '' --daemonize yes --pidfile "$dir/redis.pid" \
    --logfile "$dir/redis.log" >&2
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null || { cat "$dir/redis.log" >&2; exit 1; }
  echo "export TEST_REDIS_URL=redis://127.0.0.1:$port/0"
  echo "export TIANFU_REDIS_DIR=$dir"
}

stop() {
  local dir=${1:-${TIANFU_REDIS_DIR:-}}
  [ -n "$dir" ] && [ -f "$dir/redis.pid" ] || return 0
  local pid
  pid=$(cat "$dir/redis.pid")  # Redis removes the file as it exits
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
