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
#include <vsva/kapi.h>

struct page;
struct vsva_ctx;
struct vsva_domain;
struct vsva_device;

/**
 * struct vsva_counters - per-context counters (VSVA_EMU_COUNTERS, debugfs)
 * @payload_copies: see &vsva_emu_counters.out_payload_copies
 * @binds: see &vsva_emu_counters.out_binds
 * @unbinds: see &vsva_emu_counters.out_unbinds
 * @invalidations: see &vsva_emu_counters.out_invalidations
 * @iotlb_hits: see &vsva_emu_counters.out_iotlb_hits
 * @iotlb_misses: see &vsva_emu_counters.out_iotlb_misses
 * @devtlb_hits: see &vsva_emu_counters.out_devtlb_hits
 * @devtlb_misses: see &vsva_emu_counters.out_devtlb_misses
 * @pasid_cache_hits: see &vsva_emu_counters.out_pasid_cache_hits
 * @pasid_cache_misses: see &vsva_emu_counters.out_pasid_cache_misses
 * @walks: see &vsva_emu_counters.out_walks
 * @iotlb_flushed: see &vsva_emu_counters.out_iotlb_flushed
 * @devtlb_flushed: see &vsva_emu_counters.out_devtlb_flushed
 * @pasid_cache_flushed: see &vsva_emu_counters.out_pasid_cache_flushed
 * @faults: see &vsva_emu_counters.out_faults
 * @page_requests: see &vsva_emu_counters.out_page_requests
 * @lost_events: fault records dropped (the fault queue was full or closed)
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
	atomic64_t lost_events;
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
 * @name: the backend's name
 * @domain_init: set up backend state for a new stage-2 domain
 * @domain_fini: free it; no device is attached any more
 * @dev_attach: attach @dev to @dom (per-device PASID table, ATS/PRI state)
 * @dev_detach: undo @dev_attach; no PASID of @dev is bound any more
 * @bind_gpasid: point @dev's PASID entry for @data->hpasid at the guest
 *	stage-1 table (nested).  All field checks are done; may fail only on
 *	backend state (-EBUSY) or allocation (-ENOMEM).
 * @unbind_gpasid: clear that entry, answer its pending page requests with
 *	INVALID and drop its cached translations
 * @replace_gpasid: point @dev's bound entry for @data->hpasid at another
 *	guest stage-1 table in one step (VSVA_BIND_REPLACE): the entry is never
 *	absent, its cached translations are dropped, its pending page requests
 *	stay.  All checks are done and the entry is bound; must not fail then.
 *	Optional: without it VSVA_BIND_REPLACE is -EOPNOTSUPP.
 * @cache_invalidate: apply @n validated invalidations @inv[0..@n) to @dom,
 *	in order, either for one device (@dev) or for every device of @dom
 *	(@dev == NULL); a single call is a batch of one.  @flags are the
 *	call's: an IOTLB invalidation also flushes the device TLBs in scope
 *	unless VSVA_INV_SEPARATE_DEVTLB is set.  The backend may take each
 *	cache's lock once for the whole batch and group the entries (by PASID,
 *	by cache), as long as the result is that of applying them one by one.
 *	It stops at the first entry that fails: *@done says how many were
 *	applied (all @n on success), and the error is that entry's.
 *	Called under ctx->lock, except for one device (@dev != NULL) from the
 *	ioctls: then without it, inside vsva_obj_srcu (object.h), so it must
 *	not use @dom->devices or other state ctx->lock protects, and it
 *	orders itself against emulated DMA on its own.
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
	int (*replace_gpasid)(struct vsva_device *dev,
			      const struct vsva_gpasid_bind_data *data);
	int (*cache_invalidate)(struct vsva_domain *dom,
				struct vsva_device *dev,
				const struct vsva_cache_invalidate_info *inv,
				unsigned int n, u32 flags, unsigned int *done,
				struct vsva_errmsg *err);
	int (*page_response)(struct vsva_device *dev,
			     const struct vsva_page_response *msg,
			     struct vsva_errmsg *err);
	void (*s2_flush)(struct vsva_domain *dom, u64 gpa, u64 len);
};

#endif /* _VSVA_BACKEND_H */
