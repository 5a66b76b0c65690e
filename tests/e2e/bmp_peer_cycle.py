#!/usr/bin/env python3
"""A BMP session with a Peer Down and the Peer Up that follows it (tr-pcapgen has none):
Initiation, Peer Up, Route Monitoring, Peer Down, Route Monitoring, Peer Up, Route
Monitoring, one message per segment, 1 s apart.  Bodies are zeros: only framing and
types matter here.  With "restart", the exporter then connects again from the same port
(another initial sequence number) and sends an Initiation and a Route Monitoring.
With "two-peers", two monitored peers (10.0.0.1, 10.0.0.2) go down and come back up in
the other order: Initiation, Peer Up 1, Peer Up 2, Peer Down 1, Peer Down 2, Peer Up 2,
Route Monitoring 2, Peer Up 1 (each Peer Down and each Peer Up after it needs its delay).
With "big", the Route Monitoring after the first Peer Up is 100,000 bytes (more than one
frame can carry; captured in 1,400-byte segments).
Usage: bmp_peer_cycle.py OUT.pcap [restart|two-peers|big]"""
import struct
import sys

def bmp(t, body=b""):
    return struct.pack("!BIB", 3, 6 + len(body), t) + body
peer = bytes(42)
def peer_of(last_octet):
    return bytes(22) + bytes([10, 0, 0, last_octet]) + bytes(16)
msgs = [bmp(4, struct.pack("!HH", 2, 4) + b"test"), bmp(3, peer + bytes(20)), bmp(0, peer + bytes(19)),
        bmp(2, peer + b"\x04"), bmp(0, peer + bytes(19)), bmp(3, peer + bytes(20)), bmp(0, peer + bytes(19))]
mode = sys.argv[2] if len(sys.argv) > 2 else ""
if mode == "two-peers":
    p1, p2 = peer_of(1), peer_of(2)
    msgs = [msgs[0], bmp(3, p1 + bytes(20)), bmp(3, p2 + bytes(20)), bmp(2, p1 + b"\x04"), bmp(2, p2 + b"\x04"),
            bmp(3, p2 + bytes(20)), bmp(0, p2 + bytes(19)), bmp(3, p1 + bytes(20))]
if mode == "big":
    msgs[2] = bmp(0, peer + bytes(100000 - 6 - len(peer)))
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
def frame(ts, flags, seq, payload):
    tcp = struct.pack("!HHIIBBHHH", 40000, 1790, seq, 1, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0, bytes([192, 0, 2, 9]), bytes([192, 0, 2, 200]))
    eth = b"\x02\x00\xc0\x00\x02\xc8\x02\x00\xc0\x00\x02\x09\x08\x00"
    f = eth + ip + tcp
    out.write(struct.pack("<IIII", ts, 0, len(f), len(f)) + f)
seq = 1000
frame(1700000000, 0x02, seq, b""); seq += 1
for i, m in enumerate(msgs):
    for off in range(0, len(m), 1400):
        frame(1700000001 + i, 0x18, seq, m[off:off + 1400]); seq += len(m[off:off + 1400])
if mode == "restart":
    seq = 900000
    frame(1700000100, 0x02, seq, b""); seq += 1
    for i, m in enumerate([msgs[0], msgs[2]]):
        frame(1700000101 + i, 0x18, seq, m); seq += len(m)
