/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vsva: guest Shared Virtual Addressing on a nested IOMMU.
 *
 * The one contract between the vsva kernel module (/dev/vsva) and user
 * space.  Compiles as C and as C++.  Commands and flags are append-only.
 */
#ifndef _UAPI_LINUX_VSVA_H
#define _UAPI_LINUX_VSVA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: General rules and the errno contract
 *
 * Every ioctl argument starts with ``__u32 argsz``, the size the caller
 * passes, followed by ``__u32 flags``.  The same rules hold for the v1
 * payloads (bind data, cache-invalidate info, page response), which keep
 * their upstream Linux 5.11 layout and start with ``argsz`` too.
 *
 * Sizes, for every ioctl argument:
 *
 * - ``argsz`` smaller than the command's minimum (the end of its first
 *   released field set) fails with ``-EINVAL``;
 * - ``argsz`` between the minimum and the kernel's size is an older user:
 *   the missing tail reads as zero, which always means "default";
 * - ``argsz`` larger than the kernel's size is a newer user: accepted when
 *   every byte the kernel does not know is zero, else ``-E2BIG``;
 * - outputs (``out_*``) are written back only up to the caller's ``argsz``.
 *
 * Values, for ioctl wrappers:
 *
 * - unknown ``flags`` bits or a non-zero ``__reserved`` field:
 *   ``-EOPNOTSUPP``;
 * - a known field with a wrong value: ``-EINVAL``;
 * - an object id, PASID or mapping that does not exist in this context:
 *   ``-ENOENT`` (other contexts' objects are invisible, never ``-EPERM``);
 * - an object in use (bound, attached, owned by another context): ``-EBUSY``;
 * - a quota or the PASID space exhausted: ``-ENOSPC``;
 * - pinning beyond ``RLIMIT_MEMLOCK``: ``-ENOMEM``;
 * - an unreadable or unwritable user pointer: ``-EFAULT``;
 * - an unknown command: ``-ENOTTY``.
 *
 * Values, inside the v1 payloads (as upstream): a wrong ``version``, unknown
 * payload flag bits, non-zero ``padding`` and a type x granularity
 * combination outside the documented matrix fail with ``-EINVAL``; a
 * ``format`` other than %VSVA_PASID_FORMAT_INTEL_VTD fails with
 * ``-EOPNOTSUPP``.
 *
 * Messages: the nesting commands and the commands that can be refused for a
 * policy reason take ``err_uptr``/``err_len``.  When non-zero, a failing call
 * writes a NUL-terminated sentence naming the field, the value and the rule
 * (truncated to ``err_len``), e.g. "bind: PASID 17 is already bound on
 * device 2".  A successful call writes an empty string.  A failure to write
 * the message does not change the errno returned.
 *
 * Atomicity: a failing call changes nothing.  A bind that targets a whole
 * domain is applied to every device or to none.
 */

/* ioctl magic; every command is _IO(VSVA_TYPE, nr): the size is argsz. */
#define VSVA_TYPE 0xBA
#define VSVA_CMD_BASE 0x40

/** VSVA_UAPI_VERSION - the version of this header's wholesale format. */
#define VSVA_UAPI_VERSION 1

/* ---------------------------------------------------------------------- */
/* v1 payloads: byte-identical to Linux 5.11 include/uapi/linux/iommu.h.  */
/* ---------------------------------------------------------------------- */

/** VSVA_PASID_FORMAT_INTEL_VTD - PASID table format: Intel VT-d. */
#define VSVA_PASID_FORMAT_INTEL_VTD 1
/** VSVA_PASID_FORMAT_LAST - one past the last known format. */
#define VSVA_PASID_FORMAT_LAST 2

/** VSVA_GPASID_BIND_VERSION_1 - &struct vsva_gpasid_bind_data version 1. */
#define VSVA_GPASID_BIND_VERSION_1 1

/** VSVA_SVA_GPASID_VAL - &vsva_gpasid_bind_data.gpasid is valid. */
#define VSVA_SVA_GPASID_VAL (1ULL << 0)

/** VSVA_VTD_GPASID_SRE - supervisor requests allowed. */
#define VSVA_VTD_GPASID_SRE (1ULL << 0)
/** VSVA_VTD_GPASID_EAFE - extended access flag enable. */
#define VSVA_VTD_GPASID_EAFE (1ULL << 1)
/** VSVA_VTD_GPASID_PCD - page-level cache disable. */
#define VSVA_VTD_GPASID_PCD (1ULL << 2)
/** VSVA_VTD_GPASID_PWT - page-level write-through. */
#define VSVA_VTD_GPASID_PWT (1ULL << 3)
/** VSVA_VTD_GPASID_EMTE - extended memory type enable. */
#define VSVA_VTD_GPASID_EMTE (1ULL << 4)
/** VSVA_VTD_GPASID_CD - PASID-level cache disable. */
#define VSVA_VTD_GPASID_CD (1ULL << 5)
/** VSVA_VTD_GPASID_WPE - write protect enable (supervisor writes honour R/W). */
#define VSVA_VTD_GPASID_WPE (1ULL << 6)
/** VSVA_VTD_GPASID_LAST - one past the last VT-d bind flag. */
#define VSVA_VTD_GPASID_LAST (1ULL << 7)
/** VSVA_VTD_GPASID_MTS_MASK - the memory-type flags (refused: no MTS). */
#define VSVA_VTD_GPASID_MTS_MASK                                             \
	(VSVA_VTD_GPASID_CD | VSVA_VTD_GPASID_EMTE | VSVA_VTD_GPASID_PCD |   \
	 VSVA_VTD_GPASID_PWT)

/**
 * struct vsva_gpasid_bind_data_vtd - VT-d part of a guest PASID bind
 * @flags: VSVA_VTD_GPASID_* bits
 * @pat: page attribute table (memory type support; ignored: a VMM copies it
 *       from the guest's PASID entry, and without the memory-type flags it
 *       has no effect)
 * @emt: extended memory type (as @pat: ignored)
 */
struct vsva_gpasid_bind_data_vtd {
	__u64 flags;
	__u32 pat;
	__u32 emt;
};

/**
 * struct vsva_gpasid_bind_data - v1 guest PASID bind payload (72 bytes)
 * @argsz: size of this payload as the caller filled it (at least 56; the
 *         VT-d part needs 72)
 * @version: %VSVA_GPASID_BIND_VERSION_1
 * @format: %VSVA_PASID_FORMAT_INTEL_VTD
 * @addr_width: guest virtual address width: 48 (4-level) or 57 (5-level)
 * @flags: %VSVA_SVA_GPASID_VAL when @gpasid is set
 * @gpgd: guest stage-1 page directory base, a guest-physical address,
 *        4 KiB aligned, inside a mapped stage-2 range
 * @hpasid: host PASID, allocated in this context's IOASID set
 * @gpasid: guest PASID, when %VSVA_SVA_GPASID_VAL is set
 * @padding: must be zero
 * @vendor: format-specific data
 * @vendor.vtd: VT-d data, for %VSVA_PASID_FORMAT_INTEL_VTD
 */
struct vsva_gpasid_bind_data {
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
		struct vsva_gpasid_bind_data_vtd vtd;
	} vendor;
};

/** VSVA_CACHE_INVALIDATE_INFO_VERSION_1 - &struct vsva_cache_invalidate_info v1. */
#define VSVA_CACHE_INVALIDATE_INFO_VERSION_1 1

/** VSVA_CACHE_INV_TYPE_IOTLB - the IOMMU's IOTLB (stage-1 translations). */
#define VSVA_CACHE_INV_TYPE_IOTLB (1 << 0)
/** VSVA_CACHE_INV_TYPE_DEV_IOTLB - the device's TLB (ATS). */
#define VSVA_CACHE_INV_TYPE_DEV_IOTLB (1 << 1)
/** VSVA_CACHE_INV_TYPE_PASID - the PASID-entry cache. */
#define VSVA_CACHE_INV_TYPE_PASID (1 << 2)
/** VSVA_CACHE_INV_TYPE_NR - number of cache types (a count, not a bit). */
#define VSVA_CACHE_INV_TYPE_NR 3

/** VSVA_INV_GRANU_DOMAIN - every entry of the domain. */
#define VSVA_INV_GRANU_DOMAIN 0
/** VSVA_INV_GRANU_PASID - every entry of one PASID. */
#define VSVA_INV_GRANU_PASID 1
/** VSVA_INV_GRANU_ADDR - an address range of one PASID. */
#define VSVA_INV_GRANU_ADDR 2
/** VSVA_INV_GRANU_NR - number of granularities. */
#define VSVA_INV_GRANU_NR 3

/** VSVA_INV_ADDR_FLAGS_PASID - &vsva_inv_addr_info.pasid is valid. */
#define VSVA_INV_ADDR_FLAGS_PASID (1 << 0)
/** VSVA_INV_ADDR_FLAGS_ARCHID - &vsva_inv_addr_info.archid is valid. */
#define VSVA_INV_ADDR_FLAGS_ARCHID (1 << 1)
/** VSVA_INV_ADDR_FLAGS_LEAF - only leaf entries changed. */
#define VSVA_INV_ADDR_FLAGS_LEAF (1 << 2)

/**
 * struct vsva_inv_addr_info - address-selective invalidation
 * @flags: VSVA_INV_ADDR_FLAGS_*
 * @archid: architecture-specific id (unused by VT-d; must be 0)
 * @pasid: host PASID, with %VSVA_INV_ADDR_FLAGS_PASID (required here)
 * @addr: first byte; the bits below @granule_size are ignored (VT-d's
 *        address mask), so the range starts at @addr rounded down to it
 * @granule_size: bytes per granule: any power of two of at least 4 KiB
 * @nb_granules: number of granules, at least 1; the range
 *               @granule_size x @nb_granules must not pass 2^64
 */
struct vsva_inv_addr_info {
	__u32 flags;
	__u32 archid;
	__u64 pasid;
	__u64 addr;
	__u64 granule_size;
	__u64 nb_granules;
};

/** VSVA_INV_PASID_FLAGS_PASID - &vsva_inv_pasid_info.pasid is valid. */
#define VSVA_INV_PASID_FLAGS_PASID (1 << 0)
/** VSVA_INV_PASID_FLAGS_ARCHID - &vsva_inv_pasid_info.archid is valid. */
#define VSVA_INV_PASID_FLAGS_ARCHID (1 << 1)

/**
 * struct vsva_inv_pasid_info - PASID-selective invalidation
 * @flags: VSVA_INV_PASID_FLAGS_* (%VSVA_INV_PASID_FLAGS_PASID required here)
 * @archid: architecture-specific id (must be 0)
 * @pasid: host PASID
 */
struct vsva_inv_pasid_info {
	__u32 flags;
	__u32 archid;
	__u64 pasid;
};

/**
 * struct vsva_cache_invalidate_info - v1 cache invalidation (56 bytes)
 * @argsz: at least 16; 32 for PASID granularity; 56 for ADDR granularity
 * @version: %VSVA_CACHE_INVALIDATE_INFO_VERSION_1
 * @cache: VSVA_CACHE_INV_TYPE_* bitmask, not 0
 * @granularity: VSVA_INV_GRANU_*
 * @padding: must be zero
 * @granu: granularity-specific data; the bytes of it that the granularity
 *         does not use (all of it for DOMAIN, past @granu.pasid_info for
 *         PASID) must be zero, within @argsz
 * @granu.pasid_info: for %VSVA_INV_GRANU_PASID
 * @granu.addr_info: for %VSVA_INV_GRANU_ADDR
 *
 * Valid combinations (anything else is ``-EINVAL``, never silently
 * ignored): IOTLB x {DOMAIN, PASID, ADDR}; DEV_IOTLB x {PASID, ADDR};
 * PASID cache x {DOMAIN, PASID}.  With several types set, each must accept
 * the granularity.
 */
struct vsva_cache_invalidate_info {
	__u32 argsz;
	__u32 version;
	__u8 cache;
	__u8 granularity;
	__u8 padding[6];
	union {
		struct vsva_inv_pasid_info pasid_info;
		struct vsva_inv_addr_info addr_info;
	} granu;
};

/** VSVA_PAGE_RESP_VERSION_1 - &struct vsva_page_response version 1. */
#define VSVA_PAGE_RESP_VERSION_1 1
/** VSVA_PAGE_RESP_PASID_VALID - &vsva_page_response.pasid is valid. */
#define VSVA_PAGE_RESP_PASID_VALID (1 << 0)
/** VSVA_PAGE_RESP_SUCCESS - the page is now present: retry the access. */
#define VSVA_PAGE_RESP_SUCCESS 0
/** VSVA_PAGE_RESP_INVALID - the request cannot be served: fail it. */
#define VSVA_PAGE_RESP_INVALID 1
/** VSVA_PAGE_RESP_FAILURE - the device must stop requesting: fail it. */
#define VSVA_PAGE_RESP_FAILURE 2

/**
 * struct vsva_page_response - v1 page response (24 bytes)
 * @argsz: 24
 * @version: %VSVA_PAGE_RESP_VERSION_1
 * @flags: VSVA_PAGE_RESP_*
 * @pasid: the request's PASID, with %VSVA_PAGE_RESP_PASID_VALID
 * @grpid: the page request group being answered
 * @code: VSVA_PAGE_RESP_SUCCESS / _INVALID / _FAILURE
 */
struct vsva_page_response {
	__u32 argsz;
	__u32 version;
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 code;
};

/* Fault records (kernel to user), v1 layout. */
/** VSVA_FAULT_DMA_UNRECOV - an unrecoverable fault. */
#define VSVA_FAULT_DMA_UNRECOV 1
/** VSVA_FAULT_PAGE_REQ - a page request (PRI). */
#define VSVA_FAULT_PAGE_REQ 2

/** VSVA_FAULT_REASON_UNKNOWN - no better reason. */
#define VSVA_FAULT_REASON_UNKNOWN 0
/** VSVA_FAULT_REASON_PASID_FETCH - the PASID entry could not be fetched. */
#define VSVA_FAULT_REASON_PASID_FETCH 1
/** VSVA_FAULT_REASON_BAD_PASID_ENTRY - the PASID entry is malformed. */
#define VSVA_FAULT_REASON_BAD_PASID_ENTRY 2
/** VSVA_FAULT_REASON_PASID_INVALID - no valid PASID entry (not bound). */
#define VSVA_FAULT_REASON_PASID_INVALID 3
/** VSVA_FAULT_REASON_WALK_EABT - a table lies outside stage 2. */
#define VSVA_FAULT_REASON_WALK_EABT 4
/** VSVA_FAULT_REASON_PTE_FETCH - not present, or a malformed entry. */
#define VSVA_FAULT_REASON_PTE_FETCH 5
/** VSVA_FAULT_REASON_PERMISSION - protection violation. */
#define VSVA_FAULT_REASON_PERMISSION 6
/** VSVA_FAULT_REASON_ACCESS - stage-2 access (GPA not mapped). */
#define VSVA_FAULT_REASON_ACCESS 7
/** VSVA_FAULT_REASON_OOR_ADDRESS - address out of range (non-canonical). */
#define VSVA_FAULT_REASON_OOR_ADDRESS 8

/** VSVA_FAULT_PERM_READ - read access. */
#define VSVA_FAULT_PERM_READ (1 << 0)
/** VSVA_FAULT_PERM_WRITE - write access. */
#define VSVA_FAULT_PERM_WRITE (1 << 1)
/** VSVA_FAULT_PERM_EXEC - execute access. */
#define VSVA_FAULT_PERM_EXEC (1 << 2)
/** VSVA_FAULT_PERM_PRIV - privileged (supervisor) access. */
#define VSVA_FAULT_PERM_PRIV (1 << 3)

/** VSVA_FAULT_UNRECOV_PASID_VALID - @pasid is valid. */
#define VSVA_FAULT_UNRECOV_PASID_VALID (1 << 0)
/** VSVA_FAULT_UNRECOV_ADDR_VALID - @addr is valid. */
#define VSVA_FAULT_UNRECOV_ADDR_VALID (1 << 1)
/** VSVA_FAULT_UNRECOV_FETCH_ADDR_VALID - @fetch_addr is valid. */
#define VSVA_FAULT_UNRECOV_FETCH_ADDR_VALID (1 << 2)

/**
 * struct vsva_fault_unrecoverable - unrecoverable fault (32 bytes)
 * @reason: VSVA_FAULT_REASON_*
 * @flags: VSVA_FAULT_UNRECOV_*
 * @pasid: the request's PASID
 * @perm: VSVA_FAULT_PERM_* of the access
 * @addr: the faulting address (IOVA)
 * @fetch_addr: guest-physical address of the table entry that failed
 */
struct vsva_fault_unrecoverable {
	__u32 reason;
	__u32 flags;
	__u32 pasid;
	__u32 perm;
	__u64 addr;
	__u64 fetch_addr;
};

/** VSVA_FAULT_PAGE_REQUEST_PASID_VALID - @pasid is valid. */
#define VSVA_FAULT_PAGE_REQUEST_PASID_VALID (1 << 0)
/** VSVA_FAULT_PAGE_REQUEST_LAST_PAGE - last request of the group. */
#define VSVA_FAULT_PAGE_REQUEST_LAST_PAGE (1 << 1)
/** VSVA_FAULT_PAGE_REQUEST_PRIV_DATA - @private_data is valid. */
#define VSVA_FAULT_PAGE_REQUEST_PRIV_DATA (1 << 2)
/** VSVA_FAULT_PAGE_RESPONSE_NEEDS_PASID - the response must carry the PASID. */
#define VSVA_FAULT_PAGE_RESPONSE_NEEDS_PASID (1 << 3)

/**
 * struct vsva_fault_page_request - page request (40 bytes)
 * @flags: VSVA_FAULT_PAGE_REQUEST_* / VSVA_FAULT_PAGE_RESPONSE_NEEDS_PASID
 * @pasid: the request's PASID
 * @grpid: page request group index, echoed by the response
 * @perm: VSVA_FAULT_PERM_* requested
 * @addr: the page's address (IOVA, 4 KiB aligned)
 * @private_data: device-specific data
 */
struct vsva_fault_page_request {
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u64 addr;
	__u64 private_data[2];
};

/**
 * struct vsva_fault - a fault record (64 bytes)
 * @type: VSVA_FAULT_DMA_UNRECOV or VSVA_FAULT_PAGE_REQ
 * @padding: zero
 * @event: for %VSVA_FAULT_DMA_UNRECOV
 * @prm: for %VSVA_FAULT_PAGE_REQ
 * @padding2: fixes the size
 */
struct vsva_fault {
	__u32 type;
	__u32 padding;
	union {
		struct vsva_fault_unrecoverable event;
		struct vsva_fault_page_request prm;
		__u8 padding2[56];
	};
};

/* ---------------------------------------------------------------------- */
/* /dev/vsva commands.                                                    */
/* ---------------------------------------------------------------------- */

/** VSVA_FEAT_NESTING - bind guest PASID tables over a stage-2 domain. */
#define VSVA_FEAT_NESTING (1ULL << 0)
/** VSVA_FEAT_CACHE_INV_BATCH - %VSVA_CACHE_INVALIDATE_BATCH exists. */
#define VSVA_FEAT_CACHE_INV_BATCH (1ULL << 1)
/** VSVA_FEAT_PAGE_REQUEST - page requests and responses (PRI). */
#define VSVA_FEAT_PAGE_REQUEST (1ULL << 2)
/** VSVA_FEAT_ERR_MSG - failing calls can return a message. */
#define VSVA_FEAT_ERR_MSG (1ULL << 3)
/** VSVA_FEAT_EMU - the emulated IOMMU and its emulation commands. */
#define VSVA_FEAT_EMU (1ULL << 4)
/** VSVA_FEAT_SYSWIDE_PASID - one system-wide PASID space. */
#define VSVA_FEAT_SYSWIDE_PASID (1ULL << 5)
/**
 * VSVA_FEAT_INV_SEPARATE_DEVTLB - an IOTLB invalidation also flushes the
 * device TLB of every ATS-enabled device in its scope (as Linux 5.11 VT-d
 * did), unless the call passes %VSVA_INV_SEPARATE_DEVTLB, which is accepted.
 */
#define VSVA_FEAT_INV_SEPARATE_DEVTLB (1ULL << 6)
/**
 * VSVA_FEAT_RID_PASID - requests without PASID can be nested on a guest
 * stage-1 table: %VSVA_RID_PASID_OK (bind, unbind, invalidation) and
 * %VSVA_EMU_DMA_NO_PASID are accepted.
 */
#define VSVA_FEAT_RID_PASID (1ULL << 7)
/** VSVA_FEAT_EMU_TRANSLATE - %VSVA_EMU_TRANSLATE exists. */
#define VSVA_FEAT_EMU_TRANSLATE (1ULL << 8)
/** VSVA_FEAT_BIND_REPLACE - %VSVA_BIND_REPLACE is accepted by %VSVA_BIND_GPASID. */
#define VSVA_FEAT_BIND_REPLACE (1ULL << 9)

/** VSVA_AW_48 - 4-level stage-1 tables (48-bit). */
#define VSVA_AW_48 (1 << 0)
/** VSVA_AW_57 - 5-level stage-1 tables (57-bit). */
#define VSVA_AW_57 (1 << 1)

/**
 * VSVA_INV_MATRIX_BIT - a bit of &vsva_info.out_inv_matrix
 * @type_bit: the index of a VSVA_CACHE_INV_TYPE_* bit (0, 1 or 2)
 * @granu: a VSVA_INV_GRANU_* value
 */
#define VSVA_INV_MATRIX_BIT(type_bit, granu) (1U << ((type_bit) * 8 + (granu)))

/**
 * struct vsva_info - VSVA_GET_INFO: what this kernel offers
 * @argsz: size of this struct
 * @flags: must be 0
 * @out_uapi_version: %VSVA_UAPI_VERSION of the module
 * @out_bind_versions: bitmask, bit N = bind payload version N accepted
 * @out_inv_versions: bitmask of accepted cache-invalidate payload versions
 * @out_page_resp_versions: bitmask of accepted page-response versions
 * @out_formats: bitmask, bit N = PASID table format N accepted
 * @out_inv_matrix: VSVA_INV_MATRIX_BIT() of every valid type x granularity
 * @out_addr_widths: VSVA_AW_* stage-1 widths accepted
 * @out_pasid_bits: width of the system-wide PASID space (20)
 * @out_gpa_bits: stage-2 input (guest-physical) address width
 * @out_pasid_quota: PASIDs this context may allocate: its quota, capped by
 *	the per-user limit (PASIDs its other contexts hold count against it)
 * @out_max_batch: maximum entries of one %VSVA_CACHE_INVALIDATE_BATCH
 * @out_features: VSVA_FEAT_*
 * @out_max_pinned: bytes this context may pin (the caller's RLIMIT_MEMLOCK;
 *                  ~0 for no limit)
 * @out_module_version: module version, (major << 16) | (minor << 8) | patch
 */
struct vsva_info {
	__u32 argsz;
	__u32 flags;
	__u32 out_uapi_version;
	__u32 out_bind_versions;
	__u32 out_inv_versions;
	__u32 out_page_resp_versions;
	__u32 out_formats;
	__u32 out_inv_matrix;
	__u32 out_addr_widths;
	__u32 out_pasid_bits;
	__u32 out_gpa_bits;
	__u32 out_pasid_quota;
	__u32 out_max_batch;
	__u32 out_module_version;
	__aligned_u64 out_features;
	__aligned_u64 out_max_pinned;
};

#define VSVA_GET_INFO _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x00)

/**
 * struct vsva_domain_alloc - VSVA_DOMAIN_ALLOC: a stage-2 domain
 * @argsz: size of this struct
 * @flags: must be 0
 * @out_domain_id: id of the new domain in this context
 * @__reserved: must be 0
 */
struct vsva_domain_alloc {
	__u32 argsz;
	__u32 flags;
	__u32 out_domain_id;
	__u32 __reserved;
};

#define VSVA_DOMAIN_ALLOC _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x01)

/**
 * struct vsva_destroy - VSVA_DOMAIN_DESTROY, VSVA_DEVICE_DETACH
 * @argsz: size of this struct
 * @flags: must be 0
 * @id: the domain or device id; ``-EBUSY`` while in use (a domain with
 *      devices or mappings, a device with bound PASIDs)
 * @__reserved: must be 0
 */
struct vsva_destroy {
	__u32 argsz;
	__u32 flags;
	__u32 id;
	__u32 __reserved;
};

#define VSVA_DOMAIN_DESTROY _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x02)

/** VSVA_MAP_READ - devices may read the range. */
#define VSVA_MAP_READ (1 << 0)
/** VSVA_MAP_WRITE - devices may write the range. */
#define VSVA_MAP_WRITE (1 << 1)

/**
 * struct vsva_map - VSVA_MAP: map guest RAM into a stage-2 domain
 * @argsz: size of this struct
 * @flags: VSVA_MAP_READ and/or VSVA_MAP_WRITE (at least one)
 * @domain_id: the domain
 * @__reserved: must be 0
 * @gpa: guest-physical start, 4 KiB aligned, below 2^out_gpa_bits
 * @length: bytes, a non-zero multiple of 4 KiB; must not overlap a mapping
 * @vaddr: the caller's virtual address of that guest RAM, 4 KiB aligned.
 *         The pages are pinned long-term and charged to the caller's
 *         RLIMIT_MEMLOCK until unmapped or the context closes.
 * @err_uptr: optional message buffer (see the DOC section)
 * @err_len: its size
 * @__reserved2: must be 0
 */
struct vsva_map {
	__u32 argsz;
	__u32 flags;
	__u32 domain_id;
	__u32 __reserved;
	__aligned_u64 gpa;
	__aligned_u64 length;
	__aligned_u64 vaddr;
	__aligned_u64 err_uptr;
	__u32 err_len;
	__u32 __reserved2;
};

#define VSVA_MAP _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x03)

/**
 * struct vsva_unmap - VSVA_UNMAP: remove whole mappings from a domain
 * @argsz: size of this struct
 * @flags: must be 0
 * @domain_id: the domain
 * @__reserved: must be 0
 * @gpa: start of the range, 4 KiB aligned
 * @length: bytes; every mapping entirely inside [gpa, gpa + length) is
 *          removed, a mapping that straddles an edge fails with ``-EINVAL``
 * @out_unmapped: bytes unmapped
 *
 * The domain's IOTLB and device-TLB entries are flushed before the pages
 * are unpinned: no device can reach a page after it has been returned.
 */
struct vsva_unmap {
	__u32 argsz;
	__u32 flags;
	__u32 domain_id;
	__u32 __reserved;
	__aligned_u64 gpa;
	__aligned_u64 length;
	__aligned_u64 out_unmapped;
};

#define VSVA_UNMAP _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x04)

/** VSVA_DEV_CAP_PASID - the endpoint supports PASID (20 bits). */
#define VSVA_DEV_CAP_PASID (1 << 0)
/** VSVA_DEV_CAP_ATS - the endpoint has a device TLB (ATS). */
#define VSVA_DEV_CAP_ATS (1 << 1)
/** VSVA_DEV_CAP_PRI - the endpoint can issue page requests (PRI). */
#define VSVA_DEV_CAP_PRI (1 << 2)

/** VSVA_ATTACH_ENABLE_ATS - turn on the device TLB. */
#define VSVA_ATTACH_ENABLE_ATS (1 << 0)
/** VSVA_ATTACH_ENABLE_PRI - translation faults become page requests. */
#define VSVA_ATTACH_ENABLE_PRI (1 << 1)

/**
 * struct vsva_device_attach - VSVA_DEVICE_ATTACH
 * @argsz: size of this struct
 * @flags: VSVA_ATTACH_ENABLE_* (each needs the matching capability)
 * @rid: requester id, (bus << 8) | (device << 3) | function, of an
 *       endpoint of the emulated IOMMU's topology
 * @domain_id: the stage-2 domain to attach to.  The first attach of a
 *             device claims its whole IOMMU group for this context
 *             (``-EBUSY`` if any device of the group belongs to another
 *             context); every device of a group must use the same domain.
 * @out_dev_id: id of the device in this context
 * @out_caps: VSVA_DEV_CAP_* of the endpoint
 * @err_uptr: optional message buffer
 * @err_len: its size
 * @__reserved: must be 0
 */
struct vsva_device_attach {
	__u32 argsz;
	__u32 flags;
	__u32 rid;
	__u32 domain_id;
	__u32 out_dev_id;
	__u32 out_caps;
	__aligned_u64 err_uptr;
	__u32 err_len;
	__u32 __reserved;
};

#define VSVA_DEVICE_ATTACH _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x05)
/* Argument: struct vsva_destroy, id = device id. */
#define VSVA_DEVICE_DETACH _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x06)

/** VSVA_PASID_GPASID_VALID - record &vsva_pasid_alloc.gpasid for the PASID. */
#define VSVA_PASID_GPASID_VALID (1 << 0)

/**
 * struct vsva_pasid_alloc - VSVA_PASID_ALLOC: a host PASID for this VM
 * @argsz: size of this struct
 * @flags: VSVA_PASID_GPASID_VALID
 * @gpasid: the guest PASID it stands for (unique in this context)
 * @min: lowest acceptable PASID (0 means 1)
 * @max: highest acceptable PASID (0 means 2^20 - 1)
 * @out_hpasid: the PASID allocated
 * @err_uptr: optional message buffer
 * @err_len: its size
 * @__reserved2: must be 0
 *
 * PASIDs come from one system-wide space shared by every context; each
 * context's set has a quota (``-ENOSPC`` when reached).
 */
struct vsva_pasid_alloc {
	__u32 argsz;
	__u32 flags;
	__u32 gpasid;
	__u32 min;
	__u32 max;
	__u32 out_hpasid;
	__aligned_u64 err_uptr;
	__u32 err_len;
	__u32 __reserved2;
};

#define VSVA_PASID_ALLOC _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x07)

/**
 * struct vsva_pasid_free - VSVA_PASID_FREE
 * @argsz: size of this struct
 * @flags: must be 0
 * @hpasid: a PASID of this context's set, not bound (``-EBUSY``)
 * @__reserved: must be 0
 */
struct vsva_pasid_free {
	__u32 argsz;
	__u32 flags;
	__u32 hpasid;
	__u32 __reserved;
};

#define VSVA_PASID_FREE _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x08)

/** VSVA_TARGET_DOMAIN - @target_id names a domain: every device of it. */
#define VSVA_TARGET_DOMAIN (1 << 0)
/**
 * VSVA_INV_SEPARATE_DEVTLB - for %VSVA_CACHE_INVALIDATE and
 * %VSVA_CACHE_INVALIDATE_BATCH only: IOTLB invalidations of this call leave
 * device TLBs alone; the caller invalidates them itself with
 * %VSVA_CACHE_INV_TYPE_DEV_IOTLB (a VMM that forwards the guest's device-TLB
 * invalidations).  Without it an IOTLB invalidation also flushes the device
 * TLB of the ATS-enabled target devices, over the same PASID and range.
 */
#define VSVA_INV_SEPARATE_DEVTLB (1 << 1)

/**
 * VSVA_RID_PASID - the PASID value that names a device's requests without
 * PASID (VT-d's RID_PASID entry), where %VSVA_RID_PASID_OK allows it.
 * %VSVA_PASID_ALLOC never returns it; it belongs to no IOASID set.
 */
#define VSVA_RID_PASID 0
/**
 * VSVA_RID_PASID_OK - for %VSVA_BIND_GPASID, %VSVA_UNBIND_GPASID,
 * %VSVA_CACHE_INVALIDATE and %VSVA_CACHE_INVALIDATE_BATCH
 * (%VSVA_FEAT_RID_PASID): the PASID fields of this call's v1 payloads
 * (``hpasid``, ``pasid_info.pasid``, ``addr_info.pasid``) may hold
 * %VSVA_RID_PASID, which names the target devices' requests without PASID.
 * A bind of %VSVA_RID_PASID nests those requests on the guest stage-1
 * table at ``gpgd`` (the DMA-API domain of a guest in scalable mode); it
 * needs no PASID capability of the device.  Without the flag the v1 rule
 * stands: a PASID field of 0 is ``-EINVAL``.
 */
#define VSVA_RID_PASID_OK (1 << 2)
/**
 * VSVA_BIND_REPLACE - for %VSVA_BIND_GPASID only (%VSVA_FEAT_BIND_REPLACE):
 * the PASID must already be bound on every target device (``-ENOENT``
 * otherwise), and each of those bindings is replaced by the payload's in
 * one step under the context's lock: no DMA or translation ever finds the
 * PASID unbound, and none uses the old table afterwards (its cached
 * translations are dropped).  Pending page requests stay pending.  The
 * payload is checked as for a bind.  Without the flag a bound PASID stays
 * ``-EBUSY``, as before.
 */
#define VSVA_BIND_REPLACE (1 << 3)

/**
 * struct vsva_nesting_op - VSVA_BIND_GPASID, VSVA_UNBIND_GPASID,
 *                          VSVA_CACHE_INVALIDATE, VSVA_PAGE_RESPONSE
 * @argsz: size of this struct
 * @flags: VSVA_TARGET_DOMAIN (not for VSVA_PAGE_RESPONSE);
 *         %VSVA_INV_SEPARATE_DEVTLB (VSVA_CACHE_INVALIDATE only)
 * @target_id: a device id, or a domain id with %VSVA_TARGET_DOMAIN
 * @data_len: bytes at @data_uptr; must equal the payload's own argsz;
 *            at most 4096 (``-E2BIG``: no payload is that large)
 * @data_uptr: the v1 payload: &struct vsva_gpasid_bind_data (bind and
 *             unbind), &struct vsva_cache_invalidate_info, or
 *             &struct vsva_page_response.  Copied once per call, however
 *             many devices it applies to.
 * @err_uptr: optional message buffer
 * @err_len: its size
 * @__reserved: must be 0
 *
 * Unbind takes the bind payload but checks only what Linux 5.11 checked
 * for an unbind: argsz (at least 56), version, format, flags, padding and
 * the @hpasid range; every other field is ignored, so a zero-filled payload
 * naming @hpasid unbinds.  It undoes the binding of @hpasid on every target
 * device where it is bound; an allocated PASID that is not bound there is
 * not an error (0, as 5.11), one that is not allocated in this context is
 * ``-ENOENT``.  Unbinding answers the PASID's pending page requests with
 * INVALID.
 */
struct vsva_nesting_op {
	__u32 argsz;
	__u32 flags;
	__u32 target_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__aligned_u64 err_uptr;
	__u32 err_len;
	__u32 __reserved;
};

#define VSVA_BIND_GPASID _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x09)
#define VSVA_UNBIND_GPASID _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x0a)
#define VSVA_CACHE_INVALIDATE _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x0b)

/**
 * struct vsva_cache_invalidate_batch - VSVA_CACHE_INVALIDATE_BATCH
 * @argsz: size of this struct
 * @flags: VSVA_TARGET_DOMAIN, %VSVA_INV_SEPARATE_DEVTLB
 * @target_id: a device id, or a domain id with %VSVA_TARGET_DOMAIN
 * @entry_len: stride of the array: at least
 *             sizeof(struct vsva_cache_invalidate_info) (56), at most 4096.
 *             Each entry's own argsz must not exceed it; bytes of an entry
 *             past what the kernel knows must be zero (``-E2BIG``), the
 *             same rule as for any struct.
 * @entry_num: in: entries at @data_uptr (0 probes support and succeeds);
 *             at most &vsva_info.out_max_batch.  Out: entries handled,
 *             always written back, also on failure.
 * @data_uptr: the array, copied from user space exactly once
 * @err_uptr: optional message buffer (names the failing entry's index)
 * @err_len: its size
 * @__reserved: must be 0
 * @__reserved2: must be 0
 *
 * Entries are handled in order; the first failing entry stops the batch,
 * its errno is returned and @entry_num says how many were handled before
 * it.  Entries after it are untouched.
 */
struct vsva_cache_invalidate_batch {
	__u32 argsz;
	__u32 flags;
	__u32 target_id;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
	__aligned_u64 data_uptr;
	__aligned_u64 err_uptr;
	__u32 err_len;
	__u32 __reserved2;
};

#define VSVA_CACHE_INVALIDATE_BATCH _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x0c)

/**
 * struct vsva_fault_alloc - VSVA_FAULT_ALLOC: the context's fault queue fd
 * @argsz: size of this struct
 * @flags: must be 0
 * @out_fault_fd: a new file descriptor (O_CLOEXEC).  read() returns whole
 *                &struct vsva_fault_event records (a buffer smaller than
 *                one record: ``-EINVAL``); poll() reports EPOLLIN while
 *                records are queued; O_NONBLOCK read of an empty queue:
 *                ``-EAGAIN``.  One queue per context (``-EBUSY``).
 * @__reserved: must be 0
 */
struct vsva_fault_alloc {
	__u32 argsz;
	__u32 flags;
	__u32 out_fault_fd;
	__u32 __reserved;
};

#define VSVA_FAULT_ALLOC _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x0d)

/** VSVA_FAULT_EVENT_LOST - records were dropped before this one (queue full). */
#define VSVA_FAULT_EVENT_LOST (1 << 0)

/**
 * struct vsva_fault_event - one record read from the fault fd (80 bytes)
 * @dev_id: the device that faulted
 * @flags: VSVA_FAULT_EVENT_LOST
 * @lost: records dropped just before this one
 * @seq: sequence number of this record (increments by one per record
 *       queued or lost)
 * @fault: the fault, v1 layout
 */
struct vsva_fault_event {
	__u32 dev_id;
	__u32 flags;
	__u32 lost;
	__u32 seq;
	struct vsva_fault fault;
};

/* Argument: struct vsva_nesting_op, target = device id, payload = page response. */
#define VSVA_PAGE_RESPONSE _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x0e)

/* ---------------------------------------------------------------------- */
/* Emulation section: the emulated nested IOMMU only (VSVA_FEAT_EMU).     */
/* These commands stand in for a device and for hardware state.           */
/* ---------------------------------------------------------------------- */

/** VSVA_EMU_DMA_WRITE - the device writes (else reads). */
#define VSVA_EMU_DMA_WRITE (1 << 0)
/** VSVA_EMU_DMA_PRIV - a supervisor (privileged) request. */
#define VSVA_EMU_DMA_PRIV (1 << 1)
/** VSVA_EMU_DMA_EXEC - an execute request. */
#define VSVA_EMU_DMA_EXEC (1 << 2)
/**
 * VSVA_EMU_DMA_WAIT - on a translation fault with PRI enabled, queue a
 * page request and wait (interruptibly) for its response: SUCCESS retries,
 * INVALID/FAILURE fail the access.  Without it the call returns at once.
 */
#define VSVA_EMU_DMA_WAIT (1 << 3)
/**
 * VSVA_EMU_DMA_NO_PASID - the request carries no PASID (%VSVA_FEAT_RID_PASID):
 * it is translated through the device's %VSVA_RID_PASID entry; @pasid must
 * be 0.  As on VT-d, such a request is a user, non-execute access
 * (%VSVA_EMU_DMA_PRIV and %VSVA_EMU_DMA_EXEC: ``-EINVAL``), and its faults
 * are never page requests: they are recorded without
 * %VSVA_FAULT_UNRECOV_PASID_VALID.  Without the flag, @pasid 0 names no
 * entry (a %VSVA_FAULT_REASON_PASID_INVALID fault), as before.
 */
#define VSVA_EMU_DMA_NO_PASID (1 << 4)

/** VSVA_EMU_DMA_FAULTED - the access stopped at a fault (see out_fault). */
#define VSVA_EMU_DMA_FAULTED (1 << 0)
/** VSVA_EMU_DMA_PAGE_REQ - a page request was queued for the fault. */
#define VSVA_EMU_DMA_PAGE_REQ (1 << 1)

/**
 * struct vsva_emu_dma - VSVA_EMU_DMA: device @dev_id accesses memory
 * @argsz: size of this struct
 * @flags: VSVA_EMU_DMA_*
 * @dev_id: the device
 * @pasid: the host PASID tagging the request
 * @iova: first byte (guest virtual address translated by stage 1)
 * @len: bytes, at most 1 MiB
 * @buf_uptr: the caller's buffer: the source of a write, the destination
 *            of a read
 * @out_done: bytes moved (all of @len when nothing stopped the transfer)
 * @out_flags: VSVA_EMU_DMA_FAULTED, VSVA_EMU_DMA_PAGE_REQ: the last fault
 *             only (a fault a page response resolved is not reported)
 * @out_grpid: the page request group, with %VSVA_EMU_DMA_PAGE_REQ
 * @out_fault: the fault, when %VSVA_EMU_DMA_FAULTED
 *
 * A fault is not an error: the call succeeds and says where it stopped.
 * Bytes once moved are never lost: an error after the first byte (an
 * unreadable buffer, no memory, a signal while waiting for a page
 * response) ends the call with success and @out_done short of @len; an
 * errno means nothing moved.  A signal never restarts the transfer.  When
 * the outputs cannot be written back (-EFAULT), a page request the call
 * queued without %VSVA_EMU_DMA_WAIT is withdrawn if no reader has read it.
 */
struct vsva_emu_dma {
	__u32 argsz;
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__aligned_u64 iova;
	__aligned_u64 len;
	__aligned_u64 buf_uptr;
	__aligned_u64 out_done;
	__u32 out_flags;
	__u32 out_grpid;
	struct vsva_fault_unrecoverable out_fault;
};

#define VSVA_EMU_DMA _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x20)

/**
 * struct vsva_emu_pasid_entry - VSVA_EMU_PASID_ENTRY: read a PASID entry
 * @argsz: size of this struct
 * @flags: must be 0
 * @dev_id: the device
 * @pasid: the host PASID
 * @out_present: 1 when the entry is bound (nested), else 0
 * @out_addr_width: the bound stage-1 width
 * @out_gpgd: the bound stage-1 root (GPA)
 * @out_vtd_flags: the bound VSVA_VTD_GPASID_* flags
 * @out_gpasid: the guest PASID, when @out_gpasid_valid
 * @out_gpasid_valid: 1 when a guest PASID was given
 * @out_domain_id: the stage-2 domain the entry nests on
 * @__reserved: zero
 */
struct vsva_emu_pasid_entry {
	__u32 argsz;
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 out_present;
	__u32 out_addr_width;
	__aligned_u64 out_gpgd;
	__aligned_u64 out_vtd_flags;
	__u32 out_gpasid;
	__u32 out_gpasid_valid;
	__u32 out_domain_id;
	__u32 __reserved;
};

#define VSVA_EMU_PASID_ENTRY _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x21)

/**
 * struct vsva_emu_counters - VSVA_EMU_COUNTERS: this context's counters
 * @argsz: size of this struct
 * @flags: must be 0
 * @out_payload_copies: nesting payloads copied from user space
 * @out_binds: successful bind operations (per device)
 * @out_unbinds: successful unbind operations (per device)
 * @out_invalidations: invalidation requests handled (per entry)
 * @out_iotlb_hits: IOTLB lookups that hit
 * @out_iotlb_misses: IOTLB lookups that missed
 * @out_devtlb_hits: device-TLB lookups that hit
 * @out_devtlb_misses: device-TLB lookups that missed
 * @out_pasid_cache_hits: PASID-cache lookups that hit
 * @out_pasid_cache_misses: PASID-cache lookups that missed
 * @out_walks: stage-1 walks done
 * @out_iotlb_flushed: IOTLB entries dropped by invalidations
 * @out_devtlb_flushed: device-TLB entries dropped by invalidations
 * @out_pasid_cache_flushed: PASID-cache entries dropped by invalidations
 * @out_faults: faults raised
 * @out_page_requests: page requests queued
 * @out_pinned_pages: pages pinned by this context now
 * @out_pasids: PASIDs allocated by this context now
 * @out_bindings: (device, PASID) bindings now
 */
struct vsva_emu_counters {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 out_payload_copies;
	__aligned_u64 out_binds;
	__aligned_u64 out_unbinds;
	__aligned_u64 out_invalidations;
	__aligned_u64 out_iotlb_hits;
	__aligned_u64 out_iotlb_misses;
	__aligned_u64 out_devtlb_hits;
	__aligned_u64 out_devtlb_misses;
	__aligned_u64 out_pasid_cache_hits;
	__aligned_u64 out_pasid_cache_misses;
	__aligned_u64 out_walks;
	__aligned_u64 out_iotlb_flushed;
	__aligned_u64 out_devtlb_flushed;
	__aligned_u64 out_pasid_cache_flushed;
	__aligned_u64 out_faults;
	__aligned_u64 out_page_requests;
	__aligned_u64 out_pinned_pages;
	__aligned_u64 out_pasids;
	__aligned_u64 out_bindings;
};

#define VSVA_EMU_COUNTERS _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x22)

/**
 * struct vsva_emu_translate - VSVA_EMU_TRANSLATE: translate one address
 * @argsz: size of this struct
 * @flags: %VSVA_EMU_DMA_WRITE, %VSVA_EMU_DMA_PRIV, %VSVA_EMU_DMA_EXEC,
 *         %VSVA_EMU_DMA_NO_PASID, with the rules of %VSVA_EMU_DMA
 *         (%VSVA_EMU_DMA_WAIT is not accepted: ``-EOPNOTSUPP``)
 * @dev_id: the device
 * @pasid: the host PASID tagging the request (0 with
 *         %VSVA_EMU_DMA_NO_PASID)
 * @iova: the address to translate
 * @out_addr: the guest-physical address of the byte at @iova
 * @out_perm: %VSVA_FAULT_PERM_READ and %VSVA_FAULT_PERM_WRITE: the accesses
 *            of this kind (same privilege) the returned translation allows
 *            through both stages without another walk
 * @out_shift: log2 of the page that maps @iova: 12, 21 or 30
 * @out_flags: %VSVA_EMU_DMA_FAULTED, %VSVA_EMU_DMA_PAGE_REQ
 * @out_grpid: the page request group, with %VSVA_EMU_DMA_PAGE_REQ
 * @out_fault: the fault, when %VSVA_EMU_DMA_FAULTED
 *
 * The translation a zero-length DMA of that kind would use, answered the
 * same way: PASID cache, device TLB (ATS enabled), IOTLB, then a walk that
 * fills the caches, then the stage-2 check.  A cached entry is returned
 * until an invalidation drops it, even if the guest table changed.  A fault
 * is not an error: the call succeeds with %VSVA_EMU_DMA_FAULTED and is
 * counted, recorded in the fault queue or turned into a page request
 * exactly like a DMA fault without %VSVA_EMU_DMA_WAIT.
 */
struct vsva_emu_translate {
	__u32 argsz;
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__aligned_u64 iova;
	__aligned_u64 out_addr;
	__u32 out_perm;
	__u32 out_shift;
	__u32 out_flags;
	__u32 out_grpid;
	struct vsva_fault_unrecoverable out_fault;
};

#define VSVA_EMU_TRANSLATE _IO(VSVA_TYPE, VSVA_CMD_BASE + 0x23)

#endif /* _UAPI_LINUX_VSVA_H */
