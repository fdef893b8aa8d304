#!/usr/bin/env bash
# Multi-worker load test on this machine only: gunicorn (several workers) over PostgreSQL with
# Redis rate limits, driven by locust for a bounded time. Prints requests/s, p95 and errors.
# Usage: bench/loadtest.sh [cases] [users] [seconds]   (defaults 20000 10 90; users sign in
# one every 2 s so that they stay within the 10-per-minute sign-in limit of one address)
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-20000}; USERS=${2:-10}; SECONDS_=${3:-90}
PG=${LOADTEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/loadtest}
PORT=${LOADTEST_PORT:-8001}
WORKERS=${LOADTEST_WORKERS:-4}
BIN=.venv/bin
make venv >/dev/null
$BIN/python -c "import locust" 2>/dev/null || $BIN/pip install --quiet locust

dbname=${PG##*/}
psql "${PG%/*}/postgres" -qc "DROP DATABASE IF EXISTS \"$dbname\" WITH (FORCE)" >/dev/null
psql "${PG%/*}/postgres" -qc "CREATE DATABASE \"$dbname\"" >/dev/null

export TRACKER_DATABASE_URL=$PG TRACKER_SECURE_COOKIES=0
export TRACKER_SECRET_KEY=$($BIN/python -c 'import secrets; print(secrets.token_urlsafe(48))')
export TRACKER_RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379
export TRACKER_INSTANCE_PATH=$(mktemp -d)
# Set-up runs in development mode (the demo generator refuses production); the server does not.
export TRACKER_ENV=development
$BIN/tracker db upgrade >/dev/null 2>&1
$BIN/tracker reference load >/dev/null
$BIN/tracker demo --cases "$CASES" --seed 7 >/dev/null

export LOADTEST_PASSWORD="load test passphrase $(date +%s)"
eval "$($BIN/python bench/loadtest_users.py "$USERS")"   # sets LOADTEST_EMAILS, LOADTEST_ORG_ID
export TRACKER_ENV=production
# Only the rate-limit keys of this app: the Redis server may be shared.
redis-cli -h 127.0.0.1 --scan --pattern 'LIMITS*' | xargs -r redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true

$BIN/gunicorn --workers "$WORKERS" --bind "127.0.0.1:$PORT" --log-level warning \
  'tracker:create_app()' &
gpid=$!
trap 'kill $gpid 2>/dev/null || true' EXIT
for _ in $(seq 1 30); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 1; done

out=$(mktemp -d)
$BIN/locust -f bench/locustfile.py --headless --host "http://127.0.0.1:$PORT" \
  -u "$USERS" -r 0.5 -t "${SECONDS_}s" --csv "$out/load" --only-summary >/dev/null 2>&1 || true
$BIN/python - "$out/load_stats.csv" "$WORKERS" "$CASES" "$USERS" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"gunicorn workers={sys.argv[2]} cases={sys.argv[3]} users={sys.argv[4]}")
print(f"{'request':40} {'count':>7} {'fails':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
for r in rows:
    print(f"{r['Name'][:40]:40} {r['Request Count']:>7} {r['Failure Count']:>6} "
          f"{float(r['Requests/s']):7.1f} {r['50%']:>7} {r['95%']:>7}")
PY
