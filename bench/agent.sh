#!/usr/bin/env bash
# Agents: (1) one backup of the same generated data made by the server itself and by an
# agent through the server (HTTPS, REST endpoint), wall time and the server's CPU;
# (2) 1,000 enrolled agents checking in: the server's throughput and latency at
# saturation (wrk), and its CPU and p99 at the real rate (1,000 agents every 30 s).
#   cargo build --release -p reprise
#   apt-get install -y wrk
#   bash bench/agent.sh [--size-mb 200] [--seed 42] [--agents 1000] [--out FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
size=200 seed=42 agents=1000 out=/dev/stdout
while [[ $# -gt 0 ]]; do
  case $1 in
    --size-mb) size=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --agents) agents=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install -y wrk)" >&2; exit 2; }
reprise=${REPRISE_BIN:-$here/../target/release/reprise}
[[ -x $reprise ]] || { echo "build first: cargo build --release -p reprise" >&2; exit 2; }
gen=${GEN:-$here/../../shared/bench/gen_dataset.py}

tmp=$(mktemp -d)
server=
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null
  [[ -n ${KEEP:-} ]] && echo "kept in $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT

python3 "$gen" generate --size-mb "$size" --seed "$seed" "$tmp/data" >/dev/null
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }   # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
cold() { sync; echo 3 | sudo -n tee /proc/sys/vm/drop_caches >/dev/null 2>&1 || true; }

# A private CA and the server's certificate, as an administrator would make them.
(
  cd "$tmp"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-ca -keyout ca.key -out ca.pem 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out cert.pem 2>/dev/null
)

workspace() { # DIR HOSTLINE
  local ws=$1
  "$reprise" init "$ws" >"$ws.init"
  cat >>"$ws/reprise.toml" <<TOML

[supervision]
self_backup = "manual"

[[repository]]
id = "host-repo"
path = "host-repository"
password_file = ".reprise/keys/local.key"

[[policy]]
id = "manual"
schedule = "manual"
repository = "host-repo"

[[asset]]
id = "data"
name = "data"
site = "main"
category = "server"
criticality = "major"
policy = "manual"
$2

[[asset.dataset]]
name = "data"
paths = ["$tmp/data"]
TOML
  "$reprise" --workspace "$ws" repo init >/dev/null
}

serve() { # WS
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  REPRISE_LOG=warn "$reprise" --workspace "$1" serve --listen "127.0.0.1:$port" \
    --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" >/dev/null 2>"$1/server.log" &
  server=$!
  for _ in $(seq 1 200); do
    curl -fsk "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
}

# (1) The same backup, by the server and by an agent.
mkdir -p "$tmp/local" "$tmp/agent" "$tmp/host"
workspace "$tmp/local" ""
cold
t0=$(date +%s.%N)
/usr/bin/time -f '%e %U %S %M' -o "$tmp/local.time" "$reprise" --workspace "$tmp/local" backup data >/dev/null
local_wall=$(awk '{print $1}' "$tmp/local.time")
local_cpu=$(awk '{print $2 + $3}' "$tmp/local.time")

workspace "$tmp/agent" 'host = "bench-host"'
serve "$tmp/agent"
code=$("$reprise" --workspace "$tmp/agent" agent invite bench-host --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
echo "$code" | REPRISE_AGENT_HOME="$tmp/host" "$reprise" agent enroll "https://127.0.0.1:$port" \
  --host bench-host --ca "$tmp/ca.pem" >/dev/null
"$reprise" --workspace "$tmp/agent" agent backup data --no-wait >/dev/null
cold
before=$(cpu "$server")
/usr/bin/time -f '%e %U %S %M' -o "$tmp/agent.time" env REPRISE_AGENT_HOME="$tmp/host" "$reprise" agent run --once >/dev/null 2>&1
after=$(cpu "$server")
agent_wall=$(awk '{print $1}' "$tmp/agent.time")
agent_cpu=$(awk '{print $2 + $3}' "$tmp/agent.time")
server_cpu=$(python3 -c "print(round(($after - $before) / $hz, 2))")
state=$("$reprise" --workspace "$tmp/agent" agent jobs --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])')
kill "$server"; wait "$server" 2>/dev/null || true; server=

# (2) Many agents checking in: one asset and one repository each.
ws="$tmp/many"
mkdir -p "$ws"
"$reprise" init "$ws" >"$ws.init"
admin=$(grep -o 'rp_[A-Za-z0-9_-]*' "$ws.init" | head -1)
python3 - "$ws" "$agents" <<'PY'
import sys
ws, n = sys.argv[1], int(sys.argv[2])
with open(f"{ws}/reprise.toml", "a") as f:
    f.write('\n[supervision]\nself_backup = "manual"\n')
    for i in range(n):
        f.write(f'\n[[repository]]\nid = "r-{i:04d}"\npath = "repos/r-{i:04d}"\npassword_file = ".reprise/keys/local.key"\n'
                f'\n[[policy]]\nid = "p-{i:04d}"\nschedule = "daily at 02:00"\nrepository = "r-{i:04d}"\n'
                f'\n[[asset]]\nid = "a-{i:04d}"\nname = "Host {i}"\nsite = "main"\ncategory = "server"\n'
                f'criticality = "major"\nhost = "h-{i:04d}"\npolicy = "p-{i:04d}"\n'
                f'\n[[asset.dataset]]\nname = "data"\npaths = ["/srv/data"]\n')
PY
"$reprise" --workspace "$ws" check >/dev/null
serve "$ws"
python3 - "$port" "$admin" "$agents" "$tmp/ca.pem" "$tmp/tokens" <<'PY'
import json, ssl, sys, urllib.request
port, admin, n, ca, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
def post(path, body, token=None):
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    return json.load(urllib.request.urlopen(req, context=ctx))
tokens = []
for i in range(n):
    host = f"h-{i:04d}"
    code = post("/api/v1/agents/invitations", {"host": host}, admin)["code"]
    tokens.append(post("/agent/v1/enrollment", {"host": host, "code": code, "version": "bench"})["token"])
open(out, "w").write("\n".join(tokens))
PY
# The real rate: every agent once in 30 s, spread evenly; latency per check-in.
before=$(cpu "$server")
real=$(python3 - "$port" "$tmp/tokens" "$tmp/ca.pem" <<'PY'
import json, ssl, sys, threading, time, http.client
port, tokens, ca = int(sys.argv[1]), open(sys.argv[2]).read().split(), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
lat, lock = [], threading.Lock()
def one(token):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    t = time.monotonic()
    c.request("POST", "/agent/v1/check-in", json.dumps({"version": "bench"}),
              {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    ok = c.getresponse().status == 200
    with lock:
        lat.append((time.monotonic() - t, ok))
start = time.monotonic()
threads = []
for i, token in enumerate(tokens):
    delay = start + i * 30 / len(tokens) - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    th = threading.Thread(target=one, args=(token,)); th.start(); threads.append(th)
for th in threads:
    th.join()
s = sorted(x for x, _ in lat)
print(f"{len(s)} {sum(1 for _, ok in lat if not ok)} {s[len(s)//2]*1000:.1f} {s[int(len(s)*0.99)]*1000:.1f}")
PY
)
after=$(cpu "$server")
read -r n failed p50 p99 <<<"$real"
real_cpu=$(python3 -c "print(round(($after - $before) / $hz / 30 * 100, 1))")
# Saturation: check-ins back to back from 16 connections, each with its own agent.
cat >"$tmp/checkin.lua" <<LUA
tokens = {}
for line in io.lines("$tmp/tokens") do tokens[#tokens + 1] = line end
i = 0
wrk.method = "POST"
wrk.body = '{"version":"bench"}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format(nil, "/agent/v1/check-in")
end
LUA
report=$(wrk -t2 -c16 -d15s --timeout 10s --latency -s "$tmp/checkin.lua" "https://127.0.0.1:$port")
rps=$(awk '/Requests\/sec:/ {print $2}' <<<"$report")
sp50=$(awk '$1 == "50%" {print $2}' <<<"$report")
sp99=$(awk '$1 == "99%" {print $2}' <<<"$report")
errors=$(awk '/Non-2xx|Socket errors/ {print " (" $0 ")"}' <<<"$report")

{
  echo "## Agents ($(date -u +%Y-%m-%d), $(nproc) cores, ${size} MiB seed $seed, $agents agents)"
  echo
  echo "| backup of the same data | wall s | CPU s (client) | server CPU s |"
  echo "|---|---:|---:|---:|"
  echo "| by the server itself | $local_wall | $local_cpu | — |"
  echo "| by an agent, through the server (HTTPS, REST) | $agent_wall | $agent_cpu | $server_cpu |"
  echo
  echo "Agent backup job: $state; ratio agent/server wall: $(python3 -c "print(round($agent_wall / $local_wall, 2))")."
  echo
  echo "| $agents agents checking in | requests | failed | p50 ms | p99 ms | server CPU |"
  echo "|---|---:|---:|---:|---:|---:|"
  echo "| every 30 s, spread (real rate, $(python3 -c "print(round($agents / 30, 1))")/s) | $n | $failed | $p50 | $p99 | $real_cpu % of a core |"
  echo "| back to back, 16 connections (wrk 15 s) | $rps/s$errors | | $sp50 | $sp99 | saturated |"
} >"$out"
