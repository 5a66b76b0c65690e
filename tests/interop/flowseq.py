#!/usr/bin/env python3
"""Expected NetFlow/IPFIX datagrams under `sequence: continue`, decoded here
independently of the tool's C code.

Reads "PORT REPRO HEX SPORT" lines (captured datagrams in play order) and
prints "PORT REPRO HEX" with each message's sequence number as a live
exporter would have numbered it: per (repro address, version, domain) the
first message keeps its number, and each next one follows the previous by
what that counts (IPFIX: data records, decoded with the templates seen so
far from that address, source port and domain; NetFlow v9: export
packets; v5: flows).  Datagrams that are not NetFlow/IPFIX pass unchanged.
With --as-captured it only drops the SPORT column.
"""
import struct
import sys


def ipfix_data_records(msg, templates, key):
    """Data records in an IPFIX message; learns its templates on the way."""
    length = struct.unpack(">H", msg[2:4])[0]
    off, count = 16, 0
    while off + 4 <= length:
        sid, slen = struct.unpack(">HH", msg[off:off + 4])
        if slen < 4:
            break
        body = msg[off + 4:off + slen]
        if sid in (2, 3):
            p = 0
            while p + 4 <= len(body):
                tid, fields = struct.unpack(">HH", body[p:p + 4])
                p += 4
                if fields == 0:
                    templates.pop((key, tid), None)
                    continue
                if sid == 3:
                    p += 2
                spec = []
                for _ in range(fields):
                    ie, flen = struct.unpack(">HH", body[p:p + 4])
                    p += 8 if ie & 0x8000 else 4
                    spec.append(flen)
                templates[(key, tid)] = spec
        elif sid >= 256 and (key, sid) in templates:
            spec = templates[(key, sid)]
            minimum = sum(1 if f == 65535 else f for f in spec)
            p = 0
            while minimum > 0 and len(body) - p >= minimum:
                for f in spec:
                    if f == 65535:
                        n = body[p]
                        p += 1
                        if n == 255:
                            n = struct.unpack(">H", body[p:p + 2])[0]
                            p += 2
                        p += n
                    else:
                        p += f
                if p > len(body):
                    break
                count += 1
        off += slen
    return count


def main():
    continue_ = "--as-captured" not in sys.argv[1:]
    nxt, templates = {}, {}
    for line in sys.stdin:
        port, repro, hexmsg, sport = line.split()
        msg = bytearray.fromhex(hexmsg)
        version = struct.unpack(">H", msg[:2])[0] if len(msg) >= 2 else 0
        if continue_ and version in (5, 9, 10):
            if version == 10:
                seq_at, domain = 8, msg[12:16]
            elif version == 9:
                seq_at, domain = 12, msg[16:20]
            else:
                seq_at, domain = 16, msg[20:22]
            key = (repro, version, bytes(domain))
            seq = struct.unpack(">I", msg[seq_at:seq_at + 4])[0]
            if key in nxt:
                seq = nxt[key]
                msg[seq_at:seq_at + 4] = struct.pack(">I", seq)
            if version == 10:
                advance = ipfix_data_records(msg, templates, key + (sport,))
            elif version == 9:
                advance = 1
            else:
                advance = struct.unpack(">H", msg[2:4])[0]
            nxt[key] = (seq + advance) & 0xFFFFFFFF
        print(port, repro, msg.hex())


main()
