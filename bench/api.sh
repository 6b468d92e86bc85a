#!/usr/bin/env bash
# API and web page read throughput and latency of `reprise serve` with a large inventory in the
# catalog: 10,000 assets, 10 backup runs and 5 restore points each, in SQLite.
#   cargo build --release -p reprise
#   apt-get install -y wrk
#   bash bench/api.sh [--assets 10000] [--seconds 15] [--connections 16] [--out FILE]
# Prints a Markdown table: requests per second, median and p99 latency per endpoint.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
assets=10000 seconds=15 connections=16 out=/dev/stdout
while [[ $# -gt 0 ]]; do
  case $1 in
    --assets) assets=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install -y wrk)" >&2; exit 2; }
# REPRISE_BIN: another build to measure (an earlier commit's, to compare).
reprise=${REPRISE_BIN:-$here/../target/release/reprise}
[[ -x $reprise ]] || { echo "build first: cargo build --release -p reprise" >&2; exit 2; }

ws=$(mktemp -d)
server= token=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null
  if [[ -n ${KEEP:-} ]]; then echo "workspace kept in $ws (token $token)" >&2; else rm -rf "$ws"; fi
}
trap cleanup EXIT

token=$("$reprise" init "$ws" | grep -o 'rp_[A-Za-z0-9_-]*' | head -1)
python3 - "$ws" "$assets" <<'PY'
import sys
ws, n = sys.argv[1], int(sys.argv[2])
with open(f"{ws}/reprise.toml", "a") as f:
    # The catalog below is made up: a self-backup would sync it with the (empty)
    # repository and remove every restore point in the middle of the measurement.
    f.write('\n[supervision]\nself_backup = "manual"\n')
    for i in range(n):
        dep = f'depends_on = ["a-{i // 100 * 100:05d}"]\n' if i % 100 else ""
        f.write(f'\n[[asset]]\nid = "a-{i:05d}"\nname = "Asset {i}"\nsite = "main"\n'
                f'category = "server"\ncriticality = "major"\nrpo = "24h"\n{dep}'
                f'\n[[asset.dataset]]\nname = "data"\npaths = ["data"]\n')
PY
mkdir -p "$ws/data"
"$reprise" --workspace "$ws" check >/dev/null
# The restore points below are made up: a server that reads the repository (retention's
# daily look, a self-backup) would find none of them there and forget them all in the
# middle of the measurement. Out of reach, the repository is left alone.
rm -rf "$ws/repository"
# Runs and restore points as months of operation would leave them.
python3 - "$ws" "$assets" <<'PY'
import sqlite3, sys, time
ws, n = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(f"{ws}/.reprise/catalog.db")
now = int(time.time() * 1e6)
day = 86_400 * 10**6
runs, points = [], []
for i in range(n):
    a = f"a-{i:05d}"
    for d in range(10):
        t = now - d * day
        runs.append(("backup", a, "data", "local", t, t + 2_000_000, "succeeded",
                     f"{i:05d}{d:059d}", 120, 4_000_000, 40_000))
    for d in range(5):
        t = now - d * day
        points.append(("local", f"{i:05d}{d:059d}", a, "data", "daily", t, 120, 4_000_000,
                       40_000, t + 3_600_000_000))
db.executemany("INSERT INTO runs (kind, asset_id, dataset, repo_id, started_us, finished_us,"
               " status, snapshot_id, files, bytes_read, bytes_added) VALUES (?,?,?,?,?,?,?,?,?,?,?)", runs)
db.executemany("INSERT INTO restore_points (repo_id, snapshot_id, asset_id, dataset, policy,"
               " time_us, files, bytes, bytes_added, verified_us) VALUES (?,?,?,?,?,?,?,?,?,?)", points)
# Made by Reprise's own backups: restore points, not foreign snapshots.
db.executemany("INSERT INTO provenance (repo_id, snapshot_id, how, at_us) VALUES (?,?,'backup',?)",
               [(p[0], p[1], p[5]) for p in points])
db.commit()
PY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REPRISE_LOG=warn "$reprise" --workspace "$ws" serve --listen "127.0.0.1:$port" >/dev/null 2>"$ws/server.log" &
server=$!
for _ in $(seq 1 200); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
# Let the first scheduler pass and supervision settle: it opens an alert per asset (3-2-1),
# each journaled, which takes a while with 10,000 assets; until the journal stops growing,
# every answer would be computed again.
prev=-1
for _ in $(seq 1 300); do
  sleep 3
  n=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM journal').fetchone()[0])" "$ws/.reprise/catalog.db")
  [[ $n == "$prev" ]] && break
  prev=$n
done

mid=$(printf 'a-%05d' $((assets / 2)))
{
  echo "## API reads, $assets assets ($(date -u +%Y-%m-%d), $(nproc) cores, wrk ${seconds}s per endpoint)"
  echo
  echo "| endpoint | connections | requests/s | p50 | p99 |"
  echo "|---|---:|---:|---:|---:|"
  # Reads of one asset, with many clients; then whole-inventory reads (megabytes of
  # JSON each), with two clients so that latency is measured rather than queueing.
  # Then the web UI's pages (HTML), signed in with the same token as a session cookie.
  for spec in "$connections /api/v1/runs?asset=$mid&limit=20" "$connections /api/v1/restore-points?asset=$mid" \
              "$connections /healthz" "2 /api/v1/assets" "2 /api/v1/alerts" "2 /api/v1/status" "2 /metrics" \
              "$connections /api/v1/status" "$connections /metrics" \
              "2 /" "2 /assets" "2 /assets?q=asset+5000" "$connections /assets/$mid" "$connections /incidents"; do
    read -r c path <<<"$spec"
    report=$(wrk -t2 -c"$c" -d"${seconds}s" --timeout 10s --latency \
      -H "Authorization: Bearer $token" -H "Cookie: reprise_session=$token" "http://127.0.0.1:$port$path")
    rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$report")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$report")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$report")
    errors=$(awk '/Non-2xx|Socket errors/ {print " (" $0 ")"}' <<<"$report")
    echo "| \`$path\` | $c | $rps$errors | $p50 | $p99 |"
  done
  # What a kept answer costs when the catalog changed: a state recorded by a command line
  # beside the server, then the next answers, the first of which computes again.
  echo
  "$reprise" --workspace "$ws" inventory set-state "$mid" failed --note bench >/dev/null
  for path in /api/v1/status /api/v1/status /metrics /metrics; do
    took=$(curl -fs -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port$path")
    state=$(curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/status" \
      | python3 -c "import json,sys; print(next(s['state'] for s in json.load(sys.stdin) if s['asset'] == '$mid'))")
    echo "- after the change, \`$path\` answered in ${took}s ($mid is $state)"
  done
} >"$out"
