// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated IOMMU's caches (IOTLB with its paging-structure cache, PASID
 * cache, device TLBs): fixed capacity, hashed by key, least recently used
 * entry replaced.  A flush of a small range probes the hash for each page
 * it may hold, so its cost does not depend on how full the cache is; wider
 * flushes walk the valid entries only.
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "emu_internal.h"

struct emu_cache emu_iotlb;
struct emu_cache emu_pasid_cache;

/* A flush probes the hash when it would take at most this many lookups. */
#define EMU_PROBE_MAX 64

int emu_cache_init(struct emu_cache *c, unsigned int cap)
{
	unsigned int i;

	spin_lock_init(&c->lock);
	INIT_LIST_HEAD(&c->lru);
	INIT_LIST_HEAD(&c->free);
	c->cap = cap;
	c->used = 0;
	c->hbits = ilog2(roundup_pow_of_two(cap));
	c->slots = kvcalloc(cap, sizeof(*c->slots), GFP_KERNEL);
	if (!c->slots)
		return -ENOMEM;
	c->buckets = kvcalloc(1U << c->hbits, sizeof(*c->buckets), GFP_KERNEL);
	if (!c->buckets) {
		kvfree(c->slots);
		c->slots = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < cap; i++)
		list_add_tail(&c->slots[i].lru, &c->free);
	return 0;
}

void emu_cache_destroy(struct emu_cache *c)
{
	kvfree(c->buckets);
	kvfree(c->slots);
	c->buckets = NULL;
	c->slots = NULL;
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

/* Look up one exact key; on a hit copy the entry and make it most recent. */
bool emu_cache_lookup(struct emu_cache *c, u64 dom, u64 dev, u32 pasid,
		      u8 kind, u8 shift, u64 va, struct emu_tlbe *out)
{
	struct emu_tlbe *e;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	e = emu_find(c, dom, dev, pasid, kind, shift, va);
	if (e) {
		list_move(&e->lru, &c->lru);
		*out = *e;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return e;
}

/* Look up the 4K, 2M and 1G translations that may cover @va. */
bool emu_cache_lookup_leaf(struct emu_cache *c, u64 dom, u64 dev, u32 pasid,
			   u64 va, struct emu_tlbe *out)
{
	struct emu_tlbe *e = NULL;
	unsigned long flags;
	unsigned int shift;

	spin_lock_irqsave(&c->lock, flags);
	for (shift = 12; shift <= 30 && !e; shift += 9)
		e = emu_find(c, dom, dev, pasid, EMU_K_LEAF, shift,
			     va & ~((1ULL << shift) - 1));
	if (e) {
		list_move(&e->lru, &c->lru);
		*out = *e;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return e;
}

static void emu_drop(struct emu_cache *c, struct emu_tlbe *e)
{
	hlist_del(&e->hnode);
	list_move(&e->lru, &c->free);
	c->used--;
}

/* Insert or refresh; a full cache replaces its least recently used entry. */
void emu_cache_insert(struct emu_cache *c, const struct emu_tlbe *n)
{
	struct emu_tlbe *e;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	e = emu_find(c, n->dom, n->dev, n->pasid, n->kind, n->shift, n->va);
	if (e) {
		e->perm = n->perm;
		e->out = n->out;
		e->aux = n->aux;
		list_move(&e->lru, &c->lru);
		goto out;
	}
	if (list_empty(&c->free))
		emu_drop(c, list_last_entry(&c->lru, struct emu_tlbe, lru));
	e = list_first_entry(&c->free, struct emu_tlbe, lru);
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
	list_move(&e->lru, &c->lru);
	c->used++;
out:
	spin_unlock_irqrestore(&c->lock, flags);
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

/* Lookups a probing flush of @m would take, or 0 when it cannot probe. */
static u64 emu_probe_cost(const struct emu_match *m)
{
	u64 n = 0;
	int shift;

	if (!m->match_dom || !m->match_dev || !m->match_pasid ||
	    (m->kind_mask & BIT(EMU_K_PASID)))
		return 0;
	for (shift = 12; shift <= 30; shift += 9) {
		u64 span = (m->last >> shift) - (m->start >> shift) + 1;

		if (span > EMU_PROBE_MAX)
			return 0;
		n += span * ((shift == 21) ? 2 : 1);
	}
	return n <= EMU_PROBE_MAX ? n : 0;
}

static unsigned int emu_flush_probe(struct emu_cache *c,
				    const struct emu_match *m)
{
	unsigned int n = 0;
	int shift, kind;
	u64 va;

	for (kind = EMU_K_LEAF; kind <= EMU_K_PDE; kind++) {
		if (!(m->kind_mask & BIT(kind)))
			continue;
		for (shift = 12; shift <= 30; shift += 9) {
			if (kind == EMU_K_PDE && shift != 21)
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
 * Drop every entry @m selects.  Returns how many translations (leaf) or
 * PASID entries were dropped; paging-structure entries are not counted.
 */
unsigned int emu_cache_flush(struct emu_cache *c, const struct emu_match *m)
{
	struct emu_tlbe *e, *tmp;
	unsigned long flags;
	unsigned int n = 0;

	spin_lock_irqsave(&c->lock, flags);
	if (emu_probe_cost(m)) {
		n = emu_flush_probe(c, m);
	} else {
		list_for_each_entry_safe(e, tmp, &c->lru, lru) {
			if (emu_matches(e, m)) {
				n += e->kind != EMU_K_PDE;
				emu_drop(c, e);
			}
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return n;
}

unsigned int emu_cache_used(struct emu_cache *c)
{
	unsigned int n;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	n = c->used;
	spin_unlock_irqrestore(&c->lock, flags);
	return n;
}
