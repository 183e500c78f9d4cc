#!/usr/bin/env bash
# How many statements each hot request sends to PostgreSQL, and how many of them run prepared:
# a unit manager creates a draft, submits it, reads it, lists the unit's assignments and reads
# /me, each request alone, while the database logs every statement
# (log_min_duration_statement = 0 on a database of its own); the counts come from PostgreSQL's
# log ('execute __diesel_stmt_N' is a cached prepared statement, 'execute <unnamed>' one parsed
# and planned for that call alone, 'statement:' a simple query such as BEGIN).
#
#   1. builds $BIN if missing (default target/release/duban; BIN=target/debug/duban works too,
#      the counts do not depend on the build);
#   2. creates database $DB (default duban_statements) on 127.0.0.1:5432 (user postgres, trust),
#      turns statement logging on for it, and serves the demo data from it on a pool of one
#      connection (so that the warm rounds show what every later request costs);
#   3. bench/statements.py sends each request ROUNDS times (default 3) and prints the table
#      (OUT=FILE also writes it, with the statements of the last round);
#   4. stops the server and drops the database, also on error or Ctrl-C.
#
# Usage: bash bench/statements.sh       (DB=duban_statements ROUNDS=3 BIN=target/release/duban)
# Talks to 127.0.0.1 only.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DB=${DB:-duban_statements}
ROUNDS=${ROUNDS:-3}
BIN=${BIN:-target/release/duban}
OUT=${OUT:-}
PASSWORD='statements bench admin'
URL="postgres://postgres@127.0.0.1:5432/$DB"

[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "DB must be a plain lower-case name" >&2; exit 2; }
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || { echo "ROUNDS must be 1 to 99" >&2; exit 2; }

export PGCONNECT_TIMEOUT=10
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -X -v ON_ERROR_STOP=1 -q)
for tool in psql python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/duban-statements.XXXXXX")
SERVER_PID=""
CREATED=0

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    if [ "$CREATED" = 1 ]; then
        timeout 120 "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
    fi
    if [ "$rc" != 0 ] && [ -s "$WORK/server.log" ]; then
        echo "--- last lines of the server's log:" >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ ! -x "$BIN" ]; then
    case "$BIN" in
        target/release/duban) timeout 3600 cargo build --release ;;
        target/debug/duban) timeout 3600 cargo build ;;
        *) echo "$BIN not found" >&2; exit 2 ;;
    esac
fi

timeout 30 pg_isready -h 127.0.0.1 -p 5432 -q || { echo "no PostgreSQL on 127.0.0.1:5432" >&2; exit 1; }
pg_log=$(timeout 60 "${PSQL[@]}" -d postgres -Atc "SELECT COALESCE(pg_current_logfile(), '')")
if [ -n "$pg_log" ] && [ "${pg_log#/}" = "$pg_log" ]; then
    pg_log="$(timeout 60 "${PSQL[@]}" -d postgres -Atc 'SHOW data_directory')/$pg_log"
fi
if [ -z "$pg_log" ] || [ ! -r "$pg_log" ]; then
    major=$(timeout 60 "${PSQL[@]}" -d postgres -Atc "SELECT current_setting('server_version_num')::int / 10000")
    pg_log=/var/log/postgresql/postgresql-$major-main.log
fi
[ -r "$pg_log" ] || { echo "cannot read PostgreSQL's log (looked for $pg_log)" >&2; exit 1; }
prefix=$(timeout 60 "${PSQL[@]}" -d postgres -Atc 'SHOW log_line_prefix')
case "$prefix" in *%p*%d*) ;; *) echo "log_line_prefix ($prefix) must hold %p and %d" >&2; exit 1 ;; esac

timeout 120 "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
timeout 120 "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
CREATED=1
timeout 60 "${PSQL[@]}" -d postgres -c "ALTER DATABASE $DB SET log_min_duration_statement = 0" \
    -c "ALTER DATABASE $DB SET log_parameter_max_length = 0"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_hex(24))')
DUBAN_DATABASE_URL="$URL" DUBAN_DEMO=true DUBAN_ADMIN_USER=bench-admin DUBAN_ADMIN_PASSWORD="$PASSWORD" \
DUBAN_JWT_SECRET="$JWT_SECRET" DUBAN_REMINDER_INTERVAL=0 DUBAN_LOG=warn DUBAN_BIND="127.0.0.1:$PORT" \
DUBAN_POOL_SIZE=1 DUBAN_WORKERS=1 DUBAN_DATA_DIR="$WORK/data" \
    "$BIN" serve >>"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server stopped" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "the server did not get ready" >&2; exit 1; }

echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $BIN, PostgreSQL log $pg_log" >&2
args=(--port "$PORT" --db "$DB" --log "$pg_log" --password "$PASSWORD" --rounds "$ROUNDS")
[ -z "$OUT" ] || args+=(--out "$OUT")
[ "${VERBOSE:-0}" = 0 ] || args+=(--verbose)
timeout 600 python3 bench/statements.py "${args[@]}"
