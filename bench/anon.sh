#!/usr/bin/env bash
# anonymize benchmark: a generated capture of SIZE_MB (default 1024) MB, BMP and IPFIX mixed (two
# exporters each, merged by timestamp with mergecap), anonymized into a pcap.  Prints MB/s and
# peak RSS of anonymize next to baselines on the same (page-cached) file, in the same run:
#   - cat > /dev/null: the page-cache read ceiling;
#   - cp: read and write the same bytes (the disk's ceiling for a tool that writes its input);
#   - editcap -F pcap: another pcap reader and writer that rewrites every frame (when installed);
# and anonymize again on a quarter of the capture: its peak RSS must not grow with the capture.
#
#   bench/anon.sh [BUILD_DIR]      (SIZE_MB=256 bench/anon.sh for a quick run)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build}
TR=$BUILD/traffic-reproducer
GEN=$BUILD/tr-pcapgen
SIZE_MB=${SIZE_MB:-1024}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tr-bench-anon.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
command -v mergecap >/dev/null || { echo "mergecap (wireshark-common) is needed" >&2; exit 77; }

cc -O2 -o "$TMP/peak_rss" "$HERE/peak_rss.c"
"$TR" anonymize --new-key "$TMP/key"

# gen SIZE_MB NAME: the mixed capture of about SIZE_MB MB into $TMP/NAME.pcap.  About 322 bytes
# per BMP message and 818 per IPFIX datagram (20 records each); half of the bytes each.
gen() {
	local half=$(($1 * 1024 * 1024 / 2))
	"$GEN" --proto bmp --count $((half / 322)) --records 20 --exporter 192.0.2.1 \
		--exporter 2001:db8::2 --dport 1790 --out "$TMP/bmp.pcap" >/dev/null
	"$GEN" --proto ipfix --count $((half / 818)) --records 20 --exporter 192.0.2.1 \
		--exporter 2001:db8::3 --dport 4739 --out "$TMP/ipfix.pcap" >/dev/null
	mergecap -F pcap -w "$TMP/$2.pcap" "$TMP/bmp.pcap" "$TMP/ipfix.pcap"
	rm -f "$TMP/bmp.pcap" "$TMP/ipfix.pcap"
}
gen "$SIZE_MB" full
gen $((SIZE_MB / 4)) quarter

now() { date +%s.%N; }
mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
rate() { awk -v b="$(stat -c %s "$1")" -v s="$2" 'BEGIN { printf "%.1f", b / 1048576 / s }'; }
# timed VAR COMMAND...: the command's wall seconds into VAR
timed() {
	local var=$1 t0 t1; shift
	t0=$(now); "$@"; t1=$(now)
	printf -v "$var" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}
row() { printf '%-34s %10.2f %10s %14s\n' "$1" "$2" "$3" "$4"; }

cat "$TMP/full.pcap" >/dev/null	# warm the page cache
timed cat_s eval 'cat "$TMP/full.pcap" >/dev/null'
timed cp_s cp "$TMP/full.pcap" "$TMP/copy.pcap"
rm -f "$TMP/copy.pcap"
if command -v editcap >/dev/null; then
	timed ed_s eval '"$TMP/peak_rss" editcap -F pcap "$TMP/full.pcap" "$TMP/edit.pcap" >"$TMP/ed.rss"'
	rm -f "$TMP/edit.pcap"
fi
timed an_s eval '"$TMP/peak_rss" "$TR" anonymize --key-file "$TMP/key" "$TMP/full.pcap" -o "$TMP/anon.pcap" >"$TMP/an.rss"'
[ "$(stat -c %s "$TMP/anon.pcap")" -gt 0 ] || { echo "anonymize wrote nothing" >&2; exit 1; }
rm -f "$TMP/anon.pcap"
timed q_s eval '"$TMP/peak_rss" "$TR" anonymize --key-file "$TMP/key" "$TMP/quarter.pcap" -o "$TMP/anon.pcap" >"$TMP/q.rss"'
rm -f "$TMP/anon.pcap"

echo "input: $(mb "$TMP/full.pcap") MB (BMP + IPFIX mixed; IPv4 and IPv6 exporters), and a quarter: $(mb "$TMP/quarter.pcap") MB"
printf '%-34s %10s %10s %14s\n' "" "seconds" "MB/s" "peak RSS kB"
row "cat > /dev/null" "$cat_s" "$(rate "$TMP/full.pcap" "$cat_s")" "-"
row "cp" "$cp_s" "$(rate "$TMP/full.pcap" "$cp_s")" "-"
[ -z "${ed_s:-}" ] || row "editcap -F pcap" "$ed_s" "$(rate "$TMP/full.pcap" "$ed_s")" "$(cat "$TMP/ed.rss")"
row "anonymize" "$an_s" "$(rate "$TMP/full.pcap" "$an_s")" "$(cat "$TMP/an.rss")"
row "anonymize, a quarter of it" "$q_s" "$(rate "$TMP/quarter.pcap" "$q_s")" "$(cat "$TMP/q.rss")"
awk -v a="$an_s" -v c="$cp_s" -v e="${ed_s:-0}" -v big="$(cat "$TMP/an.rss")" -v small="$(cat "$TMP/q.rss")" \
	-v mbs="$(rate "$TMP/full.pcap" "$an_s")" 'BEGIN {
	printf "RATIO anonymize / cp throughput: %.2f", c / a
	if (e > 0) printf "; anonymize / editcap: %.2f", e / a
	printf "\nRATIO peak RSS full / quarter: %.2f (flat = ~1.0); anonymize %.0f MB/s (target >= 200)\n", big / small, mbs }'
