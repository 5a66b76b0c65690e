#!/usr/bin/env bash
# End to end, IPFIX/NetFlow fidelity (the ipfix section's templates, sequence and
# timestamps keys, and select ipfix_h.domain) against real collectors, nfacctd and
# nfcapd, and the built-in sink (its dump decoded by collectors/flowdump.py, a strict
# decoder of every IPFIX time field): what they decode and what they count as sequence
# errors, for generated IPFIX, NetFlow v9 and v5 captures (the generator's --expect
# file is the oracle).
#
#   templates   a capture that starts after the templates (tr-pcapgen
#               --first-template-after, with sampling options templates): as-captured,
#               the collector loses exactly the records before the first template;
#               drop-orphans, the same, and the sink gets no data set before its
#               template; prime (and the default), nothing is lost.
#   sequence    the capture repeated 5 times: as-captured, the collector counts
#               sequence errors; continue (and the default when repeating), none, also
#               for the capture 3 times in a list; every play's records arrive.
#   timestamps  as-captured, the collector stores the generated times; shift, the
#               generated times moved by one whole-second delta that puts the first
#               message's export time at the replay's wall clock (within 10 s),
#               durations intact (the sink: also the export time itself; IPFIX
#               seconds, milliseconds, and for the sink micro- and nanoseconds).
#   domain      two observation domains (source ids) of one exporter: without a
#               selection the collector gets both; with ipfix_h.domain only one.
#
# Usage (ctest runs it with TR_SOURCE_DIR and TR_BUILD_DIR set):
#   ctest --test-dir BUILD -R flow_fidelity --output-on-failure
#   TR_BUILD_DIR=BUILD bash tests/e2e/test_flow_fidelity.sh
# Environment:
#   TR_BIN=PATH           the traffic-reproducer under test (default BUILD's); the
#                         generator is always BUILD's tr-pcapgen (it has the options)
#   FIDELITY_PARTS="templates sequence timestamps domain"   a subset to run
#   FIDELITY_PROTOS="ipfix nfv9 nfv5"                         a subset to run
#   FIDELITY_COLLECTORS="nfacctd nfcapd sink"                 a subset to run
#
# What the collectors do (found by experiment, nfacctd 1.7.7, nfdump/nfcapd 1.7.1):
# - nfcapd counts sequence failures per exporter and domain, one per datagram whose
#   sequence number is not the expected one (IPFIX: data records, v9: packets, v5:
#   flows): `nfdump -R DIR -I` prints "Sequence failures: N" (the total), `nfdump -E
#   FILE` one line per exporter ("SysID: 1, IP: 127.0.0.2, version: 9, ID: 1,
#   Sequence failures: 4, packets: 110, flows: 400"), and nfcapd logs the total when it
#   stops ("Ident: 'none' Flows: 400, ..., Sequence Errors: 4, Bad Packets: 0"). A
#   capture played 5 times as captured: 4 per exporter and domain. Its IPFIX count
#   leaves options data records out (RFC 7011 counts all data records): every datagram
#   after an options data set counts as a failure, even in an untouched capture.
# - nfacctd checks sequence numbers only with `nfacctd_disable_checks: false` (the
#   default is true: no check); no debug needed. It logs, at INFO, one line per bad
#   datagram: "INFO ( default/core ): expecting flow '80' but received '0'
#   collector=127.0.0.1:PORT agent=127.0.0.2:1" (agent = exporter:domain; v5: engine
#   id*256+type). With `debug: true` it also logs each datagram ("Received NetFlow/IPFIX
#   packet from [ADDR:PORT] version [10] seqno [N]"; v5: "Received NetFlow packet").
#   It takes sequence number 0 as a fresh start, and for IPFIX it
#   expects the previous number plus the records it decoded from that datagram: data
#   sets it dropped for want of a template make false errors on the next datagram.
# - Data before its template: nfacctd drops it; with `debug: true` it logs
#   "DEBUG ( default/core ): Discarded NetFlow v9/IPFIX packet (R: unknown template 256
#   [127.0.0.2:1])" per datagram. nfcapd drops it silently (no log even with -v -v -v,
#   no counter; nfdump -E says "- no flows sent" for an exporter with no flow at all).
# - Flow times: nfacctd (print plugin, timestamps_since_epoch) prints timestamp_start/
#   timestamp_end as "SECONDS.MICROSECONDS"; it decodes IPFIX 150-153 (152/153 to the
#   millisecond) but not 154-157 (start falls back to the export time, end is 0);
#   v9/v5 times come from sysUptime and unix_secs (v5: + unix_nsecs).
#   nfdump -o json prints "first"/"last" in the local zone to the millisecond (run
#   it with TZ=UTC); of the IPFIX time fields nfcapd decodes only 152/153 (150/151 and
#   154-157 come out as the epoch), so IPFIX captures here carry flowStart/End-
#   Milliseconds (--time-fields msec); the sink's decoder (flowdump.py) does them all.
# - nfacctd aggregates: records equal in every printed field (a repetition's) fold
#   into one line with the packets and bytes added; sums are compared, not lines.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
TR=${TR_BIN:-$TR}
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi
case $("$GEN" --help) in *--first-template-after*) ;; *) fail "$GEN predates --first-template-after" ;; esac

PARTS=${FIDELITY_PARTS:-templates sequence timestamps domain}
PROTOS=${FIDELITY_PROTOS:-ipfix nfv9 nfv5}
COLLS=""
for c in ${FIDELITY_COLLECTORS:-nfacctd nfcapd sink}; do
	case $c in
	sink) COLLS+=" sink" ;;
	nfacctd)
		if command -v nfacctd >/dev/null; then COLLS+=" nfacctd"; else note "nfacctd (pmacct) is not installed: not tested"; fi ;;
	nfcapd)
		if command -v nfcapd >/dev/null && command -v nfdump >/dev/null; then COLLS+=" nfcapd"
		else note "nfcapd/nfdump are not installed: not tested"; fi ;;
	*) fail "FIDELITY_COLLECTORS: unknown collector '$c' (nfacctd, nfcapd, sink)" ;;
	esac
done
[ -n "$COLLS" ] || skip "none of FIDELITY_COLLECTORS is installed (make test-deps)"

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/flowcoll.sh"
CMP=(python3 "$COLLECTORS/flowcmp.py")
MAP=(192.0.2.1=127.0.0.2 192.0.2.2=127.0.0.3)
MAP_ARGS=(--map 192.0.2.1=127.0.0.2 --map 192.0.2.2=127.0.0.3)
START=1700000000	# the captures' first export time (tr-pcapgen --start)
PASSED=0

has() { case " $1 " in *" $2 "*) return 0 ;; esac; return 1; }
dport_of() { [ "$1" = ipfix ] && echo 4739 || echo 2055; }

# pass WHAT: one assertion held.
pass() { PASSED=$((PASSED + 1)); note "ok: $*"; }

# ---- configs ----

# write_config NAME PCAP DPORT PORT REPEAT [KEY=VALUE...]: $WORK/NAME.yml, the older
# tool's schema plus the ipfix section's new keys: templates, sequence, timestamps, and
# domain (select ipfix_h.domain). REPEAT 1: no repeat key.
write_config() {
	local name=$1 pcap=$2 dport=$3 port=$4 repeat=$5 kv m; shift 5
	{
		# Several captures (a space-separated list): a list.
		if [ "${pcap// /}" = "$pcap" ]; then
			printf 'pcap: %s\n' "$pcap"
		else
			printf 'pcap:\n'
			# shellcheck disable=SC2086 # one item per word
			printf '  - %s\n' $pcap
		fi
		printf 'time_factor: 0\nno_sync: true\n'
		[ "$repeat" = 1 ] || printf 'repeat:\n  count: [%s]\n  pattern: round-robin\n' "$repeat"
		printf 'network:\n  map:\n'
		for m in "${MAP[@]}"; do printf '  - src_ip: %s\n    repro_ip: %s\n' "${m%%=*}" "${m#*=}"; done
		printf 'ipfix:\n  select:\n    udp:\n      dport: [%s]\n' "$dport"
		for kv in "$@"; do
			[ "${kv%%=*}" != domain ] || printf '    ipfix_h:\n      version: [9, 10]\n      domain: [%s]\n' "${kv#*=}"
		done
		for kv in "$@"; do
			case ${kv%%=*} in domain | default) ;; *) printf '  %s: %s\n' "${kv%%=*}" "${kv#*=}" ;; esac
		done
		printf '  collector:\n    ip: 127.0.0.1\n    port: %s\n' "$port"
	} >"$WORK/$name.yml"
}

# config NAME PCAP DPORT PORT REPEAT [KEY=VALUE...]: writes the config and checks it.
config() {
	local name=$1 err
	write_config "$@"
	err=$("$TR" -t "$WORK/$name.yml" -n 2>&1 >/dev/null) || fail "$name: the tool refused the config: $err"
}

# ---- one replay to one collector ----

# run NAME COLLECTOR PCAP PROTO REPEAT [KEY=VALUE...]: config, collector, replay, stop.
# Sets SENT, T0 and T1 (wall clock just before and after the replay, Unix seconds),
# and the collector's records ($FC_KIND:$WORK/NAME.json). KEY default=templates|sequence
# writes no key: the default mode.
run() {
	local name=$1 coll=$2 pcap=$3 proto=$4 repeat=$5 dport; shift 5
	dport=$(dport_of "$proto")
	config "$name" "$pcap" "$dport" 9 "$repeat" "$@"
	fc_listen "$name-c" "$coll" 127.0.0.1
	sed -i "s/^    port: 9$/    port: $FC_PORT/" "$WORK/$name.yml"
	T0=$(date +%s)
	timeout 120 "$TR" -t "$WORK/$name.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.tr.log" ||
		{ cat "$WORK/$name.tr.log" >&2; fail "$name: replay exited with $?"; }
	T1=$(( $(date +%s) + 1 ))
	SENT=$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["sent"]')
	[ "$SENT" -gt 0 ] || fail "$name: the replay sent nothing"
	[ "$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["refused"] + d["unknown_peer"]')" -eq 0 ] ||
		fail "$name: datagrams refused or from unknown peers: $(cat "$WORK/$name.stats.json")"
	fc_drain "$name-c" "$SENT"
	fc_stop "$name-c"
	REC="$FC_KIND:$WORK/$name-c.json"
}

# gen NAME PROTO ARGS...: a capture and its oracle; N = records generated.
gen() {
	local name=$1 proto=$2; shift 2
	"$GEN" --proto "$proto" --dport "$(dport_of "$proto")" --start "$START" "$@" \
		--out "$WORK/$name.pcap" --expect "$WORK/$name.expect" || fail "$name: tr-pcapgen failed"
	N=$(wc -l <"$WORK/$name.expect")
	[ "$N" -gt 0 ] || fail "$name: the generator wrote no flow records"
}

# The IPFIX time fields that both collectors decode (see the top): milliseconds.
time_args() { TIME_ARGS=(); [ "$1" != ipfix ] || TIME_ARGS=(--time-fields msec); }

# same NAME EXPECT N [FLOWCMP_ARGS...]: the collector's records are exactly EXPECT's.
same() {
	local name=$1 expect=$2 n=$3; shift 3
	"${CMP[@]}" "expect:$expect" "$REC" "${MAP_ARGS[@]}" --count "$n" "$@" >"$WORK/$name.cmp" 2>&1 ||
		{ cat "$WORK/$name.cmp" >&2; fail "$name: the collector's records are not the $n expected"; }
}

# differs NAME EXPECT N [FLOWCMP_ARGS...]: a new mode's assertion fails on the
# as-captured run's records (so that it can fail at all).
differs() {
	local name=$1 expect=$2 n=$3; shift 3
	if "${CMP[@]}" "expect:$expect" "$REC" "${MAP_ARGS[@]}" --count "$n" "$@" >"$WORK/$name.neg.cmp" 2>&1; then
		fail "$name: the new mode's check passes on the as-captured records too"
	fi
	pass "$name: the new mode's check fails on the as-captured records"
}

# records_packets KIND:FILE: "RECORDS PACKETS" (nfacctd folds equal records: sum packets).
records_packets() {
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import flowcmp
r = flowcmp.load(sys.argv[2]); print(len(r), sum(x["packets"] for x in r))' "$COLLECTORS" "$1"
}

# ---- the parts ----

part_templates() {
	local coll=$1 proto=$2 n orphans kept
	local base="tpl-$proto-$coll"
	time_args "$proto"
	# Two exporters; the first 2 data messages of each come before any template (and before
	# the sampling options template); templates then every 3 data messages.
	gen "$base" "$proto" --count 12 --records 4 --exporter 192.0.2.1 --exporter 192.0.2.2 \
		--first-template-after 2 --template-every 3 --options-template --noise "${TIME_ARGS[@]}"
	n=$N
	orphans=$(grep -c '"orphan":true' "$WORK/$base.expect" || true)
	kept=$((n - orphans))
	[ "$orphans" -eq 16 ] && [ "$kept" -eq 32 ] ||
		fail "$base: the generator marked $orphans of $n records orphan, 16 of 48 expected"
	grep -v '"orphan":true' "$WORK/$base.expect" >"$WORK/$base.kept.expect"

	if run "$base-as" "$coll" "$WORK/$base.pcap" "$proto" 1 templates=as-captured; then
		same "$base-as" "$WORK/$base.kept.expect" "$kept" --ms
		pass "$base-as: templates as-captured: the $orphans records before the templates are lost, the $kept others decoded"
		differs "$base-as" "$WORK/$base.expect" "$n" --ms
	fi
	if [ "$coll" = sink ] && [ -e "$WORK/$base-as-c.stat.json" ]; then
		[ "$(fc_stat "$base-as-c" orphan_sets)" -eq 4 ] ||
			fail "$base-as: templates as-captured: the sink got $(fc_stat "$base-as-c" orphan_sets) data sets before their template, 4 expected"
		pass "$base-as: the sink got the 4 data sets before their template"
	fi
	if run "$base-drop" "$coll" "$WORK/$base.pcap" "$proto" 1 templates=drop-orphans; then
		same "$base-drop" "$WORK/$base.kept.expect" "$kept" --ms
		if [ "$coll" = sink ]; then
			[ "$(fc_stat "$base-drop-c" orphan_sets)" -eq 0 ] ||
				fail "$base-drop: templates drop-orphans: the sink got $(fc_stat "$base-drop-c" orphan_sets) data sets before their template"
		fi
		pass "$base-drop: templates drop-orphans: no data set before its template; the $kept others decoded"
	fi
	if run "$base-prime" "$coll" "$WORK/$base.pcap" "$proto" 1 templates=prime; then
		same "$base-prime" "$WORK/$base.expect" "$n" --ms
		if [ "$coll" = sink ]; then
			[ "$(fc_stat "$base-prime-c" orphan_sets)" -eq 0 ] ||
				fail "$base-prime: templates prime: the sink got $(fc_stat "$base-prime-c" orphan_sets) data sets before their template"
		fi
		pass "$base-prime: templates prime: all $n records decoded"
		# Not asserted: a primed message needs a sequence number that fits (v9 counts
		# packets), which sequence: as-captured cannot always give.
		note "$base-prime: (information) $coll counted $(fc_seq_errors "$base-prime-c") sequence errors"
	fi
	# A list whose first capture has no template at all: the second one's, found by the
	# pre-scan, must be primed (same exporters and domains). Other times: other records.
	gen "$base-nt" "$proto" --count 12 --records 4 --exporter 192.0.2.1 --exporter 192.0.2.2 \
		--skip-templates --start $((START + 100)) "${TIME_ARGS[@]}"
	cat "$WORK/$base-nt.expect" "$WORK/$base.expect" >"$WORK/$base.list.expect"
	grep -v '"orphan":true' "$WORK/$base.list.expect" >"$WORK/$base.list-kept.expect"
	if run "$base-list-as" "$coll" "$WORK/$base-nt.pcap $WORK/$base.pcap" "$proto" 1 templates=as-captured; then
		same "$base-list-as" "$WORK/$base.list-kept.expect" "$kept" --ms
		pass "$base-list-as: templates as-captured, a list whose first capture has no template: its 48 records lost"
	fi
	if run "$base-list-prime" "$coll" "$WORK/$base-nt.pcap $WORK/$base.pcap" "$proto" 1 templates=prime; then
		same "$base-list-prime" "$WORK/$base.list.expect" $((n + 48)) --ms
		pass "$base-list-prime: templates prime, a list whose first capture has no template: all $((n + 48)) records, primed from the second capture"
	fi
	run "$base-default" "$coll" "$WORK/$base.pcap" "$proto" 1 default=templates
	same "$base-default" "$WORK/$base.expect" "$n" --ms
	pass "$base-default: no templates key (default prime): all $n records decoded"
}

part_sequence() {
	local coll=$1 proto=$2 n packets got errs extra=()
	local base="seq-$proto-$coll"
	# Sampling options too (their records count in IPFIX sequence numbers), except for
	# nfcapd's IPFIX: it leaves options records out of its count (see the top).
	[ "$proto" = nfv5 ] || extra=(--template-every 3 --options-template)
	[ "$coll/$proto" != nfcapd/ipfix ] || extra=(--template-every 3)
	time_args "$proto"
	gen "$base" "$proto" --count 8 --records 4 --exporter 192.0.2.1 "${extra[@]}" "${TIME_ARGS[@]}"
	n=$N
	packets=$(python3 -c 'import json, sys; print(sum(json.loads(l)["packets"] for l in open(sys.argv[1])))' "$WORK/$base.expect")

	# seq_run NAME [KEY=VALUE...]: 5 plays; every play's records arrive. Sets errs.
	seq_run() {
		local name=$1; shift
		run "$name" "$coll" "$WORK/$base.pcap" "$proto" 5 "$@" || return 1
		got=$(records_packets "$REC")
		[ "${got#* }" -eq $((5 * packets)) ] ||
			fail "$name: the collector counted ${got#* } packets, 5 plays of $packets expected"
		if [ "$coll" = nfcapd ] && [ "${got% *}" -ne $((5 * n)) ]; then
			fail "$name: nfcapd stored ${got% *} flows, 5 plays of $n expected"
		fi
		errs=$(fc_seq_errors "$name-c")
		[ -n "$errs" ] || fail "$name: no sequence failure count found"
		return 0
	}
	if seq_run "$base-as" sequence=as-captured; then
		# Each play restarts the numbers: one error per restart (4) is what both count.
		[ "$errs" -gt 0 ] || fail "$base-as: sequence as-captured, 5 plays: $coll counted no sequence error"
		pass "$base-as: sequence as-captured, 5 plays: $coll counted $errs sequence errors"
	fi
	if seq_run "$base-cont" sequence=continue; then
		[ "$errs" -eq 0 ] || fail "$base-cont: sequence continue, 5 plays: $coll counted $errs sequence errors"
		pass "$base-cont: sequence continue, 5 plays: no sequence error, all records"
	fi
	# The same capture three times as a list, rather than repeated.
	if run "$base-list" "$coll" "$WORK/$base.pcap $WORK/$base.pcap $WORK/$base.pcap" "$proto" 1 sequence=continue; then
		got=$(records_packets "$REC")
		[ "${got#* }" -eq $((3 * packets)) ] ||
			fail "$base-list: the collector counted ${got#* } packets, 3 plays of $packets expected"
		errs=$(fc_seq_errors "$base-list-c")
		[ "$errs" -eq 0 ] || fail "$base-list: sequence continue, a list of 3: $coll counted $errs sequence errors"
		pass "$base-list: sequence continue, the capture 3 times in a list: no sequence error, all records"
	fi
	seq_run "$base-default" default=sequence
	[ "$errs" -eq 0 ] || fail "$base-default: no sequence key, 5 plays (default continue): $coll counted $errs sequence errors"
	pass "$base-default: no sequence key, 5 plays (default continue): no sequence error"
}

part_timestamps() {
	local coll=$1 proto=$2 tf=${3:-} n delta first ms=(--ms) targs=()
	local base="ts-$proto${tf:+-$tf}-$coll"
	[ -z "$tf" ] || targs=(--time-fields "$tf")
	gen "$base" "$proto" --count 6 --records 4 --exporter 192.0.2.1 "${targs[@]}"
	n=$N
	first=$START	# the first message's export time: the capture's first frame
	if run "$base-as" "$coll" "$WORK/$base.pcap" "$proto" 1 timestamps=as-captured; then
		same "$base-as" "$WORK/$base.expect" "$n" "${ms[@]}"
		pass "$base-as: timestamps as-captured: the generated start/end times (to the ms)"
		# The shift check on these: a delta of 0, far from the wall clock.
		same "$base-as-neg" "$WORK/$base.expect" "$n" "${ms[@]}" --shifted
		delta=$(sed -n 's/^shift: //p' "$WORK/$base-as-neg.cmp")
		[ $((first + delta)) -lt $((T0 - 10)) ] || fail "$base-as: the shift check passes on the as-captured records too"
		pass "$base-as: the shift check fails on the as-captured records (delta $delta)"
	fi
	if run "$base-shift" "$coll" "$WORK/$base.pcap" "$proto" 1 timestamps=shift; then
		same "$base-shift" "$WORK/$base.expect" "$n" "${ms[@]}" --shifted
		delta=$(sed -n 's/^shift: //p' "$WORK/$base-shift.cmp")
		# The first export time moved to the replay's wall clock [T0, T1] (10 s of slack).
		if [ $((first + delta)) -lt $((T0 - 10)) ] || [ $((first + delta)) -gt $((T1 + 10)) ]; then
			fail "$base-shift: timestamps shift: times moved by $delta s, putting the first export time at $((first + delta)), not at the replay's wall clock $T0..$T1"
		fi
		if [ "$coll" = sink ] && [ "$(fc_stat "$base-shift-c" first_export min)" -ne $((first + delta)) ]; then
			fail "$base-shift: timestamps shift: the flow times moved by $delta s, the first export time to $(fc_stat "$base-shift-c" first_export min), not $((first + delta))"
		fi
		pass "$base-shift: timestamps shift: every time moved by $delta s (first export time -> $((first + delta)), replay at $T0..$T1), durations intact"
	fi
}

part_domain() {
	local coll=$1 proto=$2 n m
	local base="dom-$proto-$coll"
	time_args "$proto"
	# One exporter, two domains (source ids for v9) 7 and 9, each with its templates.
	gen "$base" "$proto" --count 8 --records 3 --exporter 192.0.2.1 --domain 7 --domain 9 \
		--template-every 2 "${TIME_ARGS[@]}"
	n=$N
	grep '"domain":9,' "$WORK/$base.expect" >"$WORK/$base.d9.expect" || true
	m=$(wc -l <"$WORK/$base.d9.expect")
	[ "$m" -gt 0 ] && [ "$m" -lt "$n" ] || fail "$base: the generator wrote $m of $n records in domain 9"
	if run "$base-all" "$coll" "$WORK/$base.pcap" "$proto" 1; then
		same "$base-all" "$WORK/$base.expect" "$n" --ms
		pass "$base-all: no domain selection: the records of domains 7 and 9 ($n)"
		differs "$base-all" "$WORK/$base.d9.expect" "$m" --ms
	fi
	if run "$base-d9" "$coll" "$WORK/$base.pcap" "$proto" 1 domain=9; then
		same "$base-d9" "$WORK/$base.d9.expect" "$m" --ms
		pass "$base-d9: select ipfix_h.domain [9]: only domain 9's $m records"
	fi
}

for coll in $COLLS; do
	for proto in $PROTOS; do
		case $proto in ipfix | nfv9 | nfv5) ;; *) fail "FIDELITY_PROTOS: unknown '$proto' (ipfix, nfv9, nfv5)" ;; esac
		# v5 has no templates, and its engine type/id is no observation domain to select.
		if has "$PARTS" templates && [ "$proto" != nfv5 ]; then part_templates "$coll" "$proto"; fi
		if has "$PARTS" sequence; then part_sequence "$coll" "$proto"; fi
		if has "$PARTS" timestamps; then
			if [ "$proto" = ipfix ]; then part_timestamps "$coll" ipfix msec; else part_timestamps "$coll" "$proto"; fi
			# The other IPFIX time fields where the collector decodes them.
			if [ "$proto" = ipfix ] && [ "$coll" != nfcapd ]; then part_timestamps "$coll" ipfix sec; fi
			if [ "$proto" = ipfix ] && [ "$coll" = sink ]; then
				part_timestamps "$coll" ipfix usec
				part_timestamps "$coll" ipfix nsec
			fi
		fi
		if has "$PARTS" domain && [ "$proto" != nfv5 ]; then part_domain "$coll" "$proto"; fi
	done
done

echo "$PASSED checks passed"
echo "PASS"
