#!/usr/bin/env bash
# The bash completion offers every flag that -h and each subcommand's -h list, the subcommands, and
# configs after -t, captures after --info.
. "$(dirname "$0")/../lib.sh"

BC=/usr/share/bash-completion/bash_completion
[ -r "$BC" ] || skip "bash-completion is not installed (apt-get install bash-completion)"

# complete WORD...: what the completion offers for the last word, one per line.
complete_words() {
	bash -c '
		source "$1" && source "$2" && shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
		_traffic_reproducer traffic-reproducer "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$BC" "$TR_SOURCE_DIR/completion/traffic-reproducer" "$@"
}
# The flags of a help text's option lines ("  -t, --cfg FILE   ...", "      --no-sync  ..."), not
# the ones its prose mentions.
flags_of() { sed -nE 's/^ +((-[a-zA-Z], )?--?[a-zA-Z][a-zA-Z-]*).*/\1/p' | tr ',' '\n' | tr -d ' ' | sort -u; }

missing=0
check() {		# what, completion words after the command...; the help text on stdin
	local what=$1 flag; shift
	complete_words traffic-reproducer "$@" - >"$WORK/offered"
	for flag in $(flags_of); do
		grep -qxF -- "$flag" "$WORK/offered" || { echo "completion lacks $what $flag" >&2; missing=1; }
	done
}
check "the option" < <("$TR" -h)
subs=$("$TR" -h | grep -oE 'traffic-reproducer [a-z]+ ' | awk '{print $2}' | sort -u)
complete_words traffic-reproducer "" >"$WORK/subs"
for sub in $subs; do
	grep -qxF "$sub" "$WORK/subs" || { echo "completion lacks the subcommand $sub" >&2; missing=1; }
	check "$sub's option" "$sub" < <("$TR" "$sub" -h)
done
[ $missing -eq 0 ] || fail "the completion misses what -h lists (above)"

# Files: configs after -t, captures after --info.
mkdir -p "$WORK/d" && touch "$WORK/d/a.yml" "$WORK/d/b.pcap" "$WORK/d/c.txt"
cd "$WORK/d"
[ "$(complete_words traffic-reproducer -t "")" = "a.yml" ] || fail "-t does not complete to the config"
[ "$(complete_words traffic-reproducer --info "")" = "b.pcap" ] || fail "--info does not complete to the capture"
[ "$(complete_words traffic-reproducer anonymize --preserve private,lo)" = "private,loopback" ] ||
	fail "--preserve does not complete the list's last item"
note "completion: every flag of -h and of $(echo $subs | wc -w) subcommands, configs, captures"
