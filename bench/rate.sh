#!/usr/bin/env bash
# Rate accuracy of --pps (issue 15): ./bench/rate.sh BUILD_DIR   (part 10 of bench/run.sh)
#
# For each requested rate, the replay sends a looped IPFIX capture with
# --pps RATE --loop 0 --duration SECONDS to bench/rate_counter.c, which
# counts the datagrams per second of their kernel arrival stamps.  Prints
# the overall rate and each second's against the request (goal: within 1 %
# overall, 5 % per second), and the ratio to a bare paced sendmmsg loop
# (bench/udp_baseline.c --rate RATE --seconds SECONDS --spin-us 50: the same
# datagrams from memory, the ones due sent together, sleeping to the next
# 100 us tick), in the same run.  Never fails on a figure.
#
# Environment: BENCH_RATES (requested rates, "100000 1000000"),
# BENCH_RATE_SECONDS (each run's --duration, 20; the issue's figure is 60),
# CC (cc).
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_binaries rate.sh "${1:-build}"
RATES=${BENCH_RATES:-100000 1000000}
SECS=${BENCH_RATE_SECONDS:-20}
CC=${CC:-cc}
bench_tmp rate

"$CC" -O2 -o "$TMP/rate_counter" "$HERE/rate_counter.c"
"$CC" -O2 -o "$TMP/udp_baseline" "$HERE/udp_baseline.c"

# start_counter: rate_counter in the background (SINK_PID, so bench_tmp's exit stops it); sets PORT.
start_counter() {
	rm -f "$TMP/ready" "$TMP/counts"
	"$TMP/rate_counter" --ready "$TMP/ready" --out "$TMP/counts" --idle-ms 1500 2>>"$TMP/counter.err" &
	SINK_PID=$!
	for _ in $(seq 500); do
		[[ -s $TMP/ready ]] && break
		sleep 0.01
	done
	[[ -s $TMP/ready ]] || { echo "rate.sh: rate_counter did not start" >&2; exit 1; }
	PORT=$(cat "$TMP/ready")
}
# wait_counter: it ends 1.5 s after the last datagram.
wait_counter() {
	wait "$SINK_PID" || { echo "rate.sh: rate_counter failed" >&2; cat "$TMP/counter.err" >&2; exit 1; }
	SINK_PID=
}
# measured RATE: overall rate (datagrams after the first over the span between
# first and last stamp), the whole seconds' worst and median error against RATE.
measured() {
	python3 - "$TMP/counts" "$1" <<'PY'
import statistics, sys
lines = open(sys.argv[1]).read().split("\n")
want = float(sys.argv[2])
head = lines[0].split()
total, drops, first, last = int(head[1]), int(head[3]), int(head[5]), int(head[7])
per = [int(l.split()[1]) for l in lines[1:] if l.strip()]
span = (last - first) / 1e9
rate = (total - 1) / span if span > 0 else 0
errs = [abs(c - want) / want * 100 for c in per]
print("%d %d %.3f %.0f %.2f %.2f %.2f %d" % (total, drops, span, rate, (rate - want) / want * 100,
      max(errs) if errs else float("nan"), statistics.median(errs) if errs else float("nan"), len(per)))
PY
}

echo "== 10. Rate accuracy (--pps): looped IPFIX capture, --loop 0 --duration $SECS, to 127.0.0.1"
echo "   receiver: bench/rate_counter.c (datagrams per second of their SO_TIMESTAMPNS stamps)"
echo "   baseline: bench/udp_baseline.c --rate R --seconds $SECS --spin-us 50 (bare paced sendmmsg loop, same datagrams)"
echo "   goal: overall within 1 %, each second within 5 % of the request"

# Small datagrams (one record each), sent as captured: the pacer is measured, not flowfix.
"$GEN" --proto ipfix --count 200000 --records 1 --out "$TMP/loop.pcap" >/dev/null
for rate in $RATES; do
	start_counter
	cat >"$TMP/rate.yml" <<-YAML
	pcap: $TMP/loop.pcap
	time_factor: 1
	no_sync: true
	network:
	  map:
	  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.1}
	ipfix:
	  collector: {ip: 127.0.0.1, port: $PORT}
	  templates: as-captured
	  sequence: as-captured
	YAML
	timeout $((SECS + 60)) "$TR" -t "$TMP/rate.yml" --pps "$rate" --loop 0 --duration "$SECS" \
		--stats-json "$TMP/rate.json" >"$TMP/rate.log" 2>&1 || { echo "replay failed:"; cat "$TMP/rate.log"; exit 1; }
	wait_counter
	read -r total drops span got err worst med secs < <(measured "$rate")
	sent=$(json_get "$TMP/rate.json" "['sections']['ipfix']['sent']")
	lag=$(json_get "$TMP/rate.json" "['lag_ms']")

	start_counter
	timeout $((SECS + 60)) "$TMP/udp_baseline" --pcap "$TMP/loop.pcap" --port "$PORT" --rate "$rate" \
		--seconds "$SECS" --spin-us 50 >/dev/null
	wait_counter
	read -r btotal bdrops bspan bgot berr bworst bmed _ < <(measured "$rate")

	printf '   --pps %-8d replay: %9.0f dgram/s over %.2f s (%d sent, %d received, %d dropped at the receiver)\n' \
		"$rate" "$got" "$span" "$sent" "$total" "$drops"
	printf '                   error overall %+.2f %%; per second (%d s): worst %.2f %%, median %.2f %%; lag %s ms\n' \
		"$err" "$secs" "$worst" "$med" "$lag"
	printf '                   baseline: %9.0f dgram/s over %.2f s (%d received, %d dropped): overall %+.2f %%, per second worst %.2f %%, median %.2f %%\n' \
		"$bgot" "$bspan" "$btotal" "$bdrops" "$berr" "$bworst" "$bmed"
	printf '                   RATIO replay/baseline: %.3f\n' "$(calc "$got / $bgot")"
done
