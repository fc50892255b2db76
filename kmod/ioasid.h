/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IOASID sets: one system-wide 20-bit PASID space (PASID 0 reserved,
 * numbers handed out cyclically), one set per context with a quota, an
 * owner token, a guest -> host PASID map, refcounted PASIDs charged to the
 * owner's user, and a notifier chain (see include/vsva/kapi.h).
 */
#ifndef _VSVA_IOASID_H
#define _VSVA_IOASID_H

#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct mutex;
struct seq_file;
struct vsva_errmsg;
struct vsva_ioasid_event;
struct vsva_user;

/**
 * struct vsva_ioasid - one allocated PASID
 * @id: the PASID
 * @gpasid: the guest PASID, when @gpasid_valid
 * @gpasid_valid: a guest PASID is recorded
 * @freed: freed by its set; kept only by references (vsva_ioasid_lock)
 * @refs: the set's reference plus vsva_ioasid_get()s
 * @set: the owning set, NULL once freed
 * @nr_bound: devices it is bound on (the owner's ctx->lock)
 */
struct vsva_ioasid {
	u32 id;
	u32 gpasid;
	bool gpasid_valid;
	bool freed;
	refcount_t refs;
	struct vsva_ioasid_set *set;
	unsigned int nr_bound;
};

/**
 * struct vsva_ioasid_set - one context's PASIDs
 * @id: system-wide set id
 * @token: the owner (its context); lookups with another owner fail
 * @ctx_id: the owner context's id, for notifications
 * @owner_lock: the owner context's lock: held for every change and event
 * @user: the user that opened the context, charged for its PASIDs
 * @quota: PASIDs this set may hold (vsva.pasid_quota at creation)
 * @nr: PASIDs it holds (reserved or committed)
 * @ids: host PASID -> struct vsva_ioasid
 * @spids: guest PASID -> struct vsva_ioasid
 */
struct vsva_ioasid_set {
	u32 id;
	const void *token;
	u32 ctx_id;
	struct mutex *owner_lock;	/* the owner's, see @owner_lock */
	struct vsva_user *user;
	u32 quota;
	u32 nr;
	struct xarray ids;
	struct xarray spids;
};

extern unsigned int vsva_pasid_quota;

int vsva_ioasid_init(void);
void vsva_ioasid_exit(void);
/* The calling task's user is charged for the set's PASIDs. */
struct vsva_ioasid_set *vsva_ioasid_set_alloc(const void *token, u32 ctx_id,
					      struct mutex *owner_lock /* ctx */);
/* Frees every PASID left in @set (FREE notifications). */
void vsva_ioasid_set_empty(struct vsva_ioasid_set *set);
/* Frees the (empty) set itself, when its context is freed. */
void vsva_ioasid_set_free(struct vsva_ioasid_set *set);

/*
 * Two-step allocation, for a command that must return the number before
 * the PASID exists for anybody:
 *   vsva_ioasid_reserve()  takes a number (cyclically), the set's quota and
 *                          the user's charge, and the guest PASID; nothing
 *                          finds it (vsva_ioasid_find(), _get(),
 *                          _find_by_gpasid()) and no event is sent.
 *                          ERR_PTR(-EINVAL/-ENOSPC/-EBUSY/-ENOMEM) and @err.
 *   ->id                   the number, to copy to user space.
 *   vsva_ioasid_commit()   publishes it and notifies ALLOC; cannot fail.
 *   vsva_ioasid_abort()    gives everything back; no event.
 * Call all three with the owner's lock (set->owner_lock) held; the lock may
 * be dropped between reserve and commit/abort, but the set's context must
 * not be released in between (the caller holds its file).
 */
struct vsva_ioasid *vsva_ioasid_reserve(struct vsva_ioasid_set *set,
					u32 min, u32 max, bool gpasid_valid,
					u32 gpasid, struct vsva_errmsg *err);
void vsva_ioasid_commit(struct vsva_ioasid *ioasid);
void vsva_ioasid_abort(struct vsva_ioasid *ioasid);
/* Reserve and commit at once. */
int vsva_ioasid_alloc(struct vsva_ioasid_set *set, u32 min, u32 max,
		      bool gpasid_valid, u32 gpasid, u32 *out,
		      struct vsva_errmsg *err);
int vsva_ioasid_free(struct vsva_ioasid_set *set, u32 id,
		     struct vsva_errmsg *err);
/* A live member of @set, or NULL.  Stable under the owner's ctx->lock. */
struct vsva_ioasid *vsva_ioasid_find(struct vsva_ioasid_set *set, u32 id);
/* Runs the chain; @set's owner lock held, vsva_ioasid_lock not. */
void vsva_ioasid_notify(struct vsva_ioasid_set *set, unsigned long action,
			struct vsva_ioasid_event *ev);
void vsva_ioasid_event_fill(struct vsva_ioasid_event *ev,
			    struct vsva_ioasid *ioasid);
/* Lockdep: warns when called from inside an IOASID notifier callback. */
void vsva_assert_not_in_notifier(void);
u32 vsva_ioasid_global_count(void);
void vsva_ioasid_set_show(struct seq_file *s, struct vsva_ioasid_set *set);

#endif /* _VSVA_IOASID_H */
