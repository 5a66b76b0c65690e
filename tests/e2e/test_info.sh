#!/usr/bin/env bash
# --info: the JSON summary's counts equal what tshark decodes from the same captures and what the
# generator says it wrote (--expect), with noise, fragments, small segments and several exporters;
# -t selects and names exporters; bad input exits non-zero with nothing on stdout.
. "$(dirname "$0")/../lib.sh"

CHECK=$TR_SOURCE_DIR/tests/e2e/info_check.py
TSHARK=()
command -v tshark >/dev/null || { note "tshark is not installed: comparing with the generator's oracle only"; TSHARK=(--no-tshark); }

# info NAME ARGS...: --info into $WORK/NAME.json; it must exit 0 and print one valid JSON document.
info() {
	local name=$1; shift
	"$TR" --info "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" ||
		{ cat "$WORK/$name.err" >&2; fail "$name: --info exited with $?"; }
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/$name.json" ||
		fail "$name: not valid JSON"
}

# gen_check NAME GEN_ARGS...: generate, summarise, compare with tshark and the oracle.
gen_check() {
	local name=$1; shift
	"$GEN" --out "$WORK/$name.pcap" --expect "$WORK/$name.expect" "$@"
	info "$name" "$WORK/$name.pcap"
	python3 "$CHECK" "$WORK/$name.json" "$WORK/$name.pcap" "${TSHARK[@]}" \
		--flow-port 4739 --flow-port 2055 --bmp-port 1790 --expect "$WORK/$name.expect" ||
		fail "$name: --info disagrees with tshark or the generator"
}

EXP=(--exporter 192.0.2.1 --exporter 2001:db8::5 --exporter 192.0.2.7)

gen_check ipfix --proto ipfix --count 30 "${EXP[@]}" --noise --fragment 256 --template-every 3
gen_check nfv9 --proto nfv9 --count 20 "${EXP[@]}" --noise --link sll --vlan 10
gen_check nfv5 --proto nfv5 --count 12 "${EXP[@]}" --noise --records 7
gen_check bmp --proto bmp --count 25 "${EXP[@]}" --noise --segment 100
gen_check bgp --proto bgp --count 40 "${EXP[@]}" --noise --segment 50 --records 3

# Options templates and data before its template: two domains per exporter, each with an
# options template 257 (scope observationDomainId / System, samplingInterval, samplingAlgorithm)
# and its first 2 of 5 data messages (5 records each) before any template: their records cannot
# be delimited, so they are counted as sets without a template (no --expect: it has all 25).
for p in ipfix nfv9; do
	"$GEN" --out "$WORK/opt-$p.pcap" --proto $p --count 20 --exporter 192.0.2.1 --exporter 2001:db8::5 \
		--options-template --domain 7 --domain 9 --first-template-after 2
	info "opt-$p" "$WORK/opt-$p.pcap"
	if [ ${#TSHARK[@]} -eq 0 ]; then
		python3 "$CHECK" "$WORK/opt-$p.json" "$WORK/opt-$p.pcap" --flow-port 4739 --flow-port 2055 ||
			fail "opt-$p: --info disagrees with tshark"
	fi
	got=$(json_get "$WORK/opt-$p.json" '[(e["address"], x["domain"], x["data_sets_without_template"],
		[(t["id"], t["kind"], t["fields"], t["scope_fields"], t["sampling"], t["data_sets"], t["data_records"]) for t in x["templates"]])
		for e in d["exporters"] for x in e["flows"]["domains"]]')
	want=""
	for a in 192.0.2.1 2001:db8::5; do for dom in 7 9; do
		want="$want${want:+, }('$a', $dom, 2, [(256, 'data', 9, 0, False, 5, 15), (257, 'options', 3, 1, True, 1, 1)])"
	done; done
	[ "$got" = "[$want]" ] || fail "opt-$p: domains and templates: $got"
done

# Exact numbers the generator implies, independently of any decoder.
j() { json_get "$WORK/$1.json" "$2"; }
[ "$(j ipfix 'sum(t["data_sets"] for e in d["exporters"] for x in e["flows"]["domains"] for t in x["templates"])')" -eq 30 ] ||
	fail "ipfix: template data set counts do not add up to the 30 data messages"
[ "$(j ipfix '[e["address"] for e in d["exporters"]]')" = "['192.0.2.1', '192.0.2.7', '2001:db8::5']" ] ||
	fail "ipfix: exporters are not sorted by address: $(j ipfix '[e["address"] for e in d["exporters"]]')"
[ "$(j ipfix 'd["dropped"]["fragments_dropped"]')" -eq 0 ] || fail "ipfix: fragments were dropped"
[ "$(j nfv5 'sum(x["records"] for e in d["exporters"] for x in e["flows"]["domains"])')" -eq $((12 * 7)) ] ||
	fail "nfv5: flow records are not 12 x 7"
# BGP: 40 UPDATEs of 3 prefixes each, over the three sessions, each with one OPEN.
[ "$(j bgp 'sum(s["messages"]["update"] for e in d["exporters"] for s in e["bgp"])')" -eq 40 ] ||
	fail "bgp: UPDATE count is not 40"
[ "$(j bgp 'sum(f["announced"] for e in d["exporters"] for s in e["bgp"] for f in s["prefixes"])')" -eq 120 ] ||
	fail "bgp: announced prefixes are not 40 x 3"
[ "$(j bgp '[s["open"]["as"] for e in d["exporters"] for s in e["bgp"]]')" = "[65001, 65003, 65002]" ] ||
	fail "bgp: OPEN ASes per exporter: $(j bgp '[s["open"]["as"] for e in d["exporters"] for s in e["bgp"]]')"
[ "$(j bgp '[s["collector_side"]["open"]["as"] for e in d["exporters"] for s in e["bgp"]]')" = "[64496, 64496, 64496]" ] ||
	fail "bgp: the collector's OPEN is not read"
# BMP: 25 route monitoring messages in all, per monitored peer, 5 prefixes each; sysName per router.
[ "$(j bmp 'sum(p["messages"]["route_monitoring"] for e in d["exporters"] for s in e["bmp"] for p in s["peers"])')" -eq 25 ] ||
	fail "bmp: route monitoring per peer does not add up to 25"
[ "$(j bmp 'sum(f["announced"] for e in d["exporters"] for s in e["bmp"] for p in s["peers"] for f in p["prefixes"])')" -eq 125 ] ||
	fail "bmp: announced prefixes are not 25 x 5"
[ "$(j bmp '[s["sys_name"] for e in d["exporters"] for s in e["bmp"]]')" = "['router-1', 'router-3', 'router-2']" ] ||
	fail "bmp: sysName per exporter: $(j bmp '[s["sys_name"] for e in d["exporters"] for s in e["bmp"]]')"
[ "$(j bmp 'd["totals"]["malformed"]')" -eq 0 ] || fail "bmp: malformed messages in a clean capture"

# Stable output: the same captures give the same bytes.
"$TR" --info "$WORK/bmp.pcap" "$WORK/ipfix.pcap" >"$WORK/twice-1.json"
"$TR" --info "$WORK/bmp.pcap" "$WORK/ipfix.pcap" >"$WORK/twice-2.json"
cmp -s "$WORK/twice-1.json" "$WORK/twice-2.json" || fail "two runs on the same captures differ"
[ "$(json_get "$WORK/twice-1.json" 'len(d["captures"])')" -eq 2 ] || fail "two captures are not both listed"
[ "$(json_get "$WORK/twice-1.json" 'd["totals"]["packets"]')" -eq \
  "$(( $(j bmp 'd["totals"]["packets"]') + $(j ipfix 'd["totals"]["packets"]') ))" ] ||
	fail "totals of two captures are not the sum of each"

# -t: only what the sections select, exporters named by network.map; the rest counted as dropped.
cat >"$WORK/sel.yml" <<YAML
pcap: [$WORK/ipfix.pcap, $WORK/bgp.pcap]
network:
  map:
  - src_ip: 192.0.2.1
    repro_ip: 127.0.0.11
  - src_ip: 192.0.2.7
    repro_ip: 127.0.0.17
ipfix:
  select:
    udp:
      dport: [4739]
  collector: {ip: 127.0.0.1, port: 4739}
bgp:
  select:
    tcp:
      dport: [179]
  collector: {ip: 127.0.0.1, port: 179}
YAML
info sel -t "$WORK/sel.yml"
[ "$(j sel '[(e["address"], e["repro_ip"]) for e in d["exporters"]]')" = "[('192.0.2.1', '127.0.0.11'), ('192.0.2.7', '127.0.0.17')]" ] ||
	fail "-t: exporters: $(j sel '[(e["address"], e["repro_ip"]) for e in d["exporters"]]')"
want=$(python3 -c 'import json,sys
n = sum(1 for f in sys.argv[1:] for l in open(f) if json.loads(l)["exporter"] != "2001:db8::5")
print(n)' "$WORK/ipfix.expect")
[ "$(j sel 'sum(x["data_records"] for e in d["exporters"] for x in e["flows"]["domains"])')" -eq "$want" ] ||
	fail "-t: data records of the mapped exporters are not $want"
[ "$(j sel 'sum(s["messages"]["update"] for e in d["exporters"] for s in e["bgp"])')" -eq \
  "$(j bgp 'sum(s["messages"]["update"] for e in d["exporters"] if e["address"] != "2001:db8::5" for s in e["bgp"])')" ] ||
	fail "-t: BGP UPDATEs of the mapped exporters differ from the unselected run"
[ "$(j sel 'd["dropped"]["unknown_exporter"]')" -gt 0 ] || fail "-t: the unmapped exporter's packets are not counted"
[ "$(j sel 'd["dropped"]["not_selected"]')" -gt 0 ] || fail "-t: the noise is not counted as not selected"
[ "$(j sel 'd["totals"]["udp_packets"] + d["totals"]["tcp_segments"] + d["dropped"]["unknown_exporter"] + d["dropped"]["not_selected"]')" -eq \
  "$(j sel 'd["totals"]["packets"]')" ] || fail "-t: packets do not add up"

# Bad input: a clear message, a non-zero exit, nothing on stdout.
bad() {
	local name=$1 code=$2 pattern=$3 rc=0; shift 3
	"$TR" --info "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
	[ "$rc" -eq "$code" ] || { cat "$WORK/$name.err"; fail "$name: exit $rc, expected $code"; }
	grep -qE -- "$pattern" "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: message does not match /$pattern/"; }
	[ ! -s "$WORK/$name.out" ] || fail "$name: something was printed on stdout"
	note "$name: exit $rc: $(head -1 "$WORK/$name.err")"
}
bad missing 2 "no-such.pcap: cannot open" "$WORK/ipfix.pcap" "$WORK/no-such.pcap"
echo "not a capture" >"$WORK/text.pcap"
bad not-pcap 2 "text.pcap: not a pcap" "$WORK/text.pcap"
bad no-args 2 "--info needs captures"

# A truncated capture: the JSON covers what came before the damage and says where; exit 3.
head -c "$(( $(stat -c %s "$WORK/bmp.pcap") - 100 ))" "$WORK/bmp.pcap" >"$WORK/cut.pcap"
rc=0
"$TR" --info "$WORK/cut.pcap" >"$WORK/cut.json" 2>"$WORK/cut.err" || rc=$?
[ "$rc" -eq 3 ] || fail "truncated capture: exit $rc, expected 3"
[ "$(json_get "$WORK/cut.json" 'd["errors"][0]["file"]')" = "$WORK/cut.pcap" ] || fail "truncated capture: no error entry"
json_get "$WORK/cut.json" 'd["errors"][0]["error"]' | grep -q "damaged after frame" || fail "truncated capture: the error does not say where"
[ "$(json_get "$WORK/cut.json" 'd["totals"]["bmp_messages"]')" -gt 0 ] || fail "truncated capture: nothing before the damage was counted"
note "truncated capture: exit 3, $(json_get "$WORK/cut.json" 'd["errors"][0]["error"]')"

note "--info agrees with tshark and the generator"
