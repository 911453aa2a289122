# handoff — build, dependency check, tests, sanitizer builds.
#
#   make              build ./handoff (optimised, warnings are errors)
#   make test         build and run the test suite (last line: N passed, N failed)
#   make tsan         the test suite under ThreadSanitizer
#   make asan         the test suite under AddressSanitizer + UBSan
#   make bench        the standalone ping-pong of each mechanism (bench/)
#   make stress       10^6 calls per backend x target x main design, in bursts and
#                     idle gaps, each checked delivered once (STRESS_ARGS=--quick)
#   make fuzz         libFuzzer (clang, ASan + UBSan) on every parser, FUZZ_SECONDS each
#   make clean

CXX      ?= g++
CXXSTD   := -std=c++20
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Werror
CPPFLAGS := -I. -Iinclude -Isrc -MMD -MP
LDLIBS   := -luring -luv -lfmt -pthread
GTEST    := -lgtest

# Variant flags: one build tree each, so switching never mixes objects.
FLAGS_release := -O2 -g
FLAGS_tsan    := -O1 -g -fsanitize=thread
FLAGS_asan    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

LIB_SRCS  := $(wildcard src/*/*.cpp) $(wildcard backends/*.cpp)
TEST_SRCS := $(wildcard tests/*.cpp)
# The stress core: in the stress binary and, run small, in the test suite.
STRESS_SRCS := $(filter-out stress/main.cpp,$(wildcard stress/*.cpp))

objs = $(patsubst %.cpp,build/$(1)/%.o,$(2))

.PHONY: all deps test tsan asan stress fuzz clean FORCE
all: handoff

# Checks (and as root installs) the Debian packages; fast when all are there.
deps:
	@tools/ensure-deps

build/%.o: | deps
# The commit and flags a build reports in every result's context. Rewritten
# only when they change, so an unchanged tree does not rebuild.
GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo +dirty)

define variant
build/$(1)/%.o: %.cpp | deps
	@mkdir -p $$(@D)
	$$(CXX) $$(CXXSTD) $$(FLAGS_$(1)) $$(WARN) $$(CPPFLAGS) -Ibuild/$(1) -c $$< -o $$@

build/$(1)/src/measurement/context.o: build/$(1)/build_info.hpp
build/$(1)/build_info.hpp: FORCE
	@mkdir -p $$(@D)
	@printf '#define HANDOFF_GIT_COMMIT "%s"\n#define HANDOFF_BUILD_FLAGS "%s"\n' \
		'$$(GIT_COMMIT)' '$$(CXXSTD) $$(FLAGS_$(1))' > $$@.tmp
	@cmp -s $$@.tmp $$@ && rm $$@.tmp || mv $$@.tmp $$@

build/$(1)/handoff: $(call objs,$(1),$(LIB_SRCS) src/main.cpp)
	$$(CXX) $$(FLAGS_$(1)) $$^ -o $$@ $$(LDLIBS)

build/$(1)/handoff_tests: $(call objs,$(1),$(LIB_SRCS) $(TEST_SRCS) $(STRESS_SRCS))
	$$(CXX) $$(FLAGS_$(1)) $$^ -o $$@ $$(GTEST) $$(LDLIBS)

build/$(1)/handoff_stress: $(call objs,$(1),$(LIB_SRCS) $(STRESS_SRCS) stress/main.cpp)
	$$(CXX) $$(FLAGS_$(1)) $$^ -o $$@ $$(LDLIBS)

-include $$(wildcard build/$(1)/*/*.d build/$(1)/*/*/*.d)
endef
$(foreach v,release tsan asan,$(eval $(call variant,$(v))))

handoff: build/release/handoff
	cp $< $@

# The suite runs the real binary too (command-line tests): HANDOFF_BIN names it.
test: build/release/handoff_tests build/release/handoff
	HANDOFF_BIN=build/release/handoff build/release/handoff_tests

# TSan's runtime in gcc 12 cannot map its shadow under the large ASLR of newer
# kernels ("unexpected memory mapping"); setarch -R runs the suite without ASLR.
tsan: build/tsan/handoff_tests build/tsan/handoff
	HANDOFF_BIN=build/tsan/handoff TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
		setarch $$(uname -m) -R build/tsan/handoff_tests

asan: build/asan/handoff_tests build/asan/handoff
	HANDOFF_BIN=build/asan/handoff ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" \
		build/asan/handoff_tests

# Not part of `make test` (tests/test_stress.cpp runs the same core small).
# STRESS_ARGS: --quick (10^5 calls), --calls N, --backend NAME, --seed N.
STRESS_ARGS ?=
stress: build/release/handoff_stress
	build/release/handoff_stress $(STRESS_ARGS)

# Fuzzing: every fuzz/NAME.cpp is a libFuzzer target (LLVMFuzzerTestOneInput)
# built with Debian's clang under ASan + UBSan and linked against the lab's
# sources built the same way. The lab's objects go into an archive, so a
# target links only the parsers it calls; a new fuzz/*.cpp needs no change here.
# FUZZ_SECONDS: how long each target runs (default 60).
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FLAGS_fuzz   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(patsubst fuzz/%.cpp,%,$(wildcard fuzz/*.cpp))
FUZZ_LIB_SRCS := $(wildcard src/*/*.cpp)
# The g++ builds enforce -Wshadow; clang's is stricter (a lambda parameter
# named like a field, in a static member function) and would stop fuzzing
# over code g++ accepts.
FUZZ_WARN    := $(WARN) -Wno-shadow

.PHONY: fuzz-deps
fuzz-deps:
	@tools/ensure-deps clang libclang-rt-14-dev

build/fuzz/%.o: %.cpp | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(CXXSTD) $(FLAGS_fuzz) -fsanitize=fuzzer-no-link $(FUZZ_WARN) $(CPPFLAGS) -c $< -o $@

build/fuzz/libhandoff.a: $(call objs,fuzz,$(FUZZ_LIB_SRCS))
	rm -f $@
	ar rcs $@ $^

build/fuzz/bin/%: build/fuzz/fuzz/%.o build/fuzz/libhandoff.a
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FLAGS_fuzz) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

fuzz: $(FUZZ_TARGETS:%=build/fuzz/bin/%)
	tools/run-fuzz $(FUZZ_SECONDS) build/fuzz/bin $(FUZZ_TARGETS)

-include $(wildcard build/fuzz/*/*.d build/fuzz/*/*/*.d)

include bench/bench.mk

clean:
	rm -rf build handoff
