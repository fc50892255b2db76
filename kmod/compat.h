/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel API differences between the supported kernels (6.1 .. 6.12). */
#ifndef _VSVA_COMPAT_H
#define _VSVA_COMPAT_H

#include <linux/backing-dev.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/version.h>

/* pin_user_pages() lost its vmas argument in 6.5. */
static inline long vsva_pin_user_pages(unsigned long start,
				       unsigned long nr_pages,
				       unsigned int gup_flags,
				       struct page **pages)
{
#if KERNEL_VERSION(6, 5, 0) > LINUX_VERSION_CODE
	return pin_user_pages(start, nr_pages, gup_flags, pages, NULL);
#else
	return pin_user_pages(start, nr_pages, gup_flags, pages);
#endif
}

/*
 * user_struct.locked_vm, the per-user RLIMIT_MEMLOCK charge of io_uring,
 * VFIO and iommufd, exists only with one of these (include/linux/sched/user.h).
 */
#if defined(CONFIG_NET) || defined(CONFIG_IO_URING) ||		\
	defined(CONFIG_VFIO_PCI_ZDEV_KVM) || IS_ENABLED(CONFIG_IOMMUFD) || \
	defined(CONFIG_SECRETMEM)
#define VSVA_HAVE_USER_LOCKED_VM
#endif

/*
 * Whether a long-term pin for write of @vma would defeat the filesystem's
 * dirty tracking: a shared writable file mapping whose filesystem wants
 * write notifications or writes back.  6.5 refuses such pins in GUP
 * (writable_file_mapping_allowed()); this is the same test, so that 6.1
 * refuses them too and both kernels give the same answer.
 */
static inline bool vsva_vma_needs_dirty_tracking(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = vma->vm_ops;
	struct address_space *mapping;

	if ((vma->vm_flags & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE))
		return false;
	if (ops && (ops->page_mkwrite || ops->pfn_mkwrite))
		return true;
	if (vma->vm_flags & VM_PFNMAP)
		return false;
	mapping = vma->vm_file ? vma->vm_file->f_mapping : NULL;
	return mapping && mapping_can_writeback(mapping);
}

#endif /* _VSVA_COMPAT_H */
