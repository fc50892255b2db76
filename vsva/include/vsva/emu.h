// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Emulation helpers: the commands of the emulated nested IOMMU
 * (Feature::Emulation).  They stand in for a device and for hardware state
 * and exist for tests, benchmarks and the vsva tool; a production VMM on
 * real hardware does not use them.
 *
 * Thread safety: as the rest of libvsva (vsva/vsva.h): plain ioctls, safe
 * from many threads.
 */
#ifndef VSVA_EMU_H
#define VSVA_EMU_H

#include <cstddef>
#include <cstdint>
#include <span>

#include <vsva/export.h> // first: states the C++20 requirement
#include <vsva/vsva.h>

namespace vsva::emu {

/** Kind of emulated access. */
struct DmaFlags {
    bool write = false;      ///< write (else read)
    bool privileged = false; ///< supervisor request
    bool exec = false;       ///< execute request
    bool wait = false;       ///< on a PRI fault, wait for the page response
};

/** What an emulated access did.  A fault is not an error. */
struct DmaResult {
    std::uint64_t done = 0;    ///< bytes moved before a fault
    bool faulted = false;      ///< stopped at a fault (see fault)
    bool page_request = false; ///< a page request was queued (grpid)
    std::uint32_t grpid = 0;
    UnrecoverableFault fault; ///< when faulted (dev_id is the device's)
};

/**
 * Device @dev accesses @buf.size() bytes at @iova of PASID @pasid
 * (VSVA_EMU_DMA): @buf is the source of a write, the destination of a read.
 * Errors: EOPNOTSUPP/ENOTTY (kernel without emulation), EINVAL (over 1 MiB),
 * ENOENT, EINTR (waiting for a page response).
 */
VSVA_EXPORT Result<DmaResult> dma(const Device& dev, std::uint32_t pasid, std::uint64_t iova,
                                  std::span<std::byte> buf, DmaFlags flags);

/** Kind of translation request (VSVA_EMU_TRANSLATE). */
struct TranslateFlags {
    bool write = false;      ///< for a write (else a read)
    bool privileged = false; ///< supervisor request
    bool exec = false;       ///< execute request
    bool no_pasid = false;   ///< a request without PASID (pasid must be 0)
};

/** What a translation request answered.  A fault is not an error. */
struct Translation {
    std::uint64_t gpa = 0;        ///< guest-physical address of the byte at iova
    bool read = false;            ///< reads allowed through both stages
    bool write = false;           ///< writes allowed without another walk
    std::uint32_t page_shift = 0; ///< 12, 21 or 30
    bool faulted = false;         ///< no translation (see fault)
    bool page_request = false;    ///< a page request was queued (grpid)
    std::uint32_t grpid = 0;
    UnrecoverableFault fault; ///< when faulted (dev_id is the device's)
};

/**
 * What device @dev's access at @iova of PASID @pasid translates to, answered
 * through the emulated caches exactly as a DMA (VSVA_EMU_TRANSLATE): a
 * cached entry until invalidated, a walk on a miss, a fault reported as a
 * DMA fault.  Errors: EOPNOTSUPP/ENOTTY (kernel without it), EINVAL,
 * ENOENT.
 */
VSVA_EXPORT Result<Translation> translate(const Device& dev, std::uint32_t pasid,
                                          std::uint64_t iova, TranslateFlags flags);

/** A PASID-table entry as the emulated IOMMU holds it. */
struct PasidEntry {
    bool present = false;
    std::uint32_t addr_width = 0;
    std::uint64_t gpgd = 0;
    std::uint64_t vtd_flags = 0;
    std::optional<std::uint32_t> gpasid = std::nullopt;
    std::uint32_t domain_id = 0;
};

/**
 * Read @dev's PASID entry for @pasid (VSVA_EMU_PASID_ENTRY).
 * Errors: ENOENT (no such device/PASID), EOPNOTSUPP/ENOTTY.
 */
VSVA_EXPORT Result<PasidEntry> pasid_entry(const Device& dev, std::uint32_t pasid);

/** This context's counters (see struct vsva_emu_counters). */
struct Counters {
    std::uint64_t payload_copies = 0, binds = 0, unbinds = 0, invalidations = 0;
    std::uint64_t iotlb_hits = 0, iotlb_misses = 0, devtlb_hits = 0, devtlb_misses = 0;
    std::uint64_t pasid_cache_hits = 0, pasid_cache_misses = 0, walks = 0;
    std::uint64_t iotlb_flushed = 0, devtlb_flushed = 0, pasid_cache_flushed = 0;
    std::uint64_t faults = 0, page_requests = 0;
    std::uint64_t pinned_pages = 0, pasids = 0, bindings = 0;
};

/**
 * Read @ctx's counters (VSVA_EMU_COUNTERS).
 * Errors: EOPNOTSUPP/ENOTTY (kernel without emulation).
 */
VSVA_EXPORT Result<Counters> counters(const Context& ctx);

/**
 * Write a minimal 4-level x86-64 stage-1 table into guest RAM so that
 * @iova maps one 4 KiB page at guest-physical @page_gpa (present, user,
 * writable when @writable).  @ram is the VMM's view of guest RAM starting
 * at guest-physical @ram_gpa; the four table pages are written at
 * @ram_gpa + @table_off (4 KiB aligned, 16 KiB needed) and zeroed first.
 * Returns the root (the gpgd to bind).  For tests and `vsva selftest`.
 * Errors: EINVAL (misaligned, or the tables do not fit in @ram).
 */
VSVA_EXPORT Result<std::uint64_t> write_stage1_4k(std::span<std::byte> ram, std::uint64_t ram_gpa,
                                                  std::uint64_t table_off, std::uint64_t iova,
                                                  std::uint64_t page_gpa, bool writable = true);

} // namespace vsva::emu

#endif // VSVA_EMU_H
