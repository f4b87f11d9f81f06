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

"$mplane" component --insecure --service loopback --listen 127.0.0.1:18282 2> "$work/component.log" &
echo $! > "$work/component.pid"
"$mplane" component --service loopback --listen 127.0.0.1:18284 --ca "$pki/ca.crt" \
  --cert "$pki/component-Bench-1.crt" --key "$pki/component-Bench-1.key" 2> "$work/component-tls.log" &
echo $! > "$work/component-tls.pid"
sleep 1

run() {
  echo "== $1"
  "$mplane" bench http --url "$2" --spec conf/examples/run/loopback.json \
    --param 'test.input=hello-{n}' --connections "$conns" --duration "$secs" "${@:3}"
}
run "nginx (1 worker, fixed body): the floor, plaintext" http://127.0.0.1:18281/
run "mplane component --service loopback, plaintext ($(nproc) shards)" http://127.0.0.1:18282/
run "nginx (1 worker, fixed body): the floor, TLS" https://127.0.0.1:18283/ "${tls_client[@]}"
run "mplane component --service loopback, TLS ($(nproc) shards)" https://127.0.0.1:18284/ "${tls_client[@]}"
# Connection set-up: one request per connection, full TLS handshakes (no resumption).
run "nginx: full TLS handshakes" https://127.0.0.1:18283/ "${tls_client[@]}" --new-connections
run "mplane component: full TLS handshakes" https://127.0.0.1:18284/ "${tls_client[@]}" --new-connections
