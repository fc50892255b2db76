// SPDX-License-Identifier: GPL-2.0
// The two things the VT-d adapter needs from its surroundings: the host
// IOMMU (libvsva over /dev/vsva, or a fake in tests) and guest memory.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>

#include <vsva/result.h>

#include "vsva/qemu/vtd.h"

struct vsva_cache_invalidate_info;
struct vsva_gpasid_bind_data;

namespace vsva::qemu {

/// Bind or unbind one guest PASID on one host device (v1 bind payload).
struct BindRequest {
    uint32_t dev = 0; ///< host device id (as HostIommu knows it)
    uint32_t hpasid = 0;
    uint32_t gpasid = 0;
    uint64_t gpgd = 0;
    uint32_t addr_width = 0;
    uint64_t vtd_flags = 0;
    bool operator==(const BindRequest&) const = default;
};

/// Cache types and granularities, same values as the v1 uapi.
enum class Cache : uint8_t { kIotlb = 1 << 0, kDevIotlb = 1 << 1, kPasid = 1 << 2 };
enum class Granu : uint8_t { kDomain = 0, kPasid = 1, kAddr = 2 };

/// One host invalidation (becomes one struct vsva_cache_invalidate_info).
struct Invalidation {
    uint32_t dev = 0;
    Cache cache = Cache::kIotlb;
    Granu granu = Granu::kPasid;
    uint32_t hpasid = 0;
    uint64_t addr = 0;         ///< kAddr: first byte, aligned to granule_size
    uint64_t granule_size = 0; ///< kAddr: 4 KiB << AM (one granule)
    uint64_t nb_granules = 0;  ///< kAddr: 1
    bool leaf = false;         ///< kAddr: IH=1, only leaf entries changed
    // Provenance, for reports (not sent).
    DescType source = DescType::kPIotlb;
    uint32_t gpasid = 0;
    bool operator==(const Invalidation&) const = default;
};

/// How much of a batch the host handled (a partial batch is a value).
struct BatchResult {
    size_t done = 0;
    size_t total = 0;
};

/// A page request as the host reported it (v1 struct vsva_fault_page_request).
struct HostPageRequest {
    uint32_t dev = 0; ///< host device id
    bool pasid_valid = false;
    uint32_t hpasid = 0;
    uint32_t grpid = 0;
    uint32_t perm = 0; ///< VSVA_FAULT_PERM_*
    bool last = false; ///< last request of the group
    bool priv_valid = false;
    uint64_t addr = 0;
    uint64_t priv[2] = {0, 0};
};

/// The answer to a page request group, for the host.  @code is a v1 code
/// (VSVA_PAGE_RESP_*), converted once by v1_page_response_code().  The v1
/// payload has no private data: the host keeps the request's own copy and
/// returns that to the device; @priv is what the guest echoed.
struct HostPageResponse {
    uint32_t dev = 0;
    bool pasid_valid = false;
    uint32_t hpasid = 0;
    uint32_t grpid = 0;
    uint32_t code = 0;
    bool priv_valid = false;
    uint64_t priv[2] = {0, 0};
    bool operator==(const HostPageResponse&) const = default;
};

/// An unrecoverable fault as the host reported it (struct vsva_fault_unrecoverable).
struct HostFault {
    uint32_t dev = 0;
    uint32_t reason = 0; ///< VSVA_FAULT_REASON_*
    bool pasid_valid = false;
    uint32_t hpasid = 0;
    uint32_t perm = 0; ///< VSVA_FAULT_PERM_*
    bool addr_valid = false;
    uint64_t addr = 0;
};

/// The host side: what QEMU's HostIOMMUDevice / iommufd glue would call.
class HostIommu {
public:
    virtual ~HostIommu() = default;
    /// A host PASID standing for @gpasid in this VM's set.
    virtual Result<uint32_t> alloc_pasid(uint32_t gpasid) = 0;
    virtual Result<void> free_pasid(uint32_t hpasid) = 0;
    virtual Result<void> bind(const BindRequest& b) = 0;
    virtual Result<void> unbind(const BindRequest& b) = 0;
    /// One submission: every invalidation up to an invalidation-wait.
    /// Returns how many were handled; Error when not all were.
    virtual Result<BatchResult> invalidate(std::span<const Invalidation> batch) = 0;
    /// Answer one page request group of a device (VSVA_PAGE_RESPONSE).
    virtual Result<void> page_response(const HostPageResponse& r) = 0;
    /// Requests without PASID can be nested (VSVA_FEAT_RID_PASID): guest
    /// PASID 0 binds as host PASID kRidPasid, allocated by nobody.
    [[nodiscard]] virtual bool rid_pasid() const { return true; }
    /// The host can replace a binding in place (VSVA_FEAT_BIND_REPLACE):
    /// replace() never leaves the PASID unbound.
    [[nodiscard]] virtual bool can_replace() const { return false; }
    /// Rebind @b.hpasid of @b.dev, bound now as @old, to @b in one step.
    /// Only called when can_replace().
    virtual Result<void> replace(const BindRequest& old, const BindRequest& b) {
        (void)old;
        (void)b;
        return vtd_error(EOPNOTSUPP, "host: no in-place replace");
    }
};

/// The host PASID of requests without PASID (VSVA_RID_PASID): guest PASID 0
/// (the RID_PASID entry of a guest with ECAP.RPS=0) binds there.
constexpr uint32_t kRidPasid = 0;

/// Guest-physical memory as the vIOMMU reaches it (QEMU: address_space_rw
/// on the IOMMU's DMA address space).  false = the access faulted.
class GuestMemory {
public:
    virtual ~GuestMemory() = default;
    virtual bool read(uint64_t gpa, void* dst, size_t len) = 0;
    virtual bool write(uint64_t gpa, const void* src, size_t len) = 0;
};

/// The v1 uapi payloads.  The adapter's range is one granule of 4 KiB << AM
/// (as the 2020 vSVA QEMU series sent it); vsva accepts only 4 KiB, 2 MiB
/// and 1 GiB granules, so the payload carries the same bytes as
/// nb_granules × the largest of those that divides them.
void to_uapi(const BindRequest& b, vsva_gpasid_bind_data* out);
void to_uapi(const Invalidation& inv, vsva_cache_invalidate_info* out);

} // namespace vsva::qemu
