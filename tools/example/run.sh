#!/usr/bin/env bash
# The department example's check (examples/department/): starts a live demo server with the
# webhook worker on (LIVE_WEBHOOKS=1), on SQLite and on PostgreSQL, and runs department.py as
# the demo's department system (ipo-system) with the office's account (coordinator), secrets
# read from the start-up output:
#   - `demo`: subscribe a receiver on 127.0.0.1, ping it, send a batch twice under one
#     Idempotency-Key, have the office return, accept and urge, wait for those events verified,
#     resubmit the returned report, read the delivery log, redeliver, unsubscribe;
#   - `submit reports.csv` twice: the README's walk-through; the second answer is replayed.
#
#   bash tools/example/run.sh [sqlite] [postgres]     (both by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/live-server.sh

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

fail() {
  echo "department example failed on $1: $2; server log:" >&2
  tail -20 "$LIVE_LOG" >&2
  exit 1
}

for backend in "${backends[@]}"; do
  LIVE_WEBHOOKS=1 live_server_start "$backend"
  secret="$(demo_secret ipo-system)"
  office="$(demo_secret coordinator)"
  [ -n "$secret" ] && [ -n "$office" ] || fail "$backend" "no ipo-system or coordinator secret in the start-up output"
  export DUBAN_URL DUBAN_CLIENT_ID=ipo-system DUBAN_CLIENT_SECRET="$secret" \
    DUBAN_OFFICE_USER=coordinator DUBAN_OFFICE_PASSWORD="$office"

  python3 examples/department/department.py demo || fail "$backend" "the demo round"

  out="$LIVE_DIR/submit.out"
  python3 examples/department/department.py submit examples/department/reports.csv | tee "$out" \
    || fail "$backend" "submit reports.csv"
  grep -q '3 succeeded, 0 failed$' "$out" || fail "$backend" "reports.csv was not taken whole"
  python3 examples/department/department.py submit examples/department/reports.csv | tee "$out" \
    || fail "$backend" "submit reports.csv again"
  grep -q 'replayed: nothing ran again' "$out" || fail "$backend" "the same file again was not replayed"

  live_server_stop
  echo "department example passed ($backend)"
done
