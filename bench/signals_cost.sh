#!/usr/bin/env bash
# What the attack signals cost a backup: a generated dataset, then --days rounds of the
# harness's ordinary mutation, each followed by a backup. Each run records how long
# measuring its changes took (`signals_ms` in its detail: the index read again and the
# two trees compared) beside its own duration; prints, per seed, the share of backup
# time the signals took.
#   bash bench/signals_cost.sh --size-mb 200 --days 10 --seeds "42 7"
# Uses target/release/reprise when built, else target/debug/reprise.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
size=200 days=10 seeds="42"
parse_options "$@"
for seed in $seeds; do
  tmp=$(share_workspace "$seed")
  (cd "$tmp" && "$bin" backup share >/dev/null)
  for day in $(seq 1 "$days"); do
    python3 "$gen" mutate --seed "$seed" --round "$day" "$tmp/data" >/dev/null
    (cd "$tmp" && "$bin" backup share >/dev/null) || [[ $? -eq 3 ]]
  done
  (cd "$tmp" && "$bin" runs --json) | python3 -c '
import json, sys
from datetime import datetime
def t(s): return datetime.fromisoformat(s.replace("Z", "+00:00"))
first = incr = signals_first = signals_incr = 0.0
backups = [r for r in json.load(sys.stdin) if r["kind"] == "backup" and r["finished"]]
backups.sort(key=lambda r: r["started"])
for i, r in enumerate(backups):
    took = (t(r["finished"]) - t(r["started"])).total_seconds()
    ms = json.loads(r.get("detail") or "{}").get("signals_ms", 0) / 1000
    if i == 0: first, signals_first = took, ms
    else: incr, signals_incr = incr + took, signals_incr + ms
print(f"seed {sys.argv[1]}, {sys.argv[2]} MiB: first backup {first:.1f}s of which signals {signals_first:.2f}s ({100*signals_first/first:.1f} %); "
      f"{len(backups)-1} incremental backups {incr:.1f}s of which signals {signals_incr:.2f}s ({100*signals_incr/max(incr,1e-9):.1f} %)")
' "$seed" "$size"
  rm -rf "$tmp"
done
