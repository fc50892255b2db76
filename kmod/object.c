// SPDX-License-Identifier: GPL-2.0
/*
 * Contexts and their objects (domains, devices): ids, lookups, references,
 * creation in reserve / publish / abort steps, and destruction.  See
 * object.h for the lifecycle and Documentation/design.md for where this
 * file sits: below the front end and the kernel-internal API, above the
 * IOASID sets, the stage-2 store, the topology and the backends, none of
 * which calls back into it except for the device lookups of the emulated
 * DMA path.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <vsva/kapi.h>

#include "ioasid.h"
#include "vsva_priv.h"

unsigned int vsva_max_objects = 4096;
module_param_named(max_objects, vsva_max_objects, uint, 0644);
MODULE_PARM_DESC(max_objects,
		 "domains + devices one context may hold (read when the context opens)");

/* Every context, by id: for the kernel-internal API and debugfs. */
static DEFINE_XARRAY_ALLOC1(vsva_ctxs);
/* The next context id to try (xa_alloc_cyclic(), under the xa_lock). */
static u32 vsva_ctx_next;

/* ---- contexts ---------------------------------------------------------- */

static void vsva_ctx_free(struct kref *ref)
{
	struct vsva_ctx *ctx = container_of(ref, struct vsva_ctx, ref);

	vsva_ioasid_set_free(ctx->set);
	WARN_ON(ctx->nr_objects || !xa_empty(&ctx->objects));
	xa_destroy(&ctx->objects);
	kvfree(ctx->inv_buf);
	mutex_destroy(&ctx->inv_buf_lock);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

int vsva_ctx_reserve(struct vsva_ctx *ctx)
{
	int rc;

	ctx->max_objects = READ_ONCE(vsva_max_objects);
	rc = xa_alloc_cyclic(&vsva_ctxs, &ctx->id, NULL, xa_limit_31b,
			     &vsva_ctx_next, GFP_KERNEL);
	return rc < 0 ? rc : 0;
}

void vsva_ctx_publish(struct vsva_ctx *ctx)
{
	/* The slot exists (reserved): storing into it cannot fail. */
	WARN_ON(xa_is_err(xa_store(&vsva_ctxs, ctx->id, ctx, GFP_KERNEL)));
}

void vsva_ctx_unpublish(struct vsva_ctx *ctx)
{
	xa_erase(&vsva_ctxs, ctx->id);
}

void vsva_ctxs_exit(void)
{
	WARN_ON(!xa_empty(&vsva_ctxs));
	xa_destroy(&vsva_ctxs);
}

struct vsva_ctx *vsva_ctx_get(u32 ctx_id)
{
	struct vsva_ctx *ctx;

	xa_lock(&vsva_ctxs);
	ctx = xa_load(&vsva_ctxs, ctx_id);
	if (ctx && !kref_get_unless_zero(&ctx->ref))
		ctx = NULL;
	xa_unlock(&vsva_ctxs);
	return ctx;
}
EXPORT_SYMBOL_GPL(vsva_ctx_get);

void vsva_ctx_put(struct vsva_ctx *ctx)
{
	kref_put(&ctx->ref, vsva_ctx_free);
}
EXPORT_SYMBOL_GPL(vsva_ctx_put);

/* ---- ids and references ------------------------------------------------ */

/*
 * Reserve an id for @obj: the slot holds no object, so every lookup misses
 * it until vsva_obj_publish().  Ids are handed out cyclically.
 */
static int vsva_obj_reserve(struct vsva_ctx *ctx, struct vsva_obj *obj,
			    enum vsva_obj_type type)
{
	int rc;

	lockdep_assert_held(&ctx->lock);
	if (ctx->nr_objects >= ctx->max_objects)
		return -ENOSPC;
	rc = xa_alloc_cyclic(&ctx->objects, &obj->id, NULL, xa_limit_31b,
			     &ctx->next_obj_id, GFP_KERNEL_ACCOUNT);
	if (rc < 0)
		return rc;
	refcount_set(&obj->users, 1);
	obj->type = type;
	ctx->nr_objects++;
	return 0;
}

/* Give back the id of an object that is no longer (or never was) published. */
static void vsva_obj_release_id(struct vsva_ctx *ctx, struct vsva_obj *obj)
{
	lockdep_assert_held(&ctx->lock);
	xa_erase(&ctx->objects, obj->id);
	ctx->nr_objects--;
}

static struct vsva_obj *vsva_obj_find(struct vsva_ctx *ctx, u32 id,
				      enum vsva_obj_type type)
{
	struct vsva_obj *obj;

	lockdep_assert_held(&ctx->lock);
	obj = xa_load(&ctx->objects, id);
	if (!obj || obj->type != type)
		return NULL;
	return obj;
}

struct vsva_domain *vsva_domain_find(struct vsva_ctx *ctx, u32 id)
{
	struct vsva_obj *obj = vsva_obj_find(ctx, id, VSVA_OBJ_DOMAIN);

	return obj ? container_of(obj, struct vsva_domain, obj) : NULL;
}

struct vsva_device *vsva_device_find(struct vsva_ctx *ctx, u32 id)
{
	struct vsva_obj *obj = vsva_obj_find(ctx, id, VSVA_OBJ_DEVICE);

	return obj ? container_of(obj, struct vsva_device, obj) : NULL;
}

DEFINE_SRCU(vsva_obj_srcu);

struct vsva_device *vsva_device_find_srcu(struct vsva_ctx *ctx, u32 id)
{
	struct vsva_obj *obj = xa_load(&ctx->objects, id);

	if (!obj || READ_ONCE(obj->type) != VSVA_OBJ_DEVICE)
		return NULL;
	return container_of(obj, struct vsva_device, obj);
}

/*
 * @obj is unpublished: wait until no lockless reader (vsva_obj_srcu) can
 * still use it.  At release() nobody can (they hold the file).
 */
static void vsva_obj_sync(struct vsva_ctx *ctx)
{
	if (!ctx->dead)
		synchronize_srcu(&vsva_obj_srcu);
}

struct vsva_device *vsva_device_get(struct vsva_ctx *ctx, u32 id)
{
	struct vsva_device *dev = NULL;
	struct vsva_obj *obj;

	xa_lock(&ctx->objects);
	obj = xa_load(&ctx->objects, id);
	if (obj && obj->type == VSVA_OBJ_DEVICE &&
	    refcount_inc_not_zero(&obj->users))
		dev = container_of(obj, struct vsva_device, obj);
	xa_unlock(&ctx->objects);
	return dev;
}

void vsva_device_put(struct vsva_device *dev)
{
	/* The context holds the last reference; destruction drops it. */
	WARN_ON(refcount_dec_and_test(&dev->obj.users));
}

/*
 * Unpublish @obj if nobody but the context holds it (-EBUSY otherwise:
 * an emulated DMA in flight on a device, a device attached to a domain).
 */
static int vsva_obj_remove(struct vsva_ctx *ctx, struct vsva_obj *obj)
{
	int rc = 0;

	lockdep_assert_held(&ctx->lock);
	xa_lock(&ctx->objects);
	if (refcount_dec_if_one(&obj->users))
		__xa_erase(&ctx->objects, obj->id);
	else
		rc = -EBUSY;
	xa_unlock(&ctx->objects);
	if (!rc)
		ctx->nr_objects--;
	return rc;
}

/* ---- domains ----------------------------------------------------------- */

/*
 * Free an unpublished domain (no device holds it any more): its stage-2
 * mappings go too, unpinned and uncharged.
 */
static void vsva_domain_free(struct vsva_ctx *ctx, struct vsva_domain *dom)
{
	lockdep_assert_held(&ctx->lock);
	WARN_ON(dom->nr_devices || !list_empty(&dom->devices));
	vsva_s2_unmap_all(ctx, dom);
	ctx->ops->domain_fini(dom);
	xa_destroy(&dom->s2);
	kfree(dom);
}

struct vsva_domain *vsva_domain_new(struct vsva_ctx *ctx)
{
	struct vsva_domain *dom;
	int rc;

	dom = kzalloc(sizeof(*dom), GFP_KERNEL_ACCOUNT);
	if (!dom)
		return ERR_PTR(-ENOMEM);
	dom->ctx = ctx;
	INIT_LIST_HEAD(&dom->devices);
	INIT_LIST_HEAD(&dom->maps);
	init_rwsem(&dom->s2_lock);
	xa_init(&dom->s2);

	mutex_lock(&ctx->lock);
	rc = vsva_obj_reserve(ctx, &dom->obj, VSVA_OBJ_DOMAIN);
	if (rc)
		goto out_free;
	rc = ctx->ops->domain_init(dom);
	if (rc)
		goto out_id;
	mutex_unlock(&ctx->lock);
	return dom;

out_id:
	vsva_obj_release_id(ctx, &dom->obj);
out_free:
	mutex_unlock(&ctx->lock);
	xa_destroy(&dom->s2);
	kfree(dom);
	return ERR_PTR(rc);
}

int vsva_domain_destroy(struct vsva_ctx *ctx, u32 id)
{
	struct vsva_domain *dom = vsva_domain_find(ctx, id);
	int rc;

	if (!dom)
		return -ENOENT;
	/* VSVA_DOMAIN_DESTROY: unmap first (release() does not ask). */
	if (!ctx->dead && !list_empty(&dom->maps))
		return -EBUSY;
	rc = vsva_obj_remove(ctx, &dom->obj);
	if (rc)
		return rc;
	vsva_obj_sync(ctx);
	vsva_domain_free(ctx, dom);
	return 0;
}

/* ---- devices ----------------------------------------------------------- */

/*
 * Free a device that is unpublished and unlinked from its domain: detach
 * it from the backend, release its endpoint and its hold on the domain.
 */
static void vsva_device_free(struct vsva_ctx *ctx, struct vsva_device *dev)
{
	lockdep_assert_held(&ctx->lock);
	WARN_ON(dev->nr_bound);
	ctx->ops->dev_detach(dev);
	vsva_topo_release(dev->ep);
	/* The domain stays until its last device is gone. */
	WARN_ON(refcount_dec_and_test(&dev->dom->obj.users));
	xa_destroy(&dev->bound);
	kfree(dev);
}

struct vsva_device *vsva_device_new(struct vsva_ctx *ctx, u32 dom_id, u16 rid,
				    u32 enable, struct vsva_errmsg *err)
{
	struct vsva_domain *dom;
	struct vsva_device *dev;
	int rc;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL_ACCOUNT);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev->ctx = ctx;
	dev->rid = rid;
	dev->enabled = enable;
	INIT_LIST_HEAD(&dev->dom_node);
	xa_init(&dev->bound);

	mutex_lock(&ctx->lock);
	dom = vsva_domain_find(ctx, dom_id);
	if (!dom) {
		vsva_err(err, "attach: no domain %u in this context", dom_id);
		rc = -ENOENT;
		goto out_unlock;
	}
	rc = vsva_obj_reserve(ctx, &dev->obj, VSVA_OBJ_DEVICE);
	if (rc) {
		vsva_err(err, "attach: the context holds %u domains and devices, the most it may (vsva.max_objects)",
			 ctx->max_objects);
		goto out_unlock;
	}
	rc = vsva_topo_claim(ctx, dom, rid, enable, &dev->ep, &dev->caps, err);
	if (rc)
		goto out_id;
	rc = ctx->ops->dev_attach(dev, dom);
	if (rc)
		goto out_release;
	/* Held until the device is freed: the domain cannot go before it. */
	refcount_inc(&dom->obj.users);
	dev->dom = dom;
	mutex_unlock(&ctx->lock);
	return dev;

out_release:
	vsva_topo_release(dev->ep);
out_id:
	vsva_obj_release_id(ctx, &dev->obj);
out_unlock:
	mutex_unlock(&ctx->lock);
	xa_destroy(&dev->bound);
	kfree(dev);
	return ERR_PTR(rc);
}

int vsva_device_destroy(struct vsva_ctx *ctx, u32 id)
{
	struct vsva_device *dev = vsva_device_find(ctx, id);
	int rc;

	if (!dev)
		return -ENOENT;
	if (dev->nr_bound)
		return -EBUSY;
	rc = vsva_obj_remove(ctx, &dev->obj);
	if (rc)
		return rc;
	vsva_obj_sync(ctx);
	list_del_init(&dev->dom_node);
	dev->dom->nr_devices--;
	vsva_device_free(ctx, dev);
	return 0;
}

/* ---- publish / abort --------------------------------------------------- */

void vsva_obj_publish(struct vsva_ctx *ctx, struct vsva_obj *obj)
{
	mutex_lock(&ctx->lock);
	if (obj->type == VSVA_OBJ_DEVICE) {
		struct vsva_device *dev =
			container_of(obj, struct vsva_device, obj);

		list_add_tail(&dev->dom_node, &dev->dom->devices);
		dev->dom->nr_devices++;
	}
	/* The slot is reserved: storing into it cannot fail. */
	WARN_ON(xa_is_err(xa_store(&ctx->objects, obj->id, obj, GFP_KERNEL)));
	mutex_unlock(&ctx->lock);
}

void vsva_obj_abort(struct vsva_ctx *ctx, struct vsva_obj *obj)
{
	mutex_lock(&ctx->lock);
	vsva_obj_release_id(ctx, obj);
	switch (obj->type) {
	case VSVA_OBJ_DOMAIN:
		vsva_domain_free(ctx, container_of(obj, struct vsva_domain,
						   obj));
		break;
	case VSVA_OBJ_DEVICE:
		vsva_device_free(ctx, container_of(obj, struct vsva_device,
						   obj));
		break;
	default:
		WARN(1, "vsva: abort of an object of unknown type %d\n",
		     obj->type);
	}
	mutex_unlock(&ctx->lock);
}

/*
 * release(): every binding is gone.  Devices (the leaves) first, then the
 * domains they held; an object of any other type is a bug, reported and
 * left alone rather than freed as the wrong type.
 */
void vsva_objects_destroy_all(struct vsva_ctx *ctx)
{
	struct vsva_obj *obj;
	unsigned long id;

	lockdep_assert_held(&ctx->lock);
	xa_for_each(&ctx->objects, id, obj) {
		if (obj->type != VSVA_OBJ_DEVICE)
			continue;
		WARN_ON(vsva_device_destroy(ctx, id));
	}
	xa_for_each(&ctx->objects, id, obj) {
		if (obj->type != VSVA_OBJ_DOMAIN) {
			WARN(1, "vsva: object %lu of unknown type %d left at release\n",
			     id, obj->type);
			continue;
		}
		WARN_ON(vsva_domain_destroy(ctx, id));
	}
}
