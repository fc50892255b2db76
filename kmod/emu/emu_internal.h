/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private state of the emulated nested IOMMU.
 *
 * Locking (outermost first): ctx->lock (the core's mutex; held around every
 * backend op but a one-device invalidation from the ioctls, and by the DMA
 * path around each page it moves), then emu_ctx.inv_sem (invalidations
 * shared, a DMA's or translation's page exclusive), then dom->s2_lock
 * (read, for stage-2 lookups), then a cache's mutex (struct
 * emu_cache.lock), then one of the emulation's spinlocks: the context's page
 * request lock (emu_ctx.prq_lock), the fault queue's lock (emu_fq.lock).
 * No two of those spinlocks are ever held together, except emu_ctx.prq_lock
 * -> emu_fq.lock when a page request is published.  Nothing here runs in
 * IRQ context, so no lock disables interrupts.
 *
 * Every cache belongs to one domain (IOTLB with its paging-structure cache)
 * or one device (PASID cache, device TLB), hence to one context: a VM's
 * flushes never walk, lock or evict another VM's entries.
 */
#ifndef _VSVA_EMU_INTERNAL_H
#define _VSVA_EMU_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "../vsva_priv.h"
#include "emu.h"

/*
 * Capacities: fixed, so a guest can never make the host allocate more.
 * Entries are allocated as they are first used, so an idle domain costs
 * only its hash buckets.
 */
#define EMU_IOTLB_ENTRIES	4096	/* per domain */
#define EMU_PASID_CACHE_ENTRIES	512	/* per device */
#define EMU_DEVTLB_ENTRIES	64	/* per device with ATS */
/* Entries a flush or a teardown visits between two cond_resched(). */
#define EMU_RESCHED_BATCH	64
/* PASIDs per device the debugfs dump lists. */
#define EMU_DEBUGFS_PASIDS	64
#define EMU_FQ_DEPTH		128	/* fault records per context */
#define EMU_PRQ_MAX		256	/* pending page requests per context */
#define EMU_PRG_IDS		512	/* PCIe page request group index: 9 bits */
#define EMU_DMA_MAX		BIT(20)
#define EMU_DMA_SMALL		128	/* on-stack bounce buffer */
#define EMU_PRQ_RETRIES		16	/* SUCCESS answers per page, per DMA */

/* What a cache entry describes. */
enum emu_kind {
	EMU_K_LEAF = 1,		/* a translation: IOTLB or device TLB */
	EMU_K_PDE,		/* paging-structure cache: PT table of a 2M VA */
	EMU_K_PASID,		/* PASID cache: a copy of a PASID entry */
};

/* Access rights of a cached translation (stage 1, all levels combined). */
#define EMU_P_W		BIT(0)	/* writable (R/W at every level) */
#define EMU_P_U		BIT(1)	/* user (U/S at every level) */
#define EMU_P_X		BIT(2)	/* executable (no NX at any level) */
#define EMU_P_D		BIT(3)	/* the leaf's dirty bit is set */

/**
 * struct emu_tlbe - one entry of an emulated cache
 * @hnode: in emu_cache.buckets
 * @lru: in emu_cache.lru (most recent first)
 * @pnode: in its PASID's struct emu_pasid_list
 * @pl: that list
 * @dom: domain tag (IOTLB, PASID cache) or 0
 * @dev: device tag (PASID cache) or 0
 * @pasid: host PASID
 * @kind: enum emu_kind
 * @shift: log2 of the span: 12, 21 or 30 (leaf), 21 (PDE), 0 (PASID)
 * @perm: EMU_P_* (leaf, PDE: rights of the levels above)
 * @va: first IOVA covered (leaf, PDE)
 * @out: leaf: GPA of the page; PDE: GPA of the PT table; PASID: gpgd
 * @aux: PASID: (vtd flags << 8) | addr_width
 */
struct emu_tlbe {
	struct hlist_node hnode;
	struct list_head lru;
	struct list_head pnode;
	struct emu_pasid_list *pl;
	u64 dom;
	u64 dev;
	u32 pasid;
	u8 kind;
	u8 shift;
	u8 perm;
	u64 va;
	u64 out;
	u64 aux;
};

/**
 * struct emu_pasid_list - the entries of one PASID in one cache
 * @entries: struct emu_tlbe.pnode
 * @pasid: the PASID
 * @n: how many
 * @sizes: how many of each (kind, page size), by emu_size_slot(): a
 *	flush probes only the sizes the PASID has cached
 * @lo: lowest IOVA any leaf or PDE entry covered since the list was made
 * @hi: highest such IOVA (inclusive); not narrowed when entries go, so
 *	[@lo, @hi] covers every entry: a range flush outside it drops nothing
 *	and probes nothing
 */
struct emu_pasid_list {
	struct list_head entries;
	u32 pasid;
	unsigned int n;
	unsigned int sizes[4];
	u64 lo;
	u64 hi;
};

/**
 * struct emu_cache - a fixed-capacity, hashed, LRU-replaced cache
 * @lock: protects everything below; a mutex, so a long flush can
 *	cond_resched() and nothing waits with preemption off
 * @cap: maximum number of entries
 * @used: entries
 * @hbits: log2 of the number of hash buckets
 * @buckets: hash of the entries by key
 * @lru: the entries, most recently used first
 * @by_pasid: PASID -> struct emu_pasid_list, while the PASID has entries:
 *	a PASID-selective flush visits that PASID's entries only
 * @hint: the list last found in @by_pasid, or NULL (cleared when freed)
 * @free: unused entries (linked by .lru), from @blocks
 * @blocks: the entries' memory, allocated EMU_BLOCK entries at a time as
 *	the cache fills and freed with it: dropping an entry frees nothing,
 *	so a flush or a teardown costs list operations, not allocator calls
 */
struct emu_cache {
	struct mutex lock;	/* see the kernel-doc above */
	unsigned int cap;
	unsigned int used;
	unsigned int hbits;
	struct hlist_head *buckets;
	struct list_head lru;
	struct xarray by_pasid;
	struct emu_pasid_list *hint;
	struct list_head free;
	struct list_head blocks;
};

/**
 * struct emu_match - a flush filter: which entries to drop
 * @dom: domain tag to match, with @match_dom
 * @dev: device tag to match, with @match_dev
 * @pasid: PASID to match, with @match_pasid
 * @match_dom: compare @dom
 * @match_dev: compare @dev
 * @match_pasid: compare @pasid
 * @kind_mask: BIT(enum emu_kind) of the kinds to drop
 * @start: first IOVA of the range (leaf and PDE entries overlapping it)
 * @last: last IOVA of the range (inclusive)
 */
struct emu_match {
	u64 dom;
	u64 dev;
	u32 pasid;
	bool match_dom;
	bool match_dev;
	bool match_pasid;
	u8 kind_mask;
	u64 start;
	u64 last;
};

/*
 * True when @m certainly drops nothing from @c, found without a call: the
 * cache is empty, or @m names a range of the PASID last looked up
 * (emu_cache.hint) outside what that PASID ever cached.  The lock is held.
 * False means "maybe": emu_cache_flush_locked() finds out.
 */
static inline bool emu_cache_nothing(const struct emu_cache *c,
				     const struct emu_match *m)
{
	const struct emu_pasid_list *pl = c->hint;

	if (!c->used)
		return true;
	return m->match_pasid && pl && pl->pasid == m->pasid &&
	       !(m->kind_mask & BIT(EMU_K_PASID)) &&
	       (m->last < pl->lo || m->start > pl->hi);
}

/*
 * A batch's usual entry decided in a few instructions: true when @inv is an
 * ADDR invalidation of @pl's PASID (@pl: the cache's hint, the PASID last
 * looked up, or NULL) whose range lies outside what that PASID ever
 * cached, so that it drops no translation or paging-structure entry
 * from that cache (the IOTLB or a device TLB: not for PASID-cache
 * entries, which have no range).  False means "maybe": the caller builds
 * the filter and asks
 * emu_cache_nothing() and emu_cache_flush_locked().  A range whose size
 * is 0 or overflows is left to them (they clamp it).  The lock is held.
 */
static __always_inline bool
emu_inv_addr_nothing(const struct emu_pasid_list *pl,
		     const struct vsva_cache_invalidate_info *inv)
{
	const struct vsva_inv_addr_info *a = &inv->granu.addr_info;
	u64 size, start, last;

	if (inv->granularity != VSVA_INV_GRANU_ADDR || !pl ||
	    pl->pasid != a->pasid)
		return false;
	if (check_mul_overflow(a->granule_size, a->nb_granules, &size) ||
	    !size)
		return false;
	start = a->addr & ~(a->granule_size - 1);
	if (check_add_overflow(start, size - 1, &last))
		return false;
	return last < pl->lo || start > pl->hi;
}

int emu_cache_init(struct emu_cache *c, unsigned int cap);
void emu_cache_destroy(struct emu_cache *c);
bool emu_cache_lookup(struct emu_cache *c, u64 dom, u64 dev, u32 pasid,
		      u8 kind, u8 shift, u64 va, struct emu_tlbe *out);
bool emu_cache_lookup_leaf(struct emu_cache *c, u64 dom, u64 dev, u32 pasid,
			   u64 va, struct emu_tlbe *out);
void emu_cache_insert(struct emu_cache *c, const struct emu_tlbe *e);
unsigned int emu_cache_flush(struct emu_cache *c, const struct emu_match *m);
void emu_cache_lock(struct emu_cache *c);
void emu_cache_unlock(struct emu_cache *c);
unsigned int emu_cache_flush_locked(struct emu_cache *c,
				    const struct emu_match *m);
unsigned int emu_cache_used(struct emu_cache *c);

/* Module load / unload: the slab of cache entries. */
int emu_cache_module_init(void);
void emu_cache_module_exit(void);

/**
 * struct emu_dom - backend state of a stage-2 domain
 * @tag: unique for the module's lifetime; the domain id of cache entries
 * @iotlb: the domain's IOTLB and paging-structure cache, tagged (domain,
 *	PASID) like VT-d's (DID, PASID)
 */
struct emu_dom {
	u64 tag;
	struct emu_cache iotlb;
};

/**
 * struct emu_pasid - a bound PASID entry (nested translation)
 * @gpgd: stage-1 root (GPA)
 * @addr_width: 48 or 57
 * @vtd_flags: VSVA_VTD_GPASID_*
 * @gpasid: the guest PASID, when @gpasid_valid
 * @gpasid_valid: whether @gpasid was given
 */
struct emu_pasid {
	u64 gpgd;
	u32 addr_width;
	u64 vtd_flags;
	u32 gpasid;
	bool gpasid_valid;
};

/**
 * struct emu_dev - backend state of an attached device
 * @tag: unique for the module's lifetime
 * @pasids: host PASID -> struct emu_pasid (the PASID table); ctx->lock
 * @devtlb: device TLB (used with ATS enabled)
 * @pasid_cache: the PASID cache of this device's PASID table
 */
struct emu_dev {
	u64 tag;
	struct xarray pasids;
	struct emu_cache *devtlb;
	struct emu_cache pasid_cache;
};

/**
 * struct emu_fq - a context's fault queue, shared with its fault fd
 * @users: the context and the file
 * @read_lock: serialises readers (a record is copied out, then popped)
 * @lock: protects everything below
 * @wq: readers and pollers
 * @ring: queued records
 * @head: index of the oldest record
 * @count: queued records
 * @lost: records dropped since the last queued one
 * @seq: sequence number of the next record
 * @dead: the context is gone; nothing will be queued any more
 */
struct emu_fq {
	refcount_t users;
	struct mutex read_lock;	/* see the kernel-doc above */
	spinlock_t lock;	/* see the kernel-doc above */
	wait_queue_head_t wq;
	struct vsva_fault_event ring[EMU_FQ_DEPTH];
	unsigned int head;
	unsigned int count;
	u32 lost;
	u32 seq;
	bool dead;
};

/**
 * struct emu_prq - a pending page request
 * @node: in emu_ctx.prqs while pending
 * @dev_id: the device's id
 * @dev_tag: the device's tag
 * @pasid: host PASID
 * @grpid: page request group index
 * @code: the response (VSVA_PAGE_RESP_*), once @done
 * @done: answered
 * @waiter: a DMA waits for it and frees it; else whoever answers frees it
 */
struct emu_prq {
	struct list_head node;
	u32 dev_id;
	u64 dev_tag;
	u32 pasid;
	u32 grpid;
	u32 code;
	bool done;
	bool waiter;
};

/**
 * struct emu_ctx - emulation state of a context
 * @fq: the fault queue, once VSVA_FAULT_ALLOC ran (ctx->lock)
 * @prq_lock: protects @prqs, @nr_prqs, @next_grpid and every emu_prq
 * @prqs: pending page requests
 * @nr_prqs: their number
 * @next_grpid: next group index to try
 * @prq_wq: DMAs waiting for a page response
 * @inv_sem: invalidations take it shared (they may run without ctx->lock:
 *	two devices' at once), an emulated DMA or translation exclusive
 *	around each page's translation and access (under ctx->lock): an
 *	invalidation never lands between a walk and the caching of its
 *	result, and when it returns no access uses what it flushed (VT-d's
 *	drain)
 */
struct emu_ctx {
	struct emu_fq *fq;
	struct rw_semaphore inv_sem;	/* see the kernel-doc above */
	spinlock_t prq_lock;	/* see the kernel-doc above */
	struct list_head prqs;
	unsigned int nr_prqs;
	u32 next_grpid;
	wait_queue_head_t prq_wq;
};

/* Result of a translation. */
struct emu_xlate {
	u64 gpa;		/* GPA of the byte at the IOVA */
	u64 vtd;		/* the PASID entry's VSVA_VTD_GPASID_* flags */
	u8 shift;
	u8 perm;
};

/* Access type of a request: VSVA_FAULT_PERM_* bits. */
/* Fill @f as an unrecoverable fault of a PASID-tagged access at @iova. */
void emu_fault_fill(struct vsva_fault_unrecoverable *f, u32 reason,
		    u32 pasid, u32 access, u64 iova, u64 fetch_gpa,
		    bool fetch_valid);

/*
 * The device tag of a domain IOTLB entry (leaf or PDE).  Host PASIDs are
 * unique, so their entries need none (0); RID_PASID is every device's
 * PASID 0, each bound to its own table: its entries carry the device.
 */
static inline u64 emu_iotlb_dev(u32 pasid, u64 dev_tag)
{
	return pasid == VSVA_RID_PASID ? dev_tag : 0;
}

int emu_walk(struct vsva_ctx *ctx, struct vsva_domain *dom,
	     const struct emu_pasid *pe, u32 pasid, u64 rdev, u64 iova,
	     u32 access, struct emu_xlate *out,
	     struct vsva_fault_unrecoverable *f, bool *recoverable);

bool emu_access_ok(u64 vtd, u8 perm, u32 access);

/* Fault queue and page requests (emu_fault.c). */
void emu_fq_put(struct emu_fq *fq);
bool emu_fq_push(struct emu_fq *fq, u32 dev_id, const struct vsva_fault *f,
		 bool try);
int emu_prq_queue(struct vsva_ctx *ctx, struct vsva_device *dev, u32 pasid,
		  u64 iova, u32 perm, bool wait, u32 *grpid,
		  struct emu_prq **out);
void emu_prq_cancel(struct vsva_ctx *ctx, u64 dev_tag, u32 pasid,
		    bool all_pasids);
int emu_prq_wait(struct vsva_ctx *ctx, struct emu_prq *prq, u32 *code);
bool emu_prq_withdraw(struct vsva_ctx *ctx, u32 dev_id, u64 dev_tag,
		      u32 grpid);
int emu_page_response(struct vsva_device *dev,
		      const struct vsva_page_response *msg,
		      struct vsva_errmsg *err);

static inline struct emu_ctx *emu_ctx(struct vsva_ctx *ctx)
{
	return ctx->emu;
}

static inline struct emu_dev *emu_dev(struct vsva_device *dev)
{
	return dev->backend;
}

static inline struct emu_dom *emu_dom(struct vsva_domain *dom)
{
	return dom->backend;
}

#endif /* _VSVA_EMU_INTERNAL_H */
