#!/usr/bin/env python3
"""Feeds one exporter's captured BMP byte stream, as tshark reassembles it, straight to a collector.

An oracle for tests/e2e/test_pmbmpd.sh that shares nothing with traffic-reproducer: the
stream comes from `tshark -z follow,tcp,raw`, is cut after its last complete BMP message
(the common header's 32-bit length; a capture may end inside a message), and is written
on one TCP connection from SOURCE, closed with a FIN.

  bmpfeed.py PCAP EXPORTER DPORT SOURCE COLLECTOR PORT

Prints the number of messages and bytes sent.
"""
import socket
import subprocess
import sys


def stream(pcap, exporter, dport):
    ip = "ipv6" if ":" in exporter else "ip"
    idx = subprocess.run(["tshark", "-r", pcap, "-Y", "tcp.dstport == %s && %s.src == %s" % (dport, ip, exporter),
                          "-T", "fields", "-e", "tcp.stream"], check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout.split()
    if not idx:
        sys.exit("bmpfeed: no TCP stream from %s to port %s in %s" % (exporter, dport, pcap))
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "follow,tcp,raw,%s" % idx[0]], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    # Between the two "=====" rulers: the first speaker's chunks unindented, the other's after a tab.
    parts, n = [], 0
    for line in out.splitlines():
        if set(line) == {"="}:
            n += 1
        elif n == 1 and line and not line.startswith("\t") and all(c in "0123456789abcdef" for c in line):
            parts.append(line)
    return bytes.fromhex("".join(parts))


def main():
    pcap, exporter, dport, source, collector, port = sys.argv[1:7]
    data = stream(pcap, exporter, dport)
    off = msgs = 0
    while off + 6 <= len(data):
        mlen = int.from_bytes(data[off + 1:off + 5], "big")
        if data[off] != 3 or mlen < 6:
            sys.exit("bmpfeed: no BMP v3 header at byte %d of the stream from %s" % (off, exporter))
        if off + mlen > len(data):
            break
        off += mlen
        msgs += 1
    fam = socket.AF_INET6 if ":" in collector else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect((collector, int(port)))
    s.sendall(data[:off])
    s.shutdown(socket.SHUT_WR)
    # Wait for the collector's close (it answers nothing), so that it has read everything.
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        pass
    s.close()
    print("%d messages, %d bytes (%d trailing bytes of an incomplete message left out)" %
          (msgs, off, len(data) - off))


if __name__ == "__main__":
    main()
