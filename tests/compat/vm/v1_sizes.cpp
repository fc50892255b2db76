// SPDX-License-Identifier: GPL-2.0
// The release-1 size of every command's argument, from the frozen header.
// Its types live in namespace v1 so this unit can be linked into a suite
// built against the current header (no two definitions of one struct).
#include <cstddef>

#include <linux/ioctl.h>
#include <linux/types.h>

namespace v1 {
#include "v1/linux/vsva.h"
}

#include "v1_sizes.h"

namespace compat {

size_t v1_size_of(unsigned long cmd) {
    switch (cmd) {
    case VSVA_GET_INFO:
        return sizeof(v1::vsva_info);
    case VSVA_DOMAIN_ALLOC:
        return sizeof(v1::vsva_domain_alloc);
    case VSVA_DOMAIN_DESTROY:
        return sizeof(v1::vsva_destroy);
    case VSVA_MAP:
        return sizeof(v1::vsva_map);
    case VSVA_UNMAP:
        return sizeof(v1::vsva_unmap);
    case VSVA_DEVICE_ATTACH:
        return sizeof(v1::vsva_device_attach);
    case VSVA_DEVICE_DETACH:
        return sizeof(v1::vsva_destroy);
    case VSVA_PASID_ALLOC:
        return sizeof(v1::vsva_pasid_alloc);
    case VSVA_PASID_FREE:
        return sizeof(v1::vsva_pasid_free);
    case VSVA_BIND_GPASID:
    case VSVA_UNBIND_GPASID:
    case VSVA_CACHE_INVALIDATE:
    case VSVA_PAGE_RESPONSE:
        return sizeof(v1::vsva_nesting_op);
    case VSVA_CACHE_INVALIDATE_BATCH:
        return sizeof(v1::vsva_cache_invalidate_batch);
    case VSVA_FAULT_ALLOC:
        return sizeof(v1::vsva_fault_alloc);
    case VSVA_EMU_DMA:
        return sizeof(v1::vsva_emu_dma);
    case VSVA_EMU_PASID_ENTRY:
        return sizeof(v1::vsva_emu_pasid_entry);
    case VSVA_EMU_COUNTERS:
        return sizeof(v1::vsva_emu_counters);
    }
    return 0;
}

} // namespace compat
