#!/usr/bin/env python3
"""Decode the NetFlow v5/v9/IPFIX datagrams of a sink dump, as a strict collector would.

usage: flowdump.py DUMP RECORDS_OUT STATS_OUT

DUMP is `traffic-reproducer sink --dump` output (lines "udp EXPORTER PORT
LOCAL_PORT HEX").  RECORDS_OUT gets one JSON line per flow record in
tr-pcapgen's --expect format (so flowcmp reads it as kind "expect"):
exporter, version, domain, addresses, ports, proto, packets, bytes, start/end
(Unix seconds) and start_ms/end_ms.  Like nfacctd and nfcapd, a data set whose
template this exporter and domain has not sent yet is not decoded.  Unlike
them, it decodes every IPFIX flow time: flowStart/End Seconds (150/151),
Milliseconds (152/153), Microseconds (154/155) and Nanoseconds (156/157), the
last two in NTP format; v9 FIRST/LAST_SWITCHED (22/21) and v5 first/last are
sysUptime-relative and turned into Unix time with the header's sysUptime and
unix_secs (v5: + unix_nsecs).

STATS_OUT gets one JSON object, per stream "EXPORTER vVERSION domain DOMAIN":
datagrams, data_sets, orphan_sets (data sets before their template), records
(data records decoded, IPFIX options records included), seq_errors (datagrams
whose sequence number is not the previous one plus what the previous one
carried: IPFIX data records, RFC 7011, options records included; v9 one per
datagram; v5 its flows; a datagram with an orphan data set leaves the next
one unchecked), first_export/last_export (Unix seconds of the first and last
datagram's export time: IPFIX export time, v9/v5 unix_secs).
"""
import ipaddress
import json
import struct
import sys

NTP_UNIX = 2208988800


def ntp_ms(v):
    return ((v >> 32) - NTP_UNIX) * 1000 + (((v & 0xFFFFFFFF) * 1000) >> 32)


def uint(b):
    return int.from_bytes(b, "big")


class Stream:
    def __init__(self):
        self.stats = {"datagrams": 0, "data_sets": 0, "orphan_sets": 0,
                      "records": 0, "seq_errors": 0,
                      "first_export": None, "last_export": None}
        self.templates = {}	# template id -> [(ie, length)]
        self.flow_templates = set()
        self.expected = None

    def sequence(self, seq, inc, exported):
        st = self.stats
        st["datagrams"] += 1
        if st["first_export"] is None:
            st["first_export"] = exported
        st["last_export"] = exported
        if self.expected is not None and seq != self.expected:
            st["seq_errors"] += 1
        self.expected = None if inc is None else (seq + inc) & 0xFFFFFFFF


def fields_of(body, p, count):
    fields = []
    for _ in range(count):
        ie, length = struct.unpack(">HH", body[p:p + 4])
        p += 4
        if ie & 0x8000:
            p += 4		# enterprise number
            ie = None
        fields.append((ie, length))
    return fields, p


def flow(rec, exporter, version, domain, times):
    if 8 in rec:
        src, dst = ipaddress.ip_address(rec[8]), ipaddress.ip_address(rec[12])
    elif 27 in rec:
        src, dst = ipaddress.ip_address(rec[27]), ipaddress.ip_address(rec[28])
    else:
        return None
    start_ms, end_ms = times
    return {"exporter": exporter, "version": version, "domain": domain,
            "src_ip": str(src), "dst_ip": str(dst), "src_port": uint(rec[7]),
            "dst_port": uint(rec[11]), "proto": uint(rec[4]),
            "packets": uint(rec[2]), "bytes": uint(rec[1]),
            "start": start_ms // 1000, "end": end_ms // 1000,
            "start_ms": start_ms, "end_ms": end_ms}


def ipfix_times(rec):
    for s, e, conv in ((150, 151, lambda b: uint(b) * 1000), (152, 153, uint),
                       (154, 155, lambda b: ntp_ms(uint(b))),
                       (156, 157, lambda b: ntp_ms(uint(b)))):
        if s in rec and e in rec:
            return conv(rec[s]), conv(rec[e])
    return None


def decode_sets(st, msg, off, version, template_ids, data_min, out, mk_flow):
    """IPFIX sets / v9 flowsets from off: (data records decoded, False if an orphan
    data set makes the datagram's count unknown)."""
    n, known = 0, True
    while off + 4 <= len(msg):
        sid, slen = struct.unpack(">HH", msg[off:off + 4])
        if slen < 4:
            break
        body = msg[off + 4:off + slen]
        if sid in template_ids:
            options = sid == template_ids[1]
            p = 0
            while p + 4 <= len(body):
                if version == 10:
                    tid, count = struct.unpack(">HH", body[p:p + 4])
                    p += 4
                    if options:
                        p += 2	# scope field count: the scope fields come first
                else:
                    if options:
                        tid, slen2, olen = struct.unpack(">HHH", body[p:p + 6])
                        p += 6
                        count = (slen2 + olen) // 4
                    else:
                        tid, count = struct.unpack(">HH", body[p:p + 4])
                        p += 4
                if tid < 256 or count == 0:
                    break
                fields, p = fields_of(body, p, count)
                st.templates[tid] = fields
                if not options:
                    st.flow_templates.add(tid)
        elif sid >= data_min:
            st.stats["data_sets"] += 1
            fields = st.templates.get(sid)
            if fields is None:
                st.stats["orphan_sets"] += 1
                known = False
            else:
                reclen = sum(length for _, length in fields)
                p = 0
                while reclen > 0 and p + reclen <= len(body):
                    rec = {}
                    for ie, length in fields:
                        if ie is not None:
                            rec[ie] = body[p:p + length]
                        p += length
                    n += 1
                    if sid in st.flow_templates:
                        f = mk_flow(rec)
                        if f is not None:
                            out.append(f)
        off += slen
    return n, known


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__.splitlines()[2])
    streams, out = {}, []
    for line in open(sys.argv[1]):
        parts = line.split()
        if len(parts) != 5 or parts[0] != "udp":
            continue
        exporter, msg = parts[1], bytes.fromhex(parts[4])
        if len(msg) < 4:
            continue
        version = struct.unpack(">H", msg[:2])[0]
        if version == 10 and len(msg) >= 16:
            exported, seq, domain = struct.unpack(">III", msg[4:16])
            st = streams.setdefault((exporter, 10, domain), Stream())

            def mk(rec):
                times = ipfix_times(rec)
                return flow(rec, exporter, 10, domain, times) if times else None
            n, known = decode_sets(st, msg, 16, 10, (2, 3), 256, out, mk)
            inc = n if known else None
        elif version == 9 and len(msg) >= 20:
            uptime, exported, seq, domain = struct.unpack(">IIII", msg[4:20])
            st = streams.setdefault((exporter, 9, domain), Stream())

            def mk(rec):
                if 22 not in rec or 21 not in rec:
                    return None
                base = exported * 1000 - uptime
                return flow(rec, exporter, 9, domain,
                            (base + uint(rec[22]), base + uint(rec[21])))
            n, _ = decode_sets(st, msg, 20, 9, (0, 1), 256, out, mk)
            inc = 1
        elif version == 5 and len(msg) >= 24:
            count, uptime, exported, nsecs, seq = struct.unpack(">HIIII", msg[2:20])
            domain = msg[20] << 8 | msg[21]
            st = streams.setdefault((exporter, 5, domain), Stream())
            base = exported * 1000 + nsecs // 1000000 - uptime
            for i in range(count):
                r = msg[24 + 48 * i:24 + 48 * (i + 1)]
                if len(r) < 48:
                    break
                rec = {8: r[0:4], 12: r[4:8], 2: r[16:20], 1: r[20:24],
                       7: r[32:34], 11: r[34:36], 4: r[38:39]}
                out.append(flow(rec, exporter, 5, domain,
                                (base + uint(r[24:28]), base + uint(r[28:32]))))
            st.stats["data_sets"] += 1
            n = inc = count
        else:
            continue
        st.stats["records"] += n
        st.sequence(seq, inc, exported)

    with open(sys.argv[2], "w") as f:
        for r in out:
            f.write(json.dumps(r) + "\n")
    with open(sys.argv[3], "w") as f:
        json.dump({"%s v%d domain %d" % k: s.stats for k, s in sorted(streams.items())},
                  f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
