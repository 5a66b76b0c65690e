#!/usr/bin/env bash
# Interop tier, flow fidelity on real captures: every corpus example config with an
# ipfix section is replayed to nfacctd twice, once with the flow defaults (templates
# prime, sequence continue for lists and repeats) and once with templates and sequence
# as-captured; nfacctd must decode the same records from both, every field it prints
# but the sequence number the record came with: the defaults change what a collector
# trusts, never what it stores.
#
# The configs come from `-n` (the normalized config, which is a config too) with what
# this test needs changed: only the ipfix section; little waiting (time_factor 0.25:
# a burst would overflow nfacctd's socket while it logs each datagram; no_sync);
# repro addresses on loopback (127.0.0.x, ::1), mapped back for the comparison; the
# collector is this test's nfacctd.
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
ANCHOR=$TR_CORPUS/anchor
[ -d "$ANCHOR/examples" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples"
command -v nfacctd >/dev/null || skip "nfacctd (pmacct) is not installed (make test-deps)"
command -v python3 >/dev/null || skip "python3 is not installed"

COLLECTORS=$TR_SOURCE_DIR/tests/e2e/collectors
. "$COLLECTORS/flowcoll.sh"
CMP=(python3 "$COLLECTORS/flowcmp.py")

# flow_config CFG MODE PORT > yml: CFG (relative to ANCHOR) for this test; MODE
# default keeps the flow keys' defaults, as-captured sets templates and sequence so.
flow_config() {
	(cd "$ANCHOR" && "$TR" -t "$1" -n) | python3 -c '
import sys
mode, port = sys.argv[1], sys.argv[2]
out, top, v4 = [], None, 2
for line in sys.stdin.read().splitlines():
    if line and not line.startswith(" "):
        top = line.split(":")[0]
        if top in ("time_factor", "no_sync", "keep_open"):
            line = {"time_factor": "time_factor: 0.25", "no_sync": "no_sync: true",
                    "keep_open": "keep_open: false"}[top]
    if top in ("bmp", "bgp", "udp_generic", "tcp_generic", "pcap_processing"):
        continue
    key = line.strip().split(":")[0]
    if top == "network" and key == "repro_ip":
        family6 = ":" in line.split(":", 1)[1]
        line = line.split(":")[0] + ": " + ("\"::1\"" if family6 else "127.0.0.%d" % v4)
        v4 += 0 if family6 else 1
    elif top == "ipfix" and key == "port":
        line = "    port: " + port
    elif top == "ipfix" and key == "ip":
        line = "    ip: localhost"
    elif top == "ipfix" and mode == "as-captured" and key in ("templates", "sequence"):
        line = "  %s: as-captured" % key
    out.append(line)
print("\n".join(out))
' "$2" "$3"
}

# family_addr YML: the collector address nfacctd listens on, of the repro addresses' family.
family_addr() { if grep -q 'repro_ip: "::1"' "$1"; then echo ::1; else echo 127.0.0.1; fi; }

# replay_to_nfacctd NAME YML: nfacctd gets the replay; records in $WORK/NAME-c.json.
replay_to_nfacctd() {
	local name=$1 yml=$2 addr sent
	addr=$(family_addr "$yml")
	fc_listen "$name-c" nfacctd "$addr" "nfacctd_pipe_size: 4194304" "nfacctd_disable_checks: false"
	sed -i "s/^    port: 0$/    port: $FC_PORT/" "$yml"
	(cd "$ANCHOR" && timeout 300 "$TR" -t "$yml" --stats-json "$WORK/$name.stats.json") 2>"$WORK/$name.log" ||
		{ cat "$WORK/$name.log" >&2; fail "$name: replay exited with $?"; }
	sent=$(json_get "$WORK/$name.stats.json" 'd["sections"]["ipfix"]["sent"]')
	[ "$sent" -gt 0 ] || fail "$name: the replay sent nothing"
	fc_drain "$name-c" "$sent"
	fc_stop "$name-c"
	[ -s "$WORK/$name-c.json" ] || fail "$name: nfacctd decoded no record"
}

configs=0
for cfg in "$ANCHOR"/examples/*.yml; do
	grep -q '^ipfix:' "$cfg" || continue
	name=$(basename "$cfg" .yml)
	rel=examples/$name.yml
	# A config whose captures are missing is test_corpus.sh's business (it checks the error).
	missing=0
	for pcap in $(cd "$ANCHOR" && "$TR" -t "$rel" -n | awk '/^pcap:/ { p = 1; next } p && /^  - / { print $2; next } { p = 0 }'); do
		[ -e "$ANCHOR/$pcap" ] || missing=1
	done
	[ $missing -eq 0 ] || { note "$name: a capture is missing, skipped here"; continue; }

	flow_config "$rel" default 0 >"$WORK/$name-default.yml"
	flow_config "$rel" as-captured 0 >"$WORK/$name-as.yml"
	grep -q '^  templates: as-captured' "$WORK/$name-as.yml" || fail "$name: could not write the as-captured config"
	replay_to_nfacctd "$name-default" "$WORK/$name-default.yml"
	replay_to_nfacctd "$name-as" "$WORK/$name-as.yml"
	"${CMP[@]}" "nfacctd:$WORK/$name-as-c.json" "nfacctd:$WORK/$name-default-c.json" \
		--ignore nfacctd.export_proto_seqno >"$WORK/$name.cmp" 2>&1 ||
		{ cat "$WORK/$name.cmp" >&2; fail "$name: nfacctd decoded other records from the defaults than from as-captured"; }
	primed=$(json_get "$WORK/$name-default.stats.json" 'd["flows"]["templates_primed"]')
	renumbered=$(json_get "$WORK/$name-default.stats.json" 'd["flows"]["sequence_rewritten"]')
	errs_as=$(fc_seq_errors "$name-as-c") errs_default=$(fc_seq_errors "$name-default-c")
	note "$name: sequence errors at nfacctd: $errs_as as-captured, $errs_default with the defaults"
	# A list or repeats: the default continues the numbers, which nfacctd must take without error.
	if grep -q '^  sequence: continue' "$WORK/$name-default.yml" && [ "$errs_default" -ne 0 ]; then
		fail "$name: sequence continue (the default here): nfacctd counted $errs_default sequence errors"
	fi
	note "$name: $(wc -l <"$WORK/$name-as-c.json") nfacctd records, the same with the defaults ($primed templates primed, $renumbered sequence numbers rewritten) as as-captured"
	configs=$((configs + 1))
done
[ $configs -gt 0 ] || fail "no corpus config with an ipfix section and its captures"
echo "PASS"
