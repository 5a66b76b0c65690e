#!/usr/bin/env bash
# Isolation: ./bench/tcp_isolation.sh BUILD_DIR   (part 6 of run.sh)
#
# One replay of 200 BMP sessions at time_factor 0: 100 to a collector that reads at
# 1 MB/s (bench/tcp_collector.c --rate, 64 KiB receive buffers), 100 to one that
# reads as fast as it can (the same program without --rate).  Two baselines, in
# the same invocation: the fast 100 replayed alone (the slow ones' capture not
# selected: the replay reads and frames half the bytes), and the same capture
# with the other 100 sent to a second fast collector (the same work for the
# replay; only the collector's slowness differs: the fairer one).  Prints how
# long the fast collector took from its first connection to the last close in
# each case (medians of BENCH_REPS runs), the ratios (goal: within 10 %), and
# what the slow one had read by then.  The replay is stopped once the fast ones
# are done (or after BENCH_ISOLATION_LIMIT s).  The replay's sockets get a 256 KiB
# send buffer (so_sndbuf), so that the slow collector's backlog is in the
# replay's queues rather than in the kernel's.  Never fails on a figure.
#
# Environment: BENCH_ISOLATION_KB (per session, 800), BENCH_ISOLATION_RATE (bytes/s
# of the slow collector, 1000000), BENCH_ISOLATION_LIMIT (60), BENCH_REPS (3), CC (cc).
set -euo pipefail
export LC_ALL=C

BUILD=${1:-build}
KB=${BENCH_ISOLATION_KB:-800}
RATE=${BENCH_ISOLATION_RATE:-1000000}
LIMIT=${BENCH_ISOLATION_LIMIT:-60}
REPS=${BENCH_REPS:-3}
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
	rm -f "$TMP/$name.ready"	# the previous run's
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

# config MODE: the replay's config (the other 100 sessions' section unless MODE is 0)
config() {
	printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nso_sndbuf: 262144\nnetwork:\n  map:\n' "$TMP/both.pcap"
	for ((i = 0; i < N; i++)); do
		printf '  - {src_ip: 10.5.0.%d, repro_ip: 127.5.0.%d}\n' $((i + 1)) $((i + 1))
		printf '  - {src_ip: 10.6.0.%d, repro_ip: 127.6.0.%d}\n' $((i + 1)) $((i + 1))
	done
	printf 'bmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$PORT_fast"
	if [[ $1 != 0 ]]; then
		printf 'tcp_generic:\n  select: {tcp: {dport: [1791]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$PORT_slow"
	fi
}

# run MODE: one replay (0: the fast 100 alone; 1: beside the slow collector; 2:
# the other 100 to a second fast collector); prints the fast collector's line,
# then the other one's
run() {
	local rpid
	collector fast
	case $1 in
	1) collector slow --rate "$RATE" --rcvbuf 65536 ;;
	2) collector slow ;;
	esac
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
	if [[ $1 != 0 ]]; then
		kill "$PID_slow" 2>/dev/null || true
		wait "$PID_slow" || true
	fi
	kill "$rpid" 2>/dev/null || true
	wait "$rpid" 2>/dev/null || true
	cat "$TMP/fast.out"
	[[ $1 != 0 ]] && cat "$TMP/slow.out"
	return 0
}

echo "== 6. Isolation: $N BMP sessions to a collector reading at $(calc "$RATE/1e6") MB/s, $N to a fast one,"
echo "   $KB kB each, time_factor 0; baselines: the fast $N alone, and the other $N to a second fast collector"
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

a_t=() b_t=() c_t=()
for r in $(seq "$REPS"); do
	read -r _ a_bytes _ a_closed _ a_s <<<"$(run 0)"
	out=$(run 1)
	read -r _ b_bytes _ b_closed _ b_s <<<"$(sed -n 1p <<<"$out")"
	read -r _ s_bytes _ _ _ s_s <<<"$(sed -n 2p <<<"$out")"
	out=$(run 2)
	read -r _ c_bytes _ c_closed _ c_s <<<"$(sed -n 1p <<<"$out")"
	a_t+=("$a_s") b_t+=("$b_s") c_t+=("$c_s")
	printf '   run %d: fast alone %.2f s (%d closed, %.1f MB); beside the slow %.2f s (%d closed, %.1f MB; the slow read %.1f MB); beside a fast %.2f s (%d closed)\n' \
		"$r" "$a_s" "$a_closed" "$(calc "$a_bytes/1e6")" "$b_s" "$b_closed" "$(calc "$b_bytes/1e6")" \
		"$(calc "$s_bytes/1e6")" "$c_s" "$c_closed"
	((b_closed < N)) && echo "   (beside the slow: not done after $LIMIT s)"
done
A=$(median "${a_t[@]}") B=$(median "${b_t[@]}") C=$(median "${c_t[@]}")
printf '   medians of %d runs: fast alone %.2f s, beside a second fast collector %.2f s, beside the slow one %.2f s\n' "$REPS" "$A" "$C" "$B"
printf '   RATIO beside the slow / beside a second fast collector (time) %.2f   (the fairer baseline)\n' "$(calc "$B/$C")"
printf '   RATIO beside the slow / fast alone (time) %.2f\n' "$(calc "$B/$A")"
