// SPDX-License-Identifier: GPL-2.0
// iommufd_bench: vsva and iommufd side by side, on the perf kernel (6.12
// with IOMMUFD and IOMMUFD_TEST, no sanitizers), in one run under -icount:
//
//   tests/vm/run --kernel perf --icount -- iommufd_bench
//
// vsva: one ADDR 4 KiB IOTLB invalidation (VSVA_CACHE_INVALIDATE) and a
// 64-entry batch (VSVA_CACHE_INVALIDATE_BATCH), each whole and with the
// backend's flush skipped (the UAPI layer alone; debugfs
// bench_skip_inv_backend of the harness's module build), as inv_bench
// does; the same batch when every entry drops a cached translation.
// iommufd: IOMMU_HWPT_INVALIDATE of the selftest mock's nested HWPT
// (IOMMU_TEST_OP_MOCK_DOMAIN, IOMMU_HWPT_ALLOC with
// IOMMU_HWPT_DATA_SELFTEST), 1 and 64 entries per call.
// The cheapest ioctl of each: vsva GET_INFO against iommufd IOMMU_OPTION
// (RLIMIT_MODE, get) and IOMMU_GET_HW_INFO of the mock device.
//
// Every timed call's result is checked (0, and the count of entries
// handled), and before timing, the iommufd calls that must fail are
// checked for their errno, so that a failing call is never measured.
// Prints "bench: vsva_over_iommufd_per_entry_batch64 = V (goal <= 1.0)"
// and "table: iommufd SIDE ENTRIES NS_PER_CALL NS_PER_ENTRY" rows.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

// From the 6.12 source tree (tests/datapath/CMakeLists.txt): the UAPI
// linux/iommufd.h of 6.12, and the selftest mock's header, which is not UAPI.
#include <iommufd_test.h>

#include <linux/iommufd.h>

#include "dp_lib.h"

using namespace dp;

namespace {

constexpr uint64_t kVa = kBenchVa;
constexpr unsigned kBatch = 64;

int failures = 0;

[[noreturn]] void Die(const char* what, int rc) {
    fprintf(stderr, "iommufd_bench: %s failed: %d (%s)\n", what, rc, strerror(rc < 0 ? -rc : rc));
    exit(1);
}

// A check of the setup or of an errno: counted, reported, fatal at the end.
void Expect(bool ok, const char* what) {
    printf("check %-62s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failures++;
}

// --- vsva ------------------------------------------------------------------

std::vector<struct vsva_cache_invalidate_info> AddrEntries(uint32_t pasid, uint64_t base,
                                                           unsigned n) {
    std::vector<struct vsva_cache_invalidate_info> v;
    for (unsigned i = 0; i < n; i++)
        v.push_back(Ctx::InvAddr(VSVA_CACHE_INV_TYPE_IOTLB, pasid, base + i * k4K));
    return v;
}

struct VsvaFigures {
    double getinfo = 0;
    double single = 0, single_uapi = 0;
    double batch = 0, batch_uapi = 0; // per call
    double batch_drop = 0;            // per call, every entry drops a translation
    bool split = false;
};

VsvaFigures MeasureVsva() {
    VsvaFigures f;
    // One VM as inv_bench builds it: guest RAM, a device, one PASID.
    Vm vm(2, 1);
    const uint32_t pasid = vm.pasids[0];
    int rc = 0;
    // 256 translations cached, none at the flushed addresses (inv_bench's
    // case: a guest's flush after an unmap of pages no device touched).
    for (unsigned i = 0; i < 256; i++)
        vm.Dma(pasid, kVa + i * k4K);

    struct vsva_info info = {};
    info.argsz = sizeof(info);
    Expect(vm.ctx.Call(VSVA_GET_INFO, &info) == 0 && info.out_max_batch >= kBatch,
           "vsva GET_INFO succeeds, max_batch >= 64");
    f.getinfo = Avg(4000, [&](unsigned) { rc |= vm.ctx.Call(VSVA_GET_INFO, &info); });

    auto one = AddrEntries(pasid, 0x100000000000ull, 1)[0];
    auto v = AddrEntries(pasid, 0x100000000000ull, kBatch);
    auto c0 = vm.ctx.Counters();
    f.single = Avg(2000, [&](unsigned) { rc |= vm.Inv(one); });
    f.batch = Avg(64, [&](unsigned) { rc |= vm.BatchAll(v); });
    auto c1 = vm.ctx.Counters();
    if (rc)
        Die("vsva invalidation", rc);
    // Avg runs 5 rounds: every call must have reached the backend.
    Expect(c1.out_invalidations - c0.out_invalidations == 5ull * (2000 + 64 * kBatch),
           "vsva counted every timed invalidation entry");
    Expect(c1.out_iotlb_flushed == c0.out_iotlb_flushed,
           "vsva flushes of uncached pages dropped nothing");

    f.split = SetHook(true);
    if (f.split) {
        f.single_uapi = Avg(2000, [&](unsigned) { rc |= vm.Inv(one); });
        f.batch_uapi = Avg(64, [&](unsigned) { rc |= vm.BatchAll(v); });
        SetHook(false);
        if (rc)
            Die("vsva invalidation (UAPI layer alone)", rc);
    }

    // The same batch size where each entry drops a cached translation: the
    // 64 pages are cached again by DMAs (not timed) before each call.
    auto hit = AddrEntries(pasid, kVa, kBatch);
    const unsigned reps = 32;
    // What the two clock reads around a call add to it.
    volatile double sink = 0;
    double clock = Avg(1000, [&](unsigned) { sink = sink + NowNs(); });
    auto d0 = vm.ctx.Counters();
    double best = 0;
    for (int round = 0; round < 5; round++) {
        double sum = 0;
        for (unsigned r = 0; r < reps; r++) {
            for (unsigned i = 0; i < kBatch; i++)
                vm.Dma(pasid, kVa + i * k4K);
            double t0 = NowNs();
            rc |= vm.BatchAll(hit);
            sum += NowNs() - t0;
        }
        double t = sum / reps - clock;
        if (round == 0 || t < best)
            best = t;
    }
    auto d1 = vm.ctx.Counters();
    if (rc)
        Die("vsva invalidation (cached pages)", rc);
    Expect(d1.out_iotlb_flushed - d0.out_iotlb_flushed == 5ull * reps * kBatch,
           "vsva batch of cached pages dropped one translation per entry");
    f.batch_drop = best;
    return f;
}

// --- iommufd ---------------------------------------------------------------

struct Iommufd {
    int fd = -1;
    uint32_t ioas = 0, stdev = 0, mock_hwpt = 0, idev = 0, parent = 0, nested = 0;

    ~Iommufd() {
        if (fd >= 0)
            close(fd);
    }
    int Call(unsigned long cmd, void* arg) const { return ioctl(fd, cmd, arg) == 0 ? 0 : -errno; }

    // IOMMU_HWPT_INVALIDATE; returns 0 or -errno and the entries handled.
    int Invalidate(uint32_t hwpt, const void* reqs, uint32_t type, uint32_t len, uint32_t num,
                   uint32_t* done) const {
        struct iommu_hwpt_invalidate cmd = {};
        cmd.size = sizeof(cmd);
        cmd.hwpt_id = hwpt;
        cmd.data_uptr = (uintptr_t)reqs;
        cmd.data_type = type;
        cmd.entry_len = len;
        cmd.entry_num = num;
        int rc = Call(IOMMU_HWPT_INVALIDATE, &cmd);
        *done = cmd.entry_num;
        return rc;
    }
    // The whole array applied: 0; else -errno (or -EIO for a short count).
    int Inv(const std::vector<struct iommu_hwpt_invalidate_selftest>& v) const {
        uint32_t done;
        int rc = Invalidate(nested, v.data(), IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(v[0]),
                            (uint32_t)v.size(), &done);
        return rc ? rc : (done == v.size() ? 0 : -EIO);
    }
    int CheckIotlb(uint32_t hwpt, uint32_t id, uint32_t value) const {
        struct iommu_test_cmd c = {};
        c.size = sizeof(c);
        c.op = IOMMU_TEST_OP_MD_CHECK_IOTLB;
        c.id = hwpt;
        c.check_iotlb.id = id;
        c.check_iotlb.iotlb = value;
        return Call(IOMMU_TEST_CMD, &c);
    }
    int Option(struct iommu_option* o) const {
        *o = {};
        o->size = sizeof(*o);
        o->option_id = IOMMU_OPTION_RLIMIT_MODE;
        o->op = IOMMU_OPTION_OP_GET;
        return Call(IOMMU_OPTION, o);
    }
    int HwInfo(struct iommu_test_hw_info* data, struct iommu_hw_info* h) const {
        *h = {};
        h->size = sizeof(*h);
        h->dev_id = idev;
        h->data_len = sizeof(*data);
        h->data_uptr = (uintptr_t)data;
        return Call(IOMMU_GET_HW_INFO, h);
    }

    // The selftests' fixture: an IOAS, a mock device on a mock domain, a
    // nest-parent HWPT on the IOAS and a nested HWPT of the selftest type.
    void Setup() {
        int rc;
        struct iommu_ioas_alloc a = {};
        a.size = sizeof(a);
        if ((rc = Call(IOMMU_IOAS_ALLOC, &a)))
            Die("IOMMU_IOAS_ALLOC", rc);
        ioas = a.out_ioas_id;

        struct iommu_test_cmd m = {};
        m.size = sizeof(m);
        m.op = IOMMU_TEST_OP_MOCK_DOMAIN;
        m.id = ioas;
        if ((rc = Call(IOMMU_TEST_CMD, &m)))
            Die("IOMMU_TEST_OP_MOCK_DOMAIN", rc);
        stdev = m.mock_domain.out_stdev_id;
        mock_hwpt = m.mock_domain.out_hwpt_id;
        idev = m.mock_domain.out_idev_id;

        struct iommu_hwpt_alloc p = {};
        p.size = sizeof(p);
        p.flags = IOMMU_HWPT_ALLOC_NEST_PARENT;
        p.dev_id = idev;
        p.pt_id = ioas;
        p.data_type = IOMMU_HWPT_DATA_NONE;
        if ((rc = Call(IOMMU_HWPT_ALLOC, &p)))
            Die("IOMMU_HWPT_ALLOC (nest parent)", rc);
        parent = p.out_hwpt_id;

        struct iommu_hwpt_selftest data = {};
        data.iotlb = IOMMU_TEST_IOTLB_DEFAULT;
        struct iommu_hwpt_alloc n = {};
        n.size = sizeof(n);
        n.dev_id = idev;
        n.pt_id = parent;
        n.data_type = IOMMU_HWPT_DATA_SELFTEST;
        n.data_len = sizeof(data);
        n.data_uptr = (uintptr_t)&data;
        if ((rc = Call(IOMMU_HWPT_ALLOC, &n)))
            Die("IOMMU_HWPT_ALLOC (nested, selftest data)", rc);
        nested = n.out_hwpt_id;
    }
};

struct IommufdFigures {
    double option = 0, hw_info = 0;
    double single = 0, batch = 0; // per call
};

// Before anything is timed: the calls the benchmark times succeed and reach
// the mock, and malformed ones fail with the errno the selftests document.
void CheckIommufd(const Iommufd& io) {
    Expect(io.stdev && io.mock_hwpt && io.idev && io.parent && io.nested,
           "iommufd mock device, parent and nested HWPT allocated");
    bool all = true;
    for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
        all = all && io.CheckIotlb(io.nested, i, IOMMU_TEST_IOTLB_DEFAULT) == 0;
    Expect(all, "mock IOTLB entries start at IOMMU_TEST_IOTLB_DEFAULT");

    struct iommu_hwpt_invalidate_selftest r[2] = {};
    uint32_t done = 99;
    r[0].iotlb_id = 1;
    int rc = io.Invalidate(io.nested, r, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(r[0]), 1,
                           &done);
    Expect(rc == 0 && done == 1, "IOMMU_HWPT_INVALIDATE of one entry: 0, entry_num 1");
    Expect(io.CheckIotlb(io.nested, 1, 0) == 0 &&
                   io.CheckIotlb(io.nested, 0, IOMMU_TEST_IOTLB_DEFAULT) == 0,
           "it cleared mock IOTLB entry 1 and only that one");

    rc = io.Invalidate(io.parent, r, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(r[0]), 1, &done);
    Expect(rc == -ENOENT && done == 0, "invalidating the parent (not nested) HWPT: ENOENT");
    rc = io.Invalidate(io.nested, r, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, sizeof(r[0]), 1,
                       &done);
    Expect(rc == -EINVAL && done == 0, "invalid data_type: EINVAL, entry_num 0");
    rc = io.Invalidate(io.nested, r, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0, 1, &done);
    Expect(rc == -EINVAL && done == 0, "entry_len 0 with entries: EINVAL, entry_num 0");
    rc = io.Invalidate(io.nested, r, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(r[0]), 1u << 20,
                       &done);
    Expect(rc == -EINVAL && done == 0, "entry_num 2^20 (above the bound): EINVAL, entry_num 0");
    r[0].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
    rc = io.Invalidate(io.nested, r, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(r[0]), 1, &done);
    Expect(rc == -EINVAL && done == 0, "iotlb_id above the mock's last entry: EINVAL");
    r[0].iotlb_id = 2;
    r[1].flags = 0xffffffff;
    rc = io.Invalidate(io.nested, r, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(r[0]), 2, &done);
    Expect(rc == -EOPNOTSUPP && done == 1, "second of two entries has unknown flags: EOPNOTSUPP, "
                                           "entry_num 1");
    Expect(io.CheckIotlb(io.nested, 2, 0) == 0, "the first entry was applied");

    struct iommu_option o;
    Expect(io.Option(&o) == 0 && o.val64 <= 1, "IOMMU_OPTION (RLIMIT_MODE, get): 0");
    struct iommu_test_hw_info hw = {};
    struct iommu_hw_info h;
    Expect(io.HwInfo(&hw, &h) == 0 && h.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST &&
                   hw.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL,
           "IOMMU_GET_HW_INFO of the mock device: 0, selftest data");
}

IommufdFigures MeasureIommufd(const Iommufd& io) {
    IommufdFigures f;
    int rc = 0;
    struct iommu_option o;
    f.option = Avg(4000, [&](unsigned) { rc |= io.Option(&o); });
    struct iommu_test_hw_info hw = {};
    struct iommu_hw_info h;
    f.hw_info = Avg(4000, [&](unsigned) { rc |= io.HwInfo(&hw, &h); });
    if (rc)
        Die("iommufd no-op ioctl", rc);

    // Entry i invalidates mock IOTLB entry i % 4, one at a time (no
    // INVALIDATE_ALL flag), like a guest's run of page invalidations.
    std::vector<struct iommu_hwpt_invalidate_selftest> one(1), v(kBatch);
    for (unsigned i = 0; i < kBatch; i++)
        v[i].iotlb_id = i % MOCK_NESTED_DOMAIN_IOTLB_NUM;
    f.single = Avg(2000, [&](unsigned) { rc |= io.Inv(one); });
    f.batch = Avg(64, [&](unsigned) { rc |= io.Inv(v); });
    if (rc)
        Die("IOMMU_HWPT_INVALIDATE", rc);
    bool all = true;
    for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
        all = all && io.CheckIotlb(io.nested, i, 0) == 0;
    Expect(all, "after the timed calls every mock IOTLB entry is invalidated");
    return f;
}

} // namespace

int main() {
    Ctx probe;
    if (!probe.ok()) {
        printf("iommufd_bench: SKIP: /dev/vsva missing\n");
        return 0;
    }
    probe.Close();
    Iommufd io;
    io.fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
    if (io.fd < 0) {
        printf("iommufd_bench: SKIP: no /dev/iommu (needs the perf kernel: IOMMUFD, "
               "IOMMUFD_TEST)\n");
        return 0;
    }
    io.Setup();
    CheckIommufd(io);
    if (failures)
        Die("the checks before timing", -EPROTO);

    auto vs = MeasureVsva();
    auto fd = MeasureIommufd(io);
    if (failures)
        Die("the checks", -EPROTO);
    if (!vs.split)
        printf("iommufd_bench: no %s (a module without test hooks): no UAPI/backend split\n",
               kSkipHook);

    const double n = kBatch;
    printf("\nvsva vs iommufd (perf kernel, -icount: ns = instructions)\n");
    printf("%-54s %10s %10s %14s %14s\n", "call", "ns/call", "ns/entry", "UAPI ns/entry",
           "backend ns/entry");
    auto row = [](const char* what, double call, double entries, double uapi) {
        if (uapi > 0)
            printf("%-54s %10.0f %10.1f %14.1f %14.1f\n", what, call, call / entries,
                   uapi / entries, (call - uapi) / entries);
        else
            printf("%-54s %10.0f %10.1f %14s %14s\n", what, call, call / entries, "-", "-");
    };
    row("vsva VSVA_CACHE_INVALIDATE (1 ADDR 4K, not cached)", vs.single, 1, vs.single_uapi);
    row("vsva VSVA_CACHE_INVALIDATE_BATCH (64, not cached)", vs.batch, n, vs.batch_uapi);
    row("vsva VSVA_CACHE_INVALIDATE_BATCH (64, each drops one)", vs.batch_drop, n,
        vs.split ? vs.batch_uapi : 0);
    row("iommufd IOMMU_HWPT_INVALIDATE (1 mock entry)", fd.single, 1, 0);
    row("iommufd IOMMU_HWPT_INVALIDATE (64 mock entries)", fd.batch, n, 0);
    printf("marginal cost of an entry ((64-entry call - 1-entry call) / 63): vsva %.1f ns, "
           "iommufd %.1f ns\n",
           (vs.batch - vs.single) / (n - 1), (fd.batch - fd.single) / (n - 1));
    printf("cheapest ioctl: vsva GET_INFO %.0f ns; iommufd IOMMU_OPTION (get) %.0f ns, "
           "IOMMU_GET_HW_INFO (mock device) %.0f ns\n",
           vs.getinfo, fd.option, fd.hw_info);
    printf("table: iommufd vsva 1 %.1f %.1f\n", vs.single, vs.single);
    printf("table: iommufd vsva 64 %.1f %.1f\n", vs.batch, vs.batch / n);
    printf("table: iommufd vsva-uapi 1 %.1f %.1f\n", vs.single_uapi, vs.single_uapi);
    printf("table: iommufd vsva-uapi 64 %.1f %.1f\n", vs.batch_uapi, vs.batch_uapi / n);
    printf("table: iommufd vsva-drop 64 %.1f %.1f\n", vs.batch_drop, vs.batch_drop / n);
    printf("table: iommufd iommufd 1 %.1f %.1f\n", fd.single, fd.single);
    printf("table: iommufd iommufd 64 %.1f %.1f\n", fd.batch, fd.batch / n);
    printf("table: iommufd cheapest-vsva-getinfo 0 %.1f 0\n", vs.getinfo);
    printf("table: iommufd cheapest-iommufd-option 0 %.1f 0\n", fd.option);
    printf("table: iommufd cheapest-iommufd-hwinfo 0 %.1f 0\n", fd.hw_info);
    printf("bench: vsva_over_iommufd_per_entry_batch64 = %.3f (goal <= 1.0)\n",
           vs.batch / fd.batch);
    return 0;
}
