#!/usr/bin/env python3
"""Turn `traffic-reproducer -n` output (the normalized config) into a plan the
interop test can act on without a YAML library:

    OPT keep_open true|false     OPT no_sync true|false
    OPT sequence continue|as-captured (the ipfix section's)
    ADDR <address to put on the namespace's loopback>
    MAP <src_ip> <repro_ip>
    UDP <section> <collector port> <dport,dport,...>
    TCP <section> <collector port> <dport,dport,...>
    PLAY <pcap path, in play order with repeats expanded>

It refuses (exit 3) selectors this test cannot turn into an expectation,
rather than expect the wrong thing.
"""
import ipaddress
import re
import sys

UDP_SECTIONS = ("ipfix", "udp_generic")
TCP_SECTIONS = ("bmp", "bgp", "tcp_generic")

lines = sys.stdin.read().splitlines()
top = None
sub = []
pcaps, maps, opts = [], [], {}
sections = {}
repeat = {"count": None, "pattern": "round-robin"}
entry = {}

for raw in lines:
    if not raw.strip():
        continue
    indent = len(raw) - len(raw.lstrip(" "))
    text = raw.strip()
    if indent == 0:
        top, sub = text.split(":", 1)[0], []
        value = text.split(":", 1)[1].strip()
        if top in ("keep_open", "no_sync"):
            opts[top] = value
        if top in UDP_SECTIONS + TCP_SECTIONS:
            sections[top] = {"dport": None, "ip": None, "port": None, "other": []}
        continue
    key = text.split(":", 1)[0].lstrip("- ").strip()
    value = text.split(":", 1)[1].strip() if ":" in text else ""
    if top == "pcap" and text.startswith("- "):
        pcaps.append(text[2:].strip().strip('"'))
    elif top == "repeat":
        if key == "count":
            repeat["count"] = [int(x) for x in re.findall(r"\d+", value)]
        elif key == "pattern":
            repeat["pattern"] = value.strip('"')
    elif top == "network" and key in ("src_ip", "repro_ip"):
        entry[key] = value.strip('"')
        if "src_ip" in entry and "repro_ip" in entry:
            maps.append((entry["src_ip"], entry["repro_ip"]))
            entry = {}
    elif top in sections:
        sec = sections[top]
        sub = sub[: indent // 2 - 1] + [key]
        path = ".".join(sub)
        if top == "ipfix" and path == "sequence":
            opts["sequence"] = value
        elif path.endswith("dport") and "select" in path:
            sec["dport"] = re.findall(r"\d+", value)
        elif path == "collector.ip":
            sec["ip"] = value.strip('"')
        elif path == "collector.port":
            sec["port"] = value
        elif "select" in path and value and path not in ("select.udp", "select.tcp"):
            sec["other"].append(path)

play = []
counts = repeat["count"]
if counts is None:
    play = list(pcaps)
elif repeat["pattern"] == "bulk":
    for p, c in zip(pcaps, counts):
        play += [p] * c
else:
    left = list(counts)
    while any(left):
        for i, p in enumerate(pcaps):
            if left[i]:
                play.append(p)
                left[i] -= 1

addrs = {repro for _, repro in maps}
for name, sec in sections.items():
    try:
        ipaddress.ip_address(sec["ip"])
        addrs.add(sec["ip"])
    except ValueError:
        pass  # a name such as localhost: the namespace's loopback already answers it

for k, v in opts.items():
    print("OPT", k, v)
for a in sorted(addrs):
    print("ADDR", a)
for s, r in maps:
    print("MAP", s, r)
for name, sec in sections.items():
    if sec["other"] or not sec["dport"]:
        print(f"corpus_plan: {name}: selectors {sec['other'] or 'without a dport'} "
              "are not handled by this test", file=sys.stderr)
        sys.exit(3)
    kind = "UDP" if name in UDP_SECTIONS else "TCP"
    print(kind, name, sec["port"], ",".join(sec["dport"]))
for p in play:
    print("PLAY", p)
