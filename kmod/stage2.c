// SPDX-License-Identifier: GPL-2.0
/*
 * Stage 2: guest RAM (GPA ranges) mapped into a domain.  The pages are
 * pinned long-term and charged to the mapping owner's RLIMIT_MEMLOCK
 * (locked_vm, shown as VmLck; pinned_vm too, shown as VmPin).  Each mapping
 * keeps an mmgrab() reference of that mm, so whoever tears the mapping
 * down (another process holding the fd, a kworker running the last fput)
 * uncharges the right mm without touching current->mm.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "compat.h"
#include "vsva_priv.h"

static atomic64_t vsva_global_pinned = ATOMIC64_INIT(0);

u64 vsva_s2_global_pinned(void)
{
	return atomic64_read(&vsva_global_pinned);
}

void vsva_s2_read_lock(struct vsva_domain *dom)
{
	down_read(&dom->s2_lock);
}

void vsva_s2_read_unlock(struct vsva_domain *dom)
{
	up_read(&dom->s2_lock);
}

int vsva_s2_lookup(struct vsva_domain *dom, u64 gpa, struct page **page,
		   u32 *prot)
{
	struct vsva_s2_map *map;
	unsigned long gfn;

	lockdep_assert_held(&dom->s2_lock);
	if (gpa >> VSVA_GPA_BITS)
		return -ENOENT;
	gfn = gpa >> PAGE_SHIFT;
	map = xa_load(&dom->s2, gfn);
	if (!map)
		return -ENOENT;
	*page = map->pages[gfn - (map->gpa >> PAGE_SHIFT)];
	*prot = map->prot;
	return 0;
}

bool vsva_s2_mapped(struct vsva_domain *dom, u64 gpa)
{
	bool mapped;

	if (gpa >> VSVA_GPA_BITS)
		return false;
	down_read(&dom->s2_lock);
	mapped = xa_load(&dom->s2, gpa >> PAGE_SHIFT);
	up_read(&dom->s2_lock);
	return mapped;
}

static int vsva_charge(struct mm_struct *mm, unsigned long npages,
		       bool inc)
{
	int rc;

	mmap_write_lock(mm);
	rc = __account_locked_vm(mm, npages, inc, current,
				 inc ? capable(CAP_IPC_LOCK) : false);
	if (!rc) {
		if (inc)
			atomic64_add(npages, &mm->pinned_vm);
		else
			atomic64_sub(npages, &mm->pinned_vm);
	}
	mmap_write_unlock(mm);
	return rc;
}

static void vsva_map_free(struct vsva_ctx *ctx, struct vsva_s2_map *map)
{
	unpin_user_pages(map->pages, map->npages);
	vsva_charge(map->mm, map->npages, false);
	mmdrop(map->mm);
	atomic64_sub(map->npages, &ctx->pinned_pages);
	atomic64_sub(map->npages, &vsva_global_pinned);
	kvfree(map->pages);
	kfree(map);
}

int vsva_s2_map(struct vsva_ctx *ctx, struct vsva_domain *dom, u64 gpa,
		u64 length, u64 vaddr, u32 prot, struct vsva_errmsg *err)
{
	struct mm_struct *mm = current->mm;
	unsigned int gup = FOLL_LONGTERM;
	unsigned long npages, done = 0, gfn, i;
	struct vsva_s2_map *map;
	int rc;

	lockdep_assert_held(&ctx->lock);
	if (!prot || (prot & ~(VSVA_MAP_READ | VSVA_MAP_WRITE))) {
		vsva_err(err, "map: flags 0x%x must be READ and/or WRITE", prot);
		return prot ? -EOPNOTSUPP : -EINVAL;
	}
	if (!length || !PAGE_ALIGNED(length)) {
		vsva_err(err, "map: length 0x%llx is not a non-zero multiple of 4 KiB",
			 length);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(gpa)) {
		vsva_err(err, "map: gpa 0x%llx is not 4 KiB aligned", gpa);
		return -EINVAL;
	}
	if (!PAGE_ALIGNED(vaddr)) {
		vsva_err(err, "map: vaddr 0x%llx is not 4 KiB aligned", vaddr);
		return -EINVAL;
	}
	if (gpa + length < gpa || (gpa + length) > (1ULL << VSVA_GPA_BITS)) {
		vsva_err(err, "map: gpa 0x%llx + length 0x%llx exceeds the %u-bit guest-physical space",
			 gpa, length, VSVA_GPA_BITS);
		return -EINVAL;
	}
	if (vaddr + length < vaddr || vaddr + length > TASK_SIZE) {
		vsva_err(err, "map: vaddr 0x%llx + length 0x%llx is not a user address range",
			 vaddr, length);
		return -EINVAL;
	}
	if (!mm) {
		vsva_err(err, "map: the caller has no address space");
		return -EINVAL;
	}
	npages = length >> PAGE_SHIFT;
	gfn = gpa >> PAGE_SHIFT;
	down_read(&dom->s2_lock);
	{
		unsigned long idx = gfn;
		void *hit = xa_find(&dom->s2, &idx, gfn + npages - 1,
				    XA_PRESENT);

		up_read(&dom->s2_lock);
		if (hit) {
			vsva_err(err, "map: [0x%llx, 0x%llx) overlaps the mapping at gpa 0x%llx",
				 gpa, gpa + length,
				 ((struct vsva_s2_map *)hit)->gpa);
			return -EBUSY;
		}
	}

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	map->pages = kvmalloc_array(npages, sizeof(*map->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!map->pages) {
		rc = -ENOMEM;
		goto out_free_map;
	}
	map->gpa = gpa;
	map->npages = npages;
	map->prot = prot;
	map->mm = mm;
	mmgrab(mm);

	rc = vsva_charge(mm, npages, true);
	if (rc) {
		vsva_err(err, "map: pinning %lu pages exceeds RLIMIT_MEMLOCK (%lu bytes)",
			 npages, rlimit(RLIMIT_MEMLOCK));
		goto out_drop_mm;
	}

	if (prot & VSVA_MAP_WRITE)
		gup |= FOLL_WRITE;
	mmap_read_lock(mm);
	while (done < npages) {
		long got = vsva_pin_user_pages(vaddr + (done << PAGE_SHIFT),
					       npages - done, gup,
					       map->pages + done);
		if (got <= 0) {
			rc = got ? (int)got : -EFAULT;
			break;
		}
		done += got;
	}
	mmap_read_unlock(mm);
	if (rc) {
		vsva_err(err, "map: cannot pin vaddr 0x%llx (page %lu of %lu): error %d",
			 vaddr + (done << PAGE_SHIFT), done, npages, rc);
		goto out_unpin;
	}

	down_write(&dom->s2_lock);
	for (i = 0; i < npages; i++) {
		rc = xa_insert(&dom->s2, gfn + i, map, GFP_KERNEL_ACCOUNT);
		if (rc)
			break;
	}
	if (rc) {
		while (i--)
			xa_erase(&dom->s2, gfn + i);
		up_write(&dom->s2_lock);
		goto out_unpin;
	}
	list_add_tail(&map->node, &dom->maps);
	dom->pinned += npages;
	up_write(&dom->s2_lock);
	atomic64_add(npages, &ctx->pinned_pages);
	atomic64_add(npages, &vsva_global_pinned);
	return 0;

out_unpin:
	unpin_user_pages(map->pages, done);
	vsva_charge(mm, npages, false);
out_drop_mm:
	mmdrop(mm);
	kvfree(map->pages);
out_free_map:
	kfree(map);
	return rc;
}

/* Remove @map from @dom's lookup; the caller flushes, then frees it. */
static void vsva_s2_unlink(struct vsva_domain *dom, struct vsva_s2_map *map)
{
	unsigned long gfn = map->gpa >> PAGE_SHIFT, i;

	lockdep_assert_held_write(&dom->s2_lock);
	for (i = 0; i < map->npages; i++)
		xa_erase(&dom->s2, gfn + i);
	list_del(&map->node);
	dom->pinned -= map->npages;
}

/*
 * Release unlinked mappings: no new lookup finds them any more, so drop the
 * cached translations that may still reach them, then unpin and uncharge.
 * Returns the bytes released.
 */
static u64 vsva_s2_release(struct vsva_ctx *ctx, struct vsva_domain *dom,
			   struct list_head *gone)
{
	struct vsva_s2_map *map, *tmp;
	u64 bytes = 0, len;

	list_for_each_entry_safe(map, tmp, gone, node) {
		len = (u64)map->npages << PAGE_SHIFT;
		if (ctx->ops->s2_flush)
			ctx->ops->s2_flush(dom, map->gpa, len);
		bytes += len;
		list_del(&map->node);
		vsva_map_free(ctx, map);
	}
	return bytes;
}

int vsva_s2_unmap(struct vsva_ctx *ctx, struct vsva_domain *dom, u64 gpa,
		  u64 length, u64 *unmapped, struct vsva_errmsg *err)
{
	struct vsva_s2_map *map, *tmp;
	LIST_HEAD(gone);
	u64 end = gpa + length;

	lockdep_assert_held(&ctx->lock);
	*unmapped = 0;
	if (!PAGE_ALIGNED(gpa) || !PAGE_ALIGNED(length) || !length ||
	    end < gpa) {
		vsva_err(err, "unmap: gpa 0x%llx length 0x%llx must be 4 KiB aligned and non-empty",
			 gpa, length);
		return -EINVAL;
	}

	down_write(&dom->s2_lock);
	list_for_each_entry(map, &dom->maps, node) {
		u64 mend = map->gpa + ((u64)map->npages << PAGE_SHIFT);

		if (mend <= gpa || map->gpa >= end)
			continue;
		if (map->gpa < gpa || mend > end) {
			up_write(&dom->s2_lock);
			vsva_err(err, "unmap: mapping [0x%llx, 0x%llx) straddles the edge of [0x%llx, 0x%llx)",
				 map->gpa, mend, gpa, end);
			return -EINVAL;
		}
	}
	list_for_each_entry_safe(map, tmp, &dom->maps, node) {
		if (map->gpa >= gpa && map->gpa < end) {
			vsva_s2_unlink(dom, map);
			list_add_tail(&map->node, &gone);
		}
	}
	up_write(&dom->s2_lock);

	*unmapped += vsva_s2_release(ctx, dom, &gone);
	return 0;
}

void vsva_s2_unmap_all(struct vsva_ctx *ctx, struct vsva_domain *dom)
{
	struct vsva_s2_map *map, *tmp;
	LIST_HEAD(gone);

	down_write(&dom->s2_lock);
	list_for_each_entry_safe(map, tmp, &dom->maps, node) {
		vsva_s2_unlink(dom, map);
		list_add_tail(&map->node, &gone);
	}
	up_write(&dom->s2_lock);
	vsva_s2_release(ctx, dom, &gone);
}

/*
 * What vsva_s2_unmap() of the same range would do, without doing it: its
 * errno and message, or 0 and the bytes it would unmap in *@bytes.  Under
 * ctx->lock (every writer of @dom holds it) the answer stays true until the
 * caller unmaps, so VSVA_UNMAP can return its output before it commits.
 */
int vsva_s2_unmap_bytes(struct vsva_ctx *ctx, struct vsva_domain *dom,
			u64 gpa, u64 length, u64 *bytes,
			struct vsva_errmsg *err)
{
	struct vsva_s2_map *map;
	u64 end = gpa + length;
	int rc = 0;

	lockdep_assert_held(&ctx->lock);
	*bytes = 0;
	if (!PAGE_ALIGNED(gpa) || !PAGE_ALIGNED(length) || !length ||
	    end < gpa) {
		vsva_err(err, "unmap: gpa 0x%llx length 0x%llx must be 4 KiB aligned and non-empty",
			 gpa, length);
		return -EINVAL;
	}
	down_read(&dom->s2_lock);
	list_for_each_entry(map, &dom->maps, node) {
		u64 mend = map->gpa + ((u64)map->npages << PAGE_SHIFT);

		if (mend <= gpa || map->gpa >= end)
			continue;
		if (map->gpa < gpa || mend > end) {
			vsva_err(err, "unmap: mapping [0x%llx, 0x%llx) straddles the edge of [0x%llx, 0x%llx)",
				 map->gpa, mend, gpa, end);
			rc = -EINVAL;
			break;
		}
		*bytes += mend - map->gpa;
	}
	up_read(&dom->s2_lock);
	if (rc)
		*bytes = 0;
	return rc;
}
