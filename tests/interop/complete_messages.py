#!/usr/bin/env python3
"""Cut each "PORT REPRO HEX" stream line after its last complete BMP or BGP message.

A capture may end in the middle of a message; the replay frames messages and
never sends a partial one, so the expectation must not contain it either.
Usage: complete_messages.py BMP_PORTS BGP_PORTS < lines  (ports comma-separated, may be empty)
"""
import sys

bmp_ports = set(filter(None, sys.argv[1].split(",")))
bgp_ports = set(filter(None, sys.argv[2].split(",")))


def complete_prefix(data, length_of, header):
    at = 0
    while len(data) - at >= header:
        n = length_of(data, at)
        if n < header or at + n > len(data):
            break
        at += n
    return data[:at]


for line in sys.stdin:
    port, repro, hexdata = line.split()
    data = bytes.fromhex(hexdata)
    if port in bmp_ports:
        data = complete_prefix(data, lambda d, a: int.from_bytes(d[a + 1:a + 5], "big"), 6)
    elif port in bgp_ports:
        data = complete_prefix(data, lambda d, a: int.from_bytes(d[a + 16:a + 18], "big"), 19)
    print(port, repro, data.hex())
