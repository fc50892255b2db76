// SPDX-License-Identifier: GPL-2.0
/*
 * vsva_consumer: an in-kernel consumer of vsva's kernel-internal API, in
 * the role of a KVM-side PASID translator.  It subscribes to the IOASID
 * notifier chain, counts and logs the events, can unbind a PASID through
 * vsva_unbind_gpasid() with no user buffer anywhere, and holds PASID
 * handles (vsva_ioasid_get()/vsva_ioasid_put()).
 *
 * Its notifier callback only records: it never calls back into vsva (the
 * rules of include/vsva/kapi.h).
 *
 * /sys/kernel/debug/vsva_consumer/:
 *   stats    alloc/free/bind/unbind counts and what is live
 *   events   the last events, oldest first
 *   unbind   write "CTX TARGET PASID [domain]": unbind through the kapi
 *            (test hook: only built with kbuild VSVA_TEST_HOOKS=1)
 *   result   the last unbind's errno and message
 *   hold     write "get CTX PASID": take a handle on a PASID of a context;
 *            write "put PASID": drop the handle this module holds on it
 *            (-ENOENT when it holds none: it cannot drop anyone else's);
 *            read: the PASIDs held (test hook, as unbind)
 *   clear    write anything: reset counts and log
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <vsva/kapi.h>

#define VC_LOG 256

struct vc_event {
	unsigned long action;
	struct vsva_ioasid_event ev;
};

/* vc_lock: the counts, the log and the last result. */
static DEFINE_MUTEX(vc_lock);
static u64 vc_count[5];
static struct vc_event vc_log[VC_LOG];
static unsigned int vc_head, vc_len;
static int vc_last_rc;
static struct vsva_errmsg vc_last_msg;
static struct dentry *vc_dir;

/* A PASID handle held by this module (vc_lock). */
struct vc_hold {
	struct list_head node;
	struct vsva_ioasid *ioasid;
};

static LIST_HEAD(vc_holds);

static const char *const vc_names[5] = {
	"?", "alloc", "free", "bind", "unbind",
};

static int vc_notify(struct notifier_block *nb, unsigned long action,
		     void *data)
{
	struct vsva_ioasid_event *ev = data;

	if (action < VSVA_IOASID_NOTIFY_ALLOC ||
	    action > VSVA_IOASID_NOTIFY_UNBIND)
		return NOTIFY_DONE;
	mutex_lock(&vc_lock);
	vc_count[action]++;
	vc_log[vc_head].action = action;
	vc_log[vc_head].ev = *ev;
	vc_head = (vc_head + 1) % VC_LOG;
	if (vc_len < VC_LOG)
		vc_len++;
	mutex_unlock(&vc_lock);
	return NOTIFY_OK;
}

static struct notifier_block vc_nb = {
	.notifier_call = vc_notify,
};

static int vc_stats_show(struct seq_file *s, void *unused)
{
	mutex_lock(&vc_lock);
	seq_printf(s, "alloc %llu\nfree %llu\nbind %llu\nunbind %llu\n",
		   vc_count[1], vc_count[2], vc_count[3], vc_count[4]);
	seq_printf(s, "live_pasids %lld\nlive_bindings %lld\n",
		   (s64)(vc_count[1] - vc_count[2]),
		   (s64)(vc_count[3] - vc_count[4]));
	mutex_unlock(&vc_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vc_stats);

static int vc_events_show(struct seq_file *s, void *unused)
{
	unsigned int i;

	mutex_lock(&vc_lock);
	for (i = 0; i < vc_len; i++) {
		const struct vc_event *e =
			&vc_log[(vc_head + VC_LOG - vc_len + i) % VC_LOG];

		seq_printf(s, "%s ctx %u set %u pasid %u", vc_names[e->action],
			   e->ev.ctx_id, e->ev.set_id, e->ev.pasid);
		if (e->ev.gpasid_valid)
			seq_printf(s, " gpasid %u", e->ev.gpasid);
		if (e->action >= VSVA_IOASID_NOTIFY_BIND)
			seq_printf(s, " dev %u rid 0x%04x", e->ev.dev_id,
				   e->ev.rid);
		seq_putc(s, '\n');
	}
	mutex_unlock(&vc_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vc_events);

static int vc_result_show(struct seq_file *s, void *unused)
{
	mutex_lock(&vc_lock);
	seq_printf(s, "%d %s\n", vc_last_rc, vc_last_msg.buf);
	mutex_unlock(&vc_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vc_result);

#ifdef VSVA_TEST_HOOKS
static ssize_t vc_unbind_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct vsva_errmsg *err;
	unsigned int ctx_id, target, pasid;
	struct vsva_ctx *ctx;
	char buf[64], kind[16] = "";
	u32 flags = 0;
	int rc;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%u %u %u %15s", &ctx_id, &target, &pasid, kind) < 3)
		return -EINVAL;
	if (!strcmp(kind, "domain"))
		flags = VSVA_TARGET_DOMAIN;
	else if (kind[0])
		return -EINVAL;

	err = kzalloc(sizeof(*err), GFP_KERNEL);
	if (!err)
		return -ENOMEM;
	ctx = vsva_ctx_get(ctx_id);
	if (ctx) {
		/* Kernel structs only: no user buffer is built or faked. */
		rc = vsva_unbind_gpasid(ctx, target, flags, pasid, err);
		vsva_ctx_put(ctx);
	} else {
		rc = -ENOENT;
		snprintf(err->buf, sizeof(err->buf), "no context %u", ctx_id);
	}
	mutex_lock(&vc_lock);
	vc_last_rc = rc;
	vc_last_msg = *err;
	mutex_unlock(&vc_lock);
	kfree(err);
	return rc ? rc : len;
}

static const struct file_operations vc_unbind_fops = {
	.owner = THIS_MODULE,
	.write = vc_unbind_write,
};

static int vc_hold_show(struct seq_file *s, void *unused)
{
	struct vc_hold *h;

	mutex_lock(&vc_lock);
	list_for_each_entry(h, &vc_holds, node)
		seq_printf(s, "pasid %u\n", vsva_ioasid_pasid(h->ioasid));
	mutex_unlock(&vc_lock);
	return 0;
}

static int vc_hold_open(struct inode *inode, struct file *file)
{
	return single_open(file, vc_hold_show, NULL);
}

static int vc_hold_get(unsigned int ctx_id, unsigned int pasid)
{
	struct vsva_ioasid *ioasid;
	struct vsva_ctx *ctx;
	struct vc_hold *h;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	ctx = vsva_ctx_get(ctx_id);
	if (!ctx) {
		kfree(h);
		return -ENOENT;
	}
	ioasid = vsva_ioasid_get(vsva_ctx_ioasid_set(ctx), pasid);
	vsva_ctx_put(ctx);
	if (IS_ERR(ioasid)) {
		kfree(h);
		return PTR_ERR(ioasid);
	}
	h->ioasid = ioasid;
	mutex_lock(&vc_lock);
	list_add_tail(&h->node, &vc_holds);
	mutex_unlock(&vc_lock);
	return 0;
}

/* Only a handle this module holds can be dropped. */
static int vc_hold_put(unsigned int pasid)
{
	struct vc_hold *h, *found = NULL;

	mutex_lock(&vc_lock);
	list_for_each_entry(h, &vc_holds, node) {
		if (vsva_ioasid_pasid(h->ioasid) == pasid) {
			found = h;
			list_del(&h->node);
			break;
		}
	}
	mutex_unlock(&vc_lock);
	if (!found)
		return -ENOENT;
	vsva_ioasid_put(found->ioasid);
	kfree(found);
	return 0;
}

static ssize_t vc_hold_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	unsigned int a, b;
	char buf[64];
	int rc;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "get %u %u", &a, &b) == 2)
		rc = vc_hold_get(a, b);
	else if (sscanf(buf, "put %u", &a) == 1)
		rc = vc_hold_put(a);
	else
		return -EINVAL;
	return rc ? rc : len;
}

static const struct file_operations vc_hold_fops = {
	.owner = THIS_MODULE,
	.open = vc_hold_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = vc_hold_write,
};
#endif

static ssize_t vc_clear_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	mutex_lock(&vc_lock);
	memset(vc_count, 0, sizeof(vc_count));
	vc_head = 0;
	vc_len = 0;
	vc_last_rc = 0;
	vc_last_msg.buf[0] = '\0';
	mutex_unlock(&vc_lock);
	return len;
}

static const struct file_operations vc_clear_fops = {
	.owner = THIS_MODULE,
	.write = vc_clear_write,
};

static int __init vc_init(void)
{
	int rc = vsva_ioasid_register_notifier(&vc_nb);

	if (rc)
		return rc;
	vc_dir = debugfs_create_dir("vsva_consumer", NULL);
	debugfs_create_file("stats", 0444, vc_dir, NULL, &vc_stats_fops);
	debugfs_create_file("events", 0444, vc_dir, NULL, &vc_events_fops);
	debugfs_create_file("result", 0444, vc_dir, NULL, &vc_result_fops);
#ifdef VSVA_TEST_HOOKS
	debugfs_create_file("unbind", 0200, vc_dir, NULL, &vc_unbind_fops);
	debugfs_create_file("hold", 0600, vc_dir, NULL, &vc_hold_fops);
#endif
	debugfs_create_file("clear", 0200, vc_dir, NULL, &vc_clear_fops);
	return 0;
}

static void __exit vc_exit(void)
{
	struct vc_hold *h, *tmp;

	debugfs_remove(vc_dir);
	vsva_ioasid_unregister_notifier(&vc_nb);
	list_for_each_entry_safe(h, tmp, &vc_holds, node) {
		vsva_ioasid_put(h->ioasid);
		kfree(h);
	}
}

module_init(vc_init);
module_exit(vc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vsva in-kernel consumer: IOASID notifications, kernel-internal unbind");
