// SPDX-License-Identifier: GPL-2.0
// Concurrency: many threads on one fd, many fds at once, debugfs readers
// and the consumer in parallel.  Lockdep (debug kernel) watches the locks.
#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

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

// Invalidations of one device run without the context's lock: two
// threads invalidate (single calls and batches) while a third attaches,
// invalidates and destroys devices and a fourth runs emulated DMAs that
// fill the caches.  Destroying a device waits for invalidations in flight
// (never -EBUSY), an invalidation of a device being destroyed finds it or
// fails -ENOENT, nothing else fails; KASAN and lockdep (debug kernel)
// watch the lifetimes and lock order.
TEST(Concurrency, InvalidationsWithoutTheContextLock) {
    VSVA_REQUIRE_DEV();
    constexpr int kIters = 300;
    auto rids = single_group_rids();
    Vm vm;
    ASSERT_EQ(vm.create(1 << 20, {rids[0], rids[1]}), 0);
    int fd = vm.fd.get();
    // gpgd 0x1000: a 4-level table mapping IOVA page i to GPA 0x10000 + i * 4K.
    auto* q = reinterpret_cast<uint64_t*>(vm.ram.ptr());
    q[0x1000 / 8] = 0x2000 | 7;
    q[0x2000 / 8] = 0x3000 | 7;
    q[0x3000 / 8] = 0x4000 | 7;
    for (unsigned i = 0; i < 64; i++)
        q[0x4000 / 8 + i] = (0x10000 + i * 4096) | 7;
    uint32_t p;
    ASSERT_EQ(pasid_alloc(fd, &p), 0);
    for (uint32_t dev : vm.devs)
        ASSERT_EQ(bind(fd, dev, bind_data(p, vm.gpgd)), 0);

    std::atomic<int> errors{0}, busy{0}, dmas_ok{0};
    std::atomic<uint32_t> victim{0};
    std::atomic<bool> stop{false};
    std::vector<vsva_cache_invalidate_info> batch;
    for (unsigned i = 0; i < 16; i++)
        batch.push_back(inv_addr(p, i * 4096ull));
    auto inv_loop = [&](uint32_t dev) {
        for (int k = 0; k < kIters; k++) {
            uint32_t handled = 0;
            if (invalidate(fd, dev, inv_pasid(p)) ||
                invalidate_batch(fd, dev, 0, batch.data(), sizeof(batch[0]), (uint32_t)batch.size(),
                                 &handled) ||
                handled != batch.size())
                errors++;
            // A device that may be being destroyed: found, or -ENOENT.
            int rc = invalidate(fd, victim.load(), inv_domain());
            if (rc && rc != -ENOENT)
                errors++;
        }
    };
    std::thread a(inv_loop, vm.devs[0]), b(inv_loop, vm.devs[1]);
    std::thread churn([&] {
        for (int k = 0; k < kIters; k++) {
            uint32_t d;
            if (attach(fd, rids[2], vm.dom, &d)) {
                errors++;
                continue;
            }
            victim = d;
            if (invalidate(fd, d, inv_domain()))
                errors++;
            int rc = detach(fd, d);
            busy += rc == -EBUSY;
            errors += rc != 0;
        }
    });
    std::thread dma([&] {
        uint64_t v;
        while (!stop) {
            for (unsigned i = 0; i < 16; i++) {
                auto d = make<vsva_emu_dma>();
                d.dev_id = vm.devs[i % 2];
                d.pasid = p;
                d.iova = i * 4096ull;
                d.len = sizeof(v);
                d.buf_uptr = (uintptr_t)&v;
                if (raw_ioctl(fd, VSVA_EMU_DMA, &d))
                    errors++;
                else if (!(d.out_flags & VSVA_EMU_DMA_FAULTED))
                    dmas_ok++;
            }
        }
    });
    a.join();
    b.join();
    churn.join();
    stop = true;
    dma.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(busy.load(), 0);
    EXPECT_GT(dmas_ok.load(), 0);
    vsva_emu_counters c;
    ASSERT_EQ(counters(fd, &c), 0);
    // Per thread and round: one call + 16 batch entries + the victim's
    // (when found); the churn thread's own.
    EXPECT_GE(c.out_invalidations, uint64_t(2 * kIters * 17 + kIters));
    for (uint32_t dev : vm.devs)
        ASSERT_EQ(unbind(fd, dev, bind_data(p, vm.gpgd)), 0);
}

} // namespace
