// SPDX-License-Identifier: GPL-2.0
/*
 * Stage-1 walk of x86-64 page tables (4 or 5 levels, 4K/2M/1G pages) rooted
 * at a bound PASID entry's gpgd.  Every table entry is read through stage 2
 * from the pinned guest pages; the walk visits at most one entry per level,
 * so a table that points at itself, or at an ancestor, is only read again
 * at a lower level and the walk still ends after 4 or 5 reads.
 *
 * Accessed/dirty: the walk sets A on every entry it uses (with EAFE also
 * the extended-accessed bit, 10) and D on the leaf of a write, each with
 * one locked bit operation on the guest's entry, and only once the access
 * is known to be allowed; setting a bit needs stage-2 write permission on
 * the table (else an ACCESS fault).  A table page the walk wrote to is
 * marked dirty, as a DMA write marks its data page, so the bits survive
 * writeback or reclaim of the guest's memory once it is unpinned.
 */
#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/mm.h>

#include "emu_internal.h"

#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_A_BIT	5
#define PTE_D_BIT	6
#define PTE_PS		BIT_ULL(7)
#define PTE_EA_BIT	10
#define PTE_NX		BIT_ULL(63)
#define PTE_ADDR	GENMASK_ULL(51, 12)
/* Address bits above the guest-physical (stage-2 input) width. */
#define PTE_RSVD_PA	GENMASK_ULL(51, VSVA_GPA_BITS)
/* Reserved address bits of a 1G and a 2M leaf (bit 12 is PAT). */
#define PTE_RSVD_1G	GENMASK_ULL(29, 13)
#define PTE_RSVD_2M	GENMASK_ULL(20, 13)

void emu_fault_fill(struct vsva_fault_unrecoverable *f, u32 reason,
		    u32 pasid, u32 access, u64 iova, u64 fetch_gpa,
		    bool fetch_valid)
{
	/* It reaches user space: no byte may be left from before. */
	memset(f, 0, sizeof(*f));
	f->reason = reason;
	f->flags = VSVA_FAULT_UNRECOV_PASID_VALID |
		   VSVA_FAULT_UNRECOV_ADDR_VALID;
	f->pasid = pasid;
	f->perm = access;
	f->addr = iova;
	if (fetch_valid) {
		f->flags |= VSVA_FAULT_UNRECOV_FETCH_ADDR_VALID;
		f->fetch_addr = fetch_gpa;
	}
}

/* Does @access pass stage-1 rights @perm under PASID-entry flags @vtd? */
static bool emu_perm_ok(u64 vtd, u8 perm, u32 access)
{
	bool priv = access & VSVA_FAULT_PERM_PRIV;

	if (priv && !(vtd & VSVA_VTD_GPASID_SRE))
		return false;
	if (!priv && !(perm & EMU_P_U))
		return false;
	if ((access & VSVA_FAULT_PERM_EXEC) && !(perm & EMU_P_X))
		return false;
	/* Supervisor writes honour R/W only with write-protect enable. */
	if ((access & VSVA_FAULT_PERM_WRITE) && !(perm & EMU_P_W) &&
	    (!priv || (vtd & VSVA_VTD_GPASID_WPE)))
		return false;
	return true;
}

bool emu_access_ok(u64 vtd, u8 perm, u32 access)
{
	if (!emu_perm_ok(vtd, perm, access))
		return false;
	/* A write through a clean cached entry walks again to set D. */
	return !(access & VSVA_FAULT_PERM_WRITE) || (perm & EMU_P_D);
}

/*
 * Set bit @nr of the entry at @p (a kmap of a guest table) if clear.
 * Return: whether the entry was written.
 */
static bool emu_pte_set(u64 *p, u64 pte, int nr)
{
	if (pte & BIT_ULL(nr))
		return false;
	set_bit(nr, (unsigned long *)p);
	return true;
}

/**
 * emu_walk() - translate @iova through the stage-1 table of @pe
 * @ctx: the context (counters)
 * @dom: the stage-2 domain; the caller holds vsva_s2_read_lock(@dom)
 * @pe: the PASID entry
 * @pasid: its host PASID (cache tag, fault record)
 * @rdev: the device tag of its IOTLB entries (emu_iotlb_dev())
 * @iova: the address
 * @access: VSVA_FAULT_PERM_* of the request
 * @out: the translation, on success
 * @f: the fault, on failure
 * @recoverable: on failure, whether a page request may fix it (not present
 *	or protection), as opposed to a malformed or unreachable table
 *
 * Return: 0, or 1 on a fault.
 */
int emu_walk(struct vsva_ctx *ctx, struct vsva_domain *dom,
	     const struct emu_pasid *pe, u32 pasid, u64 rdev, u64 iova,
	     u32 access, struct emu_xlate *out,
	     struct vsva_fault_unrecoverable *f, bool *recoverable)
{
	u64 tag = emu_dom(dom)->tag;
	bool eafe = pe->vtd_flags & VSVA_VTD_GPASID_EAFE;
	unsigned int aw = pe->addr_width == 57 ? 57 : 48;
	int level = aw == 57 ? 5 : 4;
	u8 perm = EMU_P_W | EMU_P_U | EMU_P_X;
	u64 table = pe->gpgd;
	struct emu_tlbe pde;
	u32 reason;

	atomic64_inc(&ctx->counters.walks);
	*recoverable = false;
	if ((u64)((s64)(iova << (64 - aw)) >> (64 - aw)) != iova) {
		emu_fault_fill(f, VSVA_FAULT_REASON_OOR_ADDRESS, pasid, access,
			       iova, 0, false);
		return 1;
	}
	/* Paging-structure cache: the PT table of this 2M region. */
	if (emu_cache_lookup(&emu_dom(dom)->iotlb, tag, rdev, pasid, EMU_K_PDE, 21,
			     iova & ~(SZ_2M - 1ULL), &pde)) {
		table = pde.out;
		perm = pde.perm;
		level = 1;
	}

	for (; level >= 1; level--) {
		unsigned int shift = 12 + 9 * (level - 1);
		u64 pte_gpa = table + ((iova >> shift) & 511) * 8;
		struct page *page;
		bool leaf, dirtied = false;
		u64 *map, pte;
		u32 prot;

		if (vsva_s2_lookup(dom, pte_gpa, &page, &prot)) {
			reason = VSVA_FAULT_REASON_WALK_EABT;
			goto fault;
		}
		if (!(prot & VSVA_S2_READ)) {
			reason = VSVA_FAULT_REASON_ACCESS;
			goto fault;
		}
		map = kmap_local_page(page);
		map += offset_in_page(pte_gpa) / sizeof(u64);
		pte = READ_ONCE(*map);

		if (!(pte & PTE_P)) {
			kunmap_local(map);
			reason = VSVA_FAULT_REASON_PTE_FETCH;
			*recoverable = true;
			goto fault;
		}
		leaf = level == 1 || (pte & PTE_PS);
		if ((pte & PTE_RSVD_PA) || ((pte & PTE_PS) && level > 3) ||
		    (leaf && level == 3 && (pte & PTE_RSVD_1G)) ||
		    (leaf && level == 2 && (pte & PTE_RSVD_2M))) {
			kunmap_local(map);
			reason = VSVA_FAULT_REASON_PTE_FETCH;
			goto fault;
		}
		if (!(pte & PTE_RW))
			perm &= ~EMU_P_W;
		if (!(pte & PTE_US))
			perm &= ~EMU_P_U;
		if (pte & PTE_NX)
			perm &= ~EMU_P_X;

		if (leaf && !emu_perm_ok(pe->vtd_flags, perm, access)) {
			kunmap_local(map);
			reason = VSVA_FAULT_REASON_PERMISSION;
			*recoverable = !(access & VSVA_FAULT_PERM_PRIV) ||
				       (pe->vtd_flags & VSVA_VTD_GPASID_SRE);
			goto fault;
		}
		if (!(pte & BIT_ULL(PTE_A_BIT)) ||
		    (eafe && !(pte & BIT_ULL(PTE_EA_BIT))) ||
		    (leaf && (access & VSVA_FAULT_PERM_WRITE) &&
		     !(pte & BIT_ULL(PTE_D_BIT)))) {
			if (!(prot & VSVA_S2_WRITE)) {
				kunmap_local(map);
				reason = VSVA_FAULT_REASON_ACCESS;
				goto fault;
			}
			dirtied |= emu_pte_set(map, pte, PTE_A_BIT);
			if (eafe)
				dirtied |= emu_pte_set(map, pte, PTE_EA_BIT);
			if (leaf && (access & VSVA_FAULT_PERM_WRITE)) {
				dirtied |= emu_pte_set(map, pte, PTE_D_BIT);
				pte |= BIT_ULL(PTE_D_BIT);
			}
		}
		kunmap_local(map);
		if (dirtied)
			set_page_dirty_lock(page);

		if (leaf) {
			u64 mask = (1ULL << shift) - 1;

			out->gpa = ((pte & PTE_ADDR) & ~mask) | (iova & mask);
			out->shift = shift;
			out->perm = perm;
			if (pte & BIT_ULL(PTE_D_BIT))
				out->perm |= EMU_P_D;
			return 0;
		}
		table = pte & PTE_ADDR;
		if (level == 2) {
			struct emu_tlbe e = {
				.dom = tag, .dev = rdev, .pasid = pasid,
				.kind = EMU_K_PDE,
				.shift = 21, .perm = perm,
				.va = iova & ~(SZ_2M - 1ULL), .out = table,
			};

			emu_cache_insert(&emu_dom(dom)->iotlb, &e);
		}
		continue;
fault:
		emu_fault_fill(f, reason, pasid, access, iova, pte_gpa, true);
		return 1;
	}
	/* Not reached: level 1 is always a leaf. */
	emu_fault_fill(f, VSVA_FAULT_REASON_UNKNOWN, pasid, access, iova, 0,
		       false);
	return 1;
}
