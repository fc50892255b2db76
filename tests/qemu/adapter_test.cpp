// SPDX-License-Identifier: GPL-2.0
// The adapter against a fake host: PASID-cache invalidation → bind / unbind
// / rebind; P_IOTLB / P_DEVTLB / IOTLB → host invalidations; batching up to
// the wait descriptor; the status write; the queue registers and IQE.
#include <linux/vsva.h>

#include <gtest/gtest.h>

#include "builders.h"
#include "vsva/qemu/adapter.h"

using namespace vsva::qemu;
using vsva::Result;
namespace t = vtdtest;

namespace {

constexpr uint64_t kDir = 0x10000;    // PASID directory (PDTS 0: 128 entries)
constexpr uint64_t kTable0 = 0x11000; // PASIDs 0..63
constexpr uint64_t kTable1 = 0x12000; // PASIDs 64..127
constexpr uint64_t kQueue = 0x20000;  // invalidation queue, 4 KiB, 256-bit
constexpr uint64_t kStatus = 0x30000;
constexpr uint16_t kSid = 0x0100;
constexpr uint16_t kSid2 = 0x0108;
constexpr QueueMode kSm{true, true};

class AdapterTest : public ::testing::Test {
protected:
    t::FakeMemory mem;
    t::FakeHost host;
    VtdAdapter ad{host, mem};
    unsigned tail = 0;

    void SetUp() override {
        mem.put64(kDir + 0 * 8, kTable0 | 1);
        mem.put64(kDir + 1 * 8, kTable1 | 1);
        ASSERT_TRUE(ad.add_device(kSid, 7).has_value());
        ASSERT_TRUE(ad.set_pasid_dir(kSid, kDir, 0).has_value());
        ad.set_iqa(kQueue | (1ull << 11) | 0); // DW=1, QS=0: 128 descriptors
    }
    void entry(uint32_t pasid, const t::Pe& pe) {
        const uint64_t table = pasid < 64 ? kTable0 : kTable1;
        mem.put_entry(table + (pasid % 64) * 64, pe.q);
    }
    Result<DescOutcome> run(const t::Desc& d) {
        return ad.process(std::span<const uint64_t>(d.data(), 4), kSm);
    }
    void push(const t::Desc& d) { mem.put_desc(kQueue + (tail++ % 128) * 32, d); }
    QueueResult kick() { return ad.write_iqt(uint64_t(tail % 128) << 5); }
};

TEST_F(AdapterTest, PasidSelectivePcBinds) {
    entry(5, t::Pe::fs(0x40000, 3).sre());
    auto r = run(t::pc(1, 3, 5));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    ASSERT_EQ(host.binds.size(), 1u);
    const auto& b = host.binds[0];
    EXPECT_EQ(b.dev, 7u);
    EXPECT_EQ(b.gpasid, 5u);
    EXPECT_EQ(b.hpasid, 100u);
    EXPECT_EQ(b.gpgd, 0x40000u);
    EXPECT_EQ(b.addr_width, 48u);
    EXPECT_EQ(b.vtd_flags, VSVA_VTD_GPASID_SRE);
    ASSERT_EQ(host.allocs.size(), 1u);
    EXPECT_EQ(host.allocs[0].first, 5u);
    EXPECT_EQ(ad.hpasid_of(5), 100u);
    EXPECT_EQ(ad.gpasid_of(100), 5u);
    auto bp = ad.binding(kSid, 5);
    ASSERT_TRUE(bp);
    EXPECT_EQ(bp->intent.did, 3);
}

TEST_F(AdapterTest, PcWithOtherDidDoesNothing) {
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 4, 5)).has_value());
    EXPECT_TRUE(host.binds.empty());
}

TEST_F(AdapterTest, SameEntryAgainIsNoOp) {
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    EXPECT_EQ(host.binds.size(), 1u);
    EXPECT_TRUE(host.unbinds.empty());
}

TEST_F(AdapterTest, ChangedEntryRebindsKeepingHostPasid) {
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    entry(5, t::Pe::fs(0x50000, 3).fspm(1));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    ASSERT_EQ(host.unbinds.size(), 1u);
    ASSERT_EQ(host.binds.size(), 2u);
    EXPECT_EQ(host.unbinds[0].gpgd, 0x40000u);
    EXPECT_EQ(host.binds[1].gpgd, 0x50000u);
    EXPECT_EQ(host.binds[1].addr_width, 57u);
    EXPECT_EQ(host.binds[1].hpasid, host.binds[0].hpasid);
    EXPECT_EQ(host.allocs.size(), 1u);
    EXPECT_TRUE(host.freed.empty());
    EXPECT_EQ(ad.stats().rebinds, 1u);
}

TEST_F(AdapterTest, DidOnlyChangeIsNotARebind) {
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    entry(5, t::Pe::fs(0x40000, 4));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value()); // matches the cached DID 3
    EXPECT_EQ(host.binds.size(), 1u);
    EXPECT_EQ(ad.binding(kSid, 5)->intent.did, 4);
    EXPECT_EQ(ad.stats().did_updates, 1u);
}

TEST_F(AdapterTest, ClearedEntryUnbindsAndFreesHostPasid) {
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    entry(5, t::Pe{});
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    ASSERT_EQ(host.unbinds.size(), 1u);
    EXPECT_EQ(host.unbinds[0].hpasid, 100u);
    ASSERT_EQ(host.freed.size(), 1u);
    EXPECT_EQ(host.freed[0], 100u);
    EXPECT_FALSE(ad.binding(kSid, 5));
    EXPECT_FALSE(ad.hpasid_of(5));
}

TEST_F(AdapterTest, DirectoryEntryClearedUnbinds) {
    entry(70, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 70)).has_value());
    ASSERT_EQ(host.binds.size(), 1u);
    mem.put64(kDir + 8, 0);
    ASSERT_TRUE(run(t::pc(1, 3, 70)).has_value());
    EXPECT_EQ(host.unbinds.size(), 1u);
}

TEST_F(AdapterTest, MalformedEntryIsNotBoundAndUnbindsOld) {
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    entry(5, t::Pe::fs(0x40000, 3).bit(94)); // PWT in rev 3.x, reserved in 5.10
    auto r = run(t::pc(1, 3, 5));
    ASSERT_TRUE(r.has_value()); // the descriptor itself is fine: no IQE
    EXPECT_EQ(host.unbinds.size(), 1u);
    EXPECT_EQ(host.binds.size(), 1u);
    EXPECT_EQ(ad.stats().bad_entries, 1u);
}

TEST_F(AdapterTest, PassThroughAndSecondStageAreNotBound) {
    entry(6, t::Pe{}.present().pgtt(4).did(3));
    entry(7, t::Pe{}.present().pgtt(2).aw(2).did(3));
    ASSERT_TRUE(run(t::pc(0, 3)).has_value());
    EXPECT_TRUE(host.binds.empty());
    EXPECT_EQ(ad.stats().bad_entries, 2u);
}

TEST_F(AdapterTest, DomainSelectivePcWalksTheTable) {
    entry(1, t::Pe::fs(0x41000, 3));
    entry(2, t::Pe::fs(0x42000, 4));
    entry(64, t::Pe::fs(0x43000, 3));
    ASSERT_TRUE(run(t::pc(0, 3)).has_value());
    ASSERT_EQ(host.binds.size(), 2u);
    EXPECT_EQ(host.binds[0].gpasid, 1u);
    EXPECT_EQ(host.binds[1].gpasid, 64u);
    ASSERT_TRUE(run(t::pc(3, 0)).has_value()); // global picks up DID 4 too
    ASSERT_EQ(host.binds.size(), 3u);
    EXPECT_EQ(host.binds[2].gpasid, 2u);
}

TEST_F(AdapterTest, GlobalPcUnbindsVanishedEntries) {
    entry(1, t::Pe::fs(0x41000, 3));
    entry(2, t::Pe::fs(0x42000, 3));
    ASSERT_TRUE(run(t::pc(3, 0)).has_value());
    entry(2, t::Pe{});
    ASSERT_TRUE(run(t::pc(3, 0)).has_value());
    ASSERT_EQ(host.unbinds.size(), 1u);
    EXPECT_EQ(host.unbinds[0].gpasid, 2u);
}

TEST_F(AdapterTest, TwoDevicesShareOneHostPasid) {
    ASSERT_TRUE(ad.add_device(kSid2, 8).has_value());
    ASSERT_TRUE(ad.set_pasid_dir(kSid2, kDir, 0).has_value()); // same guest tables
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    ASSERT_EQ(host.binds.size(), 2u);
    EXPECT_EQ(host.binds[0].hpasid, host.binds[1].hpasid);
    EXPECT_EQ(host.allocs.size(), 1u);
    ASSERT_TRUE(ad.remove_device(kSid2).has_value());
    EXPECT_TRUE(host.freed.empty()); // still bound on the first device
    ASSERT_TRUE(ad.unbind(kSid, 5).has_value());
    EXPECT_EQ(host.freed.size(), 1u);
}

TEST_F(AdapterTest, BindFailureLeavesNothing) {
    host.fail_bind = EBUSY;
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    EXPECT_FALSE(ad.binding(kSid, 5));
    EXPECT_EQ(host.freed.size(), 1u); // the host PASID went back
    EXPECT_EQ(ad.stats().host_errors, 1u);
}

TEST_F(AdapterTest, BindEntryAndUnbindDirect) {
    auto s = ad.bind_entry(kSid, 9, t::Pe::fs(0x44000, 2).q);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    EXPECT_EQ(host.binds.size(), 1u);
    auto bad = ad.bind_entry(kSid, 9, t::Pe::fs(0x44000, 2).bit(300).q);
    EXPECT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().code(), EINVAL);
    EXPECT_TRUE(ad.unbind(kSid, 9).has_value());
    EXPECT_EQ(ad.unbind(kSid, 9).error().code(), ENOENT);
    EXPECT_EQ(ad.bind_entry(0x9999, 9, t::Pe::fs(0x44000).q).error().code(), ENOENT);
}

// --- invalidations ---------------------------------------------------------
class BoundTest : public AdapterTest {
protected:
    void SetUp() override {
        AdapterTest::SetUp();
        entry(5, t::Pe::fs(0x40000, 3));
        ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    }
};

TEST_F(BoundTest, PIotlbPasidSelective) {
    auto r = run(t::piotlb(2, 3, 5));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->forwarded, 1u);
    EXPECT_TRUE(host.batches.empty()); // waits for the wait descriptor
    ASSERT_TRUE(run(t::wait(kStatus, 1)).has_value());
    ASSERT_EQ(host.batches.size(), 1u);
    ASSERT_EQ(host.batches[0].size(), 1u);
    const auto& i = host.batches[0][0];
    EXPECT_EQ(i.cache, Cache::kIotlb);
    EXPECT_EQ(i.granu, Granu::kPasid);
    EXPECT_EQ(i.hpasid, 100u);
    EXPECT_EQ(i.dev, 7u);
}

TEST_F(BoundTest, PIotlbPageSelectiveRangeEveryAm) {
    for (unsigned am = 0; am <= 18; ++am) {
        ASSERT_TRUE(run(t::piotlb(3, 3, 5, 0x80000000ull + 0x1000, am, am % 2)).has_value());
    }
    ASSERT_TRUE(ad.flush().has_value());
    ASSERT_EQ(host.batches.size(), 1u);
    ASSERT_EQ(host.batches[0].size(), 19u);
    for (unsigned am = 0; am <= 18; ++am) {
        const auto& i = host.batches[0][am];
        const uint64_t size = 4096ull << am;
        EXPECT_EQ(i.granu, Granu::kAddr);
        EXPECT_EQ(i.granule_size, size) << am;
        EXPECT_EQ(i.nb_granules, 1u);
        EXPECT_EQ(i.addr, (0x80000000ull + 0x1000) & ~(size - 1)) << am;
        EXPECT_EQ(i.addr % size, 0u);
        EXPECT_EQ(i.leaf, bool(am % 2));
    }
}

TEST_F(BoundTest, PIotlbNonMatchingDidOrPasidForwardsNothing) {
    EXPECT_EQ(run(t::piotlb(2, 4, 5))->forwarded, 0u);
    EXPECT_EQ(run(t::piotlb(2, 3, 6))->forwarded, 0u);
    ASSERT_TRUE(run(t::wait(kStatus, 1)).has_value());
    EXPECT_TRUE(host.batches.empty()); // nothing to submit
}

TEST_F(BoundTest, IotlbScalableModeByDid) {
    EXPECT_EQ(run(t::iotlb(2, 3))->forwarded, 1u);
    EXPECT_EQ(run(t::iotlb(2, 4))->forwarded, 0u);
    EXPECT_EQ(run(t::iotlb(1))->forwarded, 1u);
    EXPECT_EQ(run(t::iotlb(3, 3, 0x1000, 0))->forwarded, 1u); // FS entries: by DID only
    ASSERT_TRUE(ad.flush().has_value());
    for (const auto& i : host.batches.at(0)) {
        EXPECT_EQ(i.granu, Granu::kPasid);
        EXPECT_EQ(i.source, DescType::kIotlb);
    }
}

TEST_F(BoundTest, PDevTlbRangeGlobalAndAll) {
    EXPECT_EQ(run(t::pdevtlb(kSid, 5, 0x10000, 0))->forwarded, 1u);
    EXPECT_EQ(run(t::pdevtlb(kSid, 5, 0x200000, 9))->forwarded, 1u);
    auto all = t::pdevtlb(kSid, 5, 0, 0);
    all[1] = 0x7fff'ffff'ffff'f000ull | (1ull << 11);
    EXPECT_EQ(run(all)->forwarded, 1u);
    EXPECT_EQ(run(t::pdevtlb(kSid, 6, 0x10000, 0))->forwarded, 0u);       // unbound PASID
    EXPECT_EQ(run(t::pdevtlb(kSid, 6, 0x10000, 0, true))->forwarded, 1u); // GI
    EXPECT_EQ(run(t::pdevtlb(0x0200, 5, 0x10000, 0))->forwarded, 0u);     // unknown SID
    ASSERT_TRUE(ad.flush().has_value());
    const auto& b = host.batches.at(0);
    ASSERT_EQ(b.size(), 4u);
    EXPECT_EQ(b[0].cache, Cache::kDevIotlb);
    EXPECT_EQ(b[0].granu, Granu::kAddr);
    EXPECT_EQ(b[0].addr, 0x10000u);
    EXPECT_EQ(b[0].granule_size, 0x1000u);
    EXPECT_EQ(b[1].addr, 0x200000u);
    EXPECT_EQ(b[1].granule_size, 0x200000u);
    EXPECT_EQ(b[2].granu, Granu::kPasid);
    EXPECT_EQ(b[3].hpasid, 100u);
}

TEST_F(BoundTest, CcIecDevTlbForwardNothing) {
    EXPECT_EQ(run(t::cc(1))->forwarded, 0u);
    EXPECT_EQ(run(t::iec(false))->forwarded, 0u);
    EXPECT_EQ(run(t::devtlb(kSid, 0x1000, false))->forwarded, 0u);
    EXPECT_TRUE(ad.flush().has_value());
    EXPECT_TRUE(host.batches.empty());
}

TEST_F(BoundTest, WaitStatusWriteAndInterrupt) {
    auto r = run(t::wait(kStatus, 0xfeedbeef, true, true));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->wait);
    EXPECT_TRUE(r->status_written);
    EXPECT_TRUE(r->interrupt);
    EXPECT_EQ(mem.get32(kStatus), 0xfeedbeefu);
    auto nosw = run(t::wait(kStatus, 0x1111, false, false));
    ASSERT_TRUE(nosw.has_value());
    EXPECT_FALSE(nosw->status_written);
    EXPECT_EQ(mem.get32(kStatus), 0xfeedbeefu);
}

// The status write is the library's, once; a faulting one is the queue's
// error (the vIOMMU reports IQE), not a silent success.
TEST_F(BoundTest, StatusWriteToBadAddressIsReported) {
    ASSERT_TRUE(run(t::piotlb(2, 3, 5)).has_value());
    auto r = run(t::wait(0x7fff'0000'0000ull, 1));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), EFAULT);
    EXPECT_NE(r.error().message().find("status write"), std::string::npos);
    EXPECT_EQ(host.batches.size(), 1u); // the invalidations before it were submitted
    EXPECT_EQ(ad.stats().status_write_faults, 1u);
    // Through the queue: IQE at the wait descriptor.
    push(t::wait(0x7fff'0000'0000ull, 1));
    auto q = kick();
    EXPECT_TRUE(q.iqe);
    EXPECT_EQ(q.processed, 0u);
}

TEST_F(BoundTest, BatchPerWaitThroughTheQueue) {
    push(t::piotlb(3, 3, 5, 0x1000, 0));
    push(t::piotlb(3, 3, 5, 0x200000, 9, true));
    push(t::pdevtlb(kSid, 5, 0x1000, 0));
    push(t::wait(kStatus, 1));
    push(t::piotlb(2, 3, 5));
    push(t::wait(kStatus + 4, 2, true, true));
    auto q = kick();
    EXPECT_FALSE(q.iqe) << q.error;
    EXPECT_EQ(q.processed, 6u);
    EXPECT_TRUE(q.interrupt);
    EXPECT_EQ(q.iqh, uint64_t(6) << 5);
    ASSERT_EQ(host.batches.size(), 2u);
    EXPECT_EQ(host.batches[0].size(), 3u);
    EXPECT_EQ(host.batches[1].size(), 1u);
    EXPECT_EQ(mem.get32(kStatus), 1u);
    EXPECT_EQ(mem.get32(kStatus + 4), 2u);
    EXPECT_EQ(ad.stats().batch_sizes, (std::vector<size_t>{3, 1}));
    EXPECT_EQ(ad.stats().waits, 2u);
}

TEST_F(BoundTest, InvalidDescriptorStopsTheQueueAtIt) {
    push(t::piotlb(2, 3, 5));
    push(t::wait(kStatus, 1));
    push(t::piotlb(3, 3, 5, 0, 19)); // AM above MAMV
    push(t::wait(kStatus, 2));
    auto q = kick();
    EXPECT_TRUE(q.iqe);
    EXPECT_NE(q.error.find("MAMV"), std::string::npos) << q.error;
    EXPECT_EQ(q.processed, 2u);
    EXPECT_EQ(q.iqh, uint64_t(2) << 5); // IQH points at the bad descriptor
    EXPECT_EQ(mem.get32(kStatus), 1u);  // the second wait never ran
    EXPECT_EQ(ad.stats().invalid_descriptors, 1u);
}

TEST_F(BoundTest, PcSubmitsEarlierInvalidationsFirst) {
    push(t::piotlb(2, 3, 5));
    entry(5, t::Pe{});
    push(t::pc(1, 3, 5)); // unbind
    push(t::wait(kStatus, 9));
    auto q = kick();
    EXPECT_FALSE(q.iqe) << q.error;
    ASSERT_EQ(host.batches.size(), 1u); // the P_IOTLB went before the unbind
    EXPECT_EQ(host.unbinds.size(), 1u);
    EXPECT_EQ(mem.get32(kStatus), 9u);
}

TEST_F(BoundTest, QueueWrapsAround) {
    for (unsigned i = 0; i < 127; ++i)
        push(t::iec(false));
    ASSERT_FALSE(kick().iqe);
    push(t::piotlb(2, 3, 5));
    push(t::wait(kStatus, 77));
    auto q = kick();
    EXPECT_FALSE(q.iqe) << q.error;
    EXPECT_EQ(q.processed, 2u);
    EXPECT_EQ(q.iqh, uint64_t(1) << 5);
    EXPECT_EQ(mem.get32(kStatus), 77u);
}

TEST_F(BoundTest, IqtRules) {
    auto q = ad.write_iqt(0x10); // bit 4 reserved with DW=1
    EXPECT_TRUE(q.iqe);
    q = ad.write_iqt(uint64_t(200) << 5); // beyond 128 entries
    EXPECT_TRUE(q.iqe);
}

TEST_F(BoundTest, Legacy128BitQueueRejectsInScalableMode) {
    ad.set_iqa(kQueue); // DW=0
    uint64_t d[2] = {t::wait(kStatus, 5)[0], t::wait(kStatus, 5)[1]};
    std::memcpy(mem.ram.data() + kQueue, d, 16);
    auto q = ad.write_iqt(1 << 4);
    EXPECT_TRUE(q.iqe);
    EXPECT_NE(q.error.find("scalable"), std::string::npos) << q.error;
}

TEST_F(BoundTest, Legacy128BitQueueInLegacyMode) {
    ad.set_iqa(kQueue, /*scalable=*/false);
    uint64_t d[2] = {t::wait(kStatus, 5)[0], t::wait(kStatus, 5)[1]};
    std::memcpy(mem.ram.data() + kQueue, d, 16);
    auto q = ad.write_iqt(1 << 4);
    EXPECT_FALSE(q.iqe) << q.error;
    EXPECT_EQ(q.iqh, 1u << 4);
    EXPECT_EQ(mem.get32(kStatus), 5u);
}

TEST_F(BoundTest, HostBatchFailureIsCountedWaitStillCompletes) {
    host.fail_invalidate = EINVAL;
    ASSERT_TRUE(run(t::piotlb(2, 3, 5)).has_value());
    auto r = run(t::wait(kStatus, 3));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->status_written);
    EXPECT_EQ(ad.stats().host_errors, 1u);
}

TEST_F(BoundTest, RemoveDeviceUnbindsEverything) {
    entry(6, t::Pe::fs(0x46000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 6)).has_value());
    ASSERT_TRUE(ad.remove_device(kSid).has_value());
    EXPECT_EQ(host.unbinds.size(), 2u);
    EXPECT_EQ(host.freed.size(), 2u);
}

TEST(Uapi, BindPayload) {
    BindRequest b{3, 100, 5, 0x40000, 57, VSVA_VTD_GPASID_SRE};
    vsva_gpasid_bind_data d;
    to_uapi(b, &d);
    EXPECT_EQ(d.argsz, 72u);
    EXPECT_EQ(d.version, 1u);
    EXPECT_EQ(d.format, 1u);
    EXPECT_EQ(d.addr_width, 57u);
    EXPECT_EQ(d.flags, VSVA_SVA_GPASID_VAL);
    EXPECT_EQ(d.gpgd, 0x40000u);
    EXPECT_EQ(d.hpasid, 100u);
    EXPECT_EQ(d.gpasid, 5u);
    EXPECT_EQ(d.vendor.vtd.flags, VSVA_VTD_GPASID_SRE);
    EXPECT_EQ(d.vendor.vtd.pat, 0u);
}

TEST(Uapi, InvalidatePayloads) {
    Invalidation a;
    a.cache = Cache::kIotlb;
    a.granu = Granu::kAddr;
    a.hpasid = 100;
    a.addr = 0x200000;
    a.granule_size = 0x200000;
    a.nb_granules = 1;
    a.leaf = true;
    vsva_cache_invalidate_info i;
    to_uapi(a, &i);
    EXPECT_EQ(i.argsz, 56u);
    EXPECT_EQ(i.version, 1u);
    EXPECT_EQ(i.cache, VSVA_CACHE_INV_TYPE_IOTLB);
    EXPECT_EQ(i.granularity, VSVA_INV_GRANU_ADDR);
    EXPECT_EQ(i.granu.addr_info.flags, VSVA_INV_ADDR_FLAGS_PASID | VSVA_INV_ADDR_FLAGS_LEAF);
    EXPECT_EQ(i.granu.addr_info.pasid, 100u);
    EXPECT_EQ(i.granu.addr_info.addr, 0x200000u);
    EXPECT_EQ(i.granu.addr_info.granule_size, 0x200000u);
    EXPECT_EQ(i.granu.addr_info.nb_granules, 1u);
    // AM=10 (4 MiB): 2 × 2 MiB; AM=3 (32 KiB): 8 × 4 KiB; AM=18: 1 × 1 GiB.
    a.addr = 0x800000;
    a.granule_size = 4096ull << 10;
    to_uapi(a, &i);
    EXPECT_EQ(i.granu.addr_info.granule_size, 2u << 20);
    EXPECT_EQ(i.granu.addr_info.nb_granules, 2u);
    a.addr = 0x8000;
    a.granule_size = 4096ull << 3;
    to_uapi(a, &i);
    EXPECT_EQ(i.granu.addr_info.granule_size, 4096u);
    EXPECT_EQ(i.granu.addr_info.nb_granules, 8u);
    a.addr = 1ull << 30;
    a.granule_size = 4096ull << 18;
    to_uapi(a, &i);
    EXPECT_EQ(i.granu.addr_info.granule_size, 1u << 30);
    EXPECT_EQ(i.granu.addr_info.nb_granules, 1u);
    Invalidation p;
    p.cache = Cache::kDevIotlb;
    p.granu = Granu::kPasid;
    p.hpasid = 42;
    to_uapi(p, &i);
    EXPECT_EQ(i.cache, VSVA_CACHE_INV_TYPE_DEV_IOTLB);
    EXPECT_EQ(i.granularity, VSVA_INV_GRANU_PASID);
    EXPECT_EQ(i.granu.pasid_info.flags, VSVA_INV_PASID_FLAGS_PASID);
    EXPECT_EQ(i.granu.pasid_info.pasid, 42u);
}

// --- RID_PASID (guest PASID 0: requests without PASID) ------------------------
class RidPasidTest : public AdapterTest {
protected:
    void SetUp() override {
        AdapterTest::SetUp();
        entry(0, t::Pe::fs(0x40000, 2)); // a Linux 6.1 DMA domain, DID 2
        auto r = ad.sync_pasid(kSid, 0);
        ASSERT_TRUE(r.has_value()) << r.error().message();
    }
};

TEST_F(RidPasidTest, BindsAsHostRidPasidWithoutAllocating) {
    ASSERT_EQ(host.binds.size(), 1u);
    EXPECT_EQ(host.binds[0].hpasid, kRidPasid);
    EXPECT_EQ(host.binds[0].gpasid, 0u);
    EXPECT_TRUE(host.allocs.empty());
    ASSERT_TRUE(ad.binding(kSid, 0));
    ASSERT_TRUE(ad.unbind(kSid, 0).has_value());
    EXPECT_EQ(host.unbinds.size(), 1u);
    EXPECT_TRUE(host.freed.empty());
}

TEST_F(RidPasidTest, EveryInvalidationReachesIt) {
    EXPECT_EQ(run(t::piotlb(2, 2, 0))->forwarded, 1u);                  // Linux qi_flush_piotlb
    EXPECT_EQ(run(t::piotlb(3, 2, 0, 0x7000, 0, true))->forwarded, 1u); // one page
    EXPECT_EQ(run(t::iotlb(2, 2))->forwarded, 1u);                      // domain-selective
    EXPECT_EQ(run(t::iotlb(1))->forwarded, 1u);                         // global
    EXPECT_EQ(run(t::devtlb(kSid, 0x5000, false))->forwarded, 1u);      // no PASID: type 3
    EXPECT_EQ(run(t::pdevtlb(kSid, 0, 0x6000, 0))->forwarded, 1u);      // P_DEVTLB PASID 0
    EXPECT_EQ(run(t::devtlb(kSid2, 0x5000, false))->forwarded, 0u);     // other device
    ASSERT_TRUE(run(t::wait(kStatus, 1)).has_value());
    ASSERT_EQ(host.batches.size(), 1u);
    const auto& b = host.batches[0];
    ASSERT_EQ(b.size(), 6u);
    for (const auto& i : b)
        EXPECT_EQ(i.hpasid, kRidPasid);
    EXPECT_EQ(b[4].cache, Cache::kDevIotlb);
    EXPECT_EQ(b[4].granu, Granu::kAddr);
    EXPECT_EQ(b[4].addr, 0x5000u);
    EXPECT_EQ(b[4].granule_size, 0x1000u);
    EXPECT_EQ(b[4].source, DescType::kDevTlb);
}

TEST_F(RidPasidTest, PcOfPasidZeroRereadsEntryZero) {
    entry(0, t::Pe{});
    ASSERT_TRUE(run(t::pc(1, 2, 0)).has_value());
    EXPECT_EQ(host.unbinds.size(), 1u);
    EXPECT_FALSE(ad.binding(kSid, 0));
}

TEST(RidPasidNoHost, RefusedWithoutTheHostFeature) {
    t::FakeMemory mem;
    t::FakeHost host;
    host.has_rid_pasid = false;
    VtdAdapter ad{host, mem};
    ASSERT_TRUE(ad.add_device(kSid, 7).has_value());
    auto r = ad.bind_entry(kSid, 0, t::Pe::fs(0x40000, 2).q);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), EOPNOTSUPP);
    EXPECT_NE(r.error().message().find("VSVA_FEAT_RID_PASID"), std::string::npos);
    EXPECT_EQ(ad.sync_pasid(kSid, 0).error().code(), EOPNOTSUPP);
    EXPECT_EQ(ad.unbind(kSid, 0).error().code(), EOPNOTSUPP);
    EXPECT_TRUE(host.calls.empty());
}

// --- one device's refused batch does not drop the others' -------------------
TEST_F(AdapterTest, RefusedBatchOfOneDeviceKeepsTheOthers) {
    ASSERT_TRUE(ad.add_device(kSid2, 8).has_value());
    ASSERT_TRUE(ad.set_pasid_dir(kSid2, kDir, 0).has_value());
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value()); // bound on host devices 7 and 8
    host.fail_invalidate_dev = 7;
    ASSERT_EQ(run(t::piotlb(2, 3, 5))->forwarded, 2u);
    auto r = ad.flush();
    ASSERT_FALSE(r.has_value());        // the first error is reported...
    ASSERT_EQ(host.batches.size(), 1u); // ...after device 8's batch went through
    ASSERT_EQ(host.batches[0].size(), 1u);
    EXPECT_EQ(host.batches[0][0].dev, 8u);
    EXPECT_EQ(ad.stats().host_errors, 1u);
    EXPECT_EQ(ad.stats().invalidations, 1u);
}

// --- a global PC costs what the guest has present ----------------------------
TEST(GlobalPc, WorkBoundedByPresentEntries) {
    t::FakeMemory mem(8 << 20);
    t::FakeHost host;
    VtdAdapter ad{host, mem};
    ASSERT_TRUE(ad.add_device(kSid, 7).has_value());
    // PDTS 7: the largest directory (2^14 entries, 2^20 PASIDs); 3 entries
    // present in 2 tables.
    constexpr uint64_t dir = 0x100000, ta = 0x200000, tb = 0x201000;
    auto put = [&](uint64_t table, uint32_t idx, const t::Pe& pe) {
        mem.put_entry(table + idx * 64, pe.q);
    };
    mem.put64(dir + 0 * 8, ta | 1);
    mem.put64(dir + 16383 * 8, tb | 1);
    put(ta, 0, t::Pe::fs(0x40000, 2));
    put(ta, 9, t::Pe::fs(0x41000, 2));
    put(tb, 63, t::Pe::fs(0x42000, 2)); // PASID 2^20 - 1
    ASSERT_TRUE(ad.set_pasid_dir(kSid, dir, 7).has_value());
    ASSERT_TRUE(ad.process(std::span<const uint64_t>(t::pc(3, 0).data(), 4), kSm).has_value());
    EXPECT_EQ(host.binds.size(), 3u);
    EXPECT_EQ(host.calls.size(), 5u) << "2 allocs + 3 binds"; // RID_PASID allocates nothing
    ASSERT_TRUE(ad.binding(kSid, (1u << 20) - 1));
    // Again, nothing changed: no host call at all.
    host.calls.clear();
    ASSERT_TRUE(ad.process(std::span<const uint64_t>(t::pc(3, 0).data(), 4), kSm).has_value());
    EXPECT_TRUE(host.calls.empty());
}

// --- a changed entry is replaced, never unbound in between -------------------
TEST_F(AdapterTest, ChangedEntryIsReplacedWhereTheHostCan) {
    host.has_replace = true;
    entry(5, t::Pe::fs(0x40000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    entry(5, t::Pe::fs(0x50000, 3));
    ASSERT_TRUE(run(t::pc(1, 3, 5)).has_value());
    EXPECT_EQ(host.calls, (std::vector<std::string>{"alloc", "bind", "replace"}));
    ASSERT_EQ(host.replaces.size(), 1u);
    EXPECT_EQ(host.replaces[0].first.gpgd, 0x40000u);
    EXPECT_EQ(host.replaces[0].second.gpgd, 0x50000u);
    EXPECT_EQ(host.replaces[0].second.hpasid, 100u);
    EXPECT_EQ(ad.binding(kSid, 5)->intent.gpgd, 0x50000u);
    EXPECT_EQ(ad.stats().rebinds, 1u);
    EXPECT_EQ(ad.stats().replaces, 1u);
    EXPECT_EQ(ad.stats().unbinds, 0u);
}

} // namespace
