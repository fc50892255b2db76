/* SPDX-License-Identifier: GPL-2.0 */
/* Per-user accounting of PASIDs and pinned pages (account.c). */
#ifndef _VSVA_ACCOUNT_H
#define _VSVA_ACCOUNT_H

#include <linux/types.h>
#include <linux/uidgid.h>

struct vsva_errmsg;
struct vsva_user;

extern unsigned int vsva_max_user_pasids;

/* The calling task's user, referenced (NULL: out of memory). */
struct vsva_user *vsva_user_get(void);
void vsva_user_ref(struct vsva_user *u);
void vsva_user_put(struct vsva_user *u);
uid_t vsva_user_uid(const struct vsva_user *u);
unsigned int vsva_user_pasids(const struct vsva_user *u);

/* One PASID more for @u: -ENOSPC (and @err) at vsva.max_user_pasids. */
int vsva_user_charge_pasid(struct vsva_user *u, struct vsva_errmsg *err);
void vsva_user_uncharge_pasid(struct vsva_user *u);

/* Pinned pages: -ENOMEM, nothing charged, beyond @limit pages. */
int vsva_user_charge_locked(struct vsva_user *u, unsigned long npages,
			    unsigned long limit, bool unlimited);
void vsva_user_uncharge_locked(struct vsva_user *u, unsigned long npages);
unsigned long vsva_user_locked_pages(struct vsva_user *u);

void vsva_account_exit(void);

#endif /* _VSVA_ACCOUNT_H */
