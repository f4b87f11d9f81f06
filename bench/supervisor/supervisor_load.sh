#!/usr/bin/env bash
# The supervisor benchmark (issue 12), one run, its rows and a table:
#  (a) `mplane supervisor` over mutual TLS with PROBES simulated component-initiated probes (one
#      load process, a certificate each) and CLIENTS clients: relayed specification -> result
#      round trips/s, p50/p99 latency, polls/s, the supervisor's memory per registered probe;
#      one loop per core (the default), and (a1) again with --shards 1;
#  (f) the floor: nginx answering a fixed body over mutual TLS on CLIENTS connections, driven
#      by `mplane bench http`; a relayed round trip costs at least three such exchanges;
#  (b) a fresh `mplane supervisor` with IDLE registered idle probes (plaintext: the probes name
#      themselves with Forged-MPlane-Identity, so that 10,000 TLS identities and handshakes do
#      not measure the load generator), memory per registered probe;
#  (c) the Python RI's supervisor (`mpsup`) with the RI's component-initiated component (`mpcom`)
#      on the same loopback, driven by our generator's clients (the baseline), and (c') the RI's
#      supervisor with our simulated probes (its relay alone, without its component's 5 s poll).
# Each row reports both processes' CPU time over the measured window: the machine has 2 cores and
# nothing is pinned, so the generator and the supervisor share them.
#
#   bench/supervisor/supervisor_load.sh [BUILD_DIR] [SECONDS] [PROBES] [CLIENTS] [IDLE]
#
# Defaults: build-release, 20 s, 1000 probes, 100 clients, 10000 idle probes. The RI's rows run
# RI_SECONDS (default 40) with one client: the RI's supervisor holds each specification's POST up
# to 5 s (its immediate wait) with its whole loop, so a second client only starves the probes'
# polls. ONLY=ours or ONLY=ri runs half of it. The probes'
# certificates are issued once into BUILD_DIR/bench-supervisor-pki/ and reused by later runs.
# Raises `ulimit -n` (every active probe holds a long poll: one descriptor on each side).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-release}
secs=${2:-20}
probes=${3:-1000}
clients=${4:-100}
idle=${5:-10000}
ri_secs=${RI_SECONDS:-40}
only=${ONLY:-}
mplane=$build/engine/mplane
ri=../shared/peers/ri
work=$(mktemp -d)
trap 'for f in "$work"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done; rm -rf "$work"' EXIT

want_fds=$((idle + 4 * probes + 4 * clients + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ]; then
  ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
echo "ulimit -n: $(ulimit -n) for this run (wanted at least $want_fds; raised when lower)"

wait_port() {  # PORT: until something listens (at most 30 s)
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1 after 30 s" >&2
  return 1
}
cpu_s() {  # PID: user + system seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}
bench() {  # NAME ARGS...: runs the generator, keeps its output in $work/NAME.out
  echo "== $1 (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$mplane" bench supervisor "${@:2}" | tee "$work/$1.out" || true
}

# The floor: nginx (one worker per core) answering a fixed body over mutual TLS, driven by
# `mplane bench http` with as many keep-alive connections as clients (its window includes the
# handshakes: with a thousand connections they would fill it). A relayed round trip is at least
# three such exchanges (the client's POST, the probe's poll, the probe's result), so requests/s
# / 3 bounds what any supervisor could relay on this machine with this generator.
floor() {  # PKI CONNECTIONS
  if ! command -v nginx > /dev/null; then echo "== nginx is absent: the floor row skipped"; return; fi
  local pki_dir
  pki_dir=$(cd "$1" && pwd)  # nginx reads relative paths from its own prefix
  set -- "$pki_dir" "$2"
  [ -e "$1/component-Floor-1.crt" ] ||
    "$mplane" pki issue "$1" --role component --name Floor-1 --san 127.0.0.1 > /dev/null
  [ -e "$1/client-Floor-Client.crt" ] ||
    "$mplane" pki issue "$1" --role client --name Floor-Client > /dev/null
  cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:18421 ssl;
    ssl_protocols TLSv1.2;
    ssl_certificate $1/component-Floor-1.crt;
    ssl_certificate_key $1/component-Floor-1.key;
    ssl_client_certificate $1/ca.crt;
    ssl_verify_client on;
    location / { default_type application/x-mplane+json; return 200 '{"result":"measure"}'; }
  }
}
CONF
  nginx -c "$work/nginx.conf"
  wait_port 18421
  echo "== floor (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$mplane" bench http --url https://127.0.0.1:18421/ --ca "$1/ca.crt" \
    --cert "$1/client-Floor-Client.crt" --key "$1/client-Floor-Client.key" \
    --spec conf/examples/run/loopback.json --connections "$2" --duration "$secs" \
    | tee "$work/floor.out" || true
  kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
}

declare -a rows=()
row() {  # NAME LABEL [EXTRA_CPU]: one line of the final table from $work/NAME.out
  local out=$work/$1.out
  [ -s "$out" ] || { rows+=("$2|(not run)"); return; }
  rows+=("$(awk -v label="$2" -v extra="${3:-}" '
    /^round trips\/s:/ { rt = $3 }
    /^latency:/ { p50 = $3; p99 = $6 }
    /^polls\/s:/ { polls = $2 }
    /^errors:/ { errors = $2 }
    /kB per registered probe/ { n = split($0, f, ", "); for (i = 1; i <= n; i++) if (f[i] ~ /per registered/) { split(f[i], g, " "); per = g[1] } }
    /^CPU s over the window:/ { split($0, f, "supervisor "); split(f[2], g, ","); sup = g[1]; split($0, h, "load generator "); gen = h[2] }
    END { if (extra != "") sup = sup " + component " extra
          printf "%s|%s|%s|%s|%s|%s|%s|%s|%s", label, rt, p50, p99, polls, errors, per, sup, gen }' "$out")")
}

# ---- (a), (b): our supervisor
if [ "$only" = ri ]; then
  echo "== ONLY=ri: rows (a) and (b) skipped"
elif "$mplane" supervisor --help > /dev/null 2>&1; then
  pki=$build/bench-supervisor-pki
  if [ ! -e "$pki/ca.crt" ]; then
    "$mplane" pki init "$pki" --domain org.mplane.Bench > /dev/null
    "$mplane" pki issue "$pki" --role supervisor --name Sup-1 --san 127.0.0.1 > /dev/null
  fi
  tls=(--ca "$pki/ca.crt" --cert "$pki/supervisor-Sup-1.crt" --key "$pki/supervisor-Sup-1.key")
  start_supervisor() {  # NAME PORT ARGS...
    "$mplane" supervisor --listen "127.0.0.1:$2" --state "$work/$1.db" "${@:3}" 2> "$work/$1.log" &
    echo $! > "$work/$1.pid"
    wait_port "$2"
  }
  echo "(issuing or loading $probes probe certificates under $pki/bench/ first)"
  for shards in 0 1; do  # 0: one loop per core (the default), 1: one loop does everything
    start_supervisor "sup-tls-$shards" 18401 "${tls[@]}" --shards "$shards"
    bench "ours-$shards" --component-face https://127.0.0.1:18401/ \
      --client-face https://127.0.0.1:18401/ --pki "$pki" --probes "$probes" \
      --clients "$clients" --duration "$secs" --pid "$(cat "$work/sup-tls-$shards.pid")"
    kill "$(cat "$work/sup-tls-$shards.pid")"; rm "$work/sup-tls-$shards.pid"
    sleep 1
  done
  floor "$pki" "$clients"

  start_supervisor sup-idle 18402 --insecure
  bench idle --component-face http://127.0.0.1:18402/ --client-face http://127.0.0.1:18402/ \
    --insecure --probes 0 --clients 0 --idle-probes "$idle" --ramp 10 --duration "$secs" \
    --pid "$(cat "$work/sup-idle.pid")"
  kill "$(cat "$work/sup-idle.pid")"; rm "$work/sup-idle.pid"
else
  echo "== mplane supervisor is not in $mplane yet (issue 12 under way on main): rows (a) and (b) skipped"
fi

# ---- (c), (c'): the RI's supervisor
if [ "$only" = ours ]; then
  echo "== ONLY=ours: the RI rows skipped"
elif [ -x "$ri/ri-run.py" ]; then
  "$ri/ri-run.py" mpsup supervisor.conf COMPONENT_FACE_PORT=18411 CLIENT_FACE_PORT=18412 \
    > "$work/ri-sup.log" 2>&1 &
  echo $! > "$work/ri-sup.pid"
  wait_port 18412
  "$ri/ri-run.py" mpcom component-to-supervisor.conf SUPERVISOR_PORT=18411 \
    > "$work/ri-com.log" 2>&1 &
  echo $! > "$work/ri-com.pid"
  for _ in $(seq 300); do  # until the RI's component has registered test-loopback
    curl -s http://127.0.0.1:18412/ | grep -q test-loopback && break
    sleep 0.1
  done
  com_cpu0=$(cpu_s "$(cat "$work/ri-com.pid")")
  bench ri --component-face http://127.0.0.1:18411/ --client-face http://127.0.0.1:18412/ \
    --insecure --probes 0 --clients 1 --label-suffix --redeem-interval 0.1 --duration "$ri_secs" \
    --pid "$(cat "$work/ri-sup.pid")"
  com_cpu=$(awk -v a="$com_cpu0" -v b="$(cpu_s "$(cat "$work/ri-com.pid")")" 'BEGIN { printf "%.2f", b - a }')
  kill "$(cat "$work/ri-com.pid")" "$(cat "$work/ri-sup.pid")"; rm "$work"/ri-*.pid

  "$ri/ri-run.py" mpsup supervisor.conf COMPONENT_FACE_PORT=18413 CLIENT_FACE_PORT=18414 \
    > "$work/ri-sup2.log" 2>&1 &
  echo $! > "$work/ri-sup2.pid"
  wait_port 18414
  bench ri-probes --component-face http://127.0.0.1:18413/ --client-face http://127.0.0.1:18414/ \
    --insecure --probes 10 --clients 1 --label-suffix --poll-interval 0.2 --redeem-interval 0.1 \
    --duration "$ri_secs" --pid "$(cat "$work/ri-sup2.pid")"
  kill "$(cat "$work/ri-sup2.pid")"; rm "$work/ri-sup2.pid"
else
  echo "== $ri/ri-run.py is absent: the RI rows skipped"
fi

row ours-0 "(a) mplane supervisor, TLS, $probes probes, $clients clients, one loop per core"
row ours-1 "(a1) the same, --shards 1 (one loop)"
if [ -s "$work/floor.out" ]; then
  rows+=("$(awk -v n="$clients" '/^requests\/s:/ { printf "(f) floor: nginx over mutual TLS, %d connections: %s req/s, / 3|%.0f|||||||", n, $2, $2 / 3 }' "$work/floor.out")")
fi
row idle "(b) mplane supervisor, $idle idle probes (plaintext)"
row ri "(c) RI mpsup + RI mpcom, 1 client, $ri_secs s" "${com_cpu:-}"
row ri-probes "(c') RI mpsup + 10 simulated probes, 1 client, $ri_secs s"
echo
echo "== supervisor benchmark, $secs s windows (the RI's: $ri_secs s), $(nproc) cores"
{
  echo "run|round trips/s|p50 ms|p99 ms|polls/s|errors|kB/probe|supervisor CPU s|generator CPU s"
  printf '%s\n' "${rows[@]}"
} | column -t -s '|'
