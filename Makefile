# The two commands a newcomer runs are `make run` and `make test`; both install what is missing first.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE := build/release/waitroom
ASAN := build/asan/waitroom

.PHONY: bootstrap build build-asan run test unit-test http-test bench clean format install deb fuzz soak

bootstrap:
	@./scripts/bootstrap

build: bootstrap
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

build-asan: bootstrap
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

# Starts Waitroom on http://127.0.0.1:8080 with the embedded store and the demo room.
run: build
	@./scripts/run-demo

# Every test runs against the ASan/UBSan build: unit tests (GoogleTest), black-box suites (pytest) and
# the browser suite, at the same time (scripts/run-tests); the build's time is printed with each
# suite's at the end.
test:
	@start=$$(date +%s); $(MAKE) --no-print-directory build-asan && \
		WAITROOM_BUILD_SECONDS=$$(($$(date +%s) - start)) ./scripts/run-tests

# kill -9 twenty times under mixed load, and twenty times with a webhook receiver (make test runs
# 5 and 3 rounds of the same tests).
soak: build-asan build
	@WAITROOM_BIN=build/asan/waitroom ASAN_OPTIONS=detect_leaks=0 WAITROOM_KILL_ROUNDS=20 \
		WAITROOM_WEBHOOK_KILL_ROUNDS=20 /usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
		tests/http/test_kill9_mixed.py tests/http/test_kill9_webhooks.py tests/http/test_compaction.py
	@WAITROOM_BIN=build/release/waitroom WAITROOM_SOAK_CYCLES=10 WAITROOM_SOAK_VISITORS=200000 \
		/usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
		tests/http/test_sale_cycles.py tests/redis/test_sale_cycles_redis.py

bench: build
	@./bench/run

# Installs the release build under $(PREFIX) (DESTDIR for staging): the binary, waitroom(1), the
# systemd unit, the config in /etc/waitroom (kept if present), the waitroom_verify library.
PREFIX ?= /usr/local
install: build
	@DESTDIR=$(DESTDIR) cmake --install build/release --prefix $(PREFIX)

# build/waitroom_<version>_<arch>.deb from the release build (packaging/debian/).
deb: build
	@./packaging/debian/build-deb build/release build

# Builds the libFuzzer targets with clang (preset fuzz) and runs each for FUZZ_SECONDS (default 60).
FUZZ_SECONDS ?= 60
fuzz:
	@./scripts/bootstrap fuzz
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/run-fuzz

format:
	@clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp')

clean:
	rm -rf build
