// SPDX-License-Identifier: LGPL-2.1-or-later
/* Invalidation builders: validation and the exact v1 bytes. */
#include <array>
#include <cstring>

#include <gtest/gtest.h>

#include <vsva/invalidate.h>

#include "core.h"

namespace vsva {
namespace {

using Bytes = std::array<unsigned char, 56>;

Bytes encode(const Invalidation& inv) {
    vsva_cache_invalidate_info info = {};
    std::memset(&info, 0xee, sizeof(info)); // the encoder must clear everything
    detail::encode(inv, &info);
    Bytes b;
    std::memcpy(b.data(), &info, sizeof(info));
    return b;
}

/* Little-endian helpers for writing expected bytes by hand. */
void put32(Bytes& b, std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[off + i] = static_cast<unsigned char>(v >> (8 * i));
}
void put64(Bytes& b, std::size_t off, std::uint64_t v) {
    for (int i = 0; i < 8; i++)
        b[off + i] = static_cast<unsigned char>(v >> (8 * i));
}

TEST(InvalidateEncode, DomainIotlbIsSixteenMeaningfulBytes) {
    auto inv = Invalidation::domain(Cache::Iotlb | Cache::PasidCache);
    ASSERT_TRUE(inv.has_value());
    Bytes want{};
    put32(want, 0, 56); // argsz: the full v1 struct
    put32(want, 4, 1);  // version
    want[8] = 0x5;      // IOTLB | PASID cache
    want[9] = 0;        // VSVA_INV_GRANU_DOMAIN
    EXPECT_EQ(encode(*inv), want);
}

TEST(InvalidateEncode, PasidGranularity) {
    auto inv = Invalidation::pasid(Cache::DeviceTlb, 0x12345);
    ASSERT_TRUE(inv.has_value());
    Bytes want{};
    put32(want, 0, 56);
    put32(want, 4, 1);
    want[8] = 0x2;      // DEV_IOTLB
    want[9] = 1;        // PASID
    put32(want, 16, 1); // pasid_info.flags = VSVA_INV_PASID_FLAGS_PASID
    put32(want, 20, 0); // archid
    put64(want, 24, 0x12345);
    EXPECT_EQ(encode(*inv), want);
}

TEST(InvalidateEncode, RangeLeafTwoMegGranules) {
    auto inv = Invalidation::range(Cache::Iotlb | Cache::DeviceTlb, 7, 0x40000000, 6ull << 20,
                                   Granule::Size2M, Leaf::Yes);
    ASSERT_TRUE(inv.has_value());
    Bytes want{};
    put32(want, 0, 56);
    put32(want, 4, 1);
    want[8] = 0x3;
    want[9] = 2;            // ADDR
    put32(want, 16, 1 | 4); // PASID | LEAF
    put32(want, 20, 0);     // archid
    put64(want, 24, 7);     // pasid
    put64(want, 32, 0x40000000);
    put64(want, 40, 2ull << 20); // granule_size
    put64(want, 48, 3);          // nb_granules
    EXPECT_EQ(encode(*inv), want);
    EXPECT_EQ(inv->size(), 6ull << 20);
}

TEST(InvalidateEncode, RangeNotLeafHasNoLeafBit) {
    auto inv = Invalidation::range(Cache::Iotlb, 1, 0x1000, 0x3000);
    ASSERT_TRUE(inv.has_value());
    auto b = encode(*inv);
    EXPECT_EQ(b[16], 1); // PASID only
    EXPECT_EQ(inv->granule_size(), 4096u);
    EXPECT_EQ(inv->nb_granules(), 3u);
}

TEST(InvalidateEncode, MatchesUpstreamOffsets) {
    // The v1 layout is Linux 5.11's struct iommu_cache_invalidate_info.
    EXPECT_EQ(offsetof(vsva_cache_invalidate_info, cache), 8u);
    EXPECT_EQ(offsetof(vsva_cache_invalidate_info, granularity), 9u);
    EXPECT_EQ(offsetof(vsva_cache_invalidate_info, granu.addr_info.granule_size), 40u);
    EXPECT_EQ(offsetof(vsva_cache_invalidate_info, granu.addr_info.nb_granules), 48u);
}

struct Bad {
    const char* what = nullptr;
    Result<Invalidation> r;
    const char* needle = nullptr;
};

TEST(InvalidateValidate, MatrixAndRangeRules) {
    const Bad cases[] = {
            {"devtlb at domain", Invalidation::domain(Cache::DeviceTlb), "domain granularity"},
            {"empty set", Invalidation::domain(CacheSet::from_bits(0)), "no cache"},
            {"unknown bit", Invalidation::pasid(CacheSet::from_bits(0x9), 1), "unknown cache"},
            {"pasid cache by range", Invalidation::range(Cache::PasidCache, 1, 0, 4096),
             "PASID cache"},
            {"pasid too wide", Invalidation::pasid(Cache::Iotlb, 1u << 20), "20-bit"},
            {"pasid 0", Invalidation::range(Cache::Iotlb, 0, 0, 4096), "reserved"},
            {"misaligned", Invalidation::range(Cache::Iotlb, 1, 0x1001, 4096), "aligned"},
            {"2M misaligned",
             Invalidation::range(Cache::Iotlb, 1, 0x1000, 2 << 20, Granule::Size2M), "aligned"},
            {"zero size", Invalidation::range(Cache::Iotlb, 1, 0, 0), "multiple"},
            {"partial granule", Invalidation::range(Cache::Iotlb, 1, 0, 6000), "multiple"},
            {"wraps", Invalidation::range(Cache::Iotlb, 1, ~0xfffull, 0x2000), "wraps"},
            {"bad granule",
             Invalidation::range(Cache::Iotlb, 1, 0, 8192, static_cast<Granule>(8192)),
             "granule size"},
    };
    for (const auto& c : cases) {
        ASSERT_FALSE(c.r.has_value()) << c.what;
        EXPECT_EQ(c.r.error().code(), EINVAL) << c.what;
        EXPECT_EQ(c.r.error().op(), "invalidate") << c.what;
        EXPECT_NE(c.r.error().message().find(c.needle), std::string::npos)
                << c.what << ": " << c.r.error().message();
    }
}

TEST(InvalidateValidate, ValidMatrixCombinations) {
    EXPECT_TRUE(Invalidation::domain(Cache::Iotlb).has_value());
    EXPECT_TRUE(Invalidation::domain(Cache::PasidCache).has_value());
    EXPECT_TRUE(Invalidation::pasid(Cache::Iotlb | Cache::DeviceTlb | Cache::PasidCache, 3)
                        .has_value());
    EXPECT_TRUE(
            Invalidation::range(Cache::DeviceTlb, 3, 0, 1ull << 30, Granule::Size1G).has_value());
    // The last page of the address space.
    EXPECT_TRUE(Invalidation::range(Cache::Iotlb, 3, ~0xfffull, 0x1000).has_value());
}

} // namespace
} // namespace vsva
