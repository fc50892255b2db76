// SPDX-License-Identifier: GPL-2.0
/*
 * vsva: guest Shared Virtual Addressing on a nested IOMMU.
 *
 * Front end: the /dev/vsva misc device and its ioctl table.  Every command
 * is _IO(VSVA_TYPE, nr) and carries its size in the leading argsz; the
 * generic size and zero-tail check happens once, here, before any handler.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vsva.h>

#define VSVA_MODULE_VERSION ((0 << 16) | (1 << 8) | 0)

union vsva_ucmd_buffer {
	struct vsva_info info;
};

struct vsva_ucmd {
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

static int vsva_get_info(struct vsva_ucmd *ucmd)
{
	struct vsva_info *info = ucmd->cmd;

	if (info->flags)
		return -EOPNOTSUPP;
	info->out_uapi_version = VSVA_UAPI_VERSION;
	info->out_bind_versions = BIT(VSVA_GPASID_BIND_VERSION_1);
	info->out_inv_versions = BIT(VSVA_CACHE_INVALIDATE_INFO_VERSION_1);
	info->out_page_resp_versions = BIT(VSVA_PAGE_RESP_VERSION_1);
	info->out_formats = BIT(VSVA_PASID_FORMAT_INTEL_VTD);
	info->out_module_version = VSVA_MODULE_VERSION;
	info->out_pasid_bits = 20;
	return 0;
}

struct vsva_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct vsva_ucmd *ucmd);
};

#define VSVA_IOCTL_OP(_ioctl, _fn, _struct, _last)                           \
	[_IOC_NR(_ioctl) - VSVA_CMD_BASE] = {                                \
		.size = sizeof(_struct) +                                    \
			BUILD_BUG_ON_ZERO(sizeof(union vsva_ucmd_buffer) <   \
					  sizeof(_struct)),                  \
		.min_size = offsetofend(_struct, _last),                     \
		.ioctl_num = _ioctl,                                         \
		.execute = _fn,                                              \
	}

static const struct vsva_ioctl_op vsva_ioctl_ops[] = {
	VSVA_IOCTL_OP(VSVA_GET_INFO, vsva_get_info, struct vsva_info,
		      out_max_pinned),
};

static long vsva_fops_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	union vsva_ucmd_buffer buf;
	const struct vsva_ioctl_op *op;
	struct vsva_ucmd ucmd = {};
	unsigned int nr = _IOC_NR(cmd);
	int rc;

	if (nr < VSVA_CMD_BASE ||
	    nr - VSVA_CMD_BASE >= ARRAY_SIZE(vsva_ioctl_ops))
		return -ENOTTY;
	op = &vsva_ioctl_ops[nr - VSVA_CMD_BASE];
	if (op->ioctl_num != cmd)
		return -ENOTTY;

	ucmd.ubuffer = (void __user *)arg;
	rc = get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer);
	if (rc)
		return rc;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	rc = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				   ucmd.user_size);
	if (rc)
		return rc;
	ucmd.cmd = &buf;
	rc = op->execute(&ucmd);
	if (rc)
		return rc;
	if (copy_to_user(ucmd.ubuffer, &buf,
			 min_t(u32, ucmd.user_size, op->size)))
		return -EFAULT;
	return 0;
}

static const struct file_operations vsva_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vsva_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vsva_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vsva",
	.fops = &vsva_fops,
	.mode = 0660,
};

#ifdef VSVA_TEST_LEAK
/* Harness self-test: one allocation nobody frees (kmemleak must see it). */
static void *vsva_test_leak;
#endif

static int __init vsva_init(void)
{
#ifdef VSVA_TEST_LEAK
	vsva_test_leak = kmalloc(64, GFP_KERNEL);
	vsva_test_leak = NULL;
#endif
#ifdef VSVA_TEST_WARN
	/* Harness self-test: a warning the console checker must catch. */
	WARN_ON(1);
#endif
	return misc_register(&vsva_misc);
}

static void __exit vsva_exit(void)
{
	misc_deregister(&vsva_misc);
}

module_init(vsva_init);
module_exit(vsva_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("guest Shared Virtual Addressing on a nested IOMMU");
