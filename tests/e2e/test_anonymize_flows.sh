#!/usr/bin/env bash
# anonymize and a real collector: nfacctd (pmacct) decodes a generated IPFIX,
# NetFlow v9 and v5 capture and its anonymized copy (each read by nfacctd
# itself, pcap_savefile: the decoder is the collector's, not ours).  The
# anonymized decode, its addresses mapped back with --reverse, must be the
# original decode (exporter, source, destination, packets, bytes of every
# record), and no address of the original decode may appear in it.  With
# -t, datagrams are classified by the config's sections instead.
. "$(dirname "$0")/../lib.sh"

command -v nfacctd >/dev/null || skip "nfacctd (pmacct) is not installed (make test-deps)"
command -v python3 >/dev/null || skip "python3 is not installed"

# A fixed key (fixed_key in tests/lib.sh says why), so the outcome is the same on every run.
fixed_key "$WORK/key"

# decode NAME PCAP DPORT: nfacctd's records of the capture, one JSON object a line, into $WORK/NAME.json.
decode() {
	local name=$1 pcap=$2 dport=$3 rc=0
	cat >"$WORK/$name.conf" <<-CONF
	daemonize: false
	plugins: print[flows]
	print_output[flows]: json
	print_output_file[flows]: $WORK/$name.json
	print_output_file_append[flows]: true
	print_refresh_time[flows]: 86400
	aggregate[flows]: peer_src_ip, src_host, dst_host, src_port, dst_port, timestamp_start
	timestamps_since_epoch: true
	pcap_savefile: $pcap
	pcap_filter: udp dst port $dport
	CONF
	timeout 30 nfacctd -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || { tail -n 15 "$WORK/$name.log" >&2; fail "$name: nfacctd exited with $rc"; }
	[ -s "$WORK/$name.json" ] || fail "$name: nfacctd decoded no record"
}

# records JSON: one line per record, "exporter src dst sport dport start packets bytes".
records() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["peer_ip_src"], r["ip_src"], r["ip_dst"], r["port_src"], r["port_dst"],
          r["timestamp_start"], r["packets"], r["bytes"])' "$1"
}

# round NAME PROTO DPORT EXPORTER...
round() {
	local name=$1 proto=$2 dport=$3; shift 3
	local gen_args=() e
	for e in "$@"; do gen_args+=(--exporter "$e"); done

	"$GEN" --proto "$proto" --count 12 --records 5 --template-every 3 --noise \
		--dport "$dport" "${gen_args[@]}" --out "$WORK/$name.pcap" || fail "$name: tr-pcapgen failed"
	"$TR" anonymize --key-file "$WORK/key" "$WORK/$name.pcap" -o "$WORK/$name-anon.pcap" \
		2>"$WORK/$name-anon.err" || { cat "$WORK/$name-anon.err" >&2; fail "$name: anonymize failed"; }
	grep -q "NetFlow/IPFIX exports: [1-9][0-9]* datagrams rewritten, 0 malformed" "$WORK/$name-anon.err" ||
		fail "$name: anonymize rewrote no datagram: $(cat "$WORK/$name-anon.err")"

	decode "$name" "$WORK/$name.pcap" "$dport"
	decode "$name-anon" "$WORK/$name-anon.pcap" "$dport"
	records "$WORK/$name.json" | sort >"$WORK/$name.records"
	records "$WORK/$name-anon.json" >"$WORK/$name-anon.records"
	[ -s "$WORK/$name.records" ] || fail "$name: no record decoded"

	# No address of the original decode in the anonymized one.
	awk '{ print $1; print $2; print $3 }' "$WORK/$name.records" | sort -u >"$WORK/$name.addrs"
	awk '{ print $1; print $2; print $3 }' "$WORK/$name-anon.records" | sort -u >"$WORK/$name-anon.addrs"
	if comm -12 "$WORK/$name.addrs" "$WORK/$name-anon.addrs" | grep -q .; then
		fail "$name: original addresses in the anonymized decode: $(comm -12 "$WORK/$name.addrs" "$WORK/$name-anon.addrs" | head -3 | xargs)"
	fi

	# The anonymized decode with its addresses mapped back = the original decode.
	# shellcheck disable=SC2046
	"$TR" anonymize --key-file "$WORK/key" --reverse $(cat "$WORK/$name-anon.addrs") >"$WORK/$name.back" ||
		fail "$name: --reverse failed"
	paste -d' ' "$WORK/$name-anon.addrs" "$WORK/$name.back" >"$WORK/$name.map"
	awk 'NR == FNR { back[$1] = $2; next }
		{ $1 = back[$1]; $2 = back[$2]; $3 = back[$3]; print }' \
		"$WORK/$name.map" "$WORK/$name-anon.records" | sort >"$WORK/$name-anon.mapped"
	cmp -s "$WORK/$name.records" "$WORK/$name-anon.mapped" ||
		{ diff "$WORK/$name.records" "$WORK/$name-anon.mapped" | head >&2
		  fail "$name: the anonymized decode, mapped back, is not the original's"; }
	note "$name: $(wc -l <"$WORK/$name.records") records: decoded anonymized, mapped back = decoded original"
}

round ipfix4 ipfix 4739 192.0.2.1 192.0.2.2
round ipfix6 ipfix 4739 2001:db8::1
round nfv9 nfv9 2055 192.0.2.1 2001:db8::7
round nfv5 nfv5 2055 192.0.2.1 192.0.2.2

# -t: datagrams are the sections' that select them.  The ipfix section that
# selects the capture's port gives the bytes classifying by content gave; one
# that selects another port leaves every payload as captured.
note "-t"
printf 'pcap: unused.pcap\nipfix:\n  select:\n    udp:\n      dport: [%s]\n' 4739 >"$WORK/select.yml"
printf 'pcap: unused.pcap\nipfix:\n  select:\n    udp:\n      dport: [%s]\n' 4740 >"$WORK/other.yml"
"$TR" anonymize --key-file "$WORK/key" -t "$WORK/select.yml" "$WORK/ipfix4.pcap" -o "$WORK/select.pcap" 2>/dev/null ||
	fail "-t: anonymize failed"
cmp -s "$WORK/select.pcap" "$WORK/ipfix4-anon.pcap" || fail "-t: the section's selection rewrote other bytes than classifying by content"
"$TR" anonymize --key-file "$WORK/key" -t "$WORK/other.yml" "$WORK/ipfix4.pcap" -o "$WORK/other.pcap" 2>"$WORK/other.err" ||
	fail "-t: anonymize failed"
grep -q "NetFlow/IPFIX exports: 0 datagrams rewritten" "$WORK/other.err" ||
	fail "-t: datagrams no section selects were rewritten: $(cat "$WORK/other.err")"
echo "PASS"
