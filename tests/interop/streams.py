#!/usr/bin/env python3
"""Summarise TCP streams: read "PORT REPRO HEX" lines (pieces of streams, in order),
join the pieces per (PORT, REPRO) and print "PORT REPRO BYTES SHA256" per stream.

--complete BMP_PORTS BGP_PORTS: cut each stream after its last complete BMP or
  BGP message (ports comma-separated): a capture may end inside a message, and
  the replay never sends a partial one.
--append-bgp HEX: append HEX to the streams on BGP ports (the replay's Cease).
--sessions BMP_PORTS BGP_PORTS: each input line is one whole captured session:
  cut it to the messages the replay sends, from the first message boundary
  from which framing holds to the end, and its last complete message.  BGP
  sessions start at their first OPEN; --append-bgp applies to those whose last
  message is not a NOTIFICATION (the replay closes every BGP session with a
  Cease, whichever side ended it in the capture, unless the router already
  said goodbye).  Sessions are summarised one by one (not joined), sorted,
  empty ones left out: sessions of one exporter may overlap.
--connections: REPRO is "ADDRESS/PORT" (one connection); join per connection
  and summarise it as ADDRESS, sorted, to compare with --sessions.
"""
import argparse
import hashlib
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--complete", nargs=2, metavar=("BMP_PORTS", "BGP_PORTS"))
ap.add_argument("--append-bgp", default="")
ap.add_argument("--sessions", nargs=2, metavar=("BMP_PORTS", "BGP_PORTS"))
ap.add_argument("--connections", action="store_true")
args = ap.parse_args()

bmp_ports, bgp_ports = set(), set()
for pair in (args.complete, args.sessions):
    if pair:
        bmp_ports |= set(filter(None, pair[0].split(",")))
        bgp_ports |= set(filter(None, pair[1].split(",")))


def bmp_length(d, a):
    if d[a] != 3 or d[a + 5] > 6:
        return 0
    return int.from_bytes(d[a + 1:a + 5], "big")


def bgp_length(d, a):
    if d[a:a + 16] != b"\xff" * 16 or not 1 <= d[a + 18] <= 5:
        return 0
    return int.from_bytes(d[a + 16:a + 18], "big")


def complete_prefix(data, length_at, header):
    at = 0
    while len(data) - at >= header:
        n = length_at(data, at)
        if n < header or at + n > len(data):
            break
        at += n
    return data[:at]


def framed(data, length_at, header):
    """The messages from the first offset whose framing holds to the end."""
    for start in range(len(data)):
        at = start
        while len(data) - at >= header:
            n = length_at(data, at)
            if n < header:
                break
            at += n
        if len(data) - at < header or at >= len(data):
            return complete_prefix(data[start:], length_at, header)
    return b""


def last_type(data):
    """The type of a BGP stream's last message (0 for none)."""
    at, last = 0, 0
    while at + 19 <= len(data):
        n = bgp_length(data, at)
        if n < 19:
            break
        last, at = data[at + 18], at + n
    return last


def from_open(data):
    """A BGP session's messages from its first OPEN: nothing before it can be replayed."""
    at = 0
    while at + 19 <= len(data) and data[at + 18] != 1:
        at += bgp_length(data, at)
    return data[at:]


pieces = {}
for line in sys.stdin:
    fields = line.split()
    port, repro, hexdata = fields[:3]
    data = bytes.fromhex(hexdata)
    if args.sessions:
        if port in bmp_ports:
            data = framed(data, bmp_length, 6)
        elif port in bgp_ports:
            data = from_open(framed(data, bgp_length, 19))
            if data and last_type(data) != 3 and args.append_bgp:
                data += bytes.fromhex(args.append_bgp)
        if data:
            print(port, repro, len(data), hashlib.sha256(data).hexdigest())
        continue
    pieces.setdefault((port, repro), []).append(data)


for (port, repro), parts in pieces.items():
    data = b"".join(parts)
    if not args.complete:
        pass  # the stream as it is
    elif port in bmp_ports:
        data = complete_prefix(data, lambda d, a: int.from_bytes(d[a + 1:a + 5], "big"), 6)
    elif port in bgp_ports:
        data = complete_prefix(data, lambda d, a: int.from_bytes(d[a + 16:a + 18], "big"), 19)
    if port in bgp_ports and args.append_bgp and not args.sessions:
        data += bytes.fromhex(args.append_bgp)
    if args.connections:
        repro = repro.split("/")[0]
    print(port, repro, len(data), hashlib.sha256(data).hexdigest())
