/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Contexts and the objects of a context (domains, devices): ids, lookups,
 * references, creation and destruction (Documentation/design.md, "Object
 * lifecycle").
 *
 * A creating command never lets another thread see an object it may still
 * take back:
 *
 *   vsva_*_new()       reserve an id (the slot holds no object: lookups
 *                      miss it), initialise, claim what the object needs;
 *   copy-out           the caller copies the new id to user space, without
 *                      any lock held;
 *   vsva_obj_publish() store the object in its slot: from now on it can be
 *                      found, used and destroyed by anyone;
 *   vsva_obj_abort()   or, when anything failed (the copy-out included),
 *                      destroy it and free the id; nobody ever saw it.
 *
 * Ids (contexts and objects) are allocated cyclically, so a stale id names
 * nothing rather than the next object created.
 */
#ifndef _VSVA_OBJECT_H
#define _VSVA_OBJECT_H

#include <linux/types.h>

struct vsva_ctx;
struct vsva_device;
struct vsva_domain;
struct vsva_errmsg;
struct vsva_obj;
struct srcu_struct;

/* Objects (domains + devices) one context may hold: module parameter. */
extern unsigned int vsva_max_objects;

/*
 * Contexts.  vsva_ctx_reserve() takes a context id (vsva_ctx_get() does not
 * find it yet), vsva_ctx_publish() makes it findable, vsva_ctx_unpublish()
 * (release(), or the end of a failed open) takes the id back.  The struct
 * is freed when the last vsva_ctx_put() drops its reference.
 */
int vsva_ctx_reserve(struct vsva_ctx *ctx);
void vsva_ctx_publish(struct vsva_ctx *ctx);
void vsva_ctx_unpublish(struct vsva_ctx *ctx);
void vsva_ctxs_exit(void);

/*
 * Creation.  Each takes and drops ctx->lock itself and returns an
 * unpublished object (ERR_PTR on failure, @err says why when it can): the
 * caller publishes or aborts it, without ctx->lock held.
 */
struct vsva_domain *vsva_domain_new(struct vsva_ctx *ctx);
struct vsva_device *vsva_device_new(struct vsva_ctx *ctx, u32 dom_id, u16 rid,
				    u32 enable, struct vsva_errmsg *err);
void vsva_obj_publish(struct vsva_ctx *ctx, struct vsva_obj *obj);
void vsva_obj_abort(struct vsva_ctx *ctx, struct vsva_obj *obj);

/*
 * Destruction by id (ctx->lock held): -ENOENT when @id names no published
 * object of that type, -EBUSY while it is in use; nothing changes then.
 */
int vsva_domain_destroy(struct vsva_ctx *ctx, u32 id);
int vsva_device_destroy(struct vsva_ctx *ctx, u32 id);
/* release(): every device (the leaves), then every domain. */
void vsva_objects_destroy_all(struct vsva_ctx *ctx);

/* Lookups under ctx->lock (no reference taken): NULL if none. */
struct vsva_domain *vsva_domain_find(struct vsva_ctx *ctx, u32 id);
struct vsva_device *vsva_device_find(struct vsva_ctx *ctx, u32 id);

/*
 * Lookups without ctx->lock, inside srcu_read_lock(&vsva_obj_srcu): the
 * object stays valid until srcu_read_unlock(), because destroying a domain
 * or a device of a live context waits for the readers (release() does
 * not: only callers holding the context's file may use this).
 */
extern struct srcu_struct vsva_obj_srcu;
struct vsva_device *vsva_device_find_srcu(struct vsva_ctx *ctx, u32 id);

/*
 * Look up a device of @ctx by id and take a reference (NULL if none);
 * release it with vsva_device_put().  Safe without ctx->lock.
 */
struct vsva_device *vsva_device_get(struct vsva_ctx *ctx, u32 id);
void vsva_device_put(struct vsva_device *dev);

#endif /* _VSVA_OBJECT_H */
