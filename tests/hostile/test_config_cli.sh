#!/usr/bin/env bash
# Hostile configs and command lines: each is refused before anything is sent (or stops
# cleanly), with a message naming what to fix and the documented exit code.
. "$(dirname "$0")/../lib.sh"

"$GEN" --proto ipfix --count 20 --exporter 192.0.2.1 --dport 4739 --start 1700000000 \
	--gap-us 200000 --out "$WORK/a.pcap"

# config NAME REPRO_IP COLLECTOR_IP [EXTRA_YAML]: $WORK/NAME.yml
config() {
	cat >"$WORK/$1.yml" <<YAML
pcap: $WORK/a.pcap
time_factor: 0
no_sync: true
network:
  map:
  - src_ip: 192.0.2.1
    repro_ip: $2
ipfix:
  collector:
    ip: "$3"
    port: 9
${4:-}
YAML
}

# A repro_ip that cannot reach the collector's literal address: a config error at -n and
# at replay (the map entry's place, both addresses, what to change).
config family 127.0.0.1 ::1
family_msg="family.yml:6:5: network.map: repro_ip 127.0.0.1 of exporter 192.0.2.1 is IPv4, but the ipfix collector ::1 \(line 9\) is IPv6: .*give the exporter an IPv6 repro_ip, or the collector an IPv4 address"
hostile family-check 2 "$family_msg" 64 "$TR" -t "$WORK/family.yml" -n
hostile family-replay 2 "$family_msg" 64 "$TR" -t "$WORK/family.yml"

# A time factor whose deadlines would overflow: refused with the accepted range.
config huge-factor 127.0.0.1 127.0.0.1 "time_factor: 1e308"
sed -i '/^time_factor: 0$/d' "$WORK/huge-factor.yml"
hostile time-factor-1e308 2 "huge-factor.yml:[0-9]+:14: time_factor: 1e308 is out of range: expected a number from 0 to 1000000" \
	64 "$TR" -t "$WORK/huge-factor.yml"

# --stats-json onto the config, onto a capture (another name for it), into a missing
# folder: refused before anything is sent; the inputs are untouched.
config ok 127.0.0.1 127.0.0.1
cp "$WORK/ok.yml" "$WORK/ok.yml.orig"
cp "$WORK/a.pcap" "$WORK/a.pcap.orig"
hostile stats-onto-config 2 "--stats-json .*ok.yml is the config file" 64 \
	"$TR" -t "$WORK/ok.yml" --stats-json "$WORK/./ok.yml"
ln "$WORK/a.pcap" "$WORK/hardlink.pcap"
hostile stats-onto-capture 2 "--stats-json .*hardlink.pcap is the capture .*a.pcap \(pcap\[0\]\)" 64 \
	"$TR" -t "$WORK/ok.yml" --stats-json "$WORK/hardlink.pcap"
hostile stats-missing-folder 2 "--stats-json .*: the folder .*/nowhere does not exist" 64 \
	"$TR" -t "$WORK/ok.yml" --stats-json "$WORK/nowhere/stats.json"
cmp -s "$WORK/ok.yml" "$WORK/ok.yml.orig" && cmp -s "$WORK/a.pcap" "$WORK/a.pcap.orig" ||
	fail "--stats-json changed an input"

# -n into a full disk: an error, not a silent empty config.
hostile check-dev-full 1 "-n: cannot write to stdout: No space left on device" 64 \
	bash -c 'exec "$@" >/dev/full' _ "$TR" -t "$WORK/ok.yml" -n

# SIGHUP in the middle of a replay (4 s at time_factor 1): a clean stop with the summary,
# exit code as for SIGTERM.
config slow 127.0.0.1 127.0.0.1 "time_factor: 1"
sed -i '/^time_factor: 0$/d' "$WORK/slow.yml"
hostile sighup-mid-replay 143 "traffic-reproducer summary" 64 \
	bash -c '"$@" & pid=$!; sleep 0.5; kill -HUP $pid; wait $pid' _ "$TR" -t "$WORK/slow.yml"
sent=$(grep -E '^ipfix ' "$WORK/sighup-mid-replay.err" | awk '{print $2}')
[ -n "$sent" ] && [ "$sent" -lt 21 ] || fail "sighup-mid-replay: the replay was not cut short (sent '$sent')"
echo PASS
