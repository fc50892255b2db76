/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel API differences between the supported kernels (6.1 .. 6.12). */
#ifndef _VSVA_COMPAT_H
#define _VSVA_COMPAT_H

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

#endif /* _VSVA_COMPAT_H */
