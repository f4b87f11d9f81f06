#!/usr/bin/env bash
# The client's peak RSS on a large result (issue 11): a TLS component with the capture service
# serves `capture-flows-file` on TRACE (bench/capture/capture_bench.sh builds the 501,600-flow
# trace-200.pcap), and `mplane client run` prints it as CSV, JSON and a table to /dev/null under
# /usr/bin/time -v. With BEFORE (another mplane binary), the same runs with it, and the outputs
# of the two are compared byte for byte.
#
#   bench/client/client_rss.sh MPLANE TRACE [BEFORE]
set -euo pipefail
mplane=$(realpath "$1")
trace=$(realpath "$2")
before=${3:+$(realpath "$3")}
dir=$(mktemp -d)
trap 'kill "$component" 2>/dev/null || true; rm -rf "$dir"' EXIT
cd "$dir"
mkdir traces && ln -s "$trace" traces/trace.pcap
{ "$mplane" pki init dom --domain org.mplane.Example
  "$mplane" pki issue dom --role component --name Probe-1 --san 127.0.0.1
  "$mplane" pki issue dom --role client --name Client-1; } > /dev/null
port=$((20000 + RANDOM % 20000))
printf '[component]\nlisten-host = 127.0.0.1\nlisten-port = %s\nlisten-cap-link =\n\n[service_capture]\nfiles = %s/traces\n' \
  "$port" "$dir" > component.conf
"$mplane" component --config component.conf --ca dom/ca.crt --cert dom/component-Probe-1.crt \
  --key dom/component-Probe-1.key 2> component.err &
component=$!
until grep -qs listening component.err; do sleep 0.2; done
client=(client --url "https://127.0.0.1:$port/" --ca dom/ca.crt --cert dom/client-Client-1.crt
        --key dom/client-Client-1.key run capture-flows-file --param flow.capture.file=trace.pcap
        --timeout 300)
for format in --csv --json table; do
  flag=$([ "$format" = table ] || echo "$format")
  for which in after ${before:+before}; do
    bin=$([ "$which" = after ] && echo "$mplane" || echo "$before")
    /usr/bin/time -f "%M KiB peak RSS, %e s" "$bin" "${client[@]}" $flag > "out.$which" 2> time.err
    echo "$format $which ($bin): $(tail -1 time.err), $(wc -l < "out.$which") lines"
  done
  # The table of a result over 1,000 rows moves its title line after the rows (README.md).
  if [ -n "$before" ]; then
    cmp -s out.after out.before && echo "$format: identical output" || echo "$format: outputs differ"
  fi
done
