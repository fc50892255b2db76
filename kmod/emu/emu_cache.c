// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated IOMMU's caches (IOTLB with its paging-structure cache, PASID
 * cache, device TLBs): fixed capacity, hashed by key, least recently used
 * entry replaced.  Each cache belongs to one domain or one device, so no
 * VM ever walks or locks another VM's entries.
 *
 * What a flush costs: nothing when the PASID has nothing cached; a small
 * range probes the hash for the page sizes the PASID holds, or visits the
 * PASID's entries when there are fewer of them; a PASID-selective flush
 * visits that PASID's entries (indexed per PASID); a domain- or
 * device-wide flush drops the cache it names.  So a flush and an unbind
 * cost O(entries dropped + 1), never the size of the cache; a teardown
 * frees a cache whole, a block of entries at a time.  The lock is a
 * mutex: nothing here runs in IRQ context, and a long flush reschedules
 * every EMU_RESCHED_BATCH entries.
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "emu_internal.h"

/* A flush probes the hash when it would take at most this many lookups. */
#define EMU_PROBE_MAX 64

/* Entries per block: a block fits in one 4 KiB allocation. */
#define EMU_BLOCK ((4096 - sizeof(struct list_head)) / sizeof(struct emu_tlbe))

struct emu_block {
	struct list_head node;
	struct emu_tlbe e[EMU_BLOCK];
};

int emu_cache_module_init(void)
{
	BUILD_BUG_ON(sizeof(struct emu_block) > 4096);
	return 0;
}

void emu_cache_module_exit(void)
{
}

/* Index of @kind/@shift in emu_pasid_list.sizes. */
static unsigned int emu_size_slot(u8 kind, u8 shift)
{
	if (kind != EMU_K_LEAF)
		return 3;
	return shift == 12 ? 0 : shift == 21 ? 1 : 2;
}

/* An unused entry, from the free list or a new block; NULL without memory. */
static struct emu_tlbe *emu_entry_get(struct emu_cache *c)
{
	struct emu_block *b;
	struct emu_tlbe *e;
	unsigned int i;

	if (list_empty(&c->free)) {
		b = kmalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
		if (!b)
			return NULL;
		list_add(&b->node, &c->blocks);
		for (i = 0; i < EMU_BLOCK; i++)
			list_add_tail(&b->e[i].lru, &c->free);
	}
	e = list_first_entry(&c->free, struct emu_tlbe, lru);
	list_del(&e->lru);
	return e;
}

int emu_cache_init(struct emu_cache *c, unsigned int cap)
{
	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->lru);
	INIT_LIST_HEAD(&c->free);
	INIT_LIST_HEAD(&c->blocks);
	xa_init(&c->by_pasid);
	c->hint = NULL;
	c->cap = cap;
	c->used = 0;
	/* About four entries per bucket when full. */
	c->hbits = max(ilog2(roundup_pow_of_two(cap)) - 2, 4);
	c->buckets = kvcalloc(1U << c->hbits, sizeof(*c->buckets),
			      GFP_KERNEL_ACCOUNT);
	if (!c->buckets) {
		mutex_destroy(&c->lock);
		return -ENOMEM;
	}
	return 0;
}

static u32 emu_key_hash(const struct emu_cache *c, u64 dom, u64 dev, u32 pasid,
			u8 kind, u8 shift, u64 va)
{
	u64 k = (va >> 12) ^ ((u64)pasid << 36) ^ ((u64)kind << 58) ^
		((u64)shift << 60);

	k ^= hash_64(dom, 32) ^ ((u64)hash_64(dev, 32) << 32);
	return hash_64(k, c->hbits);
}

static struct emu_tlbe *emu_find(struct emu_cache *c, u64 dom, u64 dev,
				 u32 pasid, u8 kind, u8 shift, u64 va)
{
	struct emu_tlbe *e;

	hlist_for_each_entry(e, &c->buckets[emu_key_hash(c, dom, dev, pasid,
							 kind, shift, va)],
			     hnode) {
		if (e->dom == dom && e->dev == dev && e->pasid == pasid &&
		    e->kind == kind && e->shift == shift && e->va == va)
			return e;
	}
	return NULL;
}

/*
 * Unlink @e from every index; the caller frees or reuses it.  The PASID's
 * list goes with its last entry.
 */
static void emu_unlink(struct emu_cache *c, struct emu_tlbe *e)
{
	struct emu_pasid_list *pl = e->pl;

	hlist_del(&e->hnode);
	list_del(&e->lru);
	list_del(&e->pnode);
	c->used--;
	pl->sizes[emu_size_slot(e->kind, e->shift)]--;
	if (!--pl->n) {
		xa_erase(&c->by_pasid, e->pasid);
		if (c->hint == pl)
			c->hint = NULL;
		kfree(pl);
	}
}

/*
 * The PASID's list, or NULL when it has nothing cached.  The last list
 * found is kept (@c->hint): consecutive flushes and fills of one PASID,
 * the common case of a batch and of a DMA, look it up once.
 */
static struct emu_pasid_list *emu_pasid_list(struct emu_cache *c, u32 pasid)
{
	struct emu_pasid_list *pl = c->hint;

	if (pl && pl->pasid == pasid)
		return pl;
	pl = xa_load(&c->by_pasid, pasid);
	if (pl)
		c->hint = pl;
	return pl;
}

static void emu_drop(struct emu_cache *c, struct emu_tlbe *e)
{
	emu_unlink(c, e);
	list_add(&e->lru, &c->free);
}

void emu_cache_destroy(struct emu_cache *c)
{
	struct emu_pasid_list *pl;
	struct emu_block *b, *tmp;
	unsigned long pasid;

	if (!c->buckets)
		return;
	/* The entries go with their blocks: one free per EMU_BLOCK entries. */
	list_for_each_entry_safe(b, tmp, &c->blocks, node) {
		kfree(b);
		cond_resched();
	}
	INIT_LIST_HEAD(&c->blocks);
	INIT_LIST_HEAD(&c->free);
	xa_for_each(&c->by_pasid, pasid, pl)
		kfree(pl);
	xa_destroy(&c->by_pasid);
	c->hint = NULL;
	kvfree(c->buckets);
	c->buckets = NULL;
	INIT_LIST_HEAD(&c->lru);
	c->used = 0;
	mutex_destroy(&c->lock);
}

/* Look up one exact key; on a hit copy the entry and make it most recent. */
bool emu_cache_lookup(struct emu_cache *c, u64 dom, u64 dev, u32 pasid,
		      u8 kind, u8 shift, u64 va, struct emu_tlbe *out)
{
	struct emu_tlbe *e;

	mutex_lock(&c->lock);
	e = emu_find(c, dom, dev, pasid, kind, shift, va);
	if (e) {
		list_move(&e->lru, &c->lru);
		*out = *e;
	}
	mutex_unlock(&c->lock);
	return e;
}

/* Look up the 4K, 2M and 1G translations that may cover @va. */
bool emu_cache_lookup_leaf(struct emu_cache *c, u64 dom, u64 dev, u32 pasid,
			   u64 va, struct emu_tlbe *out)
{
	struct emu_tlbe *e = NULL;
	unsigned int shift;

	mutex_lock(&c->lock);
	for (shift = 12; shift <= 30 && !e; shift += 9)
		e = emu_find(c, dom, dev, pasid, EMU_K_LEAF, shift,
			     va & ~((1ULL << shift) - 1));
	if (e) {
		list_move(&e->lru, &c->lru);
		*out = *e;
	}
	mutex_unlock(&c->lock);
	return e;
}

/*
 * Insert or refresh; a full cache replaces its least recently used entry.
 * Caching is best effort: when memory is short the entry is not cached,
 * which a guest cannot tell from an eviction.
 */
void emu_cache_insert(struct emu_cache *c, const struct emu_tlbe *n)
{
	struct emu_pasid_list *pl;
	struct emu_tlbe *e;

	mutex_lock(&c->lock);
	e = emu_find(c, n->dom, n->dev, n->pasid, n->kind, n->shift, n->va);
	if (e) {
		e->perm = n->perm;
		e->out = n->out;
		e->aux = n->aux;
		list_move(&e->lru, &c->lru);
		goto out;
	}
	if (c->used >= c->cap) {
		/* Full: reuse the least recently used entry. */
		e = list_last_entry(&c->lru, struct emu_tlbe, lru);
		emu_unlink(c, e);
	} else {
		e = emu_entry_get(c);
		if (!e)
			goto out;
	}
	pl = emu_pasid_list(c, n->pasid);
	if (!pl) {
		pl = kmalloc(sizeof(*pl), GFP_KERNEL_ACCOUNT);
		if (pl && xa_err(xa_store(&c->by_pasid, n->pasid, pl,
					  GFP_KERNEL_ACCOUNT))) {
			kfree(pl);
			pl = NULL;
		}
		if (!pl) {
			list_add(&e->lru, &c->free);
			goto out;
		}
		INIT_LIST_HEAD(&pl->entries);
		pl->pasid = n->pasid;
		pl->n = 0;
		memset(pl->sizes, 0, sizeof(pl->sizes));
		pl->lo = U64_MAX;
		pl->hi = 0;
	}
	e->dom = n->dom;
	e->dev = n->dev;
	e->pasid = n->pasid;
	e->kind = n->kind;
	e->shift = n->shift;
	e->va = n->va;
	e->perm = n->perm;
	e->out = n->out;
	e->aux = n->aux;
	hlist_add_head(&e->hnode,
		       &c->buckets[emu_key_hash(c, e->dom, e->dev, e->pasid,
						e->kind, e->shift, e->va)]);
	list_add(&e->lru, &c->lru);
	list_add(&e->pnode, &pl->entries);
	e->pl = pl;
	pl->n++;
	pl->sizes[emu_size_slot(e->kind, e->shift)]++;
	if (e->kind != EMU_K_PASID) {
		pl->lo = min(pl->lo, e->va);
		pl->hi = max(pl->hi, e->va + (1ULL << e->shift) - 1);
	}
	c->used++;
out:
	mutex_unlock(&c->lock);
}

static bool emu_matches(const struct emu_tlbe *e, const struct emu_match *m)
{
	u64 last;

	if (!(m->kind_mask & BIT(e->kind)))
		return false;
	if ((m->match_dom && e->dom != m->dom) ||
	    (m->match_dev && e->dev != m->dev) ||
	    (m->match_pasid && e->pasid != m->pasid))
		return false;
	if (e->kind == EMU_K_PASID)
		return true;
	last = e->va + (1ULL << e->shift) - 1;
	return e->va <= m->last && last >= m->start;
}

/*
 * Lookups a probing flush of @m would take, or 0 when it cannot probe,
 * counting only the (kind, size) pairs whose count in @sizes is not zero.
 */
static u64 emu_probe_cost(const struct emu_match *m, const unsigned int *sizes)
{
	u64 n = 0;
	int shift, kind;

	if (!m->match_dom || !m->match_dev || !m->match_pasid ||
	    (m->kind_mask & BIT(EMU_K_PASID)))
		return 0;
	for (kind = EMU_K_LEAF; kind <= EMU_K_PDE; kind++) {
		if (!(m->kind_mask & BIT(kind)))
			continue;
		for (shift = 12; shift <= 30; shift += 9) {
			u64 span;

			if ((kind == EMU_K_PDE && shift != 21) ||
			    !sizes[emu_size_slot(kind, shift)])
				continue;
			span = (m->last >> shift) - (m->start >> shift) + 1;
			if (span > EMU_PROBE_MAX)
				return 0;
			n += span;
		}
	}
	return n <= EMU_PROBE_MAX ? n : 0;
}

static unsigned int emu_flush_probe(struct emu_cache *c,
				    const struct emu_match *m,
				    const unsigned int *sizes)
{
	unsigned int n = 0;
	int shift, kind;
	u64 va;

	for (kind = EMU_K_LEAF; kind <= EMU_K_PDE; kind++) {
		if (!(m->kind_mask & BIT(kind)))
			continue;
		for (shift = 12; shift <= 30; shift += 9) {
			if ((kind == EMU_K_PDE && shift != 21) ||
			    !sizes[emu_size_slot(kind, shift)])
				continue;
			for (va = round_down(m->start, 1ULL << shift);
			     va <= m->last; va += 1ULL << shift) {
				struct emu_tlbe *e;

				e = emu_find(c, m->dom, m->dev, m->pasid, kind,
					     shift, va);
				if (e) {
					n += e->kind != EMU_K_PDE;
					emu_drop(c, e);
				}
				if (va + (1ULL << shift) < va)
					break;
			}
		}
	}
	return n;
}

/*
 * Drop the entries of @head (the cache's LRU, or with @by_pasid a PASID's
 * list) that @m selects.  The mutex is held throughout and the walk
 * reschedules every EMU_RESCHED_BATCH entries; nobody else can change the
 * lists meanwhile.
 */
static unsigned int emu_flush_list(struct emu_cache *c, struct list_head *head,
				   bool by_pasid, const struct emu_match *m)
{
	struct list_head *pos, *next;
	unsigned int n = 0, seen = 0;

	for (pos = head->next; pos != head; pos = next) {
		struct emu_tlbe *e = by_pasid ?
			list_entry(pos, struct emu_tlbe, pnode) :
			list_entry(pos, struct emu_tlbe, lru);
		bool last = pos->next == head;

		next = pos->next;
		if (emu_matches(e, m)) {
			n += e->kind != EMU_K_PDE;
			/* A PASID's list is freed with its last entry. */
			emu_drop(c, e);
			if (last)
				break;
		}
		if (!(++seen % EMU_RESCHED_BATCH))
			cond_resched();
	}
	return n;
}

void emu_cache_lock(struct emu_cache *c)
{
	mutex_lock(&c->lock);
}

void emu_cache_unlock(struct emu_cache *c)
{
	mutex_unlock(&c->lock);
}

/*
 * Drop every entry @m selects, with the cache's lock held (a batch takes
 * it once for all its entries).  Returns how many translations (leaf) or
 * PASID entries were dropped; paging-structure entries are not counted.
 */
unsigned int emu_cache_flush_locked(struct emu_cache *c,
				    const struct emu_match *m)
{
	unsigned int sizes[ARRAY_SIZE(((struct emu_pasid_list *)0)->sizes)];
	struct emu_pasid_list *pl;
	u64 cost;

	lockdep_assert_held(&c->lock);
	if (!c->used)
		return 0;
	if (!m->match_pasid)
		return emu_flush_list(c, &c->lru, false, m);
	/* Nothing cached for the PASID: nothing to probe or walk. */
	pl = emu_pasid_list(c, m->pasid);
	if (!pl)
		return 0;
	/* Nothing cached in the range: a page the PASID never touched. */
	if (!(m->kind_mask & BIT(EMU_K_PASID)) &&
	    (m->last < pl->lo || m->start > pl->hi))
		return 0;
	/*
	 * Probe the hash for the sizes the PASID holds, or visit its
	 * entries: the fewer.  (A copy: @pl goes with its last entry.)
	 */
	memcpy(sizes, pl->sizes, sizeof(sizes));
	cost = emu_probe_cost(m, sizes);
	if (cost && cost < pl->n)
		return emu_flush_probe(c, m, sizes);
	return emu_flush_list(c, &pl->entries, true, m);
}

/* emu_cache_flush_locked() under the cache's lock. */
unsigned int emu_cache_flush(struct emu_cache *c, const struct emu_match *m)
{
	unsigned int n;

	mutex_lock(&c->lock);
	n = emu_cache_flush_locked(c, m);
	mutex_unlock(&c->lock);
	return n;
}

unsigned int emu_cache_used(struct emu_cache *c)
{
	return READ_ONCE(c->used);
}
