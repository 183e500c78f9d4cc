#!/usr/bin/env bash
# duban for a province, in miniature: one PostgreSQL primary, a real streaming replica, two
# duban instances reading from the replica, nginx in front; shows the desk served by the
# replica, read-your-writes through the load balancer, and the desk's latency through nginx.
#
#   1. the primary is the cluster on 127.0.0.1:5432; database $1 (default duban_replica) is
#      used as it is when it exists, else created, migrated and filled (with
#      `duban bench-data --reports $REPORTS` when the server has it, else the demo data) and
#      dropped at the end;
#   2. allows replication connections from 127.0.0.1 (one pg_hba.conf line, marked, removed at
#      the end; wal_level=replica is PostgreSQL's default and is only checked), takes a
#      pg_basebackup into a temporary folder and starts it as a hot standby on port $RPORT;
#   3. starts two duban instances (ports $PORT1, $PORT2) on the primary with
#      DUBAN_DATABASE_READ_URL on the replica, and nginx (bench/nginx.conf, foreground, not as
#      a daemon) on port $LBPORT hashing callers on their token;
#   4. times N requests each of the overdue page and the per-unit statistics through nginx on
#      one keep-alive connection (after 5 warm-up), and counts the statements each server ran
#      (pg_stat_database) and each instance's reads by pool (/metrics);
#   5. writes through nginx and reads it back at once (read-your-writes), then stops
#      everything and undoes its changes, also on error, Ctrl-C or the time limit ($BUDGET s).
#
# Usage: bash bench/replica.sh [DB] [SERVER_BINARY]
#        (defaults: duban_replica, target/release/duban; env N=200 REPORTS=10000 BUDGET=600
#        RPORT=5442 PORT1=18081 PORT2=18082 LBPORT=18080 OUT=file to keep the report)
# Talks to 127.0.0.1 only. Needs root (to run the standby as user postgres) and nginx
# (apt-get install -y nginx).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DB=${1:-duban_replica}
BIN=${2:-$ROOT/target/release/duban}
N=${N:-200}
REPORTS=${REPORTS:-10000}
BUDGET=${BUDGET:-600}
RPORT=${RPORT:-5442}
PORT1=${PORT1:-18081}
PORT2=${PORT2:-18082}
LBPORT=${LBPORT:-18080}
OUT=${OUT:-}
PASSWORD='bench admin passphrase'
SECRET='replica-bench-secret-of-more-than-32-bytes'
PRIMARY="postgres://postgres@127.0.0.1:5432"
REPLICA="postgres://postgres@127.0.0.1:$RPORT"

[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "DB must be a plain lower-case name" >&2; exit 2; }
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "N must be a positive number" >&2; exit 2; }
[ -x "$BIN" ] || { echo "no server binary at $BIN (cargo build --release)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
for tool in psql curl python3 nginx runuser; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done
[ -x "$PGBIN/pg_basebackup" ] || { echo "pg_basebackup not found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (the standby runs as user postgres)" >&2; exit 2; }

export PGCONNECT_TIMEOUT=5
psql_at() { psql "$1" -X -v ON_ERROR_STOP=1 -qAt -c "$2"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/duban-replica.XXXXXX")
chmod 755 "$WORK"
HBA=$(psql_at "$PRIMARY/postgres" "SHOW hba_file")
MARK="# duban bench/replica.sh $$"
PIDS=()
CREATED=0
HBA_ADDED=0
STANDBY=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [ "$STANDBY" = 1 ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/standby" -m fast -w -t 30 stop \
            >/dev/null 2>&1 || true
    fi
    if [ "$HBA_ADDED" = 1 ]; then
        grep -vF "$MARK" "$HBA" >"$WORK/hba" && cat "$WORK/hba" >"$HBA"
        psql_at "$PRIMARY/postgres" "SELECT pg_reload_conf()" >/dev/null || true
    fi
    if [ "$CREATED" = 1 ]; then
        psql_at "$PRIMARY/postgres" "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null || true
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
( sleep "$BUDGET"; echo "time limit of $BUDGET s reached" >&2; kill -TERM $$ ) 2>/dev/null &
PIDS+=($!)

say() { printf '%s\n' "$*" | tee -a "$WORK/report"; }
wait_for() { # URL SECONDS
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$1 did not answer in $2 s" >&2
    return 1
}

# 1. The database on the primary.
if [ -z "$(psql_at "$PRIMARY/postgres" "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
    psql_at "$PRIMARY/postgres" "CREATE DATABASE $DB" >/dev/null
    CREATED=1
    DUBAN_DATABASE_URL="$PRIMARY/$DB" "$BIN" migrate >/dev/null
    if "$BIN" bench-data --help >/dev/null 2>&1; then
        say "filling $DB with bench-data --reports $REPORTS"
        DUBAN_DATABASE_URL="$PRIMARY/$DB" timeout 300 "$BIN" bench-data --reports "$REPORTS" \
            >"$WORK/bench-data.log" 2>&1
        DEMO=false
    else
        say "filling $DB with the demo data (this server has no bench-data)"
        DEMO=true
    fi
else
    DEMO=false
fi

# 2. The standby.
[ "$(psql_at "$PRIMARY/postgres" "SHOW wal_level")" != minimal ] \
    || { echo "wal_level is minimal on the primary: no streaming replica possible" >&2; exit 2; }
if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+(all|postgres)[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$HBA"; then
    printf 'host replication postgres 127.0.0.1/32 trust %s\n' "$MARK" >>"$HBA"
    HBA_ADDED=1
    psql_at "$PRIMARY/postgres" "SELECT pg_reload_conf()" >/dev/null
fi
mkdir -m 700 "$WORK/standby"
chown postgres: "$WORK/standby"
started=$(date +%s.%N)
runuser -u postgres -- "$PGBIN/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres \
    -D "$WORK/standby" -X stream -R -c fast >/dev/null
say "pg_basebackup of the primary: $(python3 -c "print(f'{$(date +%s.%N) - $started:.1f}')") s, $(du -sh "$WORK/standby" | cut -f1)"
# The standby needs at least the primary's limits; Debian keeps the primary's configuration
# outside its data folder, so the standby gets its own.
limits=""
for s in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
    limits+="$s = $(psql_at "$PRIMARY/postgres" "SHOW $s")"$'\n'
done
cat >"$WORK/standby/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $RPORT
unix_socket_directories = '$WORK/standby'
hot_standby = on
shared_buffers = 128MB
log_min_messages = warning
$limits
CONF
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$WORK/standby/pg_hba.conf"
: >"$WORK/standby/pg_ident.conf"
chown postgres: "$WORK/standby/"*.conf
install -o postgres -m 600 /dev/null "$WORK/standby.log"
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/standby" -l "$WORK/standby.log" -w -t 60 start \
    >/dev/null
STANDBY=1
say "standby on port $RPORT: in recovery = $(psql_at "$REPLICA/postgres" "SELECT pg_is_in_recovery()"), streaming from the primary: $(psql_at "$PRIMARY/postgres" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") sender(s)"

# 3. Two instances and nginx.
start_instance() { # PORT DEMO
    DUBAN_DATABASE_URL="$PRIMARY/$DB" DUBAN_DATABASE_READ_URL="$REPLICA/$DB" \
        DUBAN_BIND="127.0.0.1:$1" DUBAN_JWT_SECRET="$SECRET" DUBAN_DEMO="$2" \
        DUBAN_ADMIN_USER=admin DUBAN_ADMIN_PASSWORD="$PASSWORD" DUBAN_DATA_DIR="$WORK" \
        DUBAN_REMINDER_INTERVAL=0 DUBAN_LOG=warn DUBAN_WORKERS=2 DUBAN_POOL_SIZE=8 \
        "$BIN" serve >>"$WORK/duban-$1.log" 2>&1 &
    PIDS+=($!)
    wait_for "http://127.0.0.1:$1/readyz" 60
}
start_instance "$PORT1" "$DEMO"
start_instance "$PORT2" false
sed -e "s|@WORK@|$WORK|g" -e "s|@LISTEN@|127.0.0.1:$LBPORT|" \
    -e "s|@UPSTREAMS@|        server 127.0.0.1:$PORT1 max_fails=1 fail_timeout=5s;\n        server 127.0.0.1:$PORT2 max_fails=1 fail_timeout=5s;|" \
    "$ROOT/bench/nginx.conf" >"$WORK/nginx.conf"
nginx -t -q -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off;'
nginx -c "$WORK/nginx.conf" -p "$WORK" -g 'daemon off;' &
PIDS+=($!)
LB="http://127.0.0.1:$LBPORT"
wait_for "$LB/healthz" 10
say "two duban instances (:$PORT1, :$PORT2) behind nginx on :$LBPORT"

login() {
    curl -fsS "$LB/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
TOKEN=$(login admin "$PASSWORD")
# Wait until the standby has replayed everything the primary has written so far.
target=$(psql_at "$PRIMARY/postgres" "SELECT pg_current_wal_lsn()")
for _ in $(seq 100); do
    [ "$(psql_at "$REPLICA/postgres" "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" = t ] && break
    sleep 0.1
done
sleep 1 # one lag probe of each instance

# 4. The desk through nginx.
statements() { # URL: transactions of $DB on that server
    psql_at "$1/postgres" "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$DB'"
}
reads() { # PORT: the instance's reads by pool
    curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^duban_db_reads_total/ {
        sub(/.*served_by="/, ""); sub(/"}/, ""); printf "%s=%s ", $1, $2 }'
}
time_path() { # NAME PATH
    local urls=() i
    for ((i = 0; i < 5 + N; i++)); do urls+=("$LB$2" -o /dev/null); done
    curl -sS -H "Authorization: Bearer $TOKEN" -w '%{http_code} %{time_total}\n' \
        "${urls[@]}" | tail -n "$N" >"$WORK/$1.times"
    python3 - "$WORK/$1.times" "$1" "$2" <<'PY' | tee -a "$WORK/report"
import sys
rows = [l.split() for l in open(sys.argv[1])]
bad = sum(1 for c, _ in rows if not c.startswith("2"))
ms = sorted(float(t) * 1000 for _, t in rows)
q = lambda p: ms[min(len(ms) - 1, int(round(p * (len(ms) - 1))))]
print(f"| {sys.argv[2]} | `{sys.argv[3]}` | {len(ms)} | {q(0.5):.2f} | {q(0.99):.2f} | {ms[-1]:.2f} | {bad} |")
PY
}
p_before=$(statements "$PRIMARY"); r_before=$(statements "$REPLICA")
say ""
say "| query (through nginx, c=1) | path | n | p50 ms | p99 ms | max ms | non-2xx |"
say "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
time_path overdue "/api/v1/overdue?limit=50"
time_path stats "/api/v1/stats/units"
p_after=$(statements "$PRIMARY"); r_after=$(statements "$REPLICA")
say ""
say "transactions on $DB while timing: primary $((p_after - p_before)), replica $((r_after - r_before))"
say "reads by pool, instance :$PORT1: $(reads "$PORT1")"
say "reads by pool, instance :$PORT2: $(reads "$PORT2")"

# 5. Read-your-writes through the load balancer: a write, then the read of it at once.
name="复制延迟测试单位$$"
created=$(curl -fsS "$LB/api/v1/units" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"name\":\"$name\",\"kind\":\"other\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    "$LB/api/v1/units/$created")
say "read-your-writes: POST /api/v1/units -> unit $created, GET /api/v1/units/$created at once -> $status"
say "reads by pool after it, instance :$PORT1: $(reads "$PORT1")"
say "reads by pool after it, instance :$PORT2: $(reads "$PORT2")"
if [ "$CREATED" = 0 ]; then
    psql_at "$PRIMARY/$DB" "DELETE FROM units WHERE id = $created" >/dev/null 2>&1 \
        || say "(the unit $created stays in $DB: it has an audit trail)"
fi
[ -z "$OUT" ] || cp "$WORK/report" "$OUT"
