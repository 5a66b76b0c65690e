#!/usr/bin/env bash
# Beyond one machine (issue 15): --shard K/N and --start-at TIME.  Three shards of a
# multi-exporter IPFIX + BMP capture deliver to the built-in sink exactly what one
# unsharded run delivers (disjoint exporter sets, same payloads); --start-at holds the
# first datagram until the start time; bad values are usage errors naming the flag.
# No timing is asserted but "not before the start time", which cannot flake.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is needed to read the JSON summaries"
[ -x "$TR" ] && [ -x "$GEN" ] || fail "$TR and $GEN must be built first"

# 12 IPFIX exporters (192.0.2.1-12, 50 datagrams each) and 3 BMP routers (192.0.2.21-23).
ipfix_exporters=() bmp_exporters=()
for i in $(seq 1 12); do ipfix_exporters+=(--exporter "192.0.2.$i"); done
for i in 21 22 23; do bmp_exporters+=(--exporter "192.0.2.$i"); done
"$GEN" --proto ipfix --count 600 --gap-us 500 "${ipfix_exporters[@]}" --out "$WORK/ipfix.pcap"
"$GEN" --proto bmp --count 30 --gap-us 500 "${bmp_exporters[@]}" --out "$WORK/bmp.pcap"

config() {
	cat <<YAML
pcap: [$WORK/ipfix.pcap, $WORK/bmp.pcap]
time_factor: 0.5
no_sync: true
network:
  map:
YAML
	for i in $(seq 1 12) 21 22 23; do echo "  - {src_ip: 192.0.2.$i, repro_ip: 127.0.1.$i}"; done
	cat <<YAML
ipfix:
  select: {udp: {dport: [4739]}}
  collector: {ip: 127.0.0.1, port: $UDP_PORT}
bmp:
  select: {tcp: {dport: [1790]}}
  collector: {ip: 127.0.0.1, port: $TCP_PORT}
YAML
}

# run NAME ARGS...: one replay to a sink of its own; keeps the sink's dump as NAME.dump
# and its lines as "EXPORTER HEX" (the source port is the kernel's choice), sorted.
run() {
	local name=$1; shift
	start_sink sink "$TR" sink --udp 0 --tcp 0
	UDP_PORT=$(ready_port "$WORK/sink.ready" udp)
	TCP_PORT=$(ready_port "$WORK/sink.ready" tcp)
	config >"$WORK/$name.yml"
	timeout 120 "$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" "$@" \
		2>"$WORK/$name.log" || { cat "$WORK/$name.log" >&2; fail "$name: exit $? (want 0)"; }
	stop_sink
	awk '{ print $1, $2, $5 }' "$WORK/sink.dump" | sort >"$WORK/$name.payloads"
	awk '{ print $2 }' "$WORK/sink.dump" | sort -u >"$WORK/$name.exporters"
}

run all
[ "$(wc -l <"$WORK/all.exporters")" -eq 15 ] || fail "the unsharded run reached $(wc -l <"$WORK/all.exporters") exporters, want 15"
[ "$(json_get "$WORK/all.stats.json" 'd["tcp"]["sessions"]')" -eq 3 ] || fail "the unsharded run: not 3 BMP sessions"
note "unsharded: 15 exporters, $(wc -l <"$WORK/all.payloads") datagrams and messages"

kept_total=0
for k in 1 2 3; do
	run "shard$k" --shard "$k/3"
	line=$(grep "^shard $k/3: " "$WORK/shard$k.log") || fail "--shard $k/3: the summary does not name the shard"
	kept=$(echo "$line" | awk '{ print $3 }')
	[ "$kept" -eq "$(wc -l <"$WORK/shard$k.exporters")" ] ||
		fail "--shard $k/3: the summary says $kept exporters, the sink saw $(wc -l <"$WORK/shard$k.exporters")"
	kept_total=$((kept_total + kept))
	note "--shard $k/3: $line"
done
[ "$kept_total" -eq 15 ] || fail "the shards kept $kept_total exporters in all, want 15"
# Disjoint: no exporter is in two shards; the union is every exporter.
[ -z "$(sort "$WORK"/shard[123].exporters | uniq -d)" ] || fail "an exporter is in two shards: $(sort "$WORK"/shard[123].exporters | uniq -d)"
sort -u "$WORK"/shard[123].exporters | cmp -s - "$WORK/all.exporters" || fail "the shards' exporters are not the unsharded run's"
# The same bytes: the shards' payloads together are the unsharded run's.
sort "$WORK"/shard[123].payloads | cmp -s - "$WORK/all.payloads" ||
	fail "the shards' payloads differ from the unsharded run's: $(sort "$WORK"/shard[123].payloads | diff - "$WORK/all.payloads" | head -5)"
note "3 shards: disjoint exporter sets whose union is the whole run, byte-identical payloads"

# --start-at now + 2 s: a receiver of our own notes when the first datagram arrives
# (CLOCK_REALTIME, as --start-at); it must not be before the start time.
python3 - "$WORK/first.port" "$WORK/first.time" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(60)
s.recv(65535)
open(sys.argv[2], "w").write(repr(time.time()))
PY
recv_pid=$!
for _ in $(seq 1 100); do [ -s "$WORK/first.port" ] && break; sleep 0.05; done
[ -s "$WORK/first.port" ] || fail "the receiver did not start"
UDP_PORT=$(cat "$WORK/first.port") TCP_PORT=9 config | sed '/^bmp:/,$d; s|, '"$WORK"'/bmp.pcap||' >"$WORK/start.yml"
start_at=$(python3 -c 'import time; print("%.3f" % (time.time() + 2))')
timeout 60 "$TR" -t "$WORK/start.yml" --start-at "$start_at" 2>"$WORK/start.log" ||
	{ cat "$WORK/start.log" >&2; fail "--start-at $start_at: exit $?"; }
wait "$recv_pid" || fail "the receiver got no datagram"
first=$(cat "$WORK/first.time")
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$first" "$start_at" ||
	fail "--start-at $start_at: the first datagram arrived at $first, before the start time"
note "--start-at $start_at: the first datagram arrived at $first"
# An RFC 3339 time works as well (the same path, parsed): one 2 s ahead, replayed to nothing.
rfc=$(python3 -c 'import datetime, time; print(datetime.datetime.fromtimestamp(int(time.time()) + 2, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))')
"$TR" -t "$WORK/start.yml" --start-at "$rfc" --limit 1 2>"$WORK/rfc.log" || { cat "$WORK/rfc.log" >&2; fail "--start-at $rfc: exit $?"; }

# Bad values: exit 2, a message naming the flag, nothing sent.
bad() {
	local flag=$1 value=$2 rc=0
	"$TR" -t "$WORK/start.yml" "$flag" "$value" >/dev/null 2>"$WORK/bad.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "$flag $value: exit $rc, want 2"
	grep -q -- "$flag" "$WORK/bad.err" || fail "$flag $value: the message does not name $flag: $(cat "$WORK/bad.err")"
}
for v in 0/3 4/3 1/0 x 1/ /3 -1/3 1/3x; do bad --shard "$v"; done
past=$(python3 -c 'import time; print(int(time.time()) - 3600)')
for v in garbage 2026-13-01T00:00:00Z 2026-02-30T00:00:00Z "$past" "1.5.5"; do bad --start-at "$v"; done
bad --start-at "$past"
grep -q "in the past.*now" "$WORK/bad.err" || fail "--start-at in the past: the message does not say so: $(cat "$WORK/bad.err")"
note "bad --shard and --start-at values: exit 2, naming the flag"
