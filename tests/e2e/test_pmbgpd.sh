#!/usr/bin/env bash
# End to end with a real BGP speaker: generated BGP captures (two exporters, noise, whole
# or 7-byte segments) are replayed to pmbgpd (pmacct).  pmbgpd must bring each session up
# with the captured OPEN (identifier, AS), decode every prefix of every UPDATE, in capture
# order, and see the session end by the replay's Cease (6/2).  With TR_CORPUS, the older
# tool's example BGP capture too (VPNv4 UPDATEs), against tshark's decode.
#
# Oracles, independent of the replay path: the generator's --expect file (message types
# per exporter: OPEN, KEEPALIVEs, UPDATEs; announced prefixes = UPDATEs x --records) and
# tshark's decode of the capture (OPEN fields, KEEPALIVEs, prefixes).  On the collector
# side: pmbgpd's msglog (one JSON line per prefix, log_init/log_close per session) and its
# daemon log (OPEN, KEEPALIVE and NOTIFICATION lines, named by the peer's BGP identifier).
. "$(dirname "$0")/../lib.sh"

command -v pmbgpd >/dev/null || skip "pmbgpd (pmacct) is not installed (make test-deps)"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/pmacct-daemon.sh"
CHECK=(python3 "$COLLECTORS/pmcheck.py")
RECORDS=5

# One pmbgpd for the whole test.  It refuses a peer reconnecting while the hold time of
# its old session runs, so each round replays from loopback addresses of its own.  The
# router-id check is off: pmbgpd would refuse a peer whose identifier equals its own or
# another session's.
cat >"$WORK/pmbgpd.settings" <<CONF
bgp_daemon: true
bgp_daemon_max_peers: 100
bgp_disable_router_id_check: true
bgp_daemon_msglog_file: $WORK/bgp.msglog
bgp_daemon_msglog_output: json
CONF
pm_start pmbgpd pmbgpd bgp 127.0.0.1 "$WORK/pmbgpd.settings"
note "pmbgpd listening on 127.0.0.1:$PM_PORT"

# replay NAME PCAP TIME_FACTOR CAPTURED=REPRO...: to pmbgpd (replay_session in lib.sh).
replay() { replay_session bgp 179 "$PM_PORT" "$@"; }

# generated NAME EXTRA_GEN_ARGS...: two exporters mapped to loopback addresses unique to
# this round.  pmbgpd's daemon log names sessions by BGP identifier, which every round's
# generated OPENs share: only the lines written since the round began are checked.
round=0
generated() {
	local name=$1; shift
	round=$((round + 1))
	local r1=127.0.$round.2 r2=127.0.$round.3
	local from
	from=$(stat -c %s "$WORK/pmbgpd.log")
	"$GEN" --proto bgp --count 30 --records "$RECORDS" --exporter 192.0.2.1 --exporter 192.0.2.2 --noise "$@" \
		--out "$WORK/$name.pcap" --expect "$WORK/$name.expect" || fail "$name: tr-pcapgen failed"
	replay "$name" "$WORK/$name.pcap" 0 192.0.2.1="$r1" 192.0.2.2="$r2"
	pm_wait_closes "$WORK/bgp.msglog" peer_ip_src "$name's replay" "$r1" "$r2"
	"${CHECK[@]}" bgp --daemonlog "$WORK/pmbgpd.log" --daemonlog-from "$from" --msglog "$WORK/bgp.msglog" \
		--tshark "$WORK/$name.pcap" --port 179 --expect "$WORK/$name.expect" --records "$RECORDS" \
		--map 192.0.2.1="$r1" --map 192.0.2.2="$r2" >"$WORK/$name.check" ||
		fail "$name: pmbgpd did not decode what the capture holds"
	note "$name: $(cat "$WORK/$name.check")"
}

generated bgp
generated bgp-seg7 --segment 7
# The exporter's captured OPEN offers ADD-PATH, the captured collector's does not, so the
# UPDATEs carry no path identifiers.  pmbgpd mirrors its peer: offered ADD-PATH, it would
# negotiate it and misread every UPDATE.  bgp.open.trim_capabilities takes it out of the
# replayed OPEN: every prefix decodes, and the replay sees no ADD-PATH mismatch to warn of.
REPLAY_OPEN="trim_capabilities: true" generated bgp-addpath-trim --add-path
grep -q "ADD-PATH" "$WORK/bgp-addpath-trim.tr.log" &&
	{ cat "$WORK/bgp-addpath-trim.tr.log"; fail "bgp-addpath-trim: ADD-PATH still differs from the captured session"; }

if [ -n "${TR_CORPUS:-}" ]; then
	pcap=$TR_CORPUS/anchor/examples/pcaps/bgp-traffic.pcap
	[ -r "$pcap" ] || fail "TR_CORPUS is set but $pcap is missing"
	# The example config's time_factor is 1 (30 ms of capture); 0.01 keeps the pacing path on.
	replay corpus "$pcap" 0.01 138.190.129.21=127.0.9.2
	pm_wait_closes "$WORK/bgp.msglog" peer_ip_src "the corpus replay" 127.0.9.2
	"${CHECK[@]}" bgp --daemonlog "$WORK/pmbgpd.log" --msglog "$WORK/bgp.msglog" \
		--tshark "$pcap" --port 179 --map 138.190.129.21=127.0.9.2 >"$WORK/corpus.check" ||
		fail "corpus: pmbgpd did not decode from the replay what bgp-traffic.pcap holds"
	note "corpus: $(cat "$WORK/corpus.check")"
else
	note "TR_CORPUS is not set: the example capture bgp-traffic.pcap is not replayed"
fi

pm_stop
echo PASS
