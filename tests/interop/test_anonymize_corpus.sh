#!/usr/bin/env bash
# Interop tier: anonymize every capture of the corpus; tshark (anon_leak_check.py) finds none of
# the input's addresses or MACs in the output, every output address is an input's pseudonym and
# the prefix property holds on every pair; one key, the same bytes twice.
#
# Which protocols' address fields count is the checker's CHECKED list: link, ARP, IP/IPv6 (every
# frame's headers), ICMP, UDP, TCP, the flow protocols (cflow, sflow), BGP and BMP.  A key is
# made per run: an input address that Crypto-PAn maps to itself is counted, not failed (the
# checker asks --reverse).
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
ANCHOR=$TR_CORPUS/anchor
[ -d "$ANCHOR/examples/pcaps" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples/pcaps"
for cmd in tshark python3; do command -v "$cmd" >/dev/null || skip "$cmd is not installed (make test-deps)"; done
CHECKER=$TR_SOURCE_DIR/tests/e2e/anon_leak_check.py
KEY=$WORK/key
# A fixed key (fixed_key in tests/lib.sh says why), so the outcome is the same on every run.
fixed_key "$KEY"

n=0
for pcap in "$ANCHOR"/examples/pcaps/*.pcap "$ANCHOR"/examples/pcap_processing/*.pcap; do
	name=$(basename "$pcap" .pcap)
	"$TR" anonymize --key-file "$KEY" "$pcap" -o "$WORK/$name.anon.pcap" 2>"$WORK/$name.log" ||
		{ cat "$WORK/$name.log"; fail "$name: anonymize exit $?"; }
	"$TR" anonymize --key-file "$KEY" "$pcap" -o "$WORK/$name.again.pcap" 2>/dev/null ||
		fail "$name: the second run failed"
	cmp -s "$WORK/$name.anon.pcap" "$WORK/$name.again.pcap" || fail "$name: two runs, one key, other bytes"
	rm -f "$WORK/$name.again.pcap"
	# Every UDP port tshark sees is tried as cflow (as test_info_corpus.sh does), BMP on 1790.
	decode=(-d "tcp.port==1790,bmp")
	for port in $(tshark -r "$pcap" -T fields -e udp.dstport 2>/dev/null </dev/null | sort -un); do
		decode+=(-d "udp.port==$port,cflow")
	done
	python3 "$CHECKER" --tr "$TR" --key "$KEY" "${decode[@]}" --out "$WORK/$name.anon.pcap" "$pcap" \
		>"$WORK/$name.check" || { cat "$WORK/$name.check"; fail "$name: the leak check failed"; }
	note "$name: $(sed 's/^anon_leak_check: [^:]*: //' "$WORK/$name.check")"
	rm -f "$WORK/$name.anon.pcap"
	n=$((n + 1))
done
note "$n corpus captures anonymized: no input address in the checked protocols' fields, prefixes kept"
