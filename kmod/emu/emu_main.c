// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated nested IOMMU: backend ops (PASID table, invalidation),
 * emulated DMA through the caches and the stage-1 walk, PASID-entry and
 * debugfs views.
 *
 * Each domain has its own IOTLB (with the paging-structure cache), each
 * device its own PASID cache and device TLB, all of fixed capacity: a VM
 * only ever sees, flushes, evicts and locks its own entries, so one VM's
 * invalidations do not slow another's DMA.  The IOTLB is tagged (domain,
 * PASID) like VT-d's (DID, PASID): devices of one domain bound to one PASID
 * share translations, so they must share the stage-1 table (the guest's
 * rule, not checked).
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "../trace.h"
#include "emu_internal.h"

static atomic64_t emu_next_tag = ATOMIC64_INIT(0);

static u64 emu_new_tag(void)
{
	return atomic64_inc_return(&emu_next_tag);
}

/* ---- backend ops ------------------------------------------------------ */

static int emu_domain_init(struct vsva_domain *dom)
{
	struct emu_dom *ed = kzalloc(sizeof(*ed), GFP_KERNEL_ACCOUNT);
	int rc;

	if (!ed)
		return -ENOMEM;
	rc = emu_cache_init(&ed->iotlb, EMU_IOTLB_ENTRIES);
	if (rc) {
		kfree(ed);
		return rc;
	}
	ed->tag = emu_new_tag();
	dom->backend = ed;
	return 0;
}

/* Drop the domain's IOTLB and its devices' PASID caches: O(entries). */
static void emu_flush_domain(struct vsva_domain *dom)
{
	struct emu_dom *edm = emu_dom(dom);
	struct emu_match m = {
		.dom = edm->tag, .match_dom = true,
		.kind_mask = BIT(EMU_K_LEAF) | BIT(EMU_K_PDE), .last = U64_MAX,
	};
	struct vsva_device *d;

	emu_cache_flush(&edm->iotlb, &m);
	m.kind_mask = BIT(EMU_K_PASID);
	list_for_each_entry(d, &dom->devices, dom_node)
		if (emu_dev(d))
			emu_cache_flush(&emu_dev(d)->pasid_cache, &m);
}

static void emu_domain_fini(struct vsva_domain *dom)
{
	struct emu_dom *ed = emu_dom(dom);

	struct emu_match m = {
		.dom = ed ? ed->tag : 0, .match_dom = true,
		.kind_mask = BIT(EMU_K_PASID), .last = U64_MAX,
	};
	struct vsva_device *d;

	if (!ed)
		return;
	/*
	 * The IOTLB goes whole with its blocks (no entry-by-entry flush);
	 * a device still attached drops its PASID-cache entries of it.
	 */
	list_for_each_entry(d, &dom->devices, dom_node)
		if (emu_dev(d))
			emu_cache_flush(&emu_dev(d)->pasid_cache, &m);
	dom->backend = NULL;
	emu_cache_destroy(&ed->iotlb);
	kfree(ed);
}

static int emu_dev_attach(struct vsva_device *dev, struct vsva_domain *dom)
{
	struct emu_dev *ed;
	int rc;

	ed = kzalloc(sizeof(*ed), GFP_KERNEL_ACCOUNT);
	if (!ed)
		return -ENOMEM;
	ed->devtlb = kzalloc(sizeof(*ed->devtlb), GFP_KERNEL_ACCOUNT);
	if (!ed->devtlb) {
		rc = -ENOMEM;
		goto err_free_dev;
	}
	rc = emu_cache_init(ed->devtlb, EMU_DEVTLB_ENTRIES);
	if (rc)
		goto err_free_devtlb;
	rc = emu_cache_init(&ed->pasid_cache, EMU_PASID_CACHE_ENTRIES);
	if (rc)
		goto err_destroy_devtlb;
	ed->tag = emu_new_tag();
	xa_init(&ed->pasids);
	dev->backend = ed;
	return 0;

err_destroy_devtlb:
	emu_cache_destroy(ed->devtlb);
err_free_devtlb:
	kfree(ed->devtlb);
err_free_dev:
	kfree(ed);
	return rc;
}

static void emu_flush_dev_pasid(struct vsva_device *dev, u32 pasid, bool all)
{
	struct emu_dev *ed = emu_dev(dev);
	struct emu_match m = {
		.dev = ed->tag, .match_dev = true, .pasid = pasid,
		.match_pasid = !all, .kind_mask = BIT(EMU_K_PASID),
		.last = U64_MAX,
	};

	emu_cache_flush(&ed->pasid_cache, &m);
	m = (struct emu_match){
		.match_dom = true, .match_dev = true, .pasid = pasid,
		.match_pasid = !all, .kind_mask = BIT(EMU_K_LEAF),
		.last = U64_MAX,
	};
	emu_cache_flush(ed->devtlb, &m);
}

static void emu_dev_detach(struct vsva_device *dev)
{
	struct emu_dev *ed = emu_dev(dev);
	struct emu_pasid *pe;
	unsigned long idx;

	if (!ed)
		return;
	lockdep_assert_held(&dev->ctx->lock);
	/* The core unbinds first; be safe if it did not. */
	xa_for_each(&ed->pasids, idx, pe) {
		WARN_ON_ONCE(1);
		xa_erase(&ed->pasids, idx);
		kfree(pe);
		cond_resched();
	}
	xa_destroy(&ed->pasids);
	emu_prq_cancel(dev->ctx, ed->tag, 0, true);
	dev->backend = NULL;
	emu_cache_destroy(&ed->pasid_cache);
	emu_cache_destroy(ed->devtlb);
	kfree(ed->devtlb);
	kfree(ed);
}

static int emu_bind_gpasid(struct vsva_device *dev,
			   const struct vsva_gpasid_bind_data *data,
			   struct vsva_errmsg *err)
{
	struct emu_dev *ed = emu_dev(dev);
	struct emu_pasid *pe;
	int rc;

	lockdep_assert_held(&dev->ctx->lock);
	if (!ed) {
		vsva_err(err, "bind: device %u is not attached", dev->obj.id);
		return -ENOENT;
	}
	if (xa_load(&ed->pasids, data->hpasid)) {
		vsva_err(err, "bind: PASID %llu is already bound on device %u",
			 data->hpasid, dev->obj.id);
		return -EBUSY;
	}
	pe = kzalloc(sizeof(*pe), GFP_KERNEL_ACCOUNT);
	if (!pe)
		return -ENOMEM;
	pe->gpgd = data->gpgd;
	pe->addr_width = data->addr_width;
	pe->vtd_flags = data->vendor.vtd.flags;
	pe->gpasid_valid = data->flags & VSVA_SVA_GPASID_VAL;
	pe->gpasid = pe->gpasid_valid ? data->gpasid : 0;
	rc = xa_insert(&ed->pasids, data->hpasid, pe, GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(pe);
		if (rc == -EBUSY)
			vsva_err(err,
				 "bind: PASID %llu is already bound on device %u",
				 data->hpasid, dev->obj.id);
		return rc;
	}
	return 0;
}

/* VSVA_BIND_REPLACE: the entry changes in place under ctx->lock. */
static int emu_replace_gpasid(struct vsva_device *dev,
			      const struct vsva_gpasid_bind_data *data)
{
	struct emu_dev *ed = emu_dev(dev);
	struct emu_pasid *pe;
	struct emu_match m = {
		.match_dom = true, .match_dev = true, .pasid = data->hpasid,
		.match_pasid = true,
		.kind_mask = BIT(EMU_K_LEAF) | BIT(EMU_K_PDE), .last = U64_MAX,
	};

	lockdep_assert_held(&dev->ctx->lock);
	pe = ed ? xa_load(&ed->pasids, data->hpasid) : NULL;
	if (WARN_ON_ONCE(!pe))
		return -ENOENT;
	pe->gpgd = data->gpgd;
	pe->addr_width = data->addr_width;
	pe->vtd_flags = data->vendor.vtd.flags;
	pe->gpasid_valid = data->flags & VSVA_SVA_GPASID_VAL;
	pe->gpasid = pe->gpasid_valid ? data->gpasid : 0;
	/* Nothing cached from the old table may be used any more. */
	emu_flush_dev_pasid(dev, data->hpasid, false);
	if (dev->dom && emu_dom(dev->dom)) {
		m.dom = emu_dom(dev->dom)->tag;
		m.dev = emu_iotlb_dev(m.pasid, ed->tag);
		emu_cache_flush(&emu_dom(dev->dom)->iotlb, &m);
	}
	return 0;
}

static int emu_unbind_gpasid(struct vsva_device *dev, u32 hpasid)
{
	struct emu_dev *ed = emu_dev(dev);
	struct emu_pasid *pe;
	struct emu_match m = {
		.match_dom = true, .match_dev = true, .pasid = hpasid,
		.match_pasid = true,
		.kind_mask = BIT(EMU_K_LEAF) | BIT(EMU_K_PDE), .last = U64_MAX,
	};

	lockdep_assert_held(&dev->ctx->lock);
	if (!ed)
		return -ENOENT;
	pe = xa_erase(&ed->pasids, hpasid);
	if (!pe)
		return -ENOENT;
	kfree(pe);
	emu_prq_cancel(dev->ctx, ed->tag, hpasid, false);
	/*
	 * Release (ctx->dead: no DMA or ioctl runs any more) destroys the
	 * device's and the domain's caches whole right after unbinding, in
	 * the same locked section: flushing them PASID by PASID first would
	 * only make a full cache's teardown slower.
	 */
	if (dev->ctx->dead)
		goto out;
	emu_flush_dev_pasid(dev, hpasid, false);
	if (dev->dom && emu_dom(dev->dom)) {
		m.dom = emu_dom(dev->dom)->tag;
		m.dev = emu_iotlb_dev(m.pasid, ed->tag);
		emu_cache_flush(&emu_dom(dev->dom)->iotlb, &m);
	}
out:
	/* Teardown unbinds every PASID in one loop: stay preemptible. */
	cond_resched();
	return 0;
}

/*
 * The IOVA range of an ADDR invalidation, inclusive: @granule_size x
 * @nb_granules from @addr with the bits below the granule masked off (any
 * power-of-two granule, as VT-d's address mask); clamped on overflow.  The
 * caches drop every entry overlapping it, whatever page size it maps.
 */
static void emu_inv_range(const struct vsva_inv_addr_info *a, u64 *start,
			  u64 *last)
{
	u64 size;

	*start = a->granule_size ? a->addr & ~(a->granule_size - 1) : a->addr;
	if (check_mul_overflow(a->granule_size, a->nb_granules, &size) ||
	    !size || check_add_overflow(*start, size - 1, last))
		*last = U64_MAX;
}

/*
 * What @inv names: its PASID and IOVA range, into @m whose tags and kinds
 * the caller set.
 */
static __always_inline void
emu_inv_match(const struct vsva_cache_invalidate_info *inv, struct emu_match *m)
{
	m->match_pasid = inv->granularity != VSVA_INV_GRANU_DOMAIN;
	if (inv->granularity == VSVA_INV_GRANU_ADDR) {
		m->pasid = inv->granu.addr_info.pasid;
		emu_inv_range(&inv->granu.addr_info, &m->start, &m->last);
		return;
	}
	m->pasid = inv->granularity == VSVA_INV_GRANU_PASID ?
		   inv->granu.pasid_info.pasid : 0;
	m->start = 0;
	m->last = U64_MAX;
}

/*
 * Linux 5.11 VT-d flushed the device TLB with the IOTLB when ATS was on
 * (the guest may take an IOTLB flush as inclusive), so a 5.11 VMM never
 * forwards device-TLB invalidations.  SEPARATE_DEVTLB is for VMMs that do.
 * Same PASID and range; DOMAIN: every PASID.
 */
static bool emu_inv_devtlb(const struct vsva_cache_invalidate_info *inv,
			   u32 flags)
{
	return (inv->cache & VSVA_CACHE_INV_TYPE_DEV_IOTLB) ||
	       ((inv->cache & VSVA_CACHE_INV_TYPE_IOTLB) &&
		!(flags & VSVA_INV_SEPARATE_DEVTLB));
}

/* Apply the device-TLB part of @inv[0..@n) to @c, under its lock once. */
static unsigned int emu_inv_devtlb_n(struct emu_cache *c,
				     const struct vsva_cache_invalidate_info *inv,
				     unsigned int n, u32 flags)
{
	struct emu_match m = {
		.match_dom = true, .match_dev = true,
		.kind_mask = BIT(EMU_K_LEAF),
	};
	const struct emu_pasid_list *pl;
	unsigned int i, nf = 0;

	emu_cache_lock(c);
	pl = c->hint;
	for (i = 0; i < n; i++) {
		if (!emu_inv_devtlb(&inv[i], flags) ||
		    emu_inv_addr_nothing(pl, &inv[i]))
			continue;
		emu_inv_match(&inv[i], &m);
		if (emu_cache_nothing(c, &m))
			continue;
		nf += emu_cache_flush_locked(c, &m);
		/* The flush may have looked up another PASID or freed @pl. */
		pl = c->hint;
	}
	emu_cache_unlock(c);
	return nf;
}

/* Apply the PASID-cache part of @inv[0..@n) to @c, under its lock once. */
static unsigned int emu_inv_pasid_n(struct emu_cache *c, u64 dom_tag,
				    const struct vsva_cache_invalidate_info *inv,
				    unsigned int n)
{
	struct emu_match m = {
		.dom = dom_tag, .match_dom = true,
		.kind_mask = BIT(EMU_K_PASID),
	};
	unsigned int i, nf = 0;

	emu_cache_lock(c);
	for (i = 0; i < n; i++) {
		if (!(inv[i].cache & VSVA_CACHE_INV_TYPE_PASID))
			continue;
		emu_inv_match(&inv[i], &m);
		if (!emu_cache_nothing(c, &m))
			nf += emu_cache_flush_locked(c, &m);
	}
	emu_cache_unlock(c);
	return nf;
}

/* The device TLB and PASID-cache parts of a batch, for device @d. */
static void emu_inv_dev(struct vsva_device *d, u64 dom_tag,
			const struct vsva_cache_invalidate_info *inv,
			unsigned int n, u32 flags, bool devtlb, u8 types)
{
	struct vsva_counters *cnt = &d->ctx->counters;
	unsigned int nf;

	if (!emu_dev(d))
		return;
	if (devtlb && (d->enabled & VSVA_ATTACH_ENABLE_ATS)) {
		nf = emu_inv_devtlb_n(emu_dev(d)->devtlb, inv, n, flags);
		atomic64_add(nf, &cnt->devtlb_flushed);
	}
	/* Each device caches its own PASID table's entries. */
	if (types & VSVA_CACHE_INV_TYPE_PASID) {
		nf = emu_inv_pasid_n(&emu_dev(d)->pasid_cache, dom_tag, inv, n);
		atomic64_add(nf, &cnt->pasid_cache_flushed);
	}
}

/*
 * The IOTLB part of one entry @e (of the IOTLB) of a batch on domain
 * @dom_tag, for device @dev (tag @dev_tag) or every device (@dev NULL),
 * with @c's lock held: how many translations it dropped.
 */
static __always_inline unsigned int
emu_iotlb_inv(struct emu_cache *c, u64 dom_tag, struct vsva_device *dev,
	      u64 dev_tag, const struct vsva_cache_invalidate_info *e)
{
	struct emu_match m = { .dom = dom_tag, .match_dom = true };

	emu_inv_match(e, &m);
	/* LEAF: only leaves changed, paging-structure entries stay. */
	m.kind_mask = BIT(EMU_K_LEAF);
	if (e->granularity != VSVA_INV_GRANU_ADDR ||
	    !(e->granu.addr_info.flags & VSVA_INV_ADDR_FLAGS_LEAF))
		m.kind_mask |= BIT(EMU_K_PDE);
	if (emu_cache_nothing(c, &m))
		return 0;
	/*
	 * Entries of host PASIDs carry no device; RID_PASID's carry theirs:
	 * a device's own, or every device's for the domain.
	 */
	m.match_dev = m.match_pasid && (dev || m.pasid != VSVA_RID_PASID);
	m.dev = dev_tag ? emu_iotlb_dev(m.pasid, dev_tag) : 0;
	return emu_cache_flush_locked(c, &m);
}

/*
 * A batch: each cache in scope is locked once and gets the entries that
 * concern it, in order; consecutive entries of one PASID find the PASID's
 * index once (emu_pasid_list()), and a range the PASID never cached costs
 * a comparison.  Flushes only drop entries and the caches are independent
 * of one another, so this leaves the caches and counters exactly as
 * applying the entries one by one would.
 */
static int emu_cache_invalidate(struct vsva_domain *dom,
				struct vsva_device *dev,
				const struct vsva_cache_invalidate_info *inv,
				unsigned int n, u32 flags, unsigned int *done,
				struct vsva_errmsg *err)
{
	struct vsva_counters *cnt = &dom->ctx->counters;
	struct emu_dom *edm = emu_dom(dom);
	unsigned int i, nf = 0;
	u64 dev_tag = dev && emu_dev(dev) ? emu_dev(dev)->tag : 0;
	const struct emu_pasid_list *pl;
	bool devtlb;
	struct vsva_device *d;
	u8 types = 0;
	int rc = 0;

	*done = 0;
	if (!edm)
		return -ENOENT;
	down_read(&emu_ctx(dom->ctx)->inv_sem);
	/*
	 * The IOTLB part of every entry, noting which other caches the batch
	 * concerns.  The UAPI layer checked the entries; stop at a bad one
	 * all the same.
	 */
	emu_cache_lock(&edm->iotlb);
	pl = edm->iotlb.hint;
	for (i = 0; i < n; i++) {
		const struct vsva_cache_invalidate_info *e = &inv[i];

		/* The usual entry: a page its PASID never cached. */
		if ((e->cache & VSVA_CACHE_INV_TYPE_IOTLB) &&
		    emu_inv_addr_nothing(pl, e)) {
			types |= e->cache;
			continue;
		}
		if (e->granularity >= VSVA_INV_GRANU_NR) {
			vsva_err(err, "invalidate: unknown granularity %u",
				 e->granularity);
			rc = -EINVAL;
			n = i;
			break;
		}
		types |= e->cache;
		if (!(e->cache & VSVA_CACHE_INV_TYPE_IOTLB))
			continue;
		nf += emu_iotlb_inv(&edm->iotlb, edm->tag, dev, dev_tag, e);
		/* The flush may have looked up another PASID or freed @pl. */
		pl = edm->iotlb.hint;
	}
	emu_cache_unlock(&edm->iotlb);
	/* The device TLBs when any entry's emu_inv_devtlb() says so. */
	devtlb = (types & VSVA_CACHE_INV_TYPE_DEV_IOTLB) ||
		 ((types & VSVA_CACHE_INV_TYPE_IOTLB) &&
		  !(flags & VSVA_INV_SEPARATE_DEVTLB));
	if (nf)
		atomic64_add(nf, &cnt->iotlb_flushed);
	/* One device (no ctx->lock: not dom->devices), or every device. */
	if (dev) {
		emu_inv_dev(dev, edm->tag, inv, n, flags, devtlb, types);
	} else {
		list_for_each_entry(d, &dom->devices, dom_node)
			emu_inv_dev(d, edm->tag, inv, n, flags, devtlb, types);
	}
	up_read(&emu_ctx(dom->ctx)->inv_sem);
	*done = n;
	return rc;
}

static void emu_s2_flush(struct vsva_domain *dom, u64 gpa, u64 len)
{
	struct emu_match m = {
		.match_dom = true, .match_dev = true,
		.kind_mask = BIT(EMU_K_LEAF), .last = U64_MAX,
	};
	struct vsva_device *d;

	lockdep_assert_held(&dom->ctx->lock);
	/* On release the caches are destroyed whole (emu_unbind_gpasid). */
	if (!emu_dom(dom) || dom->ctx->dead)
		return;
	/* Cached entries hold GPAs, not pages: drop the whole domain. */
	emu_flush_domain(dom);
	list_for_each_entry(d, &dom->devices, dom_node)
		if (emu_dev(d))
			emu_cache_flush(emu_dev(d)->devtlb, &m);
}

const struct vsva_backend_ops vsva_emu_ops = {
	.name = "emu",
	.domain_init = emu_domain_init,
	.domain_fini = emu_domain_fini,
	.dev_attach = emu_dev_attach,
	.dev_detach = emu_dev_detach,
	.bind_gpasid = emu_bind_gpasid,
	.unbind_gpasid = emu_unbind_gpasid,
	.replace_gpasid = emu_replace_gpasid,
	.cache_invalidate = emu_cache_invalidate,
	.page_response = emu_page_response,
	.s2_flush = emu_s2_flush,
};

/* ---- context ----------------------------------------------------------- */

int vsva_emu_ctx_init(struct vsva_ctx *ctx)
{
	struct emu_ctx *ec = kzalloc(sizeof(*ec), GFP_KERNEL_ACCOUNT);

	if (!ec)
		return -ENOMEM;
	spin_lock_init(&ec->prq_lock);
	init_rwsem(&ec->inv_sem);
	INIT_LIST_HEAD(&ec->prqs);
	init_waitqueue_head(&ec->prq_wq);
	ctx->emu = ec;
	return 0;
}

void vsva_emu_ctx_fini(struct vsva_ctx *ctx)
{
	struct emu_ctx *ec = emu_ctx(ctx);

	if (!ec)
		return;
	emu_prq_cancel(ctx, 0, 0, true);
	if (ec->fq) {
		spin_lock(&ec->fq->lock);
		ec->fq->dead = true;
		spin_unlock(&ec->fq->lock);
		wake_up_interruptible_poll(&ec->fq->wq, EPOLLHUP);
		emu_fq_put(ec->fq);
	}
	ctx->emu = NULL;
	kfree(ec);
}

/* ---- emulated DMA ------------------------------------------------------ */

/* Translate @iova for @dev: PASID cache, device TLB, IOTLB, then walk. */
static int emu_translate(struct vsva_ctx *ctx, struct vsva_device *dev,
			 u32 pasid, u64 iova, u32 access, struct emu_xlate *x,
			 struct vsva_fault_unrecoverable *f, bool *recoverable)
{
	struct vsva_counters *cnt = &ctx->counters;
	struct emu_dev *ed = emu_dev(dev);
	u64 tag = emu_dom(dev->dom)->tag;
	u64 rdev = emu_iotlb_dev(pasid, ed->tag);
	bool ats = dev->enabled & VSVA_ATTACH_ENABLE_ATS;
	struct emu_pasid pe;
	struct emu_tlbe e;
	int rc;

	*recoverable = false;
	if (emu_cache_lookup(&ed->pasid_cache, tag, ed->tag, pasid,
			     EMU_K_PASID, 0, 0, &e)) {
		atomic64_inc(&cnt->pasid_cache_hits);
		pe.gpgd = e.out;
		pe.addr_width = e.aux & 0xff;
		pe.vtd_flags = e.aux >> 8;
	} else {
		struct emu_pasid *p = xa_load(&ed->pasids, pasid);

		atomic64_inc(&cnt->pasid_cache_misses);
		if (!p) {
			emu_fault_fill(f, VSVA_FAULT_REASON_PASID_INVALID,
				       pasid, access, iova, 0, false);
			return 1;
		}
		pe = *p;
		e = (struct emu_tlbe){
			.dom = tag, .dev = ed->tag, .pasid = pasid,
			.kind = EMU_K_PASID, .out = pe.gpgd,
			.aux = (pe.vtd_flags << 8) | pe.addr_width,
		};
		emu_cache_insert(&ed->pasid_cache, &e);
	}
	if ((access & VSVA_FAULT_PERM_PRIV) &&
	    !(pe.vtd_flags & VSVA_VTD_GPASID_SRE)) {
		emu_fault_fill(f, VSVA_FAULT_REASON_PERMISSION, pasid, access,
			       iova, 0, false);
		return 1;
	}

	if (ats) {
		if (emu_cache_lookup_leaf(ed->devtlb, 0, 0, pasid, iova, &e) &&
		    emu_access_ok(pe.vtd_flags, e.perm, access)) {
			atomic64_inc(&cnt->devtlb_hits);
			goto hit;
		}
		atomic64_inc(&cnt->devtlb_misses);
	}
	if (emu_cache_lookup_leaf(&emu_dom(dev->dom)->iotlb, tag, rdev, pasid,
				  iova, &e) &&
	    emu_access_ok(pe.vtd_flags, e.perm, access)) {
		atomic64_inc(&cnt->iotlb_hits);
	} else {
		atomic64_inc(&cnt->iotlb_misses);
		rc = emu_walk(ctx, dev->dom, &pe, pasid, rdev, iova, access, x,
			      f, recoverable);
		if (rc)
			return rc;
		e = (struct emu_tlbe){
			.dom = tag, .dev = rdev, .pasid = pasid,
			.kind = EMU_K_LEAF, .shift = x->shift, .perm = x->perm,
			.va = iova & ~((1ULL << x->shift) - 1),
			.out = x->gpa & ~((1ULL << x->shift) - 1),
		};
		emu_cache_insert(&emu_dom(dev->dom)->iotlb, &e);
	}
	if (ats) {
		/* The device's own TLB: no domain or device tag. */
		e.dom = 0;
		e.dev = 0;
		emu_cache_insert(ed->devtlb, &e);
	}
hit:
	x->vtd = pe.vtd_flags;
	x->shift = e.shift;
	x->perm = e.perm;
	x->gpa = e.out + (iova & ((1ULL << e.shift) - 1));
	return 0;
}

/*
 * Move @len bytes (inside one 4K IOVA page) between @buf and the guest.
 * Return: 0, 1 on a fault (@f, @recoverable), or a negative errno.
 */
/*
 * Translate @iova through both stages, as the access of a DMA would.
 * @pasid is VSVA_RID_PASID with @no_pasid for a request without PASID.
 * Context: ctx->lock and vsva_s2_read_lock(dev->dom) held; *@page stays
 * valid until vsva_s2_read_unlock().
 * Return: 0, 1 on a fault (@f, @recoverable), or a negative errno.
 */
static int emu_xlate_s2(struct vsva_ctx *ctx, struct vsva_device *dev,
			u32 pasid, bool no_pasid, u64 iova, u32 access,
			struct emu_xlate *x, struct page **page, u32 *prot,
			struct vsva_fault_unrecoverable *f, bool *recoverable)
{
	u32 need;
	int rc;

	if (!no_pasid && pasid == VSVA_RID_PASID) {
		/* A PASID-tagged request never reaches the RID_PASID entry. */
		atomic64_inc(&ctx->counters.pasid_cache_misses);
		emu_fault_fill(f, VSVA_FAULT_REASON_PASID_INVALID, pasid,
			       access, iova, 0, false);
		*recoverable = false;
		return 1;
	}
	rc = emu_translate(ctx, dev, pasid, iova, access, x, f, recoverable);
	if (!rc) {
		need = (access & VSVA_FAULT_PERM_WRITE) ? VSVA_S2_WRITE :
							  VSVA_S2_READ;
		if (vsva_s2_lookup(dev->dom, x->gpa, page, prot) ||
		    !(*prot & need)) {
			emu_fault_fill(f, VSVA_FAULT_REASON_ACCESS, pasid,
				       access, iova, x->gpa, true);
			*recoverable = false;
			rc = 1;
		}
	}
	if (rc == 1 && no_pasid) {
		/* No PASID on the request: none in the record, no PRI. */
		f->flags &= ~VSVA_FAULT_UNRECOV_PASID_VALID;
		*recoverable = false;
	}
	return rc;
}

static int emu_dma_page(struct vsva_ctx *ctx, struct vsva_device *dev,
			u32 pasid, bool no_pasid, u64 iova, size_t len,
			u32 access, void *buf,
			struct vsva_fault_unrecoverable *f, bool *recoverable)
{
	struct vsva_domain *dom = dev->dom;
	struct emu_xlate x;
	struct page *page;
	u32 prot;
	void *va;
	int rc;

	lockdep_assert_held(&ctx->lock);
	if (!emu_dev(dev) || !dom || !emu_dom(dom))
		return -ENOENT;
	/* Translation and access are one step for an invalidation. */
	down_write(&emu_ctx(ctx)->inv_sem);
	vsva_s2_read_lock(dom);
	rc = emu_xlate_s2(ctx, dev, pasid, no_pasid, iova, access, &x, &page,
			  &prot, f, recoverable);
	if (rc)
		goto out_unlock;
	va = kmap_local_page(page);
	if (access & VSVA_FAULT_PERM_WRITE)
		memcpy(va + offset_in_page(x.gpa), buf, len);
	else
		memcpy(buf, va + offset_in_page(x.gpa), len);
	kunmap_local(va);
	if (access & VSVA_FAULT_PERM_WRITE)
		set_page_dirty_lock(page);
out_unlock:
	vsva_s2_read_unlock(dom);
	up_write(&emu_ctx(ctx)->inv_sem);
	return rc;
}

static void emu_record_unrecov(struct vsva_ctx *ctx, struct vsva_device *dev,
			       const struct vsva_fault_unrecoverable *f)
{
	struct emu_ctx *ec = emu_ctx(ctx);
	struct vsva_fault rec;
	bool queued;

	if (!ec->fq) {
		trace_vsva_fault(ctx->id, dev->obj.id, f, false);
		return;
	}
	/* Every byte reaches user space: zero the whole record, union tail too. */
	memset(&rec, 0, sizeof(rec));
	rec.type = VSVA_FAULT_DMA_UNRECOV;
	memcpy(&rec.event, f, sizeof(*f));
	queued = emu_fq_push(ec->fq, dev->obj.id, &rec, false);
	if (!queued)
		atomic64_inc(&ctx->counters.lost_events);
	trace_vsva_fault(ctx->id, dev->obj.id, f, queued);
}

/* NO_PASID: pasid 0, a user non-execute request (VT-d's rule). */
static bool emu_no_pasid_bad(u32 flags, u32 pasid)
{
	return (flags & VSVA_EMU_DMA_NO_PASID) &&
	       (pasid != VSVA_RID_PASID ||
		(flags & (VSVA_EMU_DMA_PRIV | VSVA_EMU_DMA_EXEC)));
}

/*
 * VSVA_EMU_DMA.  Errors found before anything moved return an errno; once
 * a byte moved the call returns 0 with what was done, so no output is lost
 * and nothing is replayed: out_done bytes moved, and either the access
 * stopped at a fault (VSVA_EMU_DMA_FAULTED, out_fault; with
 * VSVA_EMU_DMA_PAGE_REQ and out_grpid when a page request is pending for
 * it), or it stopped at an error with out_done < len and no flag (a bad
 * user buffer, the device gone, a signal while waiting for a page
 * response): repeating the rest reports that error.  A signal while waiting
 * withdraws the page request and returns -EINTR when nothing moved (never
 * -ERESTARTSYS: a restart would repeat the whole transfer).  The flags and
 * out_grpid describe the last fault only: a page request answered SUCCESS
 * after which the access completed leaves none of them set.
 */
int vsva_emu_dma(struct vsva_ctx *ctx, struct vsva_emu_dma *cmd)
{
	const u32 known = VSVA_EMU_DMA_WRITE | VSVA_EMU_DMA_PRIV |
			  VSVA_EMU_DMA_EXEC | VSVA_EMU_DMA_WAIT |
			  VSVA_EMU_DMA_NO_PASID;
	bool write = cmd->flags & VSVA_EMU_DMA_WRITE;
	bool no_pasid = cmd->flags & VSVA_EMU_DMA_NO_PASID;
	u8 __user *ubuf = u64_to_user_ptr(cmd->buf_uptr);
	struct vsva_device *dev;
	unsigned int retries = 0;
	u64 done = 0, end;
	u32 access;
	u8 small[EMU_DMA_SMALL] __aligned(8);
	void *bounce = small;
	int rc = 0;

	if (cmd->flags & ~known)
		return -EOPNOTSUPP;
	if ((write && (cmd->flags & VSVA_EMU_DMA_EXEC)) ||
	    emu_no_pasid_bad(cmd->flags, cmd->pasid) ||
	    cmd->len > EMU_DMA_MAX ||
	    check_add_overflow(cmd->iova, cmd->len, &end))
		return -EINVAL;
	access = write ? VSVA_FAULT_PERM_WRITE : VSVA_FAULT_PERM_READ;
	if (cmd->flags & VSVA_EMU_DMA_EXEC)
		access |= VSVA_FAULT_PERM_EXEC;
	if (cmd->flags & VSVA_EMU_DMA_PRIV)
		access |= VSVA_FAULT_PERM_PRIV;
	cmd->out_done = 0;
	cmd->out_flags = 0;
	cmd->out_grpid = 0;
	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));

	dev = vsva_device_get(ctx, cmd->dev_id);
	if (!dev)
		return -ENOENT;
	/* Small transfers (descriptors, doorbells) need no bounce page. */
	if (cmd->len > sizeof(small)) {
		bounce = (void *)__get_free_page(GFP_KERNEL);
		if (!bounce) {
			rc = -ENOMEM;
			goto out_put;
		}
	}

	while (done < cmd->len) {
		u64 iova = cmd->iova + done;
		size_t chunk = min_t(u64, cmd->len - done,
				     PAGE_SIZE - offset_in_page(iova));
		struct vsva_fault_unrecoverable f;
		struct emu_prq *prq;
		bool recov;
		u32 code;

		if (write && copy_from_user(bounce, ubuf + done, chunk)) {
			rc = -EFAULT;
			break;
		}
		mutex_lock(&ctx->lock);
		rc = emu_dma_page(ctx, dev, cmd->pasid, no_pasid, iova, chunk,
				  access, bounce, &f, &recov);
		if (rc <= 0) {
			mutex_unlock(&ctx->lock);
			if (rc)
				break;
			if (!write && copy_to_user(ubuf + done, bounce, chunk)) {
				rc = -EFAULT;
				break;
			}
			done += chunk;
			retries = 0;
			continue;
		}

		/* A fault: a page request when PRI can fix it, else a record. */
		rc = 0;
		atomic64_inc(&ctx->counters.faults);
		cmd->out_flags |= VSVA_EMU_DMA_FAULTED;
		memcpy(&cmd->out_fault, &f, sizeof(f));
		if (!recov || !(dev->enabled & VSVA_ATTACH_ENABLE_PRI) ||
		    retries >= EMU_PRQ_RETRIES ||
		    emu_prq_queue(ctx, dev, cmd->pasid, iova, access,
				  cmd->flags & VSVA_EMU_DMA_WAIT,
				  &cmd->out_grpid, &prq)) {
			emu_record_unrecov(ctx, dev, &f);
			mutex_unlock(&ctx->lock);
			break;
		}
		atomic64_inc(&ctx->counters.page_requests);
		trace_vsva_page_request(ctx->id, dev->obj.id, cmd->pasid,
					cmd->out_grpid, iova & PAGE_MASK,
					access);
		cmd->out_flags |= VSVA_EMU_DMA_PAGE_REQ;
		mutex_unlock(&ctx->lock);
		if (!(cmd->flags & VSVA_EMU_DMA_WAIT))
			break;
		rc = emu_prq_wait(ctx, prq, &code);
		if (rc || code != VSVA_PAGE_RESP_SUCCESS)
			break;
		/* Answered SUCCESS: retry the access; the fault is gone. */
		retries++;
		cmd->out_flags = 0;
		cmd->out_grpid = 0;
		memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
	}
	cmd->out_done = done;
	if (rc) {
		/* Withdrawn (signal) or never raised: no fault to report. */
		cmd->out_flags = 0;
		cmd->out_grpid = 0;
		memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));
		/* Bytes moved: report them rather than lose them. */
		if (done)
			rc = 0;
	}
	if (bounce != small)
		free_page((unsigned long)bounce);
out_put:
	vsva_device_put(dev);
	return rc;
}

/* Withdraw the unseen page request @grpid of device @dev_id, if still there. */
static void emu_prq_abort(struct vsva_ctx *ctx, u32 dev_id, u32 grpid)
{
	struct vsva_device *dev;

	mutex_lock(&ctx->lock);
	dev = vsva_device_find(ctx, dev_id);
	if (dev && emu_dev(dev) &&
	    emu_prq_withdraw(ctx, dev->obj.id, emu_dev(dev)->tag, grpid))
		atomic64_dec(&ctx->counters.page_requests);
	mutex_unlock(&ctx->lock);
}

void vsva_emu_dma_abort(struct vsva_ctx *ctx, const struct vsva_emu_dma *cmd)
{
	if ((cmd->out_flags & VSVA_EMU_DMA_PAGE_REQ) &&
	    !(cmd->flags & VSVA_EMU_DMA_WAIT))
		emu_prq_abort(ctx, cmd->dev_id, cmd->out_grpid);
}

/*
 * VSVA_EMU_TRANSLATE: what a DMA of that kind would translate @iova to,
 * through the same caches, walk and stage-2 check; a fault is handled as a
 * DMA without WAIT handles it.
 */
int vsva_emu_translate(struct vsva_ctx *ctx, struct vsva_emu_translate *cmd)
{
	const u32 known = VSVA_EMU_DMA_WRITE | VSVA_EMU_DMA_PRIV |
			  VSVA_EMU_DMA_EXEC | VSVA_EMU_DMA_NO_PASID;
	bool write = cmd->flags & VSVA_EMU_DMA_WRITE;
	bool no_pasid = cmd->flags & VSVA_EMU_DMA_NO_PASID;
	struct vsva_fault_unrecoverable f;
	struct vsva_device *dev;
	struct emu_xlate x;
	struct emu_prq *prq;
	struct page *page;
	u32 access, prot, base;
	bool recov;
	int rc;

	if (cmd->flags & ~known)
		return -EOPNOTSUPP;
	if ((write && (cmd->flags & VSVA_EMU_DMA_EXEC)) ||
	    emu_no_pasid_bad(cmd->flags, cmd->pasid))
		return -EINVAL;
	base = 0;
	if (cmd->flags & VSVA_EMU_DMA_EXEC)
		base |= VSVA_FAULT_PERM_EXEC;
	if (cmd->flags & VSVA_EMU_DMA_PRIV)
		base |= VSVA_FAULT_PERM_PRIV;
	access = base | (write ? VSVA_FAULT_PERM_WRITE : VSVA_FAULT_PERM_READ);
	cmd->out_addr = 0;
	cmd->out_perm = 0;
	cmd->out_shift = 0;
	cmd->out_flags = 0;
	cmd->out_grpid = 0;
	memset(&cmd->out_fault, 0, sizeof(cmd->out_fault));

	mutex_lock(&ctx->lock);
	dev = vsva_device_find(ctx, cmd->dev_id);
	if (!dev || !emu_dev(dev) || !dev->dom || !emu_dom(dev->dom)) {
		rc = -ENOENT;
		goto out_unlock;
	}
	down_write(&emu_ctx(ctx)->inv_sem);
	vsva_s2_read_lock(dev->dom);
	rc = emu_xlate_s2(ctx, dev, cmd->pasid, no_pasid, cmd->iova, access,
			  &x, &page, &prot, &f, &recov);
	vsva_s2_read_unlock(dev->dom);
	up_write(&emu_ctx(ctx)->inv_sem);
	if (rc < 0)
		goto out_unlock;
	if (!rc) {
		cmd->out_addr = x.gpa;
		cmd->out_shift = x.shift;
		if ((prot & VSVA_S2_READ) &&
		    emu_access_ok(x.vtd, x.perm, base | VSVA_FAULT_PERM_READ))
			cmd->out_perm |= VSVA_FAULT_PERM_READ;
		if ((prot & VSVA_S2_WRITE) && !(base & VSVA_FAULT_PERM_EXEC) &&
		    emu_access_ok(x.vtd, x.perm, base | VSVA_FAULT_PERM_WRITE))
			cmd->out_perm |= VSVA_FAULT_PERM_WRITE;
		goto out_unlock;
	}
	rc = 0;
	atomic64_inc(&ctx->counters.faults);
	cmd->out_flags = VSVA_EMU_DMA_FAULTED;
	memcpy(&cmd->out_fault, &f, sizeof(f));
	if (!recov || !(dev->enabled & VSVA_ATTACH_ENABLE_PRI) ||
	    emu_prq_queue(ctx, dev, cmd->pasid, cmd->iova, access, false,
			  &cmd->out_grpid, &prq)) {
		emu_record_unrecov(ctx, dev, &f);
		goto out_unlock;
	}
	atomic64_inc(&ctx->counters.page_requests);
	cmd->out_flags |= VSVA_EMU_DMA_PAGE_REQ;
out_unlock:
	mutex_unlock(&ctx->lock);
	return rc;
}

void vsva_emu_translate_abort(struct vsva_ctx *ctx,
			      const struct vsva_emu_translate *cmd)
{
	if (cmd->out_flags & VSVA_EMU_DMA_PAGE_REQ)
		emu_prq_abort(ctx, cmd->dev_id, cmd->out_grpid);
}

/* ---- views ------------------------------------------------------------- */

int vsva_emu_pasid_entry(struct vsva_ctx *ctx,
			 struct vsva_emu_pasid_entry *cmd)
{
	struct vsva_device *dev;
	struct emu_pasid *pe;
	int rc = 0;

	lockdep_assert_held(&ctx->lock);
	if (cmd->flags)
		return -EOPNOTSUPP;
	dev = vsva_device_get(ctx, cmd->dev_id);
	if (!dev)
		return -ENOENT;
	if (!emu_dev(dev) || !dev->dom) {
		rc = -ENOENT;
		goto out_put;
	}
	cmd->out_domain_id = dev->dom->obj.id;
	pe = xa_load(&emu_dev(dev)->pasids, cmd->pasid);
	cmd->out_present = !!pe;
	cmd->out_addr_width = pe ? pe->addr_width : 0;
	cmd->out_gpgd = pe ? pe->gpgd : 0;
	cmd->out_vtd_flags = pe ? pe->vtd_flags : 0;
	cmd->out_gpasid_valid = pe ? pe->gpasid_valid : 0;
	cmd->out_gpasid = pe ? pe->gpasid : 0;
out_put:
	vsva_device_put(dev);
	return rc;
}

/*
 * Called under ctx->lock (a mutex): it may reschedule.  The output is
 * bounded: at most EMU_DEBUGFS_PASIDS PASID entries per device, so a
 * context with a million bindings dumps quickly.
 */
void vsva_emu_debugfs_ctx(struct seq_file *s, struct vsva_ctx *ctx)
{
	struct vsva_counters *c = &ctx->counters;
	struct emu_ctx *ec = emu_ctx(ctx);
	struct vsva_obj *obj;
	unsigned long id;

	seq_printf(s, "iotlb hits %lld misses %lld flushed %lld\n",
		   atomic64_read(&c->iotlb_hits),
		   atomic64_read(&c->iotlb_misses),
		   atomic64_read(&c->iotlb_flushed));
	seq_printf(s, "devtlb hits %lld misses %lld flushed %lld\n",
		   atomic64_read(&c->devtlb_hits),
		   atomic64_read(&c->devtlb_misses),
		   atomic64_read(&c->devtlb_flushed));
	seq_printf(s, "pasid-cache hits %lld misses %lld flushed %lld\n",
		   atomic64_read(&c->pasid_cache_hits),
		   atomic64_read(&c->pasid_cache_misses),
		   atomic64_read(&c->pasid_cache_flushed));
	seq_printf(s, "walks %lld faults %lld page-requests %lld\n",
		   atomic64_read(&c->walks), atomic64_read(&c->faults),
		   atomic64_read(&c->page_requests));
	if (ec) {
		spin_lock(&ec->prq_lock);
		seq_printf(s, "pending page requests %u\n", ec->nr_prqs);
		spin_unlock(&ec->prq_lock);
		if (ec->fq) {
			spin_lock(&ec->fq->lock);
			seq_printf(s, "fault queue %u/%u lost %u seq %u\n",
				   ec->fq->count, EMU_FQ_DEPTH, ec->fq->lost,
				   ec->fq->seq);
			spin_unlock(&ec->fq->lock);
		}
	}
	xa_for_each(&ctx->objects, id, obj) {
		struct vsva_device *dev;
		struct emu_pasid *pe;
		unsigned long pasid;
		unsigned int shown = 0;

		cond_resched();
		if (obj->type == VSVA_OBJ_DOMAIN) {
			struct vsva_domain *dom =
				container_of(obj, struct vsva_domain, obj);

			if (emu_dom(dom))
				seq_printf(s, "emu domain %u iotlb %u/%u\n",
					   obj->id,
					   emu_cache_used(&emu_dom(dom)->iotlb),
					   emu_dom(dom)->iotlb.cap);
			continue;
		}
		if (obj->type != VSVA_OBJ_DEVICE)
			continue;
		dev = container_of(obj, struct vsva_device, obj);
		if (!emu_dev(dev))
			continue;
		seq_printf(s, "device %u rid %04x ats %d pri %d devtlb %u/%u pasid-cache %u/%u\n",
			   obj->id, dev->rid,
			   !!(dev->enabled & VSVA_ATTACH_ENABLE_ATS),
			   !!(dev->enabled & VSVA_ATTACH_ENABLE_PRI),
			   emu_cache_used(emu_dev(dev)->devtlb),
			   emu_dev(dev)->devtlb->cap,
			   emu_cache_used(&emu_dev(dev)->pasid_cache),
			   emu_dev(dev)->pasid_cache.cap);
		xa_for_each(&emu_dev(dev)->pasids, pasid, pe) {
			if (shown++ == EMU_DEBUGFS_PASIDS) {
				seq_printf(s, "  ... %u bound PASIDs in all\n",
					   dev->nr_bound);
				break;
			}
			seq_printf(s,
				   "  pasid %lu gpgd 0x%llx aw %u vtd 0x%llx gpasid %d\n",
				   pasid, pe->gpgd, pe->addr_width,
				   pe->vtd_flags,
				   pe->gpasid_valid ? (int)pe->gpasid : -1);
		}
	}
}

/* ---- module ------------------------------------------------------------ */

int vsva_emu_init(void)
{
	return emu_cache_module_init();
}

void vsva_emu_exit(void)
{
	emu_cache_module_exit();
}
