// SPDX-License-Identifier: GPL-2.0
// Concurrency: many threads on one fd, many fds at once, debugfs readers
// and the consumer in parallel.  Lockdep (debug kernel) watches the locks.
#include <atomic>
#include <cerrno>
#include <thread>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

TEST(Concurrency, ThreadsAndContexts) {
    VSVA_REQUIRE_DEV();
    constexpr int kFds = 4, kThreads = 3, kIters = 100;
    const bool dbg = have_debugfs();
    auto rids = single_group_rids();
    std::vector<Vm> vms(kFds);
    for (int i = 0; i < kFds; i++)
        ASSERT_EQ(vms[i].create(1 << 20, {rids[2 * i], rids[2 * i + 1]}), 0);
    std::atomic<int> errors{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> ts;
    for (int i = 0; i < kFds; i++) {
        for (int t = 0; t < kThreads; t++) {
            ts.emplace_back([&, i, t] {
                Vm& vm = vms[i];
                int fd = vm.fd.get();
                for (int k = 0; k < kIters; k++) {
                    uint32_t p;
                    std::string msg;
                    if (pasid_alloc(fd, &p)) {
                        errors++;
                        continue;
                    }
                    auto d = bind_data(p, vm.gpgd);
                    bool dom = (k + t) % 2;
                    uint32_t target = dom ? vm.dom : vm.devs[t % 2];
                    uint32_t fl = dom ? VSVA_TARGET_DOMAIN : 0;
                    if (bind(fd, target, d, &msg, fl))
                        errors++;
                    if (invalidate(fd, target, inv_pasid(p), &msg, fl))
                        errors++;
                    if (unbind(fd, target, d, &msg, fl))
                        errors++;
                    if (pasid_free(fd, p))
                        errors++;
                }
            });
        }
    }
    std::thread reader([&] {
        while (!stop) {
            if (dbg) {
                vsva_summary();
                for (int id = 1; id <= newest_ctx_id(); id++)
                    ctx_debugfs(id);
            }
            vsva_emu_counters c;
            counters(vms[0].fd.get(), &c);
        }
    });
    for (auto& t : ts)
        t.join();
    stop = true;
    reader.join();
    EXPECT_EQ(errors.load(), 0);
    for (auto& vm : vms) {
        vsva_emu_counters c;
        ASSERT_EQ(counters(vm.fd.get(), &c), 0);
        EXPECT_EQ(c.out_pasids, 0u);
        EXPECT_EQ(c.out_bindings, 0u);
        EXPECT_EQ(c.out_binds, c.out_unbinds);
        // Half the binds are domain-wide (2 devices), half single.
        EXPECT_EQ(c.out_binds, uint64_t(kThreads * kIters / 2 * 3));
        EXPECT_EQ(c.out_invalidations, uint64_t(kThreads * kIters));
    }
}

} // namespace
