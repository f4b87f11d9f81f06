#!/usr/bin/env bash
# One entry point for developers, CI and users (see README.md).
#
#   ./build.sh demo      install dependencies, build, run the main job
#   ./build.sh test      install dependencies, build, run every test (ctest)
#   ./build.sh asan      the same tests in the AddressSanitizer + UBSan build
#   ./build.sh bench     Release build, run every benchmark (figures in bench/README.md)
#   ./build.sh fuzz [SECONDS]  clang libFuzzer build, run each fuzzer (default 60 s each)
#   ./build.sh install   only install the Debian packages
#   ./build.sh build     only configure and build (build/)
set -euo pipefail
cd "$(dirname "$0")"

JOBS=${JOBS:-$(nproc)}

# Debian 12 packages needed to build and test. Keep complete: CI starts from a fresh machine.
PACKAGES=(
  cmake ninja-build g++ clang pkg-config
  libuv1-dev libsimdjson-dev libmbedtls-dev node-llhttp libpcap-dev
  catch2 libbenchmark-dev libclang-rt-14-dev
  libreadline-dev openssl nginx-light   # tests call openssl; bench/http/http_bench.sh runs nginx as the floor
  libsqlite3-dev                        # the supervisor's durable state (engine/supervisor)
  iproute2 iputils-ping                 # the tun agent's tests make network namespaces (ip netns) and ping across
  librabbitmq-dev                       # the AMQP 0-9-1 client (transport/amqp)
  rabbitmq-server iperf3                # tests start a private broker; the tunnel benchmark runs iperf3
  python3-tornado python3-yaml python3-urllib3   # the Python RI test peer (../shared/peers/ri)
)

log() { printf '%s\n' "build.sh: $*" >&2; }

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root or sudo to install: ${missing[*]}"; exit 1; }
    sudo="sudo"
  fi
  log "installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# configure DIR [cmake args...]: configure once, then just build.
build_in() {
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  fi
  cmake --build "$dir" -j "$JOBS" -- --quiet
}

# The HTTPS demo: a domain PKI in a temporary directory, a component with TLS on loopback,
# the client against it (capabilities, a loopback specification, a ping), a clean stop.
demo_https() {
  local m=./build/engine/mplane dir port=18228
  dir=$(mktemp -d)
  # (under set -e a failing kill in the trap would end the script with status 1: the component
  # is normally gone by then)
  trap 'kill "$comp" 2>/dev/null || true; rm -rf "$dir"' RETURN
  log "creating a domain PKI in $dir"
  $m pki init "$dir" --domain org.mplane.Demo >/dev/null
  $m pki issue "$dir" --role component --name Probe-1 --san 127.0.0.1 >/dev/null
  $m pki issue "$dir" --role client --name Client-1 >/dev/null
  log "starting mplane component with TLS on 127.0.0.1:$port"
  $m component --listen 127.0.0.1:$port --service loopback --service ping \
    --ca "$dir/ca.crt" --cert "$dir/component-Probe-1.crt" --key "$dir/component-Probe-1.key" &
  comp=$!
  local tls=(--url "https://127.0.0.1:$port/" --ca "$dir/ca.crt" --cert "$dir/client-Client-1.crt"
             --key "$dir/client-Client-1.key")
  for _ in 1 2 3 4 5 6 7 8 9 10; do $m client "${tls[@]}" caps >/dev/null 2>&1 && break; sleep 0.3; done
  local cap=""
  if [ "$(id -u)" = 0 ]; then  # live capture needs root: watch the demo's own connections
    log "capturing the demo's connections on lo (mplane capture -i lo -f 'tcp port $port')"
    $m capture -i lo -f "tcp port $port" --duration 6 > "$dir/flows.txt" 2> "$dir/capture.log" &
    cap=$!
    sleep 0.5
  fi
  log "mplane client caps"
  $m client "${tls[@]}" caps
  log "mplane client run test-loopback"
  $m client "${tls[@]}" run test-loopback --param test.input="hello over TLS"
  log "mplane client run ping-average-ip4 to 127.0.0.1"
  $m client "${tls[@]}" run ping-average-ip4 --param destination.ip4=127.0.0.1 --when "now + 3s / 1s"
  if [ -n "$cap" ]; then
    wait "$cap"
    log "the flows mplane capture saw (one line per TLS connection of the client)"
    cat "$dir/flows.txt" "$dir/capture.log"
  fi
  log "stopping the component"
  kill -TERM "$comp"
  wait "$comp"
}

run_tests() {
  local dir=$1
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" --timeout 600
}

case "${1:-}" in
  install)
    install_packages ;;
  build)
    install_packages
    build_in build -DMPLANE_DEVELOPER_MODE=ON ;;
  demo)
    install_packages
    build_in build -DMPLANE_DEVELOPER_MODE=ON
    log "validating the bundled example messages (conf/examples)"
    ./build/engine/mplane msg check conf/examples/*.json
    log "running a loopback specification and a ping of 127.0.0.1 on the local services"
    ./build/engine/mplane run conf/examples/run/loopback.json
    ./build/engine/mplane run conf/examples/run/ping-127.0.0.1.json
    demo_https ;;
  test)
    install_packages
    build_in build -DMPLANE_DEVELOPER_MODE=ON
    run_tests build ;;
  asan)
    install_packages
    build_in build-asan -DMPLANE_DEVELOPER_MODE=ON -DMPLANE_SANITIZE=ON -DMPLANE_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests build-asan ;;
  bench)
    install_packages
    build_in build-release -DCMAKE_BUILD_TYPE=Release -DMPLANE_BUILD_TESTS=OFF
    for b in codec_bench scheduler_bench shard_post_bench; do
      log "running $b"
      ./build-release/bench/$b "${@:2}"
    done
    log "running bench/http/http_bench.sh (component vs nginx, 5 s per run)"
    bench/http/http_bench.sh build-release 5 32
    log "running bench/capture/capture_bench.sh (builds a 1.4 GB trace in build-release/bench-data once)"
    bench/capture/capture_bench.sh build-release 200 ;;
  fuzz)
    install_packages
    secs=${2:-60}
    build_in build-fuzz -DMPLANE_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DMPLANE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
    # A finding (crash, any sanitizer report, timeout, leak) stops that fuzzer with a non-zero
    # status and saves its input in build-fuzz/findings/; the other fuzzers still run, and the
    # script then fails naming the fuzzers that found something.
    failed=()
    mkdir -p build-fuzz/findings
    for f in message_fuzz when_fuzz http_request_fuzz packet_fuzz capture_file_fuzz; do
      corpus=build-fuzz/corpus/${f%_fuzz}
      mkdir -p "$corpus"
      log "fuzzing $f for ${secs}s (seeds: tests/fuzz/corpus/${f%_fuzz})"
      if ! ./build-fuzz/tests/$f -max_total_time="$secs" -print_final_stats=1 \
          -artifact_prefix="build-fuzz/findings/$f-" "$corpus" "tests/fuzz/corpus/${f%_fuzz}"; then
        log "$f FAILED: see its report above; the input is build-fuzz/findings/$f-*"
        failed+=("$f")
      fi
    done
    if [ ${#failed[@]} -gt 0 ]; then
      log "fuzzers with findings: ${failed[*]}"
      exit 1
    fi ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2 ;;
esac
