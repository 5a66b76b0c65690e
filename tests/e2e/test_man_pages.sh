#!/usr/bin/env bash
# The man pages cannot drift from the code: every config key (from the tables config.c walks) has its
# entry in traffic-reproducer.yml(5) and the page documents no key that does not exist; every flag and
# subcommand that -h and each subcommand's -h list is in traffic-reproducer(1); both pages build with scdoc.
. "$(dirname "$0")/../lib.sh"

yml5=$TR_SOURCE_DIR/man/traffic-reproducer.yml.5.scd
man1=$TR_SOURCE_DIR/man/traffic-reproducer.1.scd

# The keys the code takes: ipfix.select.ip.src, network.map[].src_ip, ...
"$TR" --list-config-keys >"$WORK/code-keys"
[ "$(wc -l <"$WORK/code-keys")" -gt 50 ] || fail "--list-config-keys lists too few keys"
sections=$(grep -E '^[a-z_]+\.select$' "$WORK/code-keys" | sed 's/\.select$//' | tr '\n' ' ')
[ -n "$sections" ] || fail "no protocol section in --list-config-keys"

# The page's entries: a line that starts with a bold key, "*key* (type; default ...)", followed
# by its tab-indented meaning; several keys on one line when they share it ("*ipfix.sequence*,
# *sflow.sequence* (...)").  SECTION stands for every protocol section.
awk '/^\t/ && prev ~ /^\*[a-zA-Z_]/ { print prev } { prev = $0 }' "$yml5" | sed -E 's/ \(.*//' | tr ',' '\n' |
	sed -E 's/^ *\*//; s/\*$//; s/\\//g' | grep -v '^$' | sort -u >"$WORK/page-keys"
[ -s "$WORK/page-keys" ] || fail "no key entries found in $yml5"

documented() {		# key: whether the page has it, as itself or as SECTION.rest
	local key=$1 first=${1%%.*} rest
	grep -qxF -- "$key" "$WORK/page-keys" && return 0
	case " $sections " in *" $first "*) ;; *) return 1 ;; esac
	[ "$key" != "$first" ] || return 1
	rest=${key#*.}
	grep -qxF -- "SECTION.$rest" "$WORK/page-keys"
}
missing=0
while read -r key; do
	documented "$key" || { echo "yml(5) has no entry for the config key '$key'" >&2; missing=1; }
done <"$WORK/code-keys"

# And back: every entry names a key of the code (SECTION: of at least one section).
while read -r key; do
	if [[ $key == SECTION.* ]]; then
		found=0
		for s in $sections; do grep -qxF -- "$s.${key#SECTION.}" "$WORK/code-keys" && found=1; done
		[ $found -eq 1 ] || { echo "yml(5) documents '$key', which no section takes" >&2; missing=1; }
	else
		grep -qxF -- "$key" "$WORK/code-keys" ||
			{ echo "yml(5) documents '$key', which is no config key" >&2; missing=1; }
	fi
done <"$WORK/page-keys"
[ $missing -eq 0 ] || fail "traffic-reproducer.yml(5) and config.c's key tables differ (above)"
note "yml(5): $(wc -l <"$WORK/code-keys") config keys, $(wc -l <"$WORK/page-keys") entries, in step"

# traffic-reproducer(1): every long and short flag of -h, and of each subcommand -h names.
# The flags of a help text's option lines ("  -t, --cfg FILE   ...", "      --no-sync  ..."), not
# the ones its prose mentions.
flags_of() { sed -nE 's/^ +((-[a-zA-Z], )?--?[a-zA-Z][a-zA-Z-]*).*/\1/p' | tr ',' '\n' | tr -d ' ' | sort -u; }
# An entry, not a mention in a synopsis: a line of bold flags followed by its tab-indented meaning.
awk '/^\t/ && prev ~ /^\*-/ { print prev } { prev = $0 }' "$man1" >"$WORK/man1-entries"
check_flags() {		# what, then the help text on stdin
	local what=$1 flag
	for flag in $(flags_of); do
		grep -qE -- "\*$flag\*" "$WORK/man1-entries" ||
			{ echo "traffic-reproducer(1) does not document $what $flag" >&2; missing=1; }
	done
}
check_flags "the option" < <("$TR" -h)
for sub in $("$TR" -h | grep -oE 'traffic-reproducer [a-z]+ ' | awk '{print $2}' | sort -u); do
	grep -qE "^## $sub\$" "$man1" || { echo "traffic-reproducer(1) has no section for '$sub'" >&2; missing=1; }
	check_flags "$sub's option" < <("$TR" "$sub" -h)
done
[ $missing -eq 0 ] || fail "traffic-reproducer(1) misses what -h lists (above)"

# Both pages build, and man reads them without complaint.
command -v scdoc >/dev/null || skip "scdoc not installed (apt-get install scdoc): the keys are in step, the pages were not built"
for page in "$man1" "$yml5"; do
	scdoc <"$page" >"$WORK/page" || fail "scdoc: $page"
	if command -v man >/dev/null; then
		MANWIDTH=80 man -l "$WORK/page" >"$WORK/page.txt" 2>"$WORK/page.err" || fail "man -l $page"
		[ ! -s "$WORK/page.err" ] || { cat "$WORK/page.err" >&2; fail "man warns about $page"; }
	fi
done
note "traffic-reproducer(1): every flag and subcommand of -h documented"

# The defaults yml(5) states are the ones -n fills in: a config with only what is required, every
# section and pcap_processing given, printed normalized; each entry whose default is a plain value
# (a number, true, false, null or a word: not "as captured" nor one that depends on other keys)
# must be what -n prints for its key (SECTION: for every section).
: >"$WORK/x.pcap"
{
	echo "pcap: $WORK/x.pcap"
	port=1
	for s in $sections; do echo "$s: {collector: {ip: localhost, port: $port}}"; port=$((port + 1)); done
	echo "pcap_processing: {}"
} >"$WORK/min.yml"
"$TR" -n -t "$WORK/min.yml" >"$WORK/min-n.yml" || fail "-n of a minimal config"
python3 - "$yml5" "$WORK/min-n.yml" $sections <<'PY' || fail "yml(5) states defaults that -n does not print (above)"
import re, sys, yaml
page, printed, sections = sys.argv[1], yaml.safe_load(open(sys.argv[2])), sys.argv[3:]
lines = open(page).read().split("\n")
bad = checked = 0
for line, nxt in zip(lines, lines[1:]):
    if not (line.startswith("*") and nxt.startswith("\t")) or "default: " not in line:
        continue
    keys = [k.strip(" *") for k in line.split(" (")[0].split(",")]
    text = line.split("default: ", 1)[1].rstrip(")")
    if " when " in text or " of " in text:
        continue                     # depends on other keys: said in words
    m = re.fullmatch(r"\*?([A-Za-z0-9_.-]+)\*?(, .*)?", text)
    if not m:
        continue                     # "as captured", "the first pcap's path ...": not a plain value
    want = yaml.safe_load(m.group(1))
    for key in keys:
        for path in ([key.replace("SECTION", s, 1) for s in sections] if key.startswith("SECTION.") else [key]):
            node = printed
            for part in path.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is None and want is not None:
                continue             # -n does not print it (a key of another section's protocol)
            checked += 1
            if node != want:
                print(f"yml(5) says {path} defaults to {want!r}; -n prints {node!r}", file=sys.stderr)
                bad += 1
print(f"--- yml(5): {checked} stated defaults are what -n prints")
sys.exit(1 if bad else 0)
PY
