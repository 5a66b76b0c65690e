#!/usr/bin/env python3
"""A BMP session with a Peer Down and the Peer Up that follows it (tr-pcapgen has none):
Initiation, Peer Up, Route Monitoring, Peer Down, Route Monitoring, Peer Up, Route
Monitoring, one message per segment, 1 s apart.  Bodies are zeros: only framing and
types matter here.  With "restart", the exporter then connects again from the same port
(another initial sequence number) and sends an Initiation and a Route Monitoring.
Usage: bmp_peer_cycle.py OUT.pcap [restart]"""
import struct
import sys

def bmp(t, body=b""):
    return struct.pack("!BIB", 3, 6 + len(body), t) + body
peer = bytes(42)
msgs = [bmp(4, struct.pack("!HH", 2, 4) + b"test"), bmp(3, peer + bytes(20)), bmp(0, peer + bytes(19)),
        bmp(2, peer + b"\x04"), bmp(0, peer + bytes(19)), bmp(3, peer + bytes(20)), bmp(0, peer + bytes(19))]
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
    frame(1700000001 + i, 0x18, seq, m); seq += len(m)
if len(sys.argv) > 2 and sys.argv[2] == "restart":
    seq = 900000
    frame(1700000100, 0x02, seq, b""); seq += 1
    for i, m in enumerate([msgs[0], msgs[2]]):
        frame(1700000101 + i, 0x18, seq, m); seq += len(m)
