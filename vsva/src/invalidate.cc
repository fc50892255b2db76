// SPDX-License-Identifier: LGPL-2.1-or-later
/* Invalidation builders, their v1 encoding and batch merging (pure logic). */
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <limits>

#include <fmt/format.h>

#include "core.h"

namespace vsva {

namespace {

constexpr std::uint8_t kAllCaches =
        VSVA_CACHE_INV_TYPE_IOTLB | VSVA_CACHE_INV_TYPE_DEV_IOTLB | VSVA_CACHE_INV_TYPE_PASID;
constexpr std::uint32_t kPasidLimit = 1u << 20;

Unexpected inval(std::string msg) {
    return fail(EINVAL, "invalidate", std::move(msg));
}

Result<void> check_caches(CacheSet caches) {
    if (caches.bits() == 0)
        return inval("no cache selected");
    if (caches.bits() & ~kAllCaches)
        return inval(fmt::format("unknown cache bits {:#x}", caches.bits() & ~kAllCaches));
    return {};
}

Result<void> check_pasid(std::uint32_t pasid) {
    if (pasid == 0)
        return inval("PASID 0 is reserved (requests without PASID)");
    if (pasid >= kPasidLimit)
        return inval(fmt::format("PASID {} is beyond the 20-bit PASID space", pasid));
    return {};
}

} // namespace

Result<Invalidation> Invalidation::domain(CacheSet caches) {
    if (auto r = check_caches(caches); !r)
        return Unexpected(std::move(r).error());
    if (caches.has(Cache::DeviceTlb))
        return inval("the device TLB cannot be invalidated at domain granularity");
    Invalidation inv;
    inv.cache_ = caches.bits();
    inv.granu_ = VSVA_INV_GRANU_DOMAIN;
    return inv;
}

Result<Invalidation> Invalidation::pasid(CacheSet caches, std::uint32_t pasid) {
    if (auto r = check_caches(caches); !r)
        return Unexpected(std::move(r).error());
    if (auto r = check_pasid(pasid); !r)
        return Unexpected(std::move(r).error());
    Invalidation inv;
    inv.cache_ = caches.bits();
    inv.granu_ = VSVA_INV_GRANU_PASID;
    inv.flags_ = VSVA_INV_PASID_FLAGS_PASID;
    inv.pasid_ = pasid;
    return inv;
}

Result<Invalidation> Invalidation::range(CacheSet caches, std::uint32_t pasid, std::uint64_t addr,
                                         std::uint64_t size, Granule granule, Leaf leaf) {
    if (auto r = check_caches(caches); !r)
        return Unexpected(std::move(r).error());
    if (caches.has(Cache::PasidCache))
        return inval("the PASID cache cannot be invalidated by address range");
    if (auto r = check_pasid(pasid); !r)
        return Unexpected(std::move(r).error());
    const auto g = static_cast<std::uint64_t>(granule);
    if (granule != Granule::Size4K && granule != Granule::Size2M && granule != Granule::Size1G)
        return inval(fmt::format("granule size {:#x} is not 4 KiB, 2 MiB or 1 GiB", g));
    if (addr % g)
        return inval(fmt::format("address {:#x} is not aligned to the granule ({:#x})", addr, g));
    if (size == 0 || size % g)
        return inval(fmt::format("size {:#x} is not a non-zero multiple of the granule ({:#x})",
                                 size, g));
    if (size - 1 > std::numeric_limits<std::uint64_t>::max() - addr)
        return inval(fmt::format("range {:#x} + {:#x} wraps past 2^64", addr, size));
    Invalidation inv;
    inv.cache_ = caches.bits();
    inv.granu_ = VSVA_INV_GRANU_ADDR;
    inv.flags_ = VSVA_INV_ADDR_FLAGS_PASID | (leaf == Leaf::Yes ? VSVA_INV_ADDR_FLAGS_LEAF : 0);
    inv.pasid_ = pasid;
    inv.addr_ = addr;
    inv.granule_ = g;
    inv.nb_ = size / g;
    return inv;
}

std::vector<Invalidation> InvalidationQueue::prepared() const {
    std::vector<Invalidation> out;
    prepare_into(out);
    return out;
}

void InvalidationQueue::prepare_into(std::vector<Invalidation>& out) const {
    out.assign(pending_.begin(), pending_.end());
    if (merge_ == Merge::Yes)
        detail::merge_in_place(out);
}

std::vector<Invalidation>& InvalidationQueue::prepare_in_place() {
    if (merge_ == Merge::Yes)
        detail::merge_in_place(pending_);
    return pending_;
}

namespace detail {

void encode(const Invalidation& inv, vsva_cache_invalidate_info* out) noexcept {
    static_assert(Access::invalidation_layout_ok());
    std::memcpy(out, &inv, sizeof(*out));
}

namespace {

/* Entries that may become one: same granularity, caches, PASID, LEAF, granule. */
bool same_key(const Invalidation& a, const Invalidation& b) {
    return a.granularity() == b.granularity() && a.caches() == b.caches() &&
           a.pasid() == b.pasid() && a.leaf() == b.leaf() && a.granule_size() == b.granule_size();
}

/*
 * Whether the relative order of @a and @b can be observed, so that neither
 * may move past the other.  Caches are refilled from the cache above them
 * (PASID cache -> IOTLB -> device TLB via ATS): invalidating a lower cache
 * before an upper one lets a concurrent walk or translation request refill
 * it from the stale upper entry.  So entries on different cache sets keep
 * their order when their scopes can meet: one covers the domain, or both
 * name the same PASID.  Addresses are not compared: a large page cached for
 * one range also serves its neighbours.  Entries on the same caches, or on
 * different PASIDs, commute (each only drops state of its own scope).
 */
bool ordered(const Invalidation& a, const Invalidation& b) {
    if (a.caches() == b.caches())
        return false;
    return a.granularity() == Granularity::Domain || b.granularity() == Granularity::Domain ||
           a.pasid() == b.pasid();
}

std::uint64_t last_byte(const Invalidation& i) {
    return i.addr() + (i.size() - 1);
}

/* Fold @e into @into (same key): a duplicate, or a touching/overlapping range. */
bool absorb(Invalidation& into, const Invalidation& e) {
    if (into.granularity() != Granularity::Range)
        return into == e;
    const std::uint64_t lo = std::min(into.addr(), e.addr());
    const std::uint64_t a_last = last_byte(into), b_last = last_byte(e);
    const std::uint64_t hi = std::max(a_last, b_last);
    // Touching or overlapping (no gap between the two) ...
    const bool meet = into.addr() <= e.addr()
                              ? (a_last == std::numeric_limits<std::uint64_t>::max() ||
                                 e.addr() <= a_last + 1)
                              : (b_last == std::numeric_limits<std::uint64_t>::max() ||
                                 into.addr() <= b_last + 1);
    // ... and the union's size fits in 64 bits.
    if (!meet || hi - lo == std::numeric_limits<std::uint64_t>::max())
        return false;
    // Both ends are granule aligned, so the union is whole granules; the
    // rest of the entry (key, flags) stays what the factory made.
    Access::set_extent(into, lo, (hi - lo + 1) / into.granule_size());
    return true;
}

/*
 * The bytes the range entries of the merged prefix span, or a superset of
 * them: a range that does not meet it cannot join any of them.
 */
struct Hull {
    std::uint64_t lo = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t hi = 0; // lo > hi: empty

    void add(const Invalidation& i) {
        if (i.granularity() != Granularity::Range)
            return;
        lo = std::min(lo, i.addr());
        hi = std::max(hi, last_byte(i));
    }
    /* Whether [@first, @last] touches or overlaps the hull (absorb()'s meet). */
    bool meets(std::uint64_t first, std::uint64_t last) const {
        constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
        return lo <= hi && (last == kMax || lo <= last + 1) && (hi == kMax || first <= hi + 1);
    }
};

/*
 * The index, below @at, of the entry @e can fold into: the nearest one of
 * the same key that absorbs it with no ordered() entry in between (so that
 * moving @e there cannot be observed).  @at when there is none.  @hull
 * covers the ranges of v[0, @at).
 */
std::size_t fold_target(std::vector<Invalidation>& v, std::size_t at, const Invalidation& e,
                        const Hull& hull) {
    // A range away from every range of the prefix joins none (the common
    // batch of unrelated pages): no scan.  Which entry would stop the scan
    // does not matter then, the answer is @at either way.
    const bool range = e.granularity() == Granularity::Range;
    const std::uint64_t first = e.addr(), last = range ? last_byte(e) : 0;
    if (range && !hull.meets(first, last))
        return at;
    const std::size_t lo = at > kMergeWindow ? at - kMergeWindow : 0;
    for (std::size_t k = at; k-- > lo;) {
        Invalidation& c = v[k];
        if (c.caches() == e.caches()) { // same caches: never ordered()
            // A range that does not reach @e cannot absorb it (absorb()'s
            // meet, without building the union).
            if (range && !Hull{c.addr(), last_byte(c)}.meets(first, last))
                continue;
            if (same_key(c, e) && absorb(c, e))
                return k;
            continue;
        }
        if (ordered(c, e)) // other caches: never the same key
            break;
    }
    return at;
}

} // namespace

void merge_in_place(std::vector<Invalidation>& v) {
    std::size_t n = 0; // v[0, n) is the merged prefix, in submission order
    Hull hull;         // covers the ranges of v[0, n)
    for (std::size_t i = 0; i < v.size(); i++) {
        const Invalidation e = v[i];
        std::size_t at = fold_target(v, n, e, hull);
        if (at == n) {
            v[n++] = e; // n <= i: never overwrites an entry not yet read
            hull.add(e);
            continue;
        }
        hull.add(v[at]);
        // v[at] grew: it may now meet an earlier entry of its key.
        for (;;) {
            const std::size_t k = fold_target(v, at, v[at], hull);
            if (k == at)
                break;
            // v[k] absorbed v[at]; close the gap (rare: one per entry at most).
            std::move(v.begin() + static_cast<std::ptrdiff_t>(at) + 1,
                      v.begin() + static_cast<std::ptrdiff_t>(n),
                      v.begin() + static_cast<std::ptrdiff_t>(at));
            n--;
            at = k;
        }
    }
    v.resize(n);
}

} // namespace detail

} // namespace vsva
