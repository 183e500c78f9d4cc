# Sourced by tools/client/run.sh and tools/schemathesis/run.sh: starts the duban binary in demo
# mode on a fresh database (SQLite in a temporary folder, or a new PostgreSQL database) on a
# free port, and stops it and removes the database again on exit.
#
#   live_server_start sqlite|postgres    sets DUBAN_URL, LIVE_DIR, LIVE_LOG
#   demo_secret USERNAME                  the password or client secret printed at start-up
#   live_server_stop                      (also run on exit)
#
# Webhook delivery is off: subscriptions made by these runs name example addresses, and nothing
# here may send traffic off this machine. Reminders are off too (no background writes).
# LIVE_WEBHOOKS=1 leaves the webhook worker on, for a caller whose subscriptions name its own
# receiver on 127.0.0.1 (tools/example/run.sh).
#
# DUBAN_BIN names the binary (default: target/debug/duban, built by `cargo build --locked`,
# which reuses what `cargo test` built). DUBAN_CI_POSTGRES_URL is an administrative connection
# to create the database from (default postgres://postgres@127.0.0.1:5432/test).

LIVE_PID=""
LIVE_DB=""
LIVE_DIR=""
LIVE_PG_ADMIN_URL="${DUBAN_CI_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

live_server_start() {
  local backend="$1" database_url
  LIVE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/duban-live.XXXXXX")"
  LIVE_LOG="$LIVE_DIR/server.log"
  case "$backend" in
    sqlite) database_url="sqlite://$LIVE_DIR/duban.db" ;;
    postgres)
      LIVE_DB="duban_live_$$_$RANDOM"
      psql "$LIVE_PG_ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $LIVE_DB" >/dev/null
      database_url="${LIVE_PG_ADMIN_URL%/*}/$LIVE_DB"
      ;;
    *) echo "live_server_start: sqlite or postgres, not '$backend'" >&2; return 2 ;;
  esac
  DUBAN_DATABASE_URL="$database_url" DUBAN_DATA_DIR="$LIVE_DIR" DUBAN_BIND=127.0.0.1:0 \
    DUBAN_JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" \
    DUBAN_ACCESS_TOKEN_TTL=7200 DUBAN_REMINDER_INTERVAL=0 DUBAN_DEMO=true \
    DUBAN_WEBHOOK_WORKER="$([ "${LIVE_WEBHOOKS:-0}" = 1 ] && echo true || echo false)" \
    DUBAN_LOG_FORMAT=json DUBAN_LOG="${DUBAN_LOG:-warn,duban=info}" \
    "${DUBAN_BIN:-target/debug/duban}" serve >"$LIVE_LOG" 2>&1 &
  LIVE_PID=$!
  trap live_server_stop EXIT
  local port=""
  for _ in $(seq 1 240); do
    port="$(grep -ao '"message":"duban serving[^}]*"port":[0-9]*' "$LIVE_LOG" 2>/dev/null | grep -o '[0-9]*$' || true)"
    [ -n "$port" ] && break
    if ! kill -0 "$LIVE_PID" 2>/dev/null; then
      echo "duban did not start ($backend):" >&2; tail -20 "$LIVE_LOG" >&2; return 1
    fi
    sleep 0.5
  done
  if [ -z "$port" ]; then echo "duban did not start in 120 s ($backend)" >&2; return 1; fi
  DUBAN_URL="http://127.0.0.1:$port"
  echo "duban ($backend) serving at $DUBAN_URL"
}

demo_secret() {
  awk -v user="$1" '$2 == user && NF == 3 { print $3; exit }' "$LIVE_LOG"
}

live_server_stop() {
  if [ -n "$LIVE_PID" ]; then
    kill "$LIVE_PID" 2>/dev/null || true
    wait "$LIVE_PID" 2>/dev/null || true
    LIVE_PID=""
  fi
  if [ -n "$LIVE_DB" ]; then
    psql "$LIVE_PG_ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $LIVE_DB WITH (FORCE)" >/dev/null || true
    LIVE_DB=""
  fi
  if [ -n "$LIVE_DIR" ]; then rm -rf "$LIVE_DIR"; LIVE_DIR=""; fi
}
