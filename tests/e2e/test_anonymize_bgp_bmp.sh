#!/usr/bin/env bash
# anonymize on TCP: generated BMP and BGP captures (and, with TR_CORPUS, the corpus' BMP
# and BGP captures) are anonymized; tshark must find none of the input's addresses
# (IP headers and every BGP/BMP address field it decodes) nor its BMP strings in the
# output; --reverse must map the output's exporters back; two runs must give the same
# bytes.  The output replays to real collectors as the input does: pmbmpd decodes the
# same BMP messages per type and route monitoring prefixes (checked against tshark's
# decode of the output), gobgpd's Adj-RIB-In holds as many prefixes per peer as for the
# input, and pmbgpd decodes the same OPENs and prefixes in order (both checked against
# tshark's decode of the output's UPDATEs).
. "$(dirname "$0")/../lib.sh"

command -v pmbmpd >/dev/null || skip "pmbmpd (pmacct) is not installed (make test-deps)"
command -v pmbgpd >/dev/null || skip "pmbgpd (pmacct) is not installed (make test-deps)"
command -v gobgpd >/dev/null || skip "gobgpd is not installed (make test-deps)"
command -v gobgp >/dev/null || skip "gobgp (the GoBGP client) is not installed (make test-deps)"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/pmacct-daemon.sh"
. "$COLLECTORS/gobgpd.sh"
CHECK=(python3 "$COLLECTORS/pmcheck.py")

# A fixed key (fixed_key in tests/lib.sh says why), so the outcome is the same on every run.
fixed_key "$WORK/key"

# Every address field tshark decodes in IP, BGP and BMP.
ADDR_FIELDS=()
while read -r f; do ADDR_FIELDS+=(-e "$f"); done < <(tshark -G fields 2>/dev/null |
	awk -F'\t' '$1 == "F" && $3 ~ /^(ip|ipv6|bgp|bmp)\./ && ($4 == "FT_IPv4" || $4 == "FT_IPv6") { print $3 }')
[ ${#ADDR_FIELDS[@]} -gt 20 ] || fail "tshark lists no BGP/BMP address fields"

# addrs PCAP BMP_PORT: every address tshark decodes in it (0.0.0.0 and :: say "none"), one a line.
addrs() {
	tshark -r "$1" -d "tcp.port==$2,bmp" -o gui.max_tree_depth:100000 -T fields \
		-E separator=, -E aggregator=, "${ADDR_FIELDS[@]}" 2>/dev/null |
		tr ',' '\n' | grep -v -e '^$' -e '^0\.0\.0\.0$' -e '^::$' | sort -u
}

# Every text field tshark decodes in BMP (Initiation, Termination, Peer Up, route policy) and BGP
# (FQDN capability, shutdown communication), of those this tshark has.
TEXT_FIELDS=()
while read -r f; do TEXT_FIELDS+=(-e "$f"); done < <(tshark -G fields 2>/dev/null |
	awk -F'\t' '$1 == "F" && $4 == "FT_STRING" && ($3 ~ /^bmp\./ || $3 ~ /^bgp\.(cap\.orf\.fqdn|notify\.communication)/) { print $3 }')

# strings_of PCAP BMP_PORT: those texts, one a line.
strings_of() {
	tshark -r "$1" -d "tcp.port==$2,bmp" -o gui.max_tree_depth:100000 -T fields -E aggregator=$'\x01' \
		"${TEXT_FIELDS[@]}" 2>/dev/null | tr '\t\001' '\n\n' | grep -v '^$' | sort -u || true
}

# anon NAME IN BMP_PORT [ARGS...]: IN anonymized (twice: the same bytes) into $WORK/NAME-anon.pcap;
# no input address or string in the output.
anon() {
	local name=$1 in=$2 port=$3; shift 3
	local out=$WORK/$name-anon.pcap
	"$TR" anonymize --key-file "$WORK/key" "$@" "$in" -o "$out" 2>"$WORK/$name-anon.err" ||
		{ cat "$WORK/$name-anon.err" >&2; fail "$name: anonymize failed"; }
	"$TR" anonymize --key-file "$WORK/key" "$@" "$in" -o "$out.again" 2>/dev/null ||
		fail "$name: the second anonymize failed"
	cmp -s "$out" "$out.again" || fail "$name: two runs with one key differ"
	# The segments' payloads changed: their checksums were summed anew.
	[ "$(tshark -r "$out" -o tcp.check_checksum:TRUE -Y 'tcp.checksum.status == 0' 2>/dev/null | wc -l)" -eq 0 ] ||
		fail "$name: TCP checksums that do not match the rewritten segments"
	grep -Eq "(BMP|BGP) sessions: [1-9][0-9]* messages rewritten" "$WORK/$name-anon.err" ||
		fail "$name: no TCP message rewritten: $(cat "$WORK/$name-anon.err")"
	addrs "$in" "$port" >"$WORK/$name.addrs"
	addrs "$out" "$port" >"$WORK/$name-anon.addrs"
	[ -s "$WORK/$name.addrs" ] || fail "$name: tshark found no address in the input"
	if comm -12 "$WORK/$name.addrs" "$WORK/$name-anon.addrs" | grep -q .; then
		fail "$name: input addresses in the output: $(comm -12 "$WORK/$name.addrs" "$WORK/$name-anon.addrs" | head -5 | xargs)"
	fi
	strings_of "$in" "$port" >"$WORK/$name.strings"
	strings_of "$out" "$port" >"$WORK/$name-anon.strings"
	if comm -12 "$WORK/$name.strings" "$WORK/$name-anon.strings" | grep -q .; then
		fail "$name: input BMP strings in the output: $(comm -12 "$WORK/$name.strings" "$WORK/$name-anon.strings" | head -3)"
	fi
	note "$name: $(wc -l <"$WORK/$name.addrs") addresses and $(wc -l <"$WORK/$name.strings") strings, none left; $(grep -E '(BMP|BGP) sessions' "$WORK/$name-anon.err" | paste -sd';')"
}

# exporters PCAP DPORT: the source addresses of the TCP segments with data to DPORT, sorted.
exporters() {
	tshark -r "$1" -Y "tcp.dstport == $2 && tcp.len > 0" -T fields -e ip.src -e ipv6.src 2>/dev/null |
		tr '\t' '\n' | grep -v '^$' | sort -u
}

# reversed NAME IN OUT DPORT: --reverse maps the output's exporters back to the input's.
reversed() {
	local name=$1
	exporters "$2" "$4" >"$WORK/$name.exporters"
	exporters "$3" "$4" >"$WORK/$name-anon.exporters"
	# shellcheck disable=SC2046
	"$TR" anonymize --key-file "$WORK/key" --reverse $(cat "$WORK/$name-anon.exporters") | sort >"$WORK/$name.back" ||
		fail "$name: --reverse failed"
	cmp -s "$WORK/$name.exporters" "$WORK/$name.back" ||
		fail "$name: --reverse gives $(xargs <"$WORK/$name.back"), the input's exporters are $(xargs <"$WORK/$name.exporters")"
}

# ---- BMP: pmbmpd ----------------------------------------------------------------------

cat >"$WORK/pmbmpd.settings" <<CONF
bmp_daemon_max_peers: 100
bmp_daemon_msglog_file: $WORK/bmp.msglog
bmp_daemon_msglog_output: json
CONF
pm_start pmbmpd pmbmpd bmp 127.0.0.1 "$WORK/pmbmpd.settings"
note "pmbmpd listening on 127.0.0.1:$PM_PORT"

round=0
# bmp_decode NAME PCAP DPORT [CHECK_ARGS...]: replay PCAP's exporters (each to a loopback address of its own)
# to pmbmpd; what it decoded, checked against tshark's decode of PCAP, into $WORK/NAME.check.
bmp_decode() {
	local name=$1 pcap=$2 dport=$3 maps=() check=() e i=1 repro; shift 3
	round=$((round + 1))
	while read -r e; do
		i=$((i + 1)); repro=127.0.$round.$i
		maps+=("$e=$repro"); check+=(--map "$e=$repro")
	done < <(exporters "$pcap" "$dport")
	replay_session bmp "$dport" "$PM_PORT" "$name" "$pcap" 0 "${maps[@]}"
	pm_wait_closes "$WORK/bmp.msglog" bmp_router "$name's replay" "${maps[@]#*=}"
	"${CHECK[@]}" bmp --debuglog "$WORK/pmbmpd.log" --msglog "$WORK/bmp.msglog" \
		--tshark "$pcap" --port "$dport" "${check[@]}" --allow-other "$@" >"$WORK/$name.check" ||
		fail "$name: pmbmpd did not decode what the capture holds"
}

# bmp_round NAME PCAP DPORT [CHECK_ARGS...]: anonymized, no leak, reversible; pmbmpd decodes both alike.
bmp_round() {
	local name=$1 pcap=$2 dport=$3; shift 3
	anon "$name" "$pcap" "$dport"
	reversed "$name" "$pcap" "$WORK/$name-anon.pcap" "$dport"
	bmp_decode "$name" "$pcap" "$dport" "$@"
	bmp_decode "$name-anon" "$WORK/$name-anon.pcap" "$dport" "$@"
	cmp -s "$WORK/$name.check" "$WORK/$name-anon.check" ||
		fail "$name: pmbmpd decoded the output otherwise: input: $(cat "$WORK/$name.check"); output: $(cat "$WORK/$name-anon.check")"
	note "$name: input and output alike at pmbmpd: $(cat "$WORK/$name-anon.check")"
}

"$GEN" --proto bmp --count 40 --exporter 192.0.2.1 --exporter 2001:db8::7 --noise \
	--out "$WORK/bmp.pcap" || fail "tr-pcapgen failed"
bmp_round bmp "$WORK/bmp.pcap" 1790
# With -t, a config's bmp section selects the sessions instead of their content: the same bytes.
printf 'pcap: %s\nnetwork:\n  map:\n  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.1}\nbmp:\n  select: {tcp: {dport: [1790]}}\n  collector: {ip: 127.0.0.1, port: 1790}\n' \
	"$WORK/bmp.pcap" >"$WORK/bmp-t.yml"
"$TR" anonymize --key-file "$WORK/key" -t "$WORK/bmp-t.yml" "$WORK/bmp.pcap" -o "$WORK/bmp-t.pcap" 2>"$WORK/bmp-t.err" ||
	{ cat "$WORK/bmp-t.err" >&2; fail "bmp -t: anonymize failed"; }
cmp -s "$WORK/bmp-t.pcap" "$WORK/bmp-anon.pcap" || fail "bmp -t: the output differs from the one by content"
note "bmp -t: the bmp section's selection gives the same output as classifying by content"
# Each input is read twice (learn, then patch): a pipe is refused, with words saying why.
rc=0
"$TR" anonymize --key-file "$WORK/key" <(cat "$WORK/bmp.pcap") -o "$WORK/pipe.pcap" 2>"$WORK/pipe.err" || rc=$?
[ $rc -eq 2 ] && grep -q "not a regular file: anonymize reads each input twice" "$WORK/pipe.err" ||
	fail "a pipe as input: exit $rc, $(cat "$WORK/pipe.err")"
[ ! -e "$WORK/pipe.pcap" ] || fail "a pipe as input: an output was written"
"$GEN" --proto bmp --count 40 --exporter 192.0.2.1 --exporter 192.0.2.2 --segment 7 \
	--out "$WORK/bmp7.pcap" || fail "tr-pcapgen failed"
bmp_round bmp-seg7 "$WORK/bmp7.pcap" 1790

if [ -n "${TR_CORPUS:-}" ]; then
	pcaps=$TR_CORPUS/anchor/examples/pcaps
	[ -r "$pcaps/bmp-traffic.pcap" ] || fail "TR_CORPUS is set but $pcaps/bmp-traffic.pcap is missing"
	# It ends inside a message (left as captured, and said); tshark's prefixes are not
	# pmbmpd's for some families (test_pmbmpd.sh): messages per type compared.
	bmp_round corpus-bmp "$pcaps/bmp-traffic.pcap" 1790 --no-prefixes
	for pcap in "$pcaps"/bmp-*.pcap "$pcaps"/ipfix-bmp-scenario-*bmp*.pcap; do
		[ "$pcap" != "$pcaps/bmp-traffic.pcap" ] || continue
		name=corpus-$(basename "$pcap" .pcap)
		anon "$name" "$pcap" 1790
		reversed "$name" "$pcap" "$WORK/$name-anon.pcap" 1790
	done
else
	note "TR_CORPUS is not set: the corpus captures are not anonymized"
fi
pm_stop

# ---- BGP: gobgpd ----------------------------------------------------------------------

GO_PID="" TR_PID=""
go_cleanup() {
	[ -z "$TR_PID" ] || kill -INT "$TR_PID" 2>/dev/null || true
	[ -z "$GO_PID" ] || kill "$GO_PID" 2>/dev/null || true
	return 0
}
cleanup_hooks+=(go_cleanup)

# gobgp_decode NAME PCAP: PCAP's exporters replayed (keep_open) to a gobgpd configured from
# their OPENs; the prefixes each neighbor accepted, checked against tshark's decode of
# PCAP, into $WORK/NAME.check (addresses left out, so input and output compare).
gobgp_decode() {
	local name=$1 pcap=$2 e r i=1 got adjin_args=() neighbors=() deadline
	declare -A REPRO=() AS=() WANT=()
	round=$((round + 1))
	while read -r e myas as4; do
		i=$((i + 1)); REPRO[$e]=127.0.$round.$i; AS[$e]=${as4:-$myas}
	done < <(tshark -r "$pcap" -Y 'bgp.type == 1 && tcp.dstport == 179' -T fields \
		-e ip.src -e bgp.open.myas -e bgp.cap.4as 2>/dev/null)
	[ ${#REPRO[@]} -gt 0 ] || fail "$name: tshark found no OPEN to port 179"
	for e in "${!REPRO[@]}"; do
		WANT[$e]=$(tshark -r "$pcap" -Y "ip.src == $e && tcp.dstport == 179" -T fields -e bgp.nlri_prefix 2>/dev/null |
			tr ',' '\n' | grep -c .) || true
	done
	for e in "${!REPRO[@]}"; do neighbors+=("${REPRO[$e]}" "${AS[$e]}"); done
	gobgpd_start "$WORK/$name.gobgpd.log" "${neighbors[@]}"
	{
		printf 'pcap: %s\ntime_factor: 0\nno_sync: true\nkeep_open: true\nnetwork:\n  map:\n' "$pcap"
		for e in "${!REPRO[@]}"; do printf '  - {src_ip: %s, repro_ip: %s}\n' "$e" "${REPRO[$e]}"; done
		printf 'bgp:\n  select: {tcp: {dport: [179]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$BGP_PORT"
	} >"$WORK/$name.yml"
	timeout 60 "$TR" -t "$WORK/$name.yml" 2>"$WORK/$name.tr.log" &
	TR_PID=$!
	deadline=$((SECONDS + 15))
	for e in "${!REPRO[@]}"; do
		r=${REPRO[$e]} got=0
		while [ $SECONDS -lt $deadline ]; do
			kill -0 "$GO_PID" 2>/dev/null || fail "$name: gobgpd is gone during the replay"
			got=$(gobgp_ neighbor "$r" -j 2>/dev/null | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(a.get("state", {}).get("accepted", 0) for a in d.get("afi_safis", [])))' 2>/dev/null || echo 0)
			[ "$got" -lt "${WANT[$e]}" ] || break
			sleep 0.1
		done
		[ "$got" -ge "${WANT[$e]}" ] ||
			fail "$name: $r: gobgpd accepted $got of the ${WANT[$e]} prefixes announced within 15 s"
		gobgp_ neighbor "$r" adj-in -a ipv4 -j >"$WORK/$name.adjin.$r.json" || fail "$name: gobgp adj-in failed"
		adjin_args+=(--map "$e=$r" --adjin "$r=$WORK/$name.adjin.$r.json")
	done
	kill -INT "$TR_PID"; wait "$TR_PID" || true; TR_PID=""
	for _ in $(seq 1 50); do
		[ "$(grep -c 'msg="received notification"' "$WORK/$name.gobgpd.log" || true)" -ge ${#REPRO[@]} ] && break
		sleep 0.1
	done
	"${CHECK[@]}" gobgp --log "$WORK/$name.gobgpd.log" --tshark "$pcap" --port 179 "${adjin_args[@]}" \
		>"$WORK/$name.check" || fail "$name: gobgpd did not receive what the capture holds"
	kill -TERM "$GO_PID"; wait "$GO_PID" 2>/dev/null || true; GO_PID=""
}

"$GEN" --proto bgp --count 20 --exporter 192.0.2.1 --exporter 192.0.2.2 --noise \
	--out "$WORK/bgp.pcap" || fail "tr-pcapgen failed"
anon bgp "$WORK/bgp.pcap" 1790
reversed bgp "$WORK/bgp.pcap" "$WORK/bgp-anon.pcap" 179
gobgp_decode bgp "$WORK/bgp.pcap"
gobgp_decode bgp-anon "$WORK/bgp-anon.pcap"
cmp -s "$WORK/bgp.check" "$WORK/bgp-anon.check" ||
	fail "bgp: gobgpd took the output otherwise: input: $(cat "$WORK/bgp.check"); output: $(cat "$WORK/bgp-anon.check")"
note "bgp: input and output alike at gobgpd: $(cat "$WORK/bgp-anon.check")"

# ---- BGP: pmbgpd ----------------------------------------------------------------------

cat >"$WORK/pmbgpd.settings" <<CONF
bgp_daemon: true
bgp_daemon_max_peers: 100
bgp_disable_router_id_check: true
bgp_daemon_msglog_file: $WORK/bgp.msglog
bgp_daemon_msglog_output: json
CONF
pm_start pmbgpd pmbgpd bgp 127.0.0.1 "$WORK/pmbgpd.settings"
note "pmbgpd listening on 127.0.0.1:$PM_PORT"

# pmbgpd_decode NAME PCAP: PCAP's exporters replayed to pmbgpd (each from a loopback address
# of its own); its decode (OPENs, every prefix in order), checked against tshark's decode of
# PCAP, into $WORK/NAME.check.
pmbgpd_decode() {
	local name=$1 pcap=$2 maps=() check=() e i=1 repro from
	round=$((round + 1))
	while read -r e; do
		i=$((i + 1)); repro=127.0.$round.$i
		maps+=("$e=$repro"); check+=(--map "$e=$repro")
	done < <(exporters "$pcap" 179)
	from=$(stat -c %s "$WORK/pmbgpd.log")
	replay_session bgp 179 "$PM_PORT" "$name" "$pcap" 0 "${maps[@]}"
	pm_wait_closes "$WORK/bgp.msglog" peer_ip_src "$name's replay" "${maps[@]#*=}"
	"${CHECK[@]}" bgp --daemonlog "$WORK/pmbgpd.log" --daemonlog-from "$from" --msglog "$WORK/bgp.msglog" \
		--tshark "$pcap" --port 179 "${check[@]}" >"$WORK/$name.check" ||
		fail "$name: pmbgpd did not decode what the capture holds"
}
pmbgpd_decode pm-bgp "$WORK/bgp.pcap"
pmbgpd_decode pm-bgp-anon "$WORK/bgp-anon.pcap"
cmp -s "$WORK/pm-bgp.check" "$WORK/pm-bgp-anon.check" ||
	fail "bgp: pmbgpd decoded the output otherwise: input: $(cat "$WORK/pm-bgp.check"); output: $(cat "$WORK/pm-bgp-anon.check")"
note "bgp: input and output alike at pmbgpd: $(cat "$WORK/pm-bgp-anon.check")"
pm_stop

# as_numbers: map: the OPENs' ASes, in capture order: the exporters' documentation AS
# (64496, reserved) stays, the collectors' private ones (65001, 65002) become other
# private ones; the rest (addresses) still holds.
anon bgp-as "$WORK/bgp.pcap" 1790 --as-numbers map
tshark -r "$WORK/bgp.pcap" -Y 'bgp.type == 1' -T fields -e bgp.open.myas 2>/dev/null >"$WORK/bgp.as"
tshark -r "$WORK/bgp-as-anon.pcap" -Y 'bgp.type == 1' -T fields -e bgp.open.myas 2>/dev/null >"$WORK/bgp-as.as"
paste "$WORK/bgp.as" "$WORK/bgp-as.as" | awk '
	$1 >= 64496 && $1 <= 64511 && $2 != $1 { bad = bad " reserved " $1 " became " $2 }
	$1 >= 64512 && $1 <= 65534 && ($2 == $1 || $2 < 64512 || $2 > 65534) { bad = bad " private " $1 " became " $2 }
	END { if (bad != "" || NR == 0) { print "as-numbers map:" bad; exit 1 } }' ||
	fail "bgp-as: --as-numbers map: $(paste "$WORK/bgp.as" "$WORK/bgp-as.as" | xargs)"
note "bgp-as: OPEN ASes $(sort -u "$WORK/bgp.as" | xargs) became $(sort -u "$WORK/bgp-as.as" | xargs)"

if [ -n "${TR_CORPUS:-}" ]; then
	for pcap in "$TR_CORPUS"/anchor/examples/pcaps/bgp*.pcap; do
		[ -r "$pcap" ] || continue
		name=corpus-$(basename "$pcap" .pcap)
		anon "$name" "$pcap" 1790
		reversed "$name" "$pcap" "$WORK/$name-anon.pcap" 179
	done
fi
echo PASS
