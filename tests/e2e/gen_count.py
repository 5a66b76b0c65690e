#!/usr/bin/env python3
"""Flow records a collector decoded, per exporter, against generate's --expect oracle.

usage: gen_count.py EXPECT.json nfacctd|nfdump DECODED.json

nfacctd: one JSON object a line (peer_ip_src; `flows` counts records folded
into one line when the aggregate has it); nfdump: a JSON list (ip4_router or
ip6_router).  The exporters are the oracle's repro addresses, as the replay
sends them.  Prints the totals; exits 1 on any difference.
"""
import collections
import json
import sys


def decoded(kind, path):
    counts = collections.Counter()
    if kind == "nfacctd":
        for line in open(path):
            if line.strip():
                r = json.loads(line)
                counts[r["peer_ip_src"]] += int(r.get("flows", 1))
    else:
        for r in json.load(open(path)):
            counts[r.get("ip6_router", r.get("ip4_router"))] += 1
    return counts


def main():
    expect = json.load(open(sys.argv[1]))
    got = decoded(sys.argv[2], sys.argv[3])
    want = collections.Counter()
    for e in expect["per_exporter"]:
        want[e["repro"]] += e["flows"]
    bad = [(a, want[a], got[a]) for a in sorted(set(want) | set(got)) if want[a] != got[a]]
    print("expected %d flow records from %d exporters, %s decoded %d from %d"
          % (sum(want.values()), len(want), sys.argv[2], sum(got.values()), len(got)))
    for a, w, g in bad[:10]:
        print("  %s: expected %d, decoded %d" % (a, w, g))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
