#!/usr/bin/env bash
# Pre-processing benchmark: -p on a generated capture of SIZE_MB (default 1024) MB, BMP and
# IPFIX mixed (two exporters each, merged by timestamp with mergecap).  Prints the input size,
# wall time, MB/s and peak RSS of -p, next to two baselines on the same (page-cached) file:
# cat to /dev/null (the disk/page-cache ceiling) and --info (the same reader, decoder,
# reassembly and framer, no writing).
#
#   bench/preproc.sh [BUILD_DIR]      (SIZE_MB=256 bench/preproc.sh for a quick run)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build}
TR=$BUILD/traffic-reproducer
GEN=$BUILD/tr-pcapgen
SIZE_MB=${SIZE_MB:-1024}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tr-bench-preproc.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
command -v mergecap >/dev/null || { echo "mergecap (wireshark-common) is needed" >&2; exit 77; }

cc -O2 -o "$TMP/peak_rss" "$HERE/peak_rss.c"

# Generated sizes: about 322 bytes per BMP message and 818 per IPFIX datagram (20 records
# each); half of the bytes each.
half=$((SIZE_MB * 1024 * 1024 / 2))
"$GEN" --proto bmp --count $((half / 322)) --records 20 --exporter 192.0.2.1 --exporter 192.0.2.2 \
	--dport 1790 --out "$TMP/bmp.pcap" >/dev/null
"$GEN" --proto ipfix --count $((half / 818)) --records 20 --exporter 192.0.2.1 --exporter 192.0.2.3 \
	--dport 4739 --out "$TMP/ipfix.pcap" >/dev/null
mergecap -F pcap -w "$TMP/mixed.pcap" "$TMP/bmp.pcap" "$TMP/ipfix.pcap"
rm -f "$TMP/bmp.pcap" "$TMP/ipfix.pcap"
bytes=$(stat -c %s "$TMP/mixed.pcap")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')

cat >"$TMP/cfg.yml" <<YAML
pcap: $TMP/mixed.pcap
pcap_processing:
  output_folder: $TMP/out
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: 192.0.2.1}
  - {src_ip: 192.0.2.2, repro_ip: 192.0.2.2}
  - {src_ip: 192.0.2.3, repro_ip: 192.0.2.3}
bmp:
  select:
    tcp:
      dport: [1790]
ipfix:
  select:
    udp:
      dport: [4739]
YAML

now() { date +%s.%N; }
rate() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }

cat "$TMP/mixed.pcap" >/dev/null	# warm the page cache
t0=$(now); cat "$TMP/mixed.pcap" >/dev/null; t1=$(now)
cat_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
t0=$(now); info_rss=$("$TMP/peak_rss" "$TR" --info -t "$TMP/cfg.yml"); t1=$(now)
info_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
t0=$(now); pp_rss=$("$TMP/peak_rss" "$TR" -p -t "$TMP/cfg.yml"); t1=$(now)
pp_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
[ -s "$TMP/out/traffic-info.json" ] || { echo "-p wrote no summary" >&2; exit 1; }
out_mb=$(awk -v b="$(stat -c %s "$TMP/out/traffic.pcap")" 'BEGIN { printf "%.1f", b / 1048576 }')
kept=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["pcap_processing"]["sections"]; print(", ".join(k + " " + str(v["messages_kept"]) for k, v in d.items()))' "$TMP/out/traffic-info.json")

echo "input: $mb MB (BMP + IPFIX mixed), output $out_mb MB; kept: $kept"
printf '%-28s %10s %10s %14s\n' "" "seconds" "MB/s" "peak RSS kB"
printf '%-28s %10.2f %10s %14s\n' "cat > /dev/null" "$cat_s" "$(rate "$cat_s")" "-"
printf '%-28s %10.2f %10s %14s\n' "--info -t (reader baseline)" "$info_s" "$(rate "$info_s")" "$info_rss"
printf '%-28s %10.2f %10s %14s\n' "-p" "$pp_s" "$(rate "$pp_s")" "$pp_rss"
awk -v p="$pp_s" -v i="$info_s" -v c="$cat_s" 'BEGIN {
	printf "RATIO -p / --info throughput: %.2f; -p / cat: %.3f\n", i / p, c / p }'
