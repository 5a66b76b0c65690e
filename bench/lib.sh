# Shared by the benchmark scripts (sourced): the binaries under test and small helpers.

# bench_binaries SCRIPT BUILD_DIR: sets BUILD (absolute), TR and GEN, or exits 2 naming SCRIPT.
bench_binaries() {
	if [[ ! -x $2/traffic-reproducer || ! -x $2/tr-pcapgen ]]; then
		echo "$1: $2/traffic-reproducer or $2/tr-pcapgen missing; build first (make build)" >&2
		exit 2
	fi
	BUILD=$(cd "$2" && pwd)
	TR=$BUILD/traffic-reproducer
	GEN=$BUILD/tr-pcapgen
}

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
calc() { python3 -c "print($1)"; }
# json_get FILE '[key]...': one value of a JSON file
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d'+sys.argv[2]))" "$@"; }

# bench_tmp NAME: a fresh $TMP, removed on exit with the sink or collector
# whose pid is in SINK_PID (set it when one is started).
bench_tmp() {
	TMP=$(mktemp -d "/tmp/tr-bench-$1.XXXXXX")
	SINK_PID=
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
bench_cleanup() {
	if [[ -n $SINK_PID ]]; then
		kill "$SINK_PID" 2>/dev/null || true
		wait "$SINK_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}

# start_tcp_sink SCRIPT: the built-in sink on a free TCP port of 127.0.0.1
# (PORT), writing its JSON to $TMP/sink.json when stopped; SCRIPT names the
# caller in the message when it does not start.
start_tcp_sink() {
	rm -f "$TMP/sink.ready"
	"$TR" sink --listen 127.0.0.1 --tcp 0 --ready "$TMP/sink.ready" --json >"$TMP/sink.json" 2>"$TMP/sink.err" &
	SINK_PID=$!
	for _ in $(seq 500); do
		[[ -s $TMP/sink.ready ]] && break
		sleep 0.01
	done
	PORT=$(awk '$1 == "tcp" { print $2 }' "$TMP/sink.ready")
	[[ -n $PORT ]] || { echo "$1: the sink did not start" >&2; cat "$TMP/sink.err" >&2; exit 1; }
}
