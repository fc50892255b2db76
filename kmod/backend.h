/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seam between the vsva core (front end, IOMMU UAPI layer,
 * kernel-internal API, IOASID sets, stage-2 store) and an IOMMU backend,
 * in the spirit of the kernel's struct iommu_ops.  The emulated nested
 * IOMMU (emu/) is the backend that always exists.
 *
 * Nothing here carries a __user pointer: payloads reach a backend as kernel
 * copies, validated by the IOMMU UAPI layer.
 */
#ifndef _VSVA_BACKEND_H
#define _VSVA_BACKEND_H

#include <linux/atomic.h>
#include <linux/types.h>
#include <linux/vsva.h>

struct page;
struct vsva_ctx;
struct vsva_domain;
struct vsva_device;

/**
 * struct vsva_errmsg - a message for the caller's err_uptr buffer
 * @buf: NUL-terminated text; empty when nothing was said
 *
 * Kernel-internal callers pass NULL wherever a struct vsva_errmsg * is
 * taken; vsva_err() ignores it then.
 */
struct vsva_errmsg {
	char buf[200];
};

__printf(2, 3) void vsva_err(struct vsva_errmsg *err, const char *fmt, ...);

/**
 * struct vsva_counters - per-context counters (VSVA_EMU_COUNTERS, debugfs)
 *
 * Field meanings match struct vsva_emu_counters.
 */
struct vsva_counters {
	atomic64_t payload_copies;
	atomic64_t binds;
	atomic64_t unbinds;
	atomic64_t invalidations;
	atomic64_t iotlb_hits;
	atomic64_t iotlb_misses;
	atomic64_t devtlb_hits;
	atomic64_t devtlb_misses;
	atomic64_t pasid_cache_hits;
	atomic64_t pasid_cache_misses;
	atomic64_t walks;
	atomic64_t iotlb_flushed;
	atomic64_t devtlb_flushed;
	atomic64_t pasid_cache_flushed;
	atomic64_t faults;
	atomic64_t page_requests;
};

/* Stage-2 permissions, as returned by vsva_s2_lookup(). */
#define VSVA_S2_READ VSVA_MAP_READ
#define VSVA_S2_WRITE VSVA_MAP_WRITE

/**
 * vsva_s2_lookup() - translate a guest-physical address through stage 2
 * @dom: the stage-2 domain
 * @gpa: guest-physical address
 * @page: out: the pinned page holding @gpa
 * @prot: out: VSVA_S2_READ / VSVA_S2_WRITE
 *
 * Context: the caller holds vsva_s2_read_lock(@dom); @page stays valid
 * until vsva_s2_read_unlock().
 * Return: 0, or -ENOENT when @gpa is not mapped.
 */
int vsva_s2_lookup(struct vsva_domain *dom, u64 gpa, struct page **page,
		   u32 *prot);
void vsva_s2_read_lock(struct vsva_domain *dom);
void vsva_s2_read_unlock(struct vsva_domain *dom);

/**
 * struct vsva_backend_ops - what an IOMMU backend implements
 * @domain_init: set up backend state for a new stage-2 domain
 * @domain_fini: free it; no device is attached any more
 * @dev_attach: attach @dev to @dom (per-device PASID table, ATS/PRI state)
 * @dev_detach: undo @dev_attach; no PASID of @dev is bound any more
 * @bind_gpasid: point @dev's PASID entry for @data->hpasid at the guest
 *	stage-1 table (nested).  All field checks are done; may fail only on
 *	backend state (-EBUSY) or allocation (-ENOMEM).
 * @unbind_gpasid: clear that entry, answer its pending page requests with
 *	INVALID and drop its cached translations
 * @cache_invalidate: apply one validated invalidation to @dom, either for
 *	one device (@dev) or for every device of @dom (@dev == NULL)
 * @page_response: answer a pending page request of @dev
 * @s2_flush: stage-2 range [@gpa, @gpa + @len) of @dom is about to be
 *	unmapped: drop every cached translation that may reach it
 */
struct vsva_backend_ops {
	const char *name;
	int (*domain_init)(struct vsva_domain *dom);
	void (*domain_fini)(struct vsva_domain *dom);
	int (*dev_attach)(struct vsva_device *dev, struct vsva_domain *dom);
	void (*dev_detach)(struct vsva_device *dev);
	int (*bind_gpasid)(struct vsva_device *dev,
			   const struct vsva_gpasid_bind_data *data,
			   struct vsva_errmsg *err);
	int (*unbind_gpasid)(struct vsva_device *dev, u32 hpasid);
	int (*cache_invalidate)(struct vsva_domain *dom,
				struct vsva_device *dev,
				const struct vsva_cache_invalidate_info *inv,
				struct vsva_errmsg *err);
	int (*page_response)(struct vsva_device *dev,
			     const struct vsva_page_response *msg,
			     struct vsva_errmsg *err);
	void (*s2_flush)(struct vsva_domain *dom, u64 gpa, u64 len);
};

#endif /* _VSVA_BACKEND_H */
