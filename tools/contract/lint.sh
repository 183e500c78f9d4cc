#!/usr/bin/env bash
# Lints the committed OpenAPI document with the pinned spectral (ruleset spectral:oas) and
# redocly (ruleset recommended); fails on any error or warning of either.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
doc="$(realpath "${1:-$here/../../openapi/openapi.json}")"
cd "$here"
if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error || exit 1
fi
failed=0

echo "== spectral lint (spectral:oas)"
node_modules/.bin/spectral lint "$doc" --ruleset .spectral.yaml --fail-severity=warn || failed=1

echo "== redocly lint (recommended)"
# redocly fails only on errors; a warning shows up in its summary line.
out="$(node_modules/.bin/redocly lint "$doc" --config redocly.yaml --format=stylish 2>&1)"
status=$?
printf '%s\n' "$out" | grep -v '║\|╔\|╚'
if [ "$status" -ne 0 ] || printf '%s\n' "$out" | grep -qE '^ *[0-9]+:[0-9]+ +(error|warning)'; then
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  echo "the OpenAPI document has lint errors or warnings" >&2
  exit 1
fi
echo "both linters: 0 errors, 0 warnings"
