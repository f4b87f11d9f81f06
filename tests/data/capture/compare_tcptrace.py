#!/usr/bin/env python3
"""Our analysis columns (expected/<capture>.csv) beside tcptrace's (reference/*.tcptrace.csv).

Standard library only. Usage:

  compare_tcptrace.py [--only-diff] [--summary] [--ours=DIR] [CAPTURE...]

CAPTURE is a file name as in expected/ without `.csv` (default: every capture in expected/).
--ours=DIR reads our rows from DIR/<capture>.csv instead of expected/ (e.g. the output of
`mplane capture -r FILE --format csv` of a build under test).

Joining. Our TCP rows are matched with tcptrace rows on the connection's 4-tuple (either
orientation: if tcptrace's client is our server the directions are swapped back) and time: each
tcptrace row goes to our row of that 4-tuple whose first time is nearest to its first_packet,
preferring rows whose [first, last] span contains it. When tcptrace splits one of our
connections in parts (it starts a new connection after a RST) the parts are summed (RTT samples
merged: count and mean weighted, min of the minima, max of the maxima) and the row says
`tcptrace parts: N`. Our rows with one packet (tcptrace omits those) and rows tcptrace did not
see are listed at the end of each capture, as are tcptrace rows left over.

Compared per direction (ours / tcptrace; `*` marks a difference):

  uniq     unique_bytes            / unique_bytes_sent
  rtx      retrans_packets         / rexmt_data_pkts
  rtxB     retrans_bytes           / rexmt_data_bytes
  ooo      out_of_order            / outoforder_pkts
  dup      duplicates              / hardware_dups      (not marked: different definitions)
  zw       zero_window (runs)      / zero_win_adv (packets)
  mss      mss                     / mss_requested
  ws       wscale (-1: none)       / adv_wind_scale if req_1323_ws_ts says Y, else -1
  rtt      samples min/avg/max ms  / RTT_samples RTT_min/RTT_avg/RTT_max (tcptrace: 0.1 ms)

and per connection

  hs       handshake_rtt_ms        / c2s_RTT_from_3WHS + s2c_RTT_from_3WHS (of the last part)
           (equal within 0.11 ms; ours empty = no complete handshake, equal to 0 + 0)

RTT values count as equal within 0.05 ms (tcptrace prints one decimal) plus 0.001 ms.
`--summary` prints only the per-capture and overall agreement counts.
"""

import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "expected")
REFERENCE = os.path.join(HERE, "reference")

METRICS = ["uniq", "rtx", "rtxB", "ooo", "dup", "zw", "mss", "ws", "rtt_n", "rtt_min", "rtt_avg",
           "rtt_max"]
# Metrics whose difference is not a disagreement by itself (different definitions).
UNMARKED = {"dup"}


def usec(text):
    """Seconds with up to 6 decimals (tcptrace's missing zero-padding is fixed by aggregate.py)."""
    whole, _, frac = text.partition(".")
    return int(whole) * 1000000 + int((frac + "000000")[:6])


def ours_dir(row, d):
    p = d + "_"
    return {
        "uniq": int(row[p + "unique_bytes"]),
        "rtx": int(row[p + "retrans_packets"]),
        "rtxB": int(row[p + "retrans_bytes"]),
        "ooo": int(row[p + "out_of_order"]),
        "dup": int(row[p + "duplicates"]),
        "zw": int(row[p + "zero_window"]),
        "mss": int(row[p + "mss"]),
        "ws": int(row[p + "wscale"]),
        "rtt_n": int(row[p + "rtt_samples"]),
        "rtt_min": float(row[p + "rtt_min_ms"]),
        "rtt_avg": float(row[p + "rtt_mean_ms"]),
        "rtt_max": float(row[p + "rtt_max_ms"]),
    }


def tcptrace_dir(row, d):
    p = d + "_"
    ws_requested = row[p + "req_1323_ws_ts"].split("/")[0] == "Y"
    return {
        "uniq": int(row[p + "unique_bytes_sent"]),
        "rtx": int(row[p + "rexmt_data_pkts"]),
        "rtxB": int(row[p + "rexmt_data_bytes"]),
        "ooo": int(row[p + "outoforder_pkts"]),
        "dup": int(row[p + "hardware_dups"]),
        "zw": int(row[p + "zero_win_adv"]),
        "mss": int(row[p + "mss_requested"]),
        "ws": int(row[p + "adv_wind_scale"]) if ws_requested else -1,
        "rtt_n": int(row[p + "RTT_samples"]),
        "rtt_min": float(row[p + "RTT_min"]),
        "rtt_avg": float(row[p + "RTT_avg"]),
        "rtt_max": float(row[p + "RTT_max"]),
    }


def merge(parts):
    """Sum of a connection's tcptrace parts (one direction)."""
    if len(parts) == 1:
        return parts[0]
    summed = ("uniq", "rtx", "rtxB", "ooo", "dup", "zw", "rtt_n")
    out = {k: sum(p[k] for p in parts) for k in summed}
    out["mss"] = next((p["mss"] for p in parts if p["mss"]), 0)
    out["ws"] = next((p["ws"] for p in parts if p["ws"] >= 0), -1)
    sampled = [p for p in parts if p["rtt_n"]]
    out["rtt_min"] = min((p["rtt_min"] for p in sampled), default=0.0)
    out["rtt_max"] = max((p["rtt_max"] for p in sampled), default=0.0)
    out["rtt_avg"] = (sum(p["rtt_avg"] * p["rtt_n"] for p in sampled) / out["rtt_n"]
                      if out["rtt_n"] else 0.0)
    return out


def equal(metric, a, b):
    if metric.startswith("rtt_") and metric != "rtt_n":
        return abs(a - b) <= 0.051
    return a == b


def load(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def join(ours, tt):
    """{our row index: [tcptrace rows]} and the tcptrace rows matched with none of ours."""
    by_tuple = {}
    for i, r in enumerate(ours):
        key = frozenset([(r["client_ip"], r["client_port"]), (r["server_ip"], r["server_port"])])
        by_tuple.setdefault(key, []).append(i)
    matched, left = {}, []
    for t in tt:
        key = frozenset([(t["client_ip"], t["client_port"]), (t["server_ip"], t["server_port"])])
        cands = by_tuple.get(key, [])
        if not cands:
            left.append(t)
            continue
        first = usec(t["first_packet"])

        def rank(i):
            r = ours[i]
            inside = usec(r["first"]) <= first <= usec(r["last"])
            return (not inside, abs(usec(r["first"]) - first))

        matched.setdefault(min(cands, key=rank), []).append(t)
    return matched, left


def fmt(metric, v):
    if isinstance(v, float):
        return "%.1f" % v if metric != "rtt_n" else str(v)
    return str(v)


def compare_capture(name, only_diff, quiet, totals, ours_dir_path=EXPECTED):
    ours = [r for r in load(os.path.join(ours_dir_path, name + ".csv")) if r["proto"] == "tcp"]
    tt = load(os.path.join(REFERENCE, name + ".tcptrace.csv"))
    matched, left = join(ours, tt)
    stats = {m: [0, 0] for m in METRICS}  # equal, compared (direction-connections)
    hs_stats = [0, 0]  # connections: equal, compared
    lines = []
    diff_conns = 0
    for i, r in enumerate(ours):
        parts = matched.get(i)
        if not parts:
            continue
        sides = {}
        for d in ("c2s", "s2c"):
            tparts = []
            for t in parts:
                same = (t["client_ip"], t["client_port"]) == (r["client_ip"], r["client_port"])
                td = d if same else ("s2c" if d == "c2s" else "c2s")
                tparts.append(tcptrace_dir(t, td))
            sides[d] = (ours_dir(r, d), merge(tparts))
        any_diff = False
        dir_lines = []
        for d in ("c2s", "s2c"):
            o, t = sides[d]
            cells = []
            for m in METRICS:
                same = equal(m, o[m], t[m])
                stats[m][1] += 1
                stats[m][0] += same
                mark = "" if same or m in UNMARKED else "*"
                if mark:
                    any_diff = True
                cells.append("%s %s/%s%s" % (m, fmt(m, o[m]), fmt(m, t[m]), mark))
            dir_lines.append("    %s  %s" % (d, "  ".join(cells)))
        last = parts[-1]
        tt_hs = float(last["c2s_RTT_from_3WHS"]) + float(last["s2c_RTT_from_3WHS"])
        if r["handshake_rtt_ms"]:
            hs_same = abs(float(r["handshake_rtt_ms"]) - tt_hs) <= 0.11
        else:
            hs_same = tt_hs == 0
        hs_stats[0] += hs_same
        hs_stats[1] += 1
        any_diff = any_diff or not hs_same
        diff_conns += any_diff
        if only_diff and not any_diff:
            continue
        conns = ",".join(t["conn"] for t in parts)
        head = "  %s:%s -> %s:%s  first %s  %s  tcptrace conn %s%s  hs %s/%.1f%s" % (
            r["client_ip"], r["client_port"], r["server_ip"], r["server_port"], r["first"],
            r["end_state"], conns, "  (tcptrace parts: %d)" % len(parts) if len(parts) > 1 else "",
            r["handshake_rtt_ms"] or "-", tt_hs, "" if hs_same else "*")
        if r["vlan"]:
            head += "  vlan " + r["vlan"]
        lines.append(head)
        lines.extend(dir_lines)
    unmatched = [r for i, r in enumerate(ours) if i not in matched]
    single = [r for r in unmatched if int(r["c2s_packets"]) + int(r["s2c_packets"]) < 2]
    unseen = [r for r in unmatched if int(r["c2s_packets"]) + int(r["s2c_packets"]) >= 2]
    n_conn = len(ours) - len(unmatched)
    totals["conns"] += n_conn
    totals["diff_conns"] += diff_conns
    for m in METRICS:
        totals[m][0] += stats[m][0]
        totals[m][1] += stats[m][1]
    totals["hs"][0] += hs_stats[0]
    totals["hs"][1] += hs_stats[1]
    print("== %s: %d of our TCP rows, %d tcptrace rows; %d joined, %d with a marked difference"
          % (name, len(ours), len(tt), n_conn, diff_conns))
    if n_conn:
        print("   equal (directions): " + "  ".join(
            "%s %d/%d" % (m, stats[m][0], stats[m][1]) for m in METRICS)
            + "  (connections): hs %d/%d" % tuple(hs_stats))
    if quiet:
        return
    for line in lines:
        print(line)
    if single:
        print("  ours with one packet (tcptrace omits them): %d" % len(single))
    for r in unseen:
        print("  ours, no tcptrace row: %s:%s -> %s:%s first %s vlan %s packets %s+%s" % (
            r["client_ip"], r["client_port"], r["server_ip"], r["server_port"], r["first"],
            r["vlan"] or "-", r["c2s_packets"], r["s2c_packets"]))
    for t in left:
        print("  tcptrace conn %s, none of ours: %s:%s -> %s:%s first %s" % (
            t["conn"], t["client_ip"], t["client_port"], t["server_ip"], t["server_port"],
            t["first_packet"]))


def main(argv):
    only_diff = "--only-diff" in argv
    quiet = "--summary" in argv
    ours_path = next((a[len("--ours="):] for a in argv if a.startswith("--ours=")), EXPECTED)
    names = [a for a in argv if not a.startswith("--")]
    if not names:
        names = sorted(f[:-4] for f in os.listdir(EXPECTED) if f.endswith(".csv"))
    totals = {"conns": 0, "diff_conns": 0, "hs": [0, 0]}
    totals.update({m: [0, 0] for m in METRICS})
    for name in names:
        compare_capture(name, only_diff, quiet, totals, ours_path)
    print("== all: %d joined connections, %d with a marked difference" % (
        totals["conns"], totals["diff_conns"]))
    print("   equal (directions): " + "  ".join(
        "%s %d/%d" % (m, totals[m][0], totals[m][1]) for m in METRICS)
        + "  (connections): hs %d/%d" % tuple(totals["hs"]))


if __name__ == "__main__":
    main(sys.argv[1:])
