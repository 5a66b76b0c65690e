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
#   time-2038        classic pcap seconds >= 2^31 (unsigned 32 bits, to 2106): valid RFC 3339 times,
#                    first before last (they were "1901-12-13T20:45:53.-500000Z", last before first)
#   time-2106        the largest classic pcap time
#   dev-zero         /dev/zero as a capture: exit 2, said to be a character device without a
#                    pcap/pcapng magic number (it was called "an empty file")
#   two-links        a pcapng with an Ethernet and a raw IP interface (described after a packet of
#                    the first): all 3 datagrams read, each by its interface's link type (it was
#                    "damaged" after the first)
#   two-links-80211  the second interface 802.11: exit 3, the interface and its link type named
#   time-2262        a pcapng timestamp past what 64-bit ns hold (2262-04-11): exit 3, the frame named
#                    as damage (it overflowed: UBSan in source.c)
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

# ---- timestamps -------------------------------------------------------------------------------
times() { info_of "$1" '"%s %s %d" % (d["time"]["first"], d["time"]["last"], d["time"]["duration_us"])'; }
python3 "$GENPY" time "$WORK/t2038.pcap" --secs 2147483648 --usecs 500000
hostile time-2038 0 "" 32 "$TR" --info "$WORK/t2038.pcap"
[ "$(times time-2038)" = "2038-01-19T03:14:08.500000Z 2038-01-19T03:14:09.500000Z 1000000" ] ||
	fail "time-2038: $(times time-2038)"
python3 "$GENPY" time "$WORK/t2106.pcap" --secs 4294967294 --usecs 999999
hostile time-2106 0 "" 32 "$TR" --info "$WORK/t2106.pcap"
[ "$(times time-2106)" = "2106-02-07T06:28:14.999999Z 2106-02-07T06:28:15.999999Z 1000000" ] ||
	fail "time-2106: $(times time-2106)"
python3 "$GENPY" time-ng "$WORK/t2262.pcapng" --secs 10000000000
hostile time-2262 3 "" 32 "$TR" --info "$WORK/t2262.pcapng"
[ "$(info_of time-2262 'd["errors"][0]["error"]')" = "$WORK/t2262.pcapng: damaged after frame 0 (byte offset 48): the frame's timestamp is past 2262-04-11T23:47:16.854775807Z, the latest this tool can represent; the 0 frames before it were read" ] ||
	fail "time-2262: $(info_of time-2262 'd["errors"]')"

# ---- not a regular file ---------------------------------------------------------------------
hostile dev-zero 2 "/dev/zero: a character device, and what it gives is not a capture \(no pcap or pcapng magic number\)" \
	32 "$TR" --info /dev/zero

# ---- pcapng interfaces of different link types -------------------------------------------------
python3 "$GENPY" two-links "$WORK/two.pcapng"
hostile two-links 0 "" 32 "$TR" --info "$WORK/two.pcapng"
[ "$(info_of two-links '"%d %d %d" % (d["totals"]["udp_packets"], d["totals"]["flow_messages"], len(d["errors"]))')" = "3 3 0" ] ||
	fail "two-links: $(info_of two-links 'd["totals"], d["errors"]')"
python3 "$GENPY" two-links "$WORK/two80211.pcapng" --link2 105
hostile two-links-80211 3 "" 32 "$TR" --info "$WORK/two80211.pcapng"
info_of two-links-80211 'd["errors"][0]["error"]' | grep -q "interface 1 has link type IEEE802_11 (105), which is not supported; the 1 frames before it were read" ||
	fail "two-links-80211: $(info_of two-links-80211 'd["errors"]')"

echo PASS
