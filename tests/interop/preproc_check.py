#!/usr/bin/env python3
"""Checks for -p outputs (tests/interop/test_preproc.sh, tests/e2e/test_preproc.sh).

expert IN OUT [tshark -d options...]
    tshark's expert info of the output has no warning and no error but BGP/BMP
    content errors that tshark also reports for the input (its dissector's limits
    on the captured messages, which -p passes on as they are).
timing OUT [tshark -d options...]
    The retiming rules, on the exporters' frames: a segment that holds a BMP Peer Down,
    or the Peer Up that follows one in its session, starts with it and comes at least
    5 s after the frame before; the frame after a segment that ends with a BGP OPEN
    comes at least 1 s after it.
count OUT INFO_JSON BMP_PORTS [UDP_PORTS]
    BMP/BGP messages and NetFlow/IPFIX datagrams tshark decodes in the output equal
    the info JSON's totals and pcap_processing messages_kept.
"""
import json
import re
import subprocess
import sys


def expert(pcap, dec):
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "expert"] + dec,
                         capture_output=True, text=True, check=True).stdout
    sev, rows = None, []
    for line in out.splitlines():
        m = re.match(r"^(Errors|Warns|Notes|Chats) \(\d+\)", line)
        if m:
            sev = m.group(1)
            continue
        m = re.match(r"^\s+(\d+)\s+(\S+)\s+(\S+)\s+(.*)$", line)
        if m and sev and m.group(1).isdigit():
            rows.append((sev, m.group(2), m.group(3), m.group(4).strip()))
    return rows


def cmd_expert(inp, outp, dec):
    seen = {(g, p, s) for sev, g, p, s in expert(inp, dec)}
    bad = []
    for sev, g, p, s in expert(outp, dec):
        if sev not in ("Errors", "Warns"):
            continue
        if sev == "Errors" and g == "Malformed" and p in ("BGP", "BMP") and (g, p, s) in seen:
            continue
        bad.append(f"{sev}: {g} {p} {s}")
    for b in bad:
        print(b)
    return 1 if bad else 0


def tshark_count(pcap, dec, filt, field):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", filt, "-T", "fields", "-e", field] + dec,
                         capture_output=True, text=True, check=True).stdout
    return sum(len([x for x in line.split(",") if x]) for line in out.splitlines())


def cmd_count(outp, info, bmp_ports, udp_ports):
    d = json.load(open(info))
    dec = [x for p in bmp_ports.split(",") if p for x in ("-d", f"tcp.port=={p},bmp")]
    dec += [x for p in udp_ports.split(",") if p for x in ("-d", f"udp.port=={p},cflow")]
    secs = d["pcap_processing"]["sections"]
    got = {
        "bmp": tshark_count(outp, dec, "bmp", "bmp.type"),
        # The exporter's side: -p also keeps the collector's OPEN (from port 179).
        "bgp": tshark_count(outp, dec, "bgp && !bmp && tcp.srcport != 179", "bgp.type"),
        "ipfix": tshark_count(outp, dec, "cflow", "cflow.version"),
    }
    want_info = {"bmp": d["totals"]["bmp_messages"], "bgp": d["totals"]["bgp_messages"],
                 "ipfix": d["totals"]["flow_messages"]}
    rc = 0
    for k in ("bmp", "bgp", "ipfix"):
        kept = secs.get(k, {}).get("messages_kept", 0)
        if not (got[k] == want_info[k] == kept):
            print(f"{k}: tshark {got[k]}, info {want_info[k]}, messages_kept {kept}")
            rc = 1
    print(f"--- messages: tshark {got}, info {want_info}")
    return rc


def cmd_timing(outp, dec):
    out = subprocess.run(["tshark", "-r", outp, "-Y", "tcp.len > 0 && tcp.srcport > 1790", "-T", "fields",
                          "-E", "separator=/t", "-e", "tcp.stream", "-e", "frame.time_delta_displayed",
                          "-e", "bmp.type", "-e", "bgp.type", "-e", "bmp.peer.type",
                          "-e", "bmp.peer.distinguisher", "-e", "bmp.peer.ip.addr",
                          "-e", "bmp.peer.ipv6.addr"] + dec,
                         capture_output=True, text=True, check=True).stdout
    bad, down, n_bmp, n_open, after_open = [], set(), 0, 0, False
    for i, line in enumerate(out.splitlines()):
        f = line.split("\t") + [""] * 8
        stream, delta = f[0], float(f[1] or 0)
        # A Peer Down/Up starts its segment: the segment's first per-peer header is its peer's.
        peer = (stream,) + tuple(x.split(",")[0] for x in f[4:8])
        bmp = [t for t in f[2].split(",") if t]
        bgp = [t for t in f[3].split(",") if t]
        if after_open:
            n_open += 1
            if delta < 1:
                bad.append(f"segment {i}: {delta} s after a BGP OPEN")
        after_open = not bmp and bgp[-1:] == ["1"]
        for j, t in enumerate(bmp):
            if t == "2" or (t == "3" and peer in down):
                n_bmp += 1
                if j != 0 or delta < 5:
                    bad.append(f"segment {i}: BMP type {t} at position {j}, {delta} s after the frame before")
                if t == "2":
                    down.add(peer)
                else:
                    down.discard(peer)
            elif t == "3" and j == 0 and delta >= 5 and i > 0:
                bad.append(f"segment {i}: a Peer Up of a peer that was not down, {delta} s after the frame before")
    for b in bad[:10]:
        print(b)
    print(f"--- timing: {n_bmp} Peer Down/Up after 5 s, {n_open} segments 1 s after an OPEN")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "timing":
        sys.exit(cmd_timing(sys.argv[2], sys.argv[3:]))
    if sys.argv[1] == "expert":
        sys.exit(cmd_expert(sys.argv[2], sys.argv[3], sys.argv[4:]))
    if sys.argv[1] == "count":
        sys.exit(cmd_count(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else ""))
    sys.exit(__doc__)
