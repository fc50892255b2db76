// SPDX-License-Identifier: GPL-2.0
// Kill under load: 50 times, a VMM process with four threads hammering
// bind/unbind, invalidations, emulated DMA (some waiting for a page
// response) and page responses on one context is SIGKILLed at a random
// moment.  After each kill every system-wide counter is back to zero
// (contexts, PASIDs, pinned pages, debugfs context files, endpoint owners);
// the harness then checks kmemleak and rmmod.  Prints how many kills landed
// while a thread was inside an ioctl.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <new>
#include <random>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dp_lib.h"
#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr int kKills = 50;
constexpr int kThreads = 4;
constexpr uint64_t kRamGpa = 0x100000;
constexpr uint64_t kRamLen = 4ull << 20;
constexpr uint64_t kPool = 0x100000;
constexpr uint64_t kPoolEnd = 0x200000;
constexpr uint64_t kData = 0x300000;
constexpr uint64_t kVa = 0x7f1200000000ull;
constexpr uint64_t kUnmappedVa = kVa + (1ull << 21);

// Shared between the test and the VMM child (MAP_SHARED, before fork).
struct Shared {
    std::atomic<int> ready;
    std::atomic<int> setup_error;
    std::atomic<int> inside[kThreads]; // the thread is in an ioctl now
    std::atomic<long> calls[kThreads];
    std::atomic<long> errors[kThreads];
};

const char* const kThreadName[kThreads] = {"bind", "invalidate", "dma", "page-response"};

// One ioctl, with the thread's "inside" flag around it.
template <class F>
int tracked(Shared* sh, int t, F&& f) {
    sh->inside[t].store(1);
    int rc = f();
    sh->inside[t].store(0);
    sh->calls[t]++;
    return rc;
}

// The VMM: never returns.
[[noreturn]] void vmm(Shared* sh) {
    dp::Ctx ctx;
    dp::GuestRam ram;
    uint32_t dom, dev_a, dev_b, pasid_a, pasid_b, pasid_c;
    int ffd = -1;
    auto fail = [&](int step) {
        sh->setup_error = step;
        _exit(10 + step);
    };
    if (!ctx.ok())
        fail(1);
    if (ctx.DomainAlloc(&dom) || ram.Add(ctx, dom, kRamGpa, kRamLen))
        fail(2);
    dp::PageTables pt(ram, kPool, kPoolEnd, 4);
    for (int i = 0; i < 8; i++)
        pt.Map4K(kVa + i * dp::k4K, kData + i * dp::k4K);
    const uint32_t fl = VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI;
    if (ctx.Attach(dp::Rid(2), dom, fl, &dev_a) || ctx.Attach(dp::Rid(4), dom, fl, &dev_b))
        fail(3);
    if (ctx.PasidAlloc(&pasid_a) || ctx.PasidAlloc(&pasid_b) || ctx.PasidAlloc(&pasid_c))
        fail(4);
    if (ctx.Bind(dev_b, pasid_b, pt.root(), pt.aw()) ||
        ctx.Bind(dev_a, pasid_a, pt.root(), pt.aw()))
        fail(5);
    if (ctx.FaultAlloc(&ffd))
        fail(6);
    const uint64_t root = pt.root();
    const uint32_t aw = pt.aw();

    std::thread th[kThreads];
    // 0: bind / unbind (device and domain targets), PASID alloc / free.
    th[0] = std::thread([&] {
        for (unsigned i = 0;; i++) {
            int rc = tracked(sh, 0, [&] { return ctx.Bind(dev_a, pasid_c, root, aw); });
            rc |= tracked(sh, 0, [&] { return ctx.Unbind(dev_a, pasid_c, root, aw); });
            if (i % 4 == 0) {
                uint32_t p;
                rc |= tracked(sh, 0, [&] { return ctx.PasidAlloc(&p); });
                rc |= tracked(sh, 0,
                              [&] { return ctx.Bind(dom, p, root, aw, 0, VSVA_TARGET_DOMAIN); });
                rc |= tracked(sh, 0,
                              [&] { return ctx.Unbind(dom, p, root, aw, 0, VSVA_TARGET_DOMAIN); });
                rc |= tracked(sh, 0, [&] { return pasid_free(ctx.fd(), p); });
            }
            sh->errors[0] += rc != 0;
        }
    });
    // 1: invalidations, single and batched.
    th[1] = std::thread([&] {
        vsva_cache_invalidate_info arr[16];
        for (int i = 0; i < 16; i++)
            arr[i] = inv_addr(pasid_a, kVa + i * dp::k4K);
        for (;;) {
            int rc = tracked(sh, 1, [&] {
                return ctx.Invalidate(dev_b, dp::Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, pasid_b));
            });
            rc |= tracked(sh, 1, [&] {
                return ctx.Invalidate(dom, dp::Ctx::InvDomain(VSVA_CACHE_INV_TYPE_IOTLB),
                                      VSVA_TARGET_DOMAIN);
            });
            rc |= tracked(sh, 1, [&] {
                uint32_t h;
                return invalidate_batch(ctx.fd(), dom, VSVA_TARGET_DOMAIN, arr, sizeof(arr[0]), 16,
                                        &h, nullptr);
            });
            sh->errors[1] += rc != 0;
        }
    });
    // 2: emulated DMA: reads and writes that translate, and accesses to an
    // unmapped page that wait for a page response.
    th[2] = std::thread([&] {
        std::vector<uint8_t> buf(4 * dp::k4K, 0x3c);
        for (unsigned i = 0;; i++) {
            struct vsva_emu_dma d;
            int rc = tracked(sh, 2, [&] {
                return ctx.Dma(dev_b, pasid_b, kVa, buf.data(), buf.size(), VSVA_EMU_DMA_WRITE, &d);
            });
            rc |= tracked(sh, 2, [&] {
                return ctx.Dma(dev_a, pasid_a, kVa + 100, buf.data(), buf.size(), 0, &d);
            });
            uint32_t wait = i % 2 ? VSVA_EMU_DMA_WAIT : 0;
            int r = tracked(sh, 2, [&] {
                return ctx.Dma(dev_a, pasid_a, kUnmappedVa + (i % 8) * dp::k4K, buf.data(), 8, wait,
                               &d);
            });
            rc |= r && r != -EINTR;
            sh->errors[2] += rc != 0;
        }
    });
    // 3: page responses to whatever the fault queue holds.
    th[3] = std::thread([&] {
        vsva_fault_event ev[8];
        for (unsigned i = 0;; i++) {
            struct pollfd p = {ffd, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0)
                continue;
            ssize_t n = read(ffd, ev, sizeof(ev));
            for (ssize_t k = 0; k < n / (ssize_t)sizeof(ev[0]); k++) {
                if (ev[k].fault.type != VSVA_FAULT_PAGE_REQ)
                    continue;
                uint32_t code = i % 3 ? VSVA_PAGE_RESP_INVALID : VSVA_PAGE_RESP_SUCCESS;
                // A request withdrawn by a signal is gone: -EINVAL is fine.
                tracked(sh, 3, [&] {
                    return ctx.PageResponse(ev[k].dev_id, ev[k].fault.prm.grpid, code);
                });
            }
        }
    });
    sh->ready = 1;
    for (auto& t : th)
        t.join();
    _exit(0);
}

int count_dir(const char* path) {
    int n = 0;
    DIR* d = opendir(path);
    if (!d)
        return -1;
    while (dirent* e = readdir(d))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

// Everything a context can hold, system-wide: all must be zero.
std::string leftovers() {
    std::string out;
    for (auto& [k, v] : vsva_summary())
        if (v)
            out += k + "=" + std::to_string(v) + " ";
    int n = count_dir("/sys/kernel/debug/vsva/ctx");
    if (n)
        out += "ctx_files=" + std::to_string(n) + " ";
    std::string topo = read_file("/sys/kernel/debug/vsva/topology");
    if (topo.find(" ctx ") != std::string::npos)
        out += "owned_endpoints ";
    return out;
}

TEST(KillUnderLoad, FiftyKillsLeaveNothing) {
    VSVA_REQUIRE_DEV();
    VSVA_REQUIRE_DEBUGFS();
    ASSERT_EQ(leftovers(), "") << "not clean before the test";
    auto* sh = static_cast<Shared*>(mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                                         MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(sh, MAP_FAILED);
    unsigned seed = (unsigned)std::chrono::steady_clock::now().time_since_epoch().count();
    std::printf("seed %u\n", seed);
    std::mt19937 rng(seed);
    int mid_call = 0, threads_mid_call = 0, waited = 0;
    long total[kThreads] = {}, errors[kThreads] = {};
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < kKills; k++) {
        new (sh) Shared{};
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0)
            vmm(sh);
        // Wait for the threads to run, then a random 0..150 ms of load.
        for (int i = 0; i < 2000 && !sh->ready && !sh->setup_error; i++)
            usleep(1000);
        ASSERT_EQ(sh->setup_error.load(), 0) << "kill " << k << ": the VMM's setup failed";
        ASSERT_TRUE(sh->ready) << "kill " << k << ": the VMM did not start";
        usleep(std::uniform_int_distribution<int>(0, 150000)(rng));
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
                << "kill " << k << ": the VMM exited with status " << status;
        int in = 0;
        for (int t = 0; t < kThreads; t++) {
            in += sh->inside[t].load();
            total[t] += sh->calls[t].load();
            errors[t] += sh->errors[t].load();
        }
        mid_call += in > 0;
        threads_mid_call += in;
        // The release runs in the exit path, before waitpid() returns;
        // allow a deferred part a few seconds, and count it.
        std::string left = leftovers();
        if (!left.empty()) {
            waited++;
            for (int i = 0; i < 50 && !left.empty(); i++) {
                usleep(100000);
                left = leftovers();
            }
        }
        ASSERT_EQ(left, "") << "kill " << k << " left this behind";
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%d kills in %.1f s: %d landed while a thread was inside an ioctl "
                "(%d threads in all); %d needed a wait for the counters to drop\n",
                kKills, secs, mid_call, threads_mid_call, waited);
    for (int t = 0; t < kThreads; t++)
        std::printf("  thread %-13s %8ld calls, %ld loops with a failing call\n", kThreadName[t],
                    total[t], errors[t]);
    EXPECT_GT(mid_call, 0) << "no kill landed mid-call: the test did not test that";
    EXPECT_EQ(waited, 0) << "the context outlived its process";
    for (int t = 0; t < kThreads; t++) {
        EXPECT_GT(total[t], 0) << kThreadName[t] << " made no call";
        EXPECT_EQ(errors[t], 0) << kThreadName[t] << ": a call failed under load";
    }
    munmap(sh, sizeof(Shared));
}

} // namespace
