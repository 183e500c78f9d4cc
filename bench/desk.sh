#!/usr/bin/env bash
# The office's desk at scale: the overdue list and the per-unit statistics over a generated year
# (1,600 units, 100,000 assignments, 1,000,000 reports) on PostgreSQL, through the API beside the
# very SQL the server sends, timed directly with pgbench in the same run.
#
#   1. builds target/release/duban if missing (BUILD=1: run cargo build --release anyway);
#   2. creates database $DB (default duban_bench) on 127.0.0.1:5432 (user postgres, trust) and
#      migrates it with the release binary;
#   3. fills it with bench/desk-data.sql (plain INSERT ... SELECT, about a minute), then gives
#      the assignments their standing with the server's own rule (`duban standing backfill`,
#      timed), analyses assignment_standings and prints the row counts;
#   4. serves it once with statement logging on the database, requests each timed query once and
#      reads the exact statements, with their parameters, from PostgreSQL's log; then logging
#      goes off and a fresh server is started for the timings;
#   5. times each query (the overdue page and the per-unit statistics as of two days in the
#      past and as of today) over a keep-alive connection (5 warm-up, then N = 100) and its
#      statement under pgbench (per-transaction log), alternating in blocks of 4, plus GET
#      /healthz as the floor;
#   6. EXPLAIN (ANALYZE, BUFFERS) of each statement -> bench/results/desk-explain.txt, and the
#      figures -> bench/results/desk.md;
#   7. stops the server and drops the database (KEEP=1 keeps it), also on error or Ctrl-C.
#
# Usage: bash bench/desk.sh            (N=100 KEEP=0 DB=duban_bench BUDGET=900 s per query)
#        KEEP=1 also keeps the captured statements in ${TMPDIR:-/tmp}/duban-desk-sql/.
# Talks to 127.0.0.1 only. Refuses to drop $DB while other sessions use it (FORCE=1 to do so).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DB=${DB:-duban_bench}
N=${N:-100}
KEEP=${KEEP:-0}
BUDGET=${BUDGET:-900}
FORCE=${FORCE:-0}
BIN=target/release/duban
RESULTS=bench/results
PASSWORD='bench admin passphrase'
URL="postgres://postgres@127.0.0.1:5432/$DB"

[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "DB must be a plain lower-case name" >&2; exit 2; }
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive number" >&2; exit 2; }

export PGCONNECT_TIMEOUT=10
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -X -v ON_ERROR_STOP=1 -q)
PGBENCH=$(command -v pgbench || true)
[ -n "$PGBENCH" ] || PGBENCH=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1)
[ -x "$PGBENCH" ] || { echo "pgbench not found (apt-get install postgresql-contrib)" >&2; exit 2; }
export PGBENCH
for tool in psql python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/duban-desk.XXXXXX")
SERVER_PID=""
CHILD=""
CREATED=0
LOGGING=0

say() { printf '\n== %s\n' "$*" >&2; }

# bounded SECONDS CMD...: runs CMD under timeout in the background and waits for it, so that
# Ctrl-C or TERM reach the traps at once instead of after the step.
bounded() {
    local secs=$1
    shift
    timeout "$secs" "$@" &
    CHILD=$!
    wait "$CHILD"
    CHILD=""
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 150); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

logging_off() {
    if [ "$LOGGING" = 1 ]; then
        timeout 60 "${PSQL[@]}" -d postgres -c "ALTER DATABASE $DB RESET log_min_duration_statement" \
            -c "ALTER DATABASE $DB RESET log_parameter_max_length" || true
        LOGGING=0
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$CHILD" ]; then
        kill -TERM "$CHILD" 2>/dev/null || true
        wait "$CHILD" 2>/dev/null || true
    fi
    stop_server
    logging_off
    if [ "$CREATED" = 1 ] && [ "$KEEP" != 1 ]; then
        timeout 120 "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
    elif [ "$CREATED" = 1 ]; then
        echo "kept database $DB (KEEP=1): $URL" >&2
        if ls "$WORK"/?.sql >/dev/null 2>&1; then
            mkdir -p "${TMPDIR:-/tmp}/duban-desk-sql" && cp "$WORK"/?.sql "$WORK"/*.logged.txt "${TMPDIR:-/tmp}/duban-desk-sql/" \
                && echo "kept the captured statements in ${TMPDIR:-/tmp}/duban-desk-sql/" >&2
        fi
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

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {
    PORT=$(free_port)
    DUBAN_DATABASE_URL="$URL" DUBAN_DEMO=false DUBAN_ADMIN_USER=admin DUBAN_ADMIN_PASSWORD="$PASSWORD" \
    DUBAN_JWT_SECRET="$JWT_SECRET" DUBAN_REMINDER_INTERVAL=0 DUBAN_LOG=warn DUBAN_BIND="127.0.0.1:$PORT" \
    DUBAN_DATA_DIR="$WORK/data" \
        "$BIN" serve >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    timeout 120 python3 bench/desk_bench.py ready --port "$PORT" --pid "$SERVER_PID" --timeout 90
}

# --- 1. the binary ---------------------------------------------------------------------------
if [ ! -x "$BIN" ] || [ "${BUILD:-0}" = 1 ]; then
    say "cargo build --release"
    bounded 3600 cargo build --release
fi

# --- 2. a fresh, migrated database -----------------------------------------------------------
timeout 30 pg_isready -h 127.0.0.1 -p 5432 -q || { echo "no PostgreSQL on 127.0.0.1:5432" >&2; exit 1; }
others=$(timeout 60 "${PSQL[@]}" -d postgres -Atc \
    "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()")
if [ "$others" != 0 ] && [ "$FORCE" != 1 ]; then
    echo "database $DB has $others other session(s) (someone else's benchmark or server?);" \
         "stop them, pick another DB=..., or FORCE=1 to drop it anyway" >&2
    exit 1
fi
say "database $DB"
timeout 120 "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
timeout 120 "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
CREATED=1
DUBAN_DATABASE_URL="$URL" DUBAN_LOG=warn DUBAN_DATA_DIR="$WORK/data" timeout 300 "$BIN" migrate

# --- 3. a year of data -----------------------------------------------------------------------
say "generating (bench/desk-data.sql)"
t0=$SECONDS
bounded 1800 "${PSQL[@]}" -d "$DB" -f bench/desk-data.sql
GENERATE_S=$((SECONDS - t0))
# The SQL inserts assignments and reports only: their standing comes from the server's rule.
say "duban standing backfill"
t0=$(date +%s.%N)
DUBAN_DATABASE_URL="$URL" DUBAN_LOG=warn DUBAN_DATA_DIR="$WORK/data" bounded 1800 "$BIN" standing backfill >&2
BACKFILL_S=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")
timeout 600 "${PSQL[@]}" -d "$DB" -c "VACUUM ANALYZE assignment_standings"
timeout 60 "${PSQL[@]}" -d "$DB" -c "CHECKPOINT"
timeout 120 psql -h 127.0.0.1 -p 5432 -U postgres -X -d "$DB" -c "
    SELECT 'units' AS table_name, count(*) AS row_count FROM units
    UNION ALL SELECT 'plans', count(*) FROM plans
    UNION ALL SELECT 'plan_items', count(*) FROM plan_items
    UNION ALL SELECT 'assignments', count(*) FROM assignments
    UNION ALL SELECT 'reports', count(*) FROM reports
    UNION ALL SELECT 'urges', count(*) FROM urges
    UNION ALL SELECT 'urge_assignments', count(*) FROM urge_assignments
    UNION ALL SELECT 'assignment_standings', count(*) FROM assignment_standings
    UNION ALL SELECT 'database MB', pg_database_size(current_database()) / 1048576" >&2
echo "generated in ${GENERATE_S} s, standings backfilled in ${BACKFILL_S} s" >&2
missing=$(timeout 60 "${PSQL[@]}" -d "$DB" -Atc "SELECT count(*) FROM assignments a
    WHERE NOT EXISTS (SELECT 1 FROM assignment_standings s WHERE s.assignment_id = a.id AND s.valid_to IS NULL)")
[ "$missing" = 0 ] || { echo "$missing assignments have no current standing after the backfill" >&2; exit 1; }
plan_id=$(timeout 60 "${PSQL[@]}" -d "$DB" -Atc "SELECT string_agg(id::text, ',') FROM plans WHERE state = 'published'")
[ "$plan_id" = 1 ] || { echo "expected one published plan with id 1, got '$plan_id'" >&2; exit 1; }

JWT_SECRET=$(python3 -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(40)))')

# --- 4. the statements the server sends ------------------------------------------------------
say "capturing the server's SQL from PostgreSQL's log"
pg_log=$(timeout 60 "${PSQL[@]}" -d "$DB" -Atc "SELECT COALESCE(pg_current_logfile(), '')")
if [ -n "$pg_log" ] && [ "${pg_log#/}" = "$pg_log" ]; then
    pg_log="$(timeout 60 "${PSQL[@]}" -d "$DB" -Atc 'SHOW data_directory')/$pg_log"
fi
if [ -z "$pg_log" ] || [ ! -r "$pg_log" ]; then
    major=$(timeout 60 "${PSQL[@]}" -d "$DB" -Atc "SELECT current_setting('server_version_num')::int / 10000")
    pg_log=/var/log/postgresql/postgresql-$major-main.log
fi
[ -r "$pg_log" ] || { echo "cannot read PostgreSQL's log (looked for $pg_log)" >&2; exit 1; }
prefix=$(timeout 60 "${PSQL[@]}" -d "$DB" -Atc 'SHOW log_line_prefix')
case "$prefix" in *%d*) ;; *) echo "log_line_prefix ($prefix) must contain %d to tell sessions apart" >&2; exit 1 ;; esac
echo "log: $pg_log" >&2

LOGGING=1
timeout 60 "${PSQL[@]}" -d postgres -c "ALTER DATABASE $DB SET log_min_duration_statement = 0" \
    -c "ALTER DATABASE $DB SET log_parameter_max_length = -1"
start_server
bounded 600 python3 bench/desk_bench.py capture --port "$PORT" --db "$DB" --log "$pg_log" --out "$WORK"
stop_server
logging_off  # sessions opened from now on (the timed server's, pgbench's) log nothing

# --- 5. timings ------------------------------------------------------------------------------
say "timing: API beside pgbench, N=$N"
start_server
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
bounded $((BUDGET * 6 + 900)) python3 bench/desk_bench.py time --port "$PORT" --db "$DB" --sql "$WORK" \
    --n "$N" --budget "$BUDGET" --out "$WORK/times.json"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
stop_server

# --- 6. plans and the report -----------------------------------------------------------------
say "EXPLAIN (ANALYZE, BUFFERS)"
mkdir -p "$RESULTS"
bounded 1800 python3 bench/desk_bench.py explain --db "$DB" --sql "$WORK" \
    --out "$RESULTS/desk-explain.txt" --json "$WORK/explain.json"

head=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src migrations Cargo.toml Cargo.lock 2>/dev/null | awk '{print $2}' | paste -sd, - | sed 's/,/, /g' || true)
newer=$(find src migrations Cargo.toml Cargo.lock -newer "$BIN" -type f 2>/dev/null | sort | paste -sd, - | sed 's/,/, /g' || true)
git_desc="commit $head"
[ -z "$dirty" ] || git_desc="$git_desc with uncommitted changes in $dirty"
[ -z "$newer" ] || git_desc="$git_desc (changed after the build: $newer)"
DATE=$(date -u '+%Y-%m-%d %H:%M UTC') NPROC=$(nproc) \
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') \
MEM=$(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) \
BINARY_MTIME=$(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC') GIT_DESC="$git_desc" \
LOAD_BEFORE="$LOAD_BEFORE" LOAD_AFTER="$LOAD_AFTER" GENERATE_S="$GENERATE_S" BACKFILL_S="$BACKFILL_S" \
python3 -c '
import json, os, sys
e = os.environ
json.dump({"date": e["DATE"], "nproc": e["NPROC"], "cpu": e["CPU"], "mem": e["MEM"],
           "binary_mtime": e["BINARY_MTIME"], "git": e["GIT_DESC"], "load_before": e["LOAD_BEFORE"],
           "load_after": e["LOAD_AFTER"], "generate_s": e["GENERATE_S"],
           "backfill_s": e["BACKFILL_S"]}, open(sys.argv[1], "w"))' "$WORK/meta.json"

timeout 300 python3 bench/desk_bench.py report --db "$DB" --times "$WORK/times.json" \
    --explain-json "$WORK/explain.json" --meta "$WORK/meta.json" --out "$RESULTS/desk.md"
echo "wrote $RESULTS/desk.md and $RESULTS/desk-explain.txt" >&2
