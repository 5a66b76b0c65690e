# Convenience front end: `make demo` and `make test` are the README's two set-up commands.
# Each installs what it needs with apt-get when it is missing, then builds with CMake.

BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= 2

# Build dependencies, and the real collectors and tools the tests run against.
BUILD_DEPS = cmake gcc make pkg-config libpcap-dev libyaml-dev libjansson-dev libssl-dev libcmocka-dev
TEST_DEPS  = pmacct nfdump nfdump-sflow gobgpd tshark tcpdump iproute2 python3 procps time

FUZZ_DEPS  = clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz
# One harness per parser: fuzz/fuzz_NAME.c drives src/NAME.c (protocols: ipfix, bmp, bgp; flowfix: with ipfix;
# info: the summary over every stage below it; sflow: its parser and fidelity rewrites; anon: the payload rewriters;
# sflow_anon: the sFlow payload rewriter; gen_spec: generate's spec parser, its oracle and a few messages of
# a spec that loads), linked with
# every module built once with the fuzzer's instrumentation (the protocol table ties them together).
FUZZERS = source config protocols stream flowfix info sflow anon sflow_anon bgp_anon bmp_anon anon_tcp anon_frag gen_spec

# Fault injection (-DTR_FAULT=ON): the unit tests and the byte-exact replays run while the
# transport's socket calls fail with EAGAIN and EINTR or fall short, on a seeded schedule
# (src/fault.h).  Every seed of FAULT_SEEDS is one run; each must inject faults and lose nothing.
BUILD_FAULT ?= build-fault
FAULT_SEEDS ?= 1 2
FAULT_RATE  ?= 25
FAULT_TESTS ?= ^unit/|e2e/test_replay_tcp|e2e/test_replay_udp|e2e/test_many_sessions|e2e/test_pmbmpd|e2e/test_reconnect

.PHONY: all build build-matrix deps test-deps demo test test-asan test-fault bench fuzz fuzz-smoke check clean
.PHONY: install uninstall deb deb-check

all: build

deps:
	@./scripts/apt-ensure $(BUILD_DEPS)

test-deps: deps
	@./scripts/apt-ensure $(TEST_DEPS)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# What packagers do: every build type with gcc and with clang, warnings as errors
# (gcc -O2 and clang warn about different things).  Each in build-matrix/CC-TYPE.
BUILD_TYPES ?= Debug RelWithDebInfo Release
build-matrix:
	@./scripts/apt-ensure $(BUILD_DEPS) clang
	@for cc in gcc clang; do for type in $(BUILD_TYPES); do \
		echo "build-matrix: $$cc $$type"; \
		CC=$$cc cmake -S . -B build-matrix/$$cc-$$type -DCMAKE_BUILD_TYPE=$$type >/dev/null && \
		cmake --build build-matrix/$$cc-$$type -j $(JOBS) >build-matrix/$$cc-$$type.log 2>&1 || \
			{ grep -E -B2 -A6 'error|warning' build-matrix/$$cc-$$type.log | head -60; \
			  echo "build-matrix: $$cc $$type FAILED (log: build-matrix/$$cc-$$type.log)"; exit 1; }; \
	done; done

demo: build
	./scripts/demo.sh $(BUILD)

test: build test-deps
	ctest --test-dir $(BUILD) --output-on-failure -j 1

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps test-deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DTR_SANITIZE=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(BUILD_ASAN) --output-on-failure -j 1

test-fault: deps test-deps
	cmake -S . -B $(BUILD_FAULT) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTR_FAULT=ON >/dev/null
	cmake --build $(BUILD_FAULT) -j $(JOBS)
	@for seed in $(FAULT_SEEDS); do \
		echo "test-fault: seed $$seed, $(FAULT_RATE) % of socket calls"; \
		rm -f $(BUILD_FAULT)/faults.log; \
		TR_FAULT_SEED=$$seed TR_FAULT_RATE=$(FAULT_RATE) TR_FAULT_LOG=$(CURDIR)/$(BUILD_FAULT)/faults.log \
			ctest --test-dir $(BUILD_FAULT) -R '$(FAULT_TESTS)' --output-on-failure -j 1 || exit 1; \
		[ -s $(BUILD_FAULT)/faults.log ] || { echo "test-fault: no fault was injected"; exit 1; }; \
		awk '{ n += $$2 } END { print "test-fault: " n " faults injected in " NR " processes" }' \
			$(BUILD_FAULT)/faults.log; \
	done

bench: build
	./bench/run.sh $(BUILD)

# libFuzzer with ASan+UBSan: every harness for FUZZ_SECONDS; a crash stops with
# the reproducer saved in $(FUZZ_BUILD)/ (rerun: $(FUZZ_BUILD)/fuzz_NAME FILE).
fuzz:
	@./scripts/apt-ensure $(BUILD_DEPS) $(FUZZ_DEPS)
	@mkdir -p $(FUZZ_BUILD)
	@rm -f $(FUZZ_BUILD)/libtr.a $(FUZZ_BUILD)/*.o
	@for c in $(filter-out src/main.c,$(wildcard src/*.c)); do \
		clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
			-fno-sanitize-recover=undefined -iquote src -c $$c \
			-o $(FUZZ_BUILD)/$$(basename $$c .c).o || exit 1; \
	done
	@ar rcs $(FUZZ_BUILD)/libtr.a $(FUZZ_BUILD)/*.o
	@for f in $(FUZZERS); do \
		clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=undefined -iquote src fuzz/fuzz_$$f.c $(FUZZ_BUILD)/libtr.a \
			-lpcap -lyaml -ljansson -lcrypto -lm -o $(FUZZ_BUILD)/fuzz_$$f || exit 1; \
	done
	@for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_BUILD)/corpus-$$f; \
		[ $$f != gen_spec ] || cp examples/generate/*.yml tests/gen/*.yml $(FUZZ_BUILD)/corpus-$$f/; \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		(cd $(FUZZ_BUILD) && ./fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
			-print_final_stats=1 corpus-$$f 2>fuzz_$$f.log) || \
			{ tail -40 $(FUZZ_BUILD)/fuzz_$$f.log; exit 1; }; \
		grep -h "stat::number_of_executed_units" $(FUZZ_BUILD)/fuzz_$$f.log; \
	done

# A short pass for CI: catches what a change breaks right away.
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FAULT) build-matrix

# ---- Installation and the Debian package ----
# make install PREFIX=/usr/local DESTDIR=: the binary, its man pages (scdoc), the examples and the
# bash completion, from a Release build of its own.  make uninstall removes what that install wrote
# (the paths of CMake's manifest, under the same DESTDIR: give it again).
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD_INSTALL ?= build-install
install: deps
	@./scripts/apt-ensure scdoc
	cmake -S . -B $(BUILD_INSTALL) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DTR_MAN=ON >/dev/null
	cmake --build $(BUILD_INSTALL) -j $(JOBS) --target traffic-reproducer man
	DESTDIR=$(DESTDIR) cmake --install $(BUILD_INSTALL)

uninstall:
	@[ -f $(BUILD_INSTALL)/install_manifest.txt ] || { echo "uninstall: no $(BUILD_INSTALL)/install_manifest.txt (make install first)"; exit 1; }
	@while IFS= read -r f || [ -n "$$f" ]; do [ ! -e "$(DESTDIR)$$f" ] || { rm -f "$(DESTDIR)$$f" && echo "removed $(DESTDIR)$$f"; }; \
		done <$(BUILD_INSTALL)/install_manifest.txt
	@for d in $$(sed -n 's|/examples/.*|/examples|p' $(BUILD_INSTALL)/install_manifest.txt | sort -u); do \
		d="$(DESTDIR)$$d"; \
		find "$$d" -depth -type d -empty -delete 2>/dev/null; rmdir "$$(dirname "$$d")" 2>/dev/null; true; done

# make deb: dpkg-buildpackage -us -uc -b in a clean clone of HEAD (what is committed), in a temporary
# folder; the .deb and lintian's report land in DEB_OUT.  make deb-check: that package unpacked with
# dpkg -x into a fresh folder, whose binary must print --version and validate (-n) every example
# config, run from the unpacked doc folder so that their pcap paths resolve there; apt-get -s (a
# simulation: nothing is installed) says whether its dependencies resolve here.
DEB_OUT  ?= build-deb
DEB_DEPS = debhelper scdoc lintian dpkg-dev fakeroot libcmocka-dev man-db
deb: deps
	@./scripts/apt-ensure $(DEB_DEPS)
	@rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)
	@tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/tr-deb.XXXXXX") && \
	git clone -q . "$$tmp/traffic-reproducer" && git -C "$$tmp/traffic-reproducer" checkout -q $$(git rev-parse HEAD) && \
	(cd "$$tmp/traffic-reproducer" && dpkg-buildpackage -us -uc -b) >$(DEB_OUT)/build.log 2>&1 || \
		{ tail -40 $(DEB_OUT)/build.log; rm -rf "$$tmp"; echo "deb: dpkg-buildpackage failed (log: $(DEB_OUT)/build.log)"; exit 1; }; \
	cp "$$tmp"/*.deb "$$tmp"/*.changes "$$tmp"/*.buildinfo $(DEB_OUT)/ && rm -rf "$$tmp"
	@lintian --info $(DEB_OUT)/*.changes >$(DEB_OUT)/lintian.txt 2>&1; \
	cat $(DEB_OUT)/lintian.txt; \
	! grep -q '^E: ' $(DEB_OUT)/lintian.txt || { echo "deb: lintian reports errors"; exit 1; }
	@ls $(DEB_OUT)/*.deb

deb-check: deb
	@root=$$(mktemp -d "$${TMPDIR:-/tmp}/tr-debx.XXXXXX") && trap 'rm -rf "$$root"' EXIT && \
	dpkg -x $(DEB_OUT)/traffic-reproducer_*.deb "$$root" && \
	"$$root/usr/bin/traffic-reproducer" --version && \
	v=$$(dpkg-deb -f $(DEB_OUT)/traffic-reproducer_*.deb Version) && \
	{ "$$root/usr/bin/traffic-reproducer" --version | head -1 | grep -q "^traffic-reproducer $${v%%-*} " || \
		{ echo "deb-check: the package is $$v, --version says otherwise (debian/changelog and CMakeLists.txt's VERSION)"; exit 1; }; } && \
	test -s "$$root/usr/share/man/man1/traffic-reproducer.1.gz" && \
	test -s "$$root/usr/share/man/man5/traffic-reproducer.yml.5.gz" && \
	test -s "$$root/usr/share/bash-completion/completions/traffic-reproducer" && \
	test -s "$$root/usr/share/traffic-reproducer/schemas/info.schema.json" && \
	for page in man1/traffic-reproducer.1.gz man5/traffic-reproducer.yml.5.gz; do \
		MANWIDTH=80 man -l "$$root/usr/share/man/$$page" >/dev/null || { echo "deb-check: man -l $$page"; exit 1; }; \
	done && \
	n=0 && for cfg in "$$root"/usr/share/doc/traffic-reproducer/examples/*.yml; do \
		(cd "$$root/usr/share/doc/traffic-reproducer" && \
		 "$$root/usr/bin/traffic-reproducer" -n -t "examples/$$(basename "$$cfg")" >/dev/null) || \
			{ echo "deb-check: $$cfg does not validate"; exit 1; }; n=$$((n + 1)); \
	done && [ $$n -gt 0 ] && \
	echo "deb-check: --version, man pages, completion, schemas and $$n example configs (-n) from the unpacked package" && \
	apt-get -s install ./$(DEB_OUT)/traffic-reproducer_*.deb | grep -q '^Inst traffic-reproducer ' && \
	echo "deb-check: apt-get -s install resolves its dependencies"
