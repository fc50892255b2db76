// SPDX-License-Identifier: GPL-2.0
/*
 * Stage 2: guest RAM (GPA ranges) mapped into a domain.  The pages are
 * pinned long-term and charged to the calling user's RLIMIT_MEMLOCK budget
 * (user_struct locked_vm, as VFIO type1 and iommufd do, account.c), once;
 * the caller's mm shows them as VmPin (pinned_vm), not as VmLck.  The
 * charge follows the user, not the mm, so execve() or fork() + exit()
 * does not reset it.  A mapping keeps references on the user and (for
 * VmPin) the mm, so whoever tears it down uncharges the right ones.
 *
 * A VSVA_MAP range is pinned in chunks of VSVA_S2_CHUNK_PAGES: every check
 * and the charge come before any allocation, and no allocation grows with
 * the length.  The chunks are published together; unmap keeps treating
 * the range as one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "account.h"
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

/* Unpin, and mark dirty what a writable mapping may have written. */
static void vsva_chunk_unpin(struct vsva_s2_map *map, unsigned long npages,
			     bool used)
{
	unpin_user_pages_dirty_lock(map->pages, npages,
				    used && (map->prot & VSVA_MAP_WRITE));
}

static void vsva_chunk_free(struct vsva_s2_map *map)
{
	kvfree(map->pages);
	kfree(map);
}

/* Release a chunk that was published (DMA may have written to it). */
static void vsva_map_free(struct vsva_ctx *ctx, struct vsva_s2_map *map)
{
	vsva_chunk_unpin(map, map->npages, true);
	atomic64_sub(map->npages, &map->mm->pinned_vm);
	vsva_user_uncharge_locked(map->user, map->npages);
	vsva_user_put(map->user);
	mmdrop(map->mm);
	atomic64_sub(map->npages, &ctx->pinned_pages);
	atomic64_sub(map->npages, &vsva_global_pinned);
	vsva_chunk_free(map);
	cond_resched();
}

/*
 * Refuse what GUP refuses from 6.5 on, on every kernel and with a message:
 * a long-term write pin of a shared file mapping the filesystem tracks
 * dirty pages in (writeback would miss the device's writes).
 */
static int vsva_check_vmas(struct mm_struct *mm, u64 vaddr, u64 length,
			   struct vsva_errmsg *err)
{
	unsigned long start = vaddr, end = vaddr + length;
	struct vm_area_struct *vma;
	int rc;

	rc = mmap_read_lock_killable(mm);
	if (rc)
		return rc;
	for (vma = find_vma(mm, start); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		if (vsva_vma_needs_dirty_tracking(vma)) {
			vsva_err(err, "map: vaddr 0x%lx is in a shared writable mapping of a file whose filesystem tracks dirty pages; it cannot be pinned long-term for write (use anonymous memory, memfd or hugetlbfs)",
				 max(start, vma->vm_start));
			rc = -EFAULT;
			break;
		}
		cond_resched();
	}
	mmap_read_unlock(mm);
	return rc;
}

/*
 * Pin one chunk of @npages pages at @vaddr into a new, unpublished map;
 * on failure *@pinned says how many were pinned before the error.
 */
static int vsva_chunk_pin(struct mm_struct *mm, u64 vaddr,
			  unsigned long npages, unsigned int gup,
			  struct vsva_s2_map **out, unsigned long *pinned)
{
	struct vsva_s2_map *map;
	unsigned long done = 0;
	long got;
	int rc;

	*pinned = 0;
	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	map->pages = kvmalloc_array(npages, sizeof(*map->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!map->pages) {
		kfree(map);
		return -ENOMEM;
	}
	rc = mmap_read_lock_killable(mm);
	if (rc)
		goto out_free;
	while (done < npages) {
		got = vsva_pin_user_pages(vaddr + (done << PAGE_SHIFT),
					  npages - done, gup, map->pages + done);
		if (got <= 0) {
			rc = got ? (int)got : -EFAULT;
			break;
		}
		done += got;
	}
	mmap_read_unlock(mm);
	map->npages = done;
	if (!rc) {
		*out = map;
		return 0;
	}
	vsva_chunk_unpin(map, done, false);
	*pinned = done;
out_free:
	vsva_chunk_free(map);
	return rc;
}

int vsva_s2_map(struct vsva_ctx *ctx, struct vsva_domain *dom, u64 gpa,
		u64 length, u64 vaddr, u32 prot, struct vsva_errmsg *err)
{
	struct mm_struct *mm = current->mm;
	unsigned int gup = FOLL_LONGTERM;
	unsigned long npages, done = 0, gfn, i, limit, n;
	struct vsva_s2_map *map, *tmp;
	struct vsva_user *user;
	LIST_HEAD(chunks);
	bool unlimited;
	int rc = 0;

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
				 ((struct vsva_s2_map *)hit)->range_gpa);
			return -EBUSY;
		}
	}

	/* The limit, before anything is allocated or pinned. */
	unlimited = rlimit(RLIMIT_MEMLOCK) == RLIM_INFINITY ||
		    ns_capable_noaudit(&init_user_ns, CAP_IPC_LOCK);
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	user = vsva_user_get();
	if (!user)
		return -ENOMEM;
	rc = vsva_user_charge_locked(user, npages, limit, unlimited);
	if (rc) {
		vsva_err(err, "map: pinning %lu pages exceeds RLIMIT_MEMLOCK (%lu bytes)",
			 npages, rlimit(RLIMIT_MEMLOCK));
		goto out_put_user;
	}

	if (prot & VSVA_MAP_WRITE) {
		gup |= FOLL_WRITE;
		rc = vsva_check_vmas(mm, vaddr, length, err);
		if (rc)
			goto out_uncharge;
	}

	while (done < npages) {
		n = min_t(unsigned long, npages - done, VSVA_S2_CHUNK_PAGES);
		rc = vsva_chunk_pin(mm, vaddr + (done << PAGE_SHIFT), n, gup,
				    &map, &i);
		if (rc) {
			done += i;
			vsva_err(err, "map: cannot pin vaddr 0x%llx (page %lu of %lu): error %d",
				 vaddr + (done << PAGE_SHIFT), done, npages, rc);
			goto out_unpin;
		}
		map->gpa = gpa + ((u64)done << PAGE_SHIFT);
		map->prot = prot;
		map->range_gpa = gpa;
		map->range_len = length;
		map->mm = mm;
		mmgrab(mm);
		map->user = user;
		vsva_user_ref(user);
		list_add_tail(&map->node, &chunks);
		done += n;
		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			goto out_unpin;
		}
		cond_resched();
	}

	down_write(&dom->s2_lock);
	list_for_each_entry(map, &chunks, node) {
		unsigned long first = map->gpa >> PAGE_SHIFT;

		for (i = 0; i < map->npages; i++) {
			rc = xa_insert(&dom->s2, first + i, map,
				       GFP_KERNEL_ACCOUNT);
			if (rc)
				break;
		}
		if (rc) {
			/* Nothing was visible: the write lock was held. */
			while (i--)
				xa_erase(&dom->s2, first + i);
			list_for_each_entry_continue_reverse(map, &chunks, node)
				for (i = 0; i < map->npages; i++)
					xa_erase(&dom->s2,
						 (map->gpa >> PAGE_SHIFT) + i);
			up_write(&dom->s2_lock);
			goto out_unpin;
		}
		cond_resched();
	}
	list_splice_tail(&chunks, &dom->maps);
	dom->pinned += npages;
	up_write(&dom->s2_lock);
	atomic64_add(npages, &mm->pinned_vm);
	atomic64_add(npages, &ctx->pinned_pages);
	atomic64_add(npages, &vsva_global_pinned);
	vsva_user_put(user);
	return 0;

out_unpin:
	list_for_each_entry_safe(map, tmp, &chunks, node) {
		vsva_chunk_unpin(map, map->npages, false);
		vsva_user_put(map->user);
		mmdrop(map->mm);
		vsva_chunk_free(map);
	}
out_uncharge:
	vsva_user_uncharge_locked(user, npages);
out_put_user:
	vsva_user_put(user);
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
	cond_resched();
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
	u64 bytes = 0, len, flushed = U64_MAX;

	list_for_each_entry_safe(map, tmp, gone, node) {
		/* The chunks of a range are adjacent: flush it once. */
		if (map->range_gpa != flushed) {
			flushed = map->range_gpa;
			if (ctx->ops->s2_flush)
				ctx->ops->s2_flush(dom, map->range_gpa,
						   map->range_len);
		}
		len = (u64)map->npages << PAGE_SHIFT;
		bytes += len;
		list_del(&map->node);
		vsva_map_free(ctx, map);
	}
	return bytes;
}

/*
 * The one rule of VSVA_UNMAP, shared by the preview and the unmap so they
 * can never disagree: every VSVA_MAP range lying entirely inside [@gpa,
 * @gpa + @length) goes, and a range straddling an edge refuses the whole
 * call (a range's chunks are never split).  0 and the bytes that would go
 * in *@bytes, or -EINVAL.  The caller holds @dom's s2_lock.
 */
static int vsva_s2_unmap_check(struct vsva_domain *dom, u64 gpa, u64 length,
			       u64 *bytes, struct vsva_errmsg *err)
{
	struct vsva_s2_map *map;
	u64 end = gpa + length;

	lockdep_assert_held(&dom->s2_lock);
	*bytes = 0;
	if (!PAGE_ALIGNED(gpa) || !PAGE_ALIGNED(length) || !length ||
	    end < gpa) {
		vsva_err(err, "unmap: gpa 0x%llx length 0x%llx must be 4 KiB aligned and non-empty",
			 gpa, length);
		return -EINVAL;
	}
	list_for_each_entry(map, &dom->maps, node) {
		u64 mend = map->range_gpa + map->range_len;

		if (mend <= gpa || map->range_gpa >= end)
			continue;
		if (map->range_gpa < gpa || mend > end) {
			vsva_err(err, "unmap: mapping [0x%llx, 0x%llx) straddles the edge of [0x%llx, 0x%llx)",
				 map->range_gpa, mend, gpa, end);
			*bytes = 0;
			return -EINVAL;
		}
		*bytes += (u64)map->npages << PAGE_SHIFT;
	}
	return 0;
}

int vsva_s2_unmap(struct vsva_ctx *ctx, struct vsva_domain *dom, u64 gpa,
		  u64 length, u64 *unmapped, struct vsva_errmsg *err)
{
	struct vsva_s2_map *map, *tmp;
	LIST_HEAD(gone);
	u64 end = gpa + length, bytes;
	int rc;

	lockdep_assert_held(&ctx->lock);
	*unmapped = 0;
	down_write(&dom->s2_lock);
	rc = vsva_s2_unmap_check(dom, gpa, length, &bytes, err);
	if (rc) {
		up_write(&dom->s2_lock);
		return rc;
	}
	list_for_each_entry_safe(map, tmp, &dom->maps, node) {
		if (map->range_gpa >= gpa && map->range_gpa < end) {
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
	int rc;

	lockdep_assert_held(&ctx->lock);
	down_read(&dom->s2_lock);
	rc = vsva_s2_unmap_check(dom, gpa, length, bytes, err);
	up_read(&dom->s2_lock);
	return rc;
}
