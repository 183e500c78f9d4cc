#!/usr/bin/env bash
# The generated-client check: installs the pinned toolchain (npm ci), generates the TypeScript
# types from openapi/openapi.json, type-checks demo.ts against them (strict) and runs it as the
# demo's department system (ipo-system) against a live server on SQLite and on PostgreSQL.
#
#   bash tools/client/run.sh [sqlite] [postgres]     (both by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/live-server.sh

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)

(cd tools/client && npm ci --no-audit --no-fund --loglevel=error && npm run --silent generate && npm run --silent typecheck)
echo "generated client type-checks"

for backend in "${backends[@]}"; do
  live_server_start "$backend"
  secret="$(demo_secret ipo-system)"
  [ -n "$secret" ] || { echo "no ipo-system secret in the start-up output" >&2; exit 1; }
  (cd tools/client && DUBAN_URL="$DUBAN_URL" DUBAN_CLIENT_ID=ipo-system DUBAN_CLIENT_SECRET="$secret" \
    node_modules/.bin/tsx demo.ts) || { echo "client check failed on $backend; server log:" >&2; tail -20 "$LIVE_LOG" >&2; exit 1; }
  live_server_stop
done
