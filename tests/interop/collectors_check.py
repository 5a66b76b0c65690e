#!/usr/bin/env python3
"""Compares what real collectors decoded from a replay of -p output with its traffic-info.json.

Used by tests/interop/test_preproc_collectors.sh.  The expectation is the info JSON that -p
wrote next to the pcap (what the tool says the clean capture holds); the observation is
the collector's own decode of the replay: pmbmpd's debug log and msglog, pmbgpd's daemon
log and msglog, nfacctd's print plugin output, gobgpd's Adj-RIB-In.  The two must agree
exactly, per exporter (mapped to the address it was replayed from).

  collectors_check.py bmp   --info F --map CAPTURED=REPRO... --pcap F --port N --debuglog F --msglog F
  collectors_check.py bgp   --info F --map ... --pcap F --port N --daemonlog F --msglog F --rib-out F
  collectors_check.py flows --info F --map ... --records F
  collectors_check.py gobgp-conf --info F --map ... --as N --port N     (gobgpd.toml on stdout)
  collectors_check.py gobgp-wants --rib F       (the prefixes all Adj-RIB-Ins are to hold)
  collectors_check.py gobgp --rib F --monitor F

Exit 0 with a one-line summary when everything matches, 1 with one line per difference.
"""
import argparse
import collections
import ipaddress
import json
import re
import subprocess
import sys

# info JSON message counter names -> BMP type code (RFC 7854; 100 = RPAT, draft).
BMP_TYPES = {"route_monitoring": 0, "statistics": 1, "peer_down": 2, "peer_up": 3, "initiation": 4,
             "termination": 5, "route_mirroring": 6, "route_policy_attr_trace": 100}
# pmbmpd msglog bmp_msg_type of the types logged as exactly one line per message.
BMP_ONE_LINE = {"initiation": "init", "peer_up": "peer_up", "peer_down": "peer_down", "termination": "term"}
# info family -> gobgpd's afi-safi-name.
GOBGP_FAMILIES = {"ipv4-unicast": "ipv4-unicast", "ipv6-unicast": "ipv6-unicast",
                  "ipv4-vpn": "l3vpn-ipv4-unicast", "ipv6-vpn": "l3vpn-ipv6-unicast",
                  "ipv4-labeled-unicast": "ipv4-labelled-unicast", "ipv6-labeled-unicast": "ipv6-labelled-unicast"}


def addr(s):
    return str(ipaddress.ip_address(s))


def parse_maps(maps):
    return {addr(a): addr(b) for a, b in (m.split("=", 1) for m in maps)}


def msglog(path):
    out = []
    for n, line in enumerate(open(path, errors="replace"), 1):
        line = line.strip("\0\n ")
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            sys.exit("%s:%d: not JSON: %.80s" % (path, n, line))
    return out


class Diff:
    def __init__(self):
        self.errors = []
        self.notes = []

    def eq(self, what, want, got):
        if want != got:
            self.errors.append("%s: info says %s, collector decoded %s" % (what, want, got))

    def done(self, summary):
        for e in self.errors:
            print("MISMATCH: " + e, file=sys.stderr)
        if self.errors:
            return 1
        print(summary + "".join("; " + n for n in self.notes))
        return 0


def exporters(info, maps, key, d):
    """(address, repro, sessions) for every exporter of the info JSON with sessions of KEY
    (bmp | bgp); each must be mapped."""
    for e in info["exporters"]:
        a = addr(e["address"])
        sessions = e.get(key) or []
        if not sessions:
            continue
        if a not in maps:
            d.errors.append("exporter %s has %d %s sessions in the info JSON but is replayed from nowhere"
                            % (a, len(sessions), key))
            continue
        yield a, maps[a], sessions


def rd_str(dist):
    """An RFC 4364 route distinguisher (16 hex digits) as pmacct prints it: TYPE:ADMIN:ASSIGNED."""
    b = bytes.fromhex(dist)
    t = int.from_bytes(b[0:2], "big")
    if t == 0:
        return "0:%d:%d" % (int.from_bytes(b[2:4], "big"), int.from_bytes(b[4:8], "big"))
    if t == 1:
        return "1:%s:%d" % (ipaddress.IPv4Address(b[2:6]), int.from_bytes(b[6:8], "big"))
    return "%d:%d:%d" % (t, int.from_bytes(b[2:6], "big"), int.from_bytes(b[6:8], "big"))


def bmp_peer_key(p):
    """A monitored peer as the info JSON names it, in pmbmpd's terms: (peer type, peer
    address, RD or None).  The info JSON counts a peer's pre- and post-policy Adj-RIB-In and
    its Adj-RIB-Out (RFC 8671) as one peer, as this does."""
    rd = None
    if p["type_code"] != 0 and int(p["distinguisher"], 16) != 0:
        rd = rd_str(p["distinguisher"])
    return (p["type_code"], addr(p["address"]), rd)


def tcp_payloads(pcap, port):
    """Per TCP session to PORT of a clean capture (the -p output: no retransmission, no
    gap): (exporter address, its payload in sequence order), by tshark."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tcp.dstport == %d && tcp.len > 0" % port, "-T", "fields",
                          "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.seq_raw", "-e", "tcp.payload"],
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    streams = collections.defaultdict(list)
    src = {}
    for line in out.splitlines():
        f = line.split("\t")
        src[f[0]] = addr(f[1] or f[2])
        streams[f[0]].append((int(f[3]), bytes.fromhex(f[4])))
    return [(src[k], b"".join(p for _, p in sorted(v))) for k, v in streams.items()]


def nlri_count(b):
    """NLRI entries of a field without path identifiers (the length byte counts the bits of
    label stack and RD too, so this walks labelled and VPN NLRI alike)."""
    n = i = 0
    while i < len(b):
        i += 1 + (b[i] + 7) // 8
        n += 1
    return n


def update_fields(u):
    """A BGP UPDATE's body (after the header): withdrawn routes, (type, value) of each path
    attribute, NLRI."""
    wl = int.from_bytes(u[0:2], "big")
    al = int.from_bytes(u[2 + wl:4 + wl], "big")
    attrs, i, out = u[4 + wl:4 + wl + al], 0, []
    while i + 3 <= len(attrs):
        fl, at = attrs[i], attrs[i + 1]
        if fl & 0x10:
            alen, hl = int.from_bytes(attrs[i + 2:i + 4], "big"), 4
        else:
            alen, hl = attrs[i + 2], 3
        out.append((at, attrs[i + hl:i + hl + alen]))
        i += hl + alen
    return u[2:2 + wl], out, u[4 + wl + al:]


def bmp_no_nexthop(pcap, port):
    """Route monitoring prefixes announced in an MP_REACH_NLRI whose next hop holds no
    address (Loc-RIB, RFC 9069: locally originated routes), which pmbmpd 1.7.7 drops
    without a word: per exporter address, (peer address, peer or loc-rib) and (afi, safi).  Read from
    the capture here, by tshark's reassembly and a walk of the BMP and BGP framing."""
    res = collections.defaultdict(collections.Counter)
    for src, data in tcp_payloads(pcap, port):
        pos = 0
        while pos + 6 <= len(data):
            ln, t = int.from_bytes(data[pos + 1:pos + 5], "big"), data[pos + 5]
            m = data[pos:pos + ln]
            pos += max(ln, 6)
            if t != 0 or len(m) < 48 + 23:
                continue
            ptype, flags = m[6], m[7]
            ip = ipaddress.ip_address(m[16:32]) if ptype != 3 and flags & 0x80 else ipaddress.ip_address(m[28:32])
            _, attrs, _ = update_fields(m[48 + 19:48 + int.from_bytes(m[48 + 16:48 + 18], "big")])
            for at, v in attrs:
                # No next-hop address: a length of 0, or of 8 for VPN (the RD alone).
                if at == 14 and len(v) >= 5 and v[3] == (8 if v[2] == 128 else 0):
                    key = (str(ip), "loc-rib" if ptype == 3 else "peer")
                    res[(src,) + key][(int.from_bytes(v[0:2], "big"), v[2])] += nlri_count(v[5 + v[3]:])
    return res


def check_bmp(a):
    """Per exporter: BMP messages per type (pmbmpd's debug line per message) = the info's;
    one-line msglog types (init, peer up/down, term) = the info's; one log_init and one
    log_close per session.  Per monitored peer (type, address, RD): Peer Up and Peer Down
    lines = the info's.  Per peer address, Loc-RIB apart (pmbmpd's route monitoring lines
    carry no peer type, and the RD of the NLRI, not the peer's, for VPN prefixes): route
    monitoring prefix lines per AFI/SAFI, announced and withdrawn, = the info's, less the
    prefixes pmbmpd drops for want of a next-hop address (bmp_no_nexthop)."""
    info = json.load(open(a.info))
    maps = parse_maps(a.map)
    log = msglog(a.msglog)
    nonh = bmp_no_nexthop(a.pcap, a.port)
    dbg = collections.defaultdict(collections.Counter)
    for line in open(a.debuglog, errors="replace"):
        m = re.search(r"\[([0-9a-fA-F.:]+)\] \[common\] type: .*\((\d+)\)\s*$", line)
        if m:
            dbg[addr(m.group(1))][int(m.group(2))] += 1
    d = Diff()
    total = collections.Counter()
    routers = set()
    for exp, router, sessions in exporters(info, maps, "bmp", d):
        routers.add(router)
        want = collections.Counter()
        peers = collections.defaultdict(collections.Counter)
        groups = collections.defaultdict(collections.Counter)
        blind = set()
        for s in sessions:
            for k, v in s["messages"].items():
                want[k] += v
            if s["peer_messages_not_tracked"]:
                d.errors.append("%s: %d messages of peers the info JSON did not track: per-peer counts incomplete"
                                % (exp, s["peer_messages_not_tracked"]))
            for p in s["peers"]:
                pk = bmp_peer_key(p)
                gk = (pk[1], "loc-rib" if pk[0] == 3 else "peer")
                peers[pk]["peer_up"] += p["messages"]["peer_up"]
                peers[pk]["peer_down"] += p["messages"]["peer_down"]
                # pmbmpd decodes route monitoring for a peer address it has seen a Peer Up
                # for, whatever the RD or peer type: a peer's messages before its own Peer Up
                # are counted by both (and pmbmpd's dropping of a peer never seen up would show).
                bad = [f["family"] for f in p["prefixes"] if f["add_path"]]
                if bad or p["malformed"] or p["route_monitoring_with_trailing_data"]:
                    # ADD-PATH NLRI (Loc-RIB, RFC 9069) that pmbmpd 1.7.7 reads without path
                    # identifiers, or NLRI the info JSON itself could not parse: no exact count.
                    blind.add(gk)
                    d.notes.append("peer %s %s (%s): ADD-PATH %s, %d malformed, %d with trailing data: "
                                   "prefixes not compared" % (pk[1], pk[2], p["type"], bad or "none",
                                                             sum(m["count"] for m in p["malformed"]),
                                                             p["route_monitoring_with_trailing_data"]))
                for f in p["prefixes"]:
                    groups[gk][("update", f["afi"], f["safi"])] += f["announced"]
                    groups[gk][("withdraw", f["afi"], f["safi"])] += f["withdrawn"]
        other = want.pop("other", 0)
        if other:
            d.errors.append("%s: %d BMP messages of unknown types in the info JSON: not comparable" % (exp, other))
        d.eq("%s -> %s: BMP messages per type (pmbmpd debug log)" % (exp, router),
             {k: v for k, v in sorted(want.items()) if v},
             {k: dbg[router][BMP_TYPES[k]] for k in sorted(want) if dbg[router][BMP_TYPES[k]]})
        unknown = set(dbg[router]) - set(BMP_TYPES.values())
        if unknown:
            d.errors.append("%s -> %s: pmbmpd decoded BMP types %s the info JSON does not count" % (exp, router, unknown))
        mine = [x for x in log if x.get("bmp_router") == router]
        ev = collections.Counter(x.get("bmp_msg_type", x.get("event_type")) for x in mine)
        for k, t in BMP_ONE_LINE.items():
            d.eq("%s -> %s: msglog %s lines" % (exp, router, t), want[k], ev[t])
        d.eq("%s -> %s: sessions opened/closed in the msglog" % (exp, router),
             (len(sessions), len(sessions)), (ev["log_init"], ev["log_close"]))
        for gk in list(groups):
            for (afi, safi), n in nonh.get((exp,) + gk, {}).items():
                groups[gk][("update", afi, safi)] -= n
                total["no_nexthop"] += n
        got = collections.defaultdict(collections.Counter)
        gotg = collections.defaultdict(collections.Counter)
        for x in mine:
            t = x.get("bmp_msg_type")
            if t in ("peer_up", "peer_down"):
                rd = x.get("rd") if x.get("rd_origin", "bmp") == "bmp" else None
                got[(x.get("peer_type"), addr(x["peer_ip"]), rd)][t] += 1
            elif t == "route_monitor":
                gk = (addr(x["peer_ip"]), "loc-rib" if x.get("is_loc") else "peer")
                gotg[gk][(x.get("log_type"), x.get("afi"), x.get("safi"))] += 1
        for pk in sorted(set(peers) | set(got), key=str):
            w, g = peers.get(pk, collections.Counter()), got.get(pk, collections.Counter())
            what = "%s -> %s: peer %s" % (exp, router, pk)
            d.eq(what + ": Peer Up lines", w["peer_up"], g["peer_up"])
            d.eq(what + ": Peer Down lines", w["peer_down"], g["peer_down"])
            total["peers"] += 1
        for gk in sorted(set(groups) | set(gotg), key=str):
            wp = {k: v for k, v in groups.get(gk, {}).items() if v}
            gp = {k: v for k, v in gotg.get(gk, {}).items() if v}
            if gk in blind:
                total["blind"] += 1
                continue
            d.eq("%s -> %s: peer address %s %s: route monitoring prefixes (log_type, afi, safi)"
                 % (exp, router, gk[0], gk[1]), wp, gp)
            total["prefixes"] += sum(gp.values())
            total["groups"] += 1
        total.update({k: want[k] for k in want})
        total["sessions"] += len(sessions)
    others = sorted(set(dbg) - routers)
    if others:
        d.errors.append("pmbmpd got BMP from routers the info JSON has no BMP for: %s" % others)
    return d.done("pmbmpd: %d sessions, %s messages (%s) = info; Peer Up/Down of %d monitored peers = info; "
                  "%d route monitoring prefixes (of %d peer addresses; %d not comparable) = info - %d announced with no next hop"
                  % (total["sessions"], sum(total[k] for k in BMP_TYPES),
                     ", ".join("%s %d" % (k, total[k]) for k in BMP_TYPES if total[k]),
                     total["peers"], total["prefixes"], total["groups"], total["blind"], total["no_nexthop"]))


BGP_FAMILY_NAMES = {(1, 1): "ipv4-unicast", (2, 1): "ipv6-unicast", (1, 4): "ipv4-labeled-unicast",
                    (2, 4): "ipv6-labeled-unicast", (1, 128): "ipv4-vpn", (2, 128): "ipv6-vpn"}


def nlri_keys(afi, safi, b):
    """The prefixes of an NLRI field without path identifiers, as "RD PREFIX" keys in the
    form gobgp_key gives them ("-" for no RD)."""
    keys, i = [], 0
    while i < len(b):
        bits = b[i]
        n = (bits + 7) // 8
        f = b[i + 1:i + 1 + n]
        i += 1 + n
        rd = "-"
        if safi in (4, 128):
            # Labels until the bottom of the stack (or a withdrawal's 0x800000 / 0).
            while len(f) >= 3:
                lab, f, bits = f[:3], f[3:], bits - 24
                if lab[2] & 1 or lab in (b"\x80\x00\x00", b"\x00\x00\x00"):
                    break
        if safi == 128:
            r, f, bits = f[:8], f[8:], bits - 64
            rd = rd_str(r.hex())
        size = 4 if afi == 1 else 16
        keys.append("%s %s/%d" % (rd, ipaddress.ip_address(bytes(f).ljust(size, b"\0")[:size]), bits))
    return keys


def bgp_rib_from_pcap(pcap, port):
    """Per exporter address and family: the (RD, prefix) set its UPDATEs leave (announced,
    then withdrawn, in stream order), from the capture: tshark's reassembly and a walk of
    the BGP framing, independent of the tool's and the collectors' decoders.  Also the
    number of prefix announcements and withdrawals, to tell repeated prefixes."""
    ribs = collections.defaultdict(lambda: collections.defaultdict(set))
    counts = collections.defaultdict(collections.Counter)
    for src, data in tcp_payloads(pcap, port):
        pos = 0
        while pos + 19 <= len(data):
            ln, t = int.from_bytes(data[pos + 16:pos + 18], "big"), data[pos + 18]
            m = data[pos:pos + ln]
            pos += max(ln, 19)
            if t != 2:
                continue
            withdrawn, attrs, nlri = update_fields(m[19:])
            ops = [("W", 1, 1, withdrawn), ("A", 1, 1, nlri)]
            for at, v in attrs:
                if at == 14 and len(v) >= 5:
                    ops.append(("A", int.from_bytes(v[0:2], "big"), v[2], v[5 + v[3]:]))
                elif at == 15 and len(v) >= 3:
                    ops.insert(0, ("W", int.from_bytes(v[0:2], "big"), v[2], v[3:]))
            for kind, afi, safi, field in ops:
                fam = BGP_FAMILY_NAMES.get((afi, safi), "%d/%d" % (afi, safi))
                for k in nlri_keys(afi, safi, field):
                    (ribs[src][fam].add if kind == "A" else ribs[src][fam].discard)(k)
                    counts[(src, fam)][kind] += 1
    return ribs, counts


def check_bgp(a):
    """Per exporter: one OPEN accepted by pmbgpd per session (its daemon log names the session
    by BGP identifier and AS, which it mirrors), KEEPALIVEs received >= the info's,
    NOTIFICATIONs received = the info's (+ at most one Cease per session); msglog
    prefix lines per AFI/SAFI, announced and withdrawn, = the info's; one log_init and one
    log_close per session.  Writes, per replayed address and family, for the gobgpd check:
    the info's announced and withdrawn counts, and the Adj-RIB-In that the capture's UPDATEs
    (bgp_rib_from_pcap) and pmbgpd's decode of them (announcements minus withdrawals, in
    order) leave."""
    info = json.load(open(a.info))
    maps = parse_maps(a.map)
    log = msglog(a.msglog)
    dlog = open(a.daemonlog, "rb").read().decode(errors="replace").replace("\0", "")
    d = Diff()
    total = collections.Counter()
    by_id = collections.defaultdict(lambda: {"sessions": 0, "as": set(), "keepalive": 0, "notification": 0})
    rib = {}
    pribs, pcounts = bgp_rib_from_pcap(a.pcap, a.port)
    for exp, repro, sessions in exporters(info, maps, "bgp", d):
        want = collections.Counter()
        fams = {}
        for s in sessions:
            o = s["open"]
            if o is None:
                d.errors.append("%s: a BGP session without OPEN in the info JSON" % exp)
                continue
            b = by_id[o["bgp_id"]]
            b["sessions"] += 1
            b["as"].add(o["as"])
            b["keepalive"] += s["messages"]["keepalive"]
            b["notification"] += s["messages"]["notification"]
            for f in s["prefixes"]:
                want[("update", f["afi"], f["safi"])] += f["announced"]
                want[("withdraw", f["afi"], f["safi"])] += f["withdrawn"]
                fams[(f["afi"], f["safi"])] = f["family"]
                if f["add_path"]:
                    d.errors.append("%s: ADD-PATH %s: pmbgpd would not negotiate it" % (exp, f["family"]))
            total["updates"] += s["messages"]["update"]
            total["sessions"] += 1
        mine = [x for x in log if x.get("peer_ip_src") == repro]
        ev = collections.Counter(x.get("event_type") for x in mine)
        d.eq("%s -> %s: sessions opened/closed in the msglog" % (exp, repro),
             (len(sessions), len(sessions)), (ev["log_init"], ev["log_close"]))
        got = collections.Counter((x.get("log_type"), x.get("afi"), x.get("safi"))
                                  for x in mine if x.get("log_type") in ("update", "withdraw"))
        d.eq("%s -> %s: UPDATE prefixes (log_type, afi, safi)" % (exp, repro),
             {k: v for k, v in sorted(want.items()) if v}, {k: v for k, v in sorted(got.items()) if v})
        total["prefixes"] += sum(got.values())
        # What an Adj-RIB-In holds after these UPDATEs, by pmbgpd's decode of them.
        sets = collections.defaultdict(set)
        for x in mine:
            if x.get("log_type") not in ("update", "withdraw"):
                continue
            k = "%s %s" % (x.get("rd", "-"), x["ip_prefix"])
            fam = fams.get((x.get("afi"), x.get("safi")), "%s/%s" % (x.get("afi"), x.get("safi")))
            (sets[fam].add if x["log_type"] == "update" else sets[fam].discard)(k)
        rib[repro] = {"exporter": exp, "families": {},
                      "bgp_id": sessions[0]["open"]["bgp_id"] if sessions[0]["open"] else None}
        for fam in set(pribs[exp]) - set(fams.values()):
            fams[next((k for k, v in BGP_FAMILY_NAMES.items() if v == fam), fam)] = fam
        for (afi, safi), fam in fams.items():
            ann, wd = want[("update", afi, safi)], want[("withdraw", afi, safi)]
            rib[repro]["families"][fam] = {
                "info": [ann, wd], "pmbgpd": sorted(sets[fam]), "pcap": sorted(pribs[exp][fam]),
                "pcap_ops": [pcounts[(exp, fam)]["A"], pcounts[(exp, fam)]["W"]]}
    for ident, b in sorted(by_id.items()):
        asn = b["as"].pop() if len(b["as"]) == 1 else None
        up = re.findall(r"\[%s\] BGP_OPEN: Local AS: (\d+) Remote AS: (\d+)" % re.escape(ident), dlog)
        d.eq("BGP identifier %s: OPENs accepted by pmbgpd (AS %s)" % (ident, asn),
             [(str(asn), str(asn))] * b["sessions"], up)
        ka = len(re.findall(r"\[%s\] BGP_KEEPALIVE received" % re.escape(ident), dlog))
        if ka < b["keepalive"]:
            d.errors.append("BGP identifier %s: pmbgpd received %d KEEPALIVEs, the info JSON counts %d"
                            % (ident, ka, b["keepalive"]))
        # The replay ends a session the capture leaves open with a Cease (6/2); one the
        # capture closes (FIN) it closes so too, without NOTIFICATION.
        notes = re.findall(r"\[%s\] BGP_NOTIFICATION received \((\d+), (\d+)\)" % re.escape(ident), dlog)
        cease = sum(1 for n in notes if n == ("6", "2"))
        if not (b["notification"] <= len(notes) <= b["notification"] + b["sessions"]) or \
                len(notes) - cease > b["notification"]:
            d.errors.append("BGP identifier %s: pmbgpd received NOTIFICATIONs %s; the info JSON counts %d in "
                            "%d sessions (and the replay may add one Cease each)"
                            % (ident, notes, b["notification"], b["sessions"]))
        total["cease"] += cease
    others = sorted(set(x.get("peer_ip_src") for x in log) - set(rib))
    if others:
        d.errors.append("pmbgpd got BGP from peers the info JSON has no BGP for: %s" % others)
    json.dump(rib, open(a.rib_out, "w"), indent=1)
    return d.done("pmbgpd: %d sessions up (OPEN, AS), %d ended by the replay's Cease, %d prefixes of %d UPDATEs = info"
                  % (total["sessions"], total["cease"], total["prefixes"], total["updates"]))


def check_flows(a):
    """Per exporter: nfacctd's flow records (the sum of its flows counter over its print
    lines: records equal in every printed field share a line) = the info's data records
    of data templates.  Options templates' records (interface names, sampling) are not
    flows: nfacctd keeps them for itself and prints none (checked: 0 lines expected of them)."""
    info = json.load(open(a.info))
    maps = parse_maps(a.map)
    got = collections.Counter()
    for n, line in enumerate(open(a.records), 1):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if "flows" not in r:
            sys.exit("%s:%d: no flows counter (aggregate flows missing?)" % (a.records, n))
        got[addr(r["peer_ip_src"])] += r["flows"]
    d = Diff()
    total = collections.Counter()
    seen = set()
    for e in info["exporters"]:
        domains = e["flows"]["domains"]
        if not domains:
            continue
        exp = addr(e["address"])
        if exp not in maps:
            d.errors.append("exporter %s has flows in the info JSON but is replayed from nowhere" % exp)
            continue
        repro = maps[exp]
        seen.add(repro)
        want = 0
        for dm in domains:
            if dm["templates_not_tracked"] or dm["data_sets_without_template"]:
                d.errors.append("%s domain %d: %d templates not tracked, %d data sets without template: "
                                "the info JSON cannot say how many records are flows" %
                                (exp, dm["domain"], dm["templates_not_tracked"], dm["data_sets_without_template"]))
            flows = sum(t["data_records"] for t in dm["templates"] if t["kind"] == "data")
            opts = sum(t["data_records"] for t in dm["templates"] if t["kind"] != "data")
            if flows + opts != dm["data_records"]:
                d.errors.append("%s domain %d: the templates' records (%d) do not add up to the domain's (%d)"
                                % (exp, dm["domain"], flows + opts, dm["data_records"]))
            want += flows
            total["options"] += opts
            total["messages"] += dm["messages"]
        d.eq("%s -> %s: flow records (nfacctd flows counter)" % (exp, repro), want, got[repro])
        total["records"] += got[repro]
    others = sorted(set(got) - seen)
    if others:
        d.errors.append("nfacctd printed records from exporters the info JSON has no flows for: %s" % others)
    return d.done("nfacctd: %d flow records from %d messages = info's data-template records (%d options records, not flows)"
                  % (total["records"], total["messages"], total["options"]))


def gobgp_conf(a):
    """gobgpd.toml: one passive neighbor per replayed BGP exporter, its AS and families
    from its session's OPEN in the info JSON (a wrong AS or family fails the session)."""
    info = json.load(open(a.info))
    maps = parse_maps(a.map)
    d = Diff()
    out = ['[global.config]', '  as = %d' % a.asn, '  router-id = "127.0.0.1"', '  port = %d' % a.port,
           '  local-address-list = ["127.0.0.1"]']
    for exp, repro, sessions in exporters(info, maps, "bgp", d):
        o = sessions[0]["open"]
        out += ['[[neighbors]]', '  [neighbors.config]', '    neighbor-address = "%s"' % repro,
                '    peer-as = %d' % o["as"], '  [neighbors.transport.config]', '    passive-mode = true']
        fams = [c["family"] for c in o["capabilities"] if c["code"] == 1] or ["ipv4-unicast"]
        for f in fams:
            if f not in GOBGP_FAMILIES:
                sys.exit("%s: family %s has no gobgpd name here" % (exp, f))
            out += ['  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]',
                    '      afi-safi-name = "%s"' % GOBGP_FAMILIES[f]]
    if d.errors:
        return d.done("")
    print("\n".join(out))
    return 0


def gobgp_key(nlri):
    rd = nlri.get("rd")
    if not rd:
        return "- %s" % nlri["prefix"]
    return "%d:%s:%d %s" % (rd["type"], rd["admin"], rd["assigned"], nlri["prefix"])


def gobgp_family(nlri):
    """The info JSON's name of a path's family, from its NLRI as gobgp prints it."""
    v = "ipv6" if ":" in nlri["prefix"] else "ipv4"
    return v + ("-vpn" if nlri.get("rd") else "-labeled-unicast" if nlri.get("labels") else "-unicast")


def check_gobgp(a):
    """Per neighbor and family: the Adj-RIB-In that gobgpd's stream of received paths
    (gobgp monitor adj-in -j: each path as it enters the Adj-RIB-In, withdrawals too) leaves
    holds announced - withdrawn prefixes of the info JSON when that is well defined (the
    capture's UPDATEs, walked by bgp_rib_from_pcap, announce and withdraw as many prefixes
    as the info says and leave that many distinct ones), and in any case is the very
    (RD, prefix) set those UPDATEs leave, which pmbgpd's decode of the replay must leave
    too.  Every path comes from a neighbor the info JSON has a BGP session for, with its
    OPEN's identifier."""
    rib = json.load(open(a.rib))
    d = Diff()
    total = collections.Counter()
    got = collections.defaultdict(lambda: collections.defaultdict(set))
    ids = collections.defaultdict(set)
    for n, line in enumerate(open(a.monitor), 1):
        line = line.strip()
        if not line:
            continue
        try:
            paths = json.loads(line)
        except ValueError:
            sys.exit("%s:%d: not JSON: %.80s" % (a.monitor, n, line))
        for p in paths if isinstance(paths, list) else [paths]:
            nb = addr(p["neighbor-ip"])
            ids[nb].add(p.get("source-id"))
            fam = gobgp_family(p["nlri"])
            (got[nb][fam].discard if p.get("withdrawal") else got[nb][fam].add)(gobgp_key(p["nlri"]))
    others = sorted(set(got) - set(rib))
    if others:
        d.errors.append("gobgpd received paths from neighbors the info JSON has no BGP for: %s" % others)
    for repro, r in sorted(rib.items()):
        if r["families"] and ids.get(repro, {r["bgp_id"]}) != {r["bgp_id"]}:
            d.errors.append("%s: paths with source identifiers %s, the OPEN's is %s" % (repro, ids[repro], r["bgp_id"]))
        for fam in sorted(set(r["families"]) | set(got[repro])):
            w = r["families"].get(fam, {"info": [0, 0], "pmbgpd": [], "pcap": [], "pcap_ops": [0, 0]})
            want, g = set(w["pcap"]), got[repro][fam]
            what = "%s -> %s %s" % (r["exporter"], repro, fam)
            left = w["info"][0] - w["info"][1]
            if w["pcap_ops"] != w["info"]:
                d.errors.append("%s: the capture's UPDATEs announce/withdraw %s prefixes, the info JSON %s"
                                % (what, w["pcap_ops"], w["info"]))
            elif len(want) == left:
                d.eq(what + ": Adj-RIB-In prefixes (gobgpd) vs announced - withdrawn", left, len(g))
            else:
                d.notes.append("%s %s: announced - withdrawn = %d but the UPDATEs leave %d distinct prefixes "
                               "(repeated or withdrawn unannounced): compared with those" % (repro, fam, left, len(want)))
            if want != g:
                d.errors.append("%s: Adj-RIB-In differs from what the capture's UPDATEs leave: %d missing %s, "
                                "%d extra %s" % (what, len(want - g), sorted(want - g)[:3], len(g - want),
                                                  sorted(g - want)[:3]))
            if set(w["pmbgpd"]) != want:
                d.errors.append("%s: pmbgpd's prefixes leave another set than the capture's UPDATEs: %d missing %s, "
                                "%d extra %s" % (what, len(want - set(w["pmbgpd"])), sorted(want - set(w["pmbgpd"]))[:3],
                                                  len(set(w["pmbgpd"]) - want), sorted(set(w["pmbgpd"]) - want)[:3]))
            total["prefixes"] += len(g)
            total["ribs"] += 1
        total["neighbors"] += 1
    return d.done("gobgpd: %d neighbors, %d Adj-RIB-Ins, %d prefixes = info's announced - withdrawn = "
                  "the set the capture's UPDATEs leave = pmbgpd's"
                  % (total["neighbors"], total["ribs"], total["prefixes"]))


def gobgp_wants(a):
    """The number of prefixes the Adj-RIB-Ins are to hold in all, for the test to wait on."""
    print(sum(len(w["pcap"]) for r in json.load(open(a.rib)).values() for w in r["families"].values()))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("gobgp-wants")
    s.add_argument("--rib", required=True)
    for name in ("bmp", "bgp", "flows", "gobgp-conf", "gobgp"):
        s = sub.add_parser(name)
        s.add_argument("--info", required=name != "gobgp")
        s.add_argument("--map", action="append", default=[], required=name != "gobgp")
        if name == "bmp":
            s.add_argument("--pcap", required=True, help="the -p output, for bmp_no_nexthop")
            s.add_argument("--port", type=int, required=True, help="its BMP collector port")
            s.add_argument("--debuglog", required=True)
            s.add_argument("--msglog", required=True)
        elif name == "bgp":
            s.add_argument("--pcap", required=True, help="the -p output, for bgp_rib_from_pcap")
            s.add_argument("--port", type=int, required=True, help="its BGP collector port")
            s.add_argument("--daemonlog", required=True)
            s.add_argument("--msglog", required=True)
            s.add_argument("--rib-out", required=True)
        elif name == "flows":
            s.add_argument("--records", required=True)
        elif name == "gobgp-conf":
            s.add_argument("--as", dest="asn", type=int, required=True)
            s.add_argument("--port", type=int, required=True)
        else:
            s.add_argument("--rib", required=True)
            s.add_argument("--monitor", required=True, help="gobgp monitor adj-in -j output")
    a = p.parse_args()
    return {"bmp": check_bmp, "bgp": check_bgp, "flows": check_flows, "gobgp-conf": gobgp_conf,
            "gobgp": check_gobgp, "gobgp-wants": gobgp_wants}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
