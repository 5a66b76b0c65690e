#!/usr/bin/env bash
# The command line: help, version, -n, -v/-d, -p, --ask-for-input, --keep-open, signals and their exit codes.
. "$(dirname "$0")/../lib.sh"

"$TR" -h >"$WORK/help"
for flag in -t --cfg -v --verbose -d --debug -p --pcap-proc --no-sync --keep-open \
	--ask-for-input --stats-json --strict -n --check --version; do
	grep -q -- "$flag" "$WORK/help" || fail "-h does not document $flag"
done
"$TR" --version >"$WORK/version"
grep -qE '^traffic-reproducer [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{7,}|unknown)\)$' "$WORK/version" ||
	fail "--version: no version and git revision: $(head -1 "$WORK/version")"
for lib in libpcap libyaml jansson OpenSSL; do
	grep -qE "^$lib: .*[0-9]" "$WORK/version" || fail "--version does not name the $lib version"
done

start_sink sink "$TR" sink --udp 0
PORT=$(ready_port "$WORK/sink.ready" udp)
"$GEN" --proto ipfix --count 5 --exporter 192.0.2.1 --dport 4739 --start 1700000000 --out "$WORK/a.pcap"
"$GEN" --proto nfv5 --count 7 --exporter 192.0.2.1 --dport 4739 --start 1700000100 --out "$WORK/b.pcap"
config() {
	cat <<YAML
pcap: [$WORK/a.pcap, $WORK/b.pcap]
time_factor: ${1:-0}
no_sync: true
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.1}
ipfix:
  collector: {ip: 127.0.0.1, port: $PORT}
YAML
}
config >"$WORK/cfg.yml"

# -n prints the normalized config, which loads again and prints the same.
"$TR" -t "$WORK/cfg.yml" -n >"$WORK/norm.yml"
grep -q '^time_factor: 0$' "$WORK/norm.yml" && grep -q '^keep_open: false$' "$WORK/norm.yml" ||
	fail "-n does not show the defaults"
"$TR" -t "$WORK/norm.yml" -n | diff - "$WORK/norm.yml" || fail "-n output does not round-trip"

# A full stdout is an error, not a silent loss (the older tool's users pipe -n into files).
for args in "-n" "-h" "--version" "--info $WORK/a.pcap"; do
	rc=0; "$TR" -t "$WORK/cfg.yml" $args >/dev/full 2>"$WORK/full.err" || rc=$?
	[ $rc -eq 1 ] || fail "$args > /dev/full: exit $rc, expected 1"
	grep -q "cannot write" "$WORK/full.err" || fail "$args > /dev/full: no message"
done

# -v and -d: the last one given counts, as with the older tool's argparse.
"$TR" -t "$WORK/cfg.yml" -n -d -v >/dev/null 2>"$WORK/dv.err"
! grep -q ": debug: " "$WORK/dv.err" || fail "-d -v: DEBUG messages, but -v came last"
"$TR" -t "$WORK/cfg.yml" -n -v -d >/dev/null 2>"$WORK/vd.err"
grep -q ": debug: " "$WORK/vd.err" || fail "-v -d: no DEBUG message"

# -p writes into the first capture's path without extension; with a map and a collector
# in the input config, the written config has no placeholder and loads as it is.
rc=0; "$TR" -t "$WORK/cfg.yml" -p 2>"$WORK/p.err" || rc=$?
[ $rc -eq 0 ] || { cat "$WORK/p.err" >&2; fail "-p: exit $rc"; }
for f in traffic.pcap traffic-reproducer.yml traffic-info.json; do
	[ -s "$WORK/a/$f" ] || fail "-p did not write $f"
done
"$TR" -t "$WORK/a/traffic-reproducer.yml" -n >/dev/null || fail "-p: the written config does not load"

# --ask-for-input: 'n' skips the first capture, 'y' plays the second.
a_frames=$(tshark -r "$WORK/a.pcap" 2>/dev/null | wc -l)
b_frames=$(tshark -r "$WORK/b.pcap" 2>/dev/null | wc -l)
printf 'n\ny\n' | "$TR" -t "$WORK/cfg.yml" --ask-for-input --stats-json "$WORK/ask.json" 2>"$WORK/ask.err" ||
	fail "--ask-for-input: exit $?"
grep -q "Reproduce pcap file '$WORK/a.pcap'" "$WORK/ask.err" || fail "--ask-for-input did not ask"
[ "$(json_get "$WORK/ask.json" 'd["captures"]["skipped"]')" -eq 1 ] || fail "--ask-for-input: not one capture skipped"
[ "$(json_get "$WORK/ask.json" 'd["sections"]["ipfix"]["sent"]')" -eq "$b_frames" ] ||
	fail "--ask-for-input: sent is not the second capture's $b_frames datagrams"

# --keep-open: the process stays after the last capture, and SIGINT then ends it with 0.
"$TR" -t "$WORK/cfg.yml" --keep-open --stats-json "$WORK/keep.json" 2>"$WORK/keep.err" &
pid=$!
for _ in $(seq 1 50); do grep -q "sockets stay open" "$WORK/keep.err" && break; sleep 0.1; done
kill -0 $pid 2>/dev/null || fail "--keep-open: the process ended on its own"
kill -INT $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 0 ] || fail "--keep-open: SIGINT after the last capture exited $rc, expected 0"
[ "$(json_get "$WORK/keep.json" 'd["sections"]["ipfix"]["sent"]')" -eq $((a_frames + b_frames)) ] ||
	fail "--keep-open: not every datagram was sent"

# --stats-json is checked before anything is sent: a missing folder, the config or a
# capture under another name (inode, not name), at -n too; exit 2 and the inputs untouched.
cp "$WORK/cfg.yml" "$WORK/cfg.copy"
ln -s "$WORK/a.pcap" "$WORK/a-link.pcap"
for bad in "$WORK/no-such-dir/s.json" "$WORK/./cfg.yml" "$WORK/a-link.pcap" "$WORK"; do
	for mode in "" "-n"; do
		rc=0; "$TR" -t "$WORK/cfg.yml" $mode --stats-json "$bad" >/dev/null 2>"$WORK/sj.err" || rc=$?
		[ $rc -eq 2 ] || fail "--stats-json $bad ${mode}: exit $rc, expected 2"
		grep -q -- "--stats-json $bad" "$WORK/sj.err" || fail "--stats-json $bad: the message does not name it"
	done
done
cmp -s "$WORK/cfg.yml" "$WORK/cfg.copy" || fail "--stats-json onto the config changed it"
grep -q "does not exist" <("$TR" -t "$WORK/cfg.yml" --stats-json "$WORK/no-such-dir/s.json" 2>&1) ||
	fail "--stats-json in a missing folder: the message does not say the folder is missing"

# An existing --stats-json file stays as it was until the end, then is replaced whole
# (through a link, the file it names), leaving no temporary file behind.
mkdir "$WORK/stats"
echo old >"$WORK/stats/keep.json"
ln -s keep.json "$WORK/stats/link.json"
config 1000 >"$WORK/slow.yml"
"$TR" -t "$WORK/slow.yml" --stats-json "$WORK/stats/link.json" 2>"$WORK/sj-slow.err" &
pid=$!
sleep 0.5
[ "$(cat "$WORK/stats/keep.json")" = old ] || fail "--stats-json: the old file was truncated before the end"
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || fail "--stats-json run stopped by SIGTERM: exit $rc, expected 143"
[ -L "$WORK/stats/link.json" ] || fail "--stats-json replaced the link instead of the file it names"
json_get "$WORK/stats/keep.json" 'd["captures"]' >/dev/null || fail "--stats-json: not the figures at the end"
[ "$(ls "$WORK/stats")" = "$(printf 'keep.json\nlink.json')" ] || fail "--stats-json left files behind: $(ls "$WORK/stats")"

# SIGTERM in the middle of a slow replay: stops at once, with the summary, exit 143.
"$TR" -t "$WORK/slow.yml" 2>"$WORK/slow.err" &
pid=$!
sleep 0.5
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || fail "SIGTERM mid-replay: exit $rc, expected 143"
grep -q "summary" "$WORK/slow.err" || fail "SIGTERM mid-replay: no final summary"

# SIGHUP (the terminal closed) stops as SIGTERM does: the summary, exit 143.
"$TR" -t "$WORK/slow.yml" 2>"$WORK/hup.err" &
pid=$!
sleep 0.5
kill -HUP $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || fail "SIGHUP mid-replay: exit $rc, expected 143"
grep -q "summary" "$WORK/hup.err" || fail "SIGHUP mid-replay: no final summary"

# Started ignoring SIGHUP (nohup): it stays ignored.
(trap '' HUP; exec "$TR" -t "$WORK/slow.yml" 2>"$WORK/nohup.err") &
pid=$!
sleep 0.5
kill -HUP $pid
sleep 0.3
kill -0 $pid 2>/dev/null || fail "SIGHUP ended a replay started with SIGHUP ignored"
kill -TERM $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 143 ] || fail "SIGTERM after an ignored SIGHUP: exit $rc, expected 143"
stop_sink
echo PASS
