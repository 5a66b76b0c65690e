# Convenience front end: `make demo` and `make test` are the README's two set-up commands.
# Each installs what it needs with apt-get when it is missing, then builds with CMake.

BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= 2

# Build dependencies, and the real collectors and tools the tests run against.
BUILD_DEPS = cmake gcc make pkg-config libpcap-dev libyaml-dev libjansson-dev libcmocka-dev
TEST_DEPS  = pmacct nfdump gobgpd tshark tcpdump iproute2 python3 procps

.PHONY: all build deps test-deps demo test test-asan bench check clean

all: build

deps:
	@./scripts/apt-ensure $(BUILD_DEPS)

test-deps: deps
	@./scripts/apt-ensure $(TEST_DEPS)

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)

test: build test-deps
	ctest --test-dir $(BUILD) --output-on-failure -j 1

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps test-deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DTR_SANITIZE=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(BUILD_ASAN) --output-on-failure -j 1

bench: build
	./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
