#!/usr/bin/env bash
# A throwaway PostgreSQL server from Debian's package (apt-get install postgresql) for the
# store tests: `source scripts/postgres.sh; start_postgres` starts one in a temporary folder on
# a free port and exports GRIDPLAN_TEST_POSTGRES (its URL); `stop_postgres` stops and removes it.

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

pg_as_server_user() {
  # initdb and the server refuse to run as root: run them as Debian's postgres user (or nobody)
  if [ "$(id -u)" = 0 ]; then
    local who=postgres
    id -u postgres >/dev/null 2>&1 || who=nobody
    runuser -u "$who" -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  local bin port
  bin=$(pg_bin) || { echo "postgres: initdb not found (apt-get install postgresql)" >&2; return 1; }
  GRIDPLAN_PG_DIR=$(mktemp -d /tmp/gridplan-ci-pg.XXXXXX)
  chmod 777 "$GRIDPLAN_PG_DIR"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "postgres: starting PostgreSQL ($bin) on 127.0.0.1:$port"
  pg_as_server_user "$bin/initdb" -D "$GRIDPLAN_PG_DIR/data" -U gridplan --auth=trust -E UTF8 >/dev/null
  pg_as_server_user "$bin/pg_ctl" -D "$GRIDPLAN_PG_DIR/data" -l "$GRIDPLAN_PG_DIR/log" -w \
    -o "-p $port -k $GRIDPLAN_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  export GRIDPLAN_PG_DIR GRIDPLAN_PG_BIN="$bin"
  export GRIDPLAN_TEST_POSTGRES="postgresql://gridplan@127.0.0.1:$port/postgres"
}

stop_postgres() {
  [ -n "${GRIDPLAN_PG_DIR:-}" ] || return 0
  pg_as_server_user "$GRIDPLAN_PG_BIN/pg_ctl" -D "$GRIDPLAN_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$GRIDPLAN_PG_DIR"
}
