#!/usr/bin/env bash
# The load benchmark, one command: every hot path of the API beside PostgreSQL doing the same
# work (pgbench running the statements the server sent), at 10^4, 10^5 and 10^6 reports, then
# the embedded default (SQLite) at 10^5; writes bench/RESULTS.md and bench/results/growth.svg.
#
#   1. builds the release binary and the load generator once (cargo build --release);
#   2. for each size: a fresh PostgreSQL database, migrated and filled with `duban bench-data`
#      (the data and the bench accounts), the accounts granted reports:submit;
#   3. a release server with statement logging on the database: each scenario's requests are
#      made once and the statements they sent, read back from PostgreSQL's log, become pgbench
#      scripts (bench/loadbench.py script); then logging goes off and a fresh server is started;
#   4. every scenario at each concurrency, the API (examples/load.rs) and then pgbench with
#      the same clients, warm-up and duration; for the desk also the least work the question
#      needs; sign-in once (at the first size) with `GET /me` timed beside it and the RSS sampled;
#   5. EXPLAIN (ANALYZE, BUFFERS) of every captured statement (rolled back);
#   6. SQLite at 10^5 reports, filled the same way: submit and the reads through the API (no
#      pgbench there);
#   7. bench/report.py writes bench/RESULTS.md and bench/results/growth.svg.
#
# Usage: bash bench/run.sh                      full run (under about 30 minutes on 2 cores)
#        QUICK=1 bash bench/run.sh              10^4 and 10^5, c = 4 and 16, 3 s runs (~6 minutes)
# Knobs: SIZES="10000 100000 1000000" CONC="1 4 16 64" DURATION=8 WARMUP=2 LOGIN_C=8
#        SCENARIOS="submit assignments report overdue stats" SQLITE=1 SQLITE_REPORTS=100000
#        BUDGET=3000 (seconds overall) STEP=900 (seconds per step) KEEP=1 (keep databases)
#        WEBHOOKS=1 (also bench/webhooks.py: webhook delivery latency, into RESULTS.md)
#        BUILD=0 (use the release binaries already built) ACCOUNTS=64 (service accounts) OUT=bench/results/load (raw JSON, scripts, plans)
# Talks to 127.0.0.1 only; stops its servers and drops its databases on exit or Ctrl-C.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [ "${QUICK:-0}" = 1 ]; then
    : "${SIZES:=10000 100000}" "${CONC:=4 16}" "${DURATION:=3}" "${WARMUP:=1}" "${SQLITE_CONC:=4 16}"
fi
SIZES=${SIZES:-10000 100000 1000000}
CONC=${CONC:-1 4 16 64}
SQLITE_CONC=${SQLITE_CONC:-4 16 64}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}
LOGIN_C=${LOGIN_C:-8}
SCENARIOS=${SCENARIOS:-submit assignments report overdue stats}
SQLITE=${SQLITE:-1}
SQLITE_REPORTS=${SQLITE_REPORTS:-100000}
BUDGET=${BUDGET:-3000}
STEP=${STEP:-900}
KEEP=${KEEP:-0}
ACCOUNTS=${ACCOUNTS:-64}
OUT=${OUT:-bench/results/load}
DBPREFIX=${DBPREFIX:-duban_loadbench}
# cargo's target directory (CARGO_TARGET_DIR if set, as cargo itself reads it).
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$TARGET_DIR/release/duban
LOAD=$TARGET_DIR/release/examples/load

for v in DURATION WARMUP LOGIN_C SQLITE_REPORTS BUDGET STEP ACCOUNTS; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "$v must be a whole number" >&2; exit 2; }
done
[[ $DBPREFIX =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "DBPREFIX must be a plain lower-case name" >&2; exit 2; }

export PGCONNECT_TIMEOUT=10
PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -X -v ON_ERROR_STOP=1 -q)
PGBENCH=$(command -v pgbench || true)
[ -n "$PGBENCH" ] || PGBENCH=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1)
[ -x "$PGBENCH" ] || { echo "pgbench not found (apt-get install postgresql-contrib)" >&2; exit 2; }
export PGBENCH
for tool in psql python3 cargo; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/duban-load.XXXXXX")
SERVER_PID=""
CHILD=""
DBS=()
LOGGING_DB=""
STARTED=$SECONDS
# The accounts' password: made up for this run, never stored.
DUBAN_BENCH_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
export DUBAN_BENCH_PASSWORD
JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(40))')

say() { printf '\n== [%4ds] %s\n' "$((SECONDS - STARTED))" "$*" >&2; }

left() { echo $((BUDGET - (SECONDS - STARTED))); }

# bounded SECONDS CMD...: runs CMD under timeout (never past the overall budget) in the
# background and waits for it, so that Ctrl-C or TERM reach the traps at once.
bounded() {
    local secs=$1 rest
    shift
    rest=$(left)
    [ "$rest" -gt 0 ] || { echo "overall budget of $BUDGET s spent" >&2; return 124; }
    [ "$secs" -le "$rest" ] || secs=$rest
    timeout "$secs" "$@" &
    CHILD=$!
    local rc=0
    wait "$CHILD" || rc=$?
    CHILD=""
    return $rc
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
    if [ -n "$LOGGING_DB" ]; then
        timeout 60 "${PSQL[@]}" -d postgres -c "ALTER DATABASE $LOGGING_DB RESET log_min_duration_statement" \
            -c "ALTER DATABASE $LOGGING_DB RESET log_parameter_max_length" || true
        LOGGING_DB=""
    fi
}

drop_db() {
    timeout 120 "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" || true
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
    for db in "${DBS[@]}"; do
        if [ "$KEEP" = 1 ]; then
            echo "kept database $db (KEEP=1)" >&2
        else
            drop_db "$db"
        fi
    done
    if [ "$rc" != 0 ] && [ -s "$WORK/server.log" ]; then
        echo "--- last lines of the server's log:" >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    if [ "$KEEP" = 1 ]; then
        echo "kept the work directory $WORK (KEEP=1)" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server URL: a release server on a free loopback port, demo data and reminders off.
start_server() {
    PORT=$(free_port)
    DUBAN_DATABASE_URL="$1" DUBAN_DEMO=false DUBAN_JWT_SECRET="$JWT_SECRET" DUBAN_REMINDER_INTERVAL=0 \
    DUBAN_LOG=warn DUBAN_BIND="127.0.0.1:$PORT" DUBAN_DATA_DIR="$WORK/data" \
        "$BIN" serve >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    timeout 120 python3 bench/pglog.py ready --port "$PORT" --pid "$SERVER_PID" --timeout 90
}

# load ARGS...: the load generator against the running server.
load() {
    bounded "$STEP" "$LOAD" --url "http://127.0.0.1:$PORT" --units "$ACCOUNTS" "$@"
}

# --- 1. the binaries -------------------------------------------------------------------------
say "cargo build --release (the server and the load generator)"
if [ "${BUILD:-1}" = 1 ]; then
    bounded 3600 cargo build --release --bin duban --example load
else
    echo "BUILD=0: using the binaries already in $TARGET_DIR/release" >&2
fi
timeout 30 pg_isready -h 127.0.0.1 -p 5432 -q || { echo "no PostgreSQL on 127.0.0.1:5432" >&2; exit 1; }

mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/*.pgbench "$OUT"/*.explain.sql "$OUT"/*.txt
python3 - "$OUT/meta.json" <<EOF
import json, os, subprocess, sys
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception:
        return ""
json.dump({"date": sh("date -u '+%Y-%m-%d %H:%M UTC'"), "nproc": os.cpu_count(),
           "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'"),
           "mem": sh("awk '/MemTotal/ {printf \"%.0f GB\", \$2 / 1048576}' /proc/meminfo"),
           "commit": sh("git rev-parse --short HEAD"), "dirty": sh("git status --porcelain -- src migrations Cargo.toml Cargo.lock examples | wc -l"),
           "rustc": sh("rustc --version"), "pg": sh("psql -h 127.0.0.1 -U postgres -X -Atc 'SHOW server_version'"),
           "pgbench": sh("$PGBENCH --version"),
           "sizes": "$SIZES".split(), "conc": "$CONC".split(), "duration": $DURATION, "warmup": $WARMUP,
           "login_c": $LOGIN_C, "accounts": $ACCOUNTS, "budget": $BUDGET}, open(sys.argv[1], "w"), indent=1)
EOF

# PostgreSQL's log, to read the statements back.
PG_LOG=$(timeout 60 "${PSQL[@]}" -d postgres -Atc "SELECT COALESCE(pg_current_logfile(), '')")
if [ -n "$PG_LOG" ] && [ "${PG_LOG#/}" = "$PG_LOG" ]; then
    PG_LOG="$(timeout 60 "${PSQL[@]}" -d postgres -Atc 'SHOW data_directory')/$PG_LOG"
fi
if [ -z "$PG_LOG" ] || [ ! -r "$PG_LOG" ]; then
    major=$(timeout 60 "${PSQL[@]}" -d postgres -Atc "SELECT current_setting('server_version_num')::int / 10000")
    PG_LOG=/var/log/postgresql/postgresql-$major-main.log
fi
[ -r "$PG_LOG" ] || { echo "cannot read PostgreSQL's log (looked for $PG_LOG)" >&2; exit 1; }
prefix=$(timeout 60 "${PSQL[@]}" -d postgres -Atc 'SHOW log_line_prefix')
case "$prefix" in *%d*) ;; *) echo "log_line_prefix ($prefix) must contain %d to tell databases apart" >&2; exit 1 ;; esac

# grant_submit URL: the bench's department systems may also submit (reports:submit), as an
# administrator grants it to a unit's system; service accounts are made without it.
grant_submit() {
    local url=$1
    local grant="UPDATE users SET scopes = 'assignments:read reports:read reports:write reports:submit' WHERE username LIKE 'bench-unit-%'"
    if [ "${url#sqlite}" != "$url" ]; then
        python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()" "${url#sqlite://}" "$grant"
    else
        timeout 60 "${PSQL[@]}" -d "${url##*/}" -c "$grant"
    fi
}

# generate URL REPORTS LABEL: fills the migrated database; records the time in $OUT/gen-LABEL.json.
generate() {
    local url=$1 n=$2 label=$3 t0 how
    t0=$(date +%s.%N)
    how="duban bench-data --reports $n --accounts $ACCOUNTS"
    DUBAN_DATABASE_URL="$url" DUBAN_LOG=warn DUBAN_DATA_DIR="$WORK/data" \
        bounded "$STEP" "$BIN" bench-data --reports "$n" --accounts "$ACCOUNTS" >"$WORK/gen-$label.out"
    grant_submit "$url"
    python3 -c "import json, sys; json.dump({'label': sys.argv[1], 'reports_asked': int(sys.argv[2]), 'how': sys.argv[3],
        'seconds': round(float(sys.argv[5]) - float(sys.argv[4]), 1)}, open(sys.argv[6], 'w'))" \
        "$label" "$n" "$how" "$t0" "$(date +%s.%N)" "$OUT/gen-$label.json"
}

# counts DB LABEL: row counts and size of a PostgreSQL database -> $OUT/counts-LABEL.json
counts() {
    timeout 120 "${PSQL[@]}" -d "$1" -Atc "SELECT json_build_object(
        'units', (SELECT count(*) FROM units), 'plans', (SELECT count(*) FROM plans),
        'assignments', (SELECT count(*) FROM assignments), 'reports', (SELECT count(*) FROM reports),
        'standings', (SELECT count(*) FROM assignment_standings), 'db_mb', pg_database_size(current_database()) / 1048576)" \
        >"$OUT/counts-$2.json"
}

PERIOD_YEAR=2200  # each timed submit run writes its own block of 100 years of periods
next_year() { PERIOD_YEAR=$((PERIOD_YEAR + 100)); }

LOGIN_DONE=0
# --- 2.-5. PostgreSQL, size by size ----------------------------------------------------------
for size in $SIZES; do
    [ "$(left)" -gt 60 ] || { say "overall budget spent: skipping $size and what follows"; break; }
    DB="${DBPREFIX}_$size"
    URL="postgres://postgres@127.0.0.1:5432/$DB"
    say "PostgreSQL, $size reports: database $DB"
    drop_db "$DB"
    timeout 120 "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
    DBS+=("$DB")
    DUBAN_DATABASE_URL="$URL" DUBAN_LOG=warn DUBAN_DATA_DIR="$WORK/data" timeout 300 "$BIN" migrate >/dev/null
    say "generating $size reports"
    generate "$URL" "$size" "pg-$size"
    counts "$DB" "pg-$size"
    cat "$OUT/counts-pg-$size.json" >&2
    timeout 60 "${PSQL[@]}" -d "$DB" -c "CHECKPOINT"

    # 3. capture the statements of each scenario
    say "capturing the server's statements"
    SQL="$WORK/sql-$size"
    mkdir -p "$SQL"
    python3 bench/loadbench.py lookups --db "$DB" --units "$ACCOUNTS" >/dev/null
    LOGGING_DB=$DB
    timeout 60 "${PSQL[@]}" -d postgres -c "ALTER DATABASE $DB SET log_min_duration_statement = 0" \
        -c "ALTER DATABASE $DB SET log_parameter_max_length = -1"
    start_server "$URL"
    for sc in $SCENARIOS; do
        [ "$sc" != report ] || python3 bench/loadbench.py lookups --db "$DB" --units "$ACCOUNTS" --reports >/dev/null
        load --scenario "$sc" --concurrency 1 --capture "$PG_LOG" --period-year 2100 >"$SQL/$sc.capture.json"
        python3 bench/loadbench.py script --capture "$SQL/$sc.capture.json" --log "$PG_LOG" --db "$DB" --out "$SQL"
    done
    stop_server
    logging_off
    for q in overdue stats; do
        python3 bench/loadbench.py least --which "$q" --out "$SQL" >/dev/null
    done
    for f in "$SQL"/*.pgbench "$SQL"/*.meta.json; do cp "$f" "$OUT/pg-$size-$(basename "$f")"; done

    # 4. the timings
    start_server "$URL"
    say "timing at $size reports (API, then pgbench, at each concurrency)"
    # --- hook: read replicas. bench/replica.sh, when present, gets the database and the
    # --- server's port and may add its own runs (a replica, the desk served from it).
    if [ -x bench/replica.sh ]; then
        DB="$DB" PORT="$PORT" OUT="$OUT" SIZE="$size" bounded "$STEP" bench/replica.sh || say "bench/replica.sh failed"
    fi
    for sc in $SCENARIOS; do
        mode=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['mode'])" "$SQL/$sc.meta.json")
        [ "$sc" != report ] || python3 bench/loadbench.py lookups --db "$DB" --units "$ACCOUNTS" --reports >/dev/null
        for c in $CONC; do
            [ "$(left)" -gt 30 ] || break
            tag="pg-$size-$sc-c$c"
            if load --scenario "$sc" --concurrency "$c" --duration "$DURATION" --warmup "$WARMUP" \
                --period-year "$PERIOD_YEAR" >"$OUT/$tag.api.json"; then
                python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(f\"API      {sys.argv[2]}: {d['throughput']:9.1f}/s p50 {d['p50_ms']:7.2f} p99 {d['p99_ms']:7.2f} ms errors {d['error_count']}\", file=sys.stderr)" "$OUT/$tag.api.json" "$tag"
            else
                rm -f "$OUT/$tag.api.json"
            fi
            next_year
            bounded "$STEP" python3 bench/loadbench.py pgbench --db "$DB" --script "$SQL/$sc.pgbench" --label "$sc" \
                --mode "$mode" -c "$c" -T "$DURATION" --warmup "$WARMUP" --out "$OUT/$tag.pgbench.json" >/dev/null || true
            if [ "$sc" = overdue ] || [ "$sc" = stats ]; then
                bounded "$STEP" python3 bench/loadbench.py pgbench --db "$DB" --script "$SQL/$sc.least.pgbench" \
                    --label "$sc-least" --mode prepared -c "$c" -T "$DURATION" --warmup "$WARMUP" \
                    --out "$OUT/$tag.least.json" >/dev/null || true
            fi
        done
    done
    if [ "$LOGIN_DONE" = 0 ] && [ "$(left)" -gt 60 ]; then
        say "sign-in at full rate (c=$LOGIN_C) with GET /me timed beside it"
        load --scenario login --concurrency "$LOGIN_C" --duration "$DURATION" --warmup "$WARMUP" \
            --pid "$SERVER_PID" >"$OUT/pg-$size-login.api.json" || rm -f "$OUT/pg-$size-login.api.json"
        LOGIN_DONE=1
    fi
    stop_server

    # 5. plans
    say "EXPLAIN (ANALYZE, BUFFERS) of the captured statements"
    for f in "$SQL"/*.explain.sql; do
        b=$(basename "$f" .explain.sql)
        bounded "$STEP" python3 bench/loadbench.py explain --db "$DB" --sql "$f" \
            --out "$OUT/pg-$size-$b.explain.txt" --json "$OUT/pg-$size-$b.explain.json" || true
    done
done

# --- 6. SQLite -------------------------------------------------------------------------------
if [ "$SQLITE" = 1 ] && [ "$(left)" -gt 60 ]; then
    say "SQLite, $SQLITE_REPORTS reports"
    LITE="$WORK/sqlite/duban.db"
    mkdir -p "$WORK/sqlite"
    URL="sqlite://$LITE"
    DUBAN_DATABASE_URL="$URL" DUBAN_LOG=warn DUBAN_DATA_DIR="$WORK/data" timeout 300 "$BIN" migrate >/dev/null
    if generate "$URL" "$SQLITE_REPORTS" "sqlite-$SQLITE_REPORTS"; then
        python3 -c "import json, os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); q = lambda t: c.execute(f'SELECT count(*) FROM {t}').fetchone()[0]
json.dump({t: q(t) for t in ['units', 'plans', 'assignments', 'reports']} | {'standings': q('assignment_standings'), 'db_mb': os.path.getsize(sys.argv[1]) // 1048576}, open(sys.argv[2], 'w'))" \
            "$LITE" "$OUT/counts-sqlite-$SQLITE_REPORTS.json"
        start_server "$URL"
        for sc in $SCENARIOS; do
            for c in $SQLITE_CONC; do
                [ "$(left)" -gt 30 ] || break
                tag="sqlite-$SQLITE_REPORTS-$sc-c$c"
                load --scenario "$sc" --concurrency "$c" --duration "$DURATION" --warmup "$WARMUP" \
                    --period-year "$PERIOD_YEAR" >"$OUT/$tag.api.json" || rm -f "$OUT/$tag.api.json"
                next_year
                [ ! -s "$OUT/$tag.api.json" ] || python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(f\"SQLite   {sys.argv[2]}: {d['throughput']:9.1f}/s p50 {d['p50_ms']:7.2f} p99 {d['p99_ms']:7.2f} ms errors {d['error_count']}\", file=sys.stderr)" "$OUT/$tag.api.json" "$tag"
            done
        done
        stop_server
    else
        say "SQLite skipped: no data"
    fi
fi

# --- 6b. webhook delivery latency (WEBHOOKS=1): bench/webhooks.py, its own servers and databases
if [ "${WEBHOOKS:-0}" = 1 ] && [ "$(left)" -gt 120 ]; then
    say "webhook delivery latency (bench/webhooks.py)"
    bounded "$STEP" python3 bench/webhooks.py --binary "$BIN" --results "" || say "bench/webhooks.py failed"
fi

# --- 7. the report ---------------------------------------------------------------------------
python3 -c "import json, sys; m = json.load(open(sys.argv[1])); m['elapsed_s'] = int(sys.argv[2]); json.dump(m, open(sys.argv[1], 'w'), indent=1)" \
    "$OUT/meta.json" "$((SECONDS - STARTED))"
python3 bench/report.py --dir "$OUT" --out bench/RESULTS.md --svg bench/results/growth.svg
say "done: bench/RESULTS.md, bench/results/growth.svg, raw figures in $OUT"
