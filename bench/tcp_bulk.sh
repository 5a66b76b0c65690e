#!/usr/bin/env bash
# Bulk BMP: ./bench/tcp_bulk.sh BUILD_DIR   (part 5 of run.sh)
#
# BENCH_BULK_MB (1000) MB of BMP route monitoring (502-byte messages) over 1, 11 and
# 100 sessions, replayed at time_factor 0 to the built-in sink, and the same session
# bytes copied to the same sink by bench/tcp_baseline.c (preloaded, one non-blocking
# connection per session on one epoll loop) in 1,400-byte and in 64 KiB writes.
# Prints MB/s, the ratios replay / copy and the replay's CPU time (user + system:
# steadier than wall time on a shared machine).  The replay is timed from exec to
# exit (reading the capture, framing, everything); the copies only in their write
# loop, so the ratio is a lower bound.  Never fails on a figure; see bench/README.md.
#
# Environment: BENCH_BULK_MB (1000), BENCH_BULK_SESSIONS ("1 11 100"), BENCH_REPS (1), CC (cc).
set -euo pipefail
export LC_ALL=C

BUILD=${1:-build}
MB=${BENCH_BULK_MB:-1000}
SESSIONS=${BENCH_BULK_SESSIONS:-1 11 100}
REPS=${BENCH_REPS:-1}
CC=${CC:-cc}
MSG_LEN=502	# tr-pcapgen --proto bmp --records 100: one route monitoring message
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/lib.sh"
bench_binaries tcp_bulk.sh "$BUILD"

bench_tmp bulk

# stop_sink: the sink's byte total
stop_sink() {
	kill -INT "$SINK_PID"
	wait "$SINK_PID" || true
	SINK_PID=
	json_get "$TMP/sink.json" "['totals']['bytes']"
}

# copy W: the bare copy in W-byte writes; sets COPY_S (its loop) and COPY_BYTES
copy() {
	local line
	start_tcp_sink tcp_bulk.sh
	line=$(timeout 300 "$TMP/tcp_baseline" --pcap "$TMP/bmp.pcap" --dport 1790 --port "$PORT" --write "$1")
	stop_sink >/dev/null
	COPY_S=$(awk '{print $6}' <<<"$line")
	COPY_BYTES=$(awk '{print $4}' <<<"$line")
}

# replay: sets REPLAY_S (exec to exit), REPLAY_CPU (its user + system seconds)
# and REPLAY_GOT (bytes at the sink)
replay() {
	local t0 t1 rc=0 TIMEFORMAT='%3U %3S'
	start_tcp_sink tcp_bulk.sh
	sed "s/@PORT@/$PORT/" "$TMP/bmp.yml.in" >"$TMP/bmp.yml"
	t0=${EPOCHREALTIME/./}
	# bash's time reports the CPU of what it waited for, the replay under timeout included.
	{ time timeout 300 "$TR" -t "$TMP/bmp.yml" >"$TMP/bmp.log" 2>&1 || rc=$?; } 2>"$TMP/cpu"
	t1=${EPOCHREALTIME/./}
	((rc == 0)) || { echo "replay failed:"; tail "$TMP/bmp.log"; exit 1; }
	REPLAY_GOT=$(stop_sink)
	REPLAY_S=$(calc "($t1-$t0)/1e6")
	REPLAY_CPU=$(awk '{print $1 + $2}' "$TMP/cpu")
}

echo "== 5. Bulk BMP: $MB MB over $SESSIONS sessions, time_factor 0, to the built-in sink on 127.0.0.1"
echo "   baselines: bench/tcp_baseline.c copying the same session bytes (preloaded) in 1,400-byte"
echo "   and 64 KiB writes to the same sink; the replay timed from exec to exit"
"$CC" -O2 -o "$TMP/tcp_baseline" "$HERE/tcp_baseline.c"
for S in $SESSIONS; do
	exporters=()
	for ((i = 0; i < S; i++)); do exporters+=(--exporter "10.4.$((i / 250)).$((i % 250 + 1))"); done
	"$GEN" --proto bmp --records 100 --count $((MB * 1000000 / MSG_LEN)) "${exporters[@]}" \
		--out "$TMP/bmp.pcap" >/dev/null
	{
		printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$TMP/bmp.pcap"
		for ((i = 0; i < S; i++)); do
			printf '  - {src_ip: 10.4.%d.%d, repro_ip: 127.4.%d.%d}\n' $((i / 250)) $((i % 250 + 1)) $((i / 250)) $((i % 250 + 1))
		done
		printf 'bmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: @PORT@}\n'
	} >"$TMP/bmp.yml.in"
	c1=() c64=() rp=() cpu=()
	for _ in $(seq "$REPS"); do
		copy 1400
		c1+=("$COPY_S")
		copy 65536
		c64+=("$COPY_S")
		replay
		rp+=("$REPLAY_S")
		cpu+=("$REPLAY_CPU")
		[[ $REPLAY_GOT == "$COPY_BYTES" ]] ||
			echo "   WARNING: the sink got $REPLAY_GOT bytes from the replay, $COPY_BYTES from the copy"
	done
	C1=$(median "${c1[@]}") C64=$(median "${c64[@]}") RP=$(median "${rp[@]}") CPU=$(median "${cpu[@]}")
	printf '   %3d sessions, %.0f MB: copy 1400 B %7.1f MB/s   copy 64 KiB %7.1f MB/s   replay %7.1f MB/s\n' \
		"$S" "$(calc "$COPY_BYTES/1e6")" "$(calc "$COPY_BYTES/$C1/1e6")" "$(calc "$COPY_BYTES/$C64/1e6")" \
		"$(calc "$COPY_BYTES/$RP/1e6")"
	printf '   %3d sessions: RATIO replay/copy-1400 %.2f   replay/copy-64KiB %.2f\n' "$S" \
		"$(calc "$C1/$RP")" "$(calc "$C64/$RP")"
	# Steadier than wall time on a shared machine: what the replay itself spent.
	printf '   %3d sessions: replay CPU %.3f s (user + system) of %.3f s, %.1f MB per CPU second\n' "$S" \
		"$CPU" "$RP" "$(calc "$COPY_BYTES/max($CPU, 0.001)/1e6")"
	rm -f "$TMP/bmp.pcap"
done
