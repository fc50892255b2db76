// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/vsva/:
 *   summary        contexts, PASIDs and pinned pages, system-wide
 *   topology       the emulated IOMMU's endpoints (root: write to replace)
 *   fail_bind_nth  test hook: a bind fails on its Nth device (0 = off);
 *                  only in modules built with VSVA_TEST_HOOKS=1
 *   ctx/<id>       one context: its set, PASIDs, bindings, domains,
 *                  devices, pinned pages, counters and backend state
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "emu/emu.h"
#include "ioasid.h"
#include "vsva_priv.h"

#ifdef VSVA_TEST_HOOKS
unsigned int vsva_fail_bind_nth;
unsigned int vsva_bench_skip_inv_backend;
#endif
atomic_t vsva_nr_contexts = ATOMIC_INIT(0);

static struct dentry *vsva_dbg_root;
static struct dentry *vsva_dbg_ctx_dir;

static int vsva_summary_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "contexts %d\n", atomic_read(&vsva_nr_contexts));
	seq_printf(s, "pasids %u\n", vsva_ioasid_global_count());
	seq_printf(s, "pinned_pages %llu\n", vsva_s2_global_pinned());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vsva_summary);

static int vsva_topology_show(struct seq_file *s, void *unused)
{
	vsva_topo_show(s);
	return 0;
}

static int vsva_topology_open(struct inode *inode, struct file *file)
{
	return single_open(file, vsva_topology_show, inode->i_private);
}

static ssize_t vsva_topology_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	char *buf;
	ssize_t rc;

	if (len > PAGE_SIZE - 1)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	rc = vsva_topo_write(buf, len);
	kfree(buf);
	return rc;
}

static const struct file_operations vsva_topology_fops = {
	.owner = THIS_MODULE,
	.open = vsva_topology_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = vsva_topology_write,
};

static void vsva_ctx_show_counters(struct seq_file *s, struct vsva_ctx *ctx)
{
	struct vsva_counters *c = &ctx->counters;

	seq_printf(s, "payload_copies %lld\n",
		   atomic64_read(&c->payload_copies));
	seq_printf(s, "binds %lld\n", atomic64_read(&c->binds));
	seq_printf(s, "unbinds %lld\n", atomic64_read(&c->unbinds));
	seq_printf(s, "invalidations %lld\n",
		   atomic64_read(&c->invalidations));
}

static int vsva_ctx_show(struct seq_file *s, void *unused)
{
	struct vsva_ctx *ctx = s->private;
	struct vsva_obj *obj;
	unsigned int n;
	unsigned long id;
	char name[16];

	mutex_lock(&ctx->lock);
	seq_printf(s, "ctx %u\n", ctx->id);
	seq_printf(s, "pinned_pages %lld\n", atomic64_read(&ctx->pinned_pages));
	seq_printf(s, "bindings %d\n", atomic_read(&ctx->nr_bindings));
	vsva_ctx_show_counters(s, ctx);
	vsva_ioasid_set_show(s, ctx->set);
	xa_for_each(&ctx->objects, id, obj) {
		if (obj->type == VSVA_OBJ_DOMAIN) {
			struct vsva_domain *dom =
				container_of(obj, struct vsva_domain, obj);
			struct vsva_s2_map *map;

			down_read(&dom->s2_lock);
			seq_printf(s, "domain %u devices %u pinned %lu\n",
				   obj->id, dom->nr_devices, dom->pinned);
			n = 0;
			list_for_each_entry(map, &dom->maps, node) {
				if (n++ == VSVA_DEBUGFS_LIST_MAX) {
					seq_puts(s, "  ... more mappings\n");
					break;
				}
				seq_printf(s, "  map gpa 0x%llx pages %lu prot %u\n",
					   map->gpa, map->npages, map->prot);
			}
			up_read(&dom->s2_lock);
		} else {
			struct vsva_device *dev =
				container_of(obj, struct vsva_device, obj);
			unsigned long pasid;
			void *entry;

			vsva_rid_print(name, sizeof(name), dev->rid);
			seq_printf(s, "device %u rid %s domain %u caps 0x%x enabled 0x%x bound %u\n",
				   obj->id, name, dev->dom->obj.id, dev->caps,
				   dev->enabled, dev->nr_bound);
			n = 0;
			xa_for_each(&dev->bound, pasid, entry) {
				if (n++ == VSVA_DEBUGFS_LIST_MAX) {
					seq_printf(s, "  ... %u more\n",
						   dev->nr_bound -
						   VSVA_DEBUGFS_LIST_MAX);
					break;
				}
				seq_printf(s, "  bound %lu\n", pasid);
			}
		}
		cond_resched();
	}
	vsva_emu_debugfs_ctx(s, ctx);
	mutex_unlock(&ctx->lock);
	return 0;
}

static int vsva_ctx_open(struct inode *inode, struct file *file)
{
	return single_open(file, vsva_ctx_show, inode->i_private);
}

static const struct file_operations vsva_ctx_fops = {
	.owner = THIS_MODULE,
	.open = vsva_ctx_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

void vsva_debugfs_ctx_add(struct vsva_ctx *ctx)
{
	char name[16];

	if (IS_ERR_OR_NULL(vsva_dbg_ctx_dir))
		return;
	snprintf(name, sizeof(name), "%u", ctx->id);
	ctx->debugfs = debugfs_create_file(name, 0400, vsva_dbg_ctx_dir, ctx,
					   &vsva_ctx_fops);
}

/* Before release takes ctx->lock: removal waits for readers to finish. */
void vsva_debugfs_ctx_remove(struct vsva_ctx *ctx)
{
	debugfs_remove(ctx->debugfs);
	ctx->debugfs = NULL;
}

void vsva_debugfs_init(void)
{
	vsva_dbg_root = debugfs_create_dir("vsva", NULL);
	debugfs_create_file("summary", 0444, vsva_dbg_root, NULL,
			    &vsva_summary_fops);
	debugfs_create_file("topology", 0600, vsva_dbg_root, NULL,
			    &vsva_topology_fops);
#ifdef VSVA_TEST_HOOKS
	debugfs_create_u32("fail_bind_nth", 0600, vsva_dbg_root,
			   &vsva_fail_bind_nth);
	debugfs_create_u32("bench_skip_inv_backend", 0600, vsva_dbg_root,
			   &vsva_bench_skip_inv_backend);
#endif
	vsva_dbg_ctx_dir = debugfs_create_dir("ctx", vsva_dbg_root);
}

void vsva_debugfs_exit(void)
{
	debugfs_remove(vsva_dbg_root);
	vsva_dbg_root = NULL;
	vsva_dbg_ctx_dir = NULL;
}
