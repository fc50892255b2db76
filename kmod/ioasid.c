// SPDX-License-Identifier: GPL-2.0
/*
 * IOASID sets: the system-wide PASID space shared by every context, one set
 * per context with a quota, an owner token, a guest -> host PASID map and
 * refcounted PASIDs, and the notifier chain for in-kernel consumers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <vsva/kapi.h>

#include "ioasid.h"
#include "vsva_priv.h"

unsigned int vsva_pasid_quota = 65536;
module_param_named(pasid_quota, vsva_pasid_quota, uint, 0644);
MODULE_PARM_DESC(pasid_quota,
		 "PASIDs one context may hold (read when the context opens)");

/*
 * vsva_ioasid_lock protects vsva_ioasids (insertion, removal), every set's
 * @ids, @spids and @nr, and each PASID's @freed/@set.  Nests inside a
 * context's lock; no notifier is called under it.
 */
static DEFINE_MUTEX(vsva_ioasid_lock);
/* PASID -> struct vsva_ioasid, system-wide; PASID 0 is never allocated. */
static DEFINE_XARRAY_ALLOC(vsva_ioasids);
static DEFINE_IDA(vsva_set_ida);
static atomic_t vsva_nr_ioasids = ATOMIC_INIT(0);
static BLOCKING_NOTIFIER_HEAD(vsva_ioasid_chain);

int vsva_ioasid_register_notifier(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&vsva_ioasid_chain, nb);
}
EXPORT_SYMBOL_GPL(vsva_ioasid_register_notifier);

void vsva_ioasid_unregister_notifier(struct notifier_block *nb)
{
	blocking_notifier_chain_unregister(&vsva_ioasid_chain, nb);
}
EXPORT_SYMBOL_GPL(vsva_ioasid_unregister_notifier);

void vsva_ioasid_notify(unsigned long action, struct vsva_ioasid_event *ev)
{
	blocking_notifier_call_chain(&vsva_ioasid_chain, action, ev);
}

void vsva_ioasid_event_fill(struct vsva_ioasid_event *ev,
			    struct vsva_ioasid *ioasid)
{
	memset(ev, 0, sizeof(*ev));
	ev->pasid = ioasid->id;
	ev->gpasid = ioasid->gpasid;
	ev->gpasid_valid = ioasid->gpasid_valid;
	if (ioasid->set) {
		ev->set_id = ioasid->set->id;
		ev->ctx_id = ioasid->set->ctx_id;
	}
}

u32 vsva_ioasid_global_count(void)
{
	return atomic_read(&vsva_nr_ioasids);
}

struct vsva_ioasid_set *vsva_ioasid_set_alloc(const void *token, u32 ctx_id)
{
	struct vsva_ioasid_set *set;
	int id;

	set = kzalloc(sizeof(*set), GFP_KERNEL);
	if (!set)
		return NULL;
	id = ida_alloc_min(&vsva_set_ida, 1, GFP_KERNEL);
	if (id < 0) {
		kfree(set);
		return NULL;
	}
	set->id = id;
	set->token = token;
	set->ctx_id = ctx_id;
	set->quota = READ_ONCE(vsva_pasid_quota);
	xa_init(&set->ids);
	xa_init(&set->spids);
	return set;
}

void vsva_ioasid_set_free(struct vsva_ioasid_set *set)
{
	if (!set)
		return;
	WARN_ON(set->nr || !xa_empty(&set->ids));
	xa_destroy(&set->ids);
	xa_destroy(&set->spids);
	ida_free(&vsva_set_ida, set->id);
	kfree(set);
}

static void vsva_ioasid_release(struct vsva_ioasid *ioasid)
{
	xa_erase(&vsva_ioasids, ioasid->id);
	atomic_dec(&vsva_nr_ioasids);
	kfree(ioasid);
}

void vsva_ioasid_put(u32 pasid)
{
	struct vsva_ioasid *ioasid;

	mutex_lock(&vsva_ioasid_lock);
	ioasid = xa_load(&vsva_ioasids, pasid);
	if (!WARN_ON(!ioasid) && refcount_dec_and_test(&ioasid->refs))
		vsva_ioasid_release(ioasid);
	mutex_unlock(&vsva_ioasid_lock);
}
EXPORT_SYMBOL_GPL(vsva_ioasid_put);

int vsva_ioasid_get(struct vsva_ioasid_set *set, u32 pasid)
{
	struct vsva_ioasid *ioasid;
	int rc = -ENOENT;

	mutex_lock(&vsva_ioasid_lock);
	ioasid = xa_load(&set->ids, pasid);
	if (ioasid && !ioasid->freed) {
		refcount_inc(&ioasid->refs);
		rc = 0;
	}
	mutex_unlock(&vsva_ioasid_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(vsva_ioasid_get);

int vsva_ioasid_find_by_gpasid(struct vsva_ioasid_set *set, u32 gpasid,
			       u32 *hpasid)
{
	struct vsva_ioasid *ioasid;
	int rc = -ENOENT;

	mutex_lock(&vsva_ioasid_lock);
	ioasid = xa_load(&set->spids, gpasid);
	if (ioasid) {
		*hpasid = ioasid->id;
		rc = 0;
	}
	mutex_unlock(&vsva_ioasid_lock);
	return rc;
}
EXPORT_SYMBOL_GPL(vsva_ioasid_find_by_gpasid);

u32 vsva_ioasid_set_id(struct vsva_ioasid_set *set)
{
	return set->id;
}
EXPORT_SYMBOL_GPL(vsva_ioasid_set_id);

struct vsva_ioasid *vsva_ioasid_find(struct vsva_ioasid_set *set, u32 id)
{
	return xa_load(&set->ids, id);
}

int vsva_ioasid_alloc(struct vsva_ioasid_set *set, u32 min, u32 max,
		      bool gpasid_valid, u32 gpasid, u32 *out,
		      struct vsva_errmsg *err)
{
	struct vsva_ioasid_event ev;
	struct vsva_ioasid *ioasid;
	u32 id;
	int rc;

	if (!min)
		min = 1;
	if (!max)
		max = VSVA_PASID_MAX;
	if (max > VSVA_PASID_MAX) {
		vsva_err(err, "pasid_alloc: max %u exceeds the %u-bit PASID space (largest %u)",
			 max, VSVA_PASID_BITS, VSVA_PASID_MAX);
		return -EINVAL;
	}
	if (min > max) {
		vsva_err(err, "pasid_alloc: min %u is above max %u", min, max);
		return -EINVAL;
	}
	if (gpasid_valid && gpasid > VSVA_PASID_MAX) {
		vsva_err(err, "pasid_alloc: gpasid %u exceeds the %u-bit PASID space",
			 gpasid, VSVA_PASID_BITS);
		return -EINVAL;
	}

	ioasid = kzalloc(sizeof(*ioasid), GFP_KERNEL_ACCOUNT);
	if (!ioasid)
		return -ENOMEM;
	refcount_set(&ioasid->refs, 1);
	ioasid->gpasid = gpasid_valid ? gpasid : 0;
	ioasid->gpasid_valid = gpasid_valid;
	ioasid->set = set;

	mutex_lock(&vsva_ioasid_lock);
	if (set->nr >= set->quota) {
		vsva_err(err, "pasid_alloc: quota of %u PASIDs reached", set->quota);
		rc = -ENOSPC;
		goto out_unlock;
	}
	if (gpasid_valid && xa_load(&set->spids, gpasid)) {
		vsva_err(err, "pasid_alloc: gpasid %u is already mapped in this context",
			 gpasid);
		rc = -EBUSY;
		goto out_unlock;
	}
	rc = xa_alloc(&vsva_ioasids, &id, ioasid, XA_LIMIT(min, max),
		      GFP_KERNEL_ACCOUNT);
	if (rc == -EBUSY) {
		vsva_err(err, "pasid_alloc: no free PASID in [%u, %u]", min, max);
		rc = -ENOSPC;
	}
	if (rc)
		goto out_unlock;
	ioasid->id = id;
	rc = xa_insert(&set->ids, id, ioasid, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_global;
	if (gpasid_valid) {
		rc = xa_insert(&set->spids, gpasid, ioasid, GFP_KERNEL_ACCOUNT);
		if (rc)
			goto out_set;
	}
	set->nr++;
	atomic_inc(&vsva_nr_ioasids);
	mutex_unlock(&vsva_ioasid_lock);

	*out = id;
	vsva_ioasid_event_fill(&ev, ioasid);
	vsva_ioasid_notify(VSVA_IOASID_NOTIFY_ALLOC, &ev);
	return 0;

out_set:
	xa_erase(&set->ids, id);
out_global:
	xa_erase(&vsva_ioasids, id);
out_unlock:
	mutex_unlock(&vsva_ioasid_lock);
	kfree(ioasid);
	return rc;
}

/* Unlink @ioasid from its set; the caller notifies FREE, then puts. */
static void vsva_ioasid_unlink(struct vsva_ioasid *ioasid)
{
	struct vsva_ioasid_set *set = ioasid->set;

	lockdep_assert_held(&vsva_ioasid_lock);
	xa_erase(&set->ids, ioasid->id);
	if (ioasid->gpasid_valid)
		xa_erase(&set->spids, ioasid->gpasid);
	set->nr--;
	ioasid->freed = true;
}

static void vsva_ioasid_free_one(struct vsva_ioasid *ioasid)
{
	struct vsva_ioasid_event ev;
	u32 id = ioasid->id;

	vsva_ioasid_event_fill(&ev, ioasid);
	mutex_lock(&vsva_ioasid_lock);
	vsva_ioasid_unlink(ioasid);
	ioasid->set = NULL;
	mutex_unlock(&vsva_ioasid_lock);
	vsva_ioasid_notify(VSVA_IOASID_NOTIFY_FREE, &ev);
	vsva_ioasid_put(id);
}

int vsva_ioasid_free(struct vsva_ioasid_set *set, u32 id,
		     struct vsva_errmsg *err)
{
	struct vsva_ioasid *ioasid = vsva_ioasid_find(set, id);

	if (!ioasid) {
		vsva_err(err, "pasid_free: PASID %u is not allocated in this context",
			 id);
		return -ENOENT;
	}
	if (ioasid->nr_bound) {
		vsva_err(err, "pasid_free: PASID %u is still bound on %u device(s)",
			 id, ioasid->nr_bound);
		return -EBUSY;
	}
	vsva_ioasid_free_one(ioasid);
	return 0;
}

void vsva_ioasid_set_empty(struct vsva_ioasid_set *set)
{
	struct vsva_ioasid *ioasid;
	unsigned long index;

	xa_for_each(&set->ids, index, ioasid) {
		WARN_ON(ioasid->nr_bound);
		vsva_ioasid_free_one(ioasid);
	}
}

void vsva_ioasid_set_show(struct seq_file *s, struct vsva_ioasid_set *set)
{
	struct vsva_ioasid *ioasid;
	unsigned long index;

	seq_printf(s, "set: %u quota %u pasids %u\n", set->id, set->quota,
		   set->nr);
	xa_for_each(&set->ids, index, ioasid) {
		seq_printf(s, "  pasid %u refs %u bound %u", ioasid->id,
			   refcount_read(&ioasid->refs), ioasid->nr_bound);
		if (ioasid->gpasid_valid)
			seq_printf(s, " gpasid %u", ioasid->gpasid);
		seq_putc(s, '\n');
	}
}

int vsva_ioasid_init(void)
{
	return 0;
}

void vsva_ioasid_exit(void)
{
	WARN_ON(!xa_empty(&vsva_ioasids));
	xa_destroy(&vsva_ioasids);
	ida_destroy(&vsva_set_ida);
}
