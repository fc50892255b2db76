// SPDX-License-Identifier: GPL-2.0
/*
 * IOASID sets: the system-wide PASID space shared by every context, one set
 * per context with a quota, an owner token, a guest -> host PASID map and
 * refcounted PASIDs, and the notifier chain for in-kernel consumers.
 *
 * PASIDs are allocated cyclically: a number freed is the last to be handed
 * out again, so a consumer acting late on a FREE does not hit the next VM.
 * Each PASID also counts against its user's vsva.max_user_pasids.
 * Allocation is two-step: reserve (the number, quota and user charge are
 * taken, nobody can find it), then commit (findable, ALLOC notified) or
 * abort (as if nothing happened).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <vsva/kapi.h>

#include "account.h"
#include "ioasid.h"
#include "vsva_priv.h"

unsigned int vsva_pasid_quota = 65536;
module_param_named(pasid_quota, vsva_pasid_quota, uint, 0644);
MODULE_PARM_DESC(pasid_quota,
		 "PASIDs one context may hold (read when the context opens)");

/*
 * vsva_ioasid_lock protects vsva_ioasids (insertion, removal),
 * vsva_pasid_next, every set's @ids, @spids and @nr, and each PASID's
 * @freed/@set.  Nests inside a context's lock; no notifier is called
 * under it.
 */
static DEFINE_MUTEX(vsva_ioasid_lock);
/* PASID -> struct vsva_ioasid, system-wide; PASID 0 is never allocated. */
static DEFINE_XARRAY_ALLOC(vsva_ioasids);
/* Where the next PASID search starts (cyclic allocation). */
static u32 vsva_pasid_next = 1;
/* Set id -> set, ids cyclic from 1. */
static DEFINE_XARRAY_ALLOC1(vsva_sets);
static u32 vsva_set_next;
static atomic_t vsva_nr_ioasids = ATOMIC_INIT(0);
static BLOCKING_NOTIFIER_HEAD(vsva_ioasid_chain);

/*
 * Held (for lockdep only) while the chain runs: the kernel-internal API
 * asserts it is not, so a callback calling back into vsva -- which could
 * deadlock on the context lock its caller holds, or take another context's
 * lock under it (ABBA) -- is reported the first time it happens.
 */
#ifdef CONFIG_LOCKDEP
static struct lock_class_key vsva_notifier_key;
static struct lockdep_map vsva_notifier_map =
	STATIC_LOCKDEP_MAP_INIT("vsva_ioasid_notifier", &vsva_notifier_key);
#endif

void vsva_assert_not_in_notifier(void)
{
#ifdef CONFIG_LOCKDEP
	WARN_ONCE(lock_is_held(&vsva_notifier_map),
		  "vsva: kernel-internal API called from an IOASID notifier callback");
#endif
}

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

/*
 * The chain runs with the owning context's lock held (so events of one
 * context are delivered in order) and never under vsva_ioasid_lock.
 */
void vsva_ioasid_notify(struct vsva_ioasid_set *set, unsigned long action,
			struct vsva_ioasid_event *ev)
{
	lockdep_assert_held(set->owner_lock);
	lockdep_assert_not_held(&vsva_ioasid_lock);
#ifdef CONFIG_LOCKDEP
	lock_map_acquire(&vsva_notifier_map);
#endif
	blocking_notifier_call_chain(&vsva_ioasid_chain, action, ev);
#ifdef CONFIG_LOCKDEP
	lock_map_release(&vsva_notifier_map);
#endif
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

struct vsva_ioasid_set *vsva_ioasid_set_alloc(const void *token, u32 ctx_id,
					      struct mutex *owner_lock)
{
	struct vsva_ioasid_set *set;
	int rc;

	set = kzalloc(sizeof(*set), GFP_KERNEL_ACCOUNT);
	if (!set)
		return NULL;
	set->user = vsva_user_get();
	if (!set->user)
		goto out_free;
	rc = xa_alloc_cyclic(&vsva_sets, &set->id, set, xa_limit_31b,
			     &vsva_set_next, GFP_KERNEL_ACCOUNT);
	if (rc < 0)
		goto out_user;
	set->token = token;
	set->ctx_id = ctx_id;
	set->owner_lock = owner_lock;
	set->quota = READ_ONCE(vsva_pasid_quota);
	xa_init(&set->ids);
	xa_init(&set->spids);
	return set;

out_user:
	vsva_user_put(set->user);
out_free:
	kfree(set);
	return NULL;
}

void vsva_ioasid_set_free(struct vsva_ioasid_set *set)
{
	if (!set)
		return;
	WARN_ON(set->nr || !xa_empty(&set->ids));
	xa_destroy(&set->ids);
	xa_destroy(&set->spids);
	xa_erase(&vsva_sets, set->id);
	vsva_user_put(set->user);
	kfree(set);
}

static void vsva_ioasid_release(struct vsva_ioasid *ioasid)
{
	lockdep_assert_held(&vsva_ioasid_lock);
	xa_erase(&vsva_ioasids, ioasid->id);
	atomic_dec(&vsva_nr_ioasids);
	kfree(ioasid);
}

void vsva_ioasid_put(struct vsva_ioasid *ioasid)
{
	vsva_assert_not_in_notifier();
	mutex_lock(&vsva_ioasid_lock);
	if (refcount_dec_and_test(&ioasid->refs))
		vsva_ioasid_release(ioasid);
	mutex_unlock(&vsva_ioasid_lock);
}
EXPORT_SYMBOL_GPL(vsva_ioasid_put);

struct vsva_ioasid *vsva_ioasid_get(struct vsva_ioasid_set *set, u32 pasid)
{
	struct vsva_ioasid *ioasid;

	vsva_assert_not_in_notifier();
	mutex_lock(&vsva_ioasid_lock);
	ioasid = xa_load(&set->ids, pasid);
	if (ioasid && !ioasid->freed)
		refcount_inc(&ioasid->refs);
	else
		ioasid = ERR_PTR(-ENOENT);
	mutex_unlock(&vsva_ioasid_lock);
	return ioasid;
}
EXPORT_SYMBOL_GPL(vsva_ioasid_get);

u32 vsva_ioasid_pasid(const struct vsva_ioasid *ioasid)
{
	return ioasid->id;
}
EXPORT_SYMBOL_GPL(vsva_ioasid_pasid);

int vsva_ioasid_find_by_gpasid(struct vsva_ioasid_set *set, u32 gpasid,
			       u32 *hpasid)
{
	struct vsva_ioasid *ioasid;
	int rc = -ENOENT;

	vsva_assert_not_in_notifier();
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

/* A free number in [min, max], from vsva_pasid_next on, wrapping once. */
static int vsva_pasid_take(struct vsva_ioasid *ioasid, u32 min, u32 max)
{
	u32 start = vsva_pasid_next, id;
	int rc;

	lockdep_assert_held(&vsva_ioasid_lock);
	if (start < min || start > max)
		start = min;
	rc = xa_alloc(&vsva_ioasids, &id, ioasid, XA_LIMIT(start, max),
		      GFP_KERNEL_ACCOUNT);
	if (rc == -EBUSY && start > min)
		rc = xa_alloc(&vsva_ioasids, &id, ioasid,
			      XA_LIMIT(min, start - 1), GFP_KERNEL_ACCOUNT);
	if (rc)
		return rc;
	ioasid->id = id;
	vsva_pasid_next = id == VSVA_PASID_MAX ? 1 : id + 1;
	return 0;
}

struct vsva_ioasid *vsva_ioasid_reserve(struct vsva_ioasid_set *set,
					u32 min, u32 max, bool gpasid_valid,
					u32 gpasid, struct vsva_errmsg *err)
{
	struct vsva_ioasid *ioasid;
	int rc;

	if (!min)
		min = 1;
	if (!max)
		max = VSVA_PASID_MAX;
	if (max > VSVA_PASID_MAX) {
		vsva_err(err, "pasid_alloc: max %u exceeds the %u-bit PASID space (largest %u)",
			 max, VSVA_PASID_BITS, VSVA_PASID_MAX);
		return ERR_PTR(-EINVAL);
	}
	if (min > max) {
		vsva_err(err, "pasid_alloc: min %u is above max %u", min, max);
		return ERR_PTR(-EINVAL);
	}
	if (gpasid_valid && gpasid > VSVA_PASID_MAX) {
		vsva_err(err, "pasid_alloc: gpasid %u exceeds the %u-bit PASID space",
			 gpasid, VSVA_PASID_BITS);
		return ERR_PTR(-EINVAL);
	}

	ioasid = kzalloc(sizeof(*ioasid), GFP_KERNEL_ACCOUNT);
	if (!ioasid)
		return ERR_PTR(-ENOMEM);
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
	rc = vsva_user_charge_pasid(set->user, err);
	if (rc)
		goto out_unlock;
	if (gpasid_valid) {
		/* A reserved slot: busy for others, invisible to lookups. */
		rc = xa_insert(&set->spids, gpasid, NULL, GFP_KERNEL_ACCOUNT);
		if (rc == -EBUSY)
			vsva_err(err, "pasid_alloc: gpasid %u is already mapped in this context",
				 gpasid);
		if (rc)
			goto out_uncharge;
	}
	rc = vsva_pasid_take(ioasid, min, max);
	if (rc == -EBUSY) {
		vsva_err(err, "pasid_alloc: no free PASID in [%u, %u]", min, max);
		rc = -ENOSPC;
	}
	if (rc)
		goto out_spid;
	rc = xa_insert(&set->ids, ioasid->id, NULL, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_global;
	set->nr++;
	mutex_unlock(&vsva_ioasid_lock);
	return ioasid;

out_global:
	xa_erase(&vsva_ioasids, ioasid->id);
out_spid:
	if (gpasid_valid)
		xa_erase(&set->spids, gpasid);
out_uncharge:
	vsva_user_uncharge_pasid(set->user);
out_unlock:
	mutex_unlock(&vsva_ioasid_lock);
	kfree(ioasid);
	return ERR_PTR(rc);
}

void vsva_ioasid_commit(struct vsva_ioasid *ioasid)
{
	struct vsva_ioasid_set *set = ioasid->set;
	struct vsva_ioasid_event ev;

	lockdep_assert_held(set->owner_lock);
	mutex_lock(&vsva_ioasid_lock);
	/* Both slots are reserved: storing allocates nothing, cannot fail. */
	WARN_ON(xa_err(xa_store(&set->ids, ioasid->id, ioasid, GFP_KERNEL)));
	if (ioasid->gpasid_valid)
		WARN_ON(xa_err(xa_store(&set->spids, ioasid->gpasid, ioasid,
					GFP_KERNEL)));
	atomic_inc(&vsva_nr_ioasids);
	mutex_unlock(&vsva_ioasid_lock);

	vsva_ioasid_event_fill(&ev, ioasid);
	vsva_ioasid_notify(set, VSVA_IOASID_NOTIFY_ALLOC, &ev);
}

void vsva_ioasid_abort(struct vsva_ioasid *ioasid)
{
	struct vsva_ioasid_set *set = ioasid->set;

	mutex_lock(&vsva_ioasid_lock);
	xa_erase(&set->ids, ioasid->id);
	if (ioasid->gpasid_valid)
		xa_erase(&set->spids, ioasid->gpasid);
	xa_erase(&vsva_ioasids, ioasid->id);
	set->nr--;
	vsva_user_uncharge_pasid(set->user);
	mutex_unlock(&vsva_ioasid_lock);
	kfree(ioasid);
}

int vsva_ioasid_alloc(struct vsva_ioasid_set *set, u32 min, u32 max,
		      bool gpasid_valid, u32 gpasid, u32 *out,
		      struct vsva_errmsg *err)
{
	struct vsva_ioasid *ioasid;

	ioasid = vsva_ioasid_reserve(set, min, max, gpasid_valid, gpasid, err);
	if (IS_ERR(ioasid))
		return PTR_ERR(ioasid);
	*out = ioasid->id;
	vsva_ioasid_commit(ioasid);
	return 0;
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
	vsva_user_uncharge_pasid(set->user);
	ioasid->freed = true;
}

/*
 * The number stays taken (the set's reference) until the FREE event was
 * delivered: no consumer sees it allocated again before that.
 */
static void vsva_ioasid_free_one(struct vsva_ioasid *ioasid)
{
	struct vsva_ioasid_set *set = ioasid->set;
	struct vsva_ioasid_event ev;

	vsva_ioasid_event_fill(&ev, ioasid);
	mutex_lock(&vsva_ioasid_lock);
	vsva_ioasid_unlink(ioasid);
	ioasid->set = NULL;
	mutex_unlock(&vsva_ioasid_lock);
	vsva_ioasid_notify(set, VSVA_IOASID_NOTIFY_FREE, &ev);
	mutex_lock(&vsva_ioasid_lock);
	if (refcount_dec_and_test(&ioasid->refs))
		vsva_ioasid_release(ioasid);
	mutex_unlock(&vsva_ioasid_lock);
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
		/* A set holds up to its quota of PASIDs: let others run. */
		cond_resched();
	}
}

void vsva_ioasid_set_show(struct seq_file *s, struct vsva_ioasid_set *set)
{
	struct vsva_ioasid *ioasid;
	unsigned int shown = 0;
	unsigned long index;

	seq_printf(s, "set: %u quota %u pasids %u\n", set->id, set->quota,
		   set->nr);
	seq_printf(s, "user: uid %u pasids %u limit %u\n",
		   vsva_user_uid(set->user), vsva_user_pasids(set->user),
		   READ_ONCE(vsva_max_user_pasids));
	xa_for_each(&set->ids, index, ioasid) {
		if (shown++ == VSVA_DEBUGFS_LIST_MAX) {
			seq_printf(s, "  ... %u more\n", set->nr - VSVA_DEBUGFS_LIST_MAX);
			break;
		}
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
	WARN_ON(!xa_empty(&vsva_sets));
	xa_destroy(&vsva_sets);
	vsva_account_exit();
}
