#!/usr/bin/env python3
"""Aggregate tshark / tcptrace output into per-connection reference CSVs.

Standard library only. Called by make_references.sh; see README.md beside this
file for what every column means.

  aggregate.py flows    PACKETS.tsv OUT.csv
      PACKETS.tsv: `tshark -T fields -E header=y -E separator=/t -E occurrence=a
      -E aggregator=,` output with the fields listed in FIELDS below.
      Writes one row per tcp.stream and per udp.stream.

  aggregate.py tcptrace TCPTRACE.csv PACKETS.tsv OUT.csv
      TCPTRACE.csv: `tcptrace -l -n -r --csv` output. PACKETS.tsv (the same
      tshark dump) is used only to find which end sent a pure SYN, so that
      tcptrace's a/b ends can be mapped to client/server.

  aggregate.py summary TMP_DIR REF_DIR NAME...
      Writes REF_DIR/SUMMARY.csv from REF_DIR/NAME.csv, REF_DIR/NAME.tcptrace.csv,
      TMP_DIR/NAME.tcptrace (raw tcptrace output) and TMP_DIR/NAME.capinfos
      (`capinfos -T -r -t -E -c -M` line).

Both commands print notes (anomalies worth knowing about) to stderr.
"""

import csv
import ipaddress
import sys
from decimal import Decimal

# tshark fields, in the order make_references.sh asks for them.
FIELDS = [
    "frame.number", "frame.time_epoch", "frame.protocols",
    "ip.src", "ip.dst", "ip.len",
    "ipv6.src", "ipv6.dst", "ipv6.plen",
    "tcp.stream", "tcp.srcport", "tcp.dstport",
    "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.fin", "tcp.flags.reset",
    "tcp.len",
    "udp.stream", "udp.srcport", "udp.dstport", "udp.length",
]

FLOW_COLUMNS = [
    "proto", "client_ip", "client_port", "server_ip", "server_port",
    "first", "last",
    "c2s_packets", "c2s_bytes", "s2c_packets", "s2c_bytes",
    "c2s_payload_bytes", "s2c_payload_bytes",
    "c2s_syn", "c2s_fin", "c2s_rst", "s2c_syn", "s2c_fin", "s2c_rst",
]


def note(msg):
    print("  note: " + msg, file=sys.stderr)


def to_usec(text):
    """tshark prints frame.time_epoch with 9 decimals; captures here are µs."""
    d = Decimal(text)
    us = int((d * 1000000).to_integral_value(rounding="ROUND_FLOOR"))
    if Decimal(us) != d * 1000000:
        note("timestamp %s has sub-microsecond digits, truncated" % text)
    return us


def fmt_usec(us):
    return "%d.%06d" % (us // 1000000, us % 1000000)


def canon_ip(text):
    return str(ipaddress.ip_address(text))


def ip_sort_key(text):
    a = ipaddress.ip_address(text)
    return (a.version, int(a))


def flag(value):
    """tshark 4.0 prints booleans as 1/0 (newer releases: True/False)."""
    v = value.split(",")[0].strip().lower()
    return 1 if v in ("1", "true") else 0


def first_value(value):
    return value.split(",")[0] if value else ""


def transport_ip(row, transport):
    """The IP header that directly carries the first `transport` header.

    frame.protocols lists the layers outermost first (e.g.
    eth:ethertype:ip:icmp:ip:tcp, or eth:ethertype:ipv6:ipv6.fraghdr:tcp).
    We take the last `ip` or `ipv6` layer before the first `transport` layer
    and pick the matching occurrence of ip.* / ipv6.* (tshark joins repeated
    fields with ','). Returns (src, dst, ip_bytes) or None.
    """
    layers = row["frame.protocols"].split(":")
    try:
        t = layers.index(transport)
    except ValueError:
        return None
    chosen = None
    n4 = n6 = 0
    for name in layers[:t]:
        if name == "ip":
            chosen = ("ip", n4)
            n4 += 1
        elif name == "ipv6":
            chosen = ("ipv6", n6)
            n6 += 1
    if chosen is None:
        return None
    fam, idx = chosen
    if fam == "ip":
        src, dst, ln = (row["ip.src"].split(","), row["ip.dst"].split(","),
                        row["ip.len"].split(","))
    else:
        src, dst, ln = (row["ipv6.src"].split(","), row["ipv6.dst"].split(","),
                        row["ipv6.plen"].split(","))
    if not (len(src) == len(dst) == len(ln)) or idx >= len(src) or not src[idx]:
        note("frame %s: cannot pick IP occurrence %d from %s; using first"
             % (row["frame.number"], idx, row["frame.protocols"]))
        idx = 0
    nbytes = int(ln[idx]) if fam == "ip" else int(ln[idx]) + 40
    return canon_ip(src[idx]), canon_ip(dst[idx]), nbytes


def read_packets(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [k for k in FIELDS if k not in reader.fieldnames]
        if missing:
            sys.exit("aggregate.py: %s lacks columns %s" % (path, missing))
        for row in reader:
            yield row


class Flow:
    __slots__ = ("proto", "pkts", "syn_sender")

    def __init__(self, proto):
        self.proto = proto
        self.pkts = []      # (frame, usec, src, sport, dst, dport, bytes, payload, syn, fin, rst)
        self.syn_sender = None


def cmd_flows(packets_path, out_path):
    flows = {}
    for row in read_packets(packets_path):
        frame = int(row["frame.number"])
        usec = to_usec(row["frame.time_epoch"])
        for proto in ("tcp", "udp"):
            sid = first_value(row[proto + ".stream"])
            if sid == "":
                continue
            ipinfo = transport_ip(row, proto)
            if ipinfo is None:
                note("frame %d: %s.stream %s without an IP layer (%s), skipped"
                     % (frame, proto, sid, row["frame.protocols"]))
                continue
            src, dst, nbytes = ipinfo
            sport = int(first_value(row[proto + ".srcport"]))
            dport = int(first_value(row[proto + ".dstport"]))
            if proto == "tcp":
                syn = flag(row["tcp.flags.syn"])
                ack = flag(row["tcp.flags.ack"])
                fin = flag(row["tcp.flags.fin"])
                rst = flag(row["tcp.flags.reset"])
                tl = first_value(row["tcp.len"])
                payload = int(tl) if tl else 0
                if not row["tcp.flags.syn"]:
                    note("frame %d: tcp.stream %s has no decoded TCP flags "
                         "(header cut or bogus); counted with flags 0, payload %d"
                         % (frame, sid, payload))
            else:
                syn = ack = fin = rst = 0
                ul = first_value(row["udp.length"])
                payload = int(ul) - 8 if ul else 0
            key = (proto, int(sid))
            fl = flows.get(key)
            if fl is None:
                fl = flows[key] = Flow(proto)
            if syn and not ack and fl.syn_sender is None:
                fl.syn_sender = (src, sport)
            fl.pkts.append((frame, usec, src, sport, dst, dport, nbytes,
                            payload, syn, fin, rst))

    rows = []
    for (proto, sid), fl in flows.items():
        p0 = fl.pkts[0]
        client = fl.syn_sender if fl.syn_sender else (p0[2], p0[3])
        # the server is the other end of any packet of the stream
        server = None
        for p in fl.pkts:
            if (p[2], p[3]) == client:
                server = (p[4], p[5])
                break
            if (p[4], p[5]) == client:
                server = (p[2], p[3])
                break
        c = [0] * 6   # packets, bytes, payload, syn, fin, rst (client->server)
        s = [0] * 6
        for p in fl.pkts:
            d = c if (p[2], p[3]) == client and (p[4], p[5]) == server else s
            if d is s and not ((p[2], p[3]) == server and (p[4], p[5]) == client):
                sys.exit("aggregate.py: frame %d does not belong to %s stream %d"
                         % (p[0], proto, sid))
            d[0] += 1
            d[1] += p[6]
            d[2] += p[7]
            d[3] += p[8]
            d[4] += p[9]
            d[5] += p[10]
        times = [p[1] for p in fl.pkts]
        first, last = fl.pkts[0][1], fl.pkts[-1][1]
        if first != min(times) or last != max(times):
            note("%s stream %d: timestamps not in frame order (first by frame "
                 "%s, min %s; last by frame %s, max %s)"
                 % (proto, sid, fmt_usec(first), fmt_usec(min(times)),
                    fmt_usec(last), fmt_usec(max(times))))
        rows.append((proto, client[0], client[1], server[0], server[1],
                     first, last, c, s))

    rows.sort(key=lambda r: (r[5], ip_sort_key(r[1]), r[2], ip_sort_key(r[3]),
                             r[4], r[0]))
    with open(out_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(FLOW_COLUMNS)
        for proto, cip, cport, sip, sport, first, last, c, s in rows:
            w.writerow([proto, cip, cport, sip, sport,
                        fmt_usec(first), fmt_usec(last),
                        c[0], c[1], s[0], s[1], c[2], s[2],
                        c[3], c[4], c[5], s[3], s[4], s[5]])
    ntcp = sum(1 for r in rows if r[0] == "tcp")
    print("  flows: %d tcp, %d udp" % (ntcp, len(rows) - ntcp), file=sys.stderr)


# ---------------------------------------------------------------- tcptrace

# (output name, tcptrace column stem); per direction the stem gets _a2b/_b2a
# and the output name gets c2s_/s2c_.
TT_DIR_COLUMNS = [
    ("total_packets", "total_packets"),
    ("resets_sent", "resets_sent"),
    ("unique_bytes_sent", "unique_bytes_sent"),
    ("actual_data_pkts", "actual_data_pkts"),
    ("actual_data_bytes", "actual_data_bytes"),
    ("rexmt_data_pkts", "rexmt_data_pkts"),
    ("rexmt_data_bytes", "rexmt_data_bytes"),
    ("outoforder_pkts", "outoforder_pkts"),
    ("zwnd_probe_pkts", "zwnd_probe_pkts"),
    ("zero_win_adv", "zero_win_adv"),
    ("syn_pkts", None),   # split from SYN/FIN_pkts_sent "S/F"
    ("fin_pkts", None),
    ("sack_pkts_sent", "sack_pkts_sent"),
    ("duplicate_acks", "duplicate_acks"),
    ("triple_dupacks", "triple_dupacks"),
    ("RTT_samples", "RTT_samples"),
    ("RTT_min", "RTT_min"),
    ("RTT_avg", "RTT_avg"),
    ("RTT_max", "RTT_max"),
    ("RTT_stdev", "RTT_stdev"),
    ("RTT_from_3WHS", "RTT_from_3WHS"),
    ("mss_requested", "mss_requested"),
    ("adv_wind_scale", "adv_wind_scale"),
    ("req_1323_ws_ts", "req_1323_ws/ts"),
    ("truncated_packets", "truncated_packets"),
    ("hardware_dups", "hardware_dups"),
]

TT_HEAD = ["conn", "client_by", "client_ip", "client_port", "server_ip",
           "server_port", "first_packet", "last_packet"]


def tt_columns():
    cols = list(TT_HEAD)
    for pre in ("c2s_", "s2c_"):
        cols += [pre + name for name, _ in TT_DIR_COLUMNS]
    return cols


def pure_syns(packets_path):
    """(src, sport, dst, dport) -> sorted list of µs times of SYN-without-ACK."""
    syns = {}
    for row in read_packets(packets_path):
        if first_value(row["tcp.stream"]) == "":
            continue
        if not (flag(row["tcp.flags.syn"]) and not flag(row["tcp.flags.ack"])):
            continue
        ipinfo = transport_ip(row, "tcp")
        if ipinfo is None:
            continue
        key = (ipinfo[0], int(first_value(row["tcp.srcport"])),
               ipinfo[1], int(first_value(row["tcp.dstport"])))
        syns.setdefault(key, []).append(to_usec(row["frame.time_epoch"]))
    for v in syns.values():
        v.sort()
    return syns


SYN_SLACK_US = 1000000


def tt_usec(text):
    """tcptrace 6.6.7 prints times as "%lu.%lu" (seconds, microseconds) in
    its --csv output: the microseconds are NOT zero-padded, so
    "1278600802.69419" means 1278600802.069419. Read the part after the dot
    as an integer count of microseconds."""
    sec, _, frac = text.strip().partition(".")
    if not frac.isdigit() or len(frac) > 6:
        sys.exit("aggregate.py: unexpected tcptrace time %r" % text)
    return int(sec) * 1000000 + int(frac)


def cmd_tcptrace(tt_path, packets_path, out_path):
    syns = pure_syns(packets_path)
    header = None
    records = []
    with open(tt_path, newline="") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if header is None:
                header = [h.strip() for h in line.split(",")]
                continue
            vals = [v.strip() for v in line.split(",")]
            records.append(dict(zip(header, vals)))
    out = []
    skipped = 0
    for r in records:
        if int(r["total_packets_a2b"]) + int(r["total_packets_b2a"]) <= 1:
            # a one-packet connection has no RTT, retransmission or window
            # information beyond the tshark CSV; omitted to keep the
            # references small (ndpi__synscan has 1986 of them). Counted in
            # SUMMARY.csv (tcptrace_connections vs tcptrace_rows).
            skipped += 1
            continue
        a = (canon_ip(r["host_a"]), int(r["port_a"]))
        b = (canon_ip(r["host_b"]), int(r["port_b"]))
        t0, t1 = tt_usec(r["first_packet"]), tt_usec(r["last_packet"])

        def syn_in(src, dst, slack):
            ts = syns.get((src[0], src[1], dst[0], dst[1]), [])
            inside = [t for t in ts if t0 - slack <= t <= t1]
            return min(inside) if inside else None

        sa, sb = syn_in(a, b, 0), syn_in(b, a, 0)
        if sa is None and sb is None:
            # timestamps out of frame order can put the SYN just before the
            # connection's first packet (e.g. zeek__ipv6-http-atomic-frag)
            sa, sb = syn_in(a, b, SYN_SLACK_US), syn_in(b, a, SYN_SLACK_US)
        if sa is None and sb is None:
            client_by, swap = "first", False
        elif sb is None or (sa is not None and sa <= sb):
            client_by, swap = "syn", False
        else:
            client_by, swap = "syn", True
            note("tcptrace conn %s: host_a %s:%d is the server (pure SYN came "
                 "from host_b): a/b swapped" % (r["conn_#"], a[0], a[1]))
        cdir, sdir = ("b2a", "a2b") if swap else ("a2b", "b2a")
        client, server = (b, a) if swap else (a, b)
        row = [r["conn_#"], client_by, client[0], client[1], server[0],
               server[1], fmt_usec(t0), fmt_usec(t1)]
        for d in (cdir, sdir):
            for name, stem in TT_DIR_COLUMNS:
                if name in ("syn_pkts", "fin_pkts"):
                    sf = r["SYN/FIN_pkts_sent_" + d].split("/")
                    row.append(sf[0] if name == "syn_pkts" else sf[1])
                else:
                    row.append(r[stem + "_" + d])
        out.append(row)
    with open(out_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(tt_columns())
        for row in out:
            w.writerow(row)
    print("  tcptrace: %d connections, %d one-packet ones omitted"
          % (len(out) + skipped, skipped), file=sys.stderr)


# ----------------------------------------------------------------- summary

SUMMARY_COLUMNS = [
    "file", "format", "link_type", "frames",
    "tshark_tcp_rows", "tshark_udp_rows", "tshark_tcp_packets",
    "tshark_udp_packets",
    "tcptrace_packets_seen", "tcptrace_tcp_packets_traced",
    "tcptrace_connections", "tcptrace_rows",
]


def cmd_summary(tmp_dir, ref_dir, names):
    """One line per capture: what each tool saw (see README.md)."""
    import os
    import re
    rows = []
    for name in names:
        cap = open(os.path.join(tmp_dir, name + ".capinfos")).read()
        _, fmt, link, frames = cap.rstrip("\n").split("\t")
        counts = {"tcp": [0, 0], "udp": [0, 0]}
        with open(os.path.join(ref_dir, name + ".csv"), newline="") as f:
            for r in csv.DictReader(f):
                c = counts[r["proto"]]
                c[0] += 1
                c[1] += int(r["c2s_packets"]) + int(r["s2c_packets"])
        seen = traced = conns = 0
        with open(os.path.join(tmp_dir, name + ".tcptrace")) as f:
            for line in f:
                m = re.match(r"#(\d+) packets seen, (\d+) TCP packets traced",
                             line)
                if m:
                    seen, traced = int(m.group(1)), int(m.group(2))
                m = re.match(r"#(\d+) TCP connections? traced", line)
                if m:
                    conns = int(m.group(1))
        with open(os.path.join(ref_dir, name + ".tcptrace.csv")) as f:
            tt_rows = sum(1 for _ in f) - 1
        rows.append([name, fmt, link, frames, counts["tcp"][0],
                     counts["udp"][0], counts["tcp"][1], counts["udp"][1],
                     seen, traced, conns, tt_rows])
    with open(os.path.join(ref_dir, "SUMMARY.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SUMMARY_COLUMNS)
        w.writerows(rows)


def main(argv):
    if len(argv) == 4 and argv[1] == "flows":
        cmd_flows(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "tcptrace":
        cmd_tcptrace(argv[2], argv[3], argv[4])
    elif len(argv) >= 4 and argv[1] == "summary":
        cmd_summary(argv[2], argv[3], argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
