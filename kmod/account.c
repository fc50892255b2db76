// SPDX-License-Identifier: GPL-2.0
/*
 * Per-user accounting.  /dev/vsva is opened by unprivileged VMMs, so what
 * one of them takes is charged to its user, not to its context or its mm:
 * a user cannot escape a limit by opening more contexts, by execve() or by
 * fork() + exit().
 *
 * - PASIDs: at most vsva.max_user_pasids per user, over all its contexts
 *   (the per-context vsva.pasid_quota still applies on top).
 * - Pinned pages: charged to the user's RLIMIT_MEMLOCK budget, the
 *   user_struct's locked_vm that io_uring, VFIO and iommufd charge too.
 *   A kernel built without that field gets a counter of our own per user.
 *
 * A user is its real uid (as RLIMIT_NPROC and user_struct), taken from
 * the task that opens the context or maps the memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <vsva/kapi.h>

#include "account.h"
#include "compat.h"

unsigned int vsva_max_user_pasids = 65536;
module_param_named(max_user_pasids, vsva_max_user_pasids, uint, 0644);
MODULE_PARM_DESC(max_user_pasids,
		 "PASIDs one user may hold over all of its contexts (default 65536)");

/* vsva_users_lock: vsva_users and each vsva_user's @refs reaching zero. */
static DEFINE_MUTEX(vsva_users_lock);
/* uid (init namespace) -> struct vsva_user. */
static DEFINE_XARRAY(vsva_users);

/**
 * struct vsva_user - what one user holds
 * @uid: the user
 * @refs: contexts and mappings charged to it
 * @pasids: PASIDs it holds
 * @user: its user_struct (get_uid()), whose locked_vm is charged
 * @locked_vm: the charge, when user_struct has no locked_vm
 */
struct vsva_user {
	kuid_t uid;
	refcount_t refs;
	atomic_t pasids;
	struct user_struct *user;
#ifndef VSVA_HAVE_USER_LOCKED_VM
	atomic_long_t locked_vm;
#endif
};

static atomic_long_t *vsva_user_locked(struct vsva_user *u)
{
#ifdef VSVA_HAVE_USER_LOCKED_VM
	return &u->user->locked_vm;
#else
	return &u->locked_vm;
#endif
}

struct vsva_user *vsva_user_get(void)
{
	kuid_t uid = current_uid();
	unsigned long key = __kuid_val(uid);
	struct vsva_user *u;

	mutex_lock(&vsva_users_lock);
	u = xa_load(&vsva_users, key);
	if (u) {
		refcount_inc(&u->refs);
		goto out;
	}
	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		goto out;
	u->uid = uid;
	refcount_set(&u->refs, 1);
	atomic_set(&u->pasids, 0);
	u->user = get_uid(current_user());
	if (xa_err(xa_store(&vsva_users, key, u, GFP_KERNEL_ACCOUNT))) {
		free_uid(u->user);
		kfree(u);
		u = NULL;
	}
out:
	mutex_unlock(&vsva_users_lock);
	return u;
}

void vsva_user_ref(struct vsva_user *u)
{
	refcount_inc(&u->refs);
}

void vsva_user_put(struct vsva_user *u)
{
	if (!u)
		return;
	mutex_lock(&vsva_users_lock);
	if (!refcount_dec_and_test(&u->refs)) {
		mutex_unlock(&vsva_users_lock);
		return;
	}
	xa_erase(&vsva_users, __kuid_val(u->uid));
	mutex_unlock(&vsva_users_lock);
	WARN_ON(atomic_read(&u->pasids));
	free_uid(u->user);
	kfree(u);
}

uid_t vsva_user_uid(const struct vsva_user *u)
{
	return from_kuid_munged(&init_user_ns, u->uid);
}

unsigned int vsva_user_pasids(const struct vsva_user *u)
{
	return atomic_read(&u->pasids);
}

int vsva_user_charge_pasid(struct vsva_user *u, struct vsva_errmsg *err)
{
	unsigned int max = READ_ONCE(vsva_max_user_pasids);

	if (atomic_add_unless(&u->pasids, 1, max))
		return 0;
	vsva_err(err, "pasid_alloc: uid %u holds %u PASIDs, the per-user limit (vsva.max_user_pasids)",
		 vsva_user_uid(u), max);
	return -ENOSPC;
}

void vsva_user_uncharge_pasid(struct vsva_user *u)
{
	WARN_ON(atomic_dec_return(&u->pasids) < 0);
}

/*
 * Charge @npages against @limit pages (unless @unlimited): nothing is
 * changed when the total would exceed it.
 */
int vsva_user_charge_locked(struct vsva_user *u, unsigned long npages,
			    unsigned long limit, bool unlimited)
{
	atomic_long_t *locked = vsva_user_locked(u);
	unsigned long cur, new;

	do {
		cur = atomic_long_read(locked);
		new = cur + npages;
		if (new < cur || (!unlimited && new > limit))
			return -ENOMEM;
	} while (atomic_long_cmpxchg(locked, cur, new) != cur);
	return 0;
}

void vsva_user_uncharge_locked(struct vsva_user *u, unsigned long npages)
{
	WARN_ON(atomic_long_sub_return(npages, vsva_user_locked(u)) < 0);
}

unsigned long vsva_user_locked_pages(struct vsva_user *u)
{
	return atomic_long_read(vsva_user_locked(u));
}

void vsva_account_exit(void)
{
	WARN_ON(!xa_empty(&vsva_users));
	xa_destroy(&vsva_users);
}
