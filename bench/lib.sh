# Shared by the day-by-day benchmarks (false_alarms.sh, signals_cost.sh): their options,
# the binary, and a workspace backing up one generated dataset as asset `share`.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gen=${GEN:-$here/../../shared/bench/gen_dataset.py}

# --size-mb N --days D --seeds "S …" into $size, $days, $seeds (defaults as given).
parse_options() {
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
}

# A workspace in a new temporary directory (printed) whose asset `share` backs up the
# generator's dataset of $size MiB for seed $1.
share_workspace() {
  local seed=$1 tmp
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
  echo "$tmp"
}
