// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Negotiation: Context::open() against canned GET_INFO replies from the
 * same, an older (smaller struct, fewer features) and a newer (larger
 * struct, unknown features) kernel; required features; open errors.
 */
#include <cerrno>
#include <cstddef>

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "fake_kernel.h"

namespace vsva {
namespace {

using test::FakeKernel;

bool fd_open(int fd) {
    return ::fcntl(fd, F_GETFD) >= 0;
}

/* Issue 12: a VMM handed an open fd negotiates as open() does. */
TEST(Adopt, NegotiatesLikeOpenAndOwnsTheFd) {
    FakeKernel k;
    k.info_size = offsetof(vsva_info, out_features); // an older kernel
    const int fd = ::open("/dev/null", O_RDWR);      // no O_CLOEXEC, as received
    ASSERT_GE(fd, 0);
    {
        auto ctx = k.adopt(fd);
        ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
        EXPECT_EQ(ctx->fd(), fd);
        EXPECT_EQ(ctx->info().kernel_info_size, offsetof(vsva_info, out_features));
        EXPECT_EQ(ctx->info().max_batch, 128u);
        EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << "set, as open() does";
    }
    EXPECT_FALSE(fd_open(fd)) << "closed with the Context";
}

TEST(Adopt, RequiredFeatureMissingClosesTheFd) {
    FakeKernel k;
    const int fd = ::open("/dev/null", O_RDWR);
    auto ctx = k.adopt(fd, Feature::PageRequest);
    ASSERT_FALSE(ctx.has_value());
    EXPECT_EQ(ctx.error().code(), EOPNOTSUPP);
    EXPECT_NE(ctx.error().message().find("VSVA_FEAT_PAGE_REQUEST"), std::string::npos);
    EXPECT_FALSE(fd_open(fd));
}

TEST(Adopt, BadFds) {
    FakeKernel k;
    auto closed = k.adopt(1000);
    ASSERT_FALSE(closed.has_value());
    EXPECT_EQ(closed.error().code(), EBADF);
    EXPECT_EQ(closed.error().op(), "adopt");
    const int ro = ::open("/dev/null", O_RDONLY);
    auto r = k.adopt(ro);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), EBADF);
    EXPECT_NE(r.error().message().find("O_RDWR"), std::string::npos);
    EXPECT_FALSE(fd_open(ro));
    EXPECT_EQ(k.get_info_calls, 0);
}

TEST(Adopt, NotAVsvaDevice) {
    // The real ioctl on /dev/null: ENOTTY, named as not a vsva device.
    const int fd = ::open("/dev/null", O_RDWR);
    auto ctx = Context::adopt(fd);
    ASSERT_FALSE(ctx.has_value());
    EXPECT_EQ(ctx.error().code(), ENOTTY);
    EXPECT_NE(ctx.error().message().find("is not a vsva device"), std::string::npos);
    EXPECT_FALSE(fd_open(fd));
}

TEST(Negotiate, SameKernel) {
    FakeKernel k;
    auto ctx = k.open(Feature::Nesting | Feature::BatchInvalidate);
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    const Info& i = ctx->info();
    EXPECT_EQ(i.uapi_version, 1u);
    EXPECT_EQ(i.module_version_string(), "0.1.2");
    EXPECT_EQ(i.max_batch, 128u);
    EXPECT_EQ(i.max_pinned, ~0ull);
    EXPECT_EQ(i.kernel_info_size, sizeof(vsva_info));
    EXPECT_EQ(i.library_info_size, sizeof(vsva_info));
    EXPECT_FALSE(i.kernel_newer);
    EXPECT_TRUE(ctx->has(Feature::BatchInvalidate));
    EXPECT_FALSE(ctx->has(Feature::PageRequest));
}

TEST(Negotiate, OlderKernelSmallerStructFewerFeatures) {
    FakeKernel k;
    // An older kernel: its vsva_info ends after out_module_version (56
    // bytes): no out_features, no out_max_pinned.
    k.info_size = offsetof(vsva_info, out_features);
    auto ctx = k.open();
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    const Info& i = ctx->info();
    EXPECT_EQ(i.kernel_info_size, offsetof(vsva_info, out_features));
    EXPECT_FALSE(i.kernel_newer);
    EXPECT_EQ(i.features, 0u) << "fields the kernel does not know read as zero";
    EXPECT_EQ(i.max_pinned, 0u);
    EXPECT_EQ(i.max_batch, 128u) << "fields it knows are read";
    EXPECT_FALSE(ctx->has(Feature::BatchInvalidate));
}

TEST(Negotiate, ProbeFindsEveryOlderSize) {
    for (std::size_t size = 12; size <= sizeof(vsva_info); size += 4) {
        FakeKernel k;
        k.info_size = size;
        auto ctx = k.open();
        ASSERT_TRUE(ctx.has_value()) << size;
        EXPECT_EQ(ctx->info().kernel_info_size, size);
        EXPECT_LE(k.get_info_calls, 7) << "a binary search, not a scan";
    }
}

TEST(Negotiate, NewerKernelLargerStructUnknownFeatures) {
    FakeKernel k;
    k.info_size = sizeof(vsva_info) + 16;
    k.info.out_features |= 1ull << 40; // something this library does not know
    auto ctx = k.open(Feature::Nesting);
    ASSERT_TRUE(ctx.has_value()) << ctx.error().to_string();
    EXPECT_TRUE(ctx->info().kernel_newer);
    EXPECT_EQ(ctx->info().kernel_info_size, sizeof(vsva_info));
    EXPECT_TRUE(ctx->info().features & (1ull << 40)) << "kept for display";
    EXPECT_TRUE(ctx->has(Feature::Nesting));
}

TEST(Negotiate, MissingRequiredFeatureIsNamed) {
    FakeKernel k;
    k.info.out_features = VSVA_FEAT_NESTING;
    auto ctx = k.open(Feature::BatchInvalidate);
    ASSERT_FALSE(ctx.has_value());
    EXPECT_EQ(ctx.error().code(), EOPNOTSUPP);
    EXPECT_EQ(ctx.error().op(), "open");
    const std::string& m = ctx.error().message();
    EXPECT_NE(m.find("VSVA_FEAT_CACHE_INV_BATCH"), std::string::npos) << m;
    EXPECT_NE(m.find("batched cache invalidation"), std::string::npos) << m;
    EXPECT_NE(m.find("kernel too old"), std::string::npos) << m;
    EXPECT_NE(m.find("0.1.2"), std::string::npos) << m;
}

TEST(Negotiate, SeveralMissingFeaturesAllNamed) {
    FakeKernel k;
    k.info_size = offsetof(vsva_info, out_features); // an older kernel
    auto ctx = k.open(Feature::PageRequest | Feature::Emulation);
    ASSERT_FALSE(ctx.has_value());
    EXPECT_NE(ctx.error().message().find("VSVA_FEAT_PAGE_REQUEST"), std::string::npos);
    EXPECT_NE(ctx.error().message().find("VSVA_FEAT_EMU"), std::string::npos);
    EXPECT_EQ(ctx.error().message().find("NESTING"), std::string::npos);
}

TEST(Negotiate, OtherUapiVersionRefused) {
    FakeKernel k;
    k.info.out_uapi_version = 2;
    auto ctx = k.open();
    ASSERT_FALSE(ctx.has_value());
    EXPECT_EQ(ctx.error().code(), EPROTO);
    EXPECT_NE(ctx.error().message().find("UAPI v2"), std::string::npos);
}

TEST(Negotiate, NotAVsvaDevice) {
    auto ctx = Context::open({.path = "/dev/null"}); // the real ioctl: ENOTTY
    ASSERT_FALSE(ctx.has_value());
    EXPECT_EQ(ctx.error().code(), ENOTTY);
    EXPECT_NE(ctx.error().message().find("not a vsva device"), std::string::npos);
}

TEST(Negotiate, ModuleNotLoaded) {
    auto ctx = Context::open({.path = "/nonexistent/vsva"});
    ASSERT_FALSE(ctx.has_value());
    EXPECT_EQ(ctx.error().code(), ENOENT);
    EXPECT_EQ(ctx.error().op(), "open");
    EXPECT_NE(ctx.error().message().find("modprobe vsva"), std::string::npos);
}

} // namespace
} // namespace vsva
