#!/usr/bin/env bash
# schemathesis (pinned) against a live server, on SQLite and on PostgreSQL, once signed in as a
# unit (the demo's unit manager, ipo-manager) and once as the office (the demo coordinator),
# with every check. Any 5xx or any answer the document does not describe fails the run.
#
#   bash tools/schemathesis/run.sh [sqlite] [postgres]     (both by default)
#
# SCHEMATHESIS_MAX_EXAMPLES (default 100) and SCHEMATHESIS_PHASES (default all four) size a run;
# the summary of each run (cases per check) is in target/schemathesis/<backend>-<who>.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/live-server.sh

VERSION=4.32.5
VENV=target/schemathesis-venv
if [ "$("$VENV/bin/st" --version 2>/dev/null | grep -o '[0-9][0-9.]*$')" != "$VERSION" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)
OUT=target/schemathesis
mkdir -p "$OUT"

sign_in() {
  curl -sS --fail-with-body -X POST "$DUBAN_URL/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$(demo_secret "$1")\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# One worker: schemathesis' threads parse Python sources with `ast` at once, which CPython 3.11
# does not allow ("AST constructor recursion depth mismatch", an error of the tool, not an answer
# of duban's).
#
# Operations left out, each because it can end the very session the run is signed in with
# (everything else runs, including logout, whose refresh token the run never has):
# - PUT /api/v1/me/password: changing the caller's own password ends its sessions;
# - PUT /api/v1/users/{id}/password, PATCH /api/v1/users/{id} and
#   POST /api/v1/users/{id}/client-secret: the unit manager manages its unit's accounts, itself
#   included, so a reset, a deactivation or a role change can hit the account in use.
EXCLUDE=(
  --exclude-operation-id change_my_password
  --exclude-operation-id reset_password
  --exclude-operation-id update_user
  --exclude-operation-id rotate_client_secret
)

status=0
for backend in "${backends[@]}"; do
  live_server_start "$backend"
  # Both sign in before either run: a run's many failed sign-ins make the server refuse more
  # of them from this address for a while (429), as it should.
  declare -A tokens=()
  for who in ipo-manager coordinator; do tokens[$who]="$(sign_in "$who")"; done
  # The unit first: the office's run may deactivate or change the unit.
  for who in ipo-manager coordinator; do
    token="${tokens[$who]}"
    echo "== schemathesis on $backend as $who"
    start=$(date +%s)
    if ! "$VENV/bin/st" --no-color --config-file tools/schemathesis/schemathesis.toml run openapi/openapi.json --url "$DUBAN_URL" \
        -H "Authorization: Bearer $token" \
        --checks all --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" \
        ${SCHEMATHESIS_PHASES:+--phases "$SCHEMATHESIS_PHASES"} \
        --workers 1 --seed 1 --generation-database none --output-truncate false "${EXCLUDE[@]}" \
        --report json,ndjson --report-json-path "$OUT/$backend-$who.json" --report-ndjson-path "$OUT/$backend-$who.ndjson" \
        >"$OUT/$backend-$who.txt" 2>&1; then
      status=1
    fi
    echo "   $(( $(date +%s) - start )) s"
    python3 tools/schemathesis/counts.py "$OUT/$backend-$who.ndjson" | tee "$OUT/$backend-$who.counts"
    sed -n '/^Failures:/,/^Test cases:/p' "$OUT/$backend-$who.txt"
    grep -A1 '^Test cases:' "$OUT/$backend-$who.txt" | tail -1
  done
  live_server_stop
done
exit $status
