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

/*
 * The merge key packed in 32 bits: granularity (2 bits), caches (3), LEAF
 * (1), granule class (5) and the 20-bit PASID.  Any total order works; this one is cheap to
 * compare.
 */
std::uint32_t key(const Invalidation& i) {
    // Granule class: bit width of 4 KiB / 2 MiB / 1 GiB (13, 22, 31), 0 for none.
    const auto g = static_cast<std::uint32_t>(std::bit_width(i.granule_size()));
    return static_cast<std::uint32_t>(i.granularity()) << 30 |
           static_cast<std::uint32_t>(i.caches().bits()) << 27 |
           static_cast<std::uint32_t>(i.leaf()) << 26 | g << 21 | i.pasid();
}

bool before(const Invalidation& a, const Invalidation& b) {
    const std::uint32_t ka = key(a), kb = key(b);
    return ka != kb ? ka < kb : a.addr() < b.addr();
}

std::uint64_t last_byte(const Invalidation& i) {
    return i.addr() + (i.size() - 1);
}

} // namespace

void merge_in_place(std::vector<Invalidation>& v) {
    if (v.size() < 2)
        return;
    // A vIOMMU ring is often in order already: skip the sort then.
    if (!std::is_sorted(v.begin(), v.end(), before))
        std::sort(v.begin(), v.end(), before);
    std::size_t out = 0;
    std::uint32_t cur_key = key(v[0]);
    for (std::size_t i = 1; i < v.size(); i++) {
        Invalidation& cur = v[out];
        const Invalidation& next = v[i];
        const std::uint32_t next_key = key(next);
        if (cur_key == next_key) {
            if (cur.granularity() != Granularity::Range)
                continue; // an exact duplicate
            const std::uint64_t cur_last = last_byte(cur);
            const std::uint64_t last = std::max(cur_last, last_byte(next));
            // Touching or overlapping, and the union's size fits in 64 bits.
            if ((cur_last == std::numeric_limits<std::uint64_t>::max() ||
                 next.addr() <= cur_last + 1) &&
                last - cur.addr() != std::numeric_limits<std::uint64_t>::max()) {
                // Both ends are granule aligned, so the union is whole granules.
                cur = *Invalidation::range(cur.caches(), cur.pasid(), cur.addr(),
                                           last - cur.addr() + 1,
                                           static_cast<Granule>(cur.granule_size()),
                                           cur.leaf() ? Leaf::Yes : Leaf::No);
                continue;
            }
        }
        if (++out != i)
            v[out] = next;
        cur_key = next_key;
    }
    v.resize(out + 1);
}

} // namespace detail

} // namespace vsva
