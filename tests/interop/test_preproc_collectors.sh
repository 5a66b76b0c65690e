#!/usr/bin/env bash
# Interop tier: the output of -p, replayed to real collectors, decodes to exactly what its
# traffic-info.json announces.  For every raw config of corpus/anchor/examples/pcap_processing,
# -p writes traffic.pcap, traffic-reproducer.yml and traffic-info.json; the written config,
# its placeholders filled in (each exporter replayed from its own loopback address
# 127.0.K.10+i, so that collectors keying by peer address see distinct peers; the
# collectors on 127.0.0.1; time_factor 0.01; no_sync), is replayed, and
# tests/interop/collectors_check.py compares each collector's decode with the info JSON:
#
# - BMP -> pmbmpd.  Per exporter: messages per BMP type (pmbmpd's debug line per message:
#   route monitoring, statistics, peer up/down, initiation, termination) = the info's; the
#   msglog's one-line-per-message types (init, peer_up, peer_down, term) = the info's; one
#   log_init/log_close per session.  Per monitored peer (type, address, RD): Peer Up and
#   Peer Down lines = the info's.  Per peer address (Loc-RIB apart): route monitoring
#   prefix lines per AFI/SAFI and announce/withdraw = the info's announced/withdrawn, less
#   the prefixes announced with no next-hop address (Loc-RIB's local routes: MP_REACH next
#   hop of length 0, or 8 for VPN), which pmbmpd 1.7.7 drops silently; those are counted
#   from the output pcap (tshark's reassembly, a walk of the BMP/BGP framing): ipfix-bmp
#   has 12.  Not finer than the peer address: pmbmpd's route monitoring lines carry no peer
#   type, and for VPN prefixes the NLRI's RD instead of the peer's; the info counts a peer's
#   pre/post-policy and Adj-RIB-Out (RFC 8671) views as one peer.  Not compared: statistics
#   per peer (pmbmpd logs one line per counter; they are compared per exporter from the
#   debug log), End-of-RIB (pmbmpd logs no line for it), and the prefixes of a peer whose
#   route monitoring the info marks ADD-PATH, malformed or with trailing data
#   (bmp-multi-sources: two Loc-RIB peers of 203.0.113.23; pmbmpd 1.7.7 reads ADD-PATH
#   Loc-RIB NLRI without path identifiers).  pmbmpd decodes route monitoring sent before
#   the peer's own Peer Up when it has seen one for that address (e.g. another RD): both
#   count those.
# - BGP -> pmbgpd.  Per exporter: UPDATE prefix lines per AFI/SAFI and announce/withdraw =
#   the info's announced/withdrawn (pmbgpd logs one line per prefix, no End-of-RIB); one
#   log_init/log_close per session; per BGP identifier (pmbgpd's daemon log names sessions
#   so; IPv4 and IPv6 sessions of one router share one) the OPENs it accepted with the
#   info's AS, KEEPALIVEs received >= the info's (pmbgpd logs them, the replay may add
#   none: keep_open is off), NOTIFICATIONs = the info's (+ the Cease with which the
#   replay ends a session the capture leaves open).  pmbgpd does not log UPDATE messages
#   as such (only their prefixes), so the UPDATE count itself is not compared.
# - BGP -> gobgpd, neighbors configured from the info's OPENs (AS, families), passive; the
#   BGP section alone replayed again.  gobgp monitor adj-in records each path as it enters
#   an Adj-RIB-In (withdrawals too), so a session the capture closes (bgp: its FIN; gobgpd
#   then empties the neighbor's RIB) is read as well as one held open: reading the RIB
#   with keep_open could not.  Per neighbor and family: the Adj-RIB-In that stream leaves
#   holds the info's announced - withdrawn prefixes, when that is well defined: the
#   output pcap's UPDATEs (tshark's TCP reassembly, then a walk of the BGP framing and
#   NLRI in collectors_check.py, independent of the tool's decoder and of the collectors';
#   tshark's own BGP dissector decodes no IPv6 VPN prefix, DESIGN.md) announce and withdraw
#   as many prefixes as the info says and leave that many distinct ones; otherwise the set
#   they leave is the expectation (the test says so).  In both cases the Adj-RIB-In must be
#   that very set of (RD, prefix), from the OPEN's identifier, and pmbgpd's prefixes must
#   leave it too.
# - IPFIX/NetFlow -> nfacctd.  Per exporter: flow records decoded (the sum of the print
#   plugin's flows counter: records equal in every printed field fold into one line, and
#   ipfix-bmp has 3 such pairs, its flow times being to the second) = the info's data
#   records of data templates (options templates' records, interface tables and sampling,
#   are not flows: nfacctd prints none of them, which the equality checks); 0 sequence
#   errors (nfacctd's checks on).
# And for every replay: one TCP session per session in the info JSON, none refused, failed
# or closed by the collector, no framing error, no byte lost.
#
# time_factor 0.01, not 0: pmbmpd and pmbgpd listen with a backlog of 1, and the 15 BMP
# sessions of bmp-multi-sources connecting at once get some reset by the kernel before
# pmbmpd accepts them (a collector limit, not the replay's: paced, they all go through).
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
ANCHOR=$TR_CORPUS/anchor
[ -d "$ANCHOR/examples/pcap_processing" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples/pcap_processing"
for bin in pmbmpd pmbgpd nfacctd gobgpd gobgp; do
	command -v $bin >/dev/null || skip "$bin is not installed (make test-deps)"
done
command -v python3 >/dev/null || skip "python3 is not installed"
command -v ss >/dev/null || skip "ss (iproute2) is not installed"
[ -x "$TR" ] || fail "$TR must be built first"

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/pmacct-daemon.sh"
. "$COLLECTORS/flowcoll.sh"
CHECK=(python3 "$TR_SOURCE_DIR/tests/interop/collectors_check.py")
TIME_FACTOR=0.01
GOBGP_AS=64999

GO_PID="" MON_PID=""
go_cleanup() {
	[ -z "$MON_PID" ] || kill "$MON_PID" 2>/dev/null || true
	[ -z "$GO_PID" ] || kill "$GO_PID" 2>/dev/null || true
	return 0
}
cleanup_hooks+=(go_cleanup)

# fill YML K TCP_PORT UDP_PORT KEEP_OPEN [ONLY_SECTION]: the written config with its
# placeholders filled in: exporter i replayed from 127.0.K.(10+i), the collectors on
# 127.0.0.1 (TCP sections on TCP_PORT, ipfix on UDP_PORT); with ONLY_SECTION, the other
# protocol sections left out.
fill() {
	sed -e "s/^time_factor: .*/time_factor: $TIME_FACTOR/" -e 's/^no_sync: .*/no_sync: true/' \
		-e "s/^keep_open: .*/keep_open: $5/" "$1" |
		awk -v k="$2" -v tcp="$3" -v udp="$4" -v only="${6:-}" '
		/^[a-z_]+:/ { sec = substr($1, 1, length($1) - 1) }
		only != "" && sec ~ /^(bmp|bgp|ipfix|udp_generic|tcp_generic)$/ && sec != only { next }
		/^    repro_ip: <MISSING_PARAM>/ { sub(/<MISSING_PARAM>/, "127.0." k "." (10 + n++)) }
		/^    ip: <MISSING_PARAM>/ { sub(/<MISSING_PARAM>/, "127.0.0.1") }
		/^    port:/ { $0 = "    port: " ((sec == "ipfix" || sec == "udp_generic") ? udp : tcp) }
		{ print }'
}

# The --map CAPTURED=REPRO arguments of a filled config.
map_args() { awk '/^  - src_ip:/ { s = $3 } /^    repro_ip:/ { print "--map"; print s "=" $2 }' "$1"; }

# section_port YML SECTION: the collector port of a written config's section (the captured one).
section_port() { awk -v sec="$2:" '/^[a-z_]+:/ { s = $1 } s == sec && /^    port:/ { print $2; exit }' "$1"; }

# sessions_of INFO KEY MAP_ARGS...: the address each KEY (bmp|bgp) session is replayed from.
sessions_of() {
	python3 -c 'import ipaddress, json, sys
a = lambda s: str(ipaddress.ip_address(s))
m = dict((a(x.split("=")[0]), x.split("=")[1]) for x in sys.argv[3:] if x != "--map")
for e in json.load(open(sys.argv[1]))["exporters"]:
    for s in e[sys.argv[2]]:
        print(m.get(a(e["address"]), "unmapped-" + e["address"]))' "$@"
}

# check_replay NAME SESSIONS: the replay's own account: SESSIONS TCP sessions, nothing
# refused, failed, closed by the collector, lost or misframed, no unknown peer.
check_replay() {
	local s=$WORK/$1.stats.json
	[ "$(json_get "$s" 'd["tcp"]["sessions"]')" -eq "$2" ] ||
		fail "$1: $(json_get "$s" 'd["tcp"]["sessions"]') TCP sessions replayed, the info JSON has $2"
	[ "$(json_get "$s" '(sum(x["refused"] + x["dropped"] + x["not_replayed"] for x in d["sections"].values()) +
		d["unknown_peer"] + d["tcp"]["connect_failures"] + d["tcp"]["closed_by_collector"] +
		d["tcp"]["framing_errors"] + d["tcp"]["skipped_bytes"] + d["tcp"]["lost_bytes"])')" -eq 0 ] ||
		{ grep -a warning "$WORK/$1.tr.log" | head -5 >&2; fail "$1: the replay lost or refused something: $(cat "$s")"; }
}

go_died() {
	echo "--- last lines of $WORK/$1.gobgpd.log:" >&2
	tail -n 15 "$WORK/$1.gobgpd.log" >&2 || true
	fail "$1: gobgpd $2 (the collector crashed or quit: no decode result to compare)"
}

# gobgp_round NAME K INFO MAP_ARGS...: the BGP section alone to gobgpd, whose stream of
# received paths (gobgp monitor adj-in) is checked against $WORK/NAME.rib.json.
gobgp_round() {
	local name=$1 k=$2 info=$3 attempt ok want got rc; shift 3
	local go=(timeout 5 gobgp -u 127.0.0.1)
	for attempt in 1 2 3; do
		local bgp_port api_port
		bgp_port=$(free_port tcp) api_port=$(free_port tcp)
		"${CHECK[@]}" gobgp-conf --info "$info" "$@" --as $GOBGP_AS --port "$bgp_port" >"$WORK/$name.gobgpd.toml" ||
			fail "$name: could not write gobgpd's config"
		gobgpd -f "$WORK/$name.gobgpd.toml" --api-hosts "127.0.0.1:$api_port" --pprof-disable -p \
			>"$WORK/$name.gobgpd.log" 2>&1 &
		GO_PID=$! ok=""
		for _ in $(seq 1 100); do
			kill -0 "$GO_PID" 2>/dev/null || break
			if "${go[@]}" -p "$api_port" global >/dev/null 2>&1 && ss -Hltn "sport = :$bgp_port" | grep -q "127.0.0.1:$bgp_port"; then
				ok=1; break
			fi
			sleep 0.1
		done
		[ -z "$ok" ] || break
		kill -0 "$GO_PID" 2>/dev/null && go_died "$name" "was not serving after 10 s"
		wait "$GO_PID" || true; GO_PID=""
		grep -q "address already in use" "$WORK/$name.gobgpd.log" || go_died "$name" "exited at start-up"
		note "$name: a port was taken meanwhile (attempt $attempt), retrying"
	done
	[ -n "$GO_PID" ] || fail "$name: no free ports found for gobgpd after 3 attempts"
	go+=(-p "$api_port")

	# Every path as it enters an Adj-RIB-In (--current: and what is there when it attaches).
	timeout 300 gobgp -u 127.0.0.1 -p "$api_port" monitor adj-in --current -j >"$WORK/$name.monitor.json" \
		2>"$WORK/$name.monitor.err" &
	MON_PID=$!
	sleep 0.3
	fill "$WORK/$name/traffic-reproducer.yml" "$k" "$bgp_port" 0 false bgp >"$WORK/$name.go.yml"
	rc=0
	timeout 120 "$TR" -t "$WORK/$name.go.yml" --stats-json "$WORK/$name.go.stats.json" 2>"$WORK/$name.go.tr.log" || rc=$?
	# The paths reach the monitor a moment later: wait (at most 10 s) for as many as the
	# Adj-RIB-Ins are to hold in the end, then a moment more for any extra one.
	want=$("${CHECK[@]}" gobgp-wants --rib "$WORK/$name.rib.json")
	for _ in $(seq 1 100); do
		kill -0 "$GO_PID" 2>/dev/null || go_died "$name" "is gone after the replay"
		got=$(grep -o '"neighbor-ip"' "$WORK/$name.monitor.json" | wc -l)
		[ "$got" -lt "$want" ] || break
		sleep 0.1
	done
	sleep 0.5
	kill "$MON_PID" 2>/dev/null || true; wait "$MON_PID" 2>/dev/null || true; MON_PID=""
	kill -TERM "$GO_PID"; wait "$GO_PID" 2>/dev/null || true; GO_PID=""
	"${CHECK[@]}" gobgp --rib "$WORK/$name.rib.json" --monitor "$WORK/$name.monitor.json" >"$WORK/$name.gobgp.check" ||
		{ grep -a "warning" "$WORK/$name.go.tr.log" | head -3 >&2
		  fail "$name: gobgpd's Adj-RIB-In is not what the info JSON announces (replay exit $rc)"; }
	[ $rc -eq 0 ] || { cat "$WORK/$name.go.tr.log" >&2; fail "$name: the replay to gobgpd exited with $rc"; }
	check_replay "$name.go" "$(sessions_of "$info" bgp "$@" | wc -l)"
	note "$name: $(cat "$WORK/$name.gobgp.check")"
}

# config_round CFG K: -p on CFG, the replay of its output to the collectors, the checks.
config_round() {
	local cfg=$1 k=$2 name out info yml rc tport uport pm nsessions errs maps routers peers
	name=$(basename "$cfg" .yml)
	out=$WORK/$name
	info=$out/traffic-info.json
	# The config as it is, but writing into $WORK (its pcap path is relative to anchor/).
	sed "s#^pcap_processing:#pcap_processing:\n  output_folder: $out#" "$cfg" >"$WORK/$name.in.yml"
	rc=0
	(cd "$ANCHOR" && "$TR" -p -t "$WORK/$name.in.yml") 2>"$WORK/$name.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$WORK/$name.err" >&2; fail "$name: -p exited with $rc"; }
	yml=$out/traffic-reproducer.yml
	has() { grep -q "^$1:" "$yml"; }
	if has bmp && has bgp; then fail "$name: a bmp and a bgp section: this test runs one pmacct daemon at a time"; fi
	has bmp || has bgp || has ipfix || fail "$name: no bmp, bgp or ipfix section in the written config"

	# The collectors, each on a free port of 127.0.0.1.
	tport=0 uport=0 pm=""
	if has bmp; then
		pm=bmp
		printf 'bmp_daemon_max_peers: 100\nbmp_daemon_msglog_file: %s\nbmp_daemon_msglog_output: json\n' \
			"$WORK/$name.bmp.msglog" >"$WORK/$name.pmbmpd.settings"
		pm_start "$name.pmbmpd" pmbmpd bmp 127.0.0.1 "$WORK/$name.pmbmpd.settings"
		tport=$PM_PORT
	elif has bgp; then
		pm=bgp
		printf 'bgp_daemon: true\nbgp_daemon_max_peers: 100\nbgp_disable_router_id_check: true\n' \
			>"$WORK/$name.pmbgpd.settings"
		printf 'bgp_daemon_msglog_file: %s\nbgp_daemon_msglog_output: json\n' "$WORK/$name.bgp.msglog" \
			>>"$WORK/$name.pmbgpd.settings"
		pm_start "$name.pmbgpd" pmbgpd bgp 127.0.0.1 "$WORK/$name.pmbgpd.settings"
		tport=$PM_PORT
	fi
	if has ipfix; then
		# The flows counter: records equal in every printed field fold into one line.
		fc_listen "$name.nfacctd" nfacctd 127.0.0.1 "nfacctd_pipe_size: 4194304" \
			"$(grep '^aggregate\[flows\]:' "$COLLECTORS/nfacctd-print.conf"), flows"
		uport=$FC_PORT
	fi

	# The replay of the whole written config.
	fill "$yml" "$k" "$tport" "$uport" false >"$WORK/$name.replay.yml"
	grep -q "<MISSING_PARAM>" "$WORK/$name.replay.yml" && fail "$name: a placeholder left unfilled: $(grep "<MISSING_PARAM>" "$WORK/$name.replay.yml")"
	mapfile -t maps < <(map_args "$WORK/$name.replay.yml")
	rc=0
	timeout 120 "$TR" -t "$WORK/$name.replay.yml" --stats-json "$WORK/$name.stats.json" 2>"$WORK/$name.tr.log" || rc=$?
	[ $rc -eq 0 ] || { cat "$WORK/$name.tr.log" >&2; fail "$name: replay exited with $rc"; }
	nsessions=0
	[ -z "$pm" ] || nsessions=$(sessions_of "$info" "$pm" "${maps[@]}" | wc -l)
	check_replay "$name" "$nsessions"

	if [ "$pm" = bmp ]; then
		# The capture leaves the sessions open: the replay's FIN ends each one.
		mapfile -t routers < <(sessions_of "$info" bmp "${maps[@]}")
		pm_wait_closes "$WORK/$name.bmp.msglog" bmp_router "$name's replay" "${routers[@]}"
		pm_stop
		"${CHECK[@]}" bmp --info "$info" "${maps[@]}" --pcap "$out/traffic.pcap" --port "$(section_port "$yml" bmp)" \
			--debuglog "$WORK/$name.pmbmpd.log" \
			--msglog "$WORK/$name.bmp.msglog" >"$WORK/$name.bmp.check" ||
			fail "$name: pmbmpd did not decode what the info JSON announces"
		note "$name: $(cat "$WORK/$name.bmp.check")"
	elif [ "$pm" = bgp ]; then
		mapfile -t peers < <(sessions_of "$info" bgp "${maps[@]}")
		pm_wait_closes "$WORK/$name.bgp.msglog" peer_ip_src "$name's replay" "${peers[@]}"
		pm_stop
		"${CHECK[@]}" bgp --info "$info" "${maps[@]}" --pcap "$out/traffic.pcap" --port "$(section_port "$yml" bgp)" \
			--daemonlog "$WORK/$name.pmbgpd.log" \
			--msglog "$WORK/$name.bgp.msglog" --rib-out "$WORK/$name.rib.json" >"$WORK/$name.bgp.check" ||
			fail "$name: pmbgpd did not decode what the info JSON announces"
		note "$name: $(cat "$WORK/$name.bgp.check")"
	fi
	if has ipfix; then
		fc_drain "$name.nfacctd" "$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["sent"]')"
		fc_stop "$name.nfacctd"
		errs=$(fc_seq_errors "$name.nfacctd")
		[ "$errs" -eq 0 ] || fail "$name: nfacctd counted $errs sequence errors"
		"${CHECK[@]}" flows --info "$info" "${maps[@]}" --records "$WORK/$name.nfacctd.json" >"$WORK/$name.flows.check" ||
			fail "$name: nfacctd did not decode the flow records the info JSON announces"
		note "$name: $(cat "$WORK/$name.flows.check"), 0 sequence errors"
	fi
	[ "$pm" != bgp ] || gobgp_round "$name" "$k" "$info" "${maps[@]}"
}

# Each config in a subshell of its own (its collectors stopped by the cleanup hooks when it
# fails), so that one failing config does not hide what the others show.
k=0 failed=()
for cfg in "$ANCHOR"/examples/pcap_processing/*.yml; do
	k=$((k + 1))
	(trap 'for hook in "${cleanup_hooks[@]}"; do eval "$hook" || true; done' EXIT; config_round "$cfg" $k) ||
		failed+=("$(basename "$cfg" .yml)")
done
[ $k -gt 0 ] || fail "no config in $ANCHOR/examples/pcap_processing"
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} of $k configs: ${failed[*]}"
echo PASS
