#!/usr/bin/env bash
# generate, BGP: examples/generate/bgp-churn.yml is the same bytes on every run, and
# gobgpd, each router a passive neighbor with its AS, holds in each neighbor's Adj-RIB-In
# after the replay of OUT.yml exactly the prefixes the spec's oracle (--expect: arithmetic
# on the spec, not the encoder) says, once it has received the oracle's UPDATEs.
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || skip "python3 is not installed"
[ -x "$TR" ] || fail "$TR must be built first"
SPEC=$TR_SOURCE_DIR/examples/generate/bgp-churn.yml

"$TR" generate -t "$SPEC" -o "$WORK/a.pcap" --expect >"$WORK/a.expect" 2>"$WORK/a.err" ||
	{ cat "$WORK/a.err" >&2; fail "generate failed"; }
"$TR" generate -t "$SPEC" -o "$WORK/b.pcap" 2>"$WORK/b.err" || { cat "$WORK/b.err" >&2; fail "generate failed"; }
cmp "$WORK/a.pcap" "$WORK/b.pcap" || fail "the same spec gave different captures"
note "same bytes twice"

command -v gobgpd >/dev/null || skip "gobgpd is not installed (make test-deps); the determinism check passed"
command -v gobgp >/dev/null || skip "gobgp (the GoBGP client) is not installed (make test-deps)"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/gobgpd.sh"
GO_PID="" TR_PID=""
go_cleanup() {
	[ -z "$TR_PID" ] || kill -INT "$TR_PID" 2>/dev/null || true
	[ -z "$GO_PID" ] || kill "$GO_PID" 2>/dev/null || true
	return 0
}
cleanup_hooks+=(go_cleanup)

# Neighbors: each router's repro address and AS (the spec's as + its index).
AS0=$(sed -n 's/^  as: \([0-9]*\).*/\1/p' "$SPEC")
[ -n "$AS0" ] || fail "no bgp.as in $SPEC"
mapfile -t ROUTERS < <(python3 -c 'import json,sys; [print(e["repro"]) for e in json.load(open(sys.argv[1]))["per_exporter"]]' "$WORK/a.expect")
neighbors=()
for i in "${!ROUTERS[@]}"; do neighbors+=("${ROUTERS[i]}" $((AS0 + i))); done
gobgpd_start "$WORK/gobgpd.log" "${neighbors[@]}"
note "gobgpd: BGP on 127.0.0.1:$BGP_PORT; neighbors ${neighbors[*]}"

sed "/^collector: /s/port: [0-9]*}/port: $BGP_PORT}/" "$SPEC" >"$WORK/churn.spec.yml"
grep -q "port: $BGP_PORT}" "$WORK/churn.spec.yml" || fail "could not set the collector port"
"$TR" generate -t "$WORK/churn.spec.yml" -o "$WORK/churn.pcap" --expect >"$WORK/churn.expect" 2>"$WORK/churn.err" ||
	{ cat "$WORK/churn.err" >&2; fail "generate failed"; }
# At once (time factor 0), the sessions held open afterwards so the RIBs can be read.
sed -i -e "s/^time_factor: .*/time_factor: 0/" -e "s/^no_sync: true/no_sync: true\nkeep_open: true/" "$WORK/churn.yml"
timeout 120 "$TR" -t "$WORK/churn.yml" --stats-json "$WORK/churn.stats.json" 2>"$WORK/churn.tr.log" &
TR_PID=$!

# Per neighbor: once gobgpd has received the oracle's UPDATEs, its Adj-RIB-In = the oracle's.
deadline=$((SECONDS + 60))
for i in "${!ROUTERS[@]}"; do
	r=${ROUTERS[i]}
	want_updates=$(json_get "$WORK/churn.expect" "d['per_exporter'][$i]['updates']")
	want_rib=$(json_get "$WORK/churn.expect" "d['per_exporter'][$i]['adj_rib_in']")
	got=0
	while [ $SECONDS -lt $deadline ]; do
		kill -0 "$GO_PID" 2>/dev/null || fail "gobgpd is gone during the replay"
		kill -0 "$TR_PID" 2>/dev/null || { cat "$WORK/churn.tr.log" >&2; fail "the replay ended despite keep_open"; }
		got=$(gobgp_ neighbor "$r" -j 2>/dev/null | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(d.get("state", {}).get("messages", {}).get("received", {}).get("update", 0))' 2>/dev/null || echo 0)
		[ "$got" -lt "$want_updates" ] || break
		sleep 0.2
	done
	[ "$got" -eq "$want_updates" ] ||
		fail "$r: gobgpd received $got UPDATEs, the oracle says $want_updates: $(gobgp_ neighbor 2>&1)"
	# gobgpd counts an UPDATE when it reads it and applies it to the RIB later, so the RIB
	# moves (churn: 4 prefixes out, 4 back) until it has applied them all: it is read until
	# three reads half a second apart give the oracle's count, or the deadline.
	rib=-1 same=0
	while [ $SECONDS -lt $deadline ] && [ $same -lt 3 ]; do
		sleep 0.5
		rib=$(gobgp_ neighbor "$r" adj-in -a ipv4 -j | python3 -c 'import json, sys
d = json.load(sys.stdin)
print(len(d) if isinstance(d, (dict, list)) else 0)')
		if [ "$rib" -eq "$want_rib" ]; then same=$((same + 1)); else same=0; fi
	done
	[ "$rib" -eq "$want_rib" ] || fail "$r: gobgpd's Adj-RIB-In holds $rib prefixes, the oracle says $want_rib"
	note "$r: $got UPDATEs received, $rib prefixes in the Adj-RIB-In, as the oracle says"
done
kill -INT "$TR_PID"
rc=0; wait "$TR_PID" || rc=$?; TR_PID=""
[ $rc -eq 0 ] || { cat "$WORK/churn.tr.log" >&2; fail "replay exited with $rc on SIGINT"; }
[ "$(json_get "$WORK/churn.stats.json" 'd["tcp"]["connect_failures"] + d["tcp"]["closed_by_collector"]')" -eq 0 ] ||
	fail "gobgpd refused or closed a session: $(cat "$WORK/churn.stats.json")"
kill -TERM "$GO_PID"; wait "$GO_PID" 2>/dev/null || true; GO_PID=""
echo PASS
