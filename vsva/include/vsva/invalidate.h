// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Typed cache invalidations and the batch queue.
 *
 * An Invalidation is one v1 cache-invalidate request (IOTLB / device TLB /
 * PASID cache x domain / PASID / address range).  The factories validate
 * what the UAPI validates (the type x granularity matrix, alignment, sizes)
 * so that a bad request fails here, with a sentence, before any syscall.
 *
 * An InvalidationQueue collects requests (e.g. from a vIOMMU's queued
 * invalidation ring) and hands them to Device::invalidate() or
 * Domain::invalidate() in one VSVA_CACHE_INVALIDATE_BATCH call, in order,
 * after merging what can be merged without changing what any observer sees.
 *
 * Thread safety: Invalidation is a value.  An InvalidationQueue is not
 * synchronised: use one per thread (e.g. per vCPU) or lock around it.
 */
#ifndef VSVA_INVALIDATE_H
#define VSVA_INVALIDATE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <vsva/export.h> // first: states the C++20 requirement
#include <vsva/result.h>

namespace vsva {

namespace detail {
struct Access;
} // namespace detail

/** One cache of the IOMMU. Combine with | into a CacheSet. */
enum class Cache : std::uint8_t {
    Iotlb = 1 << 0,      ///< the IOMMU's IOTLB (stage-1 translations)
    DeviceTlb = 1 << 1,  ///< the device's TLB (ATS)
    PasidCache = 1 << 2, ///< the PASID-entry cache
};

/** A non-empty set of caches (the v1 `cache` bitmask). */
class CacheSet {
public:
    constexpr CacheSet(Cache c) noexcept : bits_(static_cast<std::uint8_t>(c)) {}
    /** From a raw VSVA_CACHE_INV_TYPE_* mask (validated by the factories). */
    static constexpr CacheSet from_bits(std::uint8_t bits) noexcept { return CacheSet(bits); }
    constexpr std::uint8_t bits() const noexcept { return bits_; }
    constexpr bool has(Cache c) const noexcept {
        return (bits_ & static_cast<std::uint8_t>(c)) != 0;
    }
    friend constexpr CacheSet operator|(CacheSet a, CacheSet b) noexcept {
        return CacheSet(static_cast<std::uint8_t>(a.bits_ | b.bits_));
    }
    friend constexpr bool operator==(CacheSet a, CacheSet b) noexcept = default;

private:
    constexpr explicit CacheSet(std::uint8_t bits) noexcept : bits_(bits) {}
    std::uint8_t bits_;
};

constexpr CacheSet operator|(Cache a, Cache b) noexcept {
    return CacheSet(a) | CacheSet(b);
}

/** The v1 granularities (values of VSVA_INV_GRANU_*). */
enum class Granularity : std::uint8_t { Domain = 0, Pasid = 1, Range = 2 };

/** Granule sizes an address-range invalidation may use. */
enum class Granule : std::uint64_t {
    Size4K = 4096,
    Size2M = 2ull << 20,
    Size1G = 1ull << 30,
};

/** Whether only leaf (last-level) entries changed: the v1 LEAF hint. */
enum class Leaf : bool { No = false, Yes = true };

/**
 * Invalidation - one v1 cache-invalidate request.
 *
 * Built only by the factories, which enforce the UAPI's matrix:
 * IOTLB x {domain, PASID, range}; device TLB x {PASID, range}; PASID cache
 * x {domain, PASID}.  With several caches, each must accept the
 * granularity.
 */
class Invalidation {
public:
    /** The IOTLB of the whole domain (what domain(Cache::Iotlb) returns). */
    Invalidation() = default;

    /**
     * Every entry of the target's domain in @caches.
     * Errors: EINVAL if @caches is empty, has unknown bits or includes the
     * device TLB (not valid at domain granularity).
     */
    VSVA_EXPORT static Result<Invalidation> domain(CacheSet caches);

    /**
     * Every entry of PASID @pasid in @caches.
     * Errors: EINVAL for an empty/unknown cache set, @pasid 0 or >= 2^20.
     */
    VSVA_EXPORT static Result<Invalidation> pasid(CacheSet caches, std::uint32_t pasid);

    /**
     * [@addr, @addr + @size) of PASID @pasid, as @size / @granule granules.
     * Errors: EINVAL if @caches includes the PASID cache (not valid at range
     * granularity) or is empty, @pasid is 0 or >= 2^20, @addr is not aligned to
     * @granule, @size is 0 or not a multiple of @granule, or the range
     * wraps past 2^64.
     */
    VSVA_EXPORT static Result<Invalidation> range(CacheSet caches, std::uint32_t pasid,
                                                  std::uint64_t addr, std::uint64_t size,
                                                  Granule granule = Granule::Size4K,
                                                  Leaf leaf = Leaf::No);

    CacheSet caches() const noexcept { return CacheSet::from_bits(cache_); }
    Granularity granularity() const noexcept { return static_cast<Granularity>(granu_); }
    /** The PASID (0 for domain granularity). */
    std::uint32_t pasid() const noexcept { return static_cast<std::uint32_t>(pasid_); }
    /** First byte (range granularity; else 0). */
    std::uint64_t addr() const noexcept { return addr_; }
    /** Granule size in bytes (range granularity; else 0). */
    std::uint64_t granule_size() const noexcept { return granule_; }
    /** Number of granules (range granularity; else 0). */
    std::uint64_t nb_granules() const noexcept { return nb_; }
    /** Bytes covered (range granularity; else 0). */
    std::uint64_t size() const noexcept { return granule_ * nb_; }
    /** The LEAF hint (range granularity). */
    bool leaf() const noexcept { return (flags_ & kLeafFlag) != 0; }

    friend bool operator==(const Invalidation&, const Invalidation&) noexcept = default;

private:
    friend struct detail::Access;
    static constexpr std::uint32_t kLeafFlag = 1u << 2;

    /*
     * The object *is* the v1 payload (struct vsva_cache_invalidate_info,
     * 56 bytes, checked field by field in the library): submitting a single
     * invalidation or a queue hands these bytes to the kernel as they are,
     * with no encoding pass.
     */
    std::uint32_t argsz_ = 56;
    std::uint32_t version_ = 1;
    std::uint8_t cache_ = static_cast<std::uint8_t>(Cache::Iotlb);
    std::uint8_t granu_ = static_cast<std::uint8_t>(Granularity::Domain);
    std::uint8_t padding_[6] = {};
    std::uint32_t flags_ = 0;  // granu.{pasid,addr}_info.flags
    std::uint32_t archid_ = 0; // always 0 (VT-d)
    std::uint64_t pasid_ = 0;
    std::uint64_t addr_ = 0;
    std::uint64_t granule_ = 0;
    std::uint64_t nb_ = 0;
};

/**
 * BatchOutcome - what a submitted batch achieved.
 *
 * @done of @total (merged) entries were handled, in order.  When
 * done < total, @error says why entry @done failed; entries after it were
 * not attempted.  A batch of which nothing was handled is returned as an
 * Error instead (nothing changed, like any failed call).
 */
struct BatchOutcome {
    std::size_t done = 0;
    std::size_t total = 0;
    std::optional<Error> error;
    /** True when every entry was handled. */
    bool complete() const noexcept { return done == total; }
};

/** Whether an InvalidationQueue merges entries before submitting. */
enum class Merge : bool { No = false, Yes = true };

/**
 * InvalidationQueue - requests waiting for one batched submission.
 *
 * Entries are submitted in the order they were added.  Order matters: a
 * cache is refilled from the one above it (PASID cache -> IOTLB -> device
 * TLB, VT-d 6.5.2.12 and PCIe ATS), so invalidating a lower cache before an
 * upper one lets a concurrent walk or ATS request refill it with the stale
 * entry.  With Merge::Yes (the default) the queue merges only where no
 * observer can tell: an entry joins an earlier one with the same caches,
 * PASID, LEAF hint and granule size when their ranges overlap or touch (or
 * when it duplicates a domain or PASID entry), and only if no entry between
 * the two is on another cache set with a scope that can meet theirs (the
 * same PASID, or domain granularity; addresses are not compared, since a
 * large page cached for one range serves its neighbours).  Nothing else
 * moves.  An interleaved [IOTLB a, device TLB a, IOTLB b, device TLB b] of
 * one PASID therefore stays four entries: queue one entry on
 * Cache::Iotlb | Cache::DeviceTlb per range instead (the kernel orders the
 * caches of one entry), and those do merge.  A new entry looks back at most
 * 128 merged entries.  Submitting empties the queue; the memory is kept for
 * the next round (no allocation in steady state).
 */
class InvalidationQueue {
public:
    explicit InvalidationQueue(Merge merge = Merge::Yes) : merge_(merge) {}

    /** Append one request. */
    void add(const Invalidation& inv) { pending_.push_back(inv); }
    /** Requests queued (before merging). */
    std::size_t size() const noexcept { return pending_.size(); }
    bool empty() const noexcept { return pending_.empty(); }
    void clear() noexcept { pending_.clear(); }
    /** Reserve room for @n requests. */
    void reserve(std::size_t n) { pending_.reserve(n); }

    /**
     * The requests as they will be submitted: merged with Merge::Yes (in
     * queue order), as queued with Merge::No.  Does not empty the queue.
     */
    VSVA_EXPORT std::vector<Invalidation> prepared() const;

private:
    friend struct detail::Access;
    void prepare_into(std::vector<Invalidation>& out) const;
    /* Merge in place (Merge::Yes) and expose the entries; submission only. */
    std::vector<Invalidation>& prepare_in_place();

    Merge merge_;
    std::vector<Invalidation> pending_;
};

} // namespace vsva

#endif // VSVA_INVALIDATE_H
