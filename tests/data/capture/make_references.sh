#!/usr/bin/env bash
# Regenerates the per-connection reference CSVs in reference/ from the shared
# captures (pcaps/, a copy of shared/pcaps) with tshark and tcptrace (Debian bookworm: tshark 4.0.17,
# tcptrace 6.6.7). See README.md beside this script.
#
#   make_references.sh [PCAP_DIR]      (default: pcaps/ beside this script)
#
# Needs: apt-get install -y --no-install-recommends tshark tcptrace
# (tshark brings editcap/capinfos via wireshark-common), python3.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pcaps="${1:-$here/pcaps}"
pcaps="$(cd "$pcaps" && pwd)"
out="$here/reference"

for tool in tshark tcptrace editcap capinfos python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

# Deterministic environment: no personal wireshark profile, no ~/.tcptracerc,
# no TCPTRACEOPTS, no locale or time zone effects.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home"
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config"
export WIRESHARK_CONFIG_DIR="$tmp/home/wireshark"
export LC_ALL=C TZ=UTC
unset TCPTRACEOPTS

# tshark preferences that matter for per-frame counting, all set explicitly:
#  - no IPv4/IPv6 reassembly: every frame is counted as itself; non-first
#    IPv4 fragments carry no TCP/UDP header and so belong to no stream;
#  - no TCP reassembly (desegmentation) and no out-of-order reassembly;
#  - sequence analysis and relative sequence numbers as shipped (checked:
#    they do not change tcp.stream numbering);
#  - no checksum validation (a bad checksum must not hide a packet);
#  - IPv4 TSO support as shipped (ip.len 0 would take the frame length;
#    no capture here has ip.len 0).
tshark_prefs=(
    -o ip.defragment:FALSE
    -o ipv6.defragment:FALSE
    -o tcp.desegment_tcp_streams:FALSE
    -o tcp.reassemble_out_of_order:FALSE
    -o tcp.analyze_sequence_numbers:TRUE
    -o tcp.relative_sequence_numbers:TRUE
    -o tcp.check_checksum:FALSE
    -o udp.check_checksum:FALSE
    -o ip.check_checksum:FALSE
    -o ip.tso_support:TRUE
    -o ipv6.tso_support:FALSE
)
fields=(
    frame.number frame.time_epoch frame.protocols
    ip.src ip.dst ip.len
    ipv6.src ipv6.dst ipv6.plen
    tcp.stream tcp.srcport tcp.dstport
    tcp.flags.syn tcp.flags.ack tcp.flags.fin tcp.flags.reset
    tcp.len
    udp.stream udp.srcport udp.dstport udp.length
)
field_args=()
for f in "${fields[@]}"; do field_args+=(-e "$f"); done

mkdir -p "$out"
echo "# $(tshark --version 2>/dev/null | head -1)" >&2
echo "# $(tcptrace -v 2>&1 | grep -m1 Version)" >&2

magic() { od -An -N4 -tx1 "$1" | tr -d ' \n'; }
# Every regular file of the directory whose magic number is pcap (either byte
# order, micro- or nanosecond) or pcapng; names are not trusted.
files=()
while IFS= read -r f; do
    case "$(magic "$f")" in
        a1b2c3d4|d4c3b2a1|a1b23c4d|4d3cb2a1|0a0d0d0a) files+=("$f") ;;
    esac
done < <(find "$pcaps" -maxdepth 1 -type f | LC_ALL=C sort)
[ "${#files[@]}" -gt 0 ] || { echo "no captures in $pcaps" >&2; exit 1; }

names=()
for f in "${files[@]}"; do
    name="$(basename "$f")"
    names+=("$name")
    echo "== $name" >&2
    capinfos -T -r -t -E -c -M "$f" | sed "1s|^[^\t]*|$name|" > "$tmp/$name.capinfos"
    tsv="$tmp/$name.tsv"
    nice -n 19 tshark -n -r "$f" "${tshark_prefs[@]}" -T fields \
        -E header=y -E separator=/t -E occurrence=a -E aggregator=, -E quote=n \
        "${field_args[@]}" > "$tsv" 2> "$tmp/tshark.err" \
        || { cat "$tmp/tshark.err" >&2; exit 1; }
    grep -v 'Running as user "root"' "$tmp/tshark.err" >&2 || true
    python3 "$here/aggregate.py" flows "$tsv" "$out/$name.csv"

    # tcptrace only documents tcpdump (classic pcap) input; the libpcap it is
    # linked with also reads pcapng, but to depend on neither, pcapng (detected
    # by magic number, not by name) is converted first. editcap keeps the link
    # type and the microsecond timestamps.
    in="$f"
    if [ "$(magic "$f")" = "0a0d0d0a" ]; then
        in="$tmp/$name.as-pcap"
        editcap -F pcap "$f" "$in"
    fi
    nice -n 19 tcptrace -l -n -r --csv "$in" > "$tmp/$name.tcptrace" \
        2> "$tmp/tcptrace.err" || { cat "$tmp/tcptrace.err" >&2; exit 1; }
    sed 's/^/  tcptrace stderr: /' "$tmp/tcptrace.err" >&2
    grep -E '^#[0-9]+ packets seen' "$tmp/$name.tcptrace" | sed 's/^#/  tcptrace: /' >&2
    python3 "$here/aggregate.py" tcptrace "$tmp/$name.tcptrace" "$tsv" \
        "$out/$name.tcptrace.csv"
done

python3 "$here/aggregate.py" summary "$tmp" "$out" "${names[@]}"
echo "wrote $out ($(du -sk "$out" | cut -f1) KB)" >&2
