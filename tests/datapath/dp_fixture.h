// SPDX-License-Identifier: GPL-2.0
// The fixture of the vm_datapath suites: one context, one stage-2 domain
// with 16 MiB of guest RAM at GPA 1 MiB (tables at 1..3 MiB, data above),
// one device bound to one PASID on a table built by the test.
#pragma once

#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "dp_lib.h"

namespace dp {

constexpr uint64_t kRamGpa = 0x100000;
constexpr uint64_t kRamLen = 16ull << 20;
constexpr uint64_t kPool = 0x100000; // tables: 1 MiB .. 3 MiB
constexpr uint64_t kPoolEnd = 0x300000;
constexpr uint64_t kData = 0x400000;        // data pages from 4 MiB (2M aligned)
constexpr uint64_t kHiGpa = 1ull << 30;     // a 2 MiB window at 1 GiB
constexpr uint64_t kVa = 0x7f1200000000ull; // a user VA (1G aligned)

class Datapath : public ::testing::Test {
protected:
    void SetUp() override {
        if (access("/dev/vsva", F_OK) != 0)
            GTEST_SKIP() << "/dev/vsva is missing: vsva.ko not loaded";
        ASSERT_TRUE(ctx_.ok()) << strerror(errno);
        if (!(ctx_.Features() & VSVA_FEAT_EMU))
            GTEST_SKIP() << "the module has no emulated IOMMU";
        ASSERT_EQ(ctx_.DomainAlloc(&dom_), 0);
        ASSERT_EQ(ram_.Add(ctx_, dom_, kRamGpa, kRamLen), 0);
    }

    // Build an empty table, attach 00:02.0, allocate a PASID and bind it.
    void Bind(int levels = 4, uint32_t attach = 0, uint64_t vtd = 0) {
        pt_ = std::make_unique<PageTables>(ram_, kPool, kPoolEnd, levels);
        ASSERT_EQ(ctx_.Attach(Rid(2), dom_, attach, &dev_), 0);
        ASSERT_EQ(ctx_.PasidAlloc(&pasid_), 0);
        ASSERT_EQ(ctx_.Bind(dev_, pasid_, pt_->root(), pt_->aw(), vtd), 0);
    }

    // DMA expected to complete.
    void Write(uint64_t iova, const void* buf, uint64_t len, uint32_t flags = 0) {
        struct vsva_emu_dma d;
        ASSERT_EQ(ctx_.Dma(dev_, pasid_, iova, (void*)buf, len, flags | VSVA_EMU_DMA_WRITE, &d), 0);
        ASSERT_EQ(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u) << "fault reason " << d.out_fault.reason;
        ASSERT_EQ(d.out_done, len);
    }
    void Read(uint64_t iova, void* buf, uint64_t len, uint32_t flags = 0) {
        struct vsva_emu_dma d;
        ASSERT_EQ(ctx_.Dma(dev_, pasid_, iova, buf, len, flags, &d), 0);
        ASSERT_EQ(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u) << "fault reason " << d.out_fault.reason;
        ASSERT_EQ(d.out_done, len);
    }
    uint64_t Read64(uint64_t iova) {
        uint64_t v = 0;
        Read(iova, &v, sizeof(v));
        return v;
    }
    // DMA expected to fault: returns the fault.
    struct vsva_emu_dma Fault(uint64_t iova, uint32_t flags, uint64_t len = 8) {
        static uint8_t buf[8192];
        struct vsva_emu_dma d;
        EXPECT_EQ(ctx_.Dma(dev_, pasid_, iova, buf, len, flags, &d), 0);
        EXPECT_NE(d.out_flags & VSVA_EMU_DMA_FAULTED, 0u);
        return d;
    }
    // Put a recognisable value at the start of a guest page.
    void Stamp(uint64_t gpa, uint64_t v) { ram_.Q(gpa) = v; }

    Ctx ctx_;
    GuestRam ram_;
    uint32_t dom_ = 0, dev_ = 0, pasid_ = 0;
    std::unique_ptr<PageTables> pt_;
};

} // namespace dp
