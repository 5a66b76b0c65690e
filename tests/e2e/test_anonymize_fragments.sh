#!/usr/bin/env bash
# anonymize on IPFIX datagrams carried in IP fragments (tr-pcapgen --fragment 64), IPv4 and
# IPv6 exporters:
#   - every fragmented datagram (12 and a template) goes to the IPFIX rewriter whole
#     (anonymize's closing lines);
#   - tshark reassembles and decodes (cflow) on the output as many datagrams as on the input,
#     with good UDP checksums, and none of the input's addresses is in a cflow field;
#   - anon_leak_check.py (every address field tshark knows) finds no leak;
#   - nfacctd decodes from the anonymized capture, replayed (nfacctd does not reassemble
#     fragments when it reads a pcap itself), as many records as it decodes from the same
#     capture unfragmented.
. "$(dirname "$0")/../lib.sh"

for cmd in tshark python3; do command -v "$cmd" >/dev/null || skip "$cmd is not installed"; done
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi
KEY=$WORK/key
# A fixed key (fixed_key in tests/lib.sh says why), so the outcome is the same on every run.
fixed_key "$KEY"
DECODE="udp.port==4739,cflow"

# gen NAME EXPORTER [ARGS...]: 12 IPFIX datagrams of 10 records from EXPORTER into NAME.pcap.
gen() {
	local name=$1 exporter=$2; shift 2
	"$GEN" --proto ipfix --count 12 --records 10 --exporter "$exporter" "$@" \
		--out "$WORK/$name.pcap" || fail "$name: tr-pcapgen failed"
}

# cflow_count PCAP: datagrams tshark decodes as IPFIX (reassembled).
cflow_count() { tshark -r "$1" -d "$DECODE" -Y cflow 2>/dev/null | wc -l; }

for family in 4 6; do
	if [ $family = 4 ]; then exporter=192.0.2.1; else exporter=2001:db8::5; fi
	name=frag$family
	gen "$name" "$exporter" --fragment 64
	"$TR" anonymize --key-file "$KEY" "$WORK/$name.pcap" -o "$WORK/$name.anon.pcap" \
		--map-out "$WORK/$name.map.json" 2>"$WORK/$name.log" ||
		{ cat "$WORK/$name.log"; fail "$name: anonymize exit $?"; }
	frames=$(tshark -r "$WORK/$name.pcap" 2>/dev/null | wc -l)
	in_n=$(cflow_count "$WORK/$name.pcap")
	[ "$in_n" -gt 12 ] || fail "$name: tshark decodes $in_n IPFIX datagrams from the input, not 12 and a template"
	grep -q "^anonymize: $in_n fragmented UDP datagrams rewritten whole ($frames fragments)" \
		"$WORK/$name.log" || { cat "$WORK/$name.log"; fail "$name: not every datagram was rewritten whole"; }
	! grep -q "kept their payload\|UDP payloads left as captured" "$WORK/$name.log" ||
		{ cat "$WORK/$name.log"; fail "$name: payloads left as captured"; }

	# tshark: the same datagrams decode, UDP checksums good, no input address in a cflow field.
	out_n=$(cflow_count "$WORK/$name.anon.pcap")
	[ "$out_n" -eq "$in_n" ] || fail "$name: tshark decodes $out_n IPFIX datagrams from the output, $in_n from the input"
	bad=$(tshark -r "$WORK/$name.anon.pcap" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
		-Y "udp.checksum.status != 1 || ip.checksum.status == 0" 2>/dev/null | wc -l)
	[ "$bad" -eq 0 ] || fail "$name: $bad frames with a checksum tshark does not find good"
	fields=(-e cflow.srcaddr -e cflow.dstaddr -e cflow.srcaddrv6 -e cflow.dstaddrv6 -e ip.src -e ip.dst
		-e ipv6.src -e ipv6.dst)
	tshark -r "$WORK/$name.pcap" -d "$DECODE" -Y cflow -T fields -E separator=, "${fields[@]}" 2>/dev/null |
		tr ',' '\n' | sed '/^$/d' | sort -u >"$WORK/$name.in.addrs"
	tshark -r "$WORK/$name.anon.pcap" -d "$DECODE" -Y cflow -T fields -E separator=, "${fields[@]}" 2>/dev/null |
		tr ',' '\n' | sed '/^$/d' | sort -u >"$WORK/$name.out.addrs"
	[ "$(wc -l <"$WORK/$name.in.addrs")" -gt 10 ] || fail "$name: tshark finds too few addresses in the input"
	[ "$(wc -l <"$WORK/$name.out.addrs")" -gt 10 ] || fail "$name: tshark finds too few addresses in the output"
	leaked=$(comm -12 "$WORK/$name.in.addrs" "$WORK/$name.out.addrs" | head -n 5)
	[ -z "$leaked" ] || fail "$name: input addresses in the output's cflow fields: $leaked"

	python3 "$(dirname "$0")/anon_leak_check.py" --tr "$TR" --key "$KEY" --all -d "$DECODE" \
		--out "$WORK/$name.anon.pcap" "$WORK/$name.pcap" >"$WORK/$name.check" ||
		{ cat "$WORK/$name.check"; fail "$name: the leak check failed"; }
	note "$name: $(cat "$WORK/$name.check")"
	[ $family = 6 ] || datagrams4=$in_n
done

# ---- nfacctd: as many records from the anonymized fragments as from the capture unfragmented ----
command -v nfacctd >/dev/null || skip "nfacctd (pmacct) is not installed: the tshark checks passed"
COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/flowcoll.sh"

gen whole4 192.0.2.1
cfg=$WORK/oracle.conf
{ cat "$COLLECTORS/nfacctd-print.conf"; echo "pcap_savefile: $WORK/whole4.pcap"
  echo "pcap_filter: udp dst port 4739"; echo "print_output_file[flows]: $WORK/oracle.json"; } >"$cfg"
rc=0; timeout 30 nfacctd -f "$cfg" >"$WORK/oracle.log" 2>&1 || rc=$?
[ $rc -eq 0 ] && [ -s "$WORK/oracle.json" ] || { tail -n 15 "$WORK/oracle.log"; fail "nfacctd reading the capture: exit $rc, or no record"; }
want=$(wc -l <"$WORK/oracle.json")

# The replay takes the anonymized capture from its pseudonymous exporter.
pseudonym=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ipv4"]["192.0.2.1"])' "$WORK/frag4.map.json")
cp "$WORK/frag4.anon.pcap" "$WORK/replayed.pcap"
fc_listen live nfacctd 127.0.0.1
replay_flows replayed 4739 127.0.0.1 "$FC_PORT" "$pseudonym=127.0.0.1"
fc_drain live "$REPLAY_SENT"
fc_stop live
[ "$REPLAY_SENT" -eq "$datagrams4" ] || fail "the replay sent $REPLAY_SENT datagrams, not $datagrams4"
got=$(wc -l <"$WORK/live.json")
[ "$got" -eq "$want" ] || fail "nfacctd decodes $got records from the anonymized fragments, $want from the capture"
note "nfacctd: $got records from the anonymized fragmented capture, $want from the original"
