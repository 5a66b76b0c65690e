# Start gobgpd for the end-to-end tests (sourced by test_gobgpd.sh, test_session_lifecycle.sh
# and test_anonymize_bgp_bmp.sh, after tests/lib.sh). The test's own cleanup hook kills GO_PID.

# gobgp_ ARGS...: the gobgp client on the running gobgpd's API.
gobgp_() { timeout 5 gobgp -u 127.0.0.1 -p "$API_PORT" "$@"; }

# gobgpd_start LOG NEIGHBOR AS [NEIGHBOR AS]...: gobgpd on free ports of 127.0.0.1, its
# config beside LOG (.toml), with a passive IPv4-unicast neighbor per NEIGHBOR AS pair; sets
# GO_PID, BGP_PORT and API_PORT once it serves both BGP and its API. A port another process
# took meanwhile is retried (3 attempts); a gobgpd that dies or does not serve in 10 s for
# another reason fails the test, with its log's last lines.
gobgpd_start() {
	local log=$1 toml=${1%.log}.toml attempt ok i
	shift
	local neighbors=("$@")
	for attempt in 1 2 3; do
		BGP_PORT=$(free_port tcp) API_PORT=$(free_port tcp)
		{
			printf '[global.config]\n  as = 64999\n  router-id = "127.0.0.1"\n  port = %s\n' "$BGP_PORT"
			printf '  local-address-list = ["127.0.0.1"]\n'
			for ((i = 0; i + 1 < ${#neighbors[@]}; i += 2)); do
				printf '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "%s"\n    peer-as = %s\n' \
					"${neighbors[i]}" "${neighbors[i + 1]}"
				printf '  [neighbors.transport.config]\n    passive-mode = true\n'
				printf '  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "ipv4-unicast"\n'
			done
		} >"$toml"
		gobgpd -f "$toml" --api-hosts "127.0.0.1:$API_PORT" --pprof-disable -p >"$log" 2>&1 &
		GO_PID=$!
		ok=""
		for _ in $(seq 1 100); do
			kill -0 "$GO_PID" 2>/dev/null || break
			if gobgp_ global >/dev/null 2>&1 && ss -Hltn "sport = :$BGP_PORT" | grep -q "127.0.0.1:$BGP_PORT"; then
				ok=1; break
			fi
			sleep 0.1
		done
		[ -z "$ok" ] || return 0
		kill "$GO_PID" 2>/dev/null; wait "$GO_PID" 2>/dev/null || true; GO_PID=""
		if ! grep -q "address already in use" "$log"; then
			echo "--- last lines of $log:" >&2
			tail -n 15 "$log" >&2 || true
			fail "gobgpd did not serve on 127.0.0.1 within 10 s (the collector crashed or quit)"
		fi
		note "a port was taken meanwhile (attempt $attempt), retrying"
	done
	fail "no free ports found for gobgpd after 3 attempts"
}
