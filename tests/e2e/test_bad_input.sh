#!/usr/bin/env bash
# Bad input gets a clear message naming what to fix, the documented exit code, and no crash.
. "$(dirname "$0")/../lib.sh"

# run_expect NAME CODE PATTERN ARGS...: the command exits with CODE and stderr matches PATTERN.
run_expect() {
	local name=$1 code=$2 pattern=$3; shift 3
	local rc=0
	"$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || rc=$?
	[ "$rc" -eq "$code" ] || { cat "$WORK/$name.err"; fail "$name: exit $rc, expected $code"; }
	grep -qE -- "$pattern" "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: message does not match /$pattern/"; }
	note "$name: exit $rc: $(grep -E -- "$pattern" "$WORK/$name.err" | head -1)"
}

# config PCAP REPRO_IP COLLECTOR_IP PORT [EXTRA_YAML]
config() {
	cat <<YAML
pcap: $1
time_factor: 0
no_sync: true
network:
  map:
  - src_ip: 192.0.2.1
    repro_ip: $2
ipfix:
  select:
    udp:
      dport: [4739]
  collector:
    ip: $3
    port: $4
${5:-}
YAML
}

"$GEN" --proto ipfix --count 20 --exporter 192.0.2.1 --dport 4739 --out "$WORK/good.pcap"

# A missing capture: the path, and where the config names it.
config "$WORK/no-such.pcap" 127.0.0.1 127.0.0.1 9 >"$WORK/missing.yml"
run_expect missing-pcap 2 "missing.yml:1:[0-9]+: pcap\[0\].*no-such.pcap" "$TR" -t "$WORK/missing.yml"

# Not a capture at all.
echo "this is not a pcap" >"$WORK/text.pcap"
config "$WORK/text.pcap" 127.0.0.1 127.0.0.1 9 >"$WORK/text.yml"
run_expect not-a-pcap 2 "text.pcap" "$TR" -t "$WORK/text.yml"

# An unknown key (a note, a typo, an old key) is a warning with file:line:col and the key
# probably meant, and the run goes on, as with the older tool; --strict or strict: true
# (anywhere) make it an error.
config "$WORK/good.pcap" 127.0.0.1 127.0.0.1 9 "time_factr: 2" >"$WORK/unknown.yml"
run_expect unknown-key 0 "unknown.yml:15:1: time_factr: unknown key 'time_factr' \(did you mean 'time_factor'\?\): ignored" \
	"$TR" -t "$WORK/unknown.yml" -n
run_expect unknown-key-replay 0 "unknown.yml:15:1: time_factr: unknown key" "$TR" -t "$WORK/unknown.yml"
run_expect unknown-key-strict 2 "unknown.yml:15:1: time_factr: .*refused by --strict" "$TR" -t "$WORK/unknown.yml" --strict
{ cat "$WORK/unknown.yml"; echo "strict: true"; } >"$WORK/unknown-strict.yml"
run_expect unknown-key-strict-file 2 "unknown-strict.yml:15:1: time_factr: .*refused by strict: true \(line 16\)" \
	"$TR" -t "$WORK/unknown-strict.yml" -n

# <MISSING_PARAM>: file:line:col and the key.
config "$WORK/good.pcap" "<MISSING_PARAM>" 127.0.0.1 9 >"$WORK/placeholder.yml"
run_expect missing-param 2 "placeholder.yml:7:[0-9]+: network.map\[0\].repro_ip.*MISSING_PARAM" "$TR" -t "$WORK/placeholder.yml"
run_expect no-config 2 "no-such.yml" "$TR" -t "$WORK/no-such.yml"
run_expect bad-flag 2 "unrecognized|invalid" "$TR" -t "$WORK/unknown.yml" --frobnicate

# network.map as a mapping, with a src_ip twice: warned with both places, and the last
# repro_ip is the one the exporter is replayed from, as with the older tool.
start_sink dup "$TR" sink --udp 0
cat >"$WORK/dup.yml" <<YAML
pcap: $WORK/good.pcap
time_factor: 0
no_sync: true
network:
  map:
    192.0.2.1: 127.0.0.2
    192.0.2.1: 127.0.0.1
ipfix:
  collector: {ip: 127.0.0.1, port: $(ready_port "$WORK/dup.ready" udp)}
YAML
run_expect duplicate-src 0 "dup.yml:7:5: network.map\[192.0.2.1\]: 192.0.2.1 is mapped already at line 6, column 5 .*the last one wins" \
	"$TR" -t "$WORK/dup.yml"
sleep 0.3
stop_sink
[ "$(awk '$1 == "udp" { print $2 }' "$WORK/dup.dump" | sort -u)" = 127.0.0.1 ] ||
	fail "duplicate-src: not sent from the last repro_ip alone: $(awk '$1 == "udp" { print $2 }' "$WORK/dup.dump" | sort -u)"

# A repro_ip that is not local: which address, and how to add it.  (198.51.100.0/24 is TEST-NET-2.)
config "$WORK/good.pcap" 198.51.100.77 127.0.0.1 9 >"$WORK/notlocal.yml"
run_expect repro-not-local 2 "198.51.100.77 is not an address of this host.*ip addr add 198.51.100.77/32 dev lo" "$TR" -t "$WORK/notlocal.yml"

# A collector name that does not resolve (.invalid never does, RFC 6761).
config "$WORK/good.pcap" 127.0.0.1 collector.invalid 9 >"$WORK/noresolve.yml"
run_expect unresolvable 2 "collector 'collector.invalid' does not resolve .*fix collector.ip" "$TR" -t "$WORK/noresolve.yml"

# A collector that is down: routers keep exporting, so the replay goes on and counts refusals.
start_sink down "$TR" sink --udp 0
DOWN_PORT=$(ready_port "$WORK/down.ready" udp)
stop_sink		# the port is now closed: datagrams get ICMP port unreachable
"$GEN" --proto ipfix --count 200 --exporter 192.0.2.1 --dport 4739 --gap-us 2000 --out "$WORK/slow.pcap"
config "$WORK/slow.pcap" 127.0.0.1 127.0.0.1 "$DOWN_PORT" "time_factor: 1" | sed '/^time_factor: 0$/d' >"$WORK/down.yml"
run_expect collector-down 0 "refused a datagram .*is it listening" "$TR" -t "$WORK/down.yml" --stats-json "$WORK/down.stats.json"
[ "$(grep -c 'refused a datagram' "$WORK/collector-down.err")" -eq 1 ] || fail "collector-down: warned more than once per exporter"
sent=$(json_get "$WORK/down.stats.json" 'd["sections"]["ipfix"]["sent"]')
refused=$(json_get "$WORK/down.stats.json" 'd["sections"]["ipfix"]["refused"]')
frames=$(tshark -r "$WORK/slow.pcap" 2>/dev/null | wc -l)
[ "$sent" -eq "$frames" ] && [ "$refused" -gt 0 ] || fail "collector-down: sent $sent (want $frames), refused $refused (want > 0)"

# TCP: a repro_ip that is not local stops the run before anything is sent, as for UDP.
"$GEN" --proto bmp --count 5 --exporter 192.0.2.1 --out "$WORK/bmp.pcap"
bmp_config() {
	cat <<YAML
pcap: $WORK/bmp.pcap
time_factor: 0
no_sync: true
network:
  map:
  - {src_ip: 192.0.2.1, repro_ip: $1}
bmp:
  collector: {ip: 127.0.0.1, port: $2}
YAML
}
bmp_config 198.51.100.77 9 >"$WORK/bmp-notlocal.yml"
run_expect tcp-repro-not-local 2 "198.51.100.77 is not an address of this host" "$TR" -t "$WORK/bmp-notlocal.yml"

# TCP: a collector that refuses the connection: said, counted as not sent, exit 1 (messages were lost).
bmp_config 127.0.0.1 "$DOWN_PORT" >"$WORK/bmp-down.yml"
run_expect tcp-collector-down 1 "cannot connect to the collector \(.*\): Connection refused" "$TR" -t "$WORK/bmp-down.yml" --stats-json "$WORK/bmp-down.json"
msgs=$(tshark -r "$WORK/bmp.pcap" -d tcp.port==1790,bmp -Y 'ip.src == 192.0.2.1' -T fields -e bmp.type 2>/dev/null | tr ',' '\n' | grep -c .)
python3 - "$WORK/bmp-down.json" "$msgs" <<'PY' || fail "tcp-collector-down: the figures do not say what was lost"
import json, sys
d = json.load(open(sys.argv[1]))
bmp = d["sections"]["bmp"]
assert bmp["sent"] == 0 and bmp["dropped"] == int(sys.argv[2]), bmp
assert d["tcp"]["connect_failures"] == 1, d["tcp"]
PY

# A capture cut in the middle of a record: what precedes is replayed, then the damage is named.
start_sink cut "$TR" sink --udp 0
CUT_PORT=$(ready_port "$WORK/cut.ready" udp)
size=$(stat -c %s "$WORK/good.pcap")
head -c $((size - 30)) "$WORK/good.pcap" >"$WORK/cut.pcap"
config "$WORK/cut.pcap" 127.0.0.1 127.0.0.1 "$CUT_PORT" >"$WORK/cut.yml"
intact=$(( $(tshark -r "$WORK/good.pcap" 2>/dev/null | wc -l) - 1 ))
run_expect damaged-pcap 3 "cut.pcap: damaged after frame $intact .*byte offset" "$TR" -t "$WORK/cut.yml"
sleep 0.3
stop_sink
got=$(json_get "$WORK/cut.json" 'd["totals"]["datagrams"]')
[ "$got" -eq "$intact" ] || fail "damaged-pcap: $got datagrams arrived, the $intact intact ones expected"
echo "PASS"
