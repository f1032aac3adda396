# The two commands a new user needs, plus the benchmarks. Each installs what
# it needs first, so it works on a fresh Debian 12 machine.
PRESET ?= release
BUILD := build/$(PRESET)
JOBS ?= $(shell nproc)

.PHONY: deps build demo test bench debug clean

deps:
	@scripts/install-deps

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)/apps/upfront/upfront

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	@scripts/bench $(BUILD)

debug:
	@$(MAKE) --no-print-directory test PRESET=debug

clean:
	rm -rf build
