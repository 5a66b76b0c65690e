#!/usr/bin/env python3
"""Compare traffic-reproducer --info's JSON with counts taken independently: tshark's
dissectors (cflow, bmp, bgp) on the same capture, and/or tr-pcapgen's --expect oracle.

usage: info_check.py INFO_JSON PCAP [--flow-port P]... [--bmp-port P]... [--expect FILE]
                     [--no-tshark] [--no-bmp] [--follow-bmp PORT]

Compared, per exporter (the packets' source address):
  generic UDP: datagrams that are not NetFlow/IPFIX;
  NetFlow/IPFIX: messages, template / options template / data sets per version and domain
                 (v5: messages and flow records per engine);
  BMP: messages per type; route monitoring per monitored peer; prefixes per peer;
  BGP: messages per type per sender; prefixes per sender;
  --expect: flow records per exporter, version and domain; BMP/BGP messages per exporter and type.
Prefixes are compared as tshark reports them: IPv4 (classic NLRI and MP_REACH/UNREACH of
unicast, multicast, labelled, VPN) and IPv6 (unicast, multicast, labelled).  Peers or senders
whose messages tshark or --info found malformed, or that use ADD-PATH (negotiated or
guessed), are left out of the prefix comparison (tshark misreads ADD-PATH NLRI) and listed.  --no-bmp leaves BMP out of the
tshark comparison: tshark loses BMP sessions in raw captures whose keep-alive probes carry a
stale byte; --follow-bmp PORT counts them instead from tshark's follow,tcp of each session
(framed here from the first boundary two headers in a row confirm).  Exit 0 when all agree.
"""
import argparse
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict

BMP_TYPES = {"route_monitoring": 0, "statistics": 1, "peer_down": 2, "peer_up": 3,
             "initiation": 4, "termination": 5, "route_mirroring": 6,
             "route_policy_attr_trace": 100}
BGP_TYPES = {"open": 1, "update": 2, "notification": 3, "keepalive": 4, "route_refresh": 5}
PREFIX_FIELDS = {
    "bgp.nlri_prefix": "v4_announced", "bgp.mp_reach_nlri_ipv4_prefix": "v4_announced",
    "bgp.mp_reach_nlri_ipv6_prefix": "v6_announced",
    "bgp.withdrawn_prefix": "v4_withdrawn", "bgp.mp_unreach_nlri_ipv4_prefix": "v4_withdrawn",
    "bgp.mp_unreach_nlri_ipv6_prefix": "v6_withdrawn",
}


def our_prefixes(families):
    c = Counter()
    for f in families:
        if f["afi"] == 1 and f["safi"] in (1, 2, 4, 128, 129):
            c["v4_announced"] += f["announced"]
            c["v4_withdrawn"] += f["withdrawn"]
        elif f["afi"] == 2 and f["safi"] in (1, 2, 4):
            c["v6_announced"] += f["announced"]
            c["v6_withdrawn"] += f["withdrawn"]
    return +c


def peer_key(ptype, addr):
    # Loc-RIB has no peer address (tshark shows "::", --info "0.0.0.0").
    return (int(ptype), "" if int(ptype) == 3 else addr)


class Counts:
    """What both sides count: per exporter, per BMP peer (exporter, type, address), per BGP sender."""
    def __init__(self):
        self.flows = defaultdict(Counter)
        self.udp_generic = Counter()
        self.bmp_types = defaultdict(Counter)
        self.bmp_rm = Counter()
        self.bmp_prefix = defaultdict(Counter)
        self.bmp_skip = set()
        self.bgp_types = defaultdict(Counter)
        self.bgp_prefix = defaultdict(Counter)
        self.bgp_skip = set()


class Ours(Counts):
    def __init__(self, d):
        super().__init__()
        self.records = Counter()
        for e in d["exporters"]:
            a = e["address"]
            if e["udp_generic"]["packets"]:
                self.udp_generic[a] = e["udp_generic"]["packets"]
            for dom in e["flows"]["domains"]:
                if dom["version"] == 5:
                    key = (a, 5, dom["engine_type"] << 8 | dom["engine_id"])
                    self.flows[key] = Counter({"messages": dom["messages"], "records": dom["records"]})
                    self.records[key] += dom["records"]
                else:
                    key = (a, dom["version"], dom["domain"])
                    self.flows[key] = Counter({k: dom[k] for k in
                                               ("messages", "template_sets", "options_template_sets", "data_sets")})
                    self.records[key] += dom["data_records"]
            for s in e["bmp"]:
                for name, n in s["messages"].items():
                    if name in BMP_TYPES and n:
                        self.bmp_types[a][BMP_TYPES[name]] += n
                for p in s["peers"]:
                    k = (a,) + peer_key(p["type_code"], p["address"])
                    self.bmp_rm[k] += p["messages"]["route_monitoring"]
                    self.bmp_prefix[k] += our_prefixes(p["prefixes"])
                    if p["malformed"] or any(f["add_path"] or f["add_path_guessed"] for f in p["prefixes"]):
                        self.bmp_skip.add(k)
            for s in e["bgp"]:
                sides = [(a, s)]
                if s["collector_side"]:
                    sides.append((s["collector"], s["collector_side"]))
                for sender, side in sides:
                    for name, n in side["messages"].items():
                        if name in BGP_TYPES and n:
                            self.bgp_types[sender][BGP_TYPES[name]] += n
                    self.bgp_prefix[sender] += our_prefixes(side["prefixes"])
                    if any(f["add_path"] or f["add_path_guessed"] for f in side["prefixes"]):
                        self.bgp_skip.add(sender)
                if s["malformed"]:
                    self.bgp_skip.add(a)


class Tshark(Counts):
    def __init__(self, pcap, flow_ports, bmp_ports):
        super().__init__()
        cmd = ["tshark", "-r", pcap, "-o", "gui.max_tree_depth:100000", "-T", "pdml"]
        for p in flow_ports:
            cmd += ["-d", f"udp.port=={p},cflow"]
        for p in bmp_ports:
            cmd += ["-d", f"tcp.port=={p},bmp"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        for _, el in ET.iterparse(proc.stdout, events=("end",)):
            if el.tag == "packet":
                self.packet(el)
                el.clear()
        if proc.wait() != 0:
            sys.exit(f"tshark failed on {pcap}")

    @staticmethod
    def fields(el, name):
        return [f.get("show") for f in el.iter("field") if f.get("name") == name]

    def packet(self, pkt):
        src = None
        for f in pkt.iter("field"):
            if f.get("name") in ("ip.src", "ipv6.src"):
                src = f.get("show")
        bad = any(p.get("name") == "_ws.malformed" for p in pkt.iter("proto"))
        flow = False
        for proto in pkt.findall("proto"):
            name = proto.get("name")
            if name == "cflow":
                flow |= self.cflow(src, proto)
            elif name == "bmp":
                self.bmp(src, proto, bad)
            elif name == "bgp":
                self.bgp(src, proto, bad)
        if not flow and any(p.get("name") == "udp" for p in pkt.findall("proto")):
            self.udp_generic[src] += 1

    def cflow(self, src, proto):
        version = self.fields(proto, "cflow.version")
        if not version or int(version[0]) not in (5, 9, 10):
            return False
        v = int(version[0])
        if v == 5:
            dom = int(self.fields(proto, "cflow.engine_type")[0]) << 8 | int(self.fields(proto, "cflow.engine_id")[0])
            c = self.flows[(src, 5, dom)]
            c["messages"] += 1
            c["records"] += int(self.fields(proto, "cflow.count")[0])
            return True
        dom = int((self.fields(proto, "cflow.source_id") or self.fields(proto, "cflow.od_id"))[0])
        c = self.flows[(src, v, dom)]
        c["messages"] += 1
        tmpl, opt = (0, 1) if v == 9 else (2, 3)
        for sid in self.fields(proto, "cflow.flowset_id"):
            sid = int(sid)
            if sid == tmpl:
                c["template_sets"] += 1
            elif sid == opt:
                c["options_template_sets"] += 1
            elif sid >= 256:
                c["data_sets"] += 1
        return True

    def prefixes(self, proto):
        c = Counter()
        for f in proto.iter("field"):
            kind = PREFIX_FIELDS.get(f.get("name"))
            if kind:
                c[kind] += 1
        return c

    def bmp(self, src, proto, bad):
        t = int(self.fields(proto, "bmp.type")[0])
        self.bmp_types[src][t] += 1
        ptype = self.fields(proto, "bmp.peer.type")
        if not ptype:
            return
        addr = (self.fields(proto, "bmp.peer.ip.addr") or self.fields(proto, "bmp.peer.ipv6.addr") or [""])[0]
        k = (src,) + peer_key(ptype[0], addr)
        if t == 0:
            self.bmp_rm[k] += 1
            self.bmp_prefix[k] += self.prefixes(proto)
        if bad:
            self.bmp_skip.add(k)

    def bgp(self, src, proto, bad):
        for t in self.fields(proto, "bgp.type"):
            self.bgp_types[src][int(t)] += 1
        self.bgp_prefix[src] += self.prefixes(proto)
        if bad:
            self.bgp_skip.add(src)


def bmp_header(d, a):
    """The length of a plausible BMP message at d[a:], else 0."""
    if len(d) - a < 6 or d[a] != 3 or not (d[a + 5] <= 6 or d[a + 5] == 100):
        return 0
    n = int.from_bytes(d[a + 1:a + 5], "big")
    return n if n >= 6 else 0


def frame_bmp(d):
    """Message types in a BMP stream, framed from the first boundary two headers in a row confirm."""
    types, a, synced = Counter(), 0, False
    while a < len(d):
        n = bmp_header(d, a)
        if not synced:
            if n and (a + n >= len(d) or bmp_header(d, a + n)):
                synced = True
            else:
                a += 1
            continue
        if not n:
            synced = False
            a += 1
            continue
        if a + n > len(d):
            break
        types[d[a + 5]] += 1
        a += n
    return types


def follow_bmp(pcap, port):
    """BMP message types per exporter from tshark's follow,tcp of each session to port."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", f"tcp.dstport == {port} && tcp.len > 0", "-T", "fields",
                          "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src"],
                         capture_output=True, text=True, check=True).stdout
    senders = {}
    for line in out.splitlines():
        f = line.split("\t")
        senders.setdefault(f[0], f[1] or f[2])
    per = defaultdict(Counter)
    for stream, src in senders.items():
        text = subprocess.run(["tshark", "-r", pcap, "-q", "-z", f"follow,tcp,raw,{stream}"],
                              capture_output=True, text=True, check=True).stdout
        node0, sep, data = None, 0, []
        for line in text.splitlines():
            if line.startswith("Node 0: "):
                node0 = line.split()[2].rsplit(":", 1)[0].strip("[]")
            elif line.startswith("====="):
                sep += 1
            elif sep == 1 and re.fullmatch(r"\t?[0-9a-f]+", line):
                from_node1 = line.startswith("\t")
                if from_node1 == (node0 != src):
                    data.append(line.strip())
        per[src] += frame_bmp(bytes.fromhex("".join(data)))
    return per


class Report:
    def __init__(self):
        self.compared = Counter()
        self.errors = []

    def eq(self, what, ours, theirs):
        self.compared[what.split(" ")[0]] += 1
        if ours != theirs:
            self.errors.append(f"{what}: --info {ours} != {theirs}")


def compare_tshark(r, ours, ts, bmp=True):
    for src in sorted(set(ours.udp_generic) | set(ts.udp_generic)):
        r.eq(f"udp_generic {src} packets", ours.udp_generic[src], ts.udp_generic[src])
    for key in sorted(set(ours.flows) | set(ts.flows)):
        o, t = ours.flows.get(key, {}), ts.flows.get(key, Counter())
        for k in sorted(set(o) | set(t)):
            r.eq(f"flows {key} {k}", o.get(k, 0), t.get(k, 0))
    for src in sorted(set(ours.bmp_types) | set(ts.bmp_types)) if bmp else []:
        r.eq(f"bmp {src} types", dict(ours.bmp_types[src]), dict(ts.bmp_types[src]))
    for k in sorted(set(ours.bmp_rm) | set(ts.bmp_rm)) if bmp else []:
        r.eq(f"bmp_peer {k} route_monitoring", ours.bmp_rm[k], ts.bmp_rm[k])
        if k in ours.bmp_skip or k in ts.bmp_skip:
            print(f"--- prefixes of BMP peer {k} not compared (malformed or ADD-PATH)")
            continue
        r.eq(f"bmp_prefixes {k}", dict(ours.bmp_prefix[k]), dict(ts.bmp_prefix[k]))
    for src in sorted(set(ours.bgp_types) | set(ts.bgp_types)):
        r.eq(f"bgp {src} types", dict(ours.bgp_types[src]), dict(ts.bgp_types[src]))
        if src in ours.bgp_skip or src in ts.bgp_skip:
            print(f"--- prefixes of BGP sender {src} not compared (malformed or ADD-PATH)")
            continue
        r.eq(f"bgp_prefixes {src}", dict(ours.bgp_prefix[src]), dict(ts.bgp_prefix[src]))


def compare_expect(r, ours, path):
    records, msgs = Counter(), defaultdict(Counter)
    with open(path) as f:
        for line in f:
            e = json.loads(line)
            if "version" in e:
                records[(e["exporter"], e["version"], e["domain"])] += 1
            elif "type" in e:
                msgs[e["exporter"]][e["type"]] += 1
    for key in sorted(set(records) | set(k for k, v in ours.records.items() if v)):
        r.eq(f"expect_records {key}", ours.records.get(key, 0), records[key])
    for src in sorted(msgs):
        mine = ours.bmp_types.get(src, Counter()) + ours.bgp_types.get(src, Counter())
        r.eq(f"expect_messages {src}", dict(mine), dict(msgs[src]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("info")
    ap.add_argument("pcap")
    ap.add_argument("--flow-port", type=int, action="append", default=[])
    ap.add_argument("--bmp-port", type=int, action="append", default=[])
    ap.add_argument("--expect")
    ap.add_argument("--no-tshark", action="store_true")
    ap.add_argument("--no-bmp", action="store_true")
    ap.add_argument("--follow-bmp", type=int, metavar="PORT",
                    help="BMP messages per exporter from tshark's follow,tcp of each session to PORT")
    a = ap.parse_args()
    with open(a.info) as f:
        ours = Ours(json.load(f))
    r = Report()
    if not a.no_tshark:
        compare_tshark(r, ours, Tshark(a.pcap, a.flow_port, a.bmp_port), not a.no_bmp)
    if a.follow_bmp:
        per = follow_bmp(a.pcap, a.follow_bmp)
        for src in sorted(set(per) | set(ours.bmp_types)):
            r.eq(f"follow_bmp {src} types", dict(ours.bmp_types.get(src, {})), dict(per[src]))
    if a.expect:
        compare_expect(r, ours, a.expect)
    print("--- compared: " + ", ".join(f"{k} {v}" for k, v in sorted(r.compared.items())))
    for e in r.errors:
        print("MISMATCH " + e)
    sys.exit(1 if r.errors or not r.compared else 0)


if __name__ == "__main__":
    main()
