# The standalone ping-pong the lab's designs are compared with (bench/README.rst).
# Included from the Makefile:
#
#   make bench    build build/bench/pingpong and run every mechanism at split,
#                 then at same placement, each with both loop sides: mirror
#                 (A waits as B does) and epoll (A waits as the lab's epoll
#                 loop does) — about a minute on 2 vCPUs

BENCH_DIR ?= build/bench

.PHONY: bench
bench: $(BENCH_DIR)/pingpong
	$(BENCH_DIR)/pingpong --mech all --placement split --count 20000
	$(BENCH_DIR)/pingpong --mech all --placement same --count 20000
	$(BENCH_DIR)/pingpong --mech all --placement split --count 20000 --loop-side epoll
	$(BENCH_DIR)/pingpong --mech all --placement same --count 20000 --loop-side epoll

# Standalone on purpose: no lab objects, only include/handoff/cpu_relax.hpp.
$(BENCH_DIR)/pingpong: bench/pingpong.cpp include/handoff/cpu_relax.hpp
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 -g $(WARN) -Iinclude -pthread $< -o $@
