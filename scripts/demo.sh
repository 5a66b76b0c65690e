#!/usr/bin/env bash
# The demo: start the built-in sink, replay the bundled examples to it, show what arrived.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
TR=$BUILD/traffic-reproducer
work=$(mktemp -d)
trap 'kill $sink 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== starting the built-in sink on 127.0.0.1 (UDP 24739 22055 22056 25000, TCP 21790 20179)"
"$TR" sink --listen 127.0.0.1 --udp 24739 --udp 22055 --udp 22056 --udp 25000 \
	--tcp 21790 --tcp 20179 --ready "$work/ready" >"$work/summary.txt" 2>&1 &
sink=$!
for _ in $(seq 1 100); do [ -s "$work/ready" ] && break; sleep 0.05; done
[ -s "$work/ready" ] || { cat "$work/summary.txt"; echo "demo: the sink did not start"; exit 1; }

for cfg in examples/ipfix.yml examples/nfv9.yml examples/nfv5.yml examples/udp-generic.yml \
	examples/bmp.yml examples/bgp.yml; do
	echo "== traffic-reproducer -t $cfg"
	"$TR" -t "$cfg"
done

sleep 0.2
kill -INT $sink
wait $sink || true
echo "== what the sink received"
cat "$work/summary.txt"
