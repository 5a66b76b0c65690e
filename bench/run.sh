#!/usr/bin/env bash
# Benchmarks of traffic-reproducer: ./bench/run.sh BUILD_DIR   (make bench)
#
# Prints figures and ratios against baselines measured in the same run; never
# fails on a figure (timings are not assertions; these machines are noisy).
# Traffic goes to 127.0.0.1 only; temp files live in one mktemp directory that
# is removed at exit.  See bench/README.md.
#
# Environment: BENCH_COUNT (datagrams of the throughput capture, 1000000),
# BENCH_REPS (repetitions of each throughput run, 3), BENCH_TIMING_REPS
# (repetitions of each timing run, 5; medians are reported),
# CC (cc); bench/tcp_sessions.sh's (part 3); BENCH_PREPROC_MB (size of the
# capture bench/preproc.sh pre-processes in part 4, 1024); BENCH_ANON_MB (size
# of the capture bench/anon.sh anonymizes in part 7, 1024); bench/rate.sh's
# BENCH_RATES and BENCH_RATE_SECONDS (part 10).
set -euo pipefail
export LC_ALL=C

BUILD=${1:-build}
COUNT=${BENCH_COUNT:-1000000}
REPS=${BENCH_REPS:-3}
TREPS=${BENCH_TIMING_REPS:-5}
CC=${CC:-cc}
HERE=$(cd "$(dirname "$0")" && pwd)

. "$HERE/lib.sh"
bench_binaries run.sh "$BUILD"
for t in python3 "$CC" timeout; do
	command -v "$t" >/dev/null || { echo "run.sh: $t is needed" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/tr-bench.XXXXXX)
RECV_PID=
cleanup() {
	if [[ -n $RECV_PID ]]; then
		kill "$RECV_PID" 2>/dev/null || true
		wait "$RECV_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# start_receiver MODE... : udp_timestamper in the background; sets PORT
start_receiver() {
	rm -f "$TMP/ready" "$TMP/arrivals"
	timeout 120 "$TMP/udp_timestamper" --ready "$TMP/ready" --out "$TMP/arrivals" "$@" \
		2>>"$TMP/receiver.log" &
	RECV_PID=$!
	for _ in $(seq 500); do
		[[ -s $TMP/ready ]] && break
		sleep 0.01
	done
	[[ -s $TMP/ready ]] || { echo "run.sh: receiver did not start" >&2; exit 1; }
	PORT=$(cat "$TMP/ready")
}
# stop_receiver: SIGTERM (a --log receiver exits by itself: just wait)
stop_receiver() {
	[[ ${1:-} == wait ]] || kill "$RECV_PID" 2>/dev/null || true
	wait "$RECV_PID" 2>/dev/null || true
	RECV_PID=
}
# first_arrival_us: the kernel stamp of the first datagram (--first mode)
first_arrival_us() {
	for _ in $(seq 200); do
		[[ -s $TMP/arrivals ]] && break
		sleep 0.01
	done
	local k _rest
	read -r k _rest <"$TMP/arrivals"
	echo $((k / 1000))
}
# write_cfg PCAP PORT TIME_FACTOR > config
write_cfg() {
	cat <<EOF
pcap: $1
time_factor: $3
no_sync: true
network:
  map:
  - src_ip: 192.0.2.1
    repro_ip: 127.0.0.1
ipfix:
  collector:
    ip: 127.0.0.1
    port: $2
EOF
}

echo "== traffic-reproducer benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -r))"
echo "   binary: $TR; repetitions per timed run: $REPS (median reported)"
echo "   figures are noisy on shared machines: compare ratios, not absolutes"

"$CC" -O2 -o "$TMP/udp_baseline" "$HERE/udp_baseline.c"
"$CC" -O2 -o "$TMP/udp_timestamper" "$HERE/udp_timestamper.c"
"$CC" -O2 -o "$TMP/peak_rss" "$HERE/peak_rss.c"

###########################################################################
echo
echo "== 1. Throughput: IPFIX capture, time_factor 0, no_sync, to 127.0.0.1"
echo "   receiver (both sides): a UDP socket on 127.0.0.1 that reads only the first"
echo "   datagram, then never reads (once its buffer is full the kernel drops"
echo "   datagrams at the socket, after the sender paid the whole send path)"
echo "   baseline: bench/udp_baseline.c --flood: the same datagrams, preloaded,"
echo "   sendmmsg batches of 64 on one connected socket (send loop timed only)"

SMALL=$((COUNT / 10))
t0=${EPOCHREALTIME/./}
"$GEN" --proto ipfix --count "$COUNT" --out "$TMP/big.pcap" >/dev/null
t1=${EPOCHREALTIME/./}
"$GEN" --proto ipfix --count "$SMALL" --out "$TMP/small.pcap" >/dev/null
printf '   capture: %d datagrams, %.1f MB, generated in %.2f s (and a %d-datagram one)\n' \
	"$COUNT" "$(calc "$(stat -c %s "$TMP/big.pcap")/1e6")" "$(calc "($t1-$t0)/1e6")" "$SMALL"

base_rates=() tool_rates=() tool_irates=() tool_ttfp=()
for r in $(seq "$REPS"); do
	start_receiver --first
	line=$(timeout 120 "$TMP/udp_baseline" --pcap "$TMP/big.pcap" --port "$PORT" --flood)
	stop_receiver
	base_rates+=("$(awk '{print $6}' <<<"$line")")
	base_n=$(awk '{print $2}' <<<"$line")

	start_receiver --first
	write_cfg "$TMP/big.pcap" "$PORT" 0 >"$TMP/tp.yml"
	t0=${EPOCHREALTIME/./}
	timeout 120 "$TR" -t "$TMP/tp.yml" --stats-json "$TMP/tp.json" >"$TMP/tp.log" 2>&1 ||
		{ echo "replay failed:"; cat "$TMP/tp.log"; exit 1; }
	t1=${EPOCHREALTIME/./}
	first=$(first_arrival_us)
	stop_receiver
	sent=$(json_get "$TMP/tp.json" "['sections']['ipfix']['sent']")
	dur=$(json_get "$TMP/tp.json" "['duration_s']")
	[[ $sent == "$base_n" ]] || echo "   WARNING: replay sent $sent datagrams, baseline $base_n"
	tool_rates+=("$(calc "$sent/(($t1-$t0)/1e6)")")
	tool_irates+=("$(calc "$sent/$dur")")
	tool_ttfp+=("$(calc "($first-$t0)/1e3")")
	printf '   run %d: baseline %8.0f dgram/s   replay %8.0f dgram/s (wall), %8.0f (its duration_s)   first packet %.2f ms\n' \
		"$r" "${base_rates[-1]}" "${tool_rates[-1]}" "${tool_irates[-1]}" "${tool_ttfp[-1]}"
done
B=$(median "${base_rates[@]}")
T=$(median "${tool_rates[@]}")
TI=$(median "${tool_irates[@]}")
printf '   median: baseline %.0f dgram/s, replay %.0f dgram/s (process wall clock, start to exit)\n' "$B" "$T"
printf '   RATIO replay/baseline: %.3f (wall clock), %.3f (replay duration_s)   target >= 0.90\n' \
	"$(calc "$T/$B")" "$(calc "$TI/$B")"

# Flow fidelity: every message rewritten (sequence numbers continued, every
# record's times shifted) against bytes as captured, same capture, same run.
echo "   flow fidelity cost: sequence continue + timestamps shift vs templates/sequence as-captured"
plain_rates=() fixed_rates=()
for r in $(seq "$REPS"); do
	for mode in plain fixed; do
		write_cfg "$TMP/big.pcap" "$PORT" 0 >"$TMP/ff.yml"
		if [[ $mode == plain ]]; then
			printf '  templates: as-captured\n  sequence: as-captured\n' >>"$TMP/ff.yml"
		else
			printf '  sequence: continue\n  timestamps: shift\n' >>"$TMP/ff.yml"
		fi
		start_receiver --first
		t0=${EPOCHREALTIME/./}
		timeout 120 "$TR" -t "$TMP/ff.yml" --stats-json "$TMP/ff.json" >"$TMP/ff.log" 2>&1 ||
			{ echo "replay failed:"; cat "$TMP/ff.log"; exit 1; }
		t1=${EPOCHREALTIME/./}
		stop_receiver
		rate=$(calc "$(json_get "$TMP/ff.json" "['sections']['ipfix']['sent']")/(($t1-$t0)/1e6)")
		if [[ $mode == plain ]]; then plain_rates+=("$rate"); else fixed_rates+=("$rate"); fi
	done
	printf '   run %d: as-captured %8.0f dgram/s   rewritten %8.0f dgram/s\n' "$r" "${plain_rates[-1]}" "${fixed_rates[-1]}"
done
printf '   RATIO rewritten/as-captured: %.3f\n' "$(calc "$(median "${fixed_rates[@]}")/$(median "${plain_rates[@]}")")"

# Peak RSS: wait4() rusage of one replay (bench/peak_rss.c).
start_receiver --first
write_cfg "$TMP/big.pcap" "$PORT" 0 >"$TMP/rss_big.yml"
write_cfg "$TMP/small.pcap" "$PORT" 0 >"$TMP/rss_small.yml"
rss_big=$(timeout 120 "$TMP/peak_rss" "$TR" -t "$TMP/rss_big.yml")
rss_small=$(timeout 120 "$TMP/peak_rss" "$TR" -t "$TMP/rss_small.yml")
rss_ver=$(timeout 10 "$TMP/peak_rss" "$TR" --version)
stop_receiver
printf '   peak RSS: %d kB for %d datagrams, %d kB for %d datagrams (ratio %.2f; flat = ~1.0)\n' \
	"$rss_big" "$COUNT" "$rss_small" "$SMALL" "$(calc "$rss_big/$rss_small")"
printf '     (for scale: traffic-reproducer --version peaks at %d kB: the binary and its libraries)\n' "$rss_ver"

# Time to first packet: launch (bash's EPOCHREALTIME just before fork+exec)
# to the receiver's kernel stamp of the first datagram, CLOCK_REALTIME on both.
floor=()
for r in $(seq 5); do
	start_receiver --first
	t0=${EPOCHREALTIME/./}
	"$TMP/udp_baseline" --pcap "$TMP/big.pcap" --port "$PORT" --first
	first=$(first_arrival_us)
	stop_receiver
	floor+=("$(calc "($first-$t0)/1e3")")
done
FT=$(median "${tool_ttfp[@]}")
FB=$(median "${floor[@]}")
printf '   time to first packet (%d-datagram capture): replay %.2f ms (median; max %.2f), floor %.2f ms\n' \
	"$COUNT" "$FT" "$(printf '%s\n' "${tool_ttfp[@]}" | sort -g | tail -1)" "$FB"
echo "     (floor: udp_baseline --first = fork+exec, open the capture, one datagram; target: replay < 10 ms)"

###########################################################################
echo
echo "== 2. Timing precision: 2000 IPFIX datagrams 1 ms apart, time_factor 1"
echo "   receiver: bench/udp_timestamper.c --log (SO_TIMESTAMPNS kernel stamps, recvmmsg)"
echo "   error_i = |(arrival_i - arrival_0) - (ts_i - ts_0)|, in microseconds;"
echo "   'vs median offset': |(arrival_i - ts_i) - median(arrival - ts)| (robust to a late datagram 0)"
echo "   baselines: udp_baseline --paced 1: the same datagrams at the same deadlines,"
echo "   clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) only ('sleep'), or sleeping"
echo "   to 50 us before and spinning the rest ('sleep+spin', what the tool does)"

"$GEN" --proto ipfix --count 2000 --gap-us 1000 --out "$TMP/gap.pcap" >/dev/null
N=$(python3 "$HERE/timing_stats.py" --count "$TMP/gap.pcap")
write_cfg "$TMP/gap.pcap" PORT 1 >"$TMP/gap.tmpl"
: >"$TMP/timing.txt"
run_timed() { # LABEL COMMAND... (PORT substituted)
	local label=$1
	shift
	start_receiver --log "$N" --idle-ms 3000
	local args=("${@//@PORT@/$PORT}")
	if [[ ${args[0]} == replay ]]; then
		sed "s/port: PORT/port: $PORT/" "$TMP/gap.tmpl" >"$TMP/gap.yml"
		timeout 60 "$TR" -t "$TMP/gap.yml" >"$TMP/gap.log" 2>&1 ||
			{ echo "replay failed:"; cat "$TMP/gap.log"; exit 1; }
	else
		timeout 60 "${args[@]}" >/dev/null
	fi
	stop_receiver wait
	python3 "$HERE/timing_stats.py" "$TMP/gap.pcap" "$TMP/arrivals" "$label" |
		tee -a "$TMP/timing.txt" | grep -v '^#stats' | sed 's/^/   /'
}
kinds=(replay sleep sleep+spin)
for r in $(seq "$TREPS"); do
	for j in 0 1 2; do # rotate the order: no kind always runs first
		case ${kinds[(j + r) % 3]} in
		replay) run_timed "replay#$r" replay ;;
		sleep) run_timed "sleep#$r" "$TMP/udp_baseline" --pcap "$TMP/gap.pcap" --port @PORT@ --paced 1 ;;
		sleep+spin) run_timed "sleep+spin#$r" "$TMP/udp_baseline" --pcap "$TMP/gap.pcap" \
			--port @PORT@ --paced 1 --spin-us 50 ;;
		esac
	done
done
python3 - "$TMP/timing.txt" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("#stats"):
        f = line.split()
        rows.setdefault(f[1].split("#")[0], []).append([float(x) for x in f[2:8]])
med = {k: [statistics.median(c) for c in zip(*v)] for k, v in rows.items()}
print("   median over runs (us)     vs arrival_0:  p50     p99      max | vs median offset: p50    p99     max")
for k in ("replay", "sleep", "sleep+spin"):
    if k in med:
        print("   %-26s %9.1f %7.1f %8.1f |%21.1f %6.1f %7.1f" % (k, *med[k]))
for b in ("sleep", "sleep+spin"):
    if "replay" in med and b in med:
        r = [t / x if x else float("nan") for t, x in zip(med["replay"], med[b])]
        print("   RATIO replay/%-12s %9.2f %7.2f %8.2f |%21.2f %6.2f %7.2f" % (b, *r))
print("   target: replay p99 < 50 us (the older Python tool: ~10 ms)")
EOF

echo
"$HERE/tcp_sessions.sh" "$BUILD"

echo
echo "== 4. Pre-processing (-p): a generated ${BENCH_PREPROC_MB:-1024} MB BMP + IPFIX capture"
SIZE_MB=${BENCH_PREPROC_MB:-1024} "$HERE/preproc.sh" "$BUILD" || {
	rc=$?
	[ $rc -eq 77 ] && echo "   skipped: mergecap (wireshark-common) is not installed" || exit $rc
}

echo
"$HERE/tcp_bulk.sh" "$BUILD"

echo
echo "== 7. anonymize: a generated ${BENCH_ANON_MB:-1024} MB BMP + IPFIX capture"
SIZE_MB=${BENCH_ANON_MB:-1024} "$HERE/anon.sh" "$BUILD" || {
	rc=$?
	[ $rc -eq 77 ] && echo "   skipped: mergecap (wireshark-common) is not installed" || exit $rc
}

echo
if command -v mergecap >/dev/null; then
	"$HERE/tcp_isolation.sh" "$BUILD"
else
	echo "== 6. Isolation: skipped: mergecap (wireshark-common) is not installed"
fi

echo
"$HERE/generate.sh" "$BUILD"

echo
"$HERE/rate.sh" "$BUILD"

echo
echo "== done"
