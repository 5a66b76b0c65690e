# Shared by the benchmark scripts (sourced): the binaries under test and small helpers.

# bench_binaries SCRIPT BUILD_DIR: sets BUILD (absolute), TR and GEN, or exits 2 naming SCRIPT.
bench_binaries() {
	if [[ ! -x $2/traffic-reproducer || ! -x $2/tr-pcapgen ]]; then
		echo "$1: $2/traffic-reproducer or $2/tr-pcapgen missing; build first (make build)" >&2
		exit 2
	fi
	BUILD=$(cd "$2" && pwd)
	TR=$BUILD/traffic-reproducer
	GEN=$BUILD/tr-pcapgen
}

# median of the numbers given as arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
calc() { python3 -c "print($1)"; }
# json_get FILE '[key]...': one value of a JSON file
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval('d'+sys.argv[2]))" "$@"; }
