#!/usr/bin/env bash
# Interop tier: the older tool's example configs, with what users add to theirs (a
# description: note, a network.map entry copied twice), still pass -n: one warning for
# each, naming its place, and the same normalized config as the untouched file.
# --strict refuses the first of them.
. "$(dirname "$0")/../lib.sh"

[ -n "${TR_CORPUS:-}" ] || skip "TR_CORPUS is not set: the interop tier needs the corpus of real captures"
ANCHOR=$TR_CORPUS/anchor
[ -d "$ANCHOR/examples" ] || fail "TR_CORPUS=$TR_CORPUS has no anchor/examples"

# annotate IN OUT: IN with a description at the top and its first map entry written again
# right after it (same repro_ip).  Prints "LINE COL SRC_IP FIRST_LINE FIRST_COL": where the
# copy's src_ip value is in OUT, and where the first one's is.
annotate() {
	python3 - "$1" "$2" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
out = ["description: %s with a map entry given twice" % sys.argv[1].rsplit("/", 1)[-1]]
for i, line in enumerate(lines):
    m = re.match(r"^(\s*)- src_ip:(\s*)(\S+)", line)
    if m:
        break
else:
    sys.exit("no '- src_ip:' entry in " + sys.argv[1])
repro = lines[i + 1]
assert re.match(r"^\s+repro_ip:\s*\S+", repro), repro
col = len(m.group(1)) + len("- src_ip:") + len(m.group(2)) + 1
out += lines[:i + 2] + [line, repro] + lines[i + 2:]
open(sys.argv[2], "w").write("\n".join(out))
# Line numbers in OUT: the description shifted everything by one.
print(i + 4, col, m.group(3), i + 2, col)
PY
}

n=0
for cfg in "$ANCHOR"/examples/*.yml; do
	name=$(basename "$cfg" .yml)
	read -r line col src first_line first_col < <(annotate "$cfg" "$WORK/$name.yml")
	# From inside anchor/, as with the older tool: its capture paths are relative to it.
	# bgp-multi-sources-repeat.yml names a capture that is not there (corpus README):
	# -n does not open captures, so it passes like the others (the replay says which).
	rc=0
	(cd "$ANCHOR" && "$TR" -t "$WORK/$name.yml" -n) >"$WORK/$name.norm" 2>"$WORK/$name.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$WORK/$name.err" >&2; fail "$name: -n exited $rc"; }
	(cd "$ANCHOR" && "$TR" -t "$cfg" -n) >"$WORK/$name.orig.norm" 2>"$WORK/$name.orig.err" ||
		fail "$name: the untouched config does not pass -n"
	[ ! -s "$WORK/$name.orig.err" ] || { cat "$WORK/$name.orig.err" >&2; fail "$name: the untouched config warns"; }
	diff -u "$WORK/$name.orig.norm" "$WORK/$name.norm" >&2 ||
		fail "$name: the description or the copied entry changed the normalized config"

	[ "$(grep -c 'warning:' "$WORK/$name.err")" -eq 2 ] ||
		{ cat "$WORK/$name.err" >&2; fail "$name: not exactly two warnings"; }
	grep -qF "$WORK/$name.yml:1:1: description: unknown key 'description': ignored" "$WORK/$name.err" ||
		{ cat "$WORK/$name.err" >&2; fail "$name: no warning for description at 1:1"; }
	grep -qF "$WORK/$name.yml:$line:$col: network.map[1].src_ip: $src is mapped already at line $first_line, column $first_col (give each src_ip once): the last one wins" "$WORK/$name.err" ||
		{ cat "$WORK/$name.err" >&2; fail "$name: no warning for $src at $line:$col naming $first_line:$first_col"; }

	rc=0
	(cd "$ANCHOR" && "$TR" -t "$WORK/$name.yml" -n --strict) >/dev/null 2>"$WORK/$name.strict.err" || rc=$?
	[ $rc -eq 2 ] && grep -qF "$WORK/$name.yml:1:1: description: unknown key 'description': refused by --strict" "$WORK/$name.strict.err" ||
		{ cat "$WORK/$name.strict.err" >&2; fail "$name: --strict did not refuse the description (exit $rc)"; }
	note "$name: two warnings (description, $src twice), same normalized config; --strict refuses"
	n=$((n + 1))
done
[ $n -gt 0 ] || fail "no config in $ANCHOR/examples"
echo PASS
