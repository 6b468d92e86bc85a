#!/usr/bin/env bash
# Runs the shared benchmark harness with Reprise added as one more tool:
#   cargo build --release -p reprise
#   apt-get install -y restic borgbackup time
#   bash bench/run.sh --size-mb 1024 --tools "restic reprise" --out /tmp/bench.md
# The harness is read from ../shared/bench/anchors.sh and the Reprise tool function
# inserted into a temporary copy; nothing of the harness is kept in this repository.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
harness=${ANCHORS:-$here/../../shared/bench/anchors.sh}
[[ -f "$harness" ]] || { echo "harness not found: $harness (set ANCHORS)" >&2; exit 2; }
export PATH="$here/../target/release:$PATH"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$(dirname "$harness")/gen_dataset.py" "$tmp/"
awk -v tool="$here/tool_reprise.sh" '
  /^DEFAULT_TOOLS=/ { while ((getline line < tool) > 0) print line; print "" }
  { print }
' "$harness" >"$tmp/anchors.sh"
chmod +x "$tmp/anchors.sh"
"$tmp/anchors.sh" "$@"
