// SPDX-License-Identifier: GPL-2.0
// The executor: a child process of vsva-fuzz that runs programs, one call
// after another on its main thread and on up to three worker threads, each
// thread collecting its own KCOV trace.
#pragma once

#include <atomic>
#include <cstdint>

#include "prog.h"

namespace vfuzz {

constexpr unsigned kMaxThreads = 4;
constexpr size_t kCoverWords = 1 << 16; // per thread KCOV buffer, in u64

// Shared (MAP_SHARED) between the fuzzer and its executor.
struct Shm {
    std::atomic<uint64_t> calls_done;
    std::atomic<uint32_t> cur_call; // index of the last call started
    uint32_t ncalls;
    // Time spent by the executor, in ns (see vsva-fuzz's "phases" line):
    // setup (RAM reset, open), calls (the dispatch loop), finish (waiting
    // for workers and forked children, closing fds).
    std::atomic<uint64_t> ns_setup, ns_calls, ns_finish;
    Call calls[kMaxCalls];
};

struct ExecConfig {
    bool kcov = false;
    int kcov_fd[kMaxThreads] = {-1, -1, -1, -1};
    uint64_t* kcov_area[kMaxThreads] = {}; // mapped by the fuzzer, inherited
    unsigned max_thr = kMaxThreads;
};

// Runs in the executor child: for each byte read from req_fd, runs the
// program in shm and writes one status byte to resp_fd.  Never returns.
[[noreturn]] void executor_main(int req_fd, int resp_fd, Shm* shm, const ExecConfig& cfg);

} // namespace vfuzz
