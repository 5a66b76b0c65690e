#!/usr/bin/env bash
# anonymize benchmark: a generated capture of SIZE_MB (default 1024) MB, BMP and IPFIX mixed (two
# exporters each, merged by timestamp with mergecap), anonymized into a pcap.  Prints MB/s and
# peak RSS of anonymize next to baselines on the same (page-cached) file, in the same run:
#   - cat > /dev/null: the page-cache read ceiling;
#   - cp: read and write the same bytes (the disk's ceiling for a tool that writes its input);
#   - editcap -F pcap: another pcap reader and writer that rewrites every frame (when installed);
# and anonymize again on a quarter of the capture: its peak RSS must not grow with the capture;
# and on BMP alone at BMP_MB (default 100) and 4 x BMP_MB MB, the same.
# Wall and CPU time (GNU time: the wall clock on a shared machine counts other jobs' turns).
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

mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# measure NAME BYTES COMMAND...: wall and CPU (user + system) seconds, user seconds alone, and peak RSS
# of the command (GNU time), and MB/s of BYTES (its input) by wall and CPU, into the row NAME.  On these
# shared machines the wall clock counts the time other jobs hold the CPU: the CPU rate says what the tool
# costs; the user time is the tool's own code (system time is mostly the kernel copying the output into
# the page cache, which varies with the machine's load).
rows=()
size() { stat -c %s "$1"; }
measure() {
	local name=$1 bytes=$2 wall user sys rss; shift 2
	/usr/bin/time -o "$TMP/time" -f '%e %U %S %M' "$@" >/dev/null 2>"$TMP/err" ||
		{ cat "$TMP/err" >&2; echo "$name failed" >&2; exit 1; }
	read -r wall user sys rss <"$TMP/time"
	rows+=("$(awk -v n="$name" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
		c = u + s; if (c < 0.01) c = 0.01; if (w < 0.01) w = 0.01
		printf "%-30s %8.2f %8.2f %8.2f %10.1f %10.1f %12s", n, w, c, u, b / 1048576 / w, b / 1048576 / c, r }')")
}
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time, package time) is needed" >&2; exit 77; }

cat "$TMP/full.pcap" >/dev/null	# warm the page cache
measure "cat > /dev/null" "$(size "$TMP/full.pcap")" cat "$TMP/full.pcap"
measure "cp" "$(size "$TMP/full.pcap")" cp "$TMP/full.pcap" "$TMP/copy.pcap"
rm -f "$TMP/copy.pcap"
if command -v editcap >/dev/null; then
	measure "editcap -F pcap" "$(size "$TMP/full.pcap")" editcap -F pcap "$TMP/full.pcap" "$TMP/edit.pcap"
	rm -f "$TMP/edit.pcap"
fi
measure "anonymize" "$(size "$TMP/full.pcap")" "$TR" anonymize --key-file "$TMP/key" "$TMP/full.pcap" -o "$TMP/anon.pcap"
[ "$(stat -c %s "$TMP/anon.pcap")" -gt 0 ] || { echo "anonymize wrote nothing" >&2; exit 1; }
rm -f "$TMP/anon.pcap"
measure "anonymize, a quarter of it" "$(size "$TMP/quarter.pcap")" "$TR" anonymize --key-file "$TMP/key" \
	"$TMP/quarter.pcap" -o "$TMP/anon.pcap"
rm -f "$TMP/anon.pcap"
# BMP alone (distinct prefixes: every UPDATE's rewritten bytes are kept from pass 1 for pass 2) at
# BMP_MB and four times it: peak RSS must not grow with the TCP capture either.
BMP_MB=${BMP_MB:-100}
for mbs in "$BMP_MB" $((BMP_MB * 4)); do
	"$GEN" --proto bmp --count $((mbs * 1024 * 1024 / 342)) --records 20 --exporter 192.0.2.1 \
		--exporter 2001:db8::2 --dport 1790 --out "$TMP/bmp.pcap" >/dev/null
	measure "anonymize, BMP $(mb "$TMP/bmp.pcap") MB" "$(size "$TMP/bmp.pcap")" "$TR" anonymize \
		--key-file "$TMP/key" "$TMP/bmp.pcap" -o "$TMP/anon.pcap"
	rm -f "$TMP/anon.pcap" "$TMP/bmp.pcap"
done
# With TR_CORPUS: a real capture's addresses (few, repeated: what the caches are for), its IPFIX
# and BGP given 400 times as the inputs of one run.
REAL=${TR_CORPUS:-/nonexistent}/anchor/examples/pcap_processing/ipfix-bgp.pcap
if [ -f "$REAL" ]; then
	mapfile -t reals < <(for _ in $(seq 400); do echo "$REAL"; done)
	measure "anonymize, corpus x400" "$(($(size "$REAL") * 400))" "$TR" anonymize \
		--key-file "$TMP/key" "${reals[@]}" -o "$TMP/anon.pcap"
	rm -f "$TMP/anon.pcap"
fi

echo "input: $(mb "$TMP/full.pcap") MB (BMP + IPFIX mixed; IPv4 and IPv6 exporters), and a quarter: $(mb "$TMP/quarter.pcap") MB"
printf '%-30s %8s %8s %8s %10s %10s %12s\n' "" "wall s" "CPU s" "user s" "MB/s wall" "MB/s CPU" "peak RSS kB"
printf '%s\n' "${rows[@]}"
printf '%s\n' "${rows[@]}" | awk '
	# from the end: MB/s wall, MB/s CPU, peak RSS
	/^cp / { cp_w = $(NF-2); cp_c = $(NF-1) }
	/^editcap/ { ed_w = $(NF-2); ed_c = $(NF-1) }
	/^anonymize  / { an_w = $(NF-2); an_c = $(NF-1); big = $NF }
	/^anonymize, a quarter/ { small = $NF }
	/^anonymize, BMP/ { bmp[++nb] = $NF }
	END {
		printf "RATIO anonymize / cp throughput: %.2f wall, %.2f CPU", an_w / cp_w, an_c / cp_c
		if (ed_w) printf "; anonymize / editcap: %.2f wall, %.2f CPU", an_w / ed_w, an_c / ed_c
		printf "\nRATIO peak RSS full / quarter: %.2f (flat = ~1.0); anonymize %.0f MB/s wall, %.0f MB/s CPU (target >= 200)\n",
			big / small, an_w, an_c
		if (nb == 2) printf "RATIO peak RSS BMP x4 / BMP: %.2f (flat = ~1.0)\n", bmp[2] / bmp[1] }'
