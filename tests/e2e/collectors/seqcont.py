#!/usr/bin/env python3
"""Write a capture's N plays with sequence numbers that continue across them.

usage: seqcont.py IN.pcap N OUT_PREFIX

A reference for what `sequence: continue` must send when a capture is played N
times: OUT_PREFIX.1.pcap .. OUT_PREFIX.N.pcap are IN.pcap with each NetFlow
v5/v9/IPFIX datagram's sequence number moved on by what one play carries, per
exporter address, port and observation domain (IPFIX: data records, options
records included; v9: export packets; v5: flows), so play p+1 starts right
where play p ended.  Replayed as a list, as captured, they are what a correct
continuation looks like to a collector.  Reads the classic pcap files that
tr-pcapgen writes (Ethernet, IPv4 or IPv6, UDP; no VLAN/MPLS); other frames are
copied unchanged.  UDP checksums are left as they are (the replay ignores them).
"""
import struct
import sys


def frames(data):
    magic = struct.unpack("<I", data[:4])[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit("seqcont: only little-endian classic pcap is read")
    off = 24
    while off < len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        yield off + 16, incl
        off += 16 + incl


def udp_payload(data, off, length):
    """(payload offset, payload length, stream key prefix) or None."""
    if length < 14:
        return None
    etype = struct.unpack(">H", data[off + 12:off + 14])[0]
    ip = off + 14
    if etype == 0x0800 and data[ip + 9] == 17:
        hl = (data[ip] & 15) * 4
        if struct.unpack(">H", data[ip + 6:ip + 8])[0] & 0x3FFF:
            return None		# a fragment
        src, udp = data[ip + 12:ip + 16], ip + hl
    elif etype == 0x86DD and data[ip + 6] == 17:
        src, udp = data[ip + 8:ip + 24], ip + 40
    else:
        return None
    ulen = struct.unpack(">H", data[udp + 4:udp + 6])[0]
    return udp + 8, ulen - 8, (bytes(src), bytes(data[udp:udp + 2]))


class Ipfix:
    """Data records per IPFIX message: record lengths from the templates seen so far."""

    def __init__(self):
        self.reclen = {}

    def records(self, key, msg):
        n, off = 0, 16
        while off + 4 <= len(msg):
            sid, slen = struct.unpack(">HH", msg[off:off + 4])
            if slen < 4:
                break
            body = msg[off + 4:off + slen]
            if sid in (2, 3):
                p = 0
                while p + 4 <= len(body):
                    tid, count = struct.unpack(">HH", body[p:p + 4])
                    p += 6 if sid == 3 else 4
                    if count == 0:
                        break
                    length = 0
                    for _ in range(count):
                        ie, flen = struct.unpack(">HH", body[p:p + 4])
                        p += 8 if ie & 0x8000 else 4
                        length += flen
                    self.reclen[key + (tid,)] = length
            elif sid >= 256 and self.reclen.get(key + (sid,)):
                n += len(body) // self.reclen[key + (sid,)]
            off += slen
        return n


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.splitlines()[2])
    src, plays, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = bytearray(open(src, "rb").read())

    # One pass: where each datagram's sequence number is, and what one play adds per stream.
    ipfix = Ipfix()
    first, after, where = {}, {}, []
    for off, length in frames(data):
        u = udp_payload(data, off, length)
        if u is None or u[1] < 24:
            continue
        p, plen, key = u
        msg = bytes(data[p:p + plen])
        version = struct.unpack(">H", msg[:2])[0]
        if version == 10:
            seq_at, key = 8, key + (msg[12:16],)
            inc = ipfix.records(key, msg)
        elif version == 9:
            seq_at, key, inc = 12, key + (msg[16:20],), 1
        elif version == 5:
            seq_at, key = 16, key + (msg[20:22],)
            inc = struct.unpack(">H", msg[2:4])[0]
        else:
            continue
        seq = struct.unpack(">I", msg[seq_at:seq_at + 4])[0]
        first.setdefault(key, seq)
        after[key] = (seq + inc) & 0xFFFFFFFF
        where.append((p + seq_at, key, seq))

    for play in range(plays):
        out = bytearray(data)
        for at, key, seq in where:
            step = (after[key] - first[key]) & 0xFFFFFFFF
            out[at:at + 4] = struct.pack(">I", (seq + play * step) & 0xFFFFFFFF)
        with open("%s.%d.pcap" % (prefix, play + 1), "wb") as f:
            f.write(out)


if __name__ == "__main__":
    main()
