#!/usr/bin/env bash
# Peak memory of the client on a large result (issue 11): the 501,600-row capture-flows-file
# result (the capture benchmark's trace, bench/capture/capture_bench.sh), fetched over HTTPS from
# a component with `mplane client run … --csv` and `--json`, and printed by `mplane run` on the
# local services, each under /usr/bin/time -v (Maximum resident set size). With a second binary
# (the build before a change) the same runs follow with it, against the same component, so the
# figures read side by side.
#
#   [COPIES=200] bench/client/large_result_rss.sh [BUILD_DIR] [OTHER_MPLANE]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
other=${2:-}
copies=${COPIES:-200}
mplane=$build/engine/mplane
data=$build/bench-data
trace=trace-$copies.pcap
mkdir -p "$data"
if [ ! -f "$data/$trace" ]; then
  "$build/bench/make_trace" "$data/$trace" "$copies" tests/data/capture/pcaps/*.pcap*
fi
dir=$(mktemp -d)
trap 'kill "$comp" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
"$mplane" pki init "$dir" --domain org.mplane.Bench >/dev/null
"$mplane" pki issue "$dir" --role component --name Probe-1 --san 127.0.0.1 >/dev/null
"$mplane" pki issue "$dir" --role client --name Client-1 >/dev/null
printf '[service_capture]\nfiles = %s\n' "$(realpath "$data")" > "$dir/component.conf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$mplane" component --config "$dir/component.conf" --listen 127.0.0.1:"$port" \
  --ca "$dir/ca.crt" --cert "$dir/component-Probe-1.crt" --key "$dir/component-Probe-1.key" \
  2>"$dir/component.log" &
comp=$!
tls=(--url "https://127.0.0.1:$port/" --ca "$dir/ca.crt" --cert "$dir/client-Client-1.crt"
     --key "$dir/client-Client-1.key")
for _ in $(seq 50); do "$mplane" client "${tls[@]}" caps >/dev/null 2>&1 && break; sleep 0.2; done

# The specification `mplane run` takes: every column of the capability.
curl -s --cacert "$dir/ca.crt" --cert "$dir/client-Client-1.crt" --key "$dir/client-Client-1.key" \
  "https://127.0.0.1:$port/capabilities" > "$dir/caps.json"
python3 - "$dir/caps.json" "$trace" > "$dir/spec.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
doc = json.loads(text) if text.strip() else {}
caps = doc.get("contents", [doc]) if isinstance(doc, dict) else doc
cap = next((c for c in caps if c.get("label") == "capture-flows-file"), None)
if cap is None:
    sys.exit("capture-flows-file not in the component's capabilities")
spec = {k: v for k, v in cap.items() if k not in ("capability", "link", "token")}
spec["specification"] = cap["capability"]
spec["when"] = "now"
spec["parameters"] = {"flow.capture.file": sys.argv[2]}
print(json.dumps(spec))
PY

measure() {  # LABEL COMMAND...: rows printed, seconds, peak RSS
  local label=$1; shift
  /usr/bin/time -v "$@" > "$dir/out" 2> "$dir/time" || { echo "$label: failed"; tail -3 "$dir/time"; return; }
  local rss secs lines
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time")
  lines=$(wc -l < "$dir/out")
  printf '%-48s %9s lines  %8s  peak RSS %7.1f MiB\n' "$label" "$lines" "$secs" "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
}

for bin in "$mplane" $other; do
  echo "== $bin"
  measure "client run capture-flows-file --csv" "$bin" client "${tls[@]}" run capture-flows-file \
    --param flow.capture.file="$trace" --csv
  measure "client run capture-flows-file --json" "$bin" client "${tls[@]}" run capture-flows-file \
    --param flow.capture.file="$trace" --json
  measure "client run capture-flows-file (table)" "$bin" client "${tls[@]}" run capture-flows-file \
    --param flow.capture.file="$trace"
  measure "run SPEC (table)" "$bin" run "$dir/spec.json" --config "$dir/component.conf"
  measure "run SPEC --json" "$bin" run "$dir/spec.json" --config "$dir/component.conf" --json
done
