/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsva kernel-internal API: bind, unbind, invalidate and page response on
 * kernel structs, PASID set access and the IOASID notifier chain.
 *
 * Nothing here takes a __user pointer.  The /dev/vsva ioctls call these
 * after the IOMMU UAPI layer copied and checked the payload; release() and
 * in-kernel consumers (a KVM-side PASID translator, vsva_consumer.ko) call
 * them directly.  @err may be NULL everywhere.
 *
 * Context: process context, may sleep.  Must not be called from an IOASID
 * notifier callback (the chain runs with the context's lock held); lockdep
 * kernels warn when it is (see the notifier rules below).
 */
#ifndef _VSVA_KAPI_H
#define _VSVA_KAPI_H

#include <linux/notifier.h>
#include <linux/types.h>
#include <linux/vsva.h>

struct vsva_ctx;
struct vsva_ioasid;
struct vsva_ioasid_set;

/**
 * struct vsva_errmsg - a message for the caller's err_uptr buffer
 * @buf: NUL-terminated text; empty when nothing was said
 *
 * Kernel-internal callers pass NULL wherever a struct vsva_errmsg * is
 * taken, or their own buffer to read why a call failed.
 */
struct vsva_errmsg {
	char buf[200];
};

__printf(2, 3) void vsva_err(struct vsva_errmsg *err, const char *fmt, ...);

/* IOASID notifier events (the notifier's action argument). */
#define VSVA_IOASID_NOTIFY_ALLOC 1
#define VSVA_IOASID_NOTIFY_FREE 2
#define VSVA_IOASID_NOTIFY_BIND 3
#define VSVA_IOASID_NOTIFY_UNBIND 4

/**
 * struct vsva_ioasid_event - the notifier's data argument
 * @ctx_id: the context (vsva_ctx_get() takes it)
 * @set_id: the context's IOASID set
 * @pasid: the host PASID
 * @gpasid: the guest PASID, when @gpasid_valid
 * @gpasid_valid: 1 when a guest PASID is recorded
 * @dev_id: BIND/UNBIND: the device id in the context, else 0
 * @rid: BIND/UNBIND: the device's requester id, else 0
 */
struct vsva_ioasid_event {
	u32 ctx_id;
	u32 set_id;
	u32 pasid;
	u32 gpasid;
	u32 gpasid_valid;
	u32 dev_id;
	u16 rid;
};

/*
 * The system-wide chain (blocking).  Rules for callbacks:
 *
 * - They run in process context with the event's context lock held (so
 *   the events of one context arrive in order) and never under vsva's
 *   PASID-space lock.  They may sleep.
 * - They must not call any function of this header: not for the event's
 *   context (self-deadlock), not for another one (ABBA between two context
 *   locks).  The functions of this header warn, on lockdep kernels, when
 *   called from a callback.  Record the event and act on it later, from
 *   your own context (a work item, your next ioctl).
 * - A lock a callback takes must never be held while calling a function
 *   of this header (lockdep sees that order: context lock -> your lock).
 *
 * Ordering: ALLOC precedes any BIND of a PASID; every BIND is followed by
 * exactly one UNBIND before the PASID's FREE.  PASID numbers are allocated
 * cyclically and a number is not handed out again before its FREE was
 * delivered, so an event delivered late does not name another VM's PASID
 * -- unless the whole 20-bit space wrapped around in between; hold a
 * reference (vsva_ioasid_get()) to pin the number.
 */
int vsva_ioasid_register_notifier(struct notifier_block *nb);
void vsva_ioasid_unregister_notifier(struct notifier_block *nb);

/* Contexts by id: a reference keeps the struct, not the VM, alive. */
struct vsva_ctx *vsva_ctx_get(u32 ctx_id);
void vsva_ctx_put(struct vsva_ctx *ctx);
u32 vsva_ctx_id(struct vsva_ctx *ctx);

/*
 * The nesting operations.  @flags: VSVA_TARGET_DOMAIN makes @target_id a
 * domain id (every device of it, all or nothing), else a device id.  The
 * payload is checked as the ioctl would; errno and @err as for the ioctls,
 * except that vsva_unbind_gpasid() fails with -ENOENT when @hpasid is not
 * bound on a target (the ioctl, as Linux 5.11, answers 0).
 * vsva_cache_invalidate() also takes VSVA_INV_SEPARATE_DEVTLB.  A context
 * being released answers -ENOENT.
 */
int vsva_bind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
		     const struct vsva_gpasid_bind_data *data,
		     struct vsva_errmsg *err);
int vsva_unbind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
		       u32 hpasid, struct vsva_errmsg *err);
int vsva_cache_invalidate(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			  const struct vsva_cache_invalidate_info *inv,
			  struct vsva_errmsg *err);
int vsva_page_response(struct vsva_ctx *ctx, u32 dev_id,
		       const struct vsva_page_response *msg,
		       struct vsva_errmsg *err);

/* PASID set access. */
struct vsva_ioasid_set *vsva_ctx_ioasid_set(struct vsva_ctx *ctx);
u32 vsva_ioasid_set_id(struct vsva_ioasid_set *set);
/* 0 and the host PASID of @gpasid, or -ENOENT. */
int vsva_ioasid_find_by_gpasid(struct vsva_ioasid_set *set, u32 gpasid,
			       u32 *hpasid);
/*
 * A handle on @pasid of @set: ERR_PTR(-ENOENT) if it is not a live member.
 * The number is not reused until vsva_ioasid_put() of the handle, even
 * once the context freed the PASID.  Only the holder can drop it: a
 * reference is never released by number.
 */
struct vsva_ioasid *vsva_ioasid_get(struct vsva_ioasid_set *set, u32 pasid);
void vsva_ioasid_put(struct vsva_ioasid *ioasid);
u32 vsva_ioasid_pasid(const struct vsva_ioasid *ioasid);

#endif /* _VSVA_KAPI_H */
