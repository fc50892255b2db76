// SPDX-License-Identifier: GPL-2.0
/*
 * vsva: guest Shared Virtual Addressing on a nested IOMMU.
 *
 * Front end: the /dev/vsva misc device and its ioctl table.  Every command
 * is _IO(VSVA_TYPE, nr) and carries its size in the leading argsz; the
 * generic size and zero-tail check happens once, here, before any handler.
 * The front end checks only its own wrappers; nesting payloads go down to
 * the IOMMU UAPI layer (iommu_uapi.c) as user pointers.  Objects and
 * contexts (ids, lookups, creation, destruction) are object.c's; this file
 * keeps module init, the file operations and the ioctl table.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vsva.h>
#include <vsva/kapi.h>

#include "account.h"
#include "emu/emu.h"
#include "ioasid.h"
#include "trace.h"
#include "vsva_priv.h"

#define VSVA_MODULE_VERSION ((0 << 16) | (1 << 8) | 0)

union vsva_ucmd_buffer {
	struct vsva_info info;
	struct vsva_domain_alloc domain_alloc;
	struct vsva_destroy destroy;
	struct vsva_map map;
	struct vsva_unmap unmap;
	struct vsva_device_attach attach;
	struct vsva_pasid_alloc pasid_alloc;
	struct vsva_pasid_free pasid_free;
	struct vsva_nesting_op nesting;
	struct vsva_cache_invalidate_batch batch;
	struct vsva_fault_alloc fault_alloc;
	struct vsva_emu_dma dma;
	struct vsva_emu_pasid_entry pasid_entry;
	struct vsva_emu_counters counters;
	struct vsva_emu_translate translate;
};

/*
 * One command in flight: @cmd is the kernel copy of the caller's struct;
 * @out_size bytes of it go back to @ubuffer (vsva_ucmd_respond()).
 */
struct vsva_ucmd {
	struct vsva_ctx *ctx;
	void __user *ubuffer;
	u32 user_size;
	u32 out_size;
	void *cmd;
	struct vsva_errmsg *err;
};

/*
 * Copy the command's struct (its outputs filled in) back to the caller.
 * The table does it after the handler for plain commands; a command that
 * creates or destroys something calls it itself, before it commits, so it
 * never commits a change whose result the caller cannot learn.
 */
static int vsva_ucmd_respond(struct vsva_ucmd *ucmd)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd, ucmd->out_size))
		return -EFAULT;
	return 0;
}

static int vsva_fops_open(struct inode *inode, struct file *filp)
{
	struct vsva_ctx *ctx;
	int rc;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	mutex_init(&ctx->inv_buf_lock);
	xa_init_flags(&ctx->objects, XA_FLAGS_ALLOC1);
	kref_init(&ctx->ref);
	ctx->ops = &vsva_emu_ops;
	/* Who opened it, for operators (debugfs, vsva stat). */
	ctx->owner_pid = task_tgid_nr(current);
	ctx->owner_uid = from_kuid_munged(&init_user_ns, current_euid());
	get_task_comm(ctx->owner_comm, current);
	rc = vsva_ctx_reserve(ctx);
	if (rc)
		goto out_free;
	ctx->set = vsva_ioasid_set_alloc(ctx, ctx->id, &ctx->lock);
	if (!ctx->set) {
		rc = -ENOMEM;
		goto out_id;
	}
	rc = vsva_emu_ctx_init(ctx);
	if (rc)
		goto out_set;
	vsva_ctx_publish(ctx);
	atomic_inc(&vsva_nr_contexts);
	vsva_debugfs_ctx_add(ctx);
	filp->private_data = ctx;
	return 0;

out_set:
	vsva_ioasid_set_free(ctx->set);
out_id:
	vsva_ctx_unpublish(ctx);
out_free:
	mutex_destroy(&ctx->inv_buf_lock);
	kfree(ctx);
	return rc;
}

/*
 * Teardown (Documentation/teardown.md): no ioctl of this file runs any
 * more.  Unbind every PASID through the kernel-internal path, let the
 * backend drop pending page requests and its fault queue, free the PASIDs,
 * detach devices (leaves) before destroying domains, which unpins and
 * uncharges through each mapping's mm reference.
 */
static int vsva_fops_release(struct inode *inode, struct file *filp)
{
	struct vsva_ctx *ctx = filp->private_data;
	unsigned int domains = 0, devices = 0, bindings, pasids, prqs;
	struct vsva_obj *obj;
	unsigned long id;
	u64 pinned;

	vsva_debugfs_ctx_remove(ctx);
	vsva_ctx_unpublish(ctx);

	mutex_lock(&ctx->lock);
	ctx->dead = true;
	/* What this teardown releases, for the vsva_ctx_release event. */
	bindings = atomic_read(&ctx->nr_bindings);
	pasids = ctx->set->nr;
	pinned = atomic64_read(&ctx->pinned_pages);
	prqs = vsva_emu_pending_prqs(ctx);
	xa_for_each(&ctx->objects, id, obj) {
		if (obj->type == VSVA_OBJ_DEVICE) {
			devices++;
			vsva_unbind_all(ctx, container_of(obj,
							  struct vsva_device,
							  obj));
		} else {
			domains++;
		}
	}
	vsva_emu_ctx_fini(ctx);
	vsva_ioasid_set_empty(ctx->set);
	vsva_objects_destroy_all(ctx);
	trace_vsva_ctx_release(ctx->id, ctx->owner_pid, bindings, pasids,
			       domains, devices, pinned, prqs);
	mutex_unlock(&ctx->lock);

	atomic_dec(&vsva_nr_contexts);
	vsva_ctx_put(ctx);
	return 0;
}

/* ---- handlers ---------------------------------------------------------- */

static int vsva_get_info(struct vsva_ucmd *ucmd)
{
	struct vsva_info *info = ucmd->cmd;
	unsigned long lim = rlimit(RLIMIT_MEMLOCK);

	if (info->flags)
		return -EOPNOTSUPP;
	info->out_uapi_version = VSVA_UAPI_VERSION;
	info->out_bind_versions = BIT(VSVA_GPASID_BIND_VERSION_1);
	info->out_inv_versions = BIT(VSVA_CACHE_INVALIDATE_INFO_VERSION_1);
	info->out_page_resp_versions = BIT(VSVA_PAGE_RESP_VERSION_1);
	info->out_formats = BIT(VSVA_PASID_FORMAT_INTEL_VTD);
	info->out_inv_matrix = vsva_inv_matrix();
	info->out_addr_widths = VSVA_AW_48 | VSVA_AW_57;
	info->out_pasid_bits = VSVA_PASID_BITS;
	info->out_gpa_bits = VSVA_GPA_BITS;
	/* The context's quota, capped by what one user may hold at all. */
	info->out_pasid_quota = min_t(u32, ucmd->ctx->set->quota,
				      READ_ONCE(vsva_max_user_pasids));
	info->out_max_batch = VSVA_MAX_BATCH;
	info->out_module_version = VSVA_MODULE_VERSION;
	info->out_features = VSVA_FEAT_NESTING | VSVA_FEAT_CACHE_INV_BATCH |
			     VSVA_FEAT_PAGE_REQUEST | VSVA_FEAT_ERR_MSG |
			     VSVA_FEAT_EMU | VSVA_FEAT_SYSWIDE_PASID |
			     VSVA_FEAT_INV_SEPARATE_DEVTLB |
			     VSVA_FEAT_RID_PASID | VSVA_FEAT_EMU_TRANSLATE |
			     VSVA_FEAT_BIND_REPLACE;
	/* A query, not a privileged action: no audit record. */
	info->out_max_pinned = (lim == RLIM_INFINITY ||
				ns_capable_noaudit(&init_user_ns,
						   CAP_IPC_LOCK)) ? ~0ULL : lim;
	return 0;
}

/* Reserve and initialise, return the id, then publish (object.h). */
static int vsva_domain_alloc(struct vsva_ucmd *ucmd)
{
	struct vsva_domain_alloc *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	struct vsva_domain *dom;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	dom = vsva_domain_new(ctx);
	if (IS_ERR(dom))
		return PTR_ERR(dom);
	cmd->out_domain_id = dom->obj.id;
	rc = vsva_ucmd_respond(ucmd);
	if (rc) {
		vsva_obj_abort(ctx, &dom->obj);
		return rc;
	}
	vsva_obj_publish(ctx, &dom->obj);
	return 0;
}

static int vsva_domain_destroy_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_destroy *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	mutex_lock(&ctx->lock);
	rc = vsva_domain_destroy(ctx, cmd->id);
	mutex_unlock(&ctx->lock);
	return rc;
}

static int vsva_map_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_map *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	struct vsva_domain *dom;
	int rc;

	if (cmd->__reserved || cmd->__reserved2) {
		vsva_err(ucmd->err, "map: reserved fields must be 0");
		return -EOPNOTSUPP;
	}
	mutex_lock(&ctx->lock);
	dom = vsva_domain_find(ctx, cmd->domain_id);
	if (dom) {
		rc = vsva_s2_map(ctx, dom, cmd->gpa, cmd->length, cmd->vaddr,
				 cmd->flags, ucmd->err);
	} else {
		vsva_err(ucmd->err, "map: no domain %u in this context",
			 cmd->domain_id);
		rc = -ENOENT;
	}
	mutex_unlock(&ctx->lock);
	return rc;
}

/*
 * The output is returned before anything is unmapped: the count is worked
 * out and copied to the caller under ctx->lock, which every stage-2 writer
 * holds, and only then are the mappings removed.  A caller whose output is
 * unwritable gets -EFAULT with every mapping still in place.
 */
static int vsva_unmap_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_unmap *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	struct vsva_domain *dom;
	u64 bytes, unmapped;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	mutex_lock(&ctx->lock);
	dom = vsva_domain_find(ctx, cmd->domain_id);
	if (!dom) {
		rc = -ENOENT;
		goto out_unlock;
	}
	rc = vsva_s2_unmap_bytes(ctx, dom, cmd->gpa, cmd->length, &bytes,
				 NULL);
	if (rc)
		goto out_unlock;
	cmd->out_unmapped = bytes;
	rc = vsva_ucmd_respond(ucmd);
	if (rc)
		goto out_unlock;
	rc = vsva_s2_unmap(ctx, dom, cmd->gpa, cmd->length, &unmapped, NULL);
	WARN_ON(rc || unmapped != bytes);
out_unlock:
	mutex_unlock(&ctx->lock);
	return rc;
}

static int vsva_attach_ioctl(struct vsva_ucmd *ucmd)
{
	const u32 known = VSVA_ATTACH_ENABLE_ATS | VSVA_ATTACH_ENABLE_PRI;
	struct vsva_device_attach *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	struct vsva_device *dev;
	int rc;

	if (cmd->flags & ~known) {
		vsva_err(ucmd->err, "attach: unknown flags 0x%x",
			 cmd->flags & ~known);
		return -EOPNOTSUPP;
	}
	if (cmd->__reserved) {
		vsva_err(ucmd->err, "attach: __reserved must be 0");
		return -EOPNOTSUPP;
	}
	if (cmd->rid > U16_MAX) {
		vsva_err(ucmd->err, "attach: rid 0x%x is not a 16-bit requester id",
			 cmd->rid);
		return -EINVAL;
	}
	dev = vsva_device_new(ctx, cmd->domain_id, cmd->rid, cmd->flags,
			      ucmd->err);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	cmd->out_dev_id = dev->obj.id;
	cmd->out_caps = dev->caps;
	rc = vsva_ucmd_respond(ucmd);
	if (rc) {
		/* Unseen: the endpoint and the id are free again. */
		vsva_obj_abort(ctx, &dev->obj);
		return rc;
	}
	vsva_obj_publish(ctx, &dev->obj);
	return 0;
}

static int vsva_detach_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_destroy *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	mutex_lock(&ctx->lock);
	rc = vsva_device_destroy(ctx, cmd->id);
	mutex_unlock(&ctx->lock);
	return rc;
}

static int vsva_pasid_alloc_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_pasid_alloc *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	struct vsva_ioasid *ioasid;
	int rc;

	if (cmd->flags & ~VSVA_PASID_GPASID_VALID) {
		vsva_err(ucmd->err, "pasid_alloc: unknown flags 0x%x",
			 cmd->flags & ~VSVA_PASID_GPASID_VALID);
		return -EOPNOTSUPP;
	}
	if (cmd->__reserved2) {
		vsva_err(ucmd->err, "pasid_alloc: __reserved2 must be 0");
		return -EOPNOTSUPP;
	}
	mutex_lock(&ctx->lock);
	ioasid = vsva_ioasid_reserve(ctx->set, cmd->min, cmd->max,
				     cmd->flags & VSVA_PASID_GPASID_VALID,
				     cmd->gpasid, ucmd->err);
	if (IS_ERR(ioasid)) {
		rc = PTR_ERR(ioasid);
		goto out_unlock;
	}
	cmd->out_hpasid = ioasid->id;
	/*
	 * Reserved, not yet published: nobody finds the PASID and no ALLOC
	 * was sent, so a failed copy takes back exactly this reservation.
	 */
	rc = vsva_ucmd_respond(ucmd);
	if (rc)
		vsva_ioasid_abort(ioasid);
	else
		vsva_ioasid_commit(ioasid);
out_unlock:
	mutex_unlock(&ctx->lock);
	return rc;
}

static int vsva_pasid_free_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_pasid_free *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	mutex_lock(&ctx->lock);
	rc = vsva_ioasid_free(ctx->set, cmd->hpasid, NULL);
	mutex_unlock(&ctx->lock);
	return rc;
}

static int vsva_nesting_check(struct vsva_ucmd *ucmd, const char *what,
			      u32 known)
{
	struct vsva_nesting_op *op = ucmd->cmd;

	if (op->flags & ~known) {
		vsva_err(ucmd->err, "%s: unknown flags 0x%x", what,
			 op->flags & ~known);
		return -EOPNOTSUPP;
	}
	if (op->__reserved) {
		vsva_err(ucmd->err, "%s: __reserved must be 0", what);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The release VSVA_OLD_KERNEL stands for had no RID_PASID nesting or replace. */
#ifdef VSVA_OLD_KERNEL
#define VSVA_RID_FLAG 0
#define VSVA_REPLACE_FLAG 0
#else
#define VSVA_RID_FLAG VSVA_RID_PASID_OK
#define VSVA_REPLACE_FLAG VSVA_BIND_REPLACE
#endif

static int vsva_bind_ioctl(struct vsva_ucmd *ucmd)
{
	return vsva_nesting_check(ucmd, "bind",
				  VSVA_TARGET_DOMAIN | VSVA_RID_FLAG |
				  VSVA_REPLACE_FLAG) ?:
	       vsva_uapi_bind(ucmd->ctx, ucmd->cmd, ucmd->err);
}

static int vsva_unbind_ioctl(struct vsva_ucmd *ucmd)
{
	return vsva_nesting_check(ucmd, "unbind",
				  VSVA_TARGET_DOMAIN | VSVA_RID_FLAG) ?:
	       vsva_uapi_unbind(ucmd->ctx, ucmd->cmd, ucmd->err);
}

static int vsva_invalidate_ioctl(struct vsva_ucmd *ucmd)
{
	return vsva_nesting_check(ucmd, "invalidate",
				  VSVA_TARGET_DOMAIN | VSVA_INV_SEPARATE_DEVTLB |
				  VSVA_RID_FLAG) ?:
	       vsva_uapi_invalidate(ucmd->ctx, ucmd->cmd, ucmd->err);
}

static int vsva_page_response_ioctl(struct vsva_ucmd *ucmd)
{
	return vsva_nesting_check(ucmd, "page_response", VSVA_TARGET_DOMAIN) ?:
	       vsva_uapi_page_response(ucmd->ctx, ucmd->cmd, ucmd->err);
}

static int vsva_batch_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_cache_invalidate_batch __user *ub = ucmd->ubuffer;
	struct vsva_cache_invalidate_batch *b = ucmd->cmd;
	u32 handled = 0;
	int rc;

	const u32 known = VSVA_TARGET_DOMAIN | VSVA_INV_SEPARATE_DEVTLB |
			  VSVA_RID_FLAG;

	if (b->flags & ~known) {
		vsva_err(ucmd->err, "batch: unknown flags 0x%x",
			 b->flags & ~known);
		rc = -EOPNOTSUPP;
	} else if (b->__reserved || b->__reserved2) {
		vsva_err(ucmd->err, "batch: reserved fields must be 0");
		rc = -EOPNOTSUPP;
	} else {
		rc = vsva_uapi_invalidate_batch(ucmd->ctx, b, &handled,
						ucmd->err);
	}
	b->entry_num = handled;
	/* entry_num is written back on failure too. */
	if (rc && put_user(handled, &ub->entry_num))
		return -EFAULT;
	return rc;
}

/*
 * The fd is installed only after its number reached the caller, so a
 * failed copy-out leaves no fd behind; the command therefore returns its
 * own output and the front end copies nothing back.
 */
static int vsva_fault_alloc_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_fault_alloc *cmd = ucmd->cmd;
	struct vsva_fault_alloc __user *ucmd_out = ucmd->ubuffer;
	struct vsva_ctx *ctx = ucmd->ctx;
	struct file *file;
	int fd, rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	mutex_lock(&ctx->lock);
	file = vsva_emu_fault_prepare(ctx);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto out_put_fd;
	}
	if (put_user(fd, &ucmd_out->out_fault_fd)) {
		rc = -EFAULT;
		goto out_abort;
	}
	fd_install(fd, file);
	mutex_unlock(&ctx->lock);
	return 0;

out_abort:
	vsva_emu_fault_abort(ctx, file);
out_put_fd:
	mutex_unlock(&ctx->lock);
	put_unused_fd(fd);
	return rc;
}

/*
 * A DMA cannot be undone, but the page request a DMA without WAIT leaves
 * pending can: when the caller cannot learn its group (the output does not
 * reach it), the request is withdrawn if nobody has read it yet.
 */
static int vsva_emu_dma_ioctl(struct vsva_ucmd *ucmd)
{
	int rc = vsva_emu_dma(ucmd->ctx, ucmd->cmd);

	if (rc)
		return rc;
	rc = vsva_ucmd_respond(ucmd);
	if (rc)
		vsva_emu_dma_abort(ucmd->ctx, ucmd->cmd);
	return rc;
}

/* A page request left pending for a lost output is withdrawn, as for DMA. */
static int vsva_emu_translate_ioctl(struct vsva_ucmd *ucmd)
{
	int rc = vsva_emu_translate(ucmd->ctx, ucmd->cmd);

	if (rc)
		return rc;
	rc = vsva_ucmd_respond(ucmd);
	if (rc)
		vsva_emu_translate_abort(ucmd->ctx, ucmd->cmd);
	return rc;
}

static int vsva_emu_pasid_entry_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_emu_pasid_entry *cmd = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	mutex_lock(&ctx->lock);
	rc = vsva_emu_pasid_entry(ctx, ucmd->cmd);
	mutex_unlock(&ctx->lock);
	return rc;
}

static int vsva_emu_counters_ioctl(struct vsva_ucmd *ucmd)
{
	struct vsva_emu_counters *out = ucmd->cmd;
	struct vsva_ctx *ctx = ucmd->ctx;
	struct vsva_counters *c = &ctx->counters;

	if (out->flags)
		return -EOPNOTSUPP;
	out->out_payload_copies = atomic64_read(&c->payload_copies);
	out->out_binds = atomic64_read(&c->binds);
	out->out_unbinds = atomic64_read(&c->unbinds);
	out->out_invalidations = atomic64_read(&c->invalidations);
	out->out_iotlb_hits = atomic64_read(&c->iotlb_hits);
	out->out_iotlb_misses = atomic64_read(&c->iotlb_misses);
	out->out_devtlb_hits = atomic64_read(&c->devtlb_hits);
	out->out_devtlb_misses = atomic64_read(&c->devtlb_misses);
	out->out_pasid_cache_hits = atomic64_read(&c->pasid_cache_hits);
	out->out_pasid_cache_misses = atomic64_read(&c->pasid_cache_misses);
	out->out_walks = atomic64_read(&c->walks);
	out->out_iotlb_flushed = atomic64_read(&c->iotlb_flushed);
	out->out_devtlb_flushed = atomic64_read(&c->devtlb_flushed);
	out->out_pasid_cache_flushed = atomic64_read(&c->pasid_cache_flushed);
	out->out_faults = atomic64_read(&c->faults);
	out->out_page_requests = atomic64_read(&c->page_requests);
	out->out_pinned_pages = atomic64_read(&ctx->pinned_pages);
	mutex_lock(&ctx->lock);
	out->out_pasids = ctx->set->nr;
	mutex_unlock(&ctx->lock);
	out->out_bindings = atomic_read(&ctx->nr_bindings);
	return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

/*
 * @size: the kernel's struct size; @min_size: the end of its v1 fields;
 * @err_off: offset of err_uptr (err_len follows it), or 0: no message;
 * @out: the struct has outputs the table copies back on success (a
 *	command that creates or destroys something copies them itself,
 *	before it commits: vsva_ucmd_respond()).
 */
struct vsva_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	unsigned int err_off;
	bool out;
	int (*execute)(struct vsva_ucmd *ucmd);
};

#define __VSVA_IOCTL_OP(_ioctl, _fn, _struct, _last, _err_off, _out)        \
	[_IOC_NR(_ioctl) - VSVA_CMD_BASE] = {                                \
		.size = sizeof(_struct) +                                    \
			BUILD_BUG_ON_ZERO(sizeof(union vsva_ucmd_buffer) <   \
					  sizeof(_struct)),                  \
		.min_size = offsetofend(_struct, _last),                     \
		.ioctl_num = _ioctl,                                         \
		.err_off = _err_off,                                         \
		.out = _out,                                                 \
		.execute = _fn,                                              \
	}
/* err_len follows err_uptr in every struct that has them. */
#define VSVA_ERR_OFF(_struct) offsetof(_struct, err_uptr)
#define VSVA_ERR_LEN_FOLLOWS(_s, _t) static_assert(offsetof(_s, err_len) == (_t) + 8)
VSVA_ERR_LEN_FOLLOWS(struct vsva_map, VSVA_ERR_OFF(struct vsva_map));
VSVA_ERR_LEN_FOLLOWS(struct vsva_device_attach,
		     VSVA_ERR_OFF(struct vsva_device_attach));
VSVA_ERR_LEN_FOLLOWS(struct vsva_pasid_alloc,
		     VSVA_ERR_OFF(struct vsva_pasid_alloc));
VSVA_ERR_LEN_FOLLOWS(struct vsva_nesting_op,
		     VSVA_ERR_OFF(struct vsva_nesting_op));
VSVA_ERR_LEN_FOLLOWS(struct vsva_cache_invalidate_batch,
		     VSVA_ERR_OFF(struct vsva_cache_invalidate_batch));
/* A command with outputs (copied back on success). */
#define VSVA_IOCTL_OP(_ioctl, _fn, _struct, _last)                           \
	__VSVA_IOCTL_OP(_ioctl, _fn, _struct, _last, 0, true)
/* A command with no outputs. */
#define VSVA_IOCTL_OP_NOOUT(_ioctl, _fn, _struct, _last)                     \
	__VSVA_IOCTL_OP(_ioctl, _fn, _struct, _last, 0, false)
/* A command whose struct carries err_uptr/err_len, without outputs. */
#define VSVA_IOCTL_OP_ERR(_ioctl, _fn, _struct, _last)                       \
	__VSVA_IOCTL_OP(_ioctl, _fn, _struct, _last, VSVA_ERR_OFF(_struct),  \
			false)
/*
 * A command that creates or destroys something and returns outputs: it
 * copies them back itself before it commits (vsva_ucmd_respond()).
 */
#define VSVA_IOCTL_OP_COMMIT(_ioctl, _fn, _struct, _last, _err_off)          \
	__VSVA_IOCTL_OP(_ioctl, _fn, _struct, _last, _err_off, false)

/*
 * Compatibility testing (kbuild VSVA_OLD_KERNEL=1, tests/compat): the module
 * behaves as an older release that knew struct vsva_info only up to
 * out_module_version (no features word: a newer client must not assume any
 * optional feature) and had neither batched invalidation nor page requests.
 */
#ifdef VSVA_OLD_KERNEL
#define VSVA_OLD 1
#define VSVA_INFO_SIZE offsetofend(struct vsva_info, out_module_version)
#else
#define VSVA_OLD 0
#define VSVA_INFO_SIZE sizeof(struct vsva_info)
#endif

/* Commands the release VSVA_OLD_KERNEL stands for did not have. */
static bool vsva_cmd_newer(unsigned int cmd)
{
	return VSVA_OLD && (cmd == VSVA_CACHE_INVALIDATE_BATCH ||
			    cmd == VSVA_FAULT_ALLOC ||
			    cmd == VSVA_PAGE_RESPONSE ||
			    cmd == VSVA_EMU_TRANSLATE);
}

static const struct vsva_ioctl_op vsva_ioctl_ops[] = {
	[_IOC_NR(VSVA_GET_INFO) - VSVA_CMD_BASE] = {
		.size = VSVA_INFO_SIZE,
		.min_size = VSVA_INFO_SIZE,
		.ioctl_num = VSVA_GET_INFO,
		.out = true,
		.execute = vsva_get_info,
	},
	VSVA_IOCTL_OP_COMMIT(VSVA_DOMAIN_ALLOC, vsva_domain_alloc,
			     struct vsva_domain_alloc, __reserved, 0),
	VSVA_IOCTL_OP_NOOUT(VSVA_DOMAIN_DESTROY, vsva_domain_destroy_ioctl,
			    struct vsva_destroy, __reserved),
	VSVA_IOCTL_OP_ERR(VSVA_MAP, vsva_map_ioctl, struct vsva_map,
			  __reserved2),
	VSVA_IOCTL_OP_COMMIT(VSVA_UNMAP, vsva_unmap_ioctl, struct vsva_unmap,
			     out_unmapped, 0),
	VSVA_IOCTL_OP_COMMIT(VSVA_DEVICE_ATTACH, vsva_attach_ioctl,
			     struct vsva_device_attach, __reserved,
			     VSVA_ERR_OFF(struct vsva_device_attach)),
	VSVA_IOCTL_OP_NOOUT(VSVA_DEVICE_DETACH, vsva_detach_ioctl,
			    struct vsva_destroy, __reserved),
	VSVA_IOCTL_OP_COMMIT(VSVA_PASID_ALLOC, vsva_pasid_alloc_ioctl,
			     struct vsva_pasid_alloc, __reserved2,
			     VSVA_ERR_OFF(struct vsva_pasid_alloc)),
	VSVA_IOCTL_OP_NOOUT(VSVA_PASID_FREE, vsva_pasid_free_ioctl,
			    struct vsva_pasid_free, __reserved),
	VSVA_IOCTL_OP_ERR(VSVA_BIND_GPASID, vsva_bind_ioctl,
			  struct vsva_nesting_op, __reserved),
	VSVA_IOCTL_OP_ERR(VSVA_UNBIND_GPASID, vsva_unbind_ioctl,
			  struct vsva_nesting_op, __reserved),
	VSVA_IOCTL_OP_ERR(VSVA_CACHE_INVALIDATE, vsva_invalidate_ioctl,
			  struct vsva_nesting_op, __reserved),
	__VSVA_IOCTL_OP(VSVA_CACHE_INVALIDATE_BATCH, vsva_batch_ioctl,
			struct vsva_cache_invalidate_batch, __reserved2,
			VSVA_ERR_OFF(struct vsva_cache_invalidate_batch), true),
	VSVA_IOCTL_OP_NOOUT(VSVA_FAULT_ALLOC, vsva_fault_alloc_ioctl,
			    struct vsva_fault_alloc, __reserved),
	VSVA_IOCTL_OP_ERR(VSVA_PAGE_RESPONSE, vsva_page_response_ioctl,
			  struct vsva_nesting_op, __reserved),
	VSVA_IOCTL_OP_NOOUT(VSVA_EMU_DMA, vsva_emu_dma_ioctl, struct vsva_emu_dma,
			    out_fault),
	VSVA_IOCTL_OP(VSVA_EMU_PASID_ENTRY, vsva_emu_pasid_entry_ioctl,
		      struct vsva_emu_pasid_entry, __reserved),
	VSVA_IOCTL_OP(VSVA_EMU_COUNTERS, vsva_emu_counters_ioctl,
		      struct vsva_emu_counters, out_bindings),
	VSVA_IOCTL_OP_NOOUT(VSVA_EMU_TRANSLATE, vsva_emu_translate_ioctl,
			    struct vsva_emu_translate, out_fault),
};

/*
 * Write @err's message (empty on success) to the caller's buffer, when the
 * command has one and the caller passed it.  Failures are ignored: they do
 * not change the errno.
 */
static void vsva_put_errmsg(const struct vsva_ioctl_op *op,
			    struct vsva_ucmd *ucmd, int rc)
{
	u64 uptr = *(u64 *)((u8 *)ucmd->cmd + op->err_off);
	u32 len = *(u32 *)((u8 *)ucmd->cmd + op->err_off + 8);
	char __user *ubuf = u64_to_user_ptr(uptr);
	size_t n;

	if (!uptr || !len)
		return;
	n = rc ? min_t(size_t, strlen(ucmd->err->buf), len - 1) : 0;
	if (n && copy_to_user(ubuf, ucmd->err->buf, n))
		return;
	if (put_user('\0', ubuf + n))
		return;
}

static long vsva_fops_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	union vsva_ucmd_buffer buf;
	struct vsva_errmsg err;
	const struct vsva_ioctl_op *op;
	struct vsva_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int rc;

	if (nr < VSVA_CMD_BASE ||
	    nr - VSVA_CMD_BASE >= ARRAY_SIZE(vsva_ioctl_ops))
		return -ENOTTY;
	op = &vsva_ioctl_ops[nr - VSVA_CMD_BASE];
	if (!op->execute || op->ioctl_num != cmd || vsva_cmd_newer(cmd))
		return -ENOTTY;

	ucmd.ctx = filp->private_data;
	ucmd.ubuffer = (void __user *)arg;
	rc = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (rc)
		return rc;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	rc = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				   ucmd.user_size);
	if (rc)
		return rc;
	ucmd.cmd = &buf;
	ucmd.out_size = min_t(u32, ucmd.user_size, op->size);
	err.buf[0] = '\0';
	ucmd.err = &err;
	rc = op->execute(&ucmd);
	if (op->err_off)
		vsva_put_errmsg(op, &ucmd, rc);
	if (rc || !op->out)
		return rc;
	return vsva_ucmd_respond(&ucmd);
}

static const struct file_operations vsva_fops = {
	.owner = THIS_MODULE,
	.open = vsva_fops_open,
	.release = vsva_fops_release,
	.unlocked_ioctl = vsva_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vsva_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vsva",
	.fops = &vsva_fops,
	.mode = 0660,
};

#ifdef VSVA_TEST_LEAK
/* Harness self-test: one allocation nobody frees (kmemleak must see it). */
static void *vsva_test_leak;
#endif

static int __init vsva_init(void)
{
	int rc;

#ifdef VSVA_TEST_LEAK
	vsva_test_leak = kmalloc(64, GFP_KERNEL);
	vsva_test_leak = NULL;
#endif
#ifdef VSVA_TEST_WARN
	/* Harness self-test: a warning the console checker must catch. */
	WARN_ON(1);
#endif
	rc = vsva_ioasid_init();
	if (rc)
		return rc;
	rc = vsva_topo_init();
	if (rc)
		goto out_ioasid;
	rc = vsva_emu_init();
	if (rc)
		goto out_topo;
	vsva_debugfs_init();
	rc = misc_register(&vsva_misc);
	if (rc)
		goto out_debugfs;
	return 0;

out_debugfs:
	vsva_debugfs_exit();
	vsva_emu_exit();
out_topo:
	vsva_topo_exit();
out_ioasid:
	vsva_ioasid_exit();
	return rc;
}

static void __exit vsva_exit(void)
{
	misc_deregister(&vsva_misc);
	vsva_debugfs_exit();
	vsva_emu_exit();
	vsva_topo_exit();
	vsva_ioasid_exit();
	vsva_ctxs_exit();
}

module_init(vsva_init);
module_exit(vsva_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("guest Shared Virtual Addressing on a nested IOMMU");
/* Keep in step with VSVA_MODULE_VERSION (gives modinfo a srcversion too). */
MODULE_VERSION("0.1.0");
