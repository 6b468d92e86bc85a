#!/usr/bin/env bash
# How often an ordinary day makes a backup suspect: a generated dataset, then --days
# rounds of the harness's ordinary mutation (~2 % of bytes: in-place writes of random
# and low-entropy data into disk images and databases, log appends, edits, new files,
# deletions, renames), each followed by a backup. Prints one line per seed: days,
# suspect backups, and the seconds the backups took.
#   bash bench/false_alarms.sh --size-mb 200 --days 30 --seeds "42 7"
# Uses target/release/reprise when built, else target/debug/reprise.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
size=200 days=30 seeds="42"
parse_options "$@"
for seed in $seeds; do
  tmp=$(share_workspace "$seed")
  suspect=0 start=$(date +%s)
  (cd "$tmp" && "$bin" backup share >/dev/null) || suspect=$((suspect + 1))
  for day in $(seq 1 "$days"); do
    python3 "$gen" mutate --seed "$seed" --round "$day" "$tmp/data" >/dev/null
    code=0
    (cd "$tmp" && "$bin" backup share >/dev/null) || code=$?
    if [[ $code -eq 3 ]]; then
      suspect=$((suspect + 1))
      (cd "$tmp" && "$bin" snapshots suspect share | tail -1)
    elif [[ $code -ne 0 ]]; then
      echo "day $day: backup failed (exit $code)" >&2; exit 1
    fi
  done
  echo "seed $seed, ${size} MiB: $days ordinary days, $suspect suspect backup(s), backups took $(( $(date +%s) - start ))s"
  rm -rf "$tmp"
done
