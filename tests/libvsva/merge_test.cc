// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Batch merging: hand-picked cases, and a property test against a naive
 * reference model over random queues (what is invalidated must be exactly
 * the same set of (caches, PASID, LEAF, granule, page); the result must be
 * fully merged).
 */
#include <random>
#include <set>
#include <tuple>

#include <gtest/gtest.h>

#include <vsva/invalidate.h>

#include "core.h"

namespace vsva {
namespace {

Invalidation R(std::uint32_t pasid, std::uint64_t addr, std::uint64_t size,
               CacheSet c = Cache::Iotlb, Leaf leaf = Leaf::No, Granule g = Granule::Size4K) {
    return *Invalidation::range(c, pasid, addr, size, g, leaf);
}

std::vector<Invalidation> merged(std::vector<Invalidation> v) {
    detail::merge_in_place(v);
    return v;
}

TEST(Merge, AdjacentRangesBecomeOne) {
    auto out = merged({R(1, 0x2000, 0x1000), R(1, 0x0, 0x1000), R(1, 0x1000, 0x1000)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], R(1, 0, 0x3000));
}

TEST(Merge, OverlappingAndContainedRanges) {
    auto out = merged({R(1, 0x0, 0x4000), R(1, 0x3000, 0x3000), R(1, 0x1000, 0x1000)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], R(1, 0, 0x6000));
}

TEST(Merge, GapsKeysAndLeafKeepEntriesApart) {
    auto out = merged({
            R(1, 0x0, 0x1000), R(1, 0x2000, 0x1000),                           // a gap
            R(2, 0x1000, 0x1000),                                              // another PASID
            R(1, 0x1000, 0x1000, Cache::DeviceTlb),                            // another cache
            R(1, 0x1000, 0x1000, Cache::Iotlb, Leaf::Yes),                     // LEAF differs
            R(1, 0x200000, 0x200000, Cache::Iotlb, Leaf::No, Granule::Size2M), // granule
    });
    EXPECT_EQ(out.size(), 6u);
}

TEST(Merge, AdjacentRangesOfDifferentGranulesStayApart) {
    auto out = merged({R(1, 0x0, 0x200000),
                       R(1, 0x200000, 0x200000, Cache::Iotlb, Leaf::No, Granule::Size2M)});
    EXPECT_EQ(out.size(), 2u);
}

TEST(Merge, DuplicatesOfDomainAndPasidEntriesDropped) {
    auto d = *Invalidation::domain(Cache::Iotlb);
    auto p = *Invalidation::pasid(Cache::Iotlb, 4);
    auto out = merged({d, p, d, p, *Invalidation::pasid(Cache::Iotlb, 5), d});
    EXPECT_EQ(out.size(), 3u);
}

TEST(Merge, TopOfAddressSpaceDoesNotOverflow) {
    const std::uint64_t top = ~0xfffull;
    auto out = merged({R(1, top, 0x1000), R(1, top - 0x1000, 0x1000)});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], R(1, top - 0x1000, 0x2000));
    // The whole 2^64 range is not representable: stays as two entries.
    auto halves = merged({R(1, 0, 1ull << 63), R(1, 1ull << 63, 1ull << 63)});
    EXPECT_EQ(halves.size(), 2u);
}

TEST(Merge, QueueWithoutMergingKeepsOrder) {
    InvalidationQueue q(Merge::No);
    q.add(R(1, 0x1000, 0x1000));
    q.add(R(1, 0x0, 0x1000));
    auto out = q.prepared();
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].addr(), 0x1000u);
    InvalidationQueue m;
    m.add(R(1, 0x1000, 0x1000));
    m.add(R(1, 0x0, 0x1000));
    EXPECT_EQ(m.prepared().size(), 1u);
    EXPECT_EQ(m.size(), 2u) << "prepared() does not consume";
}

/* ---- the property test ---------------------------------------------- */

using Unit = std::tuple<int, int, std::uint32_t, bool, std::uint64_t, std::uint64_t>;

/* Naive model: every (key, granule index) an entry covers, one by one. */
std::set<Unit> coverage(const std::vector<Invalidation>& v) {
    std::set<Unit> s;
    for (const auto& i : v) {
        const int g = static_cast<int>(i.granularity());
        if (i.granularity() != Granularity::Range) {
            s.emplace(g, i.caches().bits(), i.pasid(), false, 0, 0);
            continue;
        }
        for (std::uint64_t k = 0; k < i.nb_granules(); k++)
            s.emplace(g, i.caches().bits(), i.pasid(), i.leaf(), i.granule_size(),
                      i.addr() / i.granule_size() + k);
    }
    return s;
}

Invalidation random_entry(std::mt19937_64& rng) {
    const CacheSet caches[] = {Cache::Iotlb, Cache::DeviceTlb, Cache::Iotlb | Cache::DeviceTlb};
    auto pick = [&](std::uint64_t n) { return rng() % n; };
    switch (pick(10)) {
    case 0:
        return *Invalidation::domain(pick(2) ? Cache::Iotlb : Cache::PasidCache);
    case 1:
        return *Invalidation::pasid(caches[pick(3)], 1 + pick(3));
    default: {
        const Granule g = pick(6) ? Granule::Size4K : Granule::Size2M;
        const std::uint64_t gs = static_cast<std::uint64_t>(g);
        const std::uint64_t base = pick(2) ? 0 : (1ull << 40); // two distant regions
        return *Invalidation::range(caches[pick(3)], 1 + pick(3), base + pick(48) * gs,
                                    (1 + pick(6)) * gs, g, pick(4) ? Leaf::No : Leaf::Yes);
    }
    }
}

TEST(MergeProperty, SameCoverageAndFullyMergedOverRandomQueues) {
    std::mt19937_64 rng(0x5eed);
    std::size_t in_total = 0, out_total = 0;
    for (int iter = 0; iter < 3000; iter++) {
        std::vector<Invalidation> in;
        const int n = 1 + static_cast<int>(rng() % 64);
        for (int i = 0; i < n; i++)
            in.push_back(random_entry(rng));
        InvalidationQueue q;
        for (const auto& i : in)
            q.add(i);
        const auto out = q.prepared();
        in_total += in.size();
        out_total += out.size();

        ASSERT_EQ(coverage(in), coverage(out)) << "iteration " << iter;
        ASSERT_LE(out.size(), in.size());
        // Fully merged: no two entries of one key overlap, touch or repeat.
        for (std::size_t a = 0; a < out.size(); a++) {
            for (std::size_t b = a + 1; b < out.size(); b++) {
                const auto& x = out[a];
                const auto& y = out[b];
                const bool same_key = x.granularity() == y.granularity() &&
                                      x.caches() == y.caches() && x.pasid() == y.pasid() &&
                                      x.leaf() == y.leaf() && x.granule_size() == y.granule_size();
                if (!same_key)
                    continue;
                if (x.granularity() != Granularity::Range) {
                    ADD_FAILURE() << "duplicate entry survived, iteration " << iter;
                    continue;
                }
                const bool apart = x.addr() + x.size() < y.addr() || y.addr() + y.size() < x.addr();
                ASSERT_TRUE(apart) << "mergeable ranges left apart, iteration " << iter;
            }
        }
    }
    // The generator produces plenty of merge opportunities.
    EXPECT_LT(out_total, in_total * 9 / 10);
}

} // namespace
} // namespace vsva
