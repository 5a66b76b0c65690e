#!/bin/bash
# Regenerates the demo captures in examples/pcaps/ with tr-pcapgen, byte for byte.
#
# usage: examples/make-pcaps.sh [path/to/tr-pcapgen]
# The generator defaults to $TR_PCAPGEN, else $TR_BUILD_DIR/tr-pcapgen, else build/tr-pcapgen.
# Its output is deterministic, so a clean `git status` afterwards shows the
# committed captures are the ones these commands make.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
gen=${1:-${TR_PCAPGEN:-${TR_BUILD_DIR:-$here/../build}/tr-pcapgen}}
out=$here/pcaps

if [ ! -x "$gen" ]; then
	echo "make-pcaps.sh: $gen not found; build first (cmake -B build && cmake --build build)" >&2
	exit 1
fi
mkdir -p "$out"

# Capture time: 100 ms between frames, so time_factor 0.01 replays 1 ms apart.
common=(--gap-us 100000 --start 1700000000)

# IPFIX from two exporters (each gets its template first), port 4739.
"$gen" "${common[@]}" --out "$out/ipfix.pcap" --proto ipfix \
	--exporter 192.0.2.1 --exporter 192.0.2.2 --count 20 --records 5

# NetFlow v9 from one exporter, templates resent every 5 packets, port 2055.
"$gen" "${common[@]}" --out "$out/nfv9.pcap" --proto nfv9 \
	--exporter 192.0.2.10 --count 15 --records 5 --template-every 5

# NetFlow v5 from one exporter, port 2055.
"$gen" "${common[@]}" --out "$out/nfv5.pcap" --proto nfv5 \
	--exporter 192.0.2.20 --count 15 --records 10

# Generic UDP payloads (length varies) to port 9999.
"$gen" "${common[@]}" --out "$out/udp-generic.pcap" --proto udp \
	--exporter 192.0.2.30 --count 10 --dport 9999

# BMP session (handshake, Initiation, Peer Up, 10 Route Monitoring,
# Statistics, Peer Down, Termination) to port 1790.
"$gen" "${common[@]}" --out "$out/bmp.pcap" --proto bmp \
	--exporter 192.0.2.61 --count 10 --records 3

# BGP session (handshake, OPEN exchange, 20 UPDATEs, KEEPALIVEs) to port 179.
"$gen" "${common[@]}" --out "$out/bgp.pcap" --proto bgp \
	--exporter 192.0.2.21 --count 20 --records 3

ls -l "$out"
