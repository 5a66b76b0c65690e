#!/usr/bin/env python3
"""pcap_port_move.py IN OUT --port P --after N --to Q

Make a capture continue a TCP session from another port, mid-stream, as the
older tool's segmented captures do (ipfix-bmp-scenario parts 7 and 8): from
the Nth segment with payload sent from port P on, that side's segments (and
the other side's to P) use port Q instead, with no SYN.  The byte stream
itself is unchanged, so a replay that keeps the router's feed on one
connection delivers exactly the original stream.

Classic pcap, Ethernet, IPv4 or IPv6, as tr-pcapgen writes it; TCP
checksums are recomputed so that tshark reads the result cleanly.
"""
import argparse
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_fix(ip_src, ip_dst, tcp):
    pseudo = ip_src + ip_dst + struct.pack("!BBH", 0, 6, len(tcp)) if len(ip_src) == 4 else \
        ip_src + ip_dst + struct.pack("!IxxxB", len(tcp), 6)
    tcp = tcp[:16] + b"\0\0" + tcp[18:]
    return tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--after", type=int, required=True)
    ap.add_argument("--to", type=int, required=True)
    a = ap.parse_args()

    data = open(a.inp, "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out = bytearray(data[:24])
    off, seen, moved = 24, 0, 0
    while off + 16 <= len(data):
        ts1, ts2, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = bytearray(data[off + 16:off + 16 + incl])
        off += 16 + incl
        etype = struct.unpack("!H", frame[12:14])[0]
        if etype == 0x0800 and frame[23] == 6:
            ihl = (frame[14] & 0x0F) * 4
            l4, src, dst = 14 + ihl, bytes(frame[26:30]), bytes(frame[30:34])
            plen = struct.unpack("!H", frame[16:18])[0] - ihl
        elif etype == 0x86DD and frame[20] == 6:
            l4, src, dst = 54, bytes(frame[22:38]), bytes(frame[38:54])
            plen = struct.unpack("!H", frame[18:20])[0]
        else:
            l4 = None
        if l4 is not None:
            sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
            payload = plen - (frame[l4 + 12] >> 4) * 4
            if sport == a.port and payload > 0:
                seen += 1
            if seen > a.after and a.port in (sport, dport):
                if sport == a.port:
                    frame[l4:l4 + 2] = struct.pack("!H", a.to)
                else:
                    frame[l4 + 2:l4 + 4] = struct.pack("!H", a.to)
                frame[l4:l4 + plen] = tcp_fix(src, dst, bytes(frame[l4:l4 + plen]))
                moved += 1
        out += struct.pack(endian + "IIII", ts1, ts2, len(frame), orig) + frame
    open(a.out, "wb").write(out)
    print(f"{moved} segments moved from port {a.port} to {a.to}", file=sys.stderr)
    return 0 if moved > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
