// SPDX-License-Identifier: GPL-2.0
// vm_datapath: emulated DMA through guest stage-1 tables (4/5 levels,
// 4K/2M/1G pages), accessed/dirty bits, permissions, PASID-entry view.
#include <numeric>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dp_fixture.h"

using namespace dp;

namespace {

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; i++)
        v[i] = (uint8_t)(seed + i * 7 + (i >> 8));
    return v;
}

TEST_F(Datapath, Write4KAcrossScatteredPages) {
    Bind();
    // Two consecutive VA pages backed by non-consecutive guest pages.
    pt_->Map4K(kVa, kData + 5 * k4K);
    pt_->Map4K(kVa + k4K, kData + 2 * k4K);
    auto pat = Pattern(6000, 3);
    Write(kVa + 100, pat.data(), pat.size());
    EXPECT_EQ(memcmp(ram_.At(kData + 5 * k4K + 100), pat.data(), k4K - 100), 0);
    EXPECT_EQ(memcmp(ram_.At(kData + 2 * k4K), pat.data() + k4K - 100, pat.size() - (k4K - 100)),
              0);
    // A on every level used, D on the written leaves only.
    EXPECT_NE(pt_->Pte(kVa) & kA, 0u);
    EXPECT_NE(pt_->Pte(kVa) & kD, 0u);
    EXPECT_NE(pt_->Pte(kVa, 2) & kA, 0u);
    EXPECT_NE(pt_->Pte(kVa, 4) & kA, 0u);
    EXPECT_EQ(pt_->Pte(kVa, 2) & kD, 0u);
}

TEST_F(Datapath, Read4KSetsAccessedNotDirty) {
    Bind();
    pt_->Map4K(kVa, kData);
    auto pat = Pattern(k4K, 9);
    memcpy(ram_.At(kData), pat.data(), k4K);
    std::vector<uint8_t> got(k4K);
    Read(kVa, got.data(), got.size());
    EXPECT_EQ(got, pat);
    EXPECT_NE(pt_->Pte(kVa) & kA, 0u);
    EXPECT_EQ(pt_->Pte(kVa) & kD, 0u);
    EXPECT_EQ(pt_->Pte(kVa) & kEA, 0u) << "EA only with EAFE";
}

TEST_F(Datapath, ExtendedAccessedWithEafe) {
    Bind(4, 0, VSVA_VTD_GPASID_EAFE);
    pt_->Map4K(kVa, kData);
    Read64(kVa);
    EXPECT_NE(pt_->Pte(kVa) & kEA, 0u);
    EXPECT_NE(pt_->Pte(kVa, 3) & kEA, 0u);
}

TEST_F(Datapath, Page2M) {
    Bind();
    pt_->Map2M(kVa, kData);
    auto pat = Pattern(3 * k4K, 1);
    const uint64_t off = 0x1ff000 - 100; // crosses into the next 4K page
    Write(kVa + off - 2 * k4K, pat.data(), pat.size());
    EXPECT_EQ(memcmp(ram_.At(kData + off - 2 * k4K), pat.data(), pat.size()), 0);
    EXPECT_NE(pt_->Pte(kVa, 2) & kD, 0u);
    auto c = ctx_.Counters();
    EXPECT_EQ(c.out_walks, 1u) << "one 2M translation serves every 4K";
}

TEST_F(Datapath, Page1G) {
    ASSERT_EQ(ram_.Add(ctx_, dom_, kHiGpa + 0x300000, 2 * k2M), 0);
    Bind();
    pt_->Map1G(kVa, kHiGpa);
    auto pat = Pattern(5000, 77);
    Write(kVa + 0x300000 + 123, pat.data(), pat.size());
    EXPECT_EQ(memcmp(ram_.At(kHiGpa + 0x300000 + 123), pat.data(), pat.size()), 0);
    EXPECT_NE(pt_->Pte(kVa, 3) & kD, 0u);
}

TEST_F(Datapath, FiveLevel) {
    Bind(5);
    const uint64_t va = 0x00ab123456789000ull; // needs 57 bits
    pt_->Map4K(va, kData + 7 * k4K);
    Stamp(kData + 7 * k4K, 0x5555aaaa12345678ull);
    EXPECT_EQ(Read64(va), 0x5555aaaa12345678ull);
    EXPECT_NE(pt_->Pte(va, 5) & kA, 0u);
    // The same VA is not canonical for a 4-level table.
    struct vsva_emu_pasid_entry pe = {};
    pe.argsz = sizeof(pe);
    pe.dev_id = dev_;
    pe.pasid = pasid_;
    ASSERT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), 0);
    EXPECT_EQ(pe.out_addr_width, 57u);
}

TEST_F(Datapath, FiveLevelNegativeHalf) {
    Bind(5);
    const uint64_t va = 0xff80000000001000ull; // canonical at 57 bits
    pt_->Map4K(va, kData + k4K);
    Stamp(kData + k4K, 42);
    EXPECT_EQ(Read64(va), 42u);
}

TEST_F(Datapath, PasidEntryView) {
    pt_ = std::make_unique<PageTables>(ram_, kPool, kPoolEnd, 4);
    ASSERT_EQ(ctx_.Attach(Rid(2), dom_, 0, &dev_), 0);
    ASSERT_EQ(ctx_.PasidAlloc(&pasid_, 33), 0);
    auto b = Ctx::BindData(pasid_, pt_->root(), 48, VSVA_VTD_GPASID_SRE | VSVA_VTD_GPASID_WPE);
    b.flags = VSVA_SVA_GPASID_VAL;
    b.gpasid = 33;
    ASSERT_EQ(ctx_.Nesting(VSVA_BIND_GPASID, dev_, 0, &b, sizeof(b)), 0);

    struct vsva_emu_pasid_entry pe = {};
    pe.argsz = sizeof(pe);
    pe.dev_id = dev_;
    pe.pasid = pasid_;
    ASSERT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), 0);
    EXPECT_EQ(pe.out_present, 1u);
    EXPECT_EQ(pe.out_addr_width, 48u);
    EXPECT_EQ(pe.out_gpgd, pt_->root());
    EXPECT_EQ(pe.out_vtd_flags, VSVA_VTD_GPASID_SRE | VSVA_VTD_GPASID_WPE);
    EXPECT_EQ(pe.out_gpasid_valid, 1u);
    EXPECT_EQ(pe.out_gpasid, 33u);
    EXPECT_EQ(pe.out_domain_id, dom_);

    pe.pasid = pasid_ + 1;
    ASSERT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), 0);
    EXPECT_EQ(pe.out_present, 0u);
    pe.flags = 1;
    EXPECT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), -EOPNOTSUPP);
    pe.flags = 0;
    pe.dev_id = dev_ + 100;
    EXPECT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), -ENOENT);

    ASSERT_EQ(ctx_.Unbind(dev_, pasid_, pt_->root()), 0);
    pe.dev_id = dev_;
    pe.pasid = pasid_;
    ASSERT_EQ(ctx_.Call(VSVA_EMU_PASID_ENTRY, &pe), 0);
    EXPECT_EQ(pe.out_present, 0u);
}

TEST_F(Datapath, DmaArgumentChecks) {
    Bind();
    uint8_t buf[16];
    struct vsva_emu_dma d;
    EXPECT_EQ(ctx_.Dma(dev_, pasid_, kVa, buf, 8, 1u << 7, &d), -EOPNOTSUPP);
    EXPECT_EQ(ctx_.Dma(dev_, pasid_, kVa, buf, (1u << 20) + 1, 0, &d), -EINVAL);
    EXPECT_EQ(ctx_.Dma(dev_, pasid_, ~0ull - 3, buf, 8, 0, &d), -EINVAL);
    EXPECT_EQ(ctx_.Dma(dev_, pasid_, kVa, buf, 8, VSVA_EMU_DMA_WRITE | VSVA_EMU_DMA_EXEC, &d),
              -EINVAL);
    EXPECT_EQ(ctx_.Dma(dev_ + 100, pasid_, kVa, buf, 8, 0, &d), -ENOENT);
    pt_->Map4K(kVa, kData);
    EXPECT_EQ(ctx_.Dma(dev_, pasid_, kVa, nullptr, 8, VSVA_EMU_DMA_WRITE, &d), -EFAULT);
    EXPECT_EQ(ctx_.Dma(dev_, pasid_, kVa, buf, 0, 0, &d), 0);
    EXPECT_EQ(d.out_done, 0u);
}

// VSVA_EMU_DMA follows the general size rules (uapi: errno contract).
TEST_F(Datapath, DmaArgsz) {
    Bind();
    pt_->Map4K(kVa, kData);
    Stamp(kData, 0xabc);
    struct {
        struct vsva_emu_dma d;
        uint64_t tail;
    } big = {};
    uint64_t v = 0;
    big.d.dev_id = dev_;
    big.d.pasid = pasid_;
    big.d.iova = kVa;
    big.d.len = 8;
    big.d.buf_uptr = (uintptr_t)&v;

    big.d.argsz = offsetof(struct vsva_emu_dma, out_fault);
    EXPECT_EQ(ctx_.Call(VSVA_EMU_DMA, &big), -EINVAL) << "too small";
    big.d.argsz = sizeof(big);
    EXPECT_EQ(ctx_.Call(VSVA_EMU_DMA, &big), 0) << "zero tail";
    EXPECT_EQ(v, 0xabcu);
    EXPECT_EQ(big.d.out_done, 8u);
    big.tail = 1;
    EXPECT_EQ(ctx_.Call(VSVA_EMU_DMA, &big), -E2BIG) << "non-zero tail";
    big.d.argsz = sizeof(big.d);
    v = 0;
    EXPECT_EQ(ctx_.Call(VSVA_EMU_DMA, &big), 0) << "exact";
    EXPECT_EQ(v, 0xabcu);
}

TEST_F(Datapath, UserWriteToReadOnlyIsPermission) {
    Bind();
    pt_->Map4K(kVa, kData, kP | kUS);
    auto d = Fault(kVa, VSVA_EMU_DMA_WRITE);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PERMISSION);
    EXPECT_EQ(d.out_fault.perm, (uint32_t)VSVA_FAULT_PERM_WRITE);
    EXPECT_EQ(d.out_fault.addr, kVa);
    EXPECT_EQ(d.out_fault.pasid, pasid_);
    EXPECT_EQ(pt_->Pte(kVa) & kD, 0u);
    Read64(kVa); // reading is fine
}

TEST_F(Datapath, ReadOnlyAtUpperLevelIsPermission) {
    Bind();
    pt_->Map4K(kVa, kData);
    pt_->Pte(kVa, 3) &= ~kRW;
    auto d = Fault(kVa, VSVA_EMU_DMA_WRITE);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PERMISSION);
}

TEST_F(Datapath, UserAccessToSupervisorPageIsPermission) {
    Bind();
    pt_->Map4K(kVa, kData, kP | kRW);
    auto d = Fault(kVa, 0);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PERMISSION);
}

TEST_F(Datapath, SupervisorRequestNeedsSre) {
    Bind();
    pt_->Map4K(kVa, kData, kP | kRW);
    auto d = Fault(kVa, VSVA_EMU_DMA_PRIV);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PERMISSION);
    EXPECT_EQ(d.out_fault.perm, (uint32_t)(VSVA_FAULT_PERM_READ | VSVA_FAULT_PERM_PRIV));
}

TEST_F(Datapath, SupervisorWriteIgnoresRwWithoutWpe) {
    Bind(4, 0, VSVA_VTD_GPASID_SRE);
    pt_->Map4K(kVa, kData, kP); // supervisor, read-only
    uint64_t v = 0x1234;
    Write(kVa, &v, sizeof(v), VSVA_EMU_DMA_PRIV);
    EXPECT_EQ(ram_.Q(kData), 0x1234u);
    // User pages are reachable by supervisor requests too.
    pt_->Map4K(kVa + k4K, kData + k4K, kUser);
    Write(kVa + k4K, &v, sizeof(v), VSVA_EMU_DMA_PRIV);
}

TEST_F(Datapath, SupervisorWriteHonoursRwWithWpe) {
    Bind(4, 0, VSVA_VTD_GPASID_SRE | VSVA_VTD_GPASID_WPE);
    pt_->Map4K(kVa, kData, kP);
    auto d = Fault(kVa, VSVA_EMU_DMA_WRITE | VSVA_EMU_DMA_PRIV);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PERMISSION);
    pt_->Map4K(kVa + k4K, kData + k4K, kP | kRW);
    uint64_t v = 7;
    Write(kVa + k4K, &v, sizeof(v), VSVA_EMU_DMA_PRIV);
}

TEST_F(Datapath, ExecuteOfNxIsPermission) {
    Bind();
    pt_->Map4K(kVa, kData, kUser | kNX);
    pt_->Map4K(kVa + k4K, kData + k4K, kUser);
    auto d = Fault(kVa, VSVA_EMU_DMA_EXEC);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PERMISSION);
    uint64_t v;
    Read(kVa + k4K, &v, sizeof(v), VSVA_EMU_DMA_EXEC);
    Read(kVa, &v, sizeof(v)); // a plain read of an NX page is fine
}

TEST_F(Datapath, FaultStopsMidwayWithBytesDone) {
    Bind();
    pt_->Map4K(kVa, kData);
    auto pat = Pattern(2 * k4K, 5);
    struct vsva_emu_dma d;
    ASSERT_EQ(ctx_.Dma(dev_, pasid_, kVa + 96, pat.data(), pat.size(), VSVA_EMU_DMA_WRITE, &d), 0);
    EXPECT_NE(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
    EXPECT_EQ(d.out_done, k4K - 96);
    EXPECT_EQ(d.out_fault.addr, kVa + k4K);
    EXPECT_EQ(d.out_fault.reason, (uint32_t)VSVA_FAULT_REASON_PTE_FETCH);
    EXPECT_EQ(memcmp(ram_.At(kData + 96), pat.data(), k4K - 96), 0);
}

// Whether the kernel marked the page behind @p dirty (PG_dirty), through
// /proc/self/pagemap and /proc/kpageflags (root).  -1 if it cannot tell.
int PageDirty(const void* p) {
    int pm = open("/proc/self/pagemap", O_RDONLY);
    int kf = open("/proc/kpageflags", O_RDONLY);
    uint64_t ent = 0, flags = 0;
    int rc = -1;
    if (pm >= 0 && kf >= 0 && pread(pm, &ent, 8, (off_t)((uintptr_t)p / k4K * 8)) == 8 &&
        (ent >> 63) && (ent & ((1ull << 55) - 1)) &&
        pread(kf, &flags, 8, (off_t)((ent & ((1ull << 55) - 1)) * 8)) == 8)
        rc = (flags >> 4) & 1; // KPF_DIRTY
    if (pm >= 0)
        close(pm);
    if (kf >= 0)
        close(kf);
    return rc;
}

// The walker's A/D writes go to guest memory through the kernel's mapping:
// the page must be marked dirty like a DMA write's, or a clean page's new
// bits are lost when it is written back or reclaimed after unpinning.
TEST_F(Datapath, WalkerAccessedBitsDirtyTheTablePage) {
    Bind();
    // Four table pages of our own, in 4K pages (no THP, whose tail pages
    // /proc/kpageflags does not report as dirty on 6.1).
    uint8_t* t = (uint8_t*)mmap(nullptr, 4 * k4K, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(t, MAP_FAILED);
    madvise(t, 4 * k4K, MADV_NOHUGEPAGE);
    memset(t, 0, 4 * k4K);
    auto q = [&](int table, unsigned idx) -> uint64_t& {
        return ((uint64_t*)(t + table * k4K))[idx];
    };
    const uint64_t g = kHiGpa;
    q(0, PageTables::Index(kVa, 4)) = (g + k4K) | kUser;
    q(1, PageTables::Index(kVa, 3)) = (g + 2 * k4K) | kUser;
    q(2, PageTables::Index(kVa, 2)) = (g + 3 * k4K) | kUser;
    q(3, PageTables::Index(kVa, 1)) = kData | kUser;
    ASSERT_EQ(ctx_.Map(dom_, g, t, 4 * k4K), 0);
    uint32_t p2;
    ASSERT_EQ(ctx_.PasidAlloc(&p2), 0);
    ASSERT_EQ(ctx_.Bind(dev_, p2, g), 0);
    int before = PageDirty(t + 3 * k4K);
    if (before < 0)
        GTEST_SKIP() << "cannot read /proc/kpageflags (root needed)";
    if (before)
        GTEST_SKIP() << "the table page is dirty already: nothing to observe";
    ram_.Q(kData) = 0x1234;
    uint64_t v = 0;
    struct vsva_emu_dma d;
    ASSERT_EQ(ctx_.Dma(dev_, p2, kVa, &v, 8, 0, &d), 0);
    ASSERT_EQ(d.out_flags, 0u);
    EXPECT_EQ(v, 0x1234u);
    EXPECT_NE(q(3, PageTables::Index(kVa, 1)) & kA, 0u) << "the walk set A";
    EXPECT_EQ(PageDirty(t + 3 * k4K), 1) << "the walk's A write did not dirty the page";
    EXPECT_EQ(PageDirty(t), 1);
    ASSERT_EQ(ctx_.Unbind(dev_, p2, g), 0);
    ASSERT_EQ(ctx_.Unmap(dom_, g, 4 * k4K), 0);
    munmap(t, 4 * k4K);
}

} // namespace
