#!/usr/bin/env bash
# -p against hostile paths and events (issue 10): an output folder that holds the input under
# an output's name (directly or through a symbolic link) or the config itself: refused, input
# unchanged; SIGTERM, SIGINT and SIGHUP while reading: the folder exactly as before (the
# previous outputs byte-identical, no temporaries), 143/130/143 (SIGHUP as SIGTERM); two runs into one folder: the
# second refused at once, the first completes; an output folder path too long for its files
# (refused before anything is made), a file, not writable: exit 2, each with its message;
# a missing one is made.  Every case: exit code, message, peak RSS.
# CASES="sigterm long" runs only those cases.
. "$(dirname "$0")/../lib.sh"

RSS_MB=64	# -p streams: far under the 115 MB capture of the signal cases

# cfg FILE FOLDER PCAP: a raw IPFIX config writing into FOLDER.
cfg() {
	printf 'pcap: %s\npcap_processing:\n  output_folder: %s\nipfix:\n  select: {udp: {dport: [4739]}}\n' \
		"$3" "$2" >"$1"
}
# The state of a folder: every name (dot files too) with its checksum.
state() { (cd "$1" && find . -maxdepth 1 -type f -printf '%P\n' | LC_ALL=C sort | xargs -r sha256sum); }

# signal_mid_run SIG FOLDER CFG: -p with CFG, SIG once it has written 1 MiB into FOLDER (so
# it is reading, whatever names it writes under); its exit code.
signal_mid_run() {
	local pid
	"$TR" -p -t "$3" &
	pid=$!
	for _ in $(seq 1 1000); do
		find "$2" -maxdepth 1 -type f -size +1M | grep -q . && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill -"$1" "$pid"
	wait "$pid"
}
export -f signal_mid_run
export TR

"$GEN" --proto ipfix --count 200 --exporter 192.0.2.1 --out "$WORK/small.pcap"

case_same_folder() {
	# The input is traffic.pcap in the output folder: refused before anything is written.
	mkdir "$WORK/same"
	cp "$WORK/small.pcap" "$WORK/same/traffic.pcap"
	before=$(state "$WORK/same")
	cfg "$WORK/same.yml" "$WORK/same" "$WORK/same/traffic.pcap"
	hostile same-folder 2 "output .*/same/traffic.pcap is the capture .*/same/traffic.pcap \(the same file\)" \
		$RSS_MB "$TR" -p -t "$WORK/same.yml"
	[ "$(state "$WORK/same")" = "$before" ] || fail "same-folder: the folder changed"
	# The same file under another name: the folder through a symbolic link.
	ln -s same "$WORK/alias"
	cfg "$WORK/alias.yml" "$WORK/alias" "$WORK/same/traffic.pcap"
	hostile same-folder-alias 2 "output .*/alias/traffic.pcap is the capture .*/same/traffic.pcap" \
		$RSS_MB "$TR" -p -t "$WORK/alias.yml"
	[ "$(state "$WORK/same")" = "$before" ] || fail "same-folder-alias: the folder changed"
}

case_config_output() {
	# The config is traffic-reproducer.yml in its own output folder.
	mkdir "$WORK/cfgout"
	cfg "$WORK/cfgout/traffic-reproducer.yml" "$WORK/cfgout" "$WORK/small.pcap"
	before=$(state "$WORK/cfgout")
	hostile config-output 2 "output .*/cfgout/traffic-reproducer.yml is the config .*/cfgout/traffic-reproducer.yml" \
		$RSS_MB "$TR" -p -t "$WORK/cfgout/traffic-reproducer.yml"
	[ "$(state "$WORK/cfgout")" = "$before" ] || fail "config-output: the folder changed"
}

big() {
	[ -e "$WORK/big.pcap" ] || "$GEN" --proto ipfix --count 1000000 --records 1 \
		--exporter 192.0.2.1 --exporter 192.0.2.2 --out "$WORK/big.pcap"
}

case_signals() {
	# A previous run's outputs, then a run on a big capture stopped while reading: the folder
	# holds exactly what it held, byte for byte, and no temporary.
	big
	cfg "$WORK/sig-prev.yml" "$WORK/sig" "$WORK/small.pcap"
	"$TR" -p -t "$WORK/sig-prev.yml" 2>/dev/null || fail "signals: the previous run failed"
	before=$(state "$WORK/sig")
	[ "$(echo "$before" | wc -l)" -eq 3 ] || fail "signals: the previous run wrote: $before"
	cfg "$WORK/sig.yml" "$WORK/sig" "$WORK/big.pcap"
	for s in TERM:143 INT:130 HUP:143; do
		hostile "sig${s%:*}" "${s#*:}" "stopped by a signal: the output folder .*/sig is as it was" $RSS_MB \
			bash -c 'signal_mid_run "$@"' _ "${s%:*}" "$WORK/sig" "$WORK/sig.yml"
		[ "$(state "$WORK/sig")" = "$before" ] ||
			fail "SIG${s%:*}: the folder is not as it was: $(ls -lA "$WORK/sig")"
	done
}

case_concurrent() {
	# One run into a folder holds it: a second one fails at once; the first completes.
	big
	mkdir "$WORK/conc"
	cfg "$WORK/conc-a.yml" "$WORK/conc" "$WORK/big.pcap"
	cfg "$WORK/conc-b.yml" "$WORK/conc" "$WORK/small.pcap"
	"$TR" -p -t "$WORK/conc-a.yml" 2>"$WORK/conc-a.err" &
	apid=$!
	for _ in $(seq 1 1000); do
		find "$WORK/conc" -maxdepth 1 -type f -size +1M | grep -q . && break
		sleep 0.01
	done
	hostile concurrent 2 "another -p run is writing into .*/conc" $RSS_MB "$TR" -p -t "$WORK/conc-b.yml"
	rc=0; wait "$apid" || rc=$?
	[ $rc -eq 0 ] || { cat "$WORK/conc-a.err" >&2; fail "concurrent: the first run exited with $rc"; }
	[ "$(ls -A "$WORK/conc" | LC_ALL=C sort | tr '\n' ' ')" = "traffic-info.json traffic-reproducer.yml traffic.pcap " ] ||
		fail "concurrent: the folder holds $(ls -A "$WORK/conc")"
	[ "$(json_get "$WORK/conc/traffic-info.json" "d['pcap_processing']['sections']['ipfix']['messages_kept'] == d['pcap_processing']['packets_read'] > 1000000")" = True ] ||
		fail "concurrent: the first run lost messages"
}

case_long() {
	# FOLDER/traffic.pcap would be cut to FOLDER/traffic.pc by a 4096-byte buffer; and a
	# folder past PATH_MAX.  Nothing is made.
	for len in 4084 5000; do
		dir=$WORK/long
		while [ ${#dir} -lt "$len" ]; do
			# Components of up to 200 bytes; never one left of a single byte (the slash).
			rest=$((len - ${#dir} - 1))
			k=$((rest > 200 ? 200 : rest))
			[ $((rest - k)) -ne 1 ] || k=$((k - 1))
			dir=$dir/$(printf '%*s' $k '' | tr ' ' d)
		done
		[ ${#dir} -eq "$len" ] || fail "long: made a $len-byte path of ${#dir}"
		cfg "$WORK/long.yml" "$dir" "$WORK/small.pcap"
		hostile "long-$len" 2 "output folder .*: its path is too long: .* over the limit of 4095" $RSS_MB \
			"$TR" -p -t "$WORK/long.yml"
		[ ! -e "$WORK/long" ] || fail "long-$len: the folder was made"
	done
}

case_bad_folder() {
	# A file, a folder this user cannot write into: exit 2, named; nothing left in it.
	: >"$WORK/afile"
	cfg "$WORK/file.yml" "$WORK/afile" "$WORK/small.pcap"
	hostile folder-is-file 2 "output folder .*/afile: not a folder" $RSS_MB "$TR" -p -t "$WORK/file.yml"
	[ ! -s "$WORK/afile" ] || fail "folder-is-file: the file was written"
	# Root writes anywhere: as root, the run is nobody's.
	as=()
	if [ "$(id -u)" -eq 0 ]; then
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		chmod 755 "$WORK"
		"${as[@]}" test -x "$TR" || { note "not-writable: skipped, nobody cannot run $TR"; return 0; }
	fi
	mkdir -m 555 "$WORK/ro"
	cfg "$WORK/ro.yml" "$WORK/ro" "$WORK/small.pcap"
	hostile not-writable 2 "output folder .*/ro: cannot create a file in it: Permission denied" $RSS_MB \
		"${as[@]}" "$TR" -p -t "$WORK/ro.yml"
	[ -z "$(ls -A "$WORK/ro")" ] || fail "not-writable: $(ls -A "$WORK/ro")"
}

case_missing_folder() {
	# A missing folder is made, parents too (as documented).
	cfg "$WORK/missing.yml" "$WORK/missing/a/b" "$WORK/small.pcap"
	hostile missing-folder 0 "" $RSS_MB "$TR" -p -t "$WORK/missing.yml"
	[ -s "$WORK/missing/a/b/traffic.pcap" ] && [ -s "$WORK/missing/a/b/traffic-info.json" ] ||
		fail "missing-folder: no outputs"
}

for c in ${CASES:-same_folder config_output signals concurrent long bad_folder missing_folder}; do
	"case_$c"
done
