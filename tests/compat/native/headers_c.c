// SPDX-License-Identifier: GPL-2.0
/* The 5.11 payload definitions and the current header, as C11. */
#include <stddef.h>
#include <linux/vsva.h>
#include "upstream511/iommu511.h"

_Static_assert(sizeof(struct iommu_gpasid_bind_data) == sizeof(struct vsva_gpasid_bind_data),
	       "bind payload");
_Static_assert(sizeof(struct iommu_cache_invalidate_info) ==
		       sizeof(struct vsva_cache_invalidate_info),
	       "invalidate payload");
_Static_assert(sizeof(struct iommu_page_response) == sizeof(struct vsva_page_response),
	       "page response");
_Static_assert(offsetof(struct iommu_gpasid_bind_data, vendor) ==
		       offsetof(struct vsva_gpasid_bind_data, vendor),
	       "bind minsz");
_Static_assert(offsetof(struct iommu_cache_invalidate_info, granu) ==
		       offsetof(struct vsva_cache_invalidate_info, granu),
	       "invalidate minsz");

int compat_headers_c_dummy(void);
int compat_headers_c_dummy(void)
{
	return 0;
}
