// SPDX-License-Identifier: GPL-2.0
/*
 * compat_oldmod: the current client against a module built as an older
 * release (kbuild VSVA_OLD_KERNEL=1: struct vsva_info known only up to
 * out_module_version, no batched invalidation, no page requests).
 *
 * Not a vm_* suite: it only means something against that build, so
 * scripts/test.sh runs it in its own VM:
 *   tests/vm/run --kernel stock --module-opts VSVA_OLD_KERNEL=1 -- compat_oldmod
 */
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vsva.h>

#include <gtest/gtest.h>

#include <vsva/invalidate.h>
#include <vsva/vsva.h>

#include "../../libvsva/vm_env.h"

namespace {

/* What the older release knew of struct vsva_info. */
constexpr std::size_t kOldInfoSize = offsetof(vsva_info, out_module_version) + 4;

class OldModule : public ::testing::Test {
protected:
    void SetUp() override {
        fd_ = ::open("/dev/vsva", O_RDWR | O_CLOEXEC);
        if (fd_ < 0)
            GTEST_SKIP() << "no /dev/vsva: " << std::strerror(errno);
    }
    void TearDown() override {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int call(unsigned long cmd, void* arg) { return ::ioctl(fd_, cmd, arg) ? -errno : 0; }
    int fd_ = -1;
};

TEST_F(OldModule, InfoWritesOnlyWhatItKnows) {
    vsva_info info{};
    info.argsz = sizeof(info);
    ASSERT_EQ(call(VSVA_GET_INFO, &info), 0);
    EXPECT_EQ(info.out_uapi_version, 1u);
    EXPECT_EQ(info.out_pasid_bits, 20u);
    EXPECT_NE(info.out_module_version, 0u);
    // The tail this release did not know stays as the caller zeroed it: a
    // features word of 0 means "no optional feature", never "unknown".
    EXPECT_EQ(info.out_features, 0u);
    EXPECT_EQ(info.out_max_pinned, 0u);
}

TEST_F(OldModule, InfoSizesOfThatRelease) {
    std::vector<unsigned char> buf(sizeof(vsva_info), 0);
    auto* info = reinterpret_cast<vsva_info*>(buf.data());
    info->argsz = kOldInfoSize;
    EXPECT_EQ(call(VSVA_GET_INFO, info), 0);
    EXPECT_EQ(info->out_uapi_version, 1u);
    info->argsz = kOldInfoSize - 1;
    EXPECT_EQ(call(VSVA_GET_INFO, info), -EINVAL);
    // A newer client's outputs past what the module knows must be zero.
    vsva_info dirty{};
    dirty.argsz = sizeof(dirty);
    dirty.out_features = 1;
    EXPECT_EQ(call(VSVA_GET_INFO, &dirty), -E2BIG);
}

TEST_F(OldModule, NewerCommandsAreUnknown) {
    vsva_cache_invalidate_batch b{};
    b.argsz = sizeof(b);
    EXPECT_EQ(call(VSVA_CACHE_INVALIDATE_BATCH, &b), -ENOTTY);
    vsva_fault_alloc f{};
    f.argsz = sizeof(f);
    EXPECT_EQ(call(VSVA_FAULT_ALLOC, &f), -ENOTTY);
    vsva_nesting_op op{};
    op.argsz = sizeof(op);
    EXPECT_EQ(call(VSVA_PAGE_RESPONSE, &op), -ENOTTY);
}

TEST(OldModuleLibrary, RefusesAMissingFeatureByName) {
    auto ctx = vsva::Context::open({.require = vsva::Feature::BatchInvalidate});
    ASSERT_FALSE(ctx.has_value());
    EXPECT_EQ(ctx.error().code(), EOPNOTSUPP);
    EXPECT_NE(ctx.error().message().find("VSVA_FEAT_CACHE_INV_BATCH"), std::string::npos)
            << ctx.error().to_string();
}

TEST(OldModuleLibrary, NegotiatesTheOlderInfoAndFallsBack) {
    auto ctx = vsva::Context::open();
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    const vsva::Info& info = ctx->info();
    EXPECT_EQ(info.kernel_info_size, kOldInfoSize);
    EXPECT_FALSE(info.kernel_newer);
    EXPECT_FALSE(ctx->has(vsva::Feature::BatchInvalidate));
    EXPECT_FALSE(ctx->has(vsva::Feature::PageRequest));

    // Without the batch command the queue is submitted entry by entry.
    auto dom = ctx->create_domain();
    ASSERT_TRUE(dom.has_value()) << dom.error().to_string();
    auto eps = vsva::test::free_endpoints();
    ASSERT_FALSE(eps.empty());
    auto dev = dom->attach(eps.front().rid);
    ASSERT_TRUE(dev.has_value()) << dev.error().to_string();
    auto pasid = ctx->alloc_pasid();
    ASSERT_TRUE(pasid.has_value()) << pasid.error().to_string();

    vsva::InvalidationQueue q(vsva::Merge::No);
    for (std::uint64_t i = 0; i < 3; i++) {
        auto inv = vsva::Invalidation::range(vsva::Cache::Iotlb, pasid->hpasid(),
                                             0x200000 + i * 0x2000, 4096);
        ASSERT_TRUE(inv.has_value()) << inv.error().to_string();
        q.add(*inv);
    }
    auto out = dev->invalidate(q);
    ASSERT_TRUE(out.has_value()) << out.error().to_string();
    EXPECT_EQ(out->done, 3u);
    EXPECT_EQ(out->total, 3u);
}

} // namespace
