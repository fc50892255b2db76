// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated IOMMU's topology: its endpoints, their capabilities and
 * IOMMU groups.  It comes from the "topology" module parameter or the
 * root-only debugfs file vsva/topology, never from a VM's fd:
 *
 *	BB:DD.F/GROUP[/CAP[+CAP...]][/uid=UID][/gid=GID][,...]
 *	CAP: pasid, ats, pri
 *
 * uid= and gid= assign the endpoint's IOMMU group to an owner: only a
 * caller whose effective uid is UID, or who is in group GID, may attach
 * its endpoints (CAP_SYS_ADMIN may always); others get -EPERM.  An owner
 * given on one endpoint applies to its whole group; two different owners
 * in one group are refused.  Without an owner, any opener of /dev/vsva
 * may attach the endpoint.
 *
 * A context's first attach of a device claims the device's whole group;
 * the claim ends when the context's last device of the group detaches.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vsva_priv.h"

#define VSVA_TOPO_MAX 256

struct vsva_endpoint {
	u16 rid;
	u32 caps;
	u32 group;
	/* The group's owner (root-assigned), when @has_uid / @has_gid. */
	bool has_uid;
	bool has_gid;
	kuid_t uid;
	kgid_t gid;
	/* Attached in @owner (vsva_topo_lock), which detaches before it dies. */
	const struct vsva_ctx *owner;
	u32 dom_id;
};

/* Empty: the default topology, see vsva_topo_default(). */
static char *topology = "";
module_param(topology, charp, 0444);
MODULE_PARM_DESC(topology,
		 "emulated endpoints: BB:DD.F/GROUP[/pasid+ats+pri][/uid=U][/gid=G],... (empty: default)");

/* vsva_topo_lock: vsva_eps, vsva_nr_eps and every endpoint's claim. */
static DEFINE_MUTEX(vsva_topo_lock);
static struct vsva_endpoint *vsva_eps;
static unsigned int vsva_nr_eps;

int vsva_rid_print(char *buf, size_t len, u16 rid)
{
	return snprintf(buf, len, "%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f,
			rid & 7);
}

static int vsva_topo_parse_caps(char *s, u32 *caps)
{
	char *cap;

	*caps = 0;
	while ((cap = strsep(&s, "+"))) {
		if (!strcmp(cap, "pasid"))
			*caps |= VSVA_DEV_CAP_PASID;
		else if (!strcmp(cap, "ats"))
			*caps |= VSVA_DEV_CAP_ATS;
		else if (!strcmp(cap, "pri"))
			*caps |= VSVA_DEV_CAP_PRI;
		else if (*cap)
			return -EINVAL;
	}
	if ((*caps & VSVA_DEV_CAP_PRI) && !(*caps & VSVA_DEV_CAP_ATS))
		return -EINVAL;
	return 0;
}

/* "[CAPS][/uid=UID][/gid=GID]" after the group. */
static int vsva_topo_parse_fields(char *s, struct vsva_endpoint *ep)
{
	unsigned int id;
	char *field;
	int rc;

	/* The capabilities come first and may be left out. */
	if (!str_has_prefix(s, "uid=") && !str_has_prefix(s, "gid=")) {
		field = strsep(&s, "/");
		rc = vsva_topo_parse_caps(field, &ep->caps);
		if (rc)
			return rc;
	}
	while ((field = strsep(&s, "/"))) {
		if (str_has_prefix(field, "uid=") && !ep->has_uid) {
			if (kstrtouint(field + 4, 10, &id))
				return -EINVAL;
			ep->uid = make_kuid(&init_user_ns, id);
			if (!uid_valid(ep->uid))
				return -EINVAL;
			ep->has_uid = true;
		} else if (str_has_prefix(field, "gid=") && !ep->has_gid) {
			if (kstrtouint(field + 4, 10, &id))
				return -EINVAL;
			ep->gid = make_kgid(&init_user_ns, id);
			if (!gid_valid(ep->gid))
				return -EINVAL;
			ep->has_gid = true;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static bool vsva_topo_same_owner(const struct vsva_endpoint *a,
				 const struct vsva_endpoint *b)
{
	return a->has_uid == b->has_uid && a->has_gid == b->has_gid &&
	       (!a->has_uid || uid_eq(a->uid, b->uid)) &&
	       (!a->has_gid || gid_eq(a->gid, b->gid));
}

/* An owner named on one endpoint owns its whole group; two are refused. */
static int vsva_topo_group_owners(struct vsva_endpoint *eps, unsigned int nr)
{
	unsigned int i, j;

	for (i = 0; i < nr; i++) {
		if (!eps[i].has_uid && !eps[i].has_gid)
			continue;
		for (j = 0; j < nr; j++) {
			if (eps[j].group != eps[i].group)
				continue;
			if (!eps[j].has_uid && !eps[j].has_gid) {
				eps[j].has_uid = eps[i].has_uid;
				eps[j].uid = eps[i].uid;
				eps[j].has_gid = eps[i].has_gid;
				eps[j].gid = eps[i].gid;
			} else if (!vsva_topo_same_owner(&eps[i], &eps[j])) {
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The caller may use @ep: no owner, or it is the owner, or an admin. */
static bool vsva_topo_may_use(const struct vsva_endpoint *ep)
{
	if (!ep->has_uid && !ep->has_gid)
		return true;
	if (ep->has_uid && uid_eq(current_euid(), ep->uid))
		return true;
	if (ep->has_gid && in_egroup_p(ep->gid))
		return true;
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

static int vsva_topo_owner_print(char *buf, size_t len,
				 const struct vsva_endpoint *ep)
{
	int n = 0;

	buf[0] = '\0';
	if (ep->has_uid)
		n += scnprintf(buf + n, len - n, " uid %u",
			       from_kuid_munged(&init_user_ns, ep->uid));
	if (ep->has_gid)
		n += scnprintf(buf + n, len - n, " gid %u",
			       from_kgid_munged(&init_user_ns, ep->gid));
	return n;
}

/* Parse @str into a new endpoint array. */
static int vsva_topo_parse(const char *str, struct vsva_endpoint **out,
			   unsigned int *out_nr)
{
	struct vsva_endpoint *eps;
	char *copy, *s, *item;
	unsigned int nr = 0, i;
	int rc = 0;

	copy = kstrdup(str, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	eps = kcalloc(VSVA_TOPO_MAX, sizeof(*eps), GFP_KERNEL);
	if (!eps) {
		kfree(copy);
		return -ENOMEM;
	}
	s = strim(copy);
	while ((item = strsep(&s, ","))) {
		unsigned int bus, devn, fn, grp;
		char *caps;
		int n = 0;

		item = strim(item);
		if (!*item)
			continue;
		if (nr == VSVA_TOPO_MAX ||
		    sscanf(item, "%x:%x.%x/%u%n", &bus, &devn, &fn, &grp, &n) != 4 ||
		    bus > 0xff || devn > 0x1f || fn > 7 || !grp) {
			rc = -EINVAL;
			break;
		}
		caps = item + n;
		if (*caps == '/') {
			caps++;
		} else if (*caps) {
			rc = -EINVAL;
			break;
		}
		rc = vsva_topo_parse_fields(caps, &eps[nr]);
		if (rc)
			break;
		eps[nr].rid = (bus << 8) | (devn << 3) | fn;
		eps[nr].group = grp;
		for (i = 0; i < nr; i++)
			if (eps[i].rid == eps[nr].rid)
				rc = -EINVAL;
		if (rc)
			break;
		nr++;
	}
	kfree(copy);
	if (!rc)
		rc = vsva_topo_group_owners(eps, nr);
	if (rc) {
		kfree(eps);
		return rc;
	}
	*out = eps;
	*out_nr = nr;
	return 0;
}

static struct vsva_endpoint *vsva_topo_find(u16 rid)
{
	unsigned int i;

	for (i = 0; i < vsva_nr_eps; i++)
		if (vsva_eps[i].rid == rid)
			return &vsva_eps[i];
	return NULL;
}

int vsva_topo_claim(struct vsva_ctx *ctx, struct vsva_domain *dom, u16 rid,
		    u32 enable, struct vsva_endpoint **out_ep, u32 *out_caps,
		    struct vsva_errmsg *err)
{
	struct vsva_endpoint *ep, *other = NULL;
	char name[16], oname[16];
	unsigned int i;
	int rc = 0;

	vsva_rid_print(name, sizeof(name), rid);
	mutex_lock(&vsva_topo_lock);
	ep = vsva_topo_find(rid);
	if (!ep) {
		vsva_err(err, "attach: no endpoint %s (rid 0x%x) in the emulated IOMMU topology",
			 name, rid);
		rc = -ENOENT;
		goto out;
	}
	if (!vsva_topo_may_use(ep)) {
		char owner[40];

		vsva_topo_owner_print(owner, sizeof(owner), ep);
		vsva_err(err, "attach: %s (IOMMU group %u) is assigned to%s; uid %u may not attach it",
			 name, ep->group, owner,
			 from_kuid_munged(&init_user_ns, current_euid()));
		rc = -EPERM;
		goto out;
	}
	if ((enable & VSVA_ATTACH_ENABLE_ATS) && !(ep->caps & VSVA_DEV_CAP_ATS)) {
		vsva_err(err, "attach: flags ask for ENABLE_ATS but %s has no ATS capability",
			 name);
		rc = -EINVAL;
		goto out;
	}
	if ((enable & VSVA_ATTACH_ENABLE_PRI) && !(ep->caps & VSVA_DEV_CAP_PRI)) {
		vsva_err(err, "attach: flags ask for ENABLE_PRI but %s has no PRI capability",
			 name);
		rc = -EINVAL;
		goto out;
	}
	if (ep->owner == ctx) {
		vsva_err(err, "attach: %s is already attached in this context",
			 name);
		rc = -EBUSY;
		goto out;
	}
	if (ep->owner) {
		vsva_err(err, "cannot attach %s: it is in use by another VM (IOMMU group %u)",
			 name, ep->group);
		rc = -EBUSY;
		goto out;
	}
	for (i = 0; i < vsva_nr_eps; i++) {
		if (vsva_eps[i].group == ep->group && vsva_eps[i].owner) {
			other = &vsva_eps[i];
			if (other->owner != ctx)
				break;
		}
	}
	if (other && other->owner != ctx) {
		vsva_rid_print(oname, sizeof(oname), other->rid);
		vsva_err(err, "cannot attach %s: device %s in the same IOMMU group %u is in use by another VM",
			 name, oname, ep->group);
		rc = -EBUSY;
		goto out;
	}
	if (other && other->dom_id != dom->obj.id) {
		vsva_rid_print(oname, sizeof(oname), other->rid);
		vsva_err(err, "cannot attach %s to domain %u: device %s of IOMMU group %u uses domain %u; a group shares one domain",
			 name, dom->obj.id, oname, ep->group, other->dom_id);
		rc = -EINVAL;
		goto out;
	}
	ep->owner = ctx;
	ep->dom_id = dom->obj.id;
	*out_ep = ep;
	*out_caps = ep->caps;
out:
	mutex_unlock(&vsva_topo_lock);
	return rc;
}

void vsva_topo_release(struct vsva_endpoint *ep)
{
	mutex_lock(&vsva_topo_lock);
	ep->owner = NULL;
	ep->dom_id = 0;
	mutex_unlock(&vsva_topo_lock);
}

void vsva_topo_show(struct seq_file *s)
{
	char name[16], owner[40];
	unsigned int i;

	mutex_lock(&vsva_topo_lock);
	for (i = 0; i < vsva_nr_eps; i++) {
		struct vsva_endpoint *ep = &vsva_eps[i];

		vsva_rid_print(name, sizeof(name), ep->rid);
		seq_printf(s, "%s group %u caps%s%s%s%s", name, ep->group,
			   ep->caps & VSVA_DEV_CAP_PASID ? " pasid" : "",
			   ep->caps & VSVA_DEV_CAP_ATS ? " ats" : "",
			   ep->caps & VSVA_DEV_CAP_PRI ? " pri" : "",
			   ep->caps ? "" : " none");
		vsva_topo_owner_print(owner, sizeof(owner), ep);
		seq_puts(s, owner);
		if (ep->owner)
			seq_printf(s, " ctx %u domain %u", ep->owner->id,
				   ep->dom_id);
		seq_putc(s, '\n');
	}
	mutex_unlock(&vsva_topo_lock);
}

/* Replace the topology; refused while any endpoint is attached. */
ssize_t vsva_topo_write(const char *buf, size_t len)
{
	struct vsva_endpoint *eps, *old;
	unsigned int nr, i;
	int rc;

	rc = vsva_topo_parse(buf, &eps, &nr);
	if (rc)
		return rc;
	mutex_lock(&vsva_topo_lock);
	for (i = 0; i < vsva_nr_eps; i++) {
		if (vsva_eps[i].owner) {
			mutex_unlock(&vsva_topo_lock);
			kfree(eps);
			return -EBUSY;
		}
	}
	old = vsva_eps;
	vsva_eps = eps;
	vsva_nr_eps = nr;
	mutex_unlock(&vsva_topo_lock);
	kfree(old);
	return len;
}

/*
 * The default: 20 endpoints on bus 0.  00:02.0 (group 1); 00:03.0 and
 * 00:03.1 sharing group 2; 00:04.0 .. 00:12.0 in groups 3 .. 17; all of
 * them with PASID, ATS and PRI.  00:13.0 (group 18) has PASID only and
 * 00:14.0 (group 19) no capability at all.
 */
static char *vsva_topo_default(void)
{
	const char *all = "pasid+ats+pri";
	char *buf, *p;
	unsigned int d;

	buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return NULL;
	p = buf + sprintf(buf, "00:02.0/1/%s,00:03.0/2/%s,00:03.1/2/%s", all,
			  all, all);
	for (d = 4; d <= 0x12; d++)
		p += sprintf(p, ",00:%02x.0/%u/%s", d, d - 1, all);
	sprintf(p, ",00:13.0/18/pasid,00:14.0/19");
	return buf;
}

int vsva_topo_init(void)
{
	char *def = NULL;
	int rc;

	if (!topology || !*topology) {
		def = vsva_topo_default();
		if (!def)
			return -ENOMEM;
	}
	rc = vsva_topo_parse(def ?: topology, &vsva_eps, &vsva_nr_eps);
	kfree(def);

	if (rc)
		pr_err("bad topology parameter \"%s\"\n", topology);
	return rc;
}

void vsva_topo_exit(void)
{
	kfree(vsva_eps);
	vsva_eps = NULL;
	vsva_nr_eps = 0;
}
