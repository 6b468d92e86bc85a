#!/usr/bin/env bash
# How often an ordinary day makes a backup suspect: a generated dataset, then --days
# rounds of the harness's ordinary mutation (~2 % of bytes: in-place writes of random
# and low-entropy data into disk images and databases, log appends, edits, new files,
# deletions, renames), each followed by a backup. Prints one line per seed: days,
# suspect backups, and the seconds the backups took.
#   bash bench/false_alarms.sh --size-mb 200 --days 30 --seeds "42 7"
# Uses target/release/reprise when built, else target/debug/reprise.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gen=${GEN:-$here/../../shared/bench/gen_dataset.py}
size=200 days=30 seeds="42"
while [[ $# -gt 0 ]]; do
  case $1 in
    --size-mb) size=$2; shift 2 ;;
    --days) days=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=$here/../target/release/reprise
[[ -x $bin ]] || bin=$here/../target/debug/reprise
[[ -x $bin ]] || { echo "build reprise first (cargo build --release -p reprise)" >&2; exit 2; }
for seed in $seeds; do
  tmp=$(mktemp -d)
  python3 "$gen" generate --size-mb "$size" --seed "$seed" "$tmp/data" >/dev/null
  (cd "$tmp" && "$bin" init >/dev/null)
  cat >>"$tmp/reprise.toml" <<TOML

[[asset]]
id = "share"
name = "File share"
site = "$(sed -n 's/^id = "\(.*\)"/\1/p' "$tmp/reprise.toml" | head -1)"
category = "server"
criticality = "major"

[[asset.dataset]]
name = "files"
paths = ["data"]
TOML
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
