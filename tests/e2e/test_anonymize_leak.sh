#!/usr/bin/env bash
# anonymize, checked by tshark alone (anon_leak_check.py: every address field tshark knows) on
# generated IPFIX, NetFlow v9 and v5 captures and on real sFlow v5 (pmacctd's sfprobe):
#   - no input address or MAC in the output, every output address an input's pseudonym, the
#     prefix property on every pair;
#   - --map-out: mode 0600, its warning, sorted, the same bytes twice, each pair what --reverse
#     says; refused when it names the output or an input;
#   - --preserve private,documentation: those ranges' addresses stay, no other does;
#   - sFlow: every datagram rewritten, --info counts on the output what it counts on the input,
#     and sfacctd decodes from the output the flows it decodes from the input, mapped.
. "$(dirname "$0")/../lib.sh"

for cmd in tshark python3; do command -v "$cmd" >/dev/null || skip "$cmd is not installed"; done
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi
CHECKER=$(dirname "$0")/anon_leak_check.py
KEY=$WORK/key
# A fixed key (fixed_key in tests/lib.sh says why), so the outcome is the same on every run.
fixed_key "$KEY"

# anonymize NAME ARGS...: NAME.pcap into NAME.anon.pcap with NAME.map.json; the log in NAME.log.
anonymize() {
	local name=$1; shift
	"$TR" anonymize --key-file "$KEY" "$@" "$WORK/$name.pcap" -o "$WORK/$name.anon.pcap" \
		--map-out "$WORK/$name.map.json" 2>"$WORK/$name.log" ||
		{ cat "$WORK/$name.log"; fail "$name: anonymize exit $?"; }
}

# leak_check NAME DECODE-AS [PRESERVE]: the checker on NAME's input and output.
leak_check() {
	local name=$1 decode=$2 preserve=${3:-}
	python3 "$CHECKER" --tr "$TR" --key "$KEY" --all -d "$decode" ${preserve:+--preserve "$preserve"} \
		--out "$WORK/$name.anon.pcap" "$WORK/$name.pcap" >"$WORK/$name.check" ||
		{ cat "$WORK/$name.check"; fail "$name: the leak check failed"; }
	note "$(cat "$WORK/$name.check")"
}

# map_check NAME: the map's file mode, warning and order, and each pair as --reverse sees it.
map_check() {
	local map=$WORK/$1.map.json
	[ "$(stat -c %a "$map")" = 600 ] || fail "$1: the map's mode is $(stat -c %a "$map"), not 600"
	python3 - "$map" "$TR" "$KEY" <<'PY' || fail "$1: the map is not what --reverse says"
import ipaddress, json, subprocess, sys
m = json.load(open(sys.argv[1]))
assert m["warning"].startswith("FOR THE KEY HOLDER ONLY"), m["warning"]
for kind in ("ipv4", "ipv6"):
    orig = list(m[kind])
    assert orig == sorted(orig, key=ipaddress.ip_address), kind + ": not sorted"
    if not orig:
        continue
    got = subprocess.run([sys.argv[2], "anonymize", "--key-file", sys.argv[3], "--reverse"] +
                         [m[kind][o] for o in orig], stdout=subprocess.PIPE, text=True,
                         check=True).stdout.split()
    assert got == orig, kind + ": a pseudonym reverses to another address"
assert list(m["mac"]) == sorted(m["mac"]), "mac: not sorted"
assert m["ipv4"] or m["ipv6"], "no address"
PY
}

# ---- generated NetFlow/IPFIX: the check, the map ---------------------------------------------
"$GEN" --proto ipfix --count 60 --options-template --exporter 192.0.2.1 --exporter 2001:db8::5 \
	--out "$WORK/ipfix.pcap"
"$GEN" --proto nfv9 --count 40 --exporter 198.51.100.9 --out "$WORK/nfv9.pcap"
"$GEN" --proto nfv5 --count 40 --exporter 203.0.113.20 --link sll --out "$WORK/nfv5.pcap"
anonymize ipfix
leak_check ipfix "udp.port==4739,cflow"
map_check ipfix
anonymize nfv9
leak_check nfv9 "udp.port==2055,cflow"
anonymize nfv5
leak_check nfv5 "udp.port==2055,cflow"
map_check nfv5

# One key, one input: the same map, byte for byte.
cp "$WORK/ipfix.map.json" "$WORK/ipfix.map.first"
anonymize ipfix
cmp -s "$WORK/ipfix.map.json" "$WORK/ipfix.map.first" || fail "two runs wrote different maps"

# ---- --map-out refused on the output or an input; nothing written then ----------------------
cp "$WORK/ipfix.pcap" "$WORK/keep.pcap"
for target in "$WORK/ipfix.pcap" "$WORK/./out.pcap" "$WORK/../$(basename "$WORK")/keep.pcap"; do
	rc=0
	"$TR" anonymize --key-file "$KEY" "$WORK/ipfix.pcap" "$WORK/keep.pcap" -o "$WORK/out.pcap" \
		--map-out "$target" 2>"$WORK/refused.err" || rc=$?
	[ "$rc" = 2 ] && grep -q -- "--map-out names" "$WORK/refused.err" ||
		fail "--map-out $target: exit $rc, $(cat "$WORK/refused.err")"
	[ ! -e "$WORK/out.pcap" ] || fail "--map-out $target refused, but the output was written"
done
cmp -s "$WORK/ipfix.pcap" "$WORK/keep.pcap" || fail "a refused --map-out changed an input"
rc=0
"$TR" anonymize --key-file "$KEY" --preserve private,public "$WORK/ipfix.pcap" -o "$WORK/out.pcap" \
	2>"$WORK/refused.err" || rc=$?
[ "$rc" = 2 ] || fail "--preserve private,public: exit $rc"
note "--map-out naming the output or an input and an unknown --preserve range are refused (exit 2)"

# ---- --preserve: the documentation and link-local ranges stay, nothing else -----------------
# (the generator's exporters are documentation addresses, its flows' IPv4 ones private)
cp "$WORK/ipfix.pcap" "$WORK/kept.pcap"
anonymize kept --preserve documentation,link-local
leak_check kept "udp.port==4739,cflow" documentation,link-local
tshark -r "$WORK/kept.anon.pcap" -T fields -e ip.src -e ipv6.src 2>/dev/null | grep -q -e 192.0.2.1 -e 2001:db8::5 ||
	fail "--preserve documentation: the exporters' addresses did not stay"
python3 - "$WORK/kept.map.json" <<'PY' || fail "--preserve: the map lists a kept address, or not the ranges"
import ipaddress, json, sys
m = json.load(open(sys.argv[1]))
assert m["preserved"] == ["documentation", "link-local"], m["preserved"]
kept = [ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10",
        "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
assert any(ipaddress.ip_address(o).is_private for o in m["ipv4"]), "no private address mapped"
for kind in ("ipv4", "ipv6"):
    for o in m[kind]:
        assert not any(ipaddress.ip_address(o) in n for n in kept), o
PY
# Without --preserve, the checker itself must see the kept addresses as a leak.
if python3 "$CHECKER" --tr "$TR" --key "$KEY" --all -d "udp.port==4739,cflow" \
	--out "$WORK/kept.anon.pcap" "$WORK/kept.pcap" >"$WORK/kept.recheck"; then
	fail "the leak checker passed addresses kept by --preserve without being told"
fi
# --reverse with --preserve: a kept range's address is printed as itself, with a warning.
got=$("$TR" anonymize --key-file "$KEY" --preserve documentation --reverse 192.0.2.1 2>"$WORK/rev.err")
[ "$got" = 192.0.2.1 ] && grep -q "preserved range" "$WORK/rev.err" ||
	fail "--reverse --preserve documentation 192.0.2.1: printed $got, warned: $(cat "$WORK/rev.err")"
note "--preserve documentation,link-local: those ranges kept, private ones mapped; the checker catches the kept ones when not told"

# ---- sFlow v5, made by pmacctd's sfprobe (as test_sflow.sh) ---------------------------------
if ! command -v pmacctd >/dev/null || ! command -v tcpdump >/dev/null || [ "$(id -u)" -ne 0 ]; then
	note "sFlow: pmacctd, tcpdump or root is missing: its round is left out"
	exit 0
fi
# Traffic of a few hosts over IPv4 and IPv6 for the probe to sample.
"$GEN" --proto udp --count 100 --exporter 192.0.2.1 --exporter 2001:db8::7 --out "$WORK/udp.pcap"
"$GEN" --proto ipfix --count 100 --exporter 203.0.113.3 --exporter 2001:db8:9::3 --out "$WORK/ipfix2.pcap"
"$GEN" --proto bgp --count 40 --exporter 198.51.100.30 --out "$WORK/bgp.pcap"
command -v mergecap >/dev/null || skip "mergecap (wireshark-common) is not installed"
mergecap -F pcap -w "$WORK/traffic.pcap" "$WORK/udp.pcap" "$WORK/ipfix2.pcap" "$WORK/bgp.pcap"
PROBE_PORT=$(free_port udp)
cat >"$WORK/probe.conf" <<CONF
daemonize: false
pcap_savefile: $WORK/traffic.pcap
pcap_savefile_wait: false
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:$PROBE_PORT
sfprobe_agentip: 198.51.100.77
sampling_rate: 1
CONF
tcpdump -i lo -U -w "$WORK/sflow.pcap" "udp and dst port $PROBE_PORT" 2>"$WORK/tcpdump.log" &
DUMP=$!
cleanup_hooks+=('kill $DUMP 2>/dev/null')
for _ in $(seq 1 50); do grep -q "listening on" "$WORK/tcpdump.log" && break; sleep 0.1; done
timeout 30 pmacctd -f "$WORK/probe.conf" >"$WORK/probe.log" 2>&1 || true
sleep 1
kill -INT $DUMP; wait $DUMP 2>/dev/null || true
DATAGRAMS=$(tshark -r "$WORK/sflow.pcap" 2>/dev/null | wc -l)
[ "$DATAGRAMS" -gt 5 ] || { cat "$WORK/probe.log"; fail "sfprobe made $DATAGRAMS datagrams"; }

anonymize sflow
grep -q "sFlow datagrams: $DATAGRAMS datagrams rewritten, 0 malformed" "$WORK/sflow.log" ||
	{ cat "$WORK/sflow.log"; fail "sflow: not every one of the $DATAGRAMS datagrams rewritten"; }
leak_check sflow "udp.port==$PROBE_PORT,sflow"
map_check sflow
# The sampled headers' addresses are among what was checked: tshark sees IP inside sFlow.
tshark -r "$WORK/sflow.anon.pcap" -d "udp.port==$PROBE_PORT,sflow" -T fields -e ip.src 2>/dev/null |
	grep -q , || fail "sflow: tshark decodes no sampled IP header in the output (nothing was checked there)"

# --info counts the same datagrams, samples, records and agents (one each way).
counts() {
	"$TR" --info "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [e["sflow"] for e in d["exporters"] if e.get("sflow")]
print(sum(o["datagrams"] for o in s), sum(o["records"] for o in s), sum(o["malformed"] for o in s),
      sorted((k, v) for o in s for k, v in o["samples"].items()), sum(len(o["agents"]) for o in s))'
}
[ "$(counts "$WORK/sflow.pcap")" = "$(counts "$WORK/sflow.anon.pcap")" ] ||
	fail "sflow: --info counts $(counts "$WORK/sflow.anon.pcap") on the output, $(counts "$WORK/sflow.pcap") on the input"

# sfacctd: the flows of the output are the input's, each address mapped (by the map).
if command -v sfacctd >/dev/null; then
	decode() {
		cat >"$WORK/$1.sfacctd.conf" <<CONF
daemonize: false
plugins: print
aggregate: peer_src_ip, src_host, dst_host, src_port, dst_port, proto
print_output: csv
print_output_file: $WORK/$1.csv
print_output_file_append: true
print_refresh_time: 1
pcap_savefile: $WORK/$1.pcap
pcap_savefile_wait: false
CONF
		timeout 30 sfacctd -f "$WORK/$1.sfacctd.conf" >"$WORK/$1.sfacctd.log" 2>&1 || true
		[ -s "$WORK/$1.csv" ] || { tail "$WORK/$1.sfacctd.log"; fail "sfacctd decoded nothing from $1"; }
	}
	decode sflow
	decode sflow.anon
	python3 - "$WORK/sflow.csv" "$WORK/sflow.anon.csv" "$WORK/sflow.map.json" <<'PY' ||
import collections, json, sys
m = json.load(open(sys.argv[3]))
pseudo = {**m["ipv4"], **m["ipv6"]}
def totals(path, mapped):
    t = collections.Counter()
    for line in open(path):
        f = line.strip().split(",")
        if f[0] == "PEER_SRC_IP":
            continue
        if mapped:
            f[0:3] = [pseudo[a] for a in f[0:3]]
        t[tuple(f[0:6]), "packets"] += int(f[6])
        t[tuple(f[0:6]), "bytes"] += int(f[7])
    return t
want, got = totals(sys.argv[1], True), totals(sys.argv[2], False)
if want != got:
    sys.exit("sfacctd: %d keys from the input (mapped), %d from the output; differ: %s" %
             (len(want), len(got), list((want - got).items())[:3]))

PY
		fail "sflow: sfacctd decodes other flows from the output than from the input, mapped"
	note "sflow: sfacctd decodes the input's $(grep -vc PEER_SRC_IP "$WORK/sflow.csv") flow lines from the output, each address its pseudonym"
else
	note "sfacctd is not installed: its round is left out"
fi
note "sflow: $DATAGRAMS datagrams rewritten, no leak, --info counts unchanged"
