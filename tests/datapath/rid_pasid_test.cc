// SPDX-License-Identifier: GPL-2.0
// vm_datapath: requests without PASID nested on a guest stage-1 table
// (VSVA_RID_PASID, VSVA_RID_PASID_OK, VSVA_EMU_DMA_NO_PASID) and the
// translation request of an emulated endpoint (VSVA_EMU_TRANSLATE).
#include <atomic>
#include <thread>

#include <poll.h>
#include <unistd.h>

#include "dp_fixture.h"

using namespace dp;

namespace {

constexpr uint32_t kRid = VSVA_RID_PASID_OK;
constexpr uint32_t kNoPasid = VSVA_EMU_DMA_NO_PASID;
constexpr uint8_t kIotlb = VSVA_CACHE_INV_TYPE_IOTLB;
constexpr uint8_t kDevTlb = VSVA_CACHE_INV_TYPE_DEV_IOTLB;
constexpr uint8_t kPasidCache = VSVA_CACHE_INV_TYPE_PASID;
constexpr uint64_t kOld = kData, kNew = kData + 0x10000;

class RidPasid : public Datapath {
protected:
    // Attach @rid, build a table and bind it to the device's requests
    // without PASID.
    void BindRid(uint32_t rid = Rid(0x14), uint32_t attach = 0) {
        if (!(ctx_.Features() & VSVA_FEAT_RID_PASID))
            GTEST_SKIP() << "no VSVA_FEAT_RID_PASID";
        pt_ = std::make_unique<PageTables>(ram_, kPool, kPoolEnd, 4);
        ASSERT_EQ(ctx_.Attach(rid, dom_, attach, &dev_), 0);
        ASSERT_EQ(ctx_.Bind(dev_, VSVA_RID_PASID, pt_->root(), 48, 0, kRid), 0);
        pasid_ = VSVA_RID_PASID;
    }
    uint64_t ReadNoPasid64(uint64_t iova) {
        uint64_t v = 0;
        Read(iova, &v, sizeof(v), kNoPasid);
        return v;
    }
    struct vsva_emu_translate Xlate(uint64_t iova, uint32_t flags = kNoPasid,
                                    uint32_t pasid = VSVA_RID_PASID) {
        struct vsva_emu_translate t;
        EXPECT_EQ(ctx_.Translate(dev_, pasid, iova, flags, &t), 0);
        return t;
    }
};

TEST_F(RidPasid, FeatureBitsAdvertised) {
    EXPECT_NE(ctx_.Features() & VSVA_FEAT_RID_PASID, 0u);
    EXPECT_NE(ctx_.Features() & VSVA_FEAT_EMU_TRANSLATE, 0u);
}

TEST_F(RidPasid, BindNeedsTheFlagAndNoPasidCapability) {
    pt_ = std::make_unique<PageTables>(ram_, kPool, kPoolEnd, 4);
    // 00:14.0 has no capability at all: a PASID bind is refused, a
    // RID_PASID bind is not.
    ASSERT_EQ(ctx_.Attach(Rid(0x14), dom_, 0, &dev_), 0);
    std::string msg;
    auto b = Ctx::BindData(VSVA_RID_PASID, pt_->root(), 48, 0);
    EXPECT_EQ(ctx_.Nesting(VSVA_BIND_GPASID, dev_, 0, &b, sizeof(b), &msg), -EINVAL);
    EXPECT_EQ(msg, "bind: hpasid 0 is outside [1, 1048575]");
    EXPECT_EQ(ctx_.Nesting(VSVA_BIND_GPASID, dev_, kRid, &b, sizeof(b), &msg), 0);
    EXPECT_EQ(msg, "");
    EXPECT_EQ(ctx_.Nesting(VSVA_BIND_GPASID, dev_, kRid, &b, sizeof(b), &msg), -EBUSY);
    EXPECT_EQ(msg, "bind: RID_PASID 0 is already bound on device " + std::to_string(dev_));
    // The flag does not lift the PASID-capability rule for real PASIDs.
    uint32_t p;
    ASSERT_EQ(ctx_.PasidAlloc(&p), 0);
    EXPECT_EQ(ctx_.Bind(dev_, p, pt_->root(), 48, 0, kRid), -EINVAL);

    struct vsva_emu_pasid_entry pe = {};
    pe.argsz = sizeof(pe);
    pe.dev_id = dev_;
    pe.pasid = VSVA_RID_PASID;
    ASSERT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), 0);
    EXPECT_EQ(pe.out_present, 1u);
    EXPECT_EQ(pe.out_gpgd, pt_->root());
    auto c = ctx_.Counters();
    EXPECT_EQ(c.out_bindings, 1u);
    EXPECT_EQ(c.out_pasids, 1u) << "RID_PASID is not an allocated PASID";

    // A bound device cannot detach; unbinding needs the flag too.
    struct vsva_destroy d = {};
    d.argsz = sizeof(d);
    d.id = dev_;
    EXPECT_EQ(ctx_.Call(VSVA_DEVICE_DETACH, &d), -EBUSY);
    EXPECT_EQ(ctx_.Unbind(dev_, VSVA_RID_PASID, 0), -EINVAL);
    EXPECT_EQ(ctx_.Unbind(dev_, VSVA_RID_PASID, 0, 48, 0, kRid), 0);
    EXPECT_EQ(ctx_.Counters().out_bindings, 0u);
    ASSERT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), 0);
    EXPECT_EQ(pe.out_present, 0u);
    EXPECT_EQ(ctx_.Call(VSVA_DEVICE_DETACH, &d), 0);
}

TEST_F(RidPasid, DmaWithoutPasid) {
    BindRid();
    if (IsSkipped())
        return;
    pt_->Map4K(kVa, kData);
    uint64_t v = 0x1122334455667788ull;
    Write(kVa + 8, &v, sizeof(v), kNoPasid);
    EXPECT_EQ(ram_.Q(kData + 8), v);
    EXPECT_EQ(ReadNoPasid64(kVa + 8), v);
    EXPECT_NE(pt_->Pte(kVa) & kD, 0u);

    // The same DMA tagged with PASID 0 names no entry, as before.
    auto d = Fault(kVa, 0);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PASID_INVALID);
    EXPECT_NE(d.out_fault.flags & VSVA_FAULT_UNRECOV_PASID_VALID, 0u);

    // A fault without PASID carries none.
    d = Fault(kVa + k4K, kNoPasid);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_EQ(d.out_fault.flags & VSVA_FAULT_UNRECOV_PASID_VALID, 0u);
    EXPECT_EQ(d.out_fault.addr, kVa + k4K);

    // NO_PASID: pasid 0 only, never privileged or execute.
    struct vsva_emu_dma out;
    uint8_t buf[8];
    EXPECT_EQ(ctx_.Dma(dev_, 5, kVa, buf, 8, kNoPasid, &out), -EINVAL);
    EXPECT_EQ(ctx_.Dma(dev_, 0, kVa, buf, 8, kNoPasid | VSVA_EMU_DMA_PRIV, &out), -EINVAL);
    EXPECT_EQ(ctx_.Dma(dev_, 0, kVa, buf, 8, kNoPasid | VSVA_EMU_DMA_EXEC, &out), -EINVAL);
    EXPECT_EQ(ctx_.Dma(dev_, 0, kVa, buf, 8, 1u << 5, &out), -EOPNOTSUPP);
}

TEST_F(RidPasid, SupervisorOnlyPagesFaultWithoutPasid) {
    BindRid();
    if (IsSkipped())
        return;
    // Requests without PASID are user requests: a page without U/S faults.
    pt_->Map4K(kVa, kData, kP | kRW);
    auto d = Fault(kVa, kNoPasid);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PERMISSION);
}

TEST_F(RidPasid, InvalidationsReachTheRidPasidEntries) {
    BindRid();
    if (IsSkipped())
        return;
    Stamp(kOld, 0x01d);
    Stamp(kNew, 0x2e3);
    pt_->Map4K(kVa, kOld);
    ASSERT_EQ(ReadNoPasid64(kVa), 0x01du);
    pt_->Map4K(kVa, kNew);
    EXPECT_EQ(ReadNoPasid64(kVa), 0x01du) << "the IOTLB holds the old page";

    std::string msg;
    auto inv = Ctx::InvAddr(kIotlb, VSVA_RID_PASID, kVa);
    EXPECT_EQ(ctx_.Nesting(VSVA_CACHE_INVALIDATE, dev_, 0, &inv, inv.argsz, &msg), -EINVAL);
    EXPECT_EQ(msg, "invalidate: addr_info pasid 0 is outside [1, 1048575]");
    EXPECT_EQ(ReadNoPasid64(kVa), 0x01du);
    auto c0 = ctx_.Counters();
    EXPECT_EQ(ctx_.Invalidate(dev_, inv, kRid), 0);
    EXPECT_EQ(ctx_.Counters().out_invalidations, c0.out_invalidations + 1);
    EXPECT_EQ(ctx_.Counters().out_iotlb_flushed, c0.out_iotlb_flushed + 1);
    EXPECT_EQ(ReadNoPasid64(kVa), 0x2e3u);

    // PASID granularity, through a batch with the flag.
    pt_->Map4K(kVa, kOld);
    EXPECT_EQ(ReadNoPasid64(kVa), 0x2e3u);
    struct vsva_cache_invalidate_info arr[2] = {Ctx::InvPasid(kIotlb, VSVA_RID_PASID),
                                                Ctx::InvPasid(kPasidCache, VSVA_RID_PASID)};
    struct vsva_cache_invalidate_batch b = {};
    b.argsz = sizeof(b);
    b.target_id = dev_;
    b.entry_len = sizeof(arr[0]);
    b.entry_num = 2;
    b.data_uptr = (uintptr_t)arr;
    EXPECT_EQ(ctx_.Call(VSVA_CACHE_INVALIDATE_BATCH, &b), -EINVAL);
    EXPECT_EQ(b.entry_num, 0u);
    EXPECT_EQ(ReadNoPasid64(kVa), 0x2e3u);
    b.entry_num = 2;
    b.flags = kRid;
    EXPECT_EQ(ctx_.Call(VSVA_CACHE_INVALIDATE_BATCH, &b), 0);
    EXPECT_EQ(b.entry_num, 2u);
    EXPECT_EQ(ReadNoPasid64(kVa), 0x01du);
}

TEST_F(RidPasid, PasidAndRidPasidAreSeparateEntries) {
    // 00:02.0 has PASID: PASID p on one table, RID_PASID on another.
    BindRid(Rid(2));
    if (IsSkipped())
        return;
    PageTables other(ram_, kPool + 0x100000, kPoolEnd, 4);
    uint32_t p;
    ASSERT_EQ(ctx_.PasidAlloc(&p), 0);
    ASSERT_EQ(ctx_.Bind(dev_, p, other.root()), 0);
    Stamp(kOld, 0xaaa);
    Stamp(kNew, 0xbbb);
    pt_->Map4K(kVa, kOld);
    other.Map4K(kVa, kNew);
    EXPECT_EQ(ReadNoPasid64(kVa), 0xaaau);
    pasid_ = p;
    EXPECT_EQ(Read64(kVa), 0xbbbu);

    // Flushing PASID p leaves the RID_PASID entries cached.
    pt_->Map4K(kVa, kNew);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvPasid(kIotlb, p)), 0);
    pasid_ = VSVA_RID_PASID;
    EXPECT_EQ(ReadNoPasid64(kVa), 0xaaau);
    // A domain-wide flush reaches them.
    ASSERT_EQ(ctx_.Invalidate(dom_, Ctx::InvDomain(kIotlb), VSVA_TARGET_DOMAIN), 0);
    EXPECT_EQ(ReadNoPasid64(kVa), 0xbbbu);
    ASSERT_EQ(ctx_.Unbind(dev_, p, 0), 0);
}

TEST_F(RidPasid, DomainTargetAndReleaseWithBindingsLeft) {
    if (!(ctx_.Features() & VSVA_FEAT_RID_PASID))
        GTEST_SKIP();
    pt_ = std::make_unique<PageTables>(ram_, kPool, kPoolEnd, 4);
    uint32_t a, b;
    ASSERT_EQ(ctx_.Attach(Rid(0x14), dom_, 0, &a), 0);
    ASSERT_EQ(ctx_.Attach(Rid(2), dom_, 0, &b), 0);
    ASSERT_EQ(ctx_.Bind(dom_, VSVA_RID_PASID, pt_->root(), 48, 0, kRid | VSVA_TARGET_DOMAIN), 0);
    auto c = ctx_.Counters();
    EXPECT_EQ(c.out_bindings, 2u);
    EXPECT_EQ(c.out_binds, 2u);
    // Left bound: the context's release unbinds them (no WARN, no leak).
}

// ---- VSVA_EMU_TRANSLATE ------------------------------------------------

TEST_F(RidPasid, TranslateAnswersLikeADma) {
    BindRid();
    if (IsSkipped())
        return;
    pt_->Map4K(kVa, kData + 3 * k4K);
    pt_->Map2M(kVa + k2M, kData + k2M);
    auto c0 = ctx_.Counters();
    auto t = Xlate(kVa + 0x123);
    EXPECT_EQ(t.out_flags, 0u);
    EXPECT_EQ(t.out_addr, kData + 3 * k4K + 0x123);
    EXPECT_EQ(t.out_shift, 12u);
    // Read: D is clear, so a write would walk again: READ only.
    EXPECT_EQ(t.out_perm, (uint32_t)VSVA_FAULT_PERM_READ);
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_walks, c0.out_walks + 1) << "a miss walks";
    EXPECT_EQ(c1.out_iotlb_misses, c0.out_iotlb_misses + 1);
    EXPECT_NE(pt_->Pte(kVa) & kA, 0u);
    EXPECT_EQ(pt_->Pte(kVa) & kD, 0u);

    t = Xlate(kVa + 0x123, kNoPasid | VSVA_EMU_DMA_WRITE);
    EXPECT_EQ(t.out_perm, (uint32_t)(VSVA_FAULT_PERM_READ | VSVA_FAULT_PERM_WRITE));
    EXPECT_NE(pt_->Pte(kVa) & kD, 0u) << "a write translation sets D, as a write DMA";
    auto c2 = ctx_.Counters();
    t = Xlate(kVa + 0x10);
    EXPECT_EQ(t.out_perm, (uint32_t)(VSVA_FAULT_PERM_READ | VSVA_FAULT_PERM_WRITE));
    auto c3 = ctx_.Counters();
    EXPECT_EQ(c3.out_walks, c2.out_walks) << "a hit does not walk";
    EXPECT_EQ(c3.out_iotlb_hits, c2.out_iotlb_hits + 1);

    t = Xlate(kVa + k2M + 0x54321);
    EXPECT_EQ(t.out_addr, kData + k2M + 0x54321);
    EXPECT_EQ(t.out_shift, 21u);
}

TEST_F(RidPasid, TranslateReturnsStaleEntryUntilInvalidated) {
    BindRid();
    if (IsSkipped())
        return;
    pt_->Map4K(kVa, kOld);
    EXPECT_EQ(Xlate(kVa).out_addr, kOld);
    pt_->Map4K(kVa, kNew);
    EXPECT_EQ(Xlate(kVa).out_addr, kOld) << "stale until invalidated";
    // Another address's invalidation leaves it.
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, VSVA_RID_PASID, kVa + k4K), kRid), 0);
    EXPECT_EQ(Xlate(kVa).out_addr, kOld);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, VSVA_RID_PASID, kVa), kRid), 0);
    EXPECT_EQ(Xlate(kVa).out_addr, kNew);
    // A DMA sees what the translation said.
    Stamp(kNew, 0x77);
    EXPECT_EQ(ReadNoPasid64(kVa), 0x77u);
}

TEST_F(RidPasid, TranslateDeviceTlbStaleUntilDevTlbInvalidation) {
    BindRid(Rid(2), VSVA_ATTACH_ENABLE_ATS);
    if (IsSkipped())
        return;
    pt_->Map4K(kVa, kOld);
    EXPECT_EQ(Xlate(kVa).out_addr, kOld);
    pt_->Map4K(kVa, kNew);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kIotlb, VSVA_RID_PASID, kVa),
                              kRid | VSVA_INV_SEPARATE_DEVTLB),
              0);
    auto c0 = ctx_.Counters();
    EXPECT_EQ(Xlate(kVa).out_addr, kOld) << "the device TLB still holds it";
    EXPECT_EQ(ctx_.Counters().out_devtlb_hits, c0.out_devtlb_hits + 1);
    ASSERT_EQ(ctx_.Invalidate(dev_, Ctx::InvAddr(kDevTlb, VSVA_RID_PASID, kVa), kRid), 0);
    EXPECT_EQ(Xlate(kVa).out_addr, kNew);
}

TEST_F(RidPasid, TranslateFaultIsReportedLikeADmaFault) {
    BindRid();
    if (IsSkipped())
        return;
    int ffd;
    ASSERT_EQ(ctx_.FaultAlloc(&ffd), 0);
    auto c0 = ctx_.Counters();
    auto t = Xlate(kVa + 0x40);
    EXPECT_EQ(t.out_flags, (uint32_t)VSVA_EMU_DMA_FAULTED);
    EXPECT_EQ(t.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_EQ(t.out_fault.addr, kVa + 0x40);
    EXPECT_EQ(t.out_fault.flags & VSVA_FAULT_UNRECOV_PASID_VALID, 0u);
    EXPECT_EQ(t.out_addr, 0u);
    EXPECT_EQ(t.out_perm, 0u);
    EXPECT_EQ(ctx_.Counters().out_faults, c0.out_faults + 1);
    struct vsva_fault_event ev;
    ASSERT_EQ(read(ffd, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
    EXPECT_EQ(ev.dev_id, dev_);
    EXPECT_EQ(ev.fault.type, (uint32_t)VSVA_FAULT_DMA_UNRECOV);
    EXPECT_EQ(ev.fault.event.reason, (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_EQ(ev.fault.event.addr, kVa + 0x40);

    // Stage 2: a leaf pointing outside guest RAM is an ACCESS fault.
    pt_->Map4K(kVa, kHiGpa + 0x40000000ull);
    t = Xlate(kVa);
    EXPECT_EQ(t.out_flags, (uint32_t)VSVA_EMU_DMA_FAULTED);
    EXPECT_EQ(t.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_ACCESS);
    EXPECT_EQ(t.out_fault.fetch_addr, kHiGpa + 0x40000000ull);
    close(ffd);
}

TEST_F(RidPasid, TranslateWithPasidAndPageRequest) {
    // A PASID-tagged translation on a PRI device: a recoverable fault is a
    // page request, as for a DMA without WAIT.
    Bind(4, VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI);
    int ffd;
    ASSERT_EQ(ctx_.FaultAlloc(&ffd), 0);
    struct vsva_emu_translate t;
    ASSERT_EQ(ctx_.Translate(dev_, pasid_, kVa, VSVA_EMU_DMA_WRITE, &t), 0);
    EXPECT_EQ(t.out_flags, (uint32_t)(VSVA_EMU_DMA_FAULTED | VSVA_EMU_DMA_PAGE_REQ));
    EXPECT_EQ(t.out_fault.pasid, pasid_);
    struct vsva_fault_event ev;
    ASSERT_EQ(read(ffd, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
    EXPECT_EQ(ev.fault.type, (uint32_t)VSVA_FAULT_PAGE_REQ);
    EXPECT_EQ(ev.fault.prm.grpid, t.out_grpid);
    pt_->Map4K(kVa, kData);
    ASSERT_EQ(ctx_.PageResponse(dev_, t.out_grpid, VSVA_PAGE_RESP_SUCCESS), 0);
    ASSERT_EQ(ctx_.Translate(dev_, pasid_, kVa, VSVA_EMU_DMA_WRITE, &t), 0);
    EXPECT_EQ(t.out_flags, 0u);
    EXPECT_EQ(t.out_addr, kData);
    close(ffd);
}

TEST_F(RidPasid, TranslateArgumentErrors) {
    BindRid();
    if (IsSkipped())
        return;
    struct vsva_emu_translate t;
    EXPECT_EQ(ctx_.Translate(dev_, 0, kVa, kNoPasid | VSVA_EMU_DMA_WAIT, &t), -EOPNOTSUPP);
    EXPECT_EQ(ctx_.Translate(dev_, 0, kVa, 1u << 5, &t), -EOPNOTSUPP);
    EXPECT_EQ(ctx_.Translate(dev_, 3, kVa, kNoPasid, &t), -EINVAL);
    EXPECT_EQ(ctx_.Translate(dev_, 0, kVa, kNoPasid | VSVA_EMU_DMA_PRIV, &t), -EINVAL);
    EXPECT_EQ(ctx_.Translate(dev_, 7, kVa, VSVA_EMU_DMA_WRITE | VSVA_EMU_DMA_EXEC, &t), -EINVAL);
    EXPECT_EQ(ctx_.Translate(dev_ + 100, 0, kVa, kNoPasid, &t), -ENOENT);
    // PASID 0 without NO_PASID: no entry.
    ASSERT_EQ(ctx_.Translate(dev_, 0, kVa, 0, &t), 0);
    EXPECT_EQ(t.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PASID_INVALID);
}

// VSVA_BIND_REPLACE: a bound entry is repointed in place, its cached
// translations dropped, the PASID never unbound in between.
class BindReplace : public RidPasid {
protected:
    void SetUp() override {
        RidPasid::SetUp();
        if (!(ctx_.Features() & VSVA_FEAT_BIND_REPLACE))
            GTEST_SKIP() << "no VSVA_FEAT_BIND_REPLACE";
    }
    uint64_t EntryGpgd(uint32_t pasid) {
        struct vsva_emu_pasid_entry pe = {};
        pe.argsz = sizeof(pe);
        pe.dev_id = dev_;
        pe.pasid = pasid;
        EXPECT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), 0);
        return pe.out_present ? pe.out_gpgd : 0;
    }
};

TEST_F(BindReplace, RidPasidRepointedInPlace) {
    BindRid(Rid(2));
    if (IsSkipped())
        return;
    PageTables other(ram_, kPool + 0x100000, kPoolEnd, 4);
    Stamp(kOld, 0x01d);
    Stamp(kNew, 0x2e3);
    pt_->Map4K(kVa, kOld);
    other.Map4K(kVa, kNew);
    ASSERT_EQ(ReadNoPasid64(kVa), 0x01du); // cached now

    std::string msg;
    auto b = Ctx::BindData(VSVA_RID_PASID, other.root(), 48, 0);
    EXPECT_EQ(ctx_.Nesting(VSVA_BIND_GPASID, dev_, kRid, &b, sizeof(b), &msg), -EBUSY);
    auto c0 = ctx_.Counters();
    ASSERT_EQ(ctx_.Nesting(VSVA_BIND_GPASID, dev_, kRid | VSVA_BIND_REPLACE, &b, sizeof(b), &msg),
              0)
            << msg;
    auto c1 = ctx_.Counters();
    EXPECT_EQ(c1.out_unbinds, c0.out_unbinds) << "a replace is not an unbind";
    EXPECT_EQ(c1.out_bindings, c0.out_bindings);
    EXPECT_EQ(c1.out_binds, c0.out_binds + 1);
    EXPECT_EQ(EntryGpgd(VSVA_RID_PASID), other.root());
    // No invalidation was sent: the replace dropped the old table's entries.
    EXPECT_EQ(ReadNoPasid64(kVa), 0x2e3u);

    // A PASID of the same device, likewise; the RID_PASID entry is untouched.
    uint32_t p;
    ASSERT_EQ(ctx_.PasidAlloc(&p), 0);
    EXPECT_EQ(ctx_.Bind(dev_, p, pt_->root(), 48, 0, VSVA_BIND_REPLACE), -ENOENT);
    auto nb = Ctx::BindData(p, pt_->root(), 48, 0);
    EXPECT_EQ(ctx_.Nesting(VSVA_BIND_GPASID, dev_, VSVA_BIND_REPLACE, &nb, sizeof(nb), &msg),
              -ENOENT);
    EXPECT_EQ(msg, "bind: replace: PASID " + std::to_string(p) + " is not bound on device " +
                           std::to_string(dev_));
    ASSERT_EQ(ctx_.Bind(dev_, p, pt_->root()), 0);
    pasid_ = p;
    EXPECT_EQ(Read64(kVa), 0x01du);
    ASSERT_EQ(ctx_.Bind(dev_, p, other.root(), 48, 0, VSVA_BIND_REPLACE), 0);
    EXPECT_EQ(Read64(kVa), 0x2e3u);
    EXPECT_EQ(EntryGpgd(p), other.root());
    // The payload is checked as for a bind.
    EXPECT_EQ(ctx_.Bind(dev_, p, kHiGpa + (64ull << 20), 48, 0, VSVA_BIND_REPLACE), -EINVAL);
    EXPECT_EQ(EntryGpgd(p), other.root());
}

// DMA never finds the PASID unbound while it is replaced over and over.
TEST_F(BindReplace, NoWindowUnderConcurrentDma) {
    BindRid(Rid(2));
    if (IsSkipped())
        return;
    PageTables other(ram_, kPool + 0x100000, kPoolEnd, 4);
    Stamp(kOld, 0x01d);
    Stamp(kNew, 0x01d);
    pt_->Map4K(kVa, kOld);
    other.Map4K(kVa, kNew);
    std::atomic<bool> stop{false};
    std::atomic<int> faults{0}, reads{0};
    std::thread t([&] {
        while (!stop.load()) {
            struct vsva_emu_dma out;
            uint64_t v = 0;
            if (ctx_.Dma(dev_, 0, kVa, &v, sizeof(v), kNoPasid, &out) != 0 ||
                (out.out_flags & VSVA_EMU_DMA_FAULTED) || v != 0x01d)
                faults++;
            reads++;
        }
    });
    for (int i = 0; i < 400; ++i) {
        const uint64_t root = i % 2 ? pt_->root() : other.root();
        if (ctx_.Bind(dev_, VSVA_RID_PASID, root, 48, 0, kRid | VSVA_BIND_REPLACE) != 0)
            ADD_FAILURE() << "replace " << i;
        if (i % 50 == 0)
            std::this_thread::yield();
    }
    while (reads.load() < 100)
        std::this_thread::yield();
    stop = true;
    t.join();
    EXPECT_EQ(faults.load(), 0) << "of " << reads.load() << " DMAs";
}

// Requests without PASID of two devices in one domain, each bound to its
// own table that maps the same IOVAs to different pages (a guest with two
// DMA domains behind one vIOMMU: one vsva domain per VM).  PASID 0 is
// every device's RID_PASID, so the emulated IOTLB and the walk's cached
// directory entries must tell the devices apart: each device reads its own
// pages, from a walk and from the caches, and one device's invalidation
// leaves the other's translations alone.
TEST_F(RidPasid, TwoDevicesOfOneDomainEachUseTheirOwnTable) {
    if (!(ctx_.Features() & VSVA_FEAT_RID_PASID))
        GTEST_SKIP() << "no VSVA_FEAT_RID_PASID";
    const uint64_t mid = kPool + (kPoolEnd - kPool) / 2;
    PageTables a(ram_, kPool, mid), b(ram_, mid, kPoolEnd);
    // Same 2 MiB region in both: the walk caches the level-2 entry.
    a.Map4K(kVa, kOld);
    a.Map4K(kVa + k4K, kOld + k4K);
    b.Map4K(kVa, kNew);
    b.Map4K(kVa + k4K, kNew + k4K);
    Stamp(kOld, 0xa0);
    Stamp(kOld + k4K, 0xa1);
    Stamp(kNew, 0xb0);
    Stamp(kNew + k4K, 0xb1);
    uint32_t da = 0, db = 0;
    ASSERT_EQ(ctx_.Attach(Rid(0x13), dom_, 0, &da), 0);
    ASSERT_EQ(ctx_.Attach(Rid(0x14), dom_, 0, &db), 0);
    ASSERT_EQ(ctx_.Bind(da, VSVA_RID_PASID, a.root(), 48, 0, kRid), 0);
    ASSERT_EQ(ctx_.Bind(db, VSVA_RID_PASID, b.root(), 48, 0, kRid), 0);
    pasid_ = VSVA_RID_PASID;
    auto read = [&](uint32_t dev, uint64_t iova) {
        dev_ = dev;
        return ReadNoPasid64(iova);
    };
    // Round 0 walks (A first: B's walk of kVa + 4K would find A's cached
    // level-2 entry); round 1 is served from the IOTLB.
    for (int round = 0; round < 2; round++) {
        SCOPED_TRACE("round " + std::to_string(round));
        EXPECT_EQ(read(da, kVa), 0xa0u);
        EXPECT_EQ(read(db, kVa + k4K), 0xb1u);
        EXPECT_EQ(read(db, kVa), 0xb0u);
        EXPECT_EQ(read(da, kVa + k4K), 0xa1u);
    }
    dev_ = da;
    EXPECT_EQ(Xlate(kVa).out_addr, kOld);
    dev_ = db;
    EXPECT_EQ(Xlate(kVa).out_addr, kNew);

    // B's table changes; only B invalidates its requests without PASID.
    b.Map4K(kVa, kNew + 2 * k4K);
    Stamp(kNew + 2 * k4K, 0xb2);
    EXPECT_EQ(read(db, kVa), 0xb0u) << "stale until invalidated";
    ASSERT_EQ(ctx_.Invalidate(db, Ctx::InvPasid(kIotlb, VSVA_RID_PASID), kRid), 0);
    EXPECT_EQ(read(db, kVa), 0xb2u);
    EXPECT_EQ(read(da, kVa), 0xa0u);
    EXPECT_EQ(ctx_.Unbind(da, VSVA_RID_PASID, 0, 48, 0, kRid), 0);
    EXPECT_EQ(ctx_.Unbind(db, VSVA_RID_PASID, 0, 48, 0, kRid), 0);
}

} // namespace
