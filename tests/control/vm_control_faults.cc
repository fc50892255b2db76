// SPDX-License-Identifier: GPL-2.0
// Fault injection for every ioctl (debug kernel: failslab + fail_usercopy
// through /proc/thread-self/fail-nth): for each command, with its happy-path
// arguments, fail its Nth allocation or user copy for N = 1, 2, ... until the
// call succeeds.  A failed call must return -ENOMEM or -EFAULT and leave the
// context exactly as it was (its debugfs file without cache statistics, the
// system-wide summary, the process' open files); kmemleak (checked by the
// harness) catches leaks.
//
// Every sweep runs twice: FailNth.* alone, FailNthUnderLoad.* while a second
// thread uses the same context (GET_INFO, invalidations and emulated DMA on
// another device, EMU_COUNTERS) for the whole sweep.  Each sweep prints how
// many N it covered:
//   sweep NAME[ under load]: N injected failures, M tolerated, success at n=K
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <regex>
#include <sstream>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "dp_lib.h"
#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

const char* const kFailNth = "/proc/thread-self/fail-nth";

constexpr uint64_t kRamGpa = 0x100000; // guest RAM: 1 MiB .. 5 MiB
constexpr uint64_t kRamLen = 4ull << 20;
constexpr uint64_t kPool = 0x100000; // page tables: 1 .. 2 MiB
constexpr uint64_t kPoolEnd = 0x200000;
constexpr uint64_t kData = 0x300000; // data pages
constexpr uint64_t kVa = 0x7f1200000000ull;
constexpr uint64_t kUnmappedVa = kVa + (1ull << 21); // no PTE: faults
constexpr uint64_t kSpareGpa = 0x40000000;           // MAP/UNMAP sweeps

int count_fds() {
    int n = 0;
    DIR* d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (dirent* e = readdir(d))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

class FailNth : public ::testing::Test {
protected:
    void SetUp() override {
        VSVA_REQUIRE_DEV();
        VSVA_REQUIRE_DEBUGFS();
        if (access(kFailNth, W_OK))
            GTEST_SKIP() << "no fail-nth (kernel without fault injection)";
        // Fail GFP_KERNEL allocations too, quietly.
        write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
        write_file("/sys/kernel/debug/failslab/verbose", "0");
        write_file("/sys/kernel/debug/fail_usercopy/verbose", "0");
        ASSERT_TRUE(ctx_.ok());
        // Opened once: opening it after the call would consume (and
        // fail) injection points of its own.
        nth_ = open(kFailNth, O_RDWR | O_CLOEXEC);
        ASSERT_GE(nth_, 0);
        fd = ctx_.fd();
        ctx = newest_ctx_id();
        ASSERT_EQ(ctx_.DomainAlloc(&dom), 0);
        ASSERT_EQ(ram_.Add(ctx_, dom, kRamGpa, kRamLen), 0);
        pt_ = std::make_unique<dp::PageTables>(ram_, kPool, kPoolEnd, 4);
        for (int i = 0; i < 4; i++)
            pt_->Map4K(kVa + i * dp::k4K, kData + i * dp::k4K);
        const uint32_t flags = VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI;
        ASSERT_EQ(ctx_.Attach(dp::Rid(2), dom, flags, &dev_a), 0);
        ASSERT_EQ(ctx_.Attach(dp::Rid(4), dom, flags, &dev_b), 0);
        ASSERT_EQ(ctx_.PasidAlloc(&pasid_a), 0);
        ASSERT_EQ(ctx_.PasidAlloc(&pasid_b), 0);
        ASSERT_EQ(ctx_.Bind(dev_a, pasid_a, pt_->root(), pt_->aw()), 0);
        ASSERT_EQ(ctx_.Bind(dev_b, pasid_b, pt_->root(), pt_->aw()), 0);
        if (under_load())
            hammer_ = std::thread([this] { hammer(); });
    }
    void TearDown() override {
        stop_ = true;
        if (hammer_.joinable())
            hammer_.join();
        if (under_load() && !IsSkipped()) {
            std::printf("  (the second thread made %ld calls, %ld failed)\n", hammer_calls_.load(),
                        hammer_errors_.load());
            EXPECT_GT(hammer_calls_.load(), 0);
            EXPECT_EQ(hammer_errors_.load(), 0) << "the second thread's calls must not fail";
        }
        if (ffd_ >= 0)
            close(ffd_);
        if (nth_ >= 0)
            close(nth_);
        write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "Y");
    }
    virtual bool under_load() const { return false; }

    // The second thread: same context, another device and PASID.
    void hammer() {
        uint8_t buf[64];
        while (!stop_) {
            vsva_info info;
            struct vsva_emu_dma d;
            vsva_emu_counters c;
            int rc = get_info(fd, &info);
            rc |= ctx_.Invalidate(dev_b, dp::Ctx::InvPasid(VSVA_CACHE_INV_TYPE_IOTLB, pasid_b));
            rc |= ctx_.Dma(dev_b, pasid_b, kVa + 2 * dp::k4K, buf, sizeof(buf), 0, &d);
            if (d.out_flags & VSVA_EMU_DMA_FAULTED)
                rc = -1;
            rc |= counters(fd, &c);
            hammer_calls_ += 4;
            hammer_errors_ += rc != 0;
        }
    }

    // The context's observable state, without the statistics of attempts
    // and of caches (lookups, fills, payload copies, invalidations handled).
    std::string state() {
        // Cache occupancy is a statistic too: the second thread's DMAs
        // fill the caches while a sweep runs.
        static const std::regex occupancy(" (devtlb|iotlb|pasid-cache) [0-9]+/");
        std::istringstream in(ctx_debugfs(ctx));
        std::string line, out;
        while (std::getline(in, line)) {
            static const char* const skip[] = {
                    "payload_copies", "invalidations",    "emu: ", "iotlb hits",
                    "devtlb hits",    "pasid-cache hits", "walks "};
            bool drop = false;
            for (const char* p : skip)
                drop |= line.rfind(p, 0) == 0;
            if (!drop)
                out += std::regex_replace(line, occupancy, " $1 _/") + "\n";
        }
        for (auto& [k, v] : vsva_summary())
            out += "summary " + k + " " + std::to_string(v) + "\n";
        out += "open files " + std::to_string(count_fds()) + "\n";
        return out;
    }

    static std::string strip_counters(const std::string& st) {
        std::istringstream in(st);
        std::string line, out;
        while (std::getline(in, line))
            if (line.rfind("binds ", 0) != 0 && line.rfind("unbinds ", 0) != 0)
                out += line + "\n";
        return out;
    }

    // Arm fail-nth: the calling thread's Nth injection point fails.
    void arm(int n) {
        std::string v = std::to_string(n);
        ASSERT_EQ(pwrite(nth_, v.data(), v.size(), 0), (ssize_t)v.size());
    }
    // Disarm; true when the fault was injected.  The read and the write
    // have one user copy each, an injection point of their own: a read
    // that fails there means the call had not reached the Nth point, a
    // write that fails there consumed it (then the next one succeeds).
    bool disarm() {
        char buf[16] = {};
        ssize_t r = pread(nth_, buf, sizeof(buf) - 1, 0);
        bool injected = r > 0 && std::atoi(buf) == 0;
        for (int i = 0; i < 3 && pwrite(nth_, "0", 1, 0) != 1; i++) {
        }
        return injected;
    }

    struct Sweep {
        Sweep(std::function<void()> p, std::function<int()> c, std::function<void()> u = nullptr,
              bool cmp = true)
            : prepare(std::move(p)), call(std::move(c)), undo(std::move(u)), compare_undo(cmp) {}
        std::function<void()> prepare; // before each attempt, not injected
        std::function<int()> call;     // the command
        std::function<void()> undo;    // after a success, not injected
        bool compare_undo;             // the state after undo equals before
    };

    // Run the command with fail-nth = 1, 2, ... until no fault is injected.
    void sweep(const std::string& name, const Sweep& s) {
        std::string what = name + (under_load() ? " under load" : "");
        int failures = 0, tolerated = 0;
        for (int n = 1; n < 400; n++) {
            if (s.prepare)
                s.prepare();
            if (HasFatalFailure())
                return;
            std::string before = state();
            arm(n);
            int rc = s.call();
            bool injected = disarm();
            if (rc) {
                EXPECT_TRUE(injected) << what << ": fails without injection: " << rc;
                failures++;
                EXPECT_TRUE(rc == -ENOMEM || rc == -EFAULT) << what << " n=" << n << " rc=" << rc;
                EXPECT_EQ(state(), before) << what << " n=" << n << " rc=" << rc
                                           << ": the failed call left this behind";
            } else {
                tolerated += injected;
                if (s.undo) {
                    s.undo();
                    // Bind + unbind bumps both counters; the rest is as before.
                    if (s.compare_undo) {
                        EXPECT_EQ(strip_counters(state()), strip_counters(before))
                                << what << " undo, n=" << n;
                    }
                }
            }
            if (!injected || HasFailure()) {
                std::printf("sweep %s: %d injected failures, %d tolerated, success at n=%d%s\n",
                            what.c_str(), failures, tolerated, n,
                            HasFailure() ? " (stopped at the first failure)" : "");
                if (!HasFailure()) {
                    EXPECT_GT(failures + tolerated, 0) << what << ": nothing was injected";
                }
                return;
            }
        }
        ADD_FAILURE() << what << ": still failing after 400 injections";
    }

    // The fault queue (page requests need one); drains what it holds.
    void fault_queue() {
        if (ffd_ < 0) {
            ASSERT_EQ(ctx_.FaultAlloc(&ffd_), 0);
        }
        fcntl(ffd_, F_SETFL, O_NONBLOCK);
        vsva_fault_event ev[8];
        while (read(ffd_, ev, sizeof(ev)) > 0) {
        }
    }

    dp::Ctx ctx_;
    dp::GuestRam ram_;
    std::unique_ptr<dp::PageTables> pt_;
    int fd = -1, ctx = -1, ffd_ = -1, nth_ = -1;
    uint32_t dom = 0, dev_a = 0, dev_b = 0, pasid_a = 0, pasid_b = 0;
    std::thread hammer_;
    std::atomic<bool> stop_{false};
    std::atomic<long> hammer_calls_{0}, hammer_errors_{0};

    // ---- the sweeps, one per command ----------------------------------

    void GetInfo() {
        sweep("get_info", {nullptr, [&] {
                               vsva_info info;
                               return get_info(fd, &info);
                           }});
    }

    void DomainAlloc() {
        uint32_t d = 0;
        sweep("domain_alloc", {nullptr, [&] { return domain_alloc(fd, &d); },
                               [&] { EXPECT_EQ(domain_destroy(fd, d), 0); }});
    }

    void DomainDestroy() {
        uint32_t d = 0;
        bool have = false;
        sweep("domain_destroy", {[&] {
                                     if (!have) {
                                         ASSERT_EQ(domain_alloc(fd, &d), 0);
                                     }
                                     have = true;
                                 },
                                 [&] {
                                     int rc = domain_destroy(fd, d);
                                     have = rc != 0;
                                     return rc;
                                 }});
    }

    void Map() {
        GuestRam ram(64 << 10);
        sweep("map", {nullptr, [&] { return map(fd, dom, kSpareGpa, ram.size(), ram.ptr()); },
                      [&] { EXPECT_EQ(unmap(fd, dom, kSpareGpa, ram.size()), 0); }});
    }

    void Unmap() {
        GuestRam ram(64 << 10);
        bool mapped = false;
        sweep("unmap", {[&] {
                            if (!mapped) {
                                ASSERT_EQ(map(fd, dom, kSpareGpa, ram.size(), ram.ptr()), 0);
                            }
                            mapped = true;
                        },
                        [&] {
                            uint64_t done = 0;
                            int rc = unmap(fd, dom, kSpareGpa, ram.size(), &done);
                            mapped = rc != 0;
                            if (!rc) {
                                EXPECT_EQ(done, ram.size());
                            }
                            return rc;
                        }});
    }

    void Attach() {
        uint32_t d = 0;
        sweep("attach",
              {nullptr,
               [&] { return attach(fd, rid(0, 0x10, 0), dom, &d, VSVA_ATTACH_ENABLE_ATS); },
               [&] { EXPECT_EQ(detach(fd, d), 0); }});
    }

    void Detach() {
        uint32_t d = 0;
        bool have = false;
        sweep("detach",
              {[&] {
                   if (!have) {
                       ASSERT_EQ(attach(fd, rid(0, 0x10, 0), dom, &d, VSVA_ATTACH_ENABLE_ATS), 0);
                   }
                   have = true;
               },
               [&] {
                   int rc = detach(fd, d);
                   have = rc != 0;
                   return rc;
               }});
    }

    void PasidAlloc() {
        uint32_t p = 0;
        sweep("pasid_alloc", {nullptr, [&] { return pasid_alloc(fd, &p, nullptr, true, 33); },
                              [&] { EXPECT_EQ(pasid_free(fd, p), 0); }});
    }

    void PasidFree() {
        uint32_t p = 0;
        bool have = false;
        sweep("pasid_free", {[&] {
                                 if (!have) {
                                     ASSERT_EQ(pasid_alloc(fd, &p, nullptr, true, 33), 0);
                                 }
                                 have = true;
                             },
                             [&] {
                                 int rc = pasid_free(fd, p);
                                 have = rc != 0;
                                 return rc;
                             }});
    }

    void Bind() {
        uint32_t p;
        ASSERT_EQ(pasid_alloc(fd, &p), 0);
        auto d = bind_data(p, pt_->root());
        sweep("bind", {nullptr, [&] { return bind(fd, dom, d, nullptr, VSVA_TARGET_DOMAIN); },
                       [&] { EXPECT_EQ(unbind(fd, dom, d, nullptr, VSVA_TARGET_DOMAIN), 0); }});
    }

    void Unbind() {
        uint32_t p;
        ASSERT_EQ(pasid_alloc(fd, &p), 0);
        auto d = bind_data(p, pt_->root());
        ASSERT_EQ(bind(fd, dom, d, nullptr, VSVA_TARGET_DOMAIN), 0);
        sweep("unbind", {nullptr, [&] { return unbind(fd, dom, d, nullptr, VSVA_TARGET_DOMAIN); },
                         [&] { EXPECT_EQ(bind(fd, dom, d, nullptr, VSVA_TARGET_DOMAIN), 0); }});
    }

    void Invalidate() {
        sweep("invalidate", {nullptr, [&] {
                                 return invalidate(fd, dom, inv_pasid(pasid_a), nullptr,
                                                   VSVA_TARGET_DOMAIN);
                             }});
    }

    void InvalidateBatch() {
        vsva_cache_invalidate_info arr[8];
        for (auto& e : arr)
            e = inv_addr(pasid_a, kVa);
        sweep("invalidate_batch", {nullptr, [&] {
                                       uint32_t h = 0;
                                       int rc = invalidate_batch(fd, dom, VSVA_TARGET_DOMAIN, arr,
                                                                 sizeof(arr[0]), 8, &h, nullptr);
                                       if (!rc) {
                                           EXPECT_EQ(h, 8u);
                                       }
                                       return rc;
                                   }});
    }

    void FaultAlloc() {
        int q = -1;
        sweep("fault_alloc", {[&] {
                                  if (q >= 0)
                                      close(q);
                                  q = -1;
                              },
                              [&] { return ctx_.FaultAlloc(&q); }});
        if (q >= 0)
            close(q);
    }

    // A page request pending on device A (a DMA to an unmapped page, no
    // wait); *grpid gets its group.
    void page_request(uint32_t* grpid) {
        fault_queue();
        uint64_t v;
        struct vsva_emu_dma d;
        ASSERT_EQ(ctx_.Dma(dev_a, pasid_a, kUnmappedVa, &v, 8, 0, &d), 0);
        ASSERT_EQ(d.out_flags, (uint32_t)(VSVA_EMU_DMA_FAULTED | VSVA_EMU_DMA_PAGE_REQ));
        *grpid = d.out_grpid;
        fault_queue();
    }

    void PageResponse() {
        uint32_t grp = 0;
        bool pending = false;
        sweep("page_response", {[&] {
                                    if (!pending)
                                        page_request(&grp);
                                    pending = true;
                                },
                                [&] {
                                    int rc = ctx_.PageResponse(dev_a, grp, VSVA_PAGE_RESP_SUCCESS);
                                    pending = rc != 0;
                                    return rc;
                                }});
    }

    // A DMA that stops after moving bytes (an injected failure past the
    // first page) reports them: success with out_done short of the length
    // (Documentation/uapi.md, EMU_DMA).  The sweep's last call moves all.
    void EmuDma(uint32_t flags, const char* name) {
        std::vector<uint8_t> buf(3 * dp::k4K, 0x5a);
        uint64_t last_done = 0;
        int partial = 0;
        sweep(name, {nullptr, [&] {
                         struct vsva_emu_dma d;
                         int rc = ctx_.Dma(dev_a, pasid_a, kVa + 100, buf.data(), buf.size(), flags,
                                           &d);
                         if (!rc) {
                             EXPECT_EQ(d.out_flags, 0u);
                             EXPECT_LE(d.out_done, buf.size());
                             EXPECT_GT(d.out_done, 0u);
                             partial += d.out_done < buf.size();
                             last_done = d.out_done;
                         }
                         return rc;
                     }});
        EXPECT_EQ(last_done, buf.size()) << name << ": the uninjected call moves everything";
        std::printf("  %s: %d partial result(s)\n", name, partial);
    }

    // A DMA that queues a page request: a failed call must not leave the
    // request (or its fault record) behind.
    void EmuDmaPageRequest() {
        fault_queue();
        sweep("emu_dma_page_request",
              {[&] { fault_queue(); },
               [&] {
                   uint64_t v;
                   struct vsva_emu_dma d;
                   int rc = ctx_.Dma(dev_a, pasid_a, kUnmappedVa, &v, 8, 0, &d);
                   last_req_ = false;
                   if (!rc) {
                       // Without memory for the request the fault is
                       // reported unrecoverable (as on a full queue).
                       EXPECT_NE(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
                       last_req_ = d.out_flags & VSVA_EMU_DMA_PAGE_REQ;
                       last_grp_ = d.out_grpid;
                   }
                   return rc;
               },
               [&] {
                   if (last_req_) {
                       EXPECT_EQ(ctx_.PageResponse(dev_a, last_grp_, VSVA_PAGE_RESP_INVALID), 0);
                   }
                   fault_queue();
               },
               false});
    }
    uint32_t last_grp_ = 0;
    bool last_req_ = false;

    void EmuPasidEntry() {
        sweep("emu_pasid_entry", {nullptr, [&] {
                                      vsva_emu_pasid_entry e;
                                      int rc = pasid_entry(fd, dev_a, pasid_a, &e);
                                      if (!rc) {
                                          EXPECT_EQ(e.out_present, 1u);
                                      }
                                      return rc;
                                  }});
    }

    void EmuCounters() {
        sweep("emu_counters", {nullptr, [&] {
                                   vsva_emu_counters c;
                                   return counters(fd, &c);
                               }});
    }

    void OpenClose() {
        sweep("open_close", {nullptr, [&] {
                                 int f = open("/dev/vsva", O_RDWR | O_CLOEXEC);
                                 if (f < 0)
                                     return -errno;
                                 close(f);
                                 return 0;
                             }});
    }
};

class FailNthUnderLoad : public FailNth {
protected:
    bool under_load() const override { return true; }
};

#define SWEEP_TEST(name, ...)                                                                      \
    TEST_F(FailNth, name) {                                                                        \
        name(__VA_ARGS__);                                                                         \
    }                                                                                              \
    TEST_F(FailNthUnderLoad, name) {                                                               \
        name(__VA_ARGS__);                                                                         \
    }

SWEEP_TEST(GetInfo)
SWEEP_TEST(DomainAlloc)
SWEEP_TEST(DomainDestroy)
SWEEP_TEST(Map)
SWEEP_TEST(Unmap)
SWEEP_TEST(Attach)
SWEEP_TEST(Detach)
SWEEP_TEST(PasidAlloc)
SWEEP_TEST(PasidFree)
SWEEP_TEST(Bind)
SWEEP_TEST(Unbind)
SWEEP_TEST(Invalidate)
SWEEP_TEST(InvalidateBatch)
SWEEP_TEST(FaultAlloc)
SWEEP_TEST(PageResponse)
SWEEP_TEST(EmuDma, VSVA_EMU_DMA_WRITE, "emu_dma_write")
TEST_F(FailNth, EmuDmaRead) {
    EmuDma(0, "emu_dma_read");
}
TEST_F(FailNthUnderLoad, EmuDmaRead) {
    EmuDma(0, "emu_dma_read");
}
SWEEP_TEST(EmuDmaPageRequest)
SWEEP_TEST(EmuPasidEntry)
SWEEP_TEST(EmuCounters)
SWEEP_TEST(OpenClose)

} // namespace
