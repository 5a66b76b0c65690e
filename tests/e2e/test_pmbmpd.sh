#!/usr/bin/env bash
# End to end with a real BMP collector: generated BMP captures (two exporters, noise,
# whole or 7-byte segments) are replayed to pmbmpd (pmacct), which must decode, per
# exporter, the messages of every type the capture holds and the prefixes of every
# route monitoring message, in order.  With TR_CORPUS, the older tool's example BMP
# capture too, against tshark's count of its message types and against pmbmpd's own
# decode of the captured stream fed to it directly.
#
# Oracles, independent of the replay path: the generator's --expect file (message types
# per exporter), tshark's decode of the capture (types, prefixes), and for the corpus
# capture collectors/bmpfeed.py (tshark's reassembled stream written on one socket).
# On the collector side: pmbmpd's debug line per message ("[router] [common] type: ...")
# and its msglog (one JSON line per event, per prefix of route monitoring).
. "$(dirname "$0")/../lib.sh"

command -v pmbmpd >/dev/null || skip "pmbmpd (pmacct) is not installed (make test-deps)"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/pmacct-daemon.sh"
CHECK=(python3 "$COLLECTORS/pmcheck.py")

# One pmbmpd for the whole test: every round replays from addresses of its own, so
# rounds cannot mix; max_peers well above the default, one msglog line per message.
cat >"$WORK/pmbmpd.settings" <<CONF
bmp_daemon_max_peers: 100
bmp_daemon_msglog_file: $WORK/bmp.msglog
bmp_daemon_msglog_output: json
CONF
pm_start pmbmpd pmbmpd bmp 127.0.0.1 "$WORK/pmbmpd.settings"
note "pmbmpd listening on 127.0.0.1:$PM_PORT"

# replay NAME PCAP TIME_FACTOR CAPTURED=REPRO...: to pmbmpd (replay_session in lib.sh).
replay() { replay_session bmp 1790 "$PM_PORT" "$@"; }

# generated NAME EXTRA_GEN_ARGS...: two exporters, their captured addresses mapped to two
# loopback addresses unique to this round.
round=0
generated() {
	local name=$1; shift
	round=$((round + 1))
	local r1=127.0.$round.2 r2=127.0.$round.3
	"$GEN" --proto bmp --count 50 --exporter 192.0.2.1 --exporter 192.0.2.2 --noise "$@" \
		--out "$WORK/$name.pcap" --expect "$WORK/$name.expect" || fail "$name: tr-pcapgen failed"
	replay "$name" "$WORK/$name.pcap" 0 192.0.2.1="$r1" 192.0.2.2="$r2"
	# Every generated session ends with a Termination message: pmbmpd closes it then.
	pm_wait_closes "$WORK/bmp.msglog" bmp_router "$name's replay" "$r1" "$r2"
	"${CHECK[@]}" bmp --debuglog "$WORK/pmbmpd.log" --msglog "$WORK/bmp.msglog" \
		--tshark "$WORK/$name.pcap" --port 1790 --expect "$WORK/$name.expect" \
		--map 192.0.2.1="$r1" --map 192.0.2.2="$r2" --allow-other >"$WORK/$name.check" ||
		fail "$name: pmbmpd did not decode what the capture holds"
	note "$name: $(cat "$WORK/$name.check")"
}

generated bmp
generated bmp-seg7 --segment 7

if [ -n "${TR_CORPUS:-}" ]; then
	pcap=$TR_CORPUS/anchor/examples/pcaps/bmp-traffic.pcap
	[ -r "$pcap" ] || fail "TR_CORPUS is set but $pcap is missing"
	# The oracle first, from its own address: pmbmpd decoding the captured stream itself.
	python3 "$COLLECTORS/bmpfeed.py" "$pcap" 192.0.2.61 1790 127.0.9.1 127.0.0.1 "$PM_PORT" \
		>"$WORK/corpus.feed" || fail "corpus: feeding the captured stream to pmbmpd failed"
	pm_wait_closes "$WORK/bmp.msglog" bmp_router "the captured stream was fed" 127.0.9.1
	note "corpus oracle: $(cat "$WORK/corpus.feed") fed to pmbmpd directly"
	# The capture starts and ends mid-session (no Termination): the replay's FIN closes it.
	replay corpus "$pcap" 0 192.0.2.61=127.0.9.2
	pm_wait_closes "$WORK/bmp.msglog" bmp_router "the corpus replay" 127.0.9.2
	# tshark names some AFI/SAFI's prefixes differently from pmbmpd: the prefixes are compared
	# with pmbmpd's decode of the captured stream instead, every field of every line.
	"${CHECK[@]}" bmp --debuglog "$WORK/pmbmpd.log" --msglog "$WORK/bmp.msglog" \
		--tshark "$pcap" --port 1790 --map 192.0.2.61=127.0.9.2 --same-as 127.0.9.1=127.0.9.2 \
		--no-prefixes --allow-other >"$WORK/corpus.check" ||
		fail "corpus: pmbmpd did not decode from the replay what bmp-traffic.pcap holds" \
			"(replay: $(grep -a '^tcp:' "$WORK/corpus.tr.log" || true))"
	note "corpus: $(cat "$WORK/corpus.check")"
else
	note "TR_CORPUS is not set: the example capture bmp-traffic.pcap is not replayed"
fi

pm_stop
echo PASS
