#!/usr/bin/env python3
"""Leak check of an anonymized capture against its inputs, by tshark alone.

Every field tshark knows of type FT_IPv4, FT_IPv6 or FT_ETHER (`tshark -G
fields`), of the protocols the captures hold, is read from the inputs and
from the output.  The check fails when:
  - an address or MAC of the inputs appears in the output (except in the
    ranges --preserve keeps, the unspecified addresses 0.0.0.0 and ::, and
    the broadcast and all-zero MACs, which the tool keeps by design);
  - an output address (not kept by --preserve) is not the pseudonym of an
    input address or prefix: its original, by `anonymize --reverse`, is no
    input's, nor is it cut to any length that keeps the output's set bits;
  - the prefix property fails on a pair of output addresses: two pseudonyms
    share a k-bit prefix exactly when their originals do.

Which protocols' fields count is one list, CHECKED (or --all): the ones
whose addresses the tool rewrites.

Crypto-PAn, as its reference implementation, maps a few addresses to
themselves.  An input address found in the output is a leak unless it is
its own pseudonym (`--reverse` gives it back unchanged): such fixed points
are counted, not failed.

usage: anon_leak_check.py --tr BIN --key KEY [--preserve LIST] [--all]
           [-d DECODE-AS]... --out OUT.pcap IN.pcap...
Prints one summary line; exit 0 pass, 1 a violation (listed), 2 bad usage.
"""
import argparse
import ipaddress
import subprocess
import sys

# The protocols (tshark's filter names) whose address fields are checked.
CHECKED = ["eth", "sll", "arp", "ip", "ipv6", "icmp", "icmpv6", "udp", "cflow", "sflow", "tcp",
           "bgp", "bmp"]

ADDR_TYPES = ("FT_IPv4", "FT_IPv6", "FT_ETHER")
KEPT_MACS = {"ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"}
# The unspecified addresses carry nothing to hide and stay as they are: a default route
# (0.0.0.0/0 has no bits to map), BMP's Loc-RIB peer, an unset next hop.
KEPT_ADDRS = {"0.0.0.0", "::"}

# As src/anon_addr.c's ranges (README, "Anonymize").
PRESERVE = {
    "private": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"],
    "loopback": ["127.0.0.0/8", "::1/128"],
    "multicast": ["224.0.0.0/4", "ff00::/8"],
    "documentation": ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"],
    "link-local": ["169.254.0.0/16", "fe80::/10"],
}


def tshark(args):
    r = subprocess.run(["tshark"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True, check=False)
    return r.stdout


def capture_protocols(pcap, decode):
    out = tshark(["-r", pcap] + decode + ["-T", "fields", "-e", "frame.protocols"])
    return {p for line in out.split() for p in line.split(":")}


def address_fields(protocols):
    """(field, type) of every address field of the given protocols."""
    fields = []
    for line in tshark(["-G", "fields"]).splitlines():
        col = line.split("\t")
        if len(col) >= 5 and col[0] == "F" and col[3] in ADDR_TYPES and col[4] in protocols:
            fields.append((col[2], col[3]))
    return fields


def values(pcap, decode, fields):
    """{type: set of values} over every frame."""
    got = {t: set() for t in ADDR_TYPES}
    # Chunks of fields: one tshark run each keeps command lines short.
    for i in range(0, len(fields), 400):
        chunk = fields[i:i + 400]
        args = ["-r", pcap, "-o", "gui.max_tree_depth:100000"] + decode + [
            "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
        for name, _ in chunk:
            args += ["-e", name]
        for line in tshark(args).splitlines():
            for (name, kind), cell in zip(chunk, line.split("\t")):
                for v in cell.split(","):
                    if v:
                        got[kind].add(v.lower())
    return got


def parse_ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def reverse(tr, key, addrs):
    """{pseudonym: original} by the tool's --reverse (the key holder's way back)."""
    addrs = sorted(addrs)
    orig = {}
    for i in range(0, len(addrs), 2000):
        chunk = addrs[i:i + 2000]
        r = subprocess.run([tr, "anonymize", "--key-file", key, "--reverse"] + chunk,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        lines = r.stdout.split()
        if r.returncode != 0 or len(lines) != len(chunk):
            sys.exit("anon_leak_check: --reverse failed: " + r.stderr.strip())
        orig.update(zip(chunk, lines))
    return orig


def prefix_of_input(pseudonym, original, ins):
    """A prefix (BGP NLRI, an IPFIX prefix field) is mapped as the address it starts and keeps
    its length, the bits past it zero: its pseudonym's original has other bits there.  It is an
    input prefix's pseudonym when, for a length that keeps every set bit of the pseudonym, the
    original cut to that length is an input address (tshark shows prefixes without lengths)."""
    p, o = parse_ip(pseudonym), parse_ip(original)
    bits = p.max_prefixlen
    low = bits - (int(p) & -int(p)).bit_length() + 1 if int(p) else 0
    for length in range(low, bits + 1):
        cut = int(o) >> (bits - length) << (bits - length)
        if str(ipaddress.ip_address(cut) if bits == 32 else ipaddress.IPv6Address(cut)) in ins:
            return True
    return False


def prefix_violations(pairs, bits):
    """Pairs (pseudonym, original) as ints of `bits` bits: for every k, pseudonyms share
    their first k bits exactly when their originals do (k-prefixes map one to one)."""
    bad = []
    for k in range(1, bits + 1):
        shift = bits - k
        fwd, back = {}, {}
        for p, o in pairs:
            op, pp = o >> shift, p >> shift
            if fwd.setdefault(op, pp) != pp or back.setdefault(pp, op) != op:
                bad.append(k)
                break
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tr", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--preserve", default="")
    ap.add_argument("--all", action="store_true", help="every protocol's fields, not CHECKED's")
    ap.add_argument("-d", dest="decode", action="append", default=[])
    ap.add_argument("--out", required=True)
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    decode = [x for d in a.decode for x in ("-d", d)]
    nets = []
    for name in filter(None, a.preserve.split(",")):
        if name not in PRESERVE:
            ap.error("unknown range " + name)
        nets += [ipaddress.ip_network(n) for n in PRESERVE[name]]

    def kept(text):
        if text in KEPT_ADDRS:
            return True
        ip = parse_ip(text)
        return ip is not None and any(ip in n for n in nets)

    protocols = set()
    for p in a.inputs:
        protocols |= capture_protocols(p, decode)
    if not a.all:
        protocols &= set(CHECKED)
    fields = address_fields(protocols)
    if not fields:
        sys.exit("anon_leak_check: no address field among " + ",".join(sorted(protocols)))
    vin = {t: set() for t in ADDR_TYPES}
    for p in a.inputs:
        for t, s in values(p, decode, fields).items():
            vin[t] |= s
    vout = values(a.out, decode, fields)

    problems = []
    ins = vin["FT_IPv4"] | vin["FT_IPv6"]
    outs = vout["FT_IPv4"] | vout["FT_IPv6"]
    macs = sorted((vin["FT_ETHER"] & vout["FT_ETHER"]) - KEPT_MACS)
    if macs:
        problems.append("%d input MACs in the output: %s" % (len(macs), " ".join(macs[:8])))

    # Kept originals stand for themselves; every other output address is a pseudonym.
    pseudonyms = [x for x in outs if parse_ip(x) is not None and not (x in ins and kept(x))]
    orig = reverse(a.tr, a.key, pseudonyms)
    fixed = sorted(x for x in ins & outs if not kept(x) and orig.get(x) == x)
    leaked = sorted(x for x in ins & outs if not kept(x) and orig.get(x) != x)
    if leaked:
        problems.append("%d input addresses in the output: %s" % (len(leaked), " ".join(leaked[:8])))
    strangers = sorted(p for p in pseudonyms if orig[p] not in ins and not prefix_of_input(p, orig[p], ins))
    if strangers:
        problems.append("%d output addresses are no input address's pseudonym: %s" %
                        (len(strangers), " ".join("%s(<-%s)" % (p, orig[p]) for p in strangers[:6])))
    for version, bits in ((4, 32), (6, 128)):
        pairs = [(int(parse_ip(p)), int(parse_ip(orig[p]))) for p in pseudonyms
                 if parse_ip(p).version == version]
        bad = prefix_violations(pairs, bits)
        if bad:
            problems.append("IPv%d: the prefix property fails at %d-bit prefixes" % (version, bad[0]))

    print("anon_leak_check: %s: %d fields of %s; input %d addresses, %d MACs; output %d addresses "
          "(%d pseudonyms checked for prefixes, %d their own pseudonym), %d MACs; %s" %
          (a.out, len(fields), ",".join(sorted(protocols)), len(ins), len(vin["FT_ETHER"]),
           len(outs), len(pseudonyms), len(fixed), len(vout["FT_ETHER"]),
           "FAILED" if problems else "no leak, prefixes preserved"))
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
