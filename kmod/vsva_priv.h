/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsva core objects.  One open /dev/vsva is one VM context: its IOASID set,
 * its stage-2 domains, its devices.
 *
 * Locking (outermost first):
 *   vsva_ctx.lock     mutex: the context's objects, their links (domain <->
 *                     device), bindings, and every call into a backend op.
 *   vsva_topo_lock    mutex (topology.c): the endpoint table and which
 *                     context owns each IOMMU group.
 *   vsva_ioasid_lock  mutex (ioasid.c): the system-wide PASID space, every
 *                     set's members and counts.  The IOASID notifier chain
 *                     is called with ctx->lock held but never under
 *                     vsva_ioasid_lock.
 *   mmap_lock         of the caller's mm, read and killable, while pinning
 *                     (accounting is atomic, per user: account.c).
 *   vsva_domain.s2_lock  rwsem: the domain's stage-2 mappings.  Writers
 *                     (map/unmap) take it under ctx->lock; the emulated
 *                     DMA path reads under it.  Never held while pinning
 *                     (mmap_lock is taken and dropped before it).
 *   backend-private spinlocks (emulated caches) nest inside both.
 *   xa_lock of ctx->objects: only for lookups without ctx->lock.
 *
 * Objects (object.h): a domain or device becomes visible in ctx->objects
 * only once its creating call has returned its id; every id is handed out
 * cyclically.
 */
#ifndef _VSVA_PRIV_H
#define _VSVA_PRIV_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/xarray.h>

#include "backend.h"
#include "object.h"

struct dentry;
struct mm_struct;
struct seq_file;
struct vsva_endpoint;
struct vsva_ioasid_set;
struct vsva_user;

/* Stage-2 input (guest-physical) address width. */
#define VSVA_GPA_BITS 48
/* System-wide PASID space width; PASID 0 is reserved. */
#define VSVA_PASID_BITS 20
#define VSVA_PASID_MAX ((1U << VSVA_PASID_BITS) - 1)
/* Pages pinned per stage-2 chunk: its page array is one 4 KiB kmalloc. */
#define VSVA_S2_CHUNK_PAGES 512
/* Largest VSVA_CACHE_INVALIDATE_BATCH. */
#define VSVA_MAX_BATCH 1024
/* Smallest size of the context's batch copy (3.5 KiB, one kmalloc-4k). */
#define VSVA_INV_BUF_ENTRIES 64
/*
 * debugfs lists at most this many entries of one list (PASIDs of a set or
 * a device, mappings of a domain), then how many it left out: a dump stays
 * small and quick however large a hostile VM made its context.
 */
#define VSVA_DEBUGFS_LIST_MAX 64
/* Largest payload (data_len) accepted; beyond: -E2BIG. */
#define VSVA_MAX_PAYLOAD 4096

enum vsva_obj_type {
	VSVA_OBJ_DOMAIN = 1,
	VSVA_OBJ_DEVICE,
};

/*
 * Common header of every object of a context, stored in ctx->objects.
 * @users: the context's reference, plus vsva_device_get()s, plus, on a
 * domain, one per device attached to it (or being attached).
 */
struct vsva_obj {
	refcount_t users;
	enum vsva_obj_type type;
	u32 id;
};

/**
 * struct vsva_ctx - one open /dev/vsva: a VM
 * @lock: see the locking comment at the top of this file
 * @objects: domains and devices by id (cyclic ids from 1; a reserved id
 *	holds no entry until its object is published)
 * @next_obj_id: cursor of the cyclic object id allocation (@lock)
 * @nr_objects: objects reserved or published (@lock)
 * @max_objects: vsva.max_objects when the context opened
 * @counters: VSVA_EMU_COUNTERS / debugfs counters
 * @ops: the backend
 * @emu: the emulated backend's per-context state
 * @ref: the struct's lifetime: the file and kernel-internal users
 *	(vsva_ctx_get()); the emulated fault fd holds none
 * @id: system-wide context id (debugfs, kernel-internal API)
 * @dead: set under @lock once release() started: no new state
 * @set: this context's IOASID set
 * @pinned_pages: pages pinned by this context's mappings
 * @nr_bindings: (device, PASID) bindings
 * @debugfs: the context's debugfs file
 * @owner_pid: thread group id of the process that opened the context
 *	(in the initial PID namespace)
 * @owner_uid: its effective uid then (in the initial user namespace)
 * @owner_comm: its command name then
 * @inv_buf_lock: held by the batch using @inv_buf (taken by
 *	mutex_trylock() only: a batch that finds it held allocates its own
 *	copy)
 * @inv_buf: the kernel copy of a batch (@inv_buf_len entries, NULL
 *	until the first batch), grown to the largest batch the context sent
 *	and kept until the context is freed, so that a batch allocates
 *	nothing but the first time (or when another batch holds it)
 * @inv_buf_len: entries @inv_buf holds (@inv_buf_lock)
 */
struct vsva_ctx {
	struct mutex lock;	/* see the top of this file */
	struct xarray objects;
	u32 next_obj_id;
	unsigned int nr_objects;
	unsigned int max_objects;
	struct vsva_counters counters;
	const struct vsva_backend_ops *ops;
	/* Backend/emulation state attached to the context (fault queue). */
	void *emu;
	struct kref ref;
	u32 id;
	bool dead;
	struct vsva_ioasid_set *set;
	atomic64_t pinned_pages;
	atomic_t nr_bindings;
	struct dentry *debugfs;
	pid_t owner_pid;
	uid_t owner_uid;
	char owner_comm[TASK_COMM_LEN];
	struct mutex inv_buf_lock;	/* see the kernel-doc above */
	struct vsva_cache_invalidate_info *inv_buf;
	u32 inv_buf_len;
};

/**
 * struct vsva_s2_map - one chunk of a VSVA_MAP range
 * @node: in vsva_domain.maps
 * @gpa: first guest-physical byte of the chunk
 * @npages: 4 KiB pages of the chunk (at most VSVA_S2_CHUNK_PAGES)
 * @prot: VSVA_S2_READ / VSVA_S2_WRITE
 * @range_gpa: first byte of the VSVA_MAP range the chunk belongs to
 * @range_len: length of that range (unmap never splits it)
 * @pages: the pinned pages
 * @mm: the mm whose VmPin shows them (mmgrab()ed)
 * @user: the user charged for them (RLIMIT_MEMLOCK)
 */
struct vsva_s2_map {
	struct list_head node;
	u64 gpa;
	unsigned long npages;
	u32 prot;
	u64 range_gpa;
	u64 range_len;
	struct page **pages;
	struct mm_struct *mm;
	struct vsva_user *user;
};

struct vsva_domain {
	struct vsva_obj obj;
	struct vsva_ctx *ctx;
	struct list_head devices;	/* vsva_device.dom_node, ctx->lock */
	struct rw_semaphore s2_lock;
	void *backend;
	/* Stage 2: gfn -> struct vsva_s2_map, writers hold s2_lock. */
	struct xarray s2;
	struct list_head maps;		/* vsva_s2_map.node, s2_lock */
	unsigned long pinned;		/* pages, s2_lock */
	unsigned int nr_devices;	/* ctx->lock */
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
	/* Bound host PASIDs (index), ctx->lock. */
	struct xarray bound;
	unsigned int nr_bound;
	struct vsva_endpoint *ep;
};

/*
 * Test hooks, built only with kbuild VSVA_TEST_HOOKS=1 (tests/vm/run does):
 * debugfs fail_bind_nth makes a bind fail on its Nth device (0 = off);
 * bench_skip_inv_backend (the benchmark's breakdown) makes an invalidation
 * stop after the UAPI layer's checks, before the backend's flush.
 */
#ifdef VSVA_TEST_HOOKS
extern unsigned int vsva_fail_bind_nth;
extern unsigned int vsva_bench_skip_inv_backend;
static inline unsigned int vsva_test_fail_bind_nth(void)
{
	return READ_ONCE(vsva_fail_bind_nth);
}

static inline bool vsva_test_skip_inv_backend(void)
{
	return READ_ONCE(vsva_bench_skip_inv_backend);
}
#else
static inline unsigned int vsva_test_fail_bind_nth(void)
{
	return 0;
}

static inline bool vsva_test_skip_inv_backend(void)
{
	return false;
}
#endif

/* iommu_uapi.c */
u32 vsva_inv_matrix(void);

/* stage2.c */
int vsva_s2_map(struct vsva_ctx *ctx, struct vsva_domain *dom, u64 gpa,
		u64 length, u64 vaddr, u32 prot, struct vsva_errmsg *err);
int vsva_s2_unmap(struct vsva_ctx *ctx, struct vsva_domain *dom, u64 gpa,
		  u64 length, u64 *unmapped, struct vsva_errmsg *err);
int vsva_s2_unmap_bytes(struct vsva_ctx *ctx, struct vsva_domain *dom,
			u64 gpa, u64 length, u64 *bytes,
			struct vsva_errmsg *err);
void vsva_s2_unmap_all(struct vsva_ctx *ctx, struct vsva_domain *dom);
bool vsva_s2_mapped(struct vsva_domain *dom, u64 gpa);
u64 vsva_s2_global_pinned(void);

/* topology.c */
int vsva_topo_init(void);
void vsva_topo_exit(void);
int vsva_topo_claim(struct vsva_ctx *ctx, struct vsva_domain *dom, u16 rid,
		    u32 enable, struct vsva_endpoint **out_ep, u32 *out_caps,
		    struct vsva_errmsg *err);
void vsva_topo_release(struct vsva_endpoint *ep);
void vsva_topo_show(struct seq_file *s);
ssize_t vsva_topo_write(const char *buf, size_t len);
int vsva_rid_print(char *buf, size_t len, u16 rid);

/* debugfs.c */
void vsva_debugfs_init(void);
void vsva_debugfs_exit(void);
void vsva_debugfs_ctx_add(struct vsva_ctx *ctx);
void vsva_debugfs_ctx_remove(struct vsva_ctx *ctx);
extern atomic_t vsva_nr_contexts;

/* kapi.c: internals shared with the UAPI layer (no field checks). */
int __vsva_bind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
		       const struct vsva_gpasid_bind_data *data,
		       struct vsva_errmsg *err);
/*
 * @strict: an allocated PASID not bound on a target fails with -ENOENT
 * (kernel callers); else it is skipped and the call succeeds (the v1
 * UAPI, as Linux 5.11).
 */
int __vsva_unbind_gpasid(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			 u32 hpasid, bool strict, struct vsva_errmsg *err);
int __vsva_cache_invalidate(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			    const struct vsva_cache_invalidate_info *inv,
			    struct vsva_errmsg *err);
int __vsva_cache_invalidate_n(struct vsva_ctx *ctx, u32 target_id, u32 flags,
			      const struct vsva_cache_invalidate_info *inv,
			      unsigned int n, unsigned int *handled,
			      struct vsva_errmsg *err);
/*
 * The same from the ioctls: an invalidation of one device runs without
 * ctx->lock (kapi.c, vsva_inv_one_dev()); only callers that hold the
 * context's file may use it.
 */
int __vsva_cache_invalidate_user(struct vsva_ctx *ctx, u32 target_id,
				 u32 flags,
				 const struct vsva_cache_invalidate_info *inv,
				 unsigned int n, unsigned int *handled,
				 struct vsva_errmsg *err);
int __vsva_page_response(struct vsva_ctx *ctx, u32 dev_id,
			 const struct vsva_page_response *msg,
			 struct vsva_errmsg *err);
void vsva_unbind_all(struct vsva_ctx *ctx, struct vsva_device *dev);

/* iommu_uapi.c: the only code that copies nesting payloads from user. */
int vsva_check_bind_data(const struct vsva_gpasid_bind_data *data,
			 bool rid_ok, struct vsva_errmsg *err);
int vsva_check_inv_info(const struct vsva_cache_invalidate_info *inv,
			bool rid_ok, struct vsva_errmsg *err);
int vsva_check_page_resp(const struct vsva_page_response *msg,
			 struct vsva_errmsg *err);
int vsva_uapi_bind(struct vsva_ctx *ctx, const struct vsva_nesting_op *op,
		   struct vsva_errmsg *err);
int vsva_uapi_unbind(struct vsva_ctx *ctx, const struct vsva_nesting_op *op,
		     struct vsva_errmsg *err);
int vsva_uapi_invalidate(struct vsva_ctx *ctx,
			 const struct vsva_nesting_op *op,
			 struct vsva_errmsg *err);
int vsva_uapi_invalidate_batch(struct vsva_ctx *ctx,
			       const struct vsva_cache_invalidate_batch *b,
			       u32 *handled, struct vsva_errmsg *err);
int vsva_uapi_page_response(struct vsva_ctx *ctx,
			    const struct vsva_nesting_op *op,
			    struct vsva_errmsg *err);

#endif /* _VSVA_PRIV_H */
