#!/usr/bin/env bash
# schemas/*.schema.json describe what the tool writes: --info of generated captures of every protocol
# (and of every corpus capture with TR_CORPUS), of a damaged one, with and without -t, and -p's
# traffic-info.json; --stats-json of replays (UDP and TCP); the sink's --json.  Each validates with
# python3-jsonschema (draft 2020-12).
. "$(dirname "$0")/../lib.sh"

S=$TR_SOURCE_DIR/schemas
check() { python3 "$TR_SOURCE_DIR/tests/e2e/schema_check.py" "$@"; }
python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed (apt-get install python3-jsonschema)"
for s in info stats sink; do
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['\$schema'].endswith('2020-12/schema'), 'not draft 2020-12'; import re; assert re.search(r'[:/]v[0-9]+$', d['\$id']), 'no version in \$id'" \
		"$S/$s.schema.json" || fail "$s.schema.json: no draft 2020-12 \$schema or no version in \$id"
done

# --info: every protocol the generator writes, IPv4 and IPv6 exporters, TCP cut into small segments.
infos=()
for proto in ipfix nfv9 nfv5 udp bmp bgp; do
	"$GEN" --out "$WORK/$proto.pcap" --proto "$proto" --exporter 192.0.2.1 --exporter 2001:db8::1 \
		--count 20 --segment 100 >/dev/null || fail "tr-pcapgen $proto"
	"$TR" --info "$WORK/$proto.pcap" >"$WORK/info-$proto.json" || fail "--info $proto.pcap"
	infos+=("$WORK/info-$proto.json")
done
"$TR" --info "$WORK"/*.pcap >"$WORK/info-all.json" || fail "--info of all"
infos+=("$WORK/info-all.json")
# With -t: the examples' configs (their pcap paths are relative to the source tree).
for cfg in "$TR_SOURCE_DIR"/examples/*.yml; do
	name=$(basename "$cfg" .yml)
	(cd "$TR_SOURCE_DIR" && "$TR" --info -t "examples/$name.yml") >"$WORK/info-t-$name.json" ||
		fail "--info -t examples/$name.yml"
	infos+=("$WORK/info-t-$name.json")
done
# A damaged capture: the JSON up to the damage, with its errors entry (exit 3).
head -c 3000 "$WORK/bmp.pcap" >"$WORK/cut.pcap"
rc=0; "$TR" --info "$WORK/cut.pcap" >"$WORK/info-cut.json" 2>/dev/null || rc=$?
[ $rc -eq 3 ] || fail "--info of a cut capture: exit $rc, expected 3"
infos+=("$WORK/info-cut.json")
# -p's traffic-info.json is the same summary, with its pcap_processing counts added.
for name in bmp ipfix; do
	sed -E "s|^pcap: examples/|pcap: $TR_SOURCE_DIR/examples/|" "$TR_SOURCE_DIR/examples/$name.yml" >"$WORK/pp-$name.yml"
	printf 'pcap_processing:\n  output_folder: %s\n' "$WORK/pp-$name" >>"$WORK/pp-$name.yml"
	"$TR" -p -t "$WORK/pp-$name.yml" 2>"$WORK/pp-$name.err" || { cat "$WORK/pp-$name.err" >&2; fail "-p $name"; }
	infos+=("$WORK/pp-$name/traffic-info.json")
done
check "$S/info.schema.json" "${infos[@]}" || fail "--info output does not match info.schema.json"

if [ -n "${TR_CORPUS:-}" ] && [ -d "$TR_CORPUS" ]; then
	corpus=()
	while IFS= read -r -d '' pcap; do
		out=$WORK/corpus-${#corpus[@]}.json
		rc=0; "$TR" --info "$pcap" >"$out" 2>/dev/null || rc=$?
		[ $rc -eq 0 ] || [ $rc -eq 3 ] || fail "--info $pcap: exit $rc"
		corpus+=("$out")
	done < <(find "$TR_CORPUS" -type f \( -name '*.pcap' -o -name '*.pcapng' \) -print0 | sort -z)
	[ ${#corpus[@]} -gt 0 ] || fail "no capture under TR_CORPUS=$TR_CORPUS"
	check "$S/info.schema.json" "${corpus[@]}" || fail "--info of the corpus does not match info.schema.json"
else
	note "TR_CORPUS not set: the corpus captures' --info is not checked"
fi

# --stats-json of replays to the sink, and the sink's JSON: the examples, their collectors moved to
# the sink's ports (UDP and TCP).
start_sink sink "$TR" sink --listen 127.0.0.1 --udp 0 --tcp 0
udp=$(ready_port "$WORK/sink.ready" udp); tcp=$(ready_port "$WORK/sink.ready" tcp)
stats=()
for name in ipfix nfv9 nfv5 udp-generic bmp bgp; do
	port=$udp; case $name in bmp | bgp) port=$tcp ;; esac
	sed -E "s|^pcap: examples/|pcap: $TR_SOURCE_DIR/examples/|; s|^( +port: )[0-9]+|\1$port|" \
		"$TR_SOURCE_DIR/examples/$name.yml" >"$WORK/$name.yml"
	"$TR" -t "$WORK/$name.yml" --no-sync --stats-json "$WORK/stats-$name.json" 2>"$WORK/replay-$name.err" ||
		{ cat "$WORK/replay-$name.err" >&2; fail "replay of examples/$name.yml"; }
	stats+=("$WORK/stats-$name.json")
done
check "$S/stats.schema.json" "${stats[@]}" || fail "--stats-json does not match stats.schema.json"
stop_sink
check "$S/sink.schema.json" "$WORK/sink.json" || fail "the sink's --json does not match sink.schema.json"
