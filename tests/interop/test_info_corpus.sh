#!/usr/bin/env bash
# Interop tier: --info on every capture of the corpus exits 0 with valid JSON whose counts equal
# tshark's (cflow, bmp, bgp dissectors) for the same capture; every anchor config's --info -t runs.
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
ANCHOR=$TR_CORPUS/anchor
[ -d "$ANCHOR/examples/pcaps" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples/pcaps"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
CHECK=$TR_SOURCE_DIR/tests/e2e/info_check.py

# check PCAP [OPTIONS]: --info, then the comparison; every UDP port tshark sees is tried as cflow.
check() {
	local pcap=$1 name ports; shift
	name=$(basename "$pcap" .pcap)
	"$TR" --info "$pcap" >"$WORK/$name.json" 2>"$WORK/$name.err" ||
		{ cat "$WORK/$name.err" >&2; fail "$name: --info exited with $?"; }
	ports=$(tshark -r "$pcap" -T fields -e udp.dstport 2>/dev/null </dev/null | sort -un | awk 'NF { print "--flow-port", $1 }')
	# shellcheck disable=SC2086
	python3 "$CHECK" "$WORK/$name.json" "$pcap" $ports --bmp-port 1790 "$@" >"$WORK/$name.check" ||
		{ cat "$WORK/$name.check" >&2; fail "$name: --info disagrees with tshark"; }
	note "$name: $(grep '^--- compared' "$WORK/$name.check" | sed 's/^--- //')"
}

# Replay-ready captures (one direction, clean streams): everything is compared.
for pcap in "$ANCHOR"/examples/pcaps/*.pcap; do
	check "$pcap"
done

# Raw captures (both directions, keep-alive probes with a stale byte, sessions that start
# mid-stream): tshark's BMP dissector loses its place in some of their sessions (for one
# exporter it decodes 9 of 315 route monitoring messages), so their BMP messages per exporter
# and type are counted from tshark's follow,tcp of each session instead, framed by the checker.
for pcap in "$ANCHOR"/examples/pcap_processing/*.pcap; do
	check "$pcap" --no-bmp --follow-bmp 1790
done

# ADD-PATH guessed: one Loc-RIB peer's labelled-unicast UPDATEs carry path identifiers that no
# captured Peer Up announced. Read with them, each holds one prefix (tshark, which guesses too,
# decodes one path id per UPDATE: 45 IPv4 and 34 IPv6); read without, 13 did not parse and the
# other 32 counted their path ids as prefixes.
ms=$WORK/bmp-multi-sources.json
[ "$(json_get "$ms" 'd["totals"]["malformed"]')" -eq 0 ] || fail "bmp-multi-sources: malformed messages"
got=$(json_get "$ms" '[(f["family"], f["updates"], f["announced"], f["add_path"], f["add_path_guessed"])
	for e in d["exporters"] if e["address"] == "203.0.113.23" for s in e["bmp"] for p in s["peers"]
	for f in p["prefixes"] if f["safi"] == 4]')
[ "$got" = "[('ipv4-labeled-unicast', 45, 45, False, 45), ('ipv6-labeled-unicast', 34, 34, False, 34)]" ] ||
	fail "bmp-multi-sources: labelled unicast of the Loc-RIB peer: $got"

# Every anchor config, run from anchor/ as its relative paths expect: only what it selects,
# exporters named by its map.  The one that names a misspelt capture fails clearly.
for cfg in "$ANCHOR"/examples/*.yml; do
	name=$(basename "$cfg" .yml)
	rc=0
	(cd "$ANCHOR" && "$TR" --info -t "examples/$name.yml") >"$WORK/cfg-$name.json" 2>"$WORK/cfg-$name.err" || rc=$?
	if [ "$rc" -eq 2 ] && grep -q "cannot open" "$WORK/cfg-$name.err"; then
		[ ! -s "$WORK/cfg-$name.json" ] || fail "$name: output despite a missing capture"
		note "$name: exit 2: $(head -1 "$WORK/cfg-$name.err")"
		continue
	fi
	[ "$rc" -eq 0 ] || { cat "$WORK/cfg-$name.err" >&2; fail "$name: --info -t exited with $rc"; }
	[ "$(json_get "$WORK/cfg-$name.json" 'sum(1 for e in d["exporters"] if e["repro_ip"])')" -gt 0 ] ||
		fail "$name: no exporter of the config's map in the summary"
	[ "$(json_get "$WORK/cfg-$name.json" 'd["totals"]["flow_messages"] + d["totals"]["bmp_messages"] + d["totals"]["bgp_messages"] + sum(e["udp_generic"]["packets"] for e in d["exporters"])')" -gt 0 ] ||
		fail "$name: the config selects nothing"
	note "$name: $(json_get "$WORK/cfg-$name.json" 'd["totals"]')"
done
