# tool_reprise: Reprise in the shared benchmark harness (../shared/bench/anchors.sh).
# A workspace beside the repository describes one asset whose data set is $SRC; the
# repository password comes from $BENCH_PASSWORD, as for the other tools.
reprise_ws() { echo "$REPO.workspace"; }
tool_reprise() {
  local ws
  ws=$(reprise_ws)
  case "$1" in
    version) reprise --version | awk '{print $2}' ;;
    init)
      mkdir -p "$ws"
      cat >"$ws/reprise.toml" <<TOML
[workspace]
name = "bench"
default_policy = "bench"

[[site]]
id = "bench"

[[repository]]
id = "bench"
path = "$REPO"
password_env = "BENCH_PASSWORD"

[[policy]]
id = "bench"
schedule = "manual"
repository = "bench"

[[asset]]
id = "bench"
name = "bench"
site = "bench"
category = "server"
criticality = "minor"

[[asset.dataset]]
name = "data"
paths = ["$SRC"]
TOML
      reprise --workspace "$ws" repo init ;;
    backup) reprise --workspace "$ws" backup bench ;;
    # Like restic's restore, without reading the data back first (`--no-verify`).
    restore) reprise --workspace "$ws" restore bench --no-verify --target "$DEST" ;;
    # A data set of one path restores that path's content into the target.
    root) echo "$DEST" ;;
    check) reprise --workspace "$ws" verify --read-data ;;
    *) return 64 ;;
  esac
}
