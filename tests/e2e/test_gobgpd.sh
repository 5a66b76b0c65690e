#!/usr/bin/env bash
# End to end with GoBGP: a generated BGP capture of two exporters is replayed with
# keep_open to gobgpd, configured with each exporter's real AS as a passive neighbor.
# While the sessions are held open (the replay adds KEEPALIVEs), each neighbor's
# Adj-RIB-In must hold exactly the prefixes the capture's UPDATEs announced (tshark's
# decode); on SIGINT the replay must end each session with a Cease (6/2) that gobgpd logs.
#
# gobgpd needs (DESIGN.md): every replayed peer configured with its real AS (4-byte value),
# passive-mode, the families it sends; its own AS absent from replayed AS_PATHs; its API
# pinned to loopback.
. "$(dirname "$0")/../lib.sh"

command -v gobgpd >/dev/null || skip "gobgpd is not installed (make test-deps)"
command -v gobgp >/dev/null || skip "gobgp (the GoBGP client) is not installed (make test-deps)"
command -v tshark >/dev/null || skip "tshark is not installed (make test-deps)"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
if [ ! -x "$TR" ] || [ ! -x "$GEN" ]; then fail "$TR and $GEN must be built first"; fi

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/gobgpd.sh"
CHECK=(python3 "$COLLECTORS/pmcheck.py")
GO_PID="" TR_PID=""
go_cleanup() {
	[ -z "$TR_PID" ] || kill -INT "$TR_PID" 2>/dev/null || true
	[ -z "$GO_PID" ] || kill "$GO_PID" 2>/dev/null || true
	return 0
}
cleanup_hooks+=(go_cleanup)

go_died() {
	echo "--- last lines of $WORK/gobgpd.log:" >&2
	tail -n 15 "$WORK/gobgpd.log" >&2 || true
	fail "gobgpd $1 (the collector crashed or quit: no decode result to compare)"
}
go_alive() { kill -0 "$GO_PID" 2>/dev/null || go_died "${1:-is gone}"; }

# The capture first: the neighbors are configured from its OPENs.
# Frames 200 ms apart, replayed at time_factor 0.25: each exporter's OPEN goes out about 150 ms
# after its connection is up, and gobgpd sends its own OPEN as soon as it accepts: the
# collector speaks first, and the replay must take that OPEN as the answer to its own.
"$GEN" --proto bgp --count 30 --exporter 192.0.2.1 --exporter 192.0.2.2 --noise --gap-us 200000 \
	--out "$WORK/bgp.pcap" --expect "$WORK/bgp.expect" || fail "tr-pcapgen failed"
declare -A REPRO=([192.0.2.1]=127.0.1.2 [192.0.2.2]=127.0.1.3) AS=()
while read -r src myas as4; do
	AS[$src]=${as4:-$myas}
done < <(tshark -r "$WORK/bgp.pcap" -Y 'bgp.type == 1 && tcp.dstport == 179' -T fields \
	-e ip.src -e bgp.open.myas -e bgp.cap.4as 2>/dev/null)
for e in "${!REPRO[@]}"; do
	[ -n "${AS[$e]:-}" ] || fail "tshark found no OPEN from $e in the capture"
done

neighbors=()
for e in "${!REPRO[@]}"; do neighbors+=("${REPRO[$e]}" "${AS[$e]}"); done
gobgpd_start "$WORK/gobgpd.log" "${neighbors[@]}"
note "gobgpd: BGP on 127.0.0.1:$BGP_PORT, API on 127.0.0.1:$API_PORT; neighbors $(for e in "${!REPRO[@]}"; do printf '%s AS %s ' "${REPRO[$e]}" "${AS[$e]}"; done)"

# Prefixes the capture leaves announced per exporter, by tshark: what each Adj-RIB-In must hold.
declare -A WANT=()
for e in "${!REPRO[@]}"; do
	WANT[$e]=$(tshark -r "$WORK/bgp.pcap" -Y "ip.src == $e && tcp.dstport == 179" -T fields -e bgp.nlri_prefix 2>/dev/null |
		tr ',' '\n' | grep -c .) || true
	[ "${WANT[$e]}" -gt 0 ] || fail "tshark found no prefixes from $e"
done

{
	printf 'pcap: %s\ntime_factor: 0.25\nno_sync: true\nkeep_open: true\nnetwork:\n  map:\n' "$WORK/bgp.pcap"
	for e in "${!REPRO[@]}"; do printf '  - {src_ip: %s, repro_ip: %s}\n' "$e" "${REPRO[$e]}"; done
	printf 'bgp:\n  select: {tcp: {dport: [179]}}\n  collector: {ip: 127.0.0.1, port: %s}\n' "$BGP_PORT"
} >"$WORK/bgp.yml"
timeout 60 "$TR" -v -t "$WORK/bgp.yml" --stats-json "$WORK/bgp.stats.json" 2>"$WORK/bgp.tr.log" &
TR_PID=$!

# Wait (at most 15 s in all) until every neighbor has accepted all its prefixes, then take the RIBs.
adjin_args=()
deadline=$((SECONDS + 15))
for e in "${!REPRO[@]}"; do
	r=${REPRO[$e]} got=0
	while [ $SECONDS -lt $deadline ]; do
		go_alive "is gone during the replay"
		kill -0 "$TR_PID" 2>/dev/null || { cat "$WORK/bgp.tr.log" >&2; fail "the replay ended before SIGINT despite keep_open"; }
		got=$(gobgp_ neighbor "$r" -j 2>/dev/null | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sum(a.get("state", {}).get("accepted", 0) for a in d.get("afi_safis", [])))' 2>/dev/null || echo 0)
		[ "$got" -lt "${WANT[$e]}" ] || break
		sleep 0.1
	done
	[ "$got" -ge "${WANT[$e]}" ] ||
		fail "$r: gobgpd accepted $got of the ${WANT[$e]} prefixes announced within 15 s:" \
			"$(gobgp_ neighbor 2>&1; grep -a 'NOTIFICATION' "$WORK/bgp.tr.log")"
	gobgp_ neighbor "$r" adj-in -a ipv4 -j >"$WORK/adjin.$r.json" || fail "$r: gobgp adj-in failed"
	adjin_args+=(--map "$e=$r" --adjin "$r=$WORK/adjin.$r.json")
done

# SIGINT after the last capture is keep_open's normal end: exit 0, sessions ended by Cease.
kill -INT "$TR_PID"
rc=0; wait "$TR_PID" || rc=$?; TR_PID=""
[ $rc -eq 0 ] || { cat "$WORK/bgp.tr.log" >&2; fail "replay exited with $rc on SIGINT after the last capture"; }
[ "$(json_get "$WORK/bgp.stats.json" 'd["tcp"]["connect_failures"] + d["tcp"]["closed_by_collector"]')" -eq 0 ] ||
	fail "gobgpd refused or closed a session: $(cat "$WORK/bgp.stats.json")"
for _ in $(seq 1 50); do
	[ "$(grep -c 'msg="received notification"' "$WORK/gobgpd.log" || true)" -ge ${#REPRO[@]} ] && break
	sleep 0.1
done
go_alive "is gone after the replay"
"${CHECK[@]}" gobgp --log "$WORK/gobgpd.log" --tshark "$WORK/bgp.pcap" --port 179 "${adjin_args[@]}" \
	>"$WORK/check" || fail "gobgpd did not receive what the capture holds"
note "$(cat "$WORK/check")"
[ "$(grep -c "the collector sent its OPEN first" "$WORK/bgp.tr.log")" -eq ${#REPRO[@]} ] ||
	fail "gobgpd did not speak first on every session: the early-OPEN case was not exercised"
note "gobgpd sent its OPEN first on every session; the replay took it as the answer"

kill -TERM "$GO_PID"; wait "$GO_PID" 2>/dev/null || true; GO_PID=""
echo PASS
