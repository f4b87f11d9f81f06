#!/usr/bin/env bash
# End-to-end HTTP load run (issue 4): `mplane bench http` against `mplane component --service
# loopback` (specification -> result round trips), and in the same run against nginx returning a
# fixed body (the floor), plaintext and TLS (mutual authentication, certificates from
# `mplane pki`, TLS 1.2 on both).
#
#   bench/http/http_bench.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-release}
secs=${2:-10}
conns=${3:-32}
mplane=$build/engine/mplane
work=$(mktemp -d)
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

# A domain PKI for the TLS runs.
"$mplane" pki init "$work/pki" > /dev/null
"$mplane" pki issue "$work/pki" --role component --name Bench-1 --san 127.0.0.1 > /dev/null
"$mplane" pki issue "$work/pki" --role client --name Loader-1 > /dev/null
pki=$work/pki
tls_client=(--ca "$pki/ca.crt" --cert "$pki/client-Loader-1.crt" --key "$pki/client-Loader-1.key")

# nginx: one worker, a fixed mPlane-looking body, keep-alive without limits.
body=$(tr -d '\n' < conf/examples/run/loopback.json)
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:18281;
    location / { default_type application/x-mplane+json; return 200 '$body'; }
    location /large/ { root $work; default_type application/x-mplane+json; }
  }
  server {
    listen 127.0.0.1:18283 ssl;
    ssl_protocols TLSv1.2;
    ssl_certificate $pki/component-Bench-1.crt;
    ssl_certificate_key $pki/component-Bench-1.key;
    ssl_client_certificate $pki/ca.crt;
    ssl_verify_client on;
    location / { default_type application/x-mplane+json; return 200 '$body'; }
  }
}
CONF
/usr/sbin/nginx -c "$work/nginx.conf"

# The component twice: one shard (like nginx's one worker) and one shard per core (default).
tls_server=(--ca "$pki/ca.crt" --cert "$pki/component-Bench-1.crt" --key "$pki/component-Bench-1.key")
start() {  # NAME ARGS...
  "$mplane" component --service loopback "${@:2}" 2> "$work/$1.log" &
  echo $! > "$work/$1.pid"
}
start plain1 --insecure --listen 127.0.0.1:18282 --shards 1
start plainN --insecure --listen 127.0.0.1:18285
start tls1 --listen 127.0.0.1:18284 --shards 1 "${tls_server[@]}"
start tlsN --listen 127.0.0.1:18286 "${tls_server[@]}"
start large --insecure --listen 127.0.0.1:18287 --service counter
sleep 1

run() {
  echo "== $1"
  "$mplane" bench http --url "$2" --spec conf/examples/run/loopback.json \
    --param 'test.input=hello-{n}' --connections "$conns" --duration "$secs" "${@:3}"
}
run "nginx (1 worker, fixed body): the floor, plaintext" http://127.0.0.1:18281/
run "mplane component --service loopback, plaintext (1 shard)" http://127.0.0.1:18282/
run "mplane component --service loopback, plaintext ($(nproc) shards)" http://127.0.0.1:18285/
run "nginx (1 worker, fixed body): the floor, TLS" https://127.0.0.1:18283/ "${tls_client[@]}"
run "mplane component --service loopback, TLS (1 shard)" https://127.0.0.1:18284/ "${tls_client[@]}"
run "mplane component --service loopback, TLS ($(nproc) shards)" https://127.0.0.1:18286/ "${tls_client[@]}"
# Connection set-up: one request per connection, full TLS handshakes (no resumption).
run "nginx: full TLS handshakes" https://127.0.0.1:18283/ "${tls_client[@]}" --new-connections
run "mplane component: full TLS handshakes" https://127.0.0.1:18284/ "${tls_client[@]}" --new-connections

# A large streamed result: 1,000,000 rows of the counter service (~75 MiB), one client, against
# nginx sending the same bytes from a file; and the component's peak memory.
rows=1000000
spec='{"specification": "measure", "version": 1, "when": "now",
  "registry": "http://mplane-engine.org/registry/engine",
  "parameters": {"test.count": "'$rows'", "test.input": "'$(printf 'x%.0s' $(seq 64))'"},
  "results": ["test.sequence", "test.output"]}'
mkdir -p "$work/large"
fetch() {  # URL OUT [curl args]: prints seconds and bytes
  curl -s -o "$2" -w '%{time_total} %{size_download}\n' "${@:3}" "$1"
}
echo "== large result: $rows rows streamed by the component (plaintext, 1 client)"
read -r t bytes < <(fetch http://127.0.0.1:18287/ "$work/large/result.json" \
  -H 'Content-Type: application/x-mplane+json' --data-binary "$spec")
echo "rows/s: $(awk -v r=$rows -v t="$t" 'BEGIN { printf "%d", r / t }')  MB/s: $(awk -v b="$bytes" -v t="$t" 'BEGIN { printf "%.0f", b / t / 1e6 }')  ($bytes bytes in $t s)"
echo "component peak RSS: $(awk '/VmHWM/ { print $2, $3 }' /proc/$(cat "$work/large.pid")/status)"
echo "== nginx sending the same bytes from a file (the floor)"
read -r t bytes < <(fetch http://127.0.0.1:18281/large/result.json /dev/null)
echo "MB/s: $(awk -v b="$bytes" -v t="$t" 'BEGIN { printf "%.0f", b / t / 1e6 }')  ($bytes bytes in $t s)"
