#!/usr/bin/env bash
# Isolation: ./bench/tcp_isolation.sh BUILD_DIR   (part 6 of run.sh)
#
# One replay of 200 BMP sessions at time_factor 0: 100 to a collector that reads at
# 1 MB/s (bench/tcp_collector.c --rate, 64 KiB receive buffers), 100 to one that
# reads as fast as it can (the same program without --rate).  Baseline, in the same
# invocation: the fast 100 replayed alone (the slow ones' capture not selected).
# Prints how long the fast collector took from its first connection to the last
# close, alone and beside the slow one, and the ratio (goal: within 10 %), and
# what the slow one had read by then.  The replay is stopped once the fast ones
# are done (or after BENCH_ISOLATION_LIMIT s).  The replay's sockets get a 256 KiB
# send buffer (so_sndbuf), so that the slow collector's backlog is in the
# replay's queues rather than in the kernel's.  Never fails on a figure.
#
# Environment: BENCH_ISOLATION_KB (per session, 800), BENCH_ISOLATION_RATE (bytes/s
# of the slow collector, 1000000), BENCH_ISOLATION_LIMIT (60), CC (cc).
set -euo pipefail
export LC_ALL=C

BUILD=${1:-build}
KB=${BENCH_ISOLATION_KB:-800}
RATE=${BENCH_ISOLATION_RATE:-1000000}
LIMIT=${BENCH_ISOLATION_LIMIT:-60}
CC=${CC:-cc}
N=100
MSG_LEN=502	# tr-pcapgen --proto bmp --records 100
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/lib.sh"
bench_binaries tcp_isolation.sh "$BUILD"

TMP=$(mktemp -d /tmp/tr-bench-iso.XXXXXX)
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# collector NAME ARGS...: starts bench/tcp_collector, its port in PORT_NAME, pid in PID_NAME
collector() {
	local name=$1 port
	shift
	"$TMP/tcp_collector" --ready "$TMP/$name.ready" --sessions $N "$@" >"$TMP/$name.out" &
	printf -v "PID_$name" '%s' $!
	PIDS+=($!)
	for _ in $(seq 500); do
		[[ -s $TMP/$name.ready ]] && break
		sleep 0.01
	done
	port=$(awk '$1 == "tcp" { print $2 }' "$TMP/$name.ready")
	[[ -n $port ]] || { echo "tcp_isolation.sh: collector $name did not start" >&2; exit 1; }
	printf -v "PORT_$name" '%s' "$port"
}

# config WITH_SLOW: the replay's config (the slow section only when WITH_SLOW is 1)
config() {
	printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nso_sndbuf: 262144\nnetwork:\n  map:\n' "$TMP/both.pcap"
	for ((i = 0; i < N; i++)); do
		printf '  - {src_ip: 10.5.0.%d, repro_ip: 127.5.0.%d}\n' $((i + 1)) $((i + 1))
		printf '  - {src_ip: 10.6.0.%d, repro_ip: 127.6.0.%d}\n' $((i + 1)) $((i + 1))
	done
	printf 'bmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$PORT_fast"
	if [[ $1 == 1 ]]; then
		printf 'tcp_generic:\n  select: {tcp: {dport: [1791]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$PORT_slow"
	fi
}

# run WITH_SLOW: one replay; prints the fast collector's line, then the slow one's
run() {
	local rpid
	collector fast
	[[ $1 == 1 ]] && collector slow --rate "$RATE" --rcvbuf 65536
	config "$1" >"$TMP/run.yml"
	"$TR" -t "$TMP/run.yml" >"$TMP/replay.log" 2>&1 &
	rpid=$!
	PIDS+=("$rpid")
	for _ in $(seq $((LIMIT * 10))); do
		kill -0 "$PID_fast" 2>/dev/null || break
		sleep 0.1
	done
	kill "$PID_fast" 2>/dev/null || true
	wait "$PID_fast" || true
	if [[ $1 == 1 ]]; then
		kill "$PID_slow" 2>/dev/null || true
		wait "$PID_slow" || true
	fi
	kill "$rpid" 2>/dev/null || true
	wait "$rpid" 2>/dev/null || true
	cat "$TMP/fast.out"
	[[ $1 == 1 ]] && cat "$TMP/slow.out"
	return 0
}

echo "== 6. Isolation: $N BMP sessions to a collector reading at $(calc "$RATE/1e6") MB/s, $N to a fast one,"
echo "   $KB kB each, time_factor 0; baseline: the fast $N alone"
"$CC" -O2 -o "$TMP/tcp_collector" "$HERE/tcp_collector.c"
count=$((N * KB * 1000 / MSG_LEN))
fast=() slow=()
for ((i = 0; i < N; i++)); do
	fast+=(--exporter "10.5.0.$((i + 1))")
	slow+=(--exporter "10.6.0.$((i + 1))")
done
"$GEN" --proto bmp --records 100 --count "$count" "${fast[@]}" --dport 1790 --out "$TMP/fast.pcap" >/dev/null
"$GEN" --proto bmp --records 100 --count "$count" "${slow[@]}" --dport 1791 --out "$TMP/slow.pcap" >/dev/null
mergecap -w "$TMP/both.pcap" "$TMP/fast.pcap" "$TMP/slow.pcap"

read -r _ a_bytes _ a_closed _ a_s <<<"$(run 0)"
out=$(run 1)
read -r _ b_bytes _ b_closed _ b_s <<<"$(sed -n 1p <<<"$out")"
read -r _ s_bytes _ _ _ s_s <<<"$(sed -n 2p <<<"$out")"
printf '   fast alone:        %3d sessions closed, %6.1f MB in %6.2f s\n' "$a_closed" "$(calc "$a_bytes/1e6")" "$a_s"
printf '   fast beside slow:  %3d sessions closed, %6.1f MB in %6.2f s%s\n' "$b_closed" "$(calc "$b_bytes/1e6")" "$b_s" \
	"$( ((b_closed < N)) && echo "  (not done after $LIMIT s)")"
printf '   slow by then:      %6.1f MB read in %6.2f s of %.1f MB\n' "$(calc "$s_bytes/1e6")" "$s_s" "$(calc "$N*$KB/1e3")"
printf '   RATIO fast beside slow / alone (time) %.2f\n' "$(calc "$b_s/$a_s")"
