#!/usr/bin/env python3
"""gen.py CASE OUT [options]: hostile captures for tests/hostile (issue 10).

Each case writes a classic pcap (Ethernet, IPv4; pcapng for links) made to
stress one thing the tool keeps state for, as a hostile or broken exporter
could send it.  Streamed: memory stays small whatever the counts.

  ipfix-templates  --domains D --templates T: one exporter, D IPFIX
                   observation domains, T templates in each (template sets
                   only, ~8 bytes per template on the wire)
  exporters        --count N: N exporters (distinct IPv4 sources), each one
                   IPFIX message with a template and a data set
  bmp-peers        --sessions S --peers P: S BMP sessions, each an
                   Initiation then P Peer Ups of distinct peers
  tcp-sessions     --count N: N TCP sessions (SYN, then a BMP Initiation),
                   never closed
  tcp-held         --sessions S --bytes B: S BMP sessions, each an
                   Initiation, a hole never filled, then B bytes (held by
                   reassembly, waiting for the hole)
  bmp-gap          one BMP session whose first bytes (Initiation, 3 Peer
                   Ups) come before a hole inside its first 4 KiB
  time             --secs S [--usecs U]: classic pcap, one IPFIX datagram at
                   S.U and one a second later (S >= 2^31 is past 2038)
  time-ng          --secs S: the same in pcapng (microsecond resolution), where
                   64-bit timestamps can go past year 2262
  two-links        pcapng with two interfaces: Ethernet and (--link2) raw IPv4,
                   the second described after a packet of the first; three
                   IPFIX datagrams
"""
import argparse
import struct
import sys

COLLECTOR = bytes([198, 51, 100, 1])


def ip4(n):
    return struct.pack("!I", n)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, l4):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4


def ether(ip):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip


def udp(src, dst, sport, dport, payload):
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 65535, 0, 0)
    return ipv4(src, dst, 6, hdr + payload)


SYN, ACK, PSH = 0x02, 0x10, 0x08


class Pcap:
    """A classic pcap writer, microsecond timestamps, one frame a millisecond."""

    def __init__(self, path, linktype=1):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        self.t = 1700000000 * 1000000

    def frame(self, data, ts=None):
        if ts is None:
            self.t += 1000
            ts = self.t
        self.f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(data), len(data)) + data)

    def close(self):
        self.f.close()


def ipfix_msg(domain, seq, sets):
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), 1700000000, seq, domain) + body


def ipfix_set(set_id, body):
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def template(tid):
    # One field: sourceIPv4Address (8), 4 bytes.
    return struct.pack("!HHHH", tid, 1, 8, 4)


def case_ipfix_templates(a, w):
    per_msg = 170   # 16 + 4 + 170 * 8 = 1380 bytes: one Ethernet frame
    src = ip4(0xC0000201)
    seq = 0
    for d in range(1, a.domains + 1):
        for first in range(0, a.templates, per_msg):
            ids = range(256 + first, 256 + min(first + per_msg, a.templates))
            msg = ipfix_msg(d, seq, [ipfix_set(2, b"".join(template(i) for i in ids))])
            w.frame(ether(udp(src, COLLECTOR, 50000, 4739, msg)))
            seq += 1


def case_exporters(a, w):
    for i in range(a.count):
        src = ip4(0x0A000000 + i + 1)
        msg = ipfix_msg(1, 0, [ipfix_set(2, template(256)), ipfix_set(256, ip4(0x0A000000 + i + 1))])
        w.frame(ether(udp(src, COLLECTOR, 50000, 4739, msg)))


def bmp_msg(mtype, body):
    return struct.pack("!BIB", 3, 6 + len(body), mtype) + body


def bmp_initiation():
    return bmp_msg(4, struct.pack("!HH", 2, 6) + b"hostil" + struct.pack("!HH", 1, 4) + b"test")


def bgp_open(asn, bgp_id):
    body = struct.pack("!BHH4sB", 4, asn, 90, ip4(bgp_id), 0)
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 1) + body


def bmp_peer_up(n):
    addr = ip4(0x0B000000 + n)
    peer = struct.pack("!BB8s12s4sI4sII", 0, 0, b"\0" * 8, b"\0" * 12, addr, 65000 + n % 1000,
                       addr, 1700000000, 0)
    body = b"\0" * 12 + ip4(0xC6336401) + struct.pack("!HH", 179, 40000) + \
        bgp_open(64512, 0xC6336401) + bgp_open(65000, 0x0B000000 + n)
    return bmp_msg(3, peer + body)


class Session:
    """One TCP session from exporter src:sport to the collector: a handshake, then data segments."""

    def __init__(self, w, src, sport, dport, isn=1000):
        self.w, self.src, self.sport, self.dport = w, src, sport, dport
        self.seq = isn + 1
        w.frame(ether(tcp(src, COLLECTOR, sport, dport, isn, 0, SYN)))
        w.frame(ether(tcp(COLLECTOR, src, dport, sport, 5000, isn + 1, SYN | ACK)))
        w.frame(ether(tcp(src, COLLECTOR, sport, dport, isn + 1, 5001, ACK)))

    def send(self, data, skip=0):
        """Segments of data at the stream's position + skip (a hole of skip bytes when > 0)."""
        self.seq += skip
        for off in range(0, len(data), 1400):
            chunk = data[off:off + 1400]
            self.w.frame(ether(tcp(self.src, COLLECTOR, self.sport, self.dport, self.seq, 5001,
                                   ACK | PSH, chunk)))
            self.seq += len(chunk)


def case_bmp_peers(a, w):
    for s in range(a.sessions):
        sess = Session(w, ip4(0xC0000201 + s), 40000 + s, 1790)
        sess.send(bmp_initiation())
        batch = b""
        for p in range(a.peers):
            batch += bmp_peer_up(p + 1)
            if len(batch) > 60000:
                sess.send(batch)
                batch = b""
        sess.send(batch)


def case_tcp_sessions(a, w):
    for i in range(a.count):
        sess = Session(w, ip4(0x0A000000 + i // 50000 + 1), 10000 + i % 50000, 1790)
        sess.send(bmp_initiation())


def case_tcp_held(a, w):
    filler = bmp_msg(0, b"\0" * 1394)      # 1,400-byte BMP messages
    for s in range(a.sessions):
        sess = Session(w, ip4(0xC0000201), 40000 + s, 1790)
        sess.send(bmp_initiation())
        sess.send(filler * (a.bytes // len(filler)), skip=1400)


def case_bmp_gap(a, w):
    sess = Session(w, ip4(0xC0000201), 40000, 1790)
    head = bmp_initiation() + b"".join(bmp_peer_up(p) for p in range(1, 4))
    sess.send(head)
    # 100 bytes never captured, then more Peer Ups: the hole is inside the first 4 KiB.
    tail = b"".join(bmp_peer_up(p) for p in range(4, 7))
    sess.send(tail, skip=100)


def case_time(a, w):
    src = ip4(0xC0000201)
    for k in range(2):
        msg = ipfix_msg(1, k, [ipfix_set(2, template(256))])
        w.frame(ether(udp(src, COLLECTOR, 50000, 4739, msg)), ts=(a.secs + k) * 1000000 + a.usecs)


def pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def case_time_ng(a, out):
    with open(out, "wb") as f:
        f.write(pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(pcapng_block(1, struct.pack("<HHI", 1, 0, 65535)))
        src = ip4(0xC0000201)
        for k in range(2):
            pkt = ether(udp(src, COLLECTOR, 50000, 4739, ipfix_msg(1, k, [ipfix_set(2, template(256))])))
            ts = (a.secs + k) * 1000000 + a.usecs
            f.write(pcapng_block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF,
                                                len(pkt), len(pkt)) + pkt))


def case_two_links(a, out):
    # Interface 1 is described after a packet of interface 0, as a capture that added it later.
    src = ip4(0xC0000201)

    def epb(iface, k, pkt):
        ts = (1700000000 + k) * 1000000
        return pcapng_block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF,
                                           len(pkt), len(pkt)) + pkt)

    def flow(k):
        return udp(src, COLLECTOR, 50000, 4739, ipfix_msg(1, k, [ipfix_set(2, template(256))]))

    with open(out, "wb") as f:
        f.write(pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(pcapng_block(1, struct.pack("<HHI", 1, 0, 65535)))          # Ethernet
        f.write(epb(0, 0, ether(flow(0))))
        f.write(pcapng_block(1, struct.pack("<HHI", a.link2, 0, 65535)))    # raw IP (101) by default
        f.write(epb(1, 1, flow(1) if a.link2 == 101 else ether(flow(1))))
        f.write(epb(0, 2, ether(flow(2))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("out")
    ap.add_argument("--domains", type=int, default=2000)
    ap.add_argument("--templates", type=int, default=2000)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--sessions", type=int, default=1)
    ap.add_argument("--peers", type=int, default=1000)
    ap.add_argument("--bytes", type=int, default=4 << 20)
    ap.add_argument("--link2", type=int, default=101)
    ap.add_argument("--secs", type=int, default=1700000000)
    ap.add_argument("--usecs", type=int, default=0)
    a = ap.parse_args()
    if a.case == "two-links":
        return case_two_links(a, a.out)
    if a.case == "time-ng":
        return case_time_ng(a, a.out)
    cases = {"ipfix-templates": case_ipfix_templates, "exporters": case_exporters,
             "bmp-peers": case_bmp_peers, "tcp-held": case_tcp_held, "tcp-sessions": case_tcp_sessions,
             "bmp-gap": case_bmp_gap, "time": case_time}
    if a.case not in cases:
        sys.exit("gen.py: unknown case %s" % a.case)
    w = Pcap(a.out)
    cases[a.case](a, w)
    w.close()


if __name__ == "__main__":
    main()
