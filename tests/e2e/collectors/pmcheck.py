#!/usr/bin/env python3
"""Compares what pmbmpd/pmbgpd (pmacct 1.7.7) or gobgpd decoded from a replay with what a capture holds.

Used by tests/e2e/test_pmbmpd.sh, test_pmbgpd.sh and test_gobgpd.sh.  The oracles are independent of
traffic-reproducer: the generator's --expect file (message types per exporter) and
tshark's decode of the capture (message types, BGP OPEN fields, and the prefixes of
every UPDATE, announced or withdrawn, in capture order).  The collector side is read
from its msglog (one JSON line per event, per prefix of an UPDATE) and from its daemon
log (debug lines per BMP message, OPEN and NOTIFICATION lines per BGP session).

  pmcheck.py bmp --debuglog F --msglog F --tshark PCAP --port N [--expect F] --map CAPTURED=REPRO...
  pmcheck.py bgp --daemonlog F --msglog F --tshark PCAP --port N [--expect F] --map CAPTURED=REPRO...
  pmcheck.py gobgp --log F --tshark PCAP --port N --map CAPTURED=REPRO... --adjin REPRO=FILE...
  pmcheck.py oracle PCAP --port N [--bmp]   (prints tshark's view, for debugging)

Exit 0 when everything matches, 1 with one line per difference otherwise.
"""
import argparse
import collections
import json
import re
import subprocess
import sys

BMP_TYPES = {0: "route_monitor", 1: "stats", 2: "peer_down", 3: "peer_up", 4: "init", 5: "term",
             6: "route_mirror", 100: "rpat"}
# msglog events that are exactly one line per message (stats is one line per counter,
# route monitoring one per prefix, rpat one per event).
BMP_ONE_LINE = ("init", "peer_up", "peer_down", "term")


def pairs_hook(pairs):
    """tshark -T json repeats keys inside one object ("BGP Prefix" twice): keep them all."""
    d = collections.OrderedDict()
    for k, v in pairs:
        if k in d:
            if not isinstance(d[k], list) or not getattr(d[k], "_dup", False):
                lst = DupList([d[k]])
                d[k] = lst
            d[k].append(v)
        else:
            d[k] = v
    return d


class DupList(list):
    _dup = True


def walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for v in node.values():
            walk(v, visit)
    elif isinstance(node, list):
        for v in node:
            walk(v, visit)


def one(v):
    return v[0] if isinstance(v, list) else v


def tshark_json(pcap, bmp_port):
    cmd = ["tshark", "-r", pcap, "-o", "gui.max_tree_depth:100000", "-T", "json", "-Y", "bgp || bmp"]
    if bmp_port:
        cmd[3:3] = ["-d", "tcp.port==%d,bmp" % bmp_port]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    return json.loads(out or b"[]", object_pairs_hook=pairs_hook)


def prefix_of(d):
    """('A'|'W', 'addr/len') for a tshark prefix subtree, or None for anything else."""
    for key, kind in (("bgp.nlri_prefix", "A"), ("bgp.mp_reach_nlri_ipv4_prefix", "A"),
                      ("bgp.mp_reach_nlri_ipv6_prefix", "A"), ("bgp.withdrawn_prefix", "W"),
                      ("bgp.mp_unreach_nlri_ipv4_prefix", "W"), ("bgp.mp_unreach_nlri_ipv6_prefix", "W")):
        if key in d and "bgp.prefix_length" in d:
            addr, plen = one(d[key]), int(one(d["bgp.prefix_length"]))
            # Labeled (VPN) NLRI: the length covers the label stack (3 bytes a label) and the RD.
            if "bgp.label_stack" in d:
                plen -= 24 * max(1, len([x for x in str(one(d["bgp.label_stack"])).split() if x.isdigit()]))
            if "bgp.rd" in d:
                plen -= 64
            return kind, "%s/%d" % (addr, plen)
    return None


def capture(pcap, port, bmp):
    """Per exporter address: BMP type counts, BGP type counts, prefix sequence."""
    res = collections.defaultdict(lambda: {"bmp": collections.Counter(), "bgp": collections.Counter(),
                                           "prefixes": []})
    for pkt in tshark_json(pcap, port if bmp else None):
        layers = pkt["_source"]["layers"]
        ip = one(layers.get("ip") or layers.get("ipv6"))
        src = one(ip.get("ip.src") or ip.get("ipv6.src"))
        tcp = one(layers.get("tcp", {}))
        if int(one(tcp.get("tcp.dstport", -1))) != port:
            continue  # the collector's side of a captured session
        r = res[src]
        top = layers.get("bmp" if bmp else "bgp")
        if top is None:
            continue
        tops = top if isinstance(top, list) else [top]
        for t in tops:
            if bmp:
                r["bmp"][int(one(t["bmp.type"]))] += 1

        def visit(d):
            if "bgp.type" in d and not bmp:
                r["bgp"][int(one(d["bgp.type"]))] += 1
            p = prefix_of(d)
            if p:
                r["prefixes"].append(p)
        walk(tops, visit)
    return res


def cap4_as(pcap, port):
    """Per exporter: the AS of its OPEN, the 4-byte AS capability's when present."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "bgp.type == 1 && tcp.dstport == %d" % port, "-T", "fields",
                          "-e", "ip.src", "-e", "ipv6.src", "-e", "bgp.open.myas", "-e", "bgp.cap.4as",
                          "-e", "bgp.open.identifier"],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    res = {}
    for line in out.splitlines():
        f = line.split("\t")
        src = f[0] or f[1]
        asn = int((f[3] or f[2]).split(",")[0])
        res[src] = (asn, f[4].split(",")[0])
    return res


def expect_types(path):
    res = collections.defaultdict(collections.Counter)
    for line in open(path):
        d = json.loads(line)
        res[d["exporter"]][d["type"]] += 1
    return res


def msglog(path):
    lines = []
    for n, line in enumerate(open(path, errors="replace"), 1):
        line = line.strip("\0\n ")
        if not line:
            continue
        try:
            lines.append(json.loads(line))
        except ValueError:
            sys.exit("%s:%d: not JSON: %.80s" % (path, n, line))
    return lines


def parse_maps(maps):
    m = {}
    for s in maps:
        a, b = s.split("=", 1)
        m[a] = b
    return m


class Diff:
    def __init__(self):
        self.errors = []

    def eq(self, what, want, got):
        if want != got:
            self.errors.append("%s: want %s, got %s" % (what, want, got))

    def done(self, summary):
        for e in self.errors:
            print("MISMATCH: " + e, file=sys.stderr)
        if self.errors:
            return 1
        print(summary)
        return 0


def normal(x):
    """A msglog line without what differs between two deliveries of the same message."""
    drop = ("seq", "timestamp_arrival", "bmp_router", "bmp_router_port", "peer_ip_src", "peer_tcp_port")
    if x.get("event_type") in ("log_init", "log_close"):
        drop += ("timestamp",)
    return json.dumps({k: v for k, v in x.items() if k not in drop}, sort_keys=True)


def seq_diff(want, got):
    """A short description of where two prefix sequences part."""
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            return "first difference at #%d: want %s, got %s" % (i, a, b)
    return "%d prefixes wanted, %d got" % (len(want), len(got))


def check_bmp(a):
    maps = parse_maps(a.map)
    cap = capture(a.tshark, a.port, True)
    exp = expect_types(a.expect) if a.expect else None
    log = msglog(a.msglog)
    dbg = collections.defaultdict(collections.Counter)
    for line in open(a.debuglog, errors="replace"):
        m = re.search(r"\[([0-9a-fA-F.:]+)\] \[common\] type: .*\((\d+)\)\s*$", line)
        if m:
            dbg[m.group(1)][int(m.group(2))] += 1
    d = Diff()
    total = collections.Counter()
    for exporter, router in sorted(maps.items()):
        c = cap.get(exporter)
        if c is None:
            d.errors.append("tshark found no BMP from %s in %s" % (exporter, a.tshark))
            continue
        want = c["bmp"]
        if exp is not None:
            # The two oracles must agree before either is trusted.
            d.eq("%s: BMP types, generator vs tshark" % exporter, dict(exp[exporter]), dict(want))
        d.eq("%s -> %s: BMP messages per type decoded by pmbmpd" % (exporter, router),
             {BMP_TYPES.get(k, k): v for k, v in sorted(want.items())},
             {BMP_TYPES.get(k, k): v for k, v in sorted(dbg.get(router, {}).items())})
        mine = [x for x in log if x.get("bmp_router") == router]
        ev = collections.Counter(x.get("bmp_msg_type", x.get("event_type")) for x in mine)
        for t in BMP_ONE_LINE:
            num = [k for k, v in BMP_TYPES.items() if v == t][0]
            d.eq("%s -> %s: msglog %s lines" % (exporter, router, t), want.get(num, 0), ev.get(t, 0))
        d.eq("%s -> %s: sessions opened/closed in msglog" % (exporter, router), (1, 1),
             (ev.get("log_init", 0), ev.get("log_close", 0)))
        got = [("W" if x.get("log_type") == "withdraw" else "A", x.get("ip_prefix"))
               for x in mine if x.get("bmp_msg_type") == "route_monitor"]
        if not a.no_prefixes and got != c["prefixes"]:
            d.errors.append("%s -> %s: route monitoring prefixes differ from the capture's (%s)" %
                            (exporter, router, seq_diff(c["prefixes"], got)))
        total.update(want)
        total["prefixes"] += len(got)
    # pmbmpd fed the captured stream directly (from another address): every msglog line
    # of the replay, but for arrival times and the router's address and port, equal to its.
    same = parse_maps(a.same_as)
    for oracle, router in sorted(same.items()):
        want = [normal(x) for x in log if x.get("bmp_router") == oracle]
        got = [normal(x) for x in log if x.get("bmp_router") == router]
        if not want:
            d.errors.append("pmbmpd logged nothing for the oracle session from %s" % oracle)
        elif want != got:
            i = next((i for i, (w, g) in enumerate(zip(want, got)) if w != g), min(len(want), len(got)))
            d.errors.append("%s: pmbmpd logged %d lines for the replay, %d for the captured stream fed "
                            "directly (%s); first difference at line #%d:\n  want %s\n  got  %s" %
                            (router, len(got), len(want), oracle, i, want[i] if i < len(want) else None,
                             got[i] if i < len(got) else None))
        total["oracle lines"] += len(want)
    if not a.allow_other:
        others = sorted(set(dbg) - set(maps.values()) - set(same))
        if others:
            d.errors.append("pmbmpd got BMP from unexpected routers %s" % others)
    return d.done("pmbmpd decoded per exporter what the capture holds: %s; %d route monitoring prefixes%s" %
                  (", ".join("%s %d" % (BMP_TYPES.get(k, k), v) for k, v in sorted(
                      (k, v) for k, v in total.items() if not isinstance(k, str))), total["prefixes"],
                   "; %d msglog lines equal to pmbmpd's own decode of the captured stream" % total["oracle lines"]
                   if same else ""))


def check_bgp(a):
    maps = parse_maps(a.map)
    cap = capture(a.tshark, a.port, False)
    opens = cap4_as(a.tshark, a.port)
    exp = expect_types(a.expect) if a.expect else None
    log = msglog(a.msglog)
    with open(a.daemonlog, "rb") as f:
        f.seek(a.daemonlog_from)
        dlog = f.read().decode(errors="replace").replace("\0", "")
    d = Diff()
    total = collections.Counter()
    for exporter, repro in sorted(maps.items()):
        c = cap.get(exporter)
        if c is None or exporter not in opens:
            d.errors.append("tshark found no BGP OPEN from %s in %s" % (exporter, a.tshark))
            continue
        if exp is not None:
            d.eq("%s: BGP types, generator vs tshark" % exporter, dict(exp[exporter]), dict(c["bgp"]))
            n_upd = exp[exporter].get(2, 0)
            n_pfx = sum(1 for k, _ in c["prefixes"] if k == "A")
            if a.records is not None:
                d.eq("%s: announced prefixes, generator (UPDATEs x records) vs tshark" % exporter,
                     n_upd * a.records, n_pfx)
        asn, ident = opens[exporter]
        # Session up: pmbgpd names a peer by its BGP identifier once the OPEN is in.
        up = re.findall(r"\[%s\] BGP_OPEN: Local AS: (\d+) Remote AS: (\d+)" % re.escape(ident), dlog)
        d.eq("%s -> %s: OPENs accepted by pmbgpd (identifier %s, AS %d)" % (exporter, repro, ident, asn),
             [(str(asn), str(asn))], up)
        cease = len(re.findall(r"\[%s\] BGP_NOTIFICATION received \(6, 2\)" % re.escape(ident), dlog))
        d.eq("%s -> %s: Cease (6/2) NOTIFICATIONs received by pmbgpd" % (exporter, repro), 1, cease)
        ka = len(re.findall(r"\[%s\] BGP_KEEPALIVE received" % re.escape(ident), dlog))
        if ka < c["bgp"].get(4, 0):
            d.errors.append("%s -> %s: pmbgpd received %d KEEPALIVEs, the capture holds %d" %
                            (exporter, repro, ka, c["bgp"].get(4, 0)))
        mine = [x for x in log if x.get("peer_ip_src") == repro]
        ev = collections.Counter(x.get("event_type") for x in mine)
        d.eq("%s -> %s: sessions opened/closed in msglog" % (exporter, repro), (1, 1),
             (ev.get("log_init", 0), ev.get("log_close", 0)))
        got = [("W" if x.get("log_type") == "withdraw" else "A", x.get("ip_prefix"))
               for x in mine if x.get("log_type") in ("update", "withdraw")]
        if got != c["prefixes"]:
            d.errors.append("%s -> %s: UPDATE prefixes differ from the capture's (%s)" %
                            (exporter, repro, seq_diff(c["prefixes"], got)))
        total["updates"] += c["bgp"].get(2, 0)
        total["prefixes"] += len(got)
        total["sessions"] += 1
    return d.done("pmbgpd: %d sessions up and closed by Cease, %d UPDATEs, %d prefixes in capture order" %
                  (total["sessions"], total["updates"], total["prefixes"]))


def check_gobgp(a):
    """gobgpd: each peer's Adj-RIB-In (gobgp neighbor ADDR adj-in -j, taken while the session
    was up) = the prefixes the capture's UPDATEs leave announced; the session went up, and
    down by the replay's Cease (its plain-text log)."""
    maps = parse_maps(a.map)
    files = parse_maps(a.adjin)
    cap = capture(a.tshark, a.port, False)
    log = open(a.log, errors="replace").read()
    d = Diff()
    total = collections.Counter()
    for exporter, repro in sorted(maps.items()):
        c = cap.get(exporter)
        if c is None:
            d.errors.append("tshark found no BGP from %s in %s" % (exporter, a.tshark))
            continue
        want = set()
        for kind, p in c["prefixes"]:
            (want.add if kind == "A" else want.discard)(p)
        rib = json.load(open(files[repro])) or {}
        got = set()
        for prefix, paths in rib.items():
            for path in paths:
                if path.get("neighbor-ip") != repro:
                    d.errors.append("%s: a path from %s in its Adj-RIB-In" % (repro, path.get("neighbor-ip")))
            got.add(prefix)
        if want != got:
            d.errors.append("%s -> %s: Adj-RIB-In differs from the capture's announcements: %d missing %s, "
                            "%d extra %s" % (exporter, repro, len(want - got), sorted(want - got)[:3],
                                             len(got - want), sorted(got - want)[:3]))
        key = re.escape(repro)
        d.eq("%s: Peer Up lines in gobgpd's log" % repro, 1,
             len(re.findall(r'msg="Peer Up" Key=%s ' % key, log)))
        d.eq("%s: Cease (6/2) notifications received by gobgpd" % repro, 1,
             len(re.findall(r'msg="received notification" Code=6 .*Key=%s Subcode=2 ' % key, log)))
        total["prefixes"] += len(got)
        total["sessions"] += 1
    return d.done("gobgpd: %d sessions up and closed by Cease, %d prefixes in Adj-RIB-In as announced" %
                  (total["sessions"], total["prefixes"]))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("bmp", "bgp"):
        s = sub.add_parser(name)
        s.add_argument("--msglog", required=True)
        s.add_argument("--tshark", required=True, metavar="PCAP")
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--expect")
        s.add_argument("--map", action="append", default=[], required=True)
        if name == "bmp":
            s.add_argument("--debuglog", required=True)
            s.add_argument("--allow-other", action="store_true")
            s.add_argument("--no-prefixes", action="store_true",
                           help="do not compare prefixes with tshark's (it names some AFI/SAFI differently)")
            s.add_argument("--same-as", action="append", default=[], metavar="ORACLE_ROUTER=ROUTER")
        else:
            s.add_argument("--daemonlog", required=True)
            s.add_argument("--records", type=int)
            s.add_argument("--daemonlog-from", type=int, default=0, metavar="BYTES",
                           help="read the daemon log from this offset (it names peers by BGP identifier, "
                                "which an earlier session may have used too)")
    s = sub.add_parser("gobgp")
    s.add_argument("--log", required=True)
    s.add_argument("--tshark", required=True, metavar="PCAP")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--map", action="append", default=[], required=True)
    s.add_argument("--adjin", action="append", default=[], required=True, metavar="REPRO=FILE")
    s = sub.add_parser("oracle")
    s.add_argument("pcap")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--bmp", action="store_true")
    a = p.parse_args()
    if a.cmd == "bmp":
        return check_bmp(a)
    if a.cmd == "bgp":
        return check_bgp(a)
    if a.cmd == "gobgp":
        return check_gobgp(a)
    for k, v in capture(a.pcap, a.port, a.bmp).items():
        print(k, dict(v["bmp"]), dict(v["bgp"]), len(v["prefixes"]), v["prefixes"][:5])
    return 0


if __name__ == "__main__":
    sys.exit(main())
