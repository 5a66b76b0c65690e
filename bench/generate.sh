#!/usr/bin/env bash
# Capture generation: `traffic-reproducer generate` writing IPFIX from many routers, in flow
# records/s and MB/s, against two baselines run in the same invocation: dd writing the same
# byte count to the same folder (the disk's and page cache's rate), and tr-pcapgen writing a
# capture of as many IPFIX records with its fixed content (the encoder without value
# distributions).  Peak RSS at two durations shows whether memory stays constant.
# Then BMP (8b, examples/generate/bmp-full-table.yml) and BGP (8c, bgp-churn.yml with bigger
# tables) in MB/s against cat and dd of the same byte count (goal: >= 200 MB/s), and their
# peak RSS with 4 times the duration.
#   bench/generate.sh BUILD_DIR   (BENCH_GEN_ROUTERS 2000, BENCH_GEN_RATE 500 records/s each,
#   BENCH_GEN_SECONDS 5, BENCH_REPS 3; goal: >= 1 M records/s)
set -euo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_binaries generate.sh "${1:-build}"
ROUTERS=${BENCH_GEN_ROUTERS:-2000}
RATE=${BENCH_GEN_RATE:-500}
SECONDS_=${BENCH_GEN_SECONDS:-5}
REPS=${BENCH_REPS:-3}
bench_tmp generate

# spec SECONDS: the routers' IPFIX load as $TMP/spec-SECONDS.yml (the 10k example's template).
spec() {
	sed -e "s/^duration: .*/duration: $1/" -e "s/count: 10000/count: $ROUTERS/" \
		-e "s/^  rate: 5 .*/  rate: $RATE/" "$HERE/../examples/generate/ipfix-10k-routers.yml" >"$TMP/spec-$1.yml"
}
# wall COMMAND...: seconds it took
wall() { local t0; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; calc "$(date +%s.%N) - $t0"; }
# rss COMMAND...: peak RSS in MB (GNU time), or "n/a"
rss() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }'
	else
		echo n/a
	fi
}

spec "$SECONDS_"
"$TR" generate -t "$TMP/spec-$SECONDS_.yml" --expect >"$TMP/expect.json"
FLOWS=$(json_get "$TMP/expect.json" '["total"]["flows"]')
MSGS=$(json_get "$TMP/expect.json" '["total"]["messages"]')
"$TR" generate -t "$TMP/spec-$SECONDS_.yml" -o "$TMP/out.pcap" 2>/dev/null
BYTES=$(stat -c %s "$TMP/out.pcap")
MB=$((BYTES / 1048576 + 1))
# tr-pcapgen: the same records in messages of 40 (about what fits the generate spec's 1400 bytes).
PGMSGS=$((FLOWS / 40))

echo "== 8. Capture generation: IPFIX from $ROUTERS routers, $RATE records/s each, $SECONDS_ s"
echo "   $FLOWS flow records in $MSGS datagrams, $((BYTES / 1048576)) MB of pcap; median of $REPS runs"
gen=() dd_=() pg=()
for _ in $(seq "$REPS"); do
	rm -f "$TMP/out.pcap" "$TMP/out.yml" "$TMP/dd" "$TMP/pg.pcap"
	gen+=("$(wall "$TR" generate -t "$TMP/spec-$SECONDS_.yml" -o "$TMP/out.pcap")")
	rm -f "$TMP/out.pcap"
	dd_+=("$(wall dd if=/dev/zero of="$TMP/dd" bs=1M count="$MB" conv=fsync status=none)")
	rm -f "$TMP/dd"
	pg+=("$(wall "$GEN" --proto ipfix --count "$PGMSGS" --records 40 --exporter 192.0.2.1 --out "$TMP/pg.pcap")")
done
G=$(median "${gen[@]}") D=$(median "${dd_[@]}") P=$(median "${pg[@]}")
printf "   %-34s %8.3f s %10.2f M records/s %8.1f MB/s\n" "generate" "$G" "$(calc "$FLOWS / $G / 1e6")" "$(calc "$BYTES / $G / 1048576")"
# Its CPU time (user + system): the rate without the waits for the disk's writeback.
if [ -x /usr/bin/time ]; then
	cpu=$(/usr/bin/time -f "%U %S" "$TR" generate -t "$TMP/spec-$SECONDS_.yml" -o "$TMP/out.pcap" 2>&1 >/dev/null |
		tail -n 1 | awk '{ print $1 + $2 }')
	rm -f "$TMP/out.pcap"
	printf "   %-34s %8.3f s %10.2f M records/s %8.1f MB/s\n" "generate, CPU time" "$cpu" "$(calc "$FLOWS / $cpu / 1e6")" "$(calc "$BYTES / $cpu / 1048576")"
fi
# Into memory (tmpfs), when /dev/shm has room: no disk at all.
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pm /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((MB * 2)) ]; then
	SHM=$(mktemp -d /dev/shm/tr-bench-gen.XXXXXX)
	shm=()
	for _ in $(seq "$REPS"); do
		shm+=("$(wall "$TR" generate -t "$TMP/spec-$SECONDS_.yml" -o "$SHM/out.pcap")")
		rm -f "$SHM/out.pcap"
	done
	rm -rf "$SHM"
	S=$(median "${shm[@]}")
	printf "   %-34s %8.3f s %10.2f M records/s %8.1f MB/s\n" "generate into tmpfs" "$S" "$(calc "$FLOWS / $S / 1e6")" "$(calc "$BYTES / $S / 1048576")"
fi
printf "   %-34s %8.3f s %10s %20.1f MB/s\n" "dd, same bytes (fsync)" "$D" "" "$(calc "$MB / $D")"
printf "   %-34s %8.3f s %10.2f M records/s\n" "tr-pcapgen, same records" "$P" "$(calc "$PGMSGS * 40 / $P / 1e6")"
echo "   RATIO generate/dd (MB/s)           $(calc "round(($BYTES / $G / 1048576) / ($MB / $D), 2)")"
echo "   RATIO generate/tr-pcapgen (rec/s)  $(calc "round(($FLOWS / $G) / ($PGMSGS * 40 / $P), 2)")"
echo "   goal: >= 1 M flow records/s"

# Constant memory: peak RSS for the duration and for 4 times it.
spec $((SECONDS_ * 4))
r1=$(rss "$TR" generate -t "$TMP/spec-$SECONDS_.yml" -o "$TMP/m1.pcap")
rm -f "$TMP/m1.pcap"
r4=$(rss "$TR" generate -t "$TMP/spec-$((SECONDS_ * 4)).yml" -o "$TMP/m4.pcap")
rm -f "$TMP/m4.pcap"
echo "   peak RSS: ${r1} MB for $SECONDS_ s, ${r4} MB for $((SECONDS_ * 4)) s (the same: memory does not grow with the duration)"

# ---- BMP and BGP (8b, 8c): a routing feed's MB/s against cat and dd of the same bytes ----
# routing_part TITLE SPEC COUNT_KEY COUNT_NAME: SPEC's generation (median of REPS runs) in the
# same folder, its CPU time, into tmpfs; cat and dd of the same byte count; peak RSS with 4
# times the duration (the tables are kept in no memory, the churn goes on longer).
routing_part() {
	local title=$1 spec=$2 key=$3 what=$4 n bytes mb g c d s sc cpu r1 r4
	"$TR" generate -t "$spec" --expect >"$TMP/r-expect.json"
	n=$(json_get "$TMP/r-expect.json" "[\"total\"][\"$key\"]")
	"$TR" generate -t "$spec" -o "$TMP/r.pcap" 2>/dev/null
	bytes=$(stat -c %s "$TMP/r.pcap")
	mb=$((bytes / 1048576 + 1))
	echo "== $title"
	echo "   $n $what, $((bytes / 1048576)) MB of pcap; median of $REPS runs"
	local rg=() rc=() rd=()
	for _ in $(seq "$REPS"); do
		rm -f "$TMP/r2.pcap" "$TMP/r2.yml" "$TMP/cat" "$TMP/dd"
		rg+=("$(wall "$TR" generate -t "$spec" -o "$TMP/r2.pcap")")
		rc+=("$(wall sh -c "cat '$TMP/r.pcap' >'$TMP/cat'")")
		rm -f "$TMP/cat"
		rd+=("$(wall dd if=/dev/zero of="$TMP/dd" bs=1M count="$mb" status=none)")
		rm -f "$TMP/dd"
	done
	rm -f "$TMP/r2.pcap" "$TMP/r2.yml"
	g=$(median "${rg[@]}") c=$(median "${rc[@]}") d=$(median "${rd[@]}")
	printf "   %-34s %8.3f s %10.2f M %s/s %8.1f MB/s\n" "generate" "$g" "$(calc "$n / $g / 1e6")" "$key" "$(calc "$bytes / $g / 1048576")"
	if [ -x /usr/bin/time ]; then
		cpu=$(/usr/bin/time -f "%U %S" "$TR" generate -t "$spec" -o "$TMP/r2.pcap" 2>&1 >/dev/null |
			tail -n 1 | awk '{ print $1 + $2 }')
		rm -f "$TMP/r2.pcap" "$TMP/r2.yml"
		printf "   %-34s %8.3f s %10.2f M %s/s %8.1f MB/s\n" "generate, CPU time" "$cpu" "$(calc "$n / max($cpu, 0.001) / 1e6")" "$key" "$(calc "$bytes / max($cpu, 0.001) / 1048576")"
	fi
	if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pm /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((mb * 3)) ]; then
		local shm=() shmcat=() dir
		dir=$(mktemp -d /dev/shm/tr-bench-gen.XXXXXX)
		for _ in $(seq "$REPS"); do
			shm+=("$(wall "$TR" generate -t "$spec" -o "$dir/out.pcap")")
			shmcat+=("$(wall sh -c "cat '$dir/out.pcap' >'$dir/cat'")")
			rm -f "$dir/cat"
		done
		rm -rf "$dir"
		s=$(median "${shm[@]}") sc=$(median "${shmcat[@]}")
		printf "   %-34s %8.3f s %10.2f M %s/s %8.1f MB/s\n" "generate into tmpfs" "$s" "$(calc "$n / $s / 1e6")" "$key" "$(calc "$bytes / $s / 1048576")"
		printf "   %-34s %8.3f s %10s %24.1f MB/s\n" "cat into tmpfs, same bytes" "$sc" "" "$(calc "$bytes / $sc / 1048576")"
		echo "   RATIO generate/cat in tmpfs (MB/s)  $(calc "round($sc / $s, 2)")"
	fi
	printf "   %-34s %8.3f s %10s %24.1f MB/s\n" "cat, same bytes, same folder" "$c" "" "$(calc "$bytes / $c / 1048576")"
	printf "   %-34s %8.3f s %10s %24.1f MB/s\n" "dd, same bytes, same folder" "$d" "" "$(calc "$mb / $d")"
	echo "   RATIO generate/cat (MB/s)          $(calc "round($c / $g, 2)")"
	echo "   goal: >= 200 MB/s"
	local dur
	dur=$(sed -n 's/^duration: //p' "$spec")
	sed "s/^duration: .*/duration: $((dur * 4))/" "$spec" >"$TMP/r-long.yml"
	r1=$(rss "$TR" generate -t "$spec" -o "$TMP/m1.pcap")
	rm -f "$TMP/m1.pcap" "$TMP/m1.yml"
	r4=$(rss "$TR" generate -t "$TMP/r-long.yml" -o "$TMP/m4.pcap")
	rm -f "$TMP/m4.pcap" "$TMP/m4.yml" "$TMP/r.pcap" "$TMP/r.yml"
	echo "   peak RSS: ${r1} MB for $dur s, ${r4} MB for $((dur * 4)) s (the tables are kept in no memory)"
}

routing_part "8b. Capture generation: BMP full table (examples/generate/bmp-full-table.yml)" \
	"$HERE/../examples/generate/bmp-full-table.yml" route_monitoring "Route Monitoring messages"
# BGP: bgp-churn.yml's 4 routers with BENCH_GEN_BGP_ROUTES prefixes each (1,000,000).
sed "s/routes: 20000/routes: ${BENCH_GEN_BGP_ROUTES:-1000000}/" "$HERE/../examples/generate/bgp-churn.yml" >"$TMP/bgp.yml"
routing_part "8c. Capture generation: BGP (bgp-churn.yml, ${BENCH_GEN_BGP_ROUTES:-1000000} prefixes per router)" \
	"$TMP/bgp.yml" updates UPDATEs
