#!/usr/bin/env bash
# anonymize: keys, IP/MAC pseudonyms in every frame (tshark finds no input address), valid checksums, payloads unchanged but for flow records' and BMP/BGP messages' addresses (unchanged lengths), determinism, --reverse, bad inputs.
. "$(dirname "$0")/../lib.sh"

command -v tshark >/dev/null || skip "tshark is not installed"

ts() { tshark -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE \
	-o tcp.check_checksum:TRUE -r "$@" 2>/dev/null; }

# Each address of a capture's IP/IPv6 headers, one per line, sorted.
ip_addresses() {
	ts "$1" -T fields -E separator=/t -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst |
		tr '\t,' '\n\n' | sed '/^$/d' | sort -u
}
# The same per frame, in order ("src dst" of the outermost header).
frame_addresses() {
	ts "$1" -T fields -E occurrence=f -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst |
		awk -F'\t' '{ print ($1 != "" ? $1 " " $2 : $3 " " $4) }'
}
# Per frame: lengths and payload bytes, a flow datagram's payload replaced by the word "flows",
# a TCP segment's (BMP and BGP messages, rewritten: test_anonymize_bgp_bmp.sh) by its length.
payloads() {
	ts "$1" -T fields -E occurrence=f -e frame.len -e frame.cap_len -e udp.length \
		-e tcp.payload -e udp.payload -e cflow.version |
		awk -F'\t' -v OFS='\t' '{ if ($6 != "") $5 = "flows"; if ($4 != "") $4 = "tcp " length($4) / 2; NF = 5; print }'
}
macs() {
	ts "$1" -T fields -e eth.src -e eth.dst -e sll.src.eth | tr '\t' '\n' |
		sed '/^$/d;/ff:ff:ff:ff:ff:ff/d' | sort -u
}

"$TR" anonymize --new-key "$WORK/key"
[ "$(stat -c %a "$WORK/key")" = 600 ] || fail "--new-key: mode $(stat -c %a "$WORK/key"), expected 600"
[ "$(stat -c %s "$WORK/key")" = 32 ] || fail "--new-key: not 32 bytes"
"$TR" anonymize --new-key "$WORK/key2"
cmp -s "$WORK/key" "$WORK/key2" && fail "two --new-key runs made the same key"
# The checks below use fixed keys (fixed_key in tests/lib.sh says why): the same outcome on every run.
fixed_key "$WORK/key" 1
fixed_key "$WORK/key2" 2

# One capture per link layer; flows over IPv4 and IPv6 with fragments, BGP over TCP cut into segments.
note "captures"
"$GEN" --proto ipfix --count 30 --exporter 192.0.2.1 --exporter 192.0.2.77 --exporter 2001:db8::5 \
	--fragment 64 --out "$WORK/eth-flows.pcap"
"$GEN" --proto bgp --count 20 --exporter 203.0.113.9 --segment 100 --out "$WORK/eth-bgp.pcap"
"$GEN" --proto bmp --count 10 --exporter 2001:db8:1::9 --vlan 10 --vlan 20 --out "$WORK/eth-bmp.pcap"
"$GEN" --proto nfv5 --count 10 --exporter 198.51.100.20 --link sll --out "$WORK/sll.pcap"
"$GEN" --proto udp --count 10 --exporter 10.1.2.3 --exporter 2001:db8:2::3 --link sll2 --out "$WORK/sll2.pcap"
"$GEN" --proto nfv9 --count 10 --exporter 172.16.5.4 --link raw --fragment 96 --out "$WORK/raw.pcap"
"$GEN" --proto ipfix --count 10 --exporter 192.0.2.200 --link null --out "$WORK/null.pcap"
"$GEN" --proto bmp --count 10 --exporter 192.0.2.9 --mpls 100 --mpls 200 --out "$WORK/mpls.pcap"

check_output() {
	local name=$1 out=$2; shift 2
	local -a ins=("$@")

	# (a) No address of the inputs in any IP header of the output, nor a MAC.
	cat "${ins[@]/%/.addrs}" | sort -u >"$WORK/$name.in-addrs"
	ip_addresses "$out" >"$WORK/$name.out-addrs"
	[ -s "$WORK/$name.in-addrs" ] && [ -s "$WORK/$name.out-addrs" ] || fail "$name: tshark found no addresses"
	if comm -12 "$WORK/$name.in-addrs" "$WORK/$name.out-addrs" | grep -q .; then
		fail "$name: input addresses in the output: $(comm -12 "$WORK/$name.in-addrs" "$WORK/$name.out-addrs" | head -3 | xargs)"
	fi
	for f in "${ins[@]}"; do macs "$f"; done | sort -u >"$WORK/$name.in-macs"
	macs "$out" >"$WORK/$name.out-macs"
	comm -12 "$WORK/$name.in-macs" "$WORK/$name.out-macs" | grep -q . && fail "$name: input MAC addresses in the output"

	# (b) Checksums: tshark checks them (and found some to check), none is bad.
	local bad good
	bad=$(ts "$out" -Y 'ip.checksum.status == 0 || udp.checksum.status == 0 || tcp.checksum.status == 0 || icmpv6.checksum.status == 0' | wc -l)
	good=$(ts "$out" -Y 'udp.checksum.status == 1 || tcp.checksum.status == 1' | wc -l)
	[ "$bad" -eq 0 ] || fail "$name: $bad frames with a bad checksum"
	[ "$good" -gt 0 ] || fail "$name: tshark verified no UDP/TCP checksum"

	# (c) Same frames, same lengths, same payload bytes, in the same order
	# (but for what tshark decodes as NetFlow/IPFIX: their address fields
	# are rewritten, which test_anonymize_flows.sh checks through a collector).
	for f in "${ins[@]}"; do payloads "$f"; done >"$WORK/$name.in-payloads"
	payloads "$out" >"$WORK/$name.out-payloads"
	cmp -s "$WORK/$name.in-payloads" "$WORK/$name.out-payloads" || fail "$name: frames or payloads differ"
	grep -q '[0-9a-f]\{16\}\|flows\|tcp [1-9]' "$WORK/$name.out-payloads" || fail "$name: tshark showed no payload"

	# (e) --reverse gives each frame's original addresses back.
	for f in "${ins[@]}"; do frame_addresses "$f"; done >"$WORK/$name.in-frames"
	frame_addresses "$out" | tr ' ' '\n' >"$WORK/$name.out-list"
	# shellcheck disable=SC2046
	"$TR" anonymize --key-file "$WORK/key" --reverse $(cat "$WORK/$name.out-list") |
		paste -d' ' - - >"$WORK/$name.reversed"
	diff -q "$WORK/$name.in-frames" "$WORK/$name.reversed" >/dev/null ||
		fail "$name: --reverse does not give the input's addresses back: $(diff "$WORK/$name.in-frames" "$WORK/$name.reversed" | head -4 | xargs)"
}

for f in "$WORK"/*.pcap; do ip_addresses "$f" >"$f.addrs"; done

note "Ethernet: flows (fragments, IPv4 and IPv6), BGP over TCP, BMP behind two VLAN tags, in one output"
"$TR" anonymize --key-file "$WORK/key" "$WORK/eth-flows.pcap" "$WORK/eth-bgp.pcap" "$WORK/eth-bmp.pcap" \
	-o "$WORK/eth.anon" 2>"$WORK/eth.err" || { cat "$WORK/eth.err" >&2; fail "anonymize failed"; }
check_output eth "$WORK/eth.anon" "$WORK/eth-flows.pcap" "$WORK/eth-bgp.pcap" "$WORK/eth-bmp.pcap"

for link in sll sll2 raw null mpls; do
	note "$link"
	"$TR" anonymize -k "$WORK/key" "$WORK/$link.pcap" -o "$WORK/$link.anon" 2>"$WORK/$link.err" ||
		{ cat "$WORK/$link.err" >&2; fail "$link: anonymize failed"; }
	check_output "$link" "$WORK/$link.anon" "$WORK/$link.pcap"
done

# The prefix property on every pair of addresses of the output: the pseudonyms of
# two input addresses share exactly as many leading bits as the addresses.
frame_addresses "$WORK/eth.anon" >"$WORK/eth.out-frames"
python3 - "$WORK/eth.in-frames" "$WORK/eth.out-frames" <<'PY' || fail "prefix property"
import ipaddress, sys
ins = open(sys.argv[1]).read().split()
outs = open(sys.argv[2]).read().split()
assert len(ins) == len(outs) > 0
pairs = {ipaddress.ip_address(a): ipaddress.ip_address(b) for a, b in zip(ins, outs)}
def shared(a, b):
    bits = a.max_prefixlen
    return bits - (int(a) ^ int(b)).bit_length()
n = 0
for a in pairs:
    for b in pairs:
        if a.version == b.version and a < b:
            n += 1
            if shared(a, b) != shared(pairs[a], pairs[b]):
                sys.exit(f"{a} {b} share {shared(a, b)} bits, {pairs[a]} {pairs[b]} {shared(pairs[a], pairs[b])}")
assert n >= 3, n
PY

# (d) Same key, same inputs: same bytes; another key: no pseudonym in common.
note "determinism"
"$TR" anonymize -k "$WORK/key" "$WORK/eth-flows.pcap" "$WORK/eth-bgp.pcap" "$WORK/eth-bmp.pcap" \
	-o "$WORK/eth2.anon" 2>/dev/null
cmp "$WORK/eth.anon" "$WORK/eth2.anon" || fail "two runs with one key differ"
"$TR" anonymize -k "$WORK/key2" "$WORK/eth-flows.pcap" -o "$WORK/other.anon" 2>/dev/null
ip_addresses "$WORK/other.anon" >"$WORK/other.addrs"
comm -12 "$WORK/other.addrs" "$WORK/eth.out-addrs" | grep -q . && fail "two keys share a pseudonym"
# The output may be an input: it is written aside and renamed into place.
cp "$WORK/raw.pcap" "$WORK/inplace.pcap"
"$TR" anonymize -k "$WORK/key" "$WORK/inplace.pcap" -o "$WORK/inplace.pcap" 2>/dev/null
cmp "$WORK/inplace.pcap" "$WORK/raw.anon" || fail "anonymizing a file onto itself"

note "bad inputs"
expect_error() {	# CODE PATTERN ARGS...: anonymize exits CODE and says PATTERN
	local code=$1 pattern=$2 rc=0; shift 2
	"$TR" anonymize "$@" >"$WORK/bad.out" 2>"$WORK/bad.err" || rc=$?
	[ $rc -eq "$code" ] || fail "anonymize $*: exit $rc, expected $code ($(cat "$WORK/bad.err"))"
	grep -q -- "$pattern" "$WORK/bad.err" || fail "anonymize $*: no '$pattern' in: $(cat "$WORK/bad.err")"
}
expect_error 2 "no key: give --key-file" "$WORK/raw.pcap" -o "$WORK/x.pcap"
expect_error 2 "cannot open the key file.*--new-key" -k "$WORK/nokey" "$WORK/raw.pcap" -o "$WORK/x.pcap"
head -c 16 "$WORK/key" >"$WORK/short.key"
expect_error 2 "exactly 32 bytes, this one 16" -k "$WORK/short.key" "$WORK/raw.pcap" -o "$WORK/x.pcap"
cat "$WORK/key" "$WORK/key" >"$WORK/long.key"
expect_error 2 "exactly 32 bytes, this one more than 32" -k "$WORK/long.key" --reverse 192.0.2.1
cp "$WORK/key" "$WORK/key.saved"
expect_error 2 "exists; a key file is never overwritten" --new-key "$WORK/key"
cmp -s "$WORK/key" "$WORK/key.saved" || fail "--new-key changed an existing key"
expect_error 2 "nothere.pcap: cannot open" -k "$WORK/key" "$WORK/nothere.pcap" -o "$WORK/x.pcap"
echo "not a capture" >"$WORK/text.pcap"
expect_error 2 "text.pcap" -k "$WORK/key" "$WORK/raw.pcap" "$WORK/text.pcap" -o "$WORK/x.pcap"
expect_error 2 "no output: give -o" -k "$WORK/key" "$WORK/raw.pcap"
expect_error 2 "no input capture" -k "$WORK/key" -o "$WORK/x.pcap"
expect_error 2 "not an IPv4 or IPv6 address" -k "$WORK/key" --reverse 192.0.2.1 bogus
expect_error 2 "takes no other option" --new-key "$WORK/k3" -k "$WORK/key"
expect_error 1 "no/such/dir/x.pcap: cannot create a temporary file" -k "$WORK/key" "$WORK/raw.pcap" -o "$WORK/no/such/dir/x.pcap"
expect_error 1 "link type.*nothing written" -k "$WORK/key" "$WORK/raw.pcap" "$WORK/null.pcap" -o "$WORK/x.pcap"
ls "$WORK"/x.pcap* >/dev/null 2>&1 && fail "a failed run left an output behind"
"$TR" anonymize -h >"$WORK/help"
grep -q -- "--reverse" "$WORK/help" || fail "anonymize -h"
"$TR" -h >"$WORK/help"
grep -q "anonymize" "$WORK/help" || fail "the main help does not name anonymize"

echo "PASS"
