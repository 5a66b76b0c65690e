#!/usr/bin/env bash
# Hostile tier: captures and configs that --info and -p once misread (issue 10).  Each case:
# exit code, message, peak RSS (the `hostile` helper), and what the summary counts.
#
#   no-select-info   a BGP section without `select` (-t): the collector's segments are its side
#                    of the session (collector_segments), not an unknown exporter
#   no-select-p      the same for -p: the collector is not written into network.map as an
#                    exporter, its OPEN is kept, its messages are not a session of their own
#   gap-in-window    --info without -t on a BMP session with a 100-byte hole in its first 4 KiB
#                    (the classification window): the Initiation and Peer Ups before the hole
#                    count (they vanished, uncounted)
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi
GENPY=$TR_SOURCE_DIR/tests/hostile/gen.py
info_of() { json_get "$WORK/$1.out" "$2"; }

# ---- a section without select ----------------------------------------------------------------
"$GEN" --proto bgp --exporter 192.0.2.1 --out "$WORK/bgp.pcap" >/dev/null
printf 'pcap: %s\nnetwork:\n  map:\n  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.1}\nbgp:\n  collector: {ip: 127.0.0.1, port: 179}\n' \
	"$WORK/bgp.pcap" >"$WORK/nosel.yml"
hostile no-select-info 0 "" 32 "$TR" --info "$WORK/bgp.pcap" -t "$WORK/nosel.yml"
[ "$(info_of no-select-info 'd["dropped"]["unknown_exporter"]')" -eq 0 ] &&
	[ "$(info_of no-select-info 'd["totals"]["collector_segments"]')" -gt 0 ] ||
	fail "no-select-info: the collector's segments counted as an unknown exporter's: $(info_of no-select-info 'd["dropped"]')"

printf 'pcap: %s\npcap_processing:\n  output_folder: %s\nbgp:\n  collector: {ip: 127.0.0.1, port: 179}\n' \
	"$WORK/bgp.pcap" "$WORK/nosel-out" >"$WORK/nosel-p.yml"
hostile no-select-p 0 "" 32 "$TR" -p -t "$WORK/nosel-p.yml"
grep -q "198.51.100.1" "$WORK/nosel-out/traffic-reproducer.yml" &&
	fail "no-select-p: the collector 198.51.100.1 is written as an exporter: $(cat "$WORK/nosel-out/traffic-reproducer.yml")"
[ "$(json_get "$WORK/nosel-out/traffic-info.json" 'd["pcap_processing"]["collector_segments"] > 0 and d["pcap_processing"]["sections"]["bgp"]["collector_opens_kept"] == 1')" = True ] ||
	fail "no-select-p: the collector's side was not read as such: $(json_get "$WORK/nosel-out/traffic-info.json" 'd["pcap_processing"]')"
note "no-select-p: network.map: $(grep -c src_ip "$WORK/nosel-out/traffic-reproducer.yml") exporter"

# ---- a gap inside the classification window ------------------------------------------------
python3 "$GENPY" bmp-gap "$WORK/gap.pcap"
hostile gap-in-window 0 "" 32 "$TR" --info "$WORK/gap.pcap"
got=$(info_of gap-in-window '(lambda m: "%d %d" % (m["initiation"], m["peer_up"]))(d["exporters"][0]["bmp"][0]["messages"])')
[ "$got" = "1 6" ] || fail "gap-in-window: $got Initiation and Peer Ups counted, 1 and 6 expected"

echo PASS
