// SPDX-License-Identifier: GPL-2.0
// In-VM suite vm_vmm: the vsva-vmm scenario (guest page tables, PASID
// entry, PC invalidation → bind, emulated DMA, remap, P_IOTLB batch,
// page request) against the real module, with assertions on every step.
#include <string>

#include <gtest/gtest.h>

#include "scenario.h"

namespace {

class VmmScenario : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        report_ = new vsva::vmm::Report(vsva::vmm::run({}));
        vsva::vmm::print(*report_);
    }
    static void TearDownTestSuite() {
        delete report_;
        report_ = nullptr;
    }
    void SetUp() override {
        if (report_->skipped)
            GTEST_SKIP() << report_->skip_reason;
    }
    static vsva::vmm::Report* report_;
};
vsva::vmm::Report* VmmScenario::report_ = nullptr;

TEST_F(VmmScenario, EveryCheckPassed) {
    for (const auto& c : report_->checks)
        EXPECT_TRUE(c.ok) << c.what << ": " << c.detail;
    EXPECT_GE(report_->checks.size(), 15u);
}

TEST_F(VmmScenario, PcInvalidationBindsTheGuestTable) {
    EXPECT_TRUE(report_->bound);
    EXPECT_EQ(report_->gpasid, 5u);
    EXPECT_NE(report_->hpasid, 0u);
}

TEST_F(VmmScenario, DmaLandsOnTheRightGuestPage) {
    EXPECT_TRUE(report_->dma_verified);
}

TEST_F(VmmScenario, StaleUntilInvalidated) {
    EXPECT_TRUE(report_->stale_seen);
    EXPECT_TRUE(report_->fresh_after_inv);
}

TEST_F(VmmScenario, InvalidationsBatchedPerWait) {
    // bind: P_IOTLB + P_DEVTLB(all) → 2; remap: P_IOTLB + P_DEVTLB → 2;
    // unbind: the P_IOTLB matches no bound PASID any more → no batch.
    EXPECT_EQ(report_->batch_sizes, (std::vector<size_t>{2, 2}));
    EXPECT_EQ(report_->host_batch_calls, 2u);
    EXPECT_EQ(report_->status_writes, 3u);
}

TEST_F(VmmScenario, PageFaultServed) {
    EXPECT_TRUE(report_->fault_served);
    EXPECT_EQ(report_->faults_served, 1u);
}

TEST_F(VmmScenario, GuestClearingTheEntryUnbinds) {
    EXPECT_TRUE(report_->unbound);
}

} // namespace
