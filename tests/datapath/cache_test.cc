// SPDX-License-Identifier: GPL-2.0
// vm_datapath: the emulated IOTLB, paging-structure cache, device TLB and
// PASID cache really cache: a changed guest PTE stays invisible until the
// matching invalidation (type x granularity) drops the stale entry.
#include <fstream>
#include <sstream>

#include <dirent.h>

#include "dp_fixture.h"

using namespace dp;

namespace {

constexpr uint64_t kOld = kData, kNew = kData + 0x10000;
constexpr uint8_t kIotlb = VSVA_CACHE_INV_TYPE_IOTLB;
constexpr uint8_t kDevTlb = VSVA_CACHE_INV_TYPE_DEV_IOTLB;
constexpr uint8_t kPasidCache = VSVA_CACHE_INV_TYPE_PASID;

class Cache : public Datapath {
protected:
    // Map kVa -> kOld, read it once (cached), then point the PTE at kNew
    // without invalidating.
    void MakeStale(uint32_t attach = 0) {
        Bind(4, attach);
        Stamp(kOld, 0x01d);
        Stamp(kNew, 0x2e3);
        pt_->Map4K(kVa, kOld);
        ASSERT_EQ(Read64(kVa), 0x01du);
        pt_->Map4K(kVa, kNew);
    }
};

TEST_F(Cache, StaleUntilAddrInvalidation) {
    MakeStale();
    auto c0 = ctx_.Counters();
    EXPECT_EQ(Read64(kVa), 0x01du) << "the IOTLB still holds kOld";
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_iotlb_hits, c0.out_iotlb_hits + 1);
    EXPECT_EQ(c1.out_walks, c0.out_walks);

    // Another page, another PASID: nothing dropped.
    uint32_t other;
    ASSERT_EQ(ctx_.PasidAlloc(&other), 0);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + k4K)), 0);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, other, kVa)), 0);
    EXPECT_EQ(Read64(kVa), 0x01du);

    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa)), 0);
    auto c2 = ctx_.Counters();
    EXPECT_EQ(c2.out_iotlb_flushed, c1.out_iotlb_flushed + 1);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
    EXPECT_EQ(ctx_.Counters().out_walks, c2.out_walks + 1);
}

TEST_F(Cache, AddrRangeOfSeveralGranules) {
    MakeStale();
    pt_->Map4K(kVa + 2 * k4K, kOld + k4K);
    Stamp(kOld + k4K, 5);
    ASSERT_EQ(Read64(kVa + 2 * k4K), 5u);
    pt_->Map4K(kVa + 2 * k4K, kNew + k4K);
    Stamp(kNew + k4K, 6);
    // [kVa + 4K, kVa + 12K) covers the second page only.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + k4K, k4K, 2)), 0);
    EXPECT_EQ(Read64(kVa), 0x01du);
    EXPECT_EQ(Read64(kVa + 2 * k4K), 6u);
    // A 2 MiB granule covers the first.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa, k2M, 1)), 0);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
}

TEST_F(Cache, StaleUntilPasidInvalidation) {
    MakeStale();
    uint32_t other;
    ASSERT_EQ(ctx_.PasidAlloc(&other), 0);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, other)), 0);
    EXPECT_EQ(Read64(kVa), 0x01du);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, pasid_)), 0);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
}

TEST_F(Cache, StaleUntilDomainInvalidation) {
    MakeStale();
    // The PASID cache is not the IOTLB.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvDomain(kPasidCache)), 0);
    EXPECT_EQ(Read64(kVa), 0x01du);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvDomain(kIotlb)), 0);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
}

TEST_F(Cache, LeafKeepsPagingStructureCache) {
    Bind();
    // Two pages of one 2 MiB region through table PT1.
    pt_->Map4K(kVa, kOld);
    pt_->Map4K(kVa + k4K, kOld + k4K);
    Stamp(kOld, 1);
    Stamp(kOld + k4K, 2);
    ASSERT_EQ(Read64(kVa), 1u); // caches the PDE (-> PT1) and kVa
    // Point the PDE at a new table PT2 in which kVa + 4K -> kNew.
    uint64_t pt2 = pt_->NewTable();
    ASSERT_NE(pt2, 0u);
    ram_.Q(pt2 + PageTables::Index(kVa + k4K, 1) * 8) = kNew | kUser;
    Stamp(kNew, 3);
    pt_->Pte(kVa, 2) = pt2 | kUser;

    // LEAF: only leaves changed, so the cached PDE (PT1) stays in use.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + k4K, k4K, 1, true)), 0);
    EXPECT_EQ(Read64(kVa + k4K), 2u);
    // Without LEAF the paging-structure entry goes too.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + k4K, k4K, 1, false)), 0);
    EXPECT_EQ(Read64(kVa + k4K), 3u);
}

// The opt-in VSVA_INV_SEPARATE_DEVTLB: the IOTLB and the device TLB are
// invalidated separately, as the VT-d spec has them.
TEST_F(Cache, SeparateDevTlbKeepsTheDeviceTlbUntilItsOwnInvalidation) {
    MakeStale(VSVA_ATTACH_ENABLE_ATS);
    auto c0 = ctx_.Counters();
    EXPECT_EQ(Read64(kVa), 0x01du);
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_devtlb_hits, c0.out_devtlb_hits + 1);
    EXPECT_EQ(c1.out_iotlb_hits, c0.out_iotlb_hits) << "a device-TLB hit does not reach the IOMMU";

    // The IOTLB alone: the device still translates with its own TLB.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa), VSVA_INV_SEPARATE_DEVTLB),
              0);
    EXPECT_EQ(ctx_.Counters().out_devtlb_flushed, c1.out_devtlb_flushed);
    EXPECT_EQ(Read64(kVa), 0x01du);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, pasid_), VSVA_INV_SEPARATE_DEVTLB), 0);
    EXPECT_EQ(Read64(kVa), 0x01du);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvDomain(kIotlb), VSVA_INV_SEPARATE_DEVTLB), 0);
    EXPECT_EQ(Read64(kVa), 0x01du);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kDevTlb, pasid_, kVa), VSVA_INV_SEPARATE_DEVTLB),
              0);
    auto c2 = ctx_.Counters();
    EXPECT_EQ(c2.out_devtlb_flushed, c1.out_devtlb_flushed + 1);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
}

// The default for v1 payloads (Linux 5.11 VT-d): an IOTLB invalidation of a
// device with ATS enabled flushes its device TLB too, over the same PASID
// and range, at every granularity.
TEST_F(Cache, IotlbInvalidationAlsoFlushesTheDeviceTlb) {
    struct Case {
        const char* name;
        vsva_cache_invalidate_info inv;
    };
    MakeStale(VSVA_ATTACH_ENABLE_ATS);
    const Case cases[] = {
            {"ADDR", Ctx::InvAddr(kIotlb, pasid_, kVa)},
            {"ADDR 8K", Ctx::InvAddr(kIotlb, pasid_, kVa, 2 * k4K)},
            {"PASID", Ctx::InvPasid(kIotlb, pasid_)},
            {"DOMAIN", Ctx::InvDomain(kIotlb)},
    };
    for (const auto& c : cases) {
        pt_->Map4K(kVa, kOld);
        ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb | kDevTlb, pasid_)), 0);
        ASSERT_EQ(Read64(kVa), 0x01du) << c.name;
        pt_->Map4K(kVa, kNew);
        auto c0 = ctx_.Counters();
        EXPECT_EQ(Read64(kVa), 0x01du) << c.name << ": stale before";
        EXPECT_EQ(ctx_.Counters().out_devtlb_hits, c0.out_devtlb_hits + 1) << c.name;
        ASSERT_EQ(ctx_.Invalidate(dev_, c.inv), 0) << c.name;
        auto c1 = ctx_.Counters();
        EXPECT_EQ(c1.out_devtlb_flushed, c0.out_devtlb_flushed + 1) << c.name;
        EXPECT_EQ(Read64(kVa), 0x2e3u) << c.name << ": no stale device-TLB entry survives";
    }
    // Another PASID or range of the IOTLB leaves the device TLB alone.
    pt_->Map4K(kVa, kOld);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, pasid_)), 0);
    ASSERT_EQ(Read64(kVa), 0x01du);
    pt_->Map4K(kVa, kNew);
    uint32_t other;
    ASSERT_EQ(ctx_.PasidAlloc(&other), 0);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, other)), 0);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + 2 * k4K, 2 * k4K)), 0);
    EXPECT_EQ(Read64(kVa), 0x01du);
    // An explicit DEV_IOTLB with it is flushed once, not twice.
    auto c0 = ctx_.Counters();
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb | kDevTlb, pasid_, kVa)), 0);
    EXPECT_EQ(ctx_.Counters().out_devtlb_flushed, c0.out_devtlb_flushed + 1);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
}

// Same default through the batch, and the opt-in there too.
TEST_F(Cache, BatchIotlbFlushesTheDeviceTlbUnlessSeparate) {
    MakeStale(VSVA_ATTACH_ENABLE_ATS);
    EXPECT_EQ(Read64(kVa), 0x01du);
    struct vsva_cache_invalidate_info inv[1] = {Ctx::InvAddr(kIotlb, pasid_, kVa)};
    struct vsva_cache_invalidate_batch b = {};
    b.argsz = sizeof(b);
    b.flags = VSVA_INV_SEPARATE_DEVTLB;
    b.target_id = dev_;
    b.entry_len = sizeof(inv[0]);
    b.entry_num = 1;
    b.data_uptr = (uintptr_t)inv;
    ASSERT_EQ(ctx_.Call(VSVA_CACHE_INVALIDATE_BATCH, &b), 0);
    EXPECT_EQ(b.entry_num, 1u);
    EXPECT_EQ(Read64(kVa), 0x01du) << "SEPARATE_DEVTLB: the device TLB stays";
    b.flags = 0;
    ASSERT_EQ(ctx_.Call(VSVA_CACHE_INVALIDATE_BATCH, &b), 0);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
}

// The 5.11 VMM's page-selective invalidation: granule_size = 4K << am,
// nb_granules = 1, for every am the VT-d descriptor allows.  Each one drops
// exactly the entries overlapping its range, whatever page size they map.
TEST_F(Cache, EveryPowerOfTwoGranuleDropsExactlyItsRange) {
    Bind();
    for (uint64_t i = 0; i < 4; i++) {
        pt_->Map4K(kVa + i * k4K, kOld + i * k4K);
        Stamp(kOld + i * k4K, 10 + i);
        Stamp(kNew + i * k4K, 20 + i);
    }
    auto reset = [&] {
        for (uint64_t i = 0; i < 4; i++)
            pt_->Map4K(kVa + i * k4K, kOld + i * k4K);
        ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, pasid_)), 0);
        for (uint64_t i = 0; i < 4; i++)
            ASSERT_EQ(Read64(kVa + i * k4K), 10 + i);
        for (uint64_t i = 0; i < 4; i++)
            pt_->Map4K(kVa + i * k4K, kNew + i * k4K);
    };
    // 8 KiB at kVa + 8K: pages 2 and 3 only.
    reset();
    auto c0 = ctx_.Counters();
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + 2 * k4K, 2 * k4K)), 0);
    EXPECT_EQ(ctx_.Counters().out_iotlb_flushed, c0.out_iotlb_flushed + 2);
    EXPECT_EQ(Read64(kVa), 10u);
    EXPECT_EQ(Read64(kVa + k4K), 11u);
    EXPECT_EQ(Read64(kVa + 2 * k4K), 22u);
    EXPECT_EQ(Read64(kVa + 3 * k4K), 23u);
    // 16 KiB: all four; 8 KiB x 2 granules: all four.
    reset();
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa, 4 * k4K)), 0);
    for (uint64_t i = 0; i < 4; i++)
        EXPECT_EQ(Read64(kVa + i * k4K), 20 + i) << "16K, page " << i;
    reset();
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa, 2 * k4K, 2)), 0);
    for (uint64_t i = 0; i < 4; i++)
        EXPECT_EQ(Read64(kVa + i * k4K), 20 + i) << "8K x 2, page " << i;
    // The address bits below the granule are masked (VT-d's AM): 16 KiB
    // named by kVa + 4K covers kVa .. kVa + 16K.
    reset();
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + k4K, 4 * k4K)), 0);
    for (uint64_t i = 0; i < 4; i++)
        EXPECT_EQ(Read64(kVa + i * k4K), 20 + i) << "masked 16K, page " << i;
    // am = 0..18 at kVa: each covers page 0; from am 2 on all four.
    for (unsigned am = 0; am <= 18; am++) {
        reset();
        ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa, k4K << am)), 0)
                << "am " << am;
        for (uint64_t i = 0; i < 4; i++)
            EXPECT_EQ(Read64(kVa + i * k4K), (i < (1ull << am) ? 20 : 10) + i)
                    << "am " << am << " page " << i;
    }
}

// A range smaller than a cached 2 MiB or 1 GiB translation drops it.
TEST_F(Cache, SmallGranuleDropsTheLargePageItFallsIn) {
    ASSERT_EQ(ram_.Add(ctx_, dom_, kHiGpa + 0x300000, k2M), 0);
    ASSERT_EQ(ram_.Add(ctx_, dom_, 2 * k1G + 0x300000, k2M), 0);
    Bind();
    // 2 MiB page: kVa -> kData, then -> kData + 2M.
    pt_->Map2M(kVa, kData);
    Stamp(kData + 0x10000, 1);
    Stamp(kData + k2M + 0x10000, 2);
    ASSERT_EQ(Read64(kVa + 0x10000), 1u);
    pt_->Map2M(kVa, kData + k2M);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + k2M, 2 * k4K)), 0);
    EXPECT_EQ(Read64(kVa + 0x10000), 1u) << "a range past the 2M page leaves it";
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + 0x1f0000, 2 * k4K)), 0);
    EXPECT_EQ(Read64(kVa + 0x10000), 2u) << "8K at the end of the 2M page drops it";

    // 1 GiB page at kVa + 1G: kHiGpa, then 2G.
    const uint64_t va = kVa + k1G;
    pt_->Map1G(va, kHiGpa);
    Stamp(kHiGpa + 0x300000, 3);
    Stamp(2 * k1G + 0x300000, 4);
    ASSERT_EQ(Read64(va + 0x300000), 3u);
    pt_->Map1G(va, 2 * k1G);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, va - 4 * k4K, 4 * k4K)), 0);
    EXPECT_EQ(Read64(va + 0x300000), 3u) << "16K just below the 1G page leaves it";
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, va + 0x3ff00000, 64 * k4K)), 0);
    EXPECT_EQ(Read64(va + 0x300000), 4u) << "256K near its end drops it";
}

// A non-leaf invalidation of a small power-of-two range drops the cached
// paging-structure entry (PDE) of the 2 MiB region it falls in, not others.
// Pages 1..4 of the region go through table PT1 (value 1 + i) until the PDE
// is repointed at PT2 (value 11 + i); each check reads a page not read
// before, so only the cached PDE decides which table it goes through.
TEST_F(Cache, SmallGranuleDropsThePdeOfItsRegion) {
    Bind();
    pt_->Map4K(kVa, kOld);
    Stamp(kOld, 1);
    uint64_t pt2 = pt_->NewTable();
    ASSERT_NE(pt2, 0u);
    for (uint64_t i = 1; i <= 4; i++) {
        pt_->Map4K(kVa + i * k4K, kOld + i * k4K);
        Stamp(kOld + i * k4K, 1 + i);
        ram_.Q(pt2 + PageTables::Index(kVa + i * k4K, 1) * 8) = (kNew + i * k4K) | kUser;
        Stamp(kNew + i * k4K, 11 + i);
    }
    ASSERT_EQ(Read64(kVa), 1u); // caches the PDE (-> PT1) and kVa
    pt_->Pte(kVa, 2) = pt2 | kUser;
    // LEAF keeps the PDE, even for a 32K range.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa, 8 * k4K, 1, true)), 0);
    EXPECT_EQ(Read64(kVa + k4K), 2u);
    // A non-leaf range in the next 2M region leaves this PDE.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + k2M, 8 * k4K)), 0);
    EXPECT_EQ(Read64(kVa + 2 * k4K), 3u);
    // A non-leaf 8K range elsewhere in this region drops it.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, pasid_, kVa + 0x100000, 2 * k4K)), 0);
    EXPECT_EQ(Read64(kVa + 3 * k4K), 14u);
}

TEST_F(Cache, DeviceTlbOnlyLeavesIotlbStale) {
    MakeStale(VSVA_ATTACH_ENABLE_ATS);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kDevTlb, pasid_)), 0);
    auto c0 = ctx_.Counters();
    EXPECT_EQ(Read64(kVa), 0x01du) << "refilled from the stale IOTLB";
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_devtlb_misses, c0.out_devtlb_misses + 1);
    EXPECT_EQ(c1.out_iotlb_hits, c0.out_iotlb_hits + 1);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb | kDevTlb, pasid_, kVa)), 0);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
}

TEST_F(Cache, Batch) {
    MakeStale();
    pt_->Map4K(kVa + k4K, kOld + k4K);
    Stamp(kOld + k4K, 7);
    ASSERT_EQ(Read64(kVa + k4K), 7u);
    pt_->Map4K(kVa + k4K, kNew + k4K);
    Stamp(kNew + k4K, 8);

    struct vsva_cache_invalidate_info inv[2] = {
            Ctx::InvAddr(kIotlb, pasid_, kVa),
            Ctx::InvAddr(kIotlb, pasid_, kVa + k4K),
    };
    struct vsva_cache_invalidate_batch b = {};
    b.argsz = sizeof(b);
    b.target_id = dev_;
    b.entry_len = sizeof(inv[0]);
    b.entry_num = 2;
    b.data_uptr = (uintptr_t)inv;
    auto c0 = ctx_.Counters();
    ASSERT_EQ(ctx_.Call(VSVA_CACHE_INVALIDATE_BATCH, &b), 0);
    EXPECT_EQ(b.entry_num, 2u);
    EXPECT_EQ(ctx_.Counters().out_iotlb_flushed, c0.out_iotlb_flushed + 2);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
    EXPECT_EQ(Read64(kVa + k4K), 8u);
}

TEST_F(Cache, TwoDevicesShareADomain) {
    pt_ = std::make_unique<PageTables>(ram_, kPool, kPoolEnd, 4);
    uint32_t a, b;
    ASSERT_EQ(ctx_.Attach(Rid(2), dom_, VSVA_ATTACH_ENABLE_ATS, &a), 0);
    ASSERT_EQ(ctx_.Attach(Rid(4), dom_, VSVA_ATTACH_ENABLE_ATS, &b), 0);
    ASSERT_EQ(ctx_.PasidAlloc(&pasid_), 0);
    auto c0 = ctx_.Counters();
    ASSERT_EQ(ctx_.Bind(dom_, pasid_, pt_->root(), 48, 0, VSVA_TARGET_DOMAIN), 0);
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_payload_copies, c0.out_payload_copies + 1);
    EXPECT_EQ(c1.out_binds, c0.out_binds + 2);

    Stamp(kOld, 0x01d);
    Stamp(kNew, 0x2e3);
    pt_->Map4K(kVa, kOld);
    for (uint32_t d : {a, b}) {
        dev_ = d;
        EXPECT_EQ(Read64(kVa), 0x01du);
    }
    pt_->Map4K(kVa, kNew);
    for (uint32_t d : {a, b}) {
        dev_ = d;
        EXPECT_EQ(Read64(kVa), 0x01du);
    }
    auto c2 = ctx_.Counters();
    ASSERT_EQ(
            ctx_.Invalidate(dom_, Ctx::InvAddr(kIotlb | kDevTlb, pasid_, kVa), VSVA_TARGET_DOMAIN),
            0);
    auto c3 = ctx_.Counters();
    EXPECT_EQ(c3.out_payload_copies, c2.out_payload_copies + 1);
    EXPECT_EQ(c3.out_devtlb_flushed, c2.out_devtlb_flushed + 2) << "both device TLBs";
    EXPECT_EQ(c3.out_iotlb_flushed, c2.out_iotlb_flushed + 1)
            << "one IOTLB entry per (domain, PASID, page)";
    for (uint32_t d : {a, b}) {
        dev_ = d;
        EXPECT_EQ(Read64(kVa), 0x2e3u);
    }
    ASSERT_EQ(ctx_.Unbind(dom_, pasid_, pt_->root(), 48, 0, VSVA_TARGET_DOMAIN), 0);
}

TEST_F(Cache, PasidCacheHitsAndInvalidation) {
    Bind();
    pt_->Map4K(kVa, kData);
    auto c0 = ctx_.Counters();
    Read64(kVa);
    Read64(kVa);
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_pasid_cache_misses, c0.out_pasid_cache_misses + 1);
    EXPECT_EQ(c1.out_pasid_cache_hits, c0.out_pasid_cache_hits + 1);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kPasidCache, pasid_)), 0);
    auto c2 = ctx_.Counters();
    EXPECT_EQ(c2.out_pasid_cache_flushed, c1.out_pasid_cache_flushed + 1);
    Read64(kVa);
    EXPECT_EQ(ctx_.Counters().out_pasid_cache_misses, c2.out_pasid_cache_misses + 1);
}

TEST_F(Cache, UnmapFlushesTheDomain) {
    ASSERT_EQ(ram_.Add(ctx_, dom_, kHiGpa, k2M), 0);
    Bind();
    pt_->Map4K(kVa, kHiGpa);
    Stamp(kHiGpa, 99);
    ASSERT_EQ(Read64(kVa), 99u);
    ASSERT_EQ(ctx_.Unmap(dom_, kHiGpa, k2M), 0);
    auto d = Fault(kVa, 0);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_ACCESS);
    EXPECT_EQ(d.out_fault.fetch_addr, kHiGpa);
}

TEST_F(Cache, CapacityEvictsLeastRecentlyUsed) {
    Bind();
    // 6000 pages (12 tables), all backed by one guest page.
    const unsigned n = 6000;
    for (unsigned i = 0; i < n; i++)
        pt_->Map4K(kVa + i * k4K, kData);
    Read64(kVa);
    auto c0 = ctx_.Counters();
    Read64(kVa);
    EXPECT_EQ(ctx_.Counters().out_walks, c0.out_walks) << "cached";
    for (unsigned i = 1; i < n; i++)
        Read64(kVa + i * k4K);
    auto c1 = ctx_.Counters();
    Read64(kVa);
    EXPECT_EQ(ctx_.Counters().out_walks, c1.out_walks + 1) << "evicted";
    // The most recent pages are still cached.
    auto c2 = ctx_.Counters();
    Read64(kVa + (n - 1) * k4K);
    EXPECT_EQ(ctx_.Counters().out_walks, c2.out_walks);
}

TEST_F(Cache, ContextsDoNotShareEntries) {
    MakeStale();
    // Another VM with its own domain: its flushes never touch ours.
    Ctx other;
    ASSERT_TRUE(other.ok());
    GuestRam ram2;
    uint32_t dom2, dev2, pasid2;
    ASSERT_EQ(other.DomainAlloc(&dom2), 0);
    ASSERT_EQ(ram2.Add(other, dom2, kRamGpa, kRamLen), 0);
    PageTables pt2(ram2, kPool, kPoolEnd);
    ASSERT_EQ(other.Attach(Rid(5), dom2, 0, &dev2), 0);
    ASSERT_EQ(other.PasidAlloc(&pasid2), 0);
    ASSERT_EQ(other.Bind(dev2, pasid2, pt2.root()), 0);
    ASSERT_EQ(other.Invalidate(dev2, Ctx::InvDomain(kIotlb | kPasidCache)), 0);
    EXPECT_EQ(other.Counters().out_iotlb_flushed, 0u);
    EXPECT_EQ(Read64(kVa), 0x01du) << "still cached for this context";
    other.Close();
    EXPECT_EQ(Read64(kVa), 0x01du);
}

TEST_F(Cache, DebugfsShowsState) {
    const std::string dir = "/sys/kernel/debug/vsva/ctx";
    DIR* d = opendir(dir.c_str());
    if (!d)
        GTEST_SKIP() << dir << " is missing (debugfs not mounted)";
    MakeStale();
    Read64(kVa);
    std::ostringstream want;
    want << "pasid " << pasid_ << " gpgd 0x" << std::hex << pt_->root() << " aw 48";
    std::string found;
    while (struct dirent* e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        std::ifstream f(dir + "/" + e->d_name);
        std::stringstream ss;
        ss << f.rdbuf();
        if (ss.str().find(want.str()) != std::string::npos)
            found = ss.str();
    }
    closedir(d);
    ASSERT_FALSE(found.empty()) << "no context shows " << want.str();
    EXPECT_NE(found.find("iotlb hits 1 misses 1"), std::string::npos) << found;
    EXPECT_NE(found.find("walks 1 faults 0"), std::string::npos) << found;
}

// The per-PASID index: a PASID-selective or wide ADDR flush drops exactly
// the entries of that PASID (and range), whatever else is cached.
TEST_F(Cache, PasidSelectiveFlushesDropExactlyTheirEntries) {
    Bind();
    const unsigned n = 200;
    for (unsigned i = 0; i < n; i++)
        pt_->Map4K(kVa + i * k4K, kData);
    uint32_t p2;
    ASSERT_EQ(ctx_.PasidAlloc(&p2), 0);
    ASSERT_EQ(ctx_.Bind(dev_, p2, pt_->root()), 0);
    uint64_t v;
    struct vsva_emu_dma d;
    auto read2 = [&](uint64_t va) {
        ASSERT_EQ(ctx_.Dma(dev_, p2, va, &v, 8, 0, &d), 0);
        ASSERT_EQ(d.out_flags, 0u);
    };
    for (unsigned i = 0; i < n; i++) {
        Read64(kVa + i * k4K);
        read2(kVa + i * k4K);
    }
    // A range too wide to probe page by page: the first 150 pages of p2.
    auto c0 = ctx_.Counters();
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, p2, kVa, k4K, 150, true)), 0);
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_iotlb_flushed - c0.out_iotlb_flushed, 150u);
    for (unsigned i = 0; i < n; i++)
        Read64(kVa + i * k4K);
    for (unsigned i = 150; i < n; i++)
        read2(kVa + i * k4K);
    auto c2 = ctx_.Counters();
    EXPECT_EQ(c2.out_walks, c1.out_walks) << "nothing else was dropped";
    // PASID-selective: the 50 left of p2, none of pasid_.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, p2)), 0);
    auto c3 = ctx_.Counters();
    EXPECT_EQ(c3.out_iotlb_flushed - c2.out_iotlb_flushed, 50u);
    for (unsigned i = 0; i < n; i++)
        Read64(kVa + i * k4K);
    EXPECT_EQ(ctx_.Counters().out_walks, c3.out_walks);
    // Unbinding p2 and flushing it again finds nothing; pasid_ still cached.
    ASSERT_EQ(ctx_.Unbind(dev_, p2, pt_->root()), 0);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, p2)), 0);
    auto c4 = ctx_.Counters();
    Read64(kVa);
    EXPECT_EQ(ctx_.Counters().out_walks, c4.out_walks);
    // Domain-wide: all of them.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvDomain(kIotlb)), 0);
    auto c5 = ctx_.Counters();
    EXPECT_EQ(c5.out_iotlb_flushed - c4.out_iotlb_flushed, (uint64_t)n);
}

// Two domains of one context: a flush of one never drops the other's.
TEST_F(Cache, DomainsOfOneContextDoNotShareEntries) {
    MakeStale();
    uint32_t dom2, dev2, p2;
    GuestRam ram2;
    ASSERT_EQ(ctx_.DomainAlloc(&dom2), 0);
    ASSERT_EQ(ram2.Add(ctx_, dom2, kRamGpa, kRamLen), 0);
    PageTables pt2(ram2, kPool, kPoolEnd);
    pt2.Map4K(kVa, kData);
    ASSERT_EQ(ctx_.Attach(Rid(6), dom2, 0, &dev2), 0);
    ASSERT_EQ(ctx_.PasidAlloc(&p2), 0);
    ASSERT_EQ(ctx_.Bind(dev2, p2, pt2.root()), 0);
    uint64_t v;
    struct vsva_emu_dma d;
    ASSERT_EQ(ctx_.Dma(dev2, p2, kVa, &v, 8, 0, &d), 0);
    ASSERT_EQ(ctx_.Dma(dev2, pasid_, kVa, &v, 8, 0, &d), 0);
    auto c0 = ctx_.Counters();
    ASSERT_EQ(ctx_.Invalidate(dev2, Ctx::InvDomain(kIotlb | kPasidCache)), 0);
    ASSERT_EQ(ctx_.Invalidate(dev2, Ctx::InvPasid(kIotlb, pasid_)), 0);
    EXPECT_EQ(ctx_.Counters().out_iotlb_flushed - c0.out_iotlb_flushed, 1u)
            << "dom2's one translation";
    EXPECT_EQ(Read64(kVa), 0x01du) << "dom_'s entry is still there";
}

} // namespace
