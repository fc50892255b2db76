// SPDX-License-Identifier: GPL-2.0
// Fault injection (debug kernel: failslab + fail_usercopy through
// /proc/thread-self/fail-nth): for each command, fail its Nth allocation or
// user copy for N = 1, 2, ... until the call succeeds.  A failed call must
// leave the context exactly as it was; kmemleak (checked by the harness)
// catches leaks.
#include <cerrno>
#include <cstdio>
#include <functional>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr size_t kRam = 1 << 20;
const char* const kFailNth = "/proc/thread-self/fail-nth";

class Faults : public ::testing::Test {
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
        auto rids = single_group_rids();
        rids.resize(4);
        ASSERT_EQ(vm.create(kRam, rids, VSVA_ATTACH_ENABLE_ATS), 0);
        ctx = newest_ctx_id();
    }
    void TearDown() override { write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "Y"); }

    // The context's observable state, without counters of attempts
    // (payload copies) or of idempotent work (a batch whose handled count
    // could not be written back was still applied).
    std::string state() {
        std::istringstream in(ctx_debugfs(ctx));
        std::string line, out;
        while (std::getline(in, line))
            if (line.rfind("payload_copies", 0) != 0 && line.rfind("invalidations", 0) != 0)
                out += line + "\n";
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

    // Run @call with fail-nth = 1, 2, ... until no fault is injected.  When
    // it succeeds, @undo (run without injection) restores the state.
    void sweep(const char* what, const std::function<int()>& call,
               const std::function<void()>& undo = nullptr) {
        int injected_failures = 0;
        for (int n = 1; n < 200; n++) {
            std::string before = state();
            ASSERT_EQ(write_file(kFailNth, std::to_string(n)), 0);
            int rc = call();
            std::string left = read_file(kFailNth);
            ASSERT_EQ(write_file(kFailNth, "0"), 0);
            bool injected = std::atoi(left.c_str()) == 0;
            if (rc) {
                EXPECT_TRUE(injected) << what << ": fails without injection: " << rc;
                injected_failures++;
                EXPECT_TRUE(rc == -ENOMEM || rc == -EFAULT) << what << " n=" << n << " rc=" << rc;
                EXPECT_EQ(state(), before) << what << " n=" << n;
            } else if (undo) {
                undo();
                // Bind + unbind bumps both counters; the rest is as before.
                EXPECT_EQ(strip_counters(state()), strip_counters(before))
                        << what << " undo, n=" << n;
            }
            if (!injected || HasFailure()) {
                std::printf("%s: %d injected failures, success at n=%d\n", what, injected_failures,
                            n);
                EXPECT_GT(injected_failures, 0) << what;
                return;
            }
        }
        ADD_FAILURE() << what << ": still failing after 200 injections (" << injected_failures
                      << " failures)";
    }
    Vm vm;
    int ctx = -1;
};

TEST_F(Faults, DomainAlloc) {
    uint32_t d = 0;
    sweep(
            "domain_alloc", [&] { return domain_alloc(vm.fd.get(), &d); },
            [&] { EXPECT_EQ(domain_destroy(vm.fd.get(), d), 0); });
}

TEST_F(Faults, Map) {
    GuestRam ram(64 << 10);
    sweep(
            "map", [&] { return map(vm.fd.get(), vm.dom, 0x40000000, ram.size(), ram.ptr()); },
            [&] { EXPECT_EQ(unmap(vm.fd.get(), vm.dom, 0x40000000, ram.size()), 0); });
}

TEST_F(Faults, Attach) {
    uint32_t d = 0;
    sweep(
            "attach",
            [&] {
                return attach(vm.fd.get(), rid(0, 0x10, 0), vm.dom, &d, VSVA_ATTACH_ENABLE_ATS);
            },
            [&] { EXPECT_EQ(detach(vm.fd.get(), d), 0); });
}

TEST_F(Faults, PasidAlloc) {
    uint32_t p = 0;
    sweep(
            "pasid_alloc", [&] { return pasid_alloc(vm.fd.get(), &p, nullptr, true, 33); },
            [&] { EXPECT_EQ(pasid_free(vm.fd.get(), p), 0); });
}

TEST_F(Faults, DomainBindAndUnbind) {
    uint32_t p;
    ASSERT_EQ(vm.alloc_pasid(&p), 0);
    auto d = bind_data(p, vm.gpgd);
    auto do_bind = [&] { return bind(vm.fd.get(), vm.dom, d, nullptr, VSVA_TARGET_DOMAIN); };
    auto do_unbind = [&] { return unbind(vm.fd.get(), vm.dom, d, nullptr, VSVA_TARGET_DOMAIN); };
    sweep("bind", do_bind, [&] { EXPECT_EQ(do_unbind(), 0); });
    ASSERT_EQ(do_bind(), 0);
    sweep("unbind", do_unbind, [&] { EXPECT_EQ(do_bind(), 0); });
}

TEST_F(Faults, Invalidate) {
    uint32_t p;
    ASSERT_EQ(vm.alloc_pasid(&p), 0);
    ASSERT_EQ(bind(vm.fd.get(), vm.dom, bind_data(p, vm.gpgd), nullptr, VSVA_TARGET_DOMAIN), 0);
    sweep("invalidate", [&] {
        return invalidate(vm.fd.get(), vm.dom, inv_pasid(p), nullptr, VSVA_TARGET_DOMAIN);
    });
    vsva_cache_invalidate_info arr[8];
    for (auto& e : arr)
        e = inv_addr(p, 0x2000);
    sweep("batch", [&] {
        uint32_t h;
        return invalidate_batch(vm.fd.get(), vm.dom, VSVA_TARGET_DOMAIN, arr, sizeof(arr[0]), 8, &h,
                                nullptr);
    });
}

TEST_F(Faults, OpenAndClose) {
    auto before = vsva_summary();
    for (int n = 1; n < 100; n++) {
        ASSERT_EQ(write_file(kFailNth, std::to_string(n)), 0);
        int fd = open("/dev/vsva", O_RDWR | O_CLOEXEC);
        int err = errno;
        std::string left = read_file(kFailNth);
        ASSERT_EQ(write_file(kFailNth, "0"), 0);
        if (fd >= 0)
            close(fd);
        else
            EXPECT_TRUE(err == ENOMEM || err == EFAULT) << n << " " << err;
        EXPECT_EQ(vsva_summary(), before) << n;
        if (std::atoi(left.c_str()) != 0)
            return;
    }
    ADD_FAILURE() << "open still failing";
}

} // namespace
