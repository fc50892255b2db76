// SPDX-License-Identifier: GPL-2.0
// Teardown in bounded, preemptible time: a context with many bindings and
// full emulated caches closes without a soft lockup or an RCU stall, with
// the detectors set to fire after a few seconds for the duration of the
// test.  Prints close() time with empty and with full caches.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "vsva_testlib.h"

using namespace vsva::test;

namespace {

constexpr size_t kRam = 4 << 20;
constexpr uint64_t kRoot = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000;
constexpr unsigned kPts = 8;            // 8 PT tables: 4096 4K pages
constexpr uint64_t kDataGpa = 0x100000; // every page maps here
constexpr uint64_t kVa = 0x40000000ull; // 1 GiB: PML4 0, PDPT 1
constexpr unsigned kIotlbFill = 4096;   // the emulated IOTLB's capacity
constexpr unsigned kPasidFill = 512;    // the PASID cache's capacity
constexpr unsigned kDevices = 5;        // bindings = PASIDs x devices

// Set a sysctl-like file for the test, restore it after.
class Knob {
public:
    Knob(std::string path, const std::string& v) : path_(std::move(path)) {
        old_ = read_file(path_);
        ok_ = !old_.empty() && write_file(path_, v) == 0;
    }
    ~Knob() {
        if (ok_)
            write_file(path_, old_);
    }
    bool ok() const { return ok_; }

private:
    std::string path_, old_;
    bool ok_ = false;
};

// New kernel log lines since construction.
class Kmsg {
public:
    Kmsg() {
        fd_ = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd_ >= 0)
            lseek(fd_, 0, SEEK_END);
    }
    ~Kmsg() {
        if (fd_ >= 0)
            close(fd_);
    }
    bool ok() const { return fd_ >= 0; }
    std::string Read() {
        std::string out;
        char buf[8192];
        for (;;) {
            ssize_t n = read(fd_, buf, sizeof(buf) - 1);
            if (n < 0 && errno == EPIPE)
                continue; // overwritten records: go on
            if (n <= 0)
                break;
            buf[n] = 0;
            const char* msg = strchr(buf, ';');
            out += msg ? msg + 1 : buf;
        }
        return out;
    }

private:
    int fd_ = -1;
};

uint64_t* Q(Vm& vm, uint64_t gpa) {
    return (uint64_t*)(vm.ram.ptr() + gpa);
}

// A 4-level table at kRoot mapping kIotlbFill pages from kVa to kDataGpa.
void BuildTables(Vm& vm) {
    const uint64_t u = 7; // P | RW | US
    *Q(vm, kRoot + 8 * ((kVa >> 39) & 511)) = kPdpt | u;
    *Q(vm, kPdpt + 8 * ((kVa >> 30) & 511)) = kPd | u;
    for (unsigned t = 0; t < kPts; t++) {
        *Q(vm, kPd + 8 * (((kVa >> 21) + t) & 511)) = (kPt + t * 4096) | u;
        for (unsigned i = 0; i < 512; i++)
            *Q(vm, kPt + t * 4096 + 8 * i) = kDataGpa | u;
    }
}

int Dma(Vm& vm, uint32_t pasid, uint64_t iova) {
    uint64_t v = 0;
    vsva_emu_dma d = make<vsva_emu_dma>();
    d.dev_id = vm.devs.back(); // domain B
    d.pasid = pasid;
    d.iova = iova;
    d.len = sizeof(v);
    d.buf_uptr = (uintptr_t)&v;
    int rc = raw_ioctl(vm.fd.get(), VSVA_EMU_DMA, &d);
    if (!rc && d.out_flags)
        rc = -EFAULT;
    return rc;
}

unsigned Bindings() {
    const char* e = getenv("VSVA_STALL_BINDINGS");
    if (e)
        return (unsigned)strtoul(e, nullptr, 0); // PASIDs
    // The sanitizer kernel (kmemleak, KASAN) is ~30 times slower: fewer.
    return access("/sys/kernel/debug/kmemleak", F_OK) == 0 ? 8192 : 65536;
}

// Close time in ns of a VM with @n bindings, its caches full if @fill.
double CloseNs(unsigned n, bool fill, unsigned* bound) {
    // Domain A with kDevices - 1 devices; domain B, made last, with one,
    // whose entries fill the caches.  Teardown unbinds device by device:
    // A's unbinds must not pay for B's cached entries.
    Vm vm;
    auto rids = single_group_rids();
    rids.resize(kDevices);
    uint32_t dom_b = 0, dev_b = 0;
    EXPECT_EQ(vm.create(kRam, {rids.begin(), rids.end() - 1}), 0);
    EXPECT_EQ(domain_alloc(vm.fd.get(), &dom_b), 0);
    EXPECT_EQ(map(vm.fd.get(), dom_b, 0, kRam, vm.ram.ptr()), 0);
    EXPECT_EQ(attach(vm.fd.get(), rids.back(), dom_b, &dev_b), 0);
    vm.devs.push_back(dev_b);
    if (::testing::Test::HasFailure())
        return 0;
    BuildTables(vm);
    std::vector<uint32_t> pasids;
    for (unsigned i = 0; i < n; i++) {
        uint32_t p = 0;
        if (vm.alloc_pasid(&p))
            break; // a per-user limit: use what we got
        for (uint32_t dev : vm.devs)
            EXPECT_EQ(bind(vm.fd.get(), dev, bind_data(p, kRoot)), 0);
        pasids.push_back(p);
    }
    *bound = (unsigned)(pasids.size() * vm.devs.size());
    EXPECT_GE(pasids.size(), (size_t)kPasidFill);
    if (::testing::Test::HasFailure())
        return 0;
    if (fill) {
        // Every IOTLB entry of domain B and its device's PASID cache.
        for (unsigned i = 0; i < kIotlbFill; i++)
            EXPECT_EQ(Dma(vm, pasids[i % kPasidFill], kVa + (uint64_t)i * 4096), 0) << i;
        vsva_emu_counters c = make<vsva_emu_counters>();
        EXPECT_EQ(counters(vm.fd.get(), &c), 0);
        EXPECT_EQ(c.out_walks, kIotlbFill);
    }
    auto t0 = std::chrono::steady_clock::now();
    vm.fd.reset();
    auto t = std::chrono::steady_clock::now() - t0;
    return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(t).count();
}

TEST(Stall, CloseWithManyBindingsAndFullCachesDoesNotStall) {
    VSVA_REQUIRE_DEV();
    VSVA_REQUIRE_DEBUGFS();
    // Detectors on a short fuse (the runner raises them for slow hosts):
    // a soft lockup after 2 * 2 s, an RCU stall after 5 s.
    Knob wd("/proc/sys/kernel/watchdog_thresh", "2");
    Knob rcu("/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout", "5");
    Kmsg log;
    ASSERT_TRUE(log.ok()) << "no /dev/kmsg";
    if (!wd.ok() && !rcu.ok())
        GTEST_SKIP() << "neither the soft-lockup nor the RCU stall detector is adjustable";
    const unsigned n = Bindings(); // PASIDs, each bound on kDevices devices
    unsigned got_empty = 0, got_full = 0;
    double empty = CloseNs(n, false, &got_empty);
    ASSERT_FALSE(HasFailure());
    double full = CloseNs(n, true, &got_full);
    ASSERT_FALSE(HasFailure());
    std::string k = log.Read();
    printf("stall: close() of %u bindings: empty caches %.0f ms (%.0f ns/binding), "
           "full caches %.0f ms (%.0f ns/binding), full/empty %.2f; detectors: "
           "soft lockup %s, RCU stall %s\n",
           got_full, empty / 1e6, empty / got_empty, full / 1e6, full / got_full, full / empty,
           wd.ok() ? "4 s" : "off", rcu.ok() ? "5 s" : "off");
    EXPECT_EQ(k.find("soft lockup"), std::string::npos) << k;
    EXPECT_EQ(k.find("rcu_sched self-detected stall"), std::string::npos) << k;
    EXPECT_EQ(k.find("detected stalls"), std::string::npos) << k;
    EXPECT_EQ(k.find("RCU Stall"), std::string::npos) << k;
    auto s = vsva_summary();
    EXPECT_EQ(s["contexts"], 0);
    EXPECT_EQ(s["pasids"], 0);
}

} // namespace
