// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-internal API: bind, unbind, invalidate and page response on
 * kernel structs.  The ioctl path reaches the __vsva_*() internals after
 * the IOMMU UAPI layer copied and checked the payload; release() and
 * in-kernel consumers call them without any user buffer.
 *
 * Every operation checks all of its targets before it changes anything;
 * a bind on several devices that fails part-way is rolled back here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <vsva/kapi.h>

#include "ioasid.h"
#include "trace.h"
#include "vsva_priv.h"

/*
 * The devices an operation applies to: one device, or every device of a
 * domain (VSVA_TARGET_DOMAIN).  @devs points at @one or at an array.
 */
struct vsva_targets {
	struct vsva_domain *dom;
	struct vsva_device *one;
	struct vsva_device **devs;
	unsigned int nr;
};

static int vsva_targets_get(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			    const char *what, bool need_devices,
			    struct vsva_targets *t, struct vsva_errmsg *err)
{
	struct vsva_device *dev;
	unsigned int i = 0;

	lockdep_assert_held(&ctx->lock);
	memset(t, 0, sizeof(*t));
	if (ctx->dead) {
		vsva_err(err, "%s: the context is being released", what);
		return -ENOENT;
	}
	if (!(flags & VSVA_TARGET_DOMAIN)) {
		t->one = vsva_device_find(ctx, target_id);
		if (!t->one) {
			vsva_err(err, "%s: no device %u in this context", what,
				 target_id);
			return -ENOENT;
		}
		t->dom = t->one->dom;
		t->devs = &t->one;
		t->nr = 1;
		return 0;
	}
	t->dom = vsva_domain_find(ctx, target_id);
	if (!t->dom) {
		vsva_err(err, "%s: no domain %u in this context", what,
			 target_id);
		return -ENOENT;
	}
	if (!need_devices)
		return 0;
	if (!t->dom->nr_devices) {
		vsva_err(err, "%s: domain %u has no devices attached", what,
			 target_id);
		return -EINVAL;
	}
	t->devs = kcalloc(t->dom->nr_devices, sizeof(*t->devs),
			  GFP_KERNEL_ACCOUNT);
	if (!t->devs)
		return -ENOMEM;
	list_for_each_entry(dev, &t->dom->devices, dom_node)
		t->devs[i++] = dev;
	t->nr = i;
	return 0;
}

static void vsva_targets_put(struct vsva_targets *t)
{
	if (t->devs != &t->one)
		kfree(t->devs);
}

/* Under ctx->lock, so a context's events arrive in order. */
static void vsva_notify_dev(unsigned long action, struct vsva_device *dev,
			    struct vsva_ioasid *ioasid)
{
	struct vsva_ioasid_event ev;

	vsva_ioasid_event_fill(&ev, ioasid);
	ev.dev_id = dev->obj.id;
	ev.rid = dev->rid;
	vsva_ioasid_notify(dev->ctx->set, action, &ev);
}

/* Undo one backend bind that was never published. */
static void vsva_bind_undo(struct vsva_ctx *ctx, struct vsva_device *dev,
			   u32 hpasid)
{
	WARN_ON(ctx->ops->unbind_gpasid(dev, hpasid));
	xa_erase(&dev->bound, hpasid);
}

/*
 * VSVA_BIND_REPLACE: every target device has @data->hpasid bound; each entry
 * is repointed in place under ctx->lock, so no DMA finds it unbound.
 */
static int vsva_replace_gpasid(struct vsva_ctx *ctx, struct vsva_targets *t,
			       const struct vsva_gpasid_bind_data *data,
			       struct vsva_ioasid *ioasid,
			       struct vsva_errmsg *err)
{
	unsigned int i;

	lockdep_assert_held(&ctx->lock);
	if (!ctx->ops->replace_gpasid) {
		vsva_err(err, "bind: the %s backend cannot replace a binding",
			 ctx->ops->name);
		return -EOPNOTSUPP;
	}
	for (i = 0; i < t->nr; i++) {
		if (!xa_load(&t->devs[i]->bound, data->hpasid)) {
			vsva_err(err, "bind: replace: %s %llu is not bound on device %u",
				 ioasid ? "PASID" : "RID_PASID", data->hpasid,
				 t->devs[i]->obj.id);
			return -ENOENT;
		}
	}
	for (i = 0; i < t->nr; i++) {
		WARN_ON(ctx->ops->replace_gpasid(t->devs[i], data));
		atomic64_inc(&ctx->counters.binds);
	}
	return 0;
}

int __vsva_bind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
		       const struct vsva_gpasid_bind_data *data,
		       struct vsva_errmsg *err)
{
	unsigned int nth = vsva_test_fail_bind_nth();
	bool replace = flags & VSVA_BIND_REPLACE;
	u32 hpasid = data->hpasid;
	struct vsva_ioasid *ioasid;
	struct vsva_targets t;
	unsigned int i, done;
	int rc;

	mutex_lock(&ctx->lock);
	rc = vsva_targets_get(ctx, target_id, flags, "bind", true, &t, err);
	if (rc)
		goto out_unlock;
	/* VSVA_RID_PASID: requests without PASID, outside any IOASID set. */
	ioasid = hpasid == VSVA_RID_PASID ? NULL :
		 vsva_ioasid_find(ctx->set, hpasid);
	if (!ioasid && hpasid != VSVA_RID_PASID) {
		vsva_err(err, "bind: hpasid %u is not allocated in this context",
			 hpasid);
		rc = -ENOENT;
		goto out_put;
	}
	if (ioasid && (data->flags & VSVA_SVA_GPASID_VAL) &&
	    ioasid->gpasid_valid &&
	    data->gpasid != ioasid->gpasid) {
		vsva_err(err, "bind: gpasid %llu differs from gpasid %u recorded for PASID %u",
			 data->gpasid, ioasid->gpasid, hpasid);
		rc = -EINVAL;
		goto out_put;
	}
	if (!vsva_s2_mapped(t.dom, data->gpgd)) {
		vsva_err(err, "bind: gpgd 0x%llx is not inside a mapped stage-2 range of domain %u",
			 data->gpgd, t.dom->obj.id);
		rc = -EINVAL;
		goto out_put;
	}
	if (replace) {
		rc = vsva_replace_gpasid(ctx, &t, data, ioasid, err);
		goto out_put;
	}
	for (i = 0; i < t.nr; i++) {
		struct vsva_device *dev = t.devs[i];

		if (hpasid != VSVA_RID_PASID &&
		    !(dev->caps & VSVA_DEV_CAP_PASID)) {
			vsva_err(err, "bind: device %u has no PASID capability",
				 dev->obj.id);
			rc = -EINVAL;
			goto out_put;
		}
		if (xa_load(&dev->bound, hpasid)) {
			vsva_err(err, "bind: %s %u is already bound on device %u",
				 ioasid ? "PASID" : "RID_PASID", hpasid,
				 dev->obj.id);
			rc = -EBUSY;
			goto out_put;
		}
	}

	for (done = 0; done < t.nr; done++) {
		struct vsva_device *dev = t.devs[done];

		if (nth && done + 1 == nth) {
			vsva_err(err, "bind: injected failure on device %u (fail_bind_nth=%u)",
				 dev->obj.id, nth);
			rc = -ENOMEM;
			break;
		}
		rc = xa_insert(&dev->bound, hpasid, xa_mk_value(hpasid),
			       GFP_KERNEL_ACCOUNT);
		if (rc)
			break;
		rc = ctx->ops->bind_gpasid(dev, data, err);
		if (rc) {
			xa_erase(&dev->bound, hpasid);
			break;
		}
	}
	if (rc) {
		while (done--)
			vsva_bind_undo(ctx, t.devs[done], hpasid);
		goto out_put;
	}

	for (i = 0; i < t.nr; i++) {
		t.devs[i]->nr_bound++;
		atomic_inc(&ctx->nr_bindings);
		atomic64_inc(&ctx->counters.binds);
		/* IOASID events are about allocated PASIDs only. */
		if (!ioasid)
			continue;
		ioasid->nr_bound++;
		vsva_notify_dev(VSVA_IOASID_NOTIFY_BIND, t.devs[i], ioasid);
	}
out_put:
	vsva_targets_put(&t);
out_unlock:
	trace_vsva_bind(ctx->id, target_id, flags, hpasid, data->gpgd, t.nr,
			rc);
	mutex_unlock(&ctx->lock);
	return rc;
}

/* @ioasid is NULL for VSVA_RID_PASID. */
static void vsva_unbind_one(struct vsva_ctx *ctx, struct vsva_device *dev,
			    u32 hpasid, struct vsva_ioasid *ioasid)
{
	lockdep_assert_held(&ctx->lock);
	WARN_ON(ctx->ops->unbind_gpasid(dev, hpasid));
	xa_erase(&dev->bound, hpasid);
	dev->nr_bound--;
	atomic_dec(&ctx->nr_bindings);
	atomic64_inc(&ctx->counters.unbinds);
	if (!ioasid)
		return;
	ioasid->nr_bound--;
	vsva_notify_dev(VSVA_IOASID_NOTIFY_UNBIND, dev, ioasid);
}

void vsva_unbind_all(struct vsva_ctx *ctx, struct vsva_device *dev)
{
	unsigned long index;
	void *entry;

	lockdep_assert_held(&ctx->lock);
	xa_for_each(&dev->bound, index, entry) {
		struct vsva_ioasid *ioasid = NULL;

		if (index != VSVA_RID_PASID) {
			ioasid = vsva_ioasid_find(ctx->set, index);
			if (WARN_ON(!ioasid))
				continue;
		}
		vsva_unbind_one(ctx, dev, index, ioasid);
		/* A device may hold a million bindings: let others run. */
		cond_resched();
	}
}

int __vsva_unbind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			 u32 hpasid, bool strict, struct vsva_errmsg *err)
{
	struct vsva_ioasid *ioasid;
	struct vsva_targets t;
	unsigned int i;
	int rc;

	mutex_lock(&ctx->lock);
	rc = vsva_targets_get(ctx, target_id, flags, "unbind", true, &t, err);
	if (rc)
		goto out_unlock;
	ioasid = hpasid == VSVA_RID_PASID ? NULL :
		 vsva_ioasid_find(ctx->set, hpasid);
	if (!ioasid && hpasid != VSVA_RID_PASID) {
		vsva_err(err, "unbind: hpasid %u is not allocated in this context",
			 hpasid);
		rc = -ENOENT;
		goto out_put;
	}
	for (i = 0; strict && i < t.nr; i++) {
		if (!xa_load(&t.devs[i]->bound, hpasid)) {
			vsva_err(err, "unbind: PASID %u is not bound on device %u",
				 hpasid, t.devs[i]->obj.id);
			rc = -ENOENT;
			goto out_put;
		}
	}
	/*
	 * Not strict: a 5.11 VMM unbinds whenever the guest clears a PASID
	 * entry it shadowed, also one whose bind had failed; 5.11 VT-d
	 * answered 0 for an allocated PASID that was not bound.
	 */
	for (i = 0; i < t.nr; i++)
		if (xa_load(&t.devs[i]->bound, hpasid))
			vsva_unbind_one(ctx, t.devs[i], hpasid, ioasid);
out_put:
	vsva_targets_put(&t);
out_unlock:
	trace_vsva_unbind(ctx->id, target_id, flags, hpasid, 0, t.nr, rc);
	mutex_unlock(&ctx->lock);
	return rc;
}

/* Both granularities that name a PASID keep it at the same place. */
static_assert(offsetof(struct vsva_cache_invalidate_info, granu.pasid_info.pasid) ==
	      offsetof(struct vsva_cache_invalidate_info, granu.addr_info.pasid));

/* The PASID an invalidation names, or 0 for DOMAIN granularity. */
static u32 vsva_inv_pasid(const struct vsva_cache_invalidate_info *inv)
{
	if (inv->granularity == VSVA_INV_GRANU_PASID)
		return inv->granu.pasid_info.pasid;
	if (inv->granularity == VSVA_INV_GRANU_ADDR)
		return inv->granu.addr_info.pasid;
	return 0;
}

/*
 * How many entries from @inv[0] name PASIDs allocated in @ctx (or none:
 * DOMAIN granularity, RID_PASID); *@bad is the PASID of the first that
 * does not.  One lookup per run of entries naming the same PASID.
 */
static unsigned int
vsva_inv_pasids_ok(struct vsva_ctx *ctx,
		   const struct vsva_cache_invalidate_info *inv,
		   unsigned int n, u32 *bad)
{
	const struct vsva_cache_invalidate_info *e, *end = inv + n;
	u32 pasid, last = 0;

	for (e = inv; e < end; e++) {
		/*
		 * The usual entry names the PASID of the one before: the
		 * PASID field, where PASID and ADDR granularity both keep it,
		 * equal to @last needs no lookup (nor does DOMAIN granularity,
		 * whatever that field holds).
		 */
		if ((u32)e->granu.addr_info.pasid == last)
			continue;
		pasid = vsva_inv_pasid(e);
		if (!pasid)
			continue;
		if (!vsva_ioasid_find(ctx->set, pasid)) {
			*bad = pasid;
			break;
		}
		last = pasid;
	}
	return e - inv;
}

/*
 * Apply @n checked invalidations to @dom (all its devices, or @one), in
 * order; *@handled says how many.  The PASIDs are checked first (one
 * lookup per run of entries naming the same PASID), then the backend gets
 * every entry before the first bad one in one call: a batch stops at its
 * first failing entry, as if applied one by one, and the error (message
 * included) is that entry's.
 */
static int vsva_inv_apply(struct vsva_ctx *ctx, struct vsva_domain *dom,
			  struct vsva_device *one, u32 target_id, u32 flags,
			  const struct vsva_cache_invalidate_info *inv,
			  unsigned int n, unsigned int *handled,
			  struct vsva_errmsg *err)
{
	unsigned int i, ok, done = 0;
	u32 pasid = 0;
	int rc = 0;

	ok = vsva_inv_pasids_ok(ctx, inv, n, &pasid);
	if (ok && !vsva_test_skip_inv_backend())
		rc = ctx->ops->cache_invalidate(dom, one, inv, ok, flags, &done,
						err);
	else
		done = ok;
	if (!rc && done < n) {
		vsva_err(err, "invalidate: PASID %u is not allocated in this context",
			 pasid);
		rc = -ENOENT;
	}
	if (trace_vsva_invalidate_enabled()) {
		for (i = 0; i < done; i++)
			trace_vsva_invalidate(ctx->id, target_id, flags,
					      &inv[i], vsva_inv_pasid(&inv[i]),
					      0);
		if (rc && done < n)
			trace_vsva_invalidate(ctx->id, target_id, flags,
					      &inv[done],
					      vsva_inv_pasid(&inv[done]), rc);
	}
	atomic64_add(done, &ctx->counters.invalidations);
	*handled = done;
	return rc;
}

/*
 * Invalidations of one device from the ioctls run without ctx->lock, so
 * that two threads of a VMM invalidating two devices do not serialise on
 * the context (each cache still has its own lock, and the backend keeps
 * them ordered against emulated DMA).  The device is found under
 * vsva_obj_srcu: destroying it waits for this call to finish.  Only the
 * ioctls may: release() cannot run meanwhile (the call holds the file),
 * so it frees devices without waiting.
 */
static int vsva_inv_one_dev(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			    const struct vsva_cache_invalidate_info *inv,
			    unsigned int n, unsigned int *handled,
			    struct vsva_errmsg *err)
{
	struct vsva_device *dev;
	int idx, rc;

	idx = srcu_read_lock(&vsva_obj_srcu);
	dev = READ_ONCE(ctx->dead) ? NULL :
	      vsva_device_find_srcu(ctx, target_id);
	if (!dev) {
		if (READ_ONCE(ctx->dead)) {
			vsva_err(err, "invalidate: the context is being released");
		} else {
			vsva_err(err, "invalidate: no device %u in this context",
				 target_id);
		}
		rc = -ENOENT;
		if (n)
			trace_vsva_invalidate(ctx->id, target_id, flags, inv,
					      vsva_inv_pasid(inv), rc);
	} else {
		rc = vsva_inv_apply(ctx, dev->dom, dev, target_id, flags, inv,
				    n, handled, err);
	}
	srcu_read_unlock(&vsva_obj_srcu, idx);
	return rc;
}

/* Apply @n checked invalidations in order; *@handled says how many. */
int __vsva_cache_invalidate_n(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			      const struct vsva_cache_invalidate_info *inv,
			      unsigned int n, unsigned int *handled,
			      struct vsva_errmsg *err)
{
	struct vsva_targets t;
	int rc;

	*handled = 0;
	mutex_lock(&ctx->lock);
	rc = vsva_targets_get(ctx, target_id, flags, "invalidate", false, &t,
			      err);
	if (rc) {
		/* The first entry names the failure in the trace. */
		if (n)
			trace_vsva_invalidate(ctx->id, target_id, flags, inv,
					      vsva_inv_pasid(inv), rc);
		goto out_unlock;
	}
	rc = vsva_inv_apply(ctx, t.dom, t.one, target_id, flags, inv, n,
			    handled, err);
	vsva_targets_put(&t);
out_unlock:
	mutex_unlock(&ctx->lock);
	return rc;
}

/* The ioctls' entry: one device without ctx->lock, a domain with it. */
int __vsva_cache_invalidate_user(struct vsva_ctx *ctx, u32 target_id,
				 u32 flags,
				 const struct vsva_cache_invalidate_info *inv,
				 unsigned int n, unsigned int *handled,
				 struct vsva_errmsg *err)
{
	*handled = 0;
	if (flags & VSVA_TARGET_DOMAIN)
		return __vsva_cache_invalidate_n(ctx, target_id, flags, inv, n,
						 handled, err);
	return vsva_inv_one_dev(ctx, target_id, flags, inv, n, handled, err);
}

int __vsva_cache_invalidate(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			    const struct vsva_cache_invalidate_info *inv,
			    struct vsva_errmsg *err)
{
	unsigned int handled;

	return __vsva_cache_invalidate_n(ctx, target_id, flags, inv, 1,
					 &handled, err);
}

int __vsva_page_response(struct vsva_ctx *ctx, u32 dev_id,
			 const struct vsva_page_response *msg,
			 struct vsva_errmsg *err)
{
	struct vsva_targets t;
	int rc;

	mutex_lock(&ctx->lock);
	rc = vsva_targets_get(ctx, dev_id, 0, "page_response", true, &t, err);
	if (rc)
		goto out_unlock;
	if (!(t.one->enabled & VSVA_ATTACH_ENABLE_PRI)) {
		vsva_err(err, "page_response: device %u was attached without ENABLE_PRI",
			 dev_id);
		rc = -EINVAL;
		goto out_unlock;
	}
	if ((msg->flags & VSVA_PAGE_RESP_PASID_VALID) &&
	    !vsva_ioasid_find(ctx->set, msg->pasid)) {
		vsva_err(err, "page_response: PASID %u is not allocated in this context",
			 msg->pasid);
		rc = -ENOENT;
		goto out_unlock;
	}
	rc = ctx->ops->page_response(t.one, msg, err);
out_unlock:
	trace_vsva_page_response(ctx->id, dev_id, msg, rc);
	mutex_unlock(&ctx->lock);
	return rc;
}

/* Exported: the same operations, with the payload checks of the ioctls. */

int vsva_bind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
		     const struct vsva_gpasid_bind_data *data,
		     struct vsva_errmsg *err)
{
	int rc;

	vsva_assert_not_in_notifier();
	rc = vsva_check_bind_data(data, false, err);
	if (rc)
		return rc;
	if (flags & ~VSVA_TARGET_DOMAIN)
		return -EOPNOTSUPP;
	return __vsva_bind_gpasid(ctx, target_id, flags, data, err);
}
EXPORT_SYMBOL_GPL(vsva_bind_gpasid);

int vsva_unbind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
		       u32 hpasid, struct vsva_errmsg *err)
{
	vsva_assert_not_in_notifier();
	if (flags & ~VSVA_TARGET_DOMAIN)
		return -EOPNOTSUPP;
	if (!hpasid || hpasid > VSVA_PASID_MAX) {
		vsva_err(err, "unbind: hpasid %u is outside [1, %u]", hpasid,
			 VSVA_PASID_MAX);
		return -EINVAL;
	}
	return __vsva_unbind_gpasid(ctx, target_id, flags, hpasid, true, err);
}
EXPORT_SYMBOL_GPL(vsva_unbind_gpasid);

int vsva_cache_invalidate(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			  const struct vsva_cache_invalidate_info *inv,
			  struct vsva_errmsg *err)
{
	int rc;

	vsva_assert_not_in_notifier();
	rc = vsva_check_inv_info(inv, false, err);
	if (rc)
		return rc;
	if (flags & ~(VSVA_TARGET_DOMAIN | VSVA_INV_SEPARATE_DEVTLB))
		return -EOPNOTSUPP;
	return __vsva_cache_invalidate(ctx, target_id, flags, inv, err);
}
EXPORT_SYMBOL_GPL(vsva_cache_invalidate);

int vsva_page_response(struct vsva_ctx *ctx, u32 dev_id,
		       const struct vsva_page_response *msg,
		       struct vsva_errmsg *err)
{
	int rc;

	vsva_assert_not_in_notifier();
	rc = vsva_check_page_resp(msg, err);
	if (rc)
		return rc;
	return __vsva_page_response(ctx, dev_id, msg, err);
}
EXPORT_SYMBOL_GPL(vsva_page_response);

struct vsva_ioasid_set *vsva_ctx_ioasid_set(struct vsva_ctx *ctx)
{
	return ctx->set;
}
EXPORT_SYMBOL_GPL(vsva_ctx_ioasid_set);

u32 vsva_ctx_id(struct vsva_ctx *ctx)
{
	return ctx->id;
}
EXPORT_SYMBOL_GPL(vsva_ctx_id);
