# The two commands a newcomer runs are `make run` and `make test`; both install what is missing first.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE := build/release/waitroom
ASAN := build/asan/waitroom

.PHONY: bootstrap build build-asan run test unit-test http-test bench clean format

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

# Every test runs against the ASan/UBSan build: unit tests (ctest) and black-box suites (pytest).
test: build-asan
	@./scripts/run-tests

bench: build
	@./bench/run

format:
	@clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp')

clean:
	rm -rf build
