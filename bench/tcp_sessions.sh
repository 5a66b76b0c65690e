#!/usr/bin/env bash
# Thousands of TCP sessions: ./bench/tcp_sessions.sh BUILD_DIR   (part 3 of run.sh)
#
# Replays a capture of BENCH_SESSIONS (10000) BMP sessions at time_factor 0 to
# bench/tcp_collector.c (reads and counts bytes, and costs less than the built-in
# sink, which frames them), and the same bytes through bench/tcp_baseline.c (the sessions
# preloaded, one non-blocking connection each on one epoll loop, nothing else) to
# the same collector; prints sessions/s, MB/s, peak RSS, the RSS while the
# sessions are open and idle (keep_open), and the ratios.  Then BGP
# sessions (one per address, at most 4,000, for the sink, which answers their OPENs) with a 3 s hold
# time replayed at time_factor 1, where KEEPALIVE timers fire all along: the share
# of sessions_tick (the timer scan) in a perf profile, when perf is installed.
# Never fails on a figure; see bench/README.md.
#
# Exporter addresses run BENCH_SESSION_PORTS (250) sessions each, from their own
# source ports (tr-pcapgen --ports), and are mapped to addresses of 127/8 (all
# local on Linux loopback): 10,000 sessions come from 40 addresses.
# Environment: BENCH_SESSIONS (10000, rounded up to a multiple of the ports),
# BENCH_SESSION_PORTS (250), BENCH_SESSION_MSGS (BMP route monitoring messages
# per session, 50), BENCH_REPS (3), CC (cc).
set -euo pipefail
export LC_ALL=C

BUILD=${1:-build}
N=${BENCH_SESSIONS:-10000}
PORTS=${BENCH_SESSION_PORTS:-250}
((PORTS <= N)) || PORTS=$N
ADDRS=$(((N + PORTS - 1) / PORTS))
N=$((ADDRS * PORTS))
MSGS=${BENCH_SESSION_MSGS:-50}
REPS=${BENCH_REPS:-3}
CC=${CC:-cc}
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/lib.sh"
bench_binaries tcp_sessions.sh "$BUILD"
# One socket per session in the replay, and another in the sink.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < N + 64)); then
	echo "tcp_sessions.sh: $N sessions need $((N + 64)) file descriptors in each process, the limit is $(ulimit -n)" >&2
	exit 2
fi

bench_tmp tcp

# start_collector / stop_collector: bench/tcp_collector.c for the N BMP sessions;
# stop_collector waits until all of them closed (in this shell: a child can only be
# waited for by its parent) and sets GOT to the bytes it read.
start_collector() {
	rm -f "$TMP/coll.ready"
	"$TMP/tcp_collector" --ready "$TMP/coll.ready" --sessions "$N" >"$TMP/coll.out" &
	SINK_PID=$!
	for _ in $(seq 500); do
		[[ -s $TMP/coll.ready ]] && break
		sleep 0.01
	done
	PORT=$(awk '$1 == "tcp" { print $2 }' "$TMP/coll.ready")
	[[ -n $PORT ]] || { echo "tcp_sessions.sh: the collector did not start" >&2; exit 1; }
}
stop_collector() {
	wait "$SINK_PID" || true
	SINK_PID=
	GOT=$(awk '{ print $2 }' "$TMP/coll.out")
}
# stop_sink: the sink's message and byte totals, "MESSAGES BYTES"
stop_sink() {
	kill -INT "$SINK_PID"
	wait "$SINK_PID" || true
	SINK_PID=
	json_get "$TMP/sink.json" "['totals']['tcp_messages'], d['totals']['bytes']" | tr -d '(),'
}

# exporters and the config mapping each to 127.x.y.z
write_cfg() { # PCAP DPORT SECTION TIME_FACTOR
	printf 'pcap: %s\ntime_factor: %s\nno_sync: true\nnetwork:\n  map:\n' "$1" "$4"
	for ((i = 0; i < ADDRS; i++)); do
		printf '  - {src_ip: 10.1.%d.%d, repro_ip: 127.1.%d.%d}\n' $((i / 250)) $((i % 250 + 1)) $((i / 250)) $((i % 250 + 1))
	done
	printf '%s:\n  select: {tcp: {dport: [%s]}}\n  collector: {ip: 127.0.0.1, port: @PORT@}\n' "$3" "$2"
}
exporters=(--ports "$PORTS")
for ((i = 0; i < ADDRS; i++)); do exporters+=(--exporter "10.1.$((i / 250)).$((i % 250 + 1))"); done

echo "== 3. TCP sessions: $N BMP sessions ($ADDRS addresses x $PORTS ports), time_factor 0, to bench/tcp_collector.c on 127.0.0.1"
echo "   baseline: bench/tcp_baseline.c: the same session bytes preloaded, one non-blocking"
echo "   connection per session from the same addresses, written on one epoll loop"
"$CC" -O2 -o "$TMP/tcp_baseline" "$HERE/tcp_baseline.c"
"$CC" -O2 -o "$TMP/peak_rss" "$HERE/peak_rss.c"
"$CC" -O2 -o "$TMP/tcp_collector" "$HERE/tcp_collector.c"
"$GEN" --proto bmp --count $((N * MSGS)) "${exporters[@]}" --out "$TMP/bmp.pcap" >/dev/null
write_cfg "$TMP/bmp.pcap" 1790 bmp 0 >"$TMP/bmp.yml.in"
printf '   capture: %.1f MB, %d route monitoring messages per session\n' \
	"$(calc "$(stat -c %s "$TMP/bmp.pcap")/1e6")" "$MSGS"

b_wall=() b_loop=() t_wall=()
for r in $(seq "$REPS"); do
	start_collector
	t0=${EPOCHREALTIME/./}
	line=$(timeout 120 "$TMP/tcp_baseline" --pcap "$TMP/bmp.pcap" --dport 1790 --port "$PORT")
	t1=${EPOCHREALTIME/./}
	stop_collector
	b_wall+=("$(calc "($t1-$t0)/1e6")")
	b_loop+=("$(awk '{print $6}' <<<"$line")")
	bytes=$(awk '{print $4}' <<<"$line")
	base_got=$GOT

	start_collector
	sed "s/@PORT@/$PORT/" "$TMP/bmp.yml.in" >"$TMP/bmp.yml"
	t0=${EPOCHREALTIME/./}
	timeout 120 "$TR" -t "$TMP/bmp.yml" --stats-json "$TMP/bmp.json" >"$TMP/bmp.log" 2>&1 ||
		{ echo "replay failed:"; tail "$TMP/bmp.log"; exit 1; }
	t1=${EPOCHREALTIME/./}
	stop_collector
	t_wall+=("$(calc "($t1-$t0)/1e6")")
	[[ $GOT == "$base_got" ]] || echo "   WARNING: the collector got $GOT bytes from the replay, $base_got from the baseline"
	printf '   run %d: baseline %.3f s (%.3f s in its connect+write loop)   replay %.3f s (wall)\n' \
		"$r" "${b_wall[-1]}" "${b_loop[-1]}" "${t_wall[-1]}"
done
start_collector
sed "s/@PORT@/$PORT/" "$TMP/bmp.yml.in" >"$TMP/bmp.yml"
rss=$("$TMP/peak_rss" "$TR" -t "$TMP/bmp.yml" || true)
stop_collector
rss_v=$("$TMP/peak_rss" "$TR" --version || true)
# Idle: the same replay with keep_open, its N sessions open and everything
# written; VmRSS once its CPU time stopped moving for 0.5 s, then SIGINT.
start_collector
sed "s/@PORT@/$PORT/" "$TMP/bmp.yml.in" >"$TMP/bmp.yml"
"$TR" -t "$TMP/bmp.yml" --keep-open >"$TMP/idle.log" 2>&1 &
idle_pid=$!
prev=-1
for _ in $(seq 240); do
	sleep 0.5
	cpu=$(awk '{ print $14 + $15 }' "/proc/$idle_pid/stat" 2>/dev/null) || break
	[[ $cpu == "$prev" ]] && break
	prev=$cpu
done
rss_idle=$(awk '/^VmRSS/ { print $2 }' "/proc/$idle_pid/status" 2>/dev/null || echo 0)
kill -INT "$idle_pid" 2>/dev/null || true
wait "$idle_pid" || true
stop_collector
BW=$(median "${b_wall[@]}")
BL=$(median "${b_loop[@]}")
TW=$(median "${t_wall[@]}")
echo "   median over $REPS runs, from exec to exit (the collector only reads, on both sides):"
printf '   %-30s %10.0f sessions/s %8.1f MB/s\n' "baseline (wall)" "$(calc "$N/$BW")" "$(calc "$bytes/$BW/1e6")"
printf '   %-30s %10.0f sessions/s %8.1f MB/s\n' "baseline (its loop only)" "$(calc "$N/$BL")" "$(calc "$bytes/$BL/1e6")"
printf '   %-30s %10.0f sessions/s %8.1f MB/s\n' "replay (wall)" "$(calc "$N/$TW")" "$(calc "$bytes/$TW/1e6")"
printf '   RATIO replay/baseline (wall) %.2f\n' "$(calc "$BW/$TW")"
printf '   peak RSS: replay %s kB (%s kB for --version: %.1f kB per session)\n' "$rss" "$rss_v" \
	"$(calc "($rss-$rss_v)/$N")"
printf '   RSS with the %d sessions open and idle (keep_open): %s kB (%.1f kB per idle session)\n' "$N" "$rss_idle" \
	"$(calc "($rss_idle-$rss_v)/$N")"

# BGP sessions of one address are one router's feed, replayed one after another:
# one address each here, 4,000 at most (a network.map entry each).
((N <= 4000)) || N=4000
ADDRS=$N
exporters=()
for ((i = 0; i < ADDRS; i++)); do exporters+=(--exporter "10.1.$((i / 250)).$((i % 250 + 1))"); done
echo
echo "== 3b. Timers: $N BGP sessions, hold time 3 s (a KEEPALIVE due every second per"
echo "   idle session), time_factor 1, 6 s of capture, to the sink (which answers OPENs)"
"$GEN" --proto bgp --count $((N * 2)) --hold-time 3 --gap-us $((6000000 / (N * 13))) "${exporters[@]}" \
	--out "$TMP/bgp.pcap" >/dev/null
write_cfg "$TMP/bgp.pcap" 179 bgp 1 >"$TMP/bgp.yml.in"
start_tcp_sink tcp_sessions.sh
sed "s/@PORT@/$PORT/" "$TMP/bgp.yml.in" >"$TMP/bgp.yml"
if command -v perf >/dev/null && perf record -q -o "$TMP/perf.data" -- "$TR" -t "$TMP/bgp.yml" \
	--stats-json "$TMP/bgp.json" >"$TMP/bgp.log" 2>&1; then
	share=$(perf report -i "$TMP/perf.data" --no-children --sort symbol 2>/dev/null |
		awk '/sessions_tick/ { s += $1 } END { printf "%.2f", s }')
	echo "   sessions_tick: ${share:-0} % of the replay's samples (perf)"
else
	timeout 120 "$TR" -t "$TMP/bgp.yml" --stats-json "$TMP/bgp.json" >"$TMP/bgp.log" 2>&1 || true
	echo "   (perf is not installed or not permitted: no profile)"
fi
stop_sink >/dev/null
printf '   %s KEEPALIVEs added, lag max %.3f ms, duration %.2f s\n' \
	"$(json_get "$TMP/bgp.json" "['tcp']['bgp_keepalives_added']")" \
	"$(json_get "$TMP/bgp.json" "['lag_ms']['max']")" "$(json_get "$TMP/bgp.json" "['duration_s']")"
