# Shared helpers for the end-to-end and interop test scripts (sourced, not run).
# Exit codes: 0 pass, 77 skip (with the reason printed), anything else fail.

set -euo pipefail

TR_SOURCE_DIR=${TR_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TR_BUILD_DIR=${TR_BUILD_DIR:-$TR_SOURCE_DIR/build}
TR=$TR_BUILD_DIR/traffic-reproducer
GEN=$TR_BUILD_DIR/tr-pcapgen

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tr-test.XXXXXX")
SINK_PID=""
cleanup_hooks=()

on_exit() {
	local rc=$?
	for hook in "${cleanup_hooks[@]}"; do eval "$hook" || true; done
	if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		echo "test failed (exit $rc); work files kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap on_exit EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
note() { echo "--- $*"; }

# start_sink NAME ARGS...: starts the built-in sink with a dump and a ready file.
# Sets SINK_PID; the sink's JSON summary goes to $WORK/NAME.json.
start_sink() {
	local name=$1; shift
	rm -f "$WORK/$name.ready"
	"$@" --ready "$WORK/$name.ready" --dump "$WORK/$name.dump" --json \
		>"$WORK/$name.json" 2>"$WORK/$name.err" &
	SINK_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$WORK/$name.ready" ] && return 0
		kill -0 "$SINK_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; fail "sink exited early"; }
		sleep 0.05
	done
	fail "sink not ready after 5 s"
}

# The Nth port of a kind (udp|tcp) from a ready file.
ready_port() { awk -v k="$2" '$1 == k { n++; if (n == '"${3:-1}"') print $2 }' "$1"; }

stop_sink() {
	[ -n "$SINK_PID" ] || return 0
	kill -INT "$SINK_PID"
	wait "$SINK_PID" || fail "sink exited with $?"
	SINK_PID=""
}

# Expected datagrams of a capture, by tshark (an independent decoder):
# lines "SRC HEX" for UDP packets to dport, in capture order.
tshark_udp_payloads() {
	local pcap=$1 dport=$2
	tshark -r "$pcap" -Y "udp.dstport == $dport && !icmp" \
		-T fields -E separator=' ' -e ip.src -e ipv6.src -e udp.payload 2>/dev/null |
		awk 'NF == 2 { print $1, $2 } NF == 3 { print $1, $3 }'
}

# Received datagrams from a sink dump: lines "EXPORTER HEX" for a local port.
sink_udp_payloads() {
	awk -v p="$2" '$1 == "udp" && $4 == p { print $2, $5 }' "$1"
}

# free_port udp|tcp [ADDR]: a port free on ADDR (default 127.0.0.1) right now; the caller
# retries, or checks that it stayed its own, since another process may take it meanwhile.
free_port() {
	python3 -c 'import socket, sys
kind, a = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET,
    socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
s.bind((a, 0)); print(s.getsockname()[1])' "$1" "${2:-127.0.0.1}"
}

# replay_flows NAME DPORT COLLECTOR PORT SRC=REPRO...: replay $WORK/NAME.pcap's UDP to DPORT
# through an ipfix section (config in the older tool's schema) to COLLECTOR:PORT, and
# check that something was sent, nothing refused, no peer unknown. Sets REPLAY_SENT.
replay_flows() {
	local name=$1 dport=$2 coll=$3 port=$4 m; shift 4
	{
		printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nnetwork:\n  map:\n' "$WORK/$name.pcap"
		for m in "$@"; do
			printf '  - src_ip: %s\n    repro_ip: %s\n' "${m%%=*}" "${m#*=}"
		done
		printf 'ipfix:\n  select:\n    udp:\n      dport: [%s]\n' "$dport"
		printf '  collector:\n    ip: %s\n    port: %s\n' "$coll" "$port"
	} >"$WORK/$name.yml"
	timeout 60 "$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.tr.log" ||
		{ cat "$WORK/$name.tr.log" >&2; fail "$name: replay exited with $?"; }
	REPLAY_SENT=$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["sent"]')
	[ "$REPLAY_SENT" -gt 0 ] || fail "$name: the replay sent nothing"
	[ "$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["refused"] + d["unknown_peer"]')" -eq 0 ] ||
		fail "$name: datagrams refused or from unknown peers: $(cat "$WORK/$name.stats.json")"
}

# replay_session SECTION DPORT PORT NAME PCAP TIME_FACTOR CAPTURED=REPRO...: replay PCAP's
# TCP sessions to DPORT through SECTION (bmp or bgp; config in the older tool's schema) to
# 127.0.0.1:PORT, and check one session per exporter, none refused or failed to connect;
# for BGP also none closed by the collector and no message lost to framing.  REPLAY_OPEN,
# when set, is the section's bgp.open mapping (e.g. "trim_capabilities: true").
replay_session() {
	local section=$1 dport=$2 port=$3 name=$4 pcap=$5 tf=$6 m rc=0 failed; shift 6
	{
		printf 'pcap: %s\ntime_factor: %s\nno_sync: true\nnetwork:\n  map:\n' "$pcap" "$tf"
		for m in "$@"; do printf '  - {src_ip: %s, repro_ip: %s}\n' "${m%%=*}" "${m#*=}"; done
		printf '%s:\n  select: {tcp: {dport: [%s]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$section" "$dport" "$port"
		[ -z "${REPLAY_OPEN:-}" ] || printf '  open: {%s}\n' "$REPLAY_OPEN"
	} >"$WORK/$name.yml"
	timeout 60 "$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.tr.log" || rc=$?
	[ $rc -eq 0 ] || { cat "$WORK/$name.tr.log" >&2; fail "$name: replay exited with $rc"; }
	[ "$(json_get "$WORK/$name.stats.json" 'd["tcp"]["sessions"]')" -eq $# ] ||
		fail "$name: not one TCP session per exporter: $(cat "$WORK/$name.stats.json")"
	failed='d["tcp"]["connect_failures"] + d["sections"]["'$section'"]["refused"]'
	[ "$section" != bgp ] || failed="$failed"' + d["tcp"]["closed_by_collector"]'
	[ "$(json_get "$WORK/$name.stats.json" "$failed")" -eq 0 ] ||
		fail "$name: the collector refused or closed a session: $(cat "$WORK/$name.stats.json")"
	[ "$section" != bgp ] ||
		[ "$(json_get "$WORK/$name.stats.json" 'd["tcp"]["framing_errors"] + d["tcp"]["skipped_bytes"]')" -eq 0 ] ||
		fail "$name: the replay lost BGP messages: $(cat "$WORK/$name.stats.json")"
}

json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$1" "$2"; }

# hostile NAME CODE PATTERN MAX_RSS_MB ARGS...: the command (stdin /dev/null, 120 s at most) exits
# with CODE, its stderr matches PATTERN (grep -E; "" for any), and its peak RSS stays under
# MAX_RSS_MB (GNU time's %M).  stdout and stderr are kept in $WORK/NAME.out and .err; the
# case is logged with its exit code, peak RSS and first matching line, for the closing notes.
hostile() {
	local name=$1 code=$2 pattern=$3 max_mb=$4 rc=0 rss; shift 4
	command -v /usr/bin/time >/dev/null || skip "GNU time (package time) is needed for peak RSS"
	/usr/bin/time -f %M -o "$WORK/$name.rss" timeout 120 "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || rc=$?
	rss=$(tail -1 "$WORK/$name.rss")
	[ "$rc" -eq "$code" ] || { tail -20 "$WORK/$name.err" >&2; fail "$name: exit $rc, expected $code"; }
	[ -z "$pattern" ] || grep -qE -- "$pattern" "$WORK/$name.err" ||
		{ tail -20 "$WORK/$name.err" >&2; fail "$name: stderr does not match /$pattern/"; }
	# Sanitizers multiply memory: under them the bound says nothing, and is not checked.
	[ "${TR_SANITIZED:-0}" = 1 ] || [ "$rss" -le $((max_mb * 1024)) ] ||
		fail "$name: peak RSS $((rss / 1024)) MB, over $max_mb MB"
	note "$name: exit $rc, peak RSS $((rss / 1024)) MB${pattern:+: $(grep -E -m1 -- "$pattern" "$WORK/$name.err")}"
}

# fixed_key FILE [N]: writes test key N (1 or 2) into FILE, mode 0600.  Tests that
# check "no input address in the output" use a fixed key, so they give the same
# outcome on every run: Crypto-PAn (the reference algorithm) flips bits in runs (a
# bit's input block repeats the one before wherever the address's bit equals the
# pad's), so a random key maps a whole /8 to itself about once in 16 keys and some
# addresses to themselves or onto other inputs, which no check can tell from a leak.
fixed_key() {
	case ${2:-1} in
	1) printf '%b' '\x6e\xba\x7d\x9d\x62\x14\x3b\x6d\x42\xb1\x49\xf4\xfb\x0a\xd7\xdf' \
		'\x14\xfb\x8e\x62\x46\x5b\xe3\x89\xea\x83\x7b\x3c\x78\x2a\xb3\x7e' >"$1" ;;
	2) printf '%b' '\x3c\x91\x07\xe2\x5a\xd4\x68\x1f\x9b\x23\xc7\x40\x8e\x75\xb6\x0d' \
		'\xf1\x2a\x5e\x93\x0c\x67\xb8\x44\xd9\x16\xa3\x7f\xe0\x58\x2b\xc5' >"$1" ;;
	*) fail "fixed_key: no test key $2" ;;
	esac
	chmod 600 "$1"
}
