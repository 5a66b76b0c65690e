#!/usr/bin/env python3
"""Compare two sets of flow records, from the generator or from a real collector.

usage: flowcmp.py KIND:FILE KIND:FILE [--map CAPTURED=REPRO ...] [--count N]
                  [--ignore FIELD ...] [--ms] [--shifted]

KIND is one of
  expect   tr-pcapgen --expect output (JSON lines, one per generated record)
  nfacctd  pmacct print plugin output (print_output: json, one line per record)
  nfdump   `nfdump -o json` output (one JSON array)

The first file is the capture side (what was generated, or what a collector
decoded from the capture itself); --map rewrites its exporter addresses to the
repro addresses the replay sent from.  The second file is what the collector
decoded from the replay.  Records are compared as multisets on every field both
kinds know (two nfacctd files: every field nfacctd printed); a record that is
missing, extra, or differs in any field fails.  With --count, both sides must
hold exactly N records.  --ignore leaves a field out (for a collector that
does not decode it).  --ms compares flow times in milliseconds too (fields
start_ms, end_ms).  --shifted compares every field but the times, then checks
that the replay side's times are the capture side's moved by one delta, the
same for every start and end of every record and a whole number of seconds
(so every duration is intact), and prints it as "shift: SECONDS".
Exit 0 equal, 1 different, 2 usage/format error.
"""
import argparse
import collections
import datetime
import ipaddress
import json
import sys

# Fields every comparison must include, so that it cannot pass vacuously.
CORE = ("exporter", "src", "dst", "sport", "dport", "proto", "packets", "bytes",
        "start", "end")

PROTO_NAMES = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "icmpv6": 58}


def ip(text):
    return str(ipaddress.ip_address(text))


def proto(value):
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    return PROTO_NAMES[str(value).lower()]


def epoch_ms(text):
    """'1700000000.123000' (nfacctd) -> 1700000000123, without float rounding."""
    sec, _, frac = str(text).partition(".")
    return int(sec) * 1000 + int((frac + "000")[:3])


def load_expect(path):
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        ms = {"start_ms": r["start_ms"], "end_ms": r["end_ms"]} if "start_ms" in r else {}
        yield {**ms,"exporter": ip(r["exporter"]), "src": ip(r["src_ip"]),
               "dst": ip(r["dst_ip"]), "sport": r["src_port"],
               "dport": r["dst_port"], "proto": r["proto"],
               "packets": r["packets"], "bytes": r["bytes"],
               "start": r["start"], "end": r["end"],
               "version": r["version"], "domain": r["domain"]}


# nfacctd print plugin keys -> canonical keys; the others are kept as "nfacctd.KEY".
NFACCTD = {"peer_ip_src": ("exporter", ip), "ip_src": ("src", ip),
           "ip_dst": ("dst", ip), "port_src": ("sport", int),
           "port_dst": ("dport", int), "ip_proto": ("proto", proto),
           "packets": ("packets", int), "bytes": ("bytes", int),
           "timestamp_start": ("start", lambda v: int(float(v))),
           "timestamp_end": ("end", lambda v: int(float(v))),
           "export_proto_version": ("version", int),
           "export_proto_sysid": ("domain", int),
           "timestamp_start+ms": ("start_ms", epoch_ms),
           "timestamp_end+ms": ("end_ms", epoch_ms)}


def load_nfacctd(path):
    for line in open(path):
        if not line.strip():
            continue
        r = json.loads(line)
        r.pop("event_type", None)
        for k in ("timestamp_start", "timestamp_end"):
            if k in r:
                r[k + "+ms"] = r[k]
        out = {}
        for k, v in r.items():
            if k in NFACCTD:
                name, conv = NFACCTD[k]
                out[name] = conv(v)
            else:
                out["nfacctd." + k] = v
        yield out


def nfdump_time(text):
    # Written in the local time zone: the caller runs nfdump with TZ=UTC.
    return nfdump_time_ms(text) // 1000


def nfdump_time_ms(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return (t.toordinal() - 719163) * 86400000 + (
        t.hour * 3600 + t.minute * 60 + t.second) * 1000 + t.microsecond // 1000


def load_nfdump(path):
    for r in json.load(open(path)):
        if r.get("type") != "FLOW":
            continue
        v6 = "src6_addr" in r
        yield {"exporter": ip(r["ip6_router"] if "ip6_router" in r else r["ip4_router"]),
               "src": ip(r["src6_addr" if v6 else "src4_addr"]),
               "dst": ip(r["dst6_addr" if v6 else "dst4_addr"]),
               "sport": r["src_port"], "dport": r["dst_port"],
               "proto": r["proto"], "packets": r["in_packets"],
               "bytes": r["in_bytes"], "start": nfdump_time(r["first"]),
               "end": nfdump_time(r["last"]),
               "start_ms": nfdump_time_ms(r["first"]),
               "end_ms": nfdump_time_ms(r["last"])}


LOADERS = {"expect": load_expect, "nfacctd": load_nfacctd, "nfdump": load_nfdump}


def load(spec):
    kind, sep, path = spec.partition(":")
    if not sep or kind not in LOADERS:
        raise SystemExit("flowcmp: expected KIND:FILE with KIND in %s, got %r"
                         % ("|".join(LOADERS), spec))
    try:
        return list(LOADERS[kind](path))
    except (OSError, ValueError, KeyError) as e:
        print("flowcmp: %s: cannot read %s records: %s: %s"
              % (path, kind, type(e).__name__, e), file=sys.stderr)
        sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture_side")
    ap.add_argument("replay_side")
    ap.add_argument("--map", action="append", default=[],
                    metavar="CAPTURED=REPRO")
    ap.add_argument("--count", type=int)
    ap.add_argument("--ignore", action="append", default=[], metavar="FIELD")
    ap.add_argument("--ms", action="store_true")
    ap.add_argument("--shifted", action="store_true")
    a = ap.parse_args()
    times = ["start", "end"] + (["start_ms", "end_ms"] if a.ms else [])

    exmap = {}
    for m in a.map:
        old, _, new = m.partition("=")
        exmap[ip(old)] = ip(new)

    want, got = load(a.capture_side), load(a.replay_side)
    for r in want:
        r["exporter"] = exmap.get(r["exporter"], r["exporter"])
    if not a.ms:
        for r in want + got:
            r.pop("start_ms", None)
            r.pop("end_ms", None)
    elif want and got and not all("start_ms" in r for r in want + got):
        print("flowcmp: --ms: a side has no millisecond times", file=sys.stderr)
        return 2

    # Compare on the fields present in every record of both sides.
    keys = set.intersection(*(set(r) for r in want + got)) if want and got else set(CORE)
    keys -= set(a.ignore)
    missing_core = set(CORE) - set(a.ignore) - keys
    if missing_core:
        print("flowcmp: fields missing on one side: %s" % sorted(missing_core),
              file=sys.stderr)
        return 2
    keys = sorted(keys)
    if a.shifted:
        keys = [k for k in keys if k not in times]
        if set(times) & set(a.ignore):
            print("flowcmp: --shifted needs the times", file=sys.stderr)
            return 2

    def multiset(records):
        return collections.Counter(
            tuple(json.dumps(r[k], sort_keys=True) for k in keys) for r in records)

    w, g = multiset(want), multiset(got)
    ok = True
    if a.count is not None and (len(want) != a.count or len(got) != a.count):
        print("flowcmp: %d records generated; %s has %d, %s has %d"
              % (a.count, a.capture_side, len(want), a.replay_side, len(got)),
              file=sys.stderr)
        ok = False
    if not want or not got:
        print("flowcmp: no records (%s: %d, %s: %d)"
              % (a.capture_side, len(want), a.replay_side, len(got)), file=sys.stderr)
        ok = False
    if w != g:
        ok = False
        lost, extra = w - g, g - w
        print("flowcmp: %d records only in %s, %d only in %s (fields: %s)"
              % (sum(lost.values()), a.capture_side, sum(extra.values()),
                 a.replay_side, " ".join(keys)), file=sys.stderr)
        for label, diff in (("-", lost), ("+", extra)):
            for rec in sorted(diff)[:8]:
                print("  %s %s" % (label, " ".join(
                    "%s=%s" % kv for kv in zip(keys, rec))), file=sys.stderr)
    if ok and a.shifted:
        ok = check_shift(want, got, keys, times, a.ms)
    if ok:
        print("%d records equal on %d fields (%s)%s"
              % (len(got), len(keys), " ".join(keys),
                 " and shifted times (%s)" % " ".join(times) if a.shifted else ""))
    return 0 if ok else 1


def check_shift(want, got, keys, times, ms):
    """The replay side's times = the capture side's + one whole-second delta."""
    def groups(records):
        g = collections.defaultdict(list)
        for r in records:
            g[tuple(json.dumps(r[k], sort_keys=True) for k in keys)].append(
                tuple(r[t] for t in times))
        return g

    w, g = groups(want), groups(got)
    deltas = collections.Counter()
    for k in w:
        # A shift keeps the order of equal records' times: pair them sorted.
        for wt, gt in zip(sorted(w[k]), sorted(g[k])):
            for i, t in enumerate(times):
                unit = 1000 if t.endswith("_ms") else 1
                deltas[(gt[i] - wt[i]) / unit] += 1
    if len(deltas) != 1:
        print("flowcmp: the times moved by %d different deltas (seconds: count): %s"
              % (len(deltas), dict(deltas.most_common(8))), file=sys.stderr)
        return False
    (d, _), = deltas.items()
    if d != int(d):
        print("flowcmp: the times moved by %s s, not a whole number of seconds" % d,
              file=sys.stderr)
        return False
    print("shift: %d" % d)
    return True


if __name__ == "__main__":
    sys.exit(main())
