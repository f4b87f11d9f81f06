#!/usr/bin/env bash
# Passive capture benchmark (issue 5): builds the large trace if it is missing (the shared
# captures, tests/data/capture/pcaps, replicated COPIES times with rewritten addresses; kept out of git, in
# BUILD_DIR/bench-data), runs capture_bench on it (pcap_next_ex floor, decode, full analysis on
# one core and on 2 shards, memory), tcptrace on the same trace for scale when installed, and
# the live capture on lo (root only).
#
#   bench/capture/capture_bench.sh [BUILD_DIR] [COPIES]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-release}
copies=${2:-200}
trace=$build/bench-data/trace-$copies.pcap
mkdir -p "$build/bench-data"
if [ ! -f "$trace" ]; then
  "$build/bench/make_trace" "$trace" "$copies" tests/data/capture/pcaps/*.pcap*
fi
echo "== $(basename "$trace"): $(stat -c %s "$trace") bytes"
"$build/bench/capture_bench" "$trace" --shards 2
if command -v tcptrace > /dev/null; then
  echo "== tcptrace -n on the same trace (a peer, for scale)"
  /usr/bin/time -f "tcptrace: %e s, peak RSS %M KiB" tcptrace -n "$trace" > /dev/null
fi
if [ "$(id -u)" = 0 ]; then
  echo "== live capture on lo"
  "$build/bench/live_lo_bench" 2
fi
