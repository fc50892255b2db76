// SPDX-License-Identifier: GPL-2.0
// bench_teardown: how long the kernel takes to tear down a dead VM, against
// the number of bound PASIDs.  Not a timed test: it prints its figures.
//
//   tests/vm/run --kernel stock --icount -- bench_teardown [N ...]
//
// For each N (default 8192 and 65536): one context, one domain with 2 MiB
// of guest RAM, one device, N PASIDs allocated and bound; then close() and
// the time release() takes (the whole teardown runs inside that close).
// Under --icount guest time counts instructions, so the figures repeat.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <unistd.h>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// Build a VM with @n bound PASIDs; returns the close() time in ns, or 0.
uint64_t teardown_ns(unsigned n, uint64_t* setup_ns) {
    uint64_t t0 = now_ns();
    Vm vm;
    if (int rc = vm.create(2 << 20, {rid(0, 2, 0)})) {
        std::fprintf(stderr, "bench_teardown: VM setup failed: %d\n", rc);
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t p = 0;
        if (int rc = vm.alloc_pasid(&p)) {
            std::fprintf(stderr, "bench_teardown: PASID %u of %u: %d\n", i, n, rc);
            return 0;
        }
        if (int rc = bind(vm.fd.get(), vm.devs[0], bind_data(p, vm.gpgd))) {
            std::fprintf(stderr, "bench_teardown: bind %u of %u: %d\n", i, n, rc);
            return 0;
        }
    }
    vsva_emu_counters c{};
    c.argsz = sizeof(c);
    if (counters(vm.fd.get(), &c) || c.out_bindings != n) {
        std::fprintf(stderr, "bench_teardown: expected %u bindings\n", n);
        return 0;
    }
    *setup_ns = now_ns() - t0;
    uint64_t t1 = now_ns();
    vm.fd.reset(); // release(): unbind all, free PASIDs, detach, unpin
    uint64_t t = now_ns() - t1;
    auto s = vsva_summary();
    if (s["contexts"] != 0 || s["pasids"] != 0 || s["pinned_pages"] != 0) {
        std::fprintf(stderr, "bench_teardown: teardown left state behind\n");
        return 0;
    }
    return t;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<unsigned> sizes;
    for (int i = 1; i < argc; i++)
        sizes.push_back(unsigned(std::strtoul(argv[i], nullptr, 0)));
    if (sizes.empty())
        sizes = {8192, 65536};
    if (!have_vsva()) {
        std::printf("bench_teardown: SKIP: no /dev/vsva\n");
        return 77;
    }
    // The quota must allow the largest N (default 65536 does).
    std::printf("%10s %14s %14s %12s\n", "PASIDs", "setup (ns)", "teardown (ns)", "ns/PASID");
    uint64_t first = 0;
    unsigned first_n = 0;
    for (unsigned n : sizes) {
        uint64_t setup = 0, t = teardown_ns(n, &setup);
        if (!t)
            return 1;
        std::printf("%10u %14llu %14llu %12.1f\n", n, (unsigned long long)setup,
                    (unsigned long long)t, double(t) / n);
        if (!first) {
            first = t;
            first_n = n;
        } else {
            std::printf("  teardown ratio %u/%u PASIDs: %.2f (linear: %.2f)\n", n, first_n,
                        double(t) / double(first), double(n) / double(first_n));
            if (first_n == 8192 && n == 65536)
                std::printf("bench: teardown_64k_over_8k = %.3f (goal <= 8.5)\n",
                            double(t) / double(first));
        }
    }
    return 0;
}
