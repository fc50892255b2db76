/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsva core objects.  One open /dev/vsva is one VM context: its IOASID set,
 * its stage-2 domains, its devices.
 *
 * Locking (outermost first):
 *   vsva_ctx.lock     mutex: the context's objects, their links (domain <->
 *                     device), bindings, and every call into a backend op.
 *   vsva_domain.s2_lock  rwsem: the domain's stage-2 mappings.  Writers
 *                     (map/unmap) take it under ctx->lock; the emulated
 *                     DMA path reads under it.
 *   backend-private spinlocks (emulated caches) nest inside both.
 */
#ifndef _VSVA_PRIV_H
#define _VSVA_PRIV_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/xarray.h>

#include "backend.h"

enum vsva_obj_type {
	VSVA_OBJ_DOMAIN = 1,
	VSVA_OBJ_DEVICE,
};

/* Common header of every object of a context, stored in ctx->objects. */
struct vsva_obj {
	refcount_t users;
	enum vsva_obj_type type;
	u32 id;
};

struct vsva_ctx {
	struct mutex lock;
	struct xarray objects;
	struct vsva_counters counters;
	const struct vsva_backend_ops *ops;
	/* Backend/emulation state attached to the context (fault queue). */
	void *emu;
};

struct vsva_domain {
	struct vsva_obj obj;
	struct vsva_ctx *ctx;
	struct list_head devices;	/* vsva_device.dom_node, ctx->lock */
	struct rw_semaphore s2_lock;
	void *backend;
};

struct vsva_device {
	struct vsva_obj obj;
	struct vsva_ctx *ctx;
	struct vsva_domain *dom;
	struct list_head dom_node;
	u16 rid;
	u32 caps;	/* VSVA_DEV_CAP_* */
	u32 enabled;	/* VSVA_ATTACH_ENABLE_* */
	void *backend;
};

/*
 * Look up a device of @ctx by id and take a reference (NULL if none);
 * release it with vsva_device_put().  Safe without ctx->lock.
 */
struct vsva_device *vsva_device_get(struct vsva_ctx *ctx, u32 id);
void vsva_device_put(struct vsva_device *dev);

#endif /* _VSVA_PRIV_H */
