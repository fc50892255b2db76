// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Batch merging: hand-picked cases, and a property test over thousands of
 * random queues against two reference models: what is invalidated is
 * exactly the same set of (caches, PASID, LEAF, granule, page), and a
 * pessimistic observer that refills every lower cache from the one above
 * it after every entry (PASID cache -> IOTLB -> device TLB) ends in the
 * same state, i.e. no ordering between caches that VT-d 6.5.2.12 / PCIe ATS
 * require was changed.  The result must also be merged wherever merging is
 * allowed.
 */
#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include <vsva/invalidate.h>

#include "core.h"

namespace vsva {
namespace {
std::string describe(const Invalidation& i);
} // namespace

/* gtest prints an Invalidation as e.g. "ID:pasid1@1000+2000L". */
void PrintTo(const Invalidation& i, std::ostream* os) {
    *os << describe(i);
}

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

/*
 * Ranges that touch nothing queued skip the look-back (the merged ranges'
 * hull): one just past either end of the hull still joins, one a page
 * beyond it does not, and a far one may not hide a later one that fills
 * the gap.
 */
TEST(Merge, RangesAtTheEdgesOfWhatIsQueued) {
    auto out = merged({R(1, 0x10000, 0x1000), R(1, 0x30000, 0x1000), R(1, 0x31000, 0x1000),
                       R(1, 0xf000, 0x1000), R(1, 0x33000, 0x1000), R(1, 0xd000, 0x1000)});
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(out[0], R(1, 0xf000, 0x2000));
    EXPECT_EQ(out[1], R(1, 0x30000, 0x2000));
    EXPECT_EQ(out[2], R(1, 0x33000, 0x1000));
    EXPECT_EQ(out[3], R(1, 0xd000, 0x1000));
    // 64 pages with gaps, ascending (the benchmark's batch), then the gaps.
    std::vector<Invalidation> v;
    for (std::uint64_t i = 0; i < 64; i++)
        v.push_back(R(1, i * 0x2000, 0x1000));
    EXPECT_EQ(merged(v).size(), 64u);
    for (std::uint64_t i = 0; i < 63; i++)
        v.push_back(R(1, i * 0x2000 + 0x1000, 0x1000));
    auto all = merged(v);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0], R(1, 0, 127 * 0x1000));
    // The top of the address space: the hull's end does not wrap.
    const std::uint64_t top = ~0xfffull;
    auto hi = merged({R(1, top, 0x1000), R(1, 0, 0x1000), R(1, top - 0x1000, 0x1000)});
    ASSERT_EQ(hi.size(), 2u);
    EXPECT_EQ(hi[0], R(1, top - 0x1000, 0x2000));
}

Invalidation P(std::uint32_t pasid, CacheSet c) {
    return *Invalidation::pasid(c, pasid);
}

Invalidation D(CacheSet c) {
    return *Invalidation::domain(c);
}

/* Issue 12: [IOTLB range, device-TLB PASID] was submitted device TLB first. */
TEST(MergeOrder, DeviceTlbStaysAfterIotlb) {
    auto out = merged({R(1, 0x1000, 0x1000, Cache::Iotlb), P(1, Cache::DeviceTlb)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], R(1, 0x1000, 0x1000, Cache::Iotlb));
    EXPECT_EQ(out[1], P(1, Cache::DeviceTlb));
}

/* Issue 12: [PASID cache, IOTLB domain] was submitted IOTLB first. */
TEST(MergeOrder, IotlbStaysAfterPasidCache) {
    auto out = merged({P(3, Cache::PasidCache), D(Cache::Iotlb)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], P(3, Cache::PasidCache));
    EXPECT_EQ(out[1], D(Cache::Iotlb));
}

TEST(MergeOrder, NoMergeAcrossAnEntryOfAnotherCacheOnTheSamePasid) {
    // The second IOTLB range may not move before the device-TLB entry.
    auto out =
            merged({R(1, 0x0, 0x1000), R(1, 0x0, 0x1000, Cache::DeviceTlb), R(1, 0x1000, 0x1000)});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[2], R(1, 0x1000, 0x1000));
    // Nor a duplicate PASID-cache entry across an IOTLB domain entry.
    auto dup = merged({P(2, Cache::PasidCache), D(Cache::Iotlb), P(2, Cache::PasidCache)});
    EXPECT_EQ(dup.size(), 3u);
}

TEST(MergeOrder, MergesAcrossOtherPasidsAndTheSameCaches) {
    auto out = merged({R(1, 0x0, 0x1000), R(2, 0x0, 0x1000, Cache::DeviceTlb), P(3, Cache::Iotlb),
                       R(1, 0x1000, 0x1000)});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0], R(1, 0x0, 0x2000));
    EXPECT_EQ(out[1], R(2, 0x0, 0x1000, Cache::DeviceTlb));
    EXPECT_EQ(out[2], P(3, Cache::Iotlb));
}

TEST(MergeOrder, AGrownRangeJoinsAnEarlierOne) {
    // [0,1) and [2,3) are apart until [1,2) arrives: one range, where [0,1) was.
    auto out = merged(
            {R(1, 0x0, 0x1000), R(2, 0x0, 0x1000), R(1, 0x2000, 0x1000), R(1, 0x1000, 0x1000)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], R(1, 0x0, 0x3000));
    EXPECT_EQ(out[1], R(2, 0x0, 0x1000));
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

/*
 * The pessimistic observer.  Everything starts stale (the guest changed its
 * tables); an entry drops what it names; after every entry, a walk refills
 * the IOTLB of a PASID whose PASID-cache entry is stale, and ATS refills
 * the device TLB from a stale IOTLB page.  Within one entry the caches are
 * dropped together (the kernel orders them).  Pages are 4 KiB, kPages of
 * them per PASID: the generator stays inside.
 */
constexpr std::size_t kPages = 1024;
constexpr std::uint32_t kPasids = 3; // 1..3

struct Observer {
    bool pasid_cache[kPasids + 1];
    std::bitset<kPages> iotlb[kPasids + 1];
    std::bitset<kPages> devtlb[kPasids + 1];

    Observer() {
        for (std::uint32_t p = 0; p <= kPasids; p++) {
            pasid_cache[p] = true;
            iotlb[p].set();
            devtlb[p].set();
        }
    }
    void apply(const Invalidation& i) {
        std::bitset<kPages> mask;
        if (i.granularity() == Granularity::Range) {
            for (std::uint64_t a = i.addr() / 4096; a < (i.addr() + i.size()) / 4096; a++)
                mask.set(a);
        } else {
            mask.set();
        }
        for (std::uint32_t p = 1; p <= kPasids; p++) {
            if (i.granularity() != Granularity::Domain && i.pasid() != p)
                continue;
            if (i.caches().has(Cache::PasidCache))
                pasid_cache[p] = false;
            if (i.caches().has(Cache::Iotlb))
                iotlb[p] &= ~mask;
            if (i.caches().has(Cache::DeviceTlb))
                devtlb[p] &= ~mask;
        }
        for (std::uint32_t p = 1; p <= kPasids; p++) {
            if (pasid_cache[p])
                iotlb[p].set();
            devtlb[p] |= iotlb[p];
        }
    }
    bool operator==(const Observer& o) const {
        for (std::uint32_t p = 1; p <= kPasids; p++)
            if (pasid_cache[p] != o.pasid_cache[p] || iotlb[p] != o.iotlb[p] ||
                devtlb[p] != o.devtlb[p])
                return false;
        return true;
    }
};

Observer observe(const std::vector<Invalidation>& v) {
    Observer o;
    for (const auto& i : v)
        o.apply(i);
    return o;
}

/* The test's own statement of the rules (independent of the library's). */
bool same_key(const Invalidation& a, const Invalidation& b) {
    return a.granularity() == b.granularity() && a.caches() == b.caches() &&
           a.pasid() == b.pasid() && a.leaf() == b.leaf() && a.granule_size() == b.granule_size();
}

bool must_stay_ordered(const Invalidation& a, const Invalidation& b) {
    return a.caches() != b.caches() &&
           (a.granularity() == Granularity::Domain || b.granularity() == Granularity::Domain ||
            a.pasid() == b.pasid());
}

/* @o covers everything @e does, as the same kind of entry. */
bool contains(const Invalidation& o, const Invalidation& e) {
    if (!same_key(o, e))
        return false;
    if (o.granularity() != Granularity::Range)
        return true;
    return o.addr() <= e.addr() && e.addr() + e.size() <= o.addr() + o.size();
}

/* Same key and touching, overlapping or equal: one entry would do. */
bool joinable(const Invalidation& a, const Invalidation& b) {
    if (!same_key(a, b))
        return false;
    if (a.granularity() != Granularity::Range)
        return true;
    return !(a.addr() + a.size() < b.addr() || b.addr() + b.size() < a.addr());
}

std::string describe(const Invalidation& i) {
    std::ostringstream s;
    s << (i.caches().has(Cache::PasidCache) ? "pc" : "")
      << (i.caches().has(Cache::Iotlb) ? "I" : "") << (i.caches().has(Cache::DeviceTlb) ? "D" : "");
    switch (i.granularity()) {
    case Granularity::Domain:
        s << ":domain";
        break;
    case Granularity::Pasid:
        s << ":pasid" << i.pasid();
        break;
    case Granularity::Range:
        s << ":pasid" << i.pasid() << "@" << std::hex << i.addr() << "+" << i.size() << std::dec
          << (i.leaf() ? "L" : "");
        break;
    }
    return s.str();
}

std::string describe(const std::vector<Invalidation>& v) {
    std::string s = "[";
    for (const auto& i : v)
        s += (s.size() > 1 ? " " : "") + describe(i);
    return s + "]";
}

Invalidation random_entry(std::mt19937_64& rng) {
    auto pick = [&](std::uint64_t n) { return rng() % n; };
    const std::uint32_t pasid = 1 + static_cast<std::uint32_t>(pick(kPasids));
    const std::uint64_t r = pick(20);
    if (r < 1) { // domain: IOTLB, PASID cache or both
        const CacheSet c[] = {Cache::Iotlb, Cache::PasidCache, Cache::Iotlb | Cache::PasidCache};
        return *Invalidation::domain(c[pick(3)]);
    }
    if (r < 3) // PASID: any non-empty set of the three caches
        return *Invalidation::pasid(CacheSet::from_bits(static_cast<std::uint8_t>(1 + pick(7))),
                                    pasid);
    // Mostly IOTLB ranges, as a guest's unmaps produce; some device TLB.
    const CacheSet c[] = {
            Cache::Iotlb, Cache::Iotlb, Cache::Iotlb,     Cache::Iotlb,
            Cache::Iotlb, Cache::Iotlb, Cache::DeviceTlb, Cache::Iotlb | Cache::DeviceTlb};
    const Leaf leaf = pick(6) ? Leaf::No : Leaf::Yes;
    if (pick(8) == 0) // a 2 MiB granule inside the first 4 MiB
        return *Invalidation::range(c[pick(8)], pasid, pick(2) << 21, 2ull << 20, Granule::Size2M,
                                    leaf);
    return *Invalidation::range(c[pick(8)], pasid, pick(40) << 12, (1 + pick(8)) << 12,
                                Granule::Size4K, leaf);
}

/* What the property test checks of one queue; the first failure, or "". */
std::string check_queue(const std::vector<Invalidation>& in, const std::vector<Invalidation>& out) {
    if (out.size() > in.size())
        return "more entries out than in";
    if (coverage(in) != coverage(out))
        return "coverage changed";
    if (!(observe(in) == observe(out)))
        return "an observer refilling lower caches from upper ones ends in another state";
    // Every pair of input entries that must stay ordered does, in entries
    // that contain them.
    for (std::size_t i = 0; i < in.size(); i++) {
        for (std::size_t j = i + 1; j < in.size(); j++) {
            if (!must_stay_ordered(in[i], in[j]))
                continue;
            std::size_t first_i = out.size(), last_j = 0;
            bool found_j = false;
            for (std::size_t a = 0; a < out.size(); a++) {
                if (first_i == out.size() && contains(out[a], in[i]))
                    first_i = a;
                if (contains(out[a], in[j])) {
                    last_j = a;
                    found_j = true;
                }
            }
            if (first_i == out.size() || !found_j || first_i >= last_j)
                return "entries " + std::to_string(i) + " (" + describe(in[i]) + ") and " +
                       std::to_string(j) + " (" + describe(in[j]) + ") reordered";
        }
    }
    // Merged wherever allowed: two joinable entries have one between them
    // that neither may cross.
    for (std::size_t a = 0; a < out.size(); a++) {
        for (std::size_t b = a + 1; b < out.size(); b++) {
            if (!joinable(out[a], out[b]))
                continue;
            bool fenced = false;
            for (std::size_t c = a + 1; c < b && !fenced; c++)
                fenced = must_stay_ordered(out[c], out[a]);
            if (!fenced)
                return "entries " + std::to_string(a) + " and " + std::to_string(b) +
                       " of the output could have been merged";
        }
    }
    return {};
}

/* Sparse and ascending ranges, where what is queued rarely spans the new one. */
Invalidation sparse_entry(std::mt19937_64& rng, int i) {
    auto pick = [&](std::uint64_t n) { return rng() % n; };
    const std::uint32_t pasid = 1 + static_cast<std::uint32_t>(pick(2));
    if (pick(30) == 0)
        return *Invalidation::pasid(CacheSet::from_bits(static_cast<std::uint8_t>(1 + pick(7))),
                                    pasid);
    const CacheSet c[] = {Cache::Iotlb, Cache::Iotlb, Cache::DeviceTlb,
                          Cache::Iotlb | Cache::DeviceTlb};
    const std::uint64_t page = pick(3) ? static_cast<std::uint64_t>(i) * 2 + pick(3) : pick(1000);
    return *Invalidation::range(c[pick(4)], pasid, page << 12, (1 + pick(2)) << 12, Granule::Size4K,
                                pick(8) ? Leaf::No : Leaf::Yes);
}

TEST(MergeProperty, SparseAndAscendingRanges) {
    for (int iter = 0; iter < 2000; iter++) {
        std::mt19937_64 rng(0x5ba5e + static_cast<std::uint64_t>(iter));
        std::vector<Invalidation> in;
        const int n = 1 + static_cast<int>(rng() % 64);
        for (int i = 0; i < n; i++)
            in.push_back(sparse_entry(rng, i));
        InvalidationQueue q;
        for (const auto& i : in)
            q.add(i);
        const auto out = q.prepared();
        ASSERT_EQ(check_queue(in, out), "") << "iteration " << iter << "\n  in:  " << describe(in)
                                            << "\n  out: " << describe(out);
    }
}

TEST(MergeProperty, KeepsCoverageAndCacheOrderAndMergesWhereAllowed) {
    // VSVA_MERGE_SEED=N replays a failure.
    const char* env = std::getenv("VSVA_MERGE_SEED");
    const std::uint64_t seed = env ? std::strtoull(env, nullptr, 0) : 0x5eed;
    std::size_t in_total = 0, out_total = 0, fences = 0;
    for (int iter = 0; iter < 5000; iter++) {
        std::mt19937_64 rng(seed + static_cast<std::uint64_t>(iter));
        std::vector<Invalidation> in;
        const int n = 1 + static_cast<int>(rng() % 48);
        for (int i = 0; i < n; i++)
            in.push_back(random_entry(rng));
        InvalidationQueue q;
        for (const auto& i : in)
            q.add(i);
        const auto out = q.prepared();
        in_total += in.size();
        out_total += out.size();
        const std::string why = check_queue(in, out);
        ASSERT_EQ(why, "") << "queue seed " << seed + static_cast<std::uint64_t>(iter)
                           << " (base seed " << seed << ", iteration " << iter
                           << "; VSVA_MERGE_SEED=" << seed + static_cast<std::uint64_t>(iter)
                           << " replays it first)\n  in:  " << describe(in)
                           << "\n  out: " << describe(out);
        for (std::size_t a = 0; a + 1 < out.size(); a++)
            fences += must_stay_ordered(out[a], out[a + 1]) ? 1 : 0;
    }
    // The generator produces plenty of merges and of neighbours whose order matters.
    EXPECT_LT(out_total, in_total * 19 / 20);
    EXPECT_GT(fences, 5000u);
    std::printf("%zu entries in, %zu out, %zu ordered neighbours\n", in_total, out_total, fences);
}

} // namespace
} // namespace vsva
