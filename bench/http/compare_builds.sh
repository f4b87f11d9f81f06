#!/usr/bin/env bash
# Round trips of two builds of `mplane component` in one run (e.g. before and after a change),
# plaintext and TLS, one shard each, interleaved rounds so that both see the same machine:
# `mplane bench http` (from the second build) keeps N keep-alive connections busy with loopback
# specifications. Prints requests/s and p99 per build, mode and round. With GENERATOR=own each
# build is loaded by its own `mplane bench http` (client and server both before or both after a
# change to either).
#
#   [GENERATOR=own] bench/http/compare_builds.sh BEFORE_BINARY AFTER_BINARY [SECONDS] [ROUNDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
before=$1 after=$2 secs=${3:-5} rounds=${4:-3} conns=${5:-32}
work=$(mktemp -d)
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
"$after" pki init "$work/pki" > /dev/null
"$after" pki issue "$work/pki" --role component --name Bench-1 --san 127.0.0.1 > /dev/null
"$after" pki issue "$work/pki" --role client --name Loader-1 > /dev/null
pki=$work/pki
srv_tls=(--ca "$pki/ca.crt" --cert "$pki/component-Bench-1.crt" --key "$pki/component-Bench-1.key")
cli_tls=(--ca "$pki/ca.crt" --cert "$pki/client-Loader-1.crt" --key "$pki/client-Loader-1.key")
start() {  # NAME BINARY PORT ARGS...
  "$2" component --service loopback --shards 1 --listen "127.0.0.1:$3" "${@:4}" 2> "$work/$1.log" &
  echo $! > "$work/$1.pid"
}
start before-plain "$before" 18291 --insecure
start after-plain "$after" 18292 --insecure
start before-tls "$before" 18293 "${srv_tls[@]}"
start after-tls "$after" 18294 "${srv_tls[@]}"
sleep 1
run() {  # LABEL URL ARGS...
  local out gen=$after
  if [ "${GENERATOR:-}" = own ] && [[ $1 == before-* ]]; then gen=$before; fi
  out=$("$gen" bench http --url "$2" --spec conf/examples/run/loopback.json \
    --param 'test.input=hello-{n}' --connections "$conns" --duration "$secs" "${@:3}")
  printf '%-14s %s  %s\n' "$1" "$(grep -o 'requests/s: [0-9.]*' <<< "$out")" \
    "$(grep -o 'p99[^,]*' <<< "$out" | head -1)"
}
for r in $(seq "$rounds"); do
  echo "round $r"
  run before-plain http://127.0.0.1:18291/
  run after-plain http://127.0.0.1:18292/
  run before-tls https://127.0.0.1:18293/ "${cli_tls[@]}"
  run after-tls https://127.0.0.1:18294/ "${cli_tls[@]}"
done
