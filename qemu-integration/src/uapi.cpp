// SPDX-License-Identifier: GPL-2.0
// The adapter's host requests as v1 uapi payloads.
#include <cstring>

#include <linux/vsva.h>

#include "vsva/qemu/host_iommu.h"

namespace vsva::qemu {

static_assert(sizeof(vsva_gpasid_bind_data) == 72);
static_assert(sizeof(vsva_cache_invalidate_info) == 56);

void to_uapi(const BindRequest& b, vsva_gpasid_bind_data* out) {
    std::memset(out, 0, sizeof(*out));
    out->argsz = sizeof(*out);
    out->version = VSVA_GPASID_BIND_VERSION_1;
    out->format = VSVA_PASID_FORMAT_INTEL_VTD;
    out->addr_width = b.addr_width;
    out->flags = VSVA_SVA_GPASID_VAL;
    out->gpgd = b.gpgd;
    out->hpasid = b.hpasid;
    out->gpasid = b.gpasid;
    out->vendor.vtd.flags = b.vtd_flags;
}

void to_uapi(const Invalidation& inv, vsva_cache_invalidate_info* out) {
    std::memset(out, 0, sizeof(*out));
    out->argsz = sizeof(*out);
    out->version = VSVA_CACHE_INVALIDATE_INFO_VERSION_1;
    out->cache = static_cast<__u8>(inv.cache);
    out->granularity = static_cast<__u8>(inv.granu);
    switch (inv.granu) {
    case Granu::kDomain:
        break;
    case Granu::kPasid:
        out->granu.pasid_info.flags = VSVA_INV_PASID_FLAGS_PASID;
        out->granu.pasid_info.pasid = inv.hpasid;
        break;
    case Granu::kAddr: {
        // vsva takes 4 KiB, 2 MiB or 1 GiB granules: express the same bytes
        // with the largest one that divides them (AM=10, 4 MiB → 2 × 2 MiB).
        const uint64_t size = inv.granule_size * inv.nb_granules;
        uint64_t g = 4096;
        for (uint64_t c : {1ull << 30, 2ull << 20})
            if (size % c == 0 && inv.addr % c == 0) {
                g = c;
                break;
            }
        out->granu.addr_info.flags =
                VSVA_INV_ADDR_FLAGS_PASID | (inv.leaf ? VSVA_INV_ADDR_FLAGS_LEAF : 0);
        out->granu.addr_info.pasid = inv.hpasid;
        out->granu.addr_info.addr = inv.addr;
        out->granu.addr_info.granule_size = g;
        out->granu.addr_info.nb_granules = size / g;
        break;
    }
    }
}

} // namespace vsva::qemu
