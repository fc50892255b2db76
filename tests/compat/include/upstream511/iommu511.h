/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The Linux 5.11 guest-SVA payload layouts, as a VMM written against that
 * kernel's <linux/iommu.h> sees them: upstream names, upstream constant
 * values, upstream byte layout.  Written from the documented facts
 * (/work/shared/reference/upstream-uapi-v1.md §1), not copied.
 *
 * The compat client includes ONLY this for the payloads; vsva's own header is
 * used for the /dev/vsva wrapper ioctls alone.  Design decision 5: these
 * bytes must be accepted by vsva unchanged.
 */
#ifndef VSVA_COMPAT_IOMMU511_H
#define VSVA_COMPAT_IOMMU511_H

#include <linux/types.h>

/* ---- page response (kernel 5.10+: 24 bytes) ---- */
#define IOMMU_PAGE_RESP_VERSION_1 1
#define IOMMU_PAGE_RESP_PASID_VALID (1 << 0)

enum iommu_page_response_code {
	IOMMU_PAGE_RESP_SUCCESS = 0,
	IOMMU_PAGE_RESP_INVALID,
	IOMMU_PAGE_RESP_FAILURE,
};

struct iommu_page_response {
	__u32 argsz;
	__u32 version;
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 code;
};

/* ---- cache invalidation (5.10+: 56 bytes) ---- */
#define IOMMU_CACHE_INV_TYPE_IOTLB (1 << 0)
#define IOMMU_CACHE_INV_TYPE_DEV_IOTLB (1 << 1)
#define IOMMU_CACHE_INV_TYPE_PASID (1 << 2)
#define IOMMU_CACHE_INV_TYPE_NR (3)

enum iommu_inv_granularity {
	IOMMU_INV_GRANU_DOMAIN,
	IOMMU_INV_GRANU_PASID,
	IOMMU_INV_GRANU_ADDR,
	IOMMU_INV_GRANU_NR,
};

#define IOMMU_INV_ADDR_FLAGS_PASID (1 << 0)
#define IOMMU_INV_ADDR_FLAGS_ARCHID (1 << 1)
#define IOMMU_INV_ADDR_FLAGS_LEAF (1 << 2)

struct iommu_inv_addr_info {
	__u32 flags;
	__u32 archid;
	__u64 pasid;
	__u64 addr;
	__u64 granule_size;
	__u64 nb_granules;
};

#define IOMMU_INV_PASID_FLAGS_PASID (1 << 0)
#define IOMMU_INV_PASID_FLAGS_ARCHID (1 << 1)

struct iommu_inv_pasid_info {
	__u32 flags;
	__u32 archid;
	__u64 pasid;
};

#define IOMMU_CACHE_INVALIDATE_INFO_VERSION_1 1

struct iommu_cache_invalidate_info {
	__u32 argsz;
	__u32 version;
	__u8 cache;
	__u8 granularity;
	__u8 padding[6];
	union {
		struct iommu_inv_pasid_info pasid_info;
		struct iommu_inv_addr_info addr_info;
	} granu;
};

/* ---- guest PASID bind (5.10+: 72 bytes; VT-d flags as of 5.13) ---- */
#define IOMMU_SVA_VTD_GPASID_SRE (1 << 0)
#define IOMMU_SVA_VTD_GPASID_EAFE (1 << 1)
#define IOMMU_SVA_VTD_GPASID_PCD (1 << 2)
#define IOMMU_SVA_VTD_GPASID_PWT (1 << 3)
#define IOMMU_SVA_VTD_GPASID_EMTE (1 << 4)
#define IOMMU_SVA_VTD_GPASID_CD (1 << 5)
#define IOMMU_SVA_VTD_GPASID_WPE (1 << 6)
#define IOMMU_SVA_VTD_GPASID_LAST (1 << 7)
#define IOMMU_SVA_VTD_GPASID_MTS_MASK                                        \
	(IOMMU_SVA_VTD_GPASID_CD | IOMMU_SVA_VTD_GPASID_EMTE |               \
	 IOMMU_SVA_VTD_GPASID_PCD | IOMMU_SVA_VTD_GPASID_PWT)

struct iommu_gpasid_bind_data_vtd {
	__u64 flags;
	__u32 pat;
	__u32 emt;
};

#define IOMMU_PASID_FORMAT_INTEL_VTD 1
#define IOMMU_PASID_FORMAT_LAST 2
#define IOMMU_GPASID_BIND_VERSION_1 1
#define IOMMU_SVA_GPASID_VAL (1 << 0)

struct iommu_gpasid_bind_data {
	__u32 argsz;
	__u32 version;
	__u32 format;
	__u32 addr_width;
	__u64 flags;
	__u64 gpgd;
	__u64 hpasid;
	__u64 gpasid;
	__u8 padding[8];
	union {
		struct iommu_gpasid_bind_data_vtd vtd;
	} vendor;
};

#endif /* VSVA_COMPAT_IOMMU511_H */
