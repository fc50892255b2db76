// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU UAPI layer: the only code that copies bind, unbind,
 * invalidate, batch and page-response payloads from user space.  Each
 * payload (or batch array) is copied exactly once per request, checked
 * here (size, version, flags, padding, format, type x granularity) and
 * handed to the kernel-internal API as a kernel struct.
 *
 * Errno inside the v1 payloads follows upstream: a wrong field value is
 * -EINVAL (including unknown payload flags and non-zero padding), a format
 * other than VT-d is -EOPNOTSUPP.
 *
 * What v1 accepts is decided by real Linux 5.11-era clients (the QEMU VT-d
 * series is the reference): an unbind is checked only as 5.11 checked it,
 * ADDR invalidations take any power-of-two granule and ignore the address
 * bits below it (VT-d's address mask), and pat/emt copied from a guest
 * PASID entry are ignored.  Documentation/uapi.md has the table.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "trace.h"
#include "vsva_priv.h"

#define VSVA_BIND_MIN offsetof(struct vsva_gpasid_bind_data, vendor)
#define VSVA_BIND_VTD_MIN offsetofend(struct vsva_gpasid_bind_data, vendor.vtd)
#define VSVA_INV_MIN offsetof(struct vsva_cache_invalidate_info, granu)
#define VSVA_INV_PASID_MIN                                                   \
	offsetofend(struct vsva_cache_invalidate_info, granu.pasid_info)
#define VSVA_INV_ADDR_MIN                                                    \
	offsetofend(struct vsva_cache_invalidate_info, granu.addr_info)
#define VSVA_RESP_MIN offsetofend(struct vsva_page_response, code)

#define VSVA_INV_CACHE_ALL ((1U << VSVA_CACHE_INV_TYPE_NR) - 1)

static_assert(sizeof(struct vsva_gpasid_bind_data) == 72);
static_assert(sizeof(struct vsva_cache_invalidate_info) == 56);
static_assert(sizeof(struct vsva_page_response) == 24);
static_assert(VSVA_BIND_MIN == 56 && VSVA_INV_MIN == 16 &&
	      VSVA_INV_PASID_MIN == 32);

/*
 * Valid type x granularity: bit (granu) of vsva_inv_granu_ok[type index].
 * IOTLB x {DOMAIN, PASID, ADDR}; DEV_IOTLB x {PASID, ADDR};
 * PASID cache x {DOMAIN, PASID}.
 */
static const u8 vsva_inv_granu_ok[VSVA_CACHE_INV_TYPE_NR] = {
	BIT(VSVA_INV_GRANU_DOMAIN) | BIT(VSVA_INV_GRANU_PASID) |
		BIT(VSVA_INV_GRANU_ADDR),
	BIT(VSVA_INV_GRANU_PASID) | BIT(VSVA_INV_GRANU_ADDR),
	BIT(VSVA_INV_GRANU_DOMAIN) | BIT(VSVA_INV_GRANU_PASID),
};

static const char *const vsva_inv_type_name[VSVA_CACHE_INV_TYPE_NR] = {
	"IOTLB", "DEV_IOTLB", "PASID",
};

static const char *const vsva_granu_name[VSVA_INV_GRANU_NR] = {
	"DOMAIN", "PASID", "ADDR",
};

u32 vsva_inv_matrix(void)
{
	u32 m = 0;
	int t, g;

	for (t = 0; t < VSVA_CACHE_INV_TYPE_NR; t++)
		for (g = 0; g < VSVA_INV_GRANU_NR; g++)
			if (vsva_inv_granu_ok[t] & BIT(g))
				m |= VSVA_INV_MATRIX_BIT(t, g);
	return m;
}

/*
 * What bind and unbind both check, and all that Linux 5.11 checked for an
 * unbind: argsz, version, format, flags, padding, and the hpasid range.
 */
static int vsva_check_bind_head(const struct vsva_gpasid_bind_data *data,
				const char *what, bool rid_ok,
				struct vsva_errmsg *err)
{
	if (data->argsz < VSVA_BIND_MIN) {
		vsva_err(err, "%s: argsz %u is below the minimum %zu", what,
			 data->argsz, VSVA_BIND_MIN);
		return -EINVAL;
	}
	if (data->version != VSVA_GPASID_BIND_VERSION_1) {
		vsva_err(err, "%s: version %u is not supported (1 is)", what,
			 data->version);
		return -EINVAL;
	}
	if (data->format != VSVA_PASID_FORMAT_INTEL_VTD) {
		vsva_err(err, "%s: format %u is not supported (only %u, Intel VT-d)", what,
			 data->format, VSVA_PASID_FORMAT_INTEL_VTD);
		return -EOPNOTSUPP;
	}
	if (data->flags & ~VSVA_SVA_GPASID_VAL) {
		vsva_err(err, "%s: unknown flags 0x%llx", what,
			 data->flags & ~VSVA_SVA_GPASID_VAL);
		return -EINVAL;
	}
	if (memchr_inv(data->padding, 0, sizeof(data->padding))) {
		vsva_err(err, "%s: padding must be zero", what);
		return -EINVAL;
	}
	if ((!data->hpasid && !rid_ok) || data->hpasid > VSVA_PASID_MAX) {
		vsva_err(err, "%s: hpasid %llu is outside [%u, %u]", what,
			 data->hpasid, rid_ok ? 0 : 1, VSVA_PASID_MAX);
		return -EINVAL;
	}
	return 0;
}

int vsva_check_bind_data(const struct vsva_gpasid_bind_data *data,
			 bool rid_ok, struct vsva_errmsg *err)
{
	const struct vsva_gpasid_bind_data_vtd *vtd = &data->vendor.vtd;
	int rc;

	rc = vsva_check_bind_head(data, "bind", rid_ok, err);
	if (rc)
		return rc;
	if (data->argsz < VSVA_BIND_VTD_MIN) {
		vsva_err(err, "bind: argsz %u is too small for the VT-d part (%zu bytes)",
			 data->argsz, VSVA_BIND_VTD_MIN);
		return -EINVAL;
	}
	if (vtd->flags & ~(VSVA_VTD_GPASID_LAST - 1)) {
		vsva_err(err, "bind: unknown VT-d flags 0x%llx",
			 vtd->flags & ~(VSVA_VTD_GPASID_LAST - 1));
		return -EINVAL;
	}
	/*
	 * 5.11 refused the memory-type flags too.  pat and emt are not
	 * checked: a VMM copies them from the guest's PASID entry, where
	 * they mean nothing without those flags (5.11 ignored them as well).
	 */
	if (vtd->flags & VSVA_VTD_GPASID_MTS_MASK) {
		vsva_err(err, "bind: VT-d flags 0x%llx ask for memory type support, which is not available",
			 vtd->flags & VSVA_VTD_GPASID_MTS_MASK);
		return -EINVAL;
	}
	if (data->addr_width != 48 && data->addr_width != 57) {
		vsva_err(err, "bind: addr_width %u is not 48 or 57",
			 data->addr_width);
		return -EINVAL;
	}
	if (!IS_ALIGNED(data->gpgd, SZ_4K)) {
		vsva_err(err, "bind: gpgd 0x%llx is not 4 KiB aligned",
			 data->gpgd);
		return -EINVAL;
	}
	if ((data->flags & VSVA_SVA_GPASID_VAL) &&
	    data->gpasid > VSVA_PASID_MAX) {
		vsva_err(err, "bind: gpasid %llu exceeds the %u-bit PASID space",
			 data->gpasid, VSVA_PASID_BITS);
		return -EINVAL;
	}
	return 0;
}

static int vsva_check_pasid(const char *what, u32 flags, u32 pasid_flag,
			    u32 archid, u64 pasid, bool rid_ok,
			    struct vsva_errmsg *err)
{
	if (!(flags & pasid_flag)) {
		vsva_err(err, "invalidate: %s needs the PASID flag", what);
		return -EINVAL;
	}
	if (archid) {
		vsva_err(err, "invalidate: %s archid %u must be 0 (VT-d)", what,
			 archid);
		return -EINVAL;
	}
	if ((!pasid && !rid_ok) || pasid > VSVA_PASID_MAX) {
		vsva_err(err, "invalidate: %s pasid %llu is outside [%u, %u]",
			 what, pasid, rid_ok ? 0 : 1, VSVA_PASID_MAX);
		return -EINVAL;
	}
	return 0;
}

/*
 * The bytes of the granu union that @inv's granularity does not use, from
 * @used up to argsz, must be zero: no field is hidden there, and a real
 * 5.11 VMM (QEMU's VT-d series) zero-fills the struct before setting it.
 */
static int vsva_check_granu_unused(const struct vsva_cache_invalidate_info *inv,
				   size_t used, struct vsva_errmsg *err)
{
	size_t end = min_t(size_t, inv->argsz, sizeof(*inv));

	if (end > used && memchr_inv((const u8 *)inv + used, 0, end - used)) {
		vsva_err(err, "invalidate: granu bytes %zu..%zu are not used by granularity %s and must be zero",
			 used, end - 1, vsva_granu_name[inv->granularity]);
		return -EINVAL;
	}
	return 0;
}

int vsva_check_inv_info(const struct vsva_cache_invalidate_info *inv,
			bool rid_ok, struct vsva_errmsg *err)
{
	const struct vsva_inv_addr_info *ai = &inv->granu.addr_info;
	const struct vsva_inv_pasid_info *pi = &inv->granu.pasid_info;
	unsigned long bad;
	u64 size, last;
	int t;

	if (inv->argsz < VSVA_INV_MIN) {
		vsva_err(err, "invalidate: argsz %u is below the minimum %zu",
			 inv->argsz, VSVA_INV_MIN);
		return -EINVAL;
	}
	if (inv->version != VSVA_CACHE_INVALIDATE_INFO_VERSION_1) {
		vsva_err(err, "invalidate: version %u is not supported (1 is)",
			 inv->version);
		return -EINVAL;
	}
	if (inv->granularity >= VSVA_INV_GRANU_NR) {
		vsva_err(err, "invalidate: granularity %u is unknown",
			 inv->granularity);
		return -EINVAL;
	}
	if ((inv->granularity == VSVA_INV_GRANU_PASID &&
	     inv->argsz < VSVA_INV_PASID_MIN) ||
	    (inv->granularity == VSVA_INV_GRANU_ADDR &&
	     inv->argsz < VSVA_INV_ADDR_MIN)) {
		vsva_err(err, "invalidate: argsz %u is too small for granularity %s (%zu)",
			 inv->argsz, vsva_granu_name[inv->granularity],
			 inv->granularity == VSVA_INV_GRANU_PASID ?
			 VSVA_INV_PASID_MIN : VSVA_INV_ADDR_MIN);
		return -EINVAL;
	}
	if (!inv->cache) {
		vsva_err(err, "invalidate: cache is 0 (no cache type selected)");
		return -EINVAL;
	}
	if (inv->cache & ~VSVA_INV_CACHE_ALL) {
		vsva_err(err, "invalidate: unknown cache type bits 0x%x",
			 inv->cache & ~VSVA_INV_CACHE_ALL);
		return -EINVAL;
	}
	if (memchr_inv(inv->padding, 0, sizeof(inv->padding))) {
		vsva_err(err, "invalidate: padding must be zero");
		return -EINVAL;
	}
	bad = inv->cache;
	for_each_set_bit(t, &bad, VSVA_CACHE_INV_TYPE_NR) {
		if (!(vsva_inv_granu_ok[t] & BIT(inv->granularity))) {
			vsva_err(err, "invalidate: cache type %s does not take granularity %s",
				 vsva_inv_type_name[t],
				 vsva_granu_name[inv->granularity]);
			return -EINVAL;
		}
	}
	switch (inv->granularity) {
	case VSVA_INV_GRANU_PASID:
		if (pi->flags & ~(VSVA_INV_PASID_FLAGS_PASID |
				  VSVA_INV_PASID_FLAGS_ARCHID)) {
			vsva_err(err, "invalidate: unknown pasid_info flags 0x%x",
				 pi->flags);
			return -EINVAL;
		}
		t = vsva_check_granu_unused(inv, VSVA_INV_PASID_MIN, err);
		if (t)
			return t;
		return vsva_check_pasid("pasid_info", pi->flags,
					VSVA_INV_PASID_FLAGS_PASID, pi->archid,
					pi->pasid, rid_ok, err);
	case VSVA_INV_GRANU_ADDR:
		if (ai->flags & ~(VSVA_INV_ADDR_FLAGS_PASID |
				  VSVA_INV_ADDR_FLAGS_ARCHID |
				  VSVA_INV_ADDR_FLAGS_LEAF)) {
			vsva_err(err, "invalidate: unknown addr_info flags 0x%x",
				 ai->flags);
			return -EINVAL;
		}
		t = vsva_check_pasid("addr_info", ai->flags,
				     VSVA_INV_ADDR_FLAGS_PASID, ai->archid,
				     ai->pasid, rid_ok, err);
		if (t)
			return t;
		/*
		 * A 5.11 VMM sends granule_size = 4 KiB << am (am 0..18 from
		 * the guest's descriptor), nb_granules = 1, and the
		 * descriptor's address, whose bits below the granule VT-d
		 * masks off.
		 */
		if (ai->granule_size < SZ_4K ||
		    !is_power_of_2(ai->granule_size)) {
			vsva_err(err, "invalidate: granule_size 0x%llx is not a power of two of at least 4 KiB",
				 ai->granule_size);
			return -EINVAL;
		}
		if (!ai->nb_granules) {
			vsva_err(err, "invalidate: nb_granules is 0");
			return -EINVAL;
		}
		if (check_mul_overflow(ai->granule_size, ai->nb_granules,
				       &size) ||
		    check_add_overflow(ai->addr & ~(ai->granule_size - 1),
				       size - 1, &last)) {
			vsva_err(err, "invalidate: addr 0x%llx + %llu granules of 0x%llx overflows",
				 ai->addr, ai->nb_granules, ai->granule_size);
			return -EINVAL;
		}
		return 0;
	default:
		return vsva_check_granu_unused(inv, VSVA_INV_MIN, err);
	}
}

/*
 * The usual entries, checked in a few comparisons each: how many entries
 * from the start of @inv[0..@n) are full-size (56-byte) ADDR
 * invalidations of the IOTLB and/or device TLB, as a 5.11 VMM sends
 * them, that vsva_check_inv_info() accepts.  The caller runs
 * vsva_check_inv_info() on the first entry not counted, which says what
 * is wrong (or accepts a less usual entry).  Each test covers whole words
 * of the entry:
 *  - argsz and version;
 *  - cache, granularity and the 6 padding bytes, read as one
 *    little-endian word: 0x200 | cache, cache 1..3 (IOTLB, DEV_IOTLB or
 *    both), so the word minus 0x201 is at most 2;
 *  - addr_info.flags and archid as one word: the PASID flag, ARCHID and
 *    LEAF allowed, archid 0;
 *  - pasid in [0 with @rid_ok else 1, VSVA_PASID_MAX], one comparison;
 *  - granule_size (a power of two, at least 4 KiB), nb_granules (not 0)
 *    and the range's overflow, as vsva_check_inv_info().
 */
static unsigned int
vsva_inv_fast_prefix(const struct vsva_cache_invalidate_info *inv,
		     unsigned int n, bool rid_ok)
{
	const u64 pmin = !rid_ok, pspan = VSVA_PASID_MAX - pmin;
	const u64 mask = ~(u64)(VSVA_INV_ADDR_FLAGS_ARCHID |
				VSVA_INV_ADDR_FLAGS_LEAF);
	unsigned int i;

	static_assert(VSVA_CACHE_INV_TYPE_IOTLB == 1 &&
		      VSVA_CACHE_INV_TYPE_DEV_IOTLB == 2);
	static_assert(offsetof(struct vsva_cache_invalidate_info, cache) == 8 &&
		      offsetof(struct vsva_cache_invalidate_info, granu) == 16);
	for (i = 0; i < n; i++, inv++) {
		const struct vsva_inv_addr_info *ai = &inv->granu.addr_info;
		u64 w, g, size, start;
		__le64 raw;

		if (inv->argsz != sizeof(*inv) ||
		    inv->version != VSVA_CACHE_INVALIDATE_INFO_VERSION_1)
			break;
		memcpy(&raw, (const u8 *)inv + 8, sizeof(raw));
		w = le64_to_cpu(raw);
		if (w - ((VSVA_INV_GRANU_ADDR << 8) |
			 VSVA_CACHE_INV_TYPE_IOTLB) > 2)
			break;
		w = (u64)ai->archid << 32 | ai->flags;
		if ((w & mask) != VSVA_INV_ADDR_FLAGS_PASID)
			break;
		if (ai->pasid - pmin > pspan)
			break;
		g = ai->granule_size;
		if (g < SZ_4K || (g & (g - 1)))
			break;
		if (!ai->nb_granules ||
		    check_mul_overflow(g, ai->nb_granules, &size))
			break;
		start = ai->addr & ~(g - 1);
		/* The range's last byte, start + size - 1, must not wrap. */
		if (start + (size - 1) < start)
			break;
	}
	return i;
}

int vsva_check_page_resp(const struct vsva_page_response *msg,
			 struct vsva_errmsg *err)
{
	if (msg->argsz < VSVA_RESP_MIN) {
		vsva_err(err, "page_response: argsz %u is below %zu",
			 msg->argsz, VSVA_RESP_MIN);
		return -EINVAL;
	}
	if (msg->version != VSVA_PAGE_RESP_VERSION_1) {
		vsva_err(err, "page_response: version %u is not supported (1 is)",
			 msg->version);
		return -EINVAL;
	}
	if (msg->flags & ~VSVA_PAGE_RESP_PASID_VALID) {
		vsva_err(err, "page_response: unknown flags 0x%x", msg->flags);
		return -EINVAL;
	}
	if ((msg->flags & VSVA_PAGE_RESP_PASID_VALID) &&
	    (!msg->pasid || msg->pasid > VSVA_PASID_MAX)) {
		vsva_err(err, "page_response: pasid %u is outside [1, %u]",
			 msg->pasid, VSVA_PASID_MAX);
		return -EINVAL;
	}
	if (msg->code > VSVA_PAGE_RESP_FAILURE) {
		vsva_err(err, "page_response: code %u is not SUCCESS, INVALID or FAILURE",
			 msg->code);
		return -EINVAL;
	}
	return 0;
}

/*
 * Copy one payload (the request's only copy): @op->data_len bytes, which
 * must equal the payload's own argsz; a longer payload than the kernel
 * knows must have a zero tail (-E2BIG).
 */
static int vsva_copy_payload(struct vsva_ctx *ctx,
			     const struct vsva_nesting_op *op, void *kbuf,
			     size_t ksize, size_t minsize, const char *what,
			     struct vsva_errmsg *err)
{
	u32 argsz;
	int rc;

	if (op->data_len < minsize) {
		vsva_err(err, "%s: data_len %u is below the payload minimum %zu",
			 what, op->data_len, minsize);
		return -EINVAL;
	}
	if (op->data_len > VSVA_MAX_PAYLOAD) {
		vsva_err(err, "%s: data_len %u exceeds %u", what, op->data_len,
			 VSVA_MAX_PAYLOAD);
		return -E2BIG;
	}
	atomic64_inc(&ctx->counters.payload_copies);
	rc = copy_struct_from_user(kbuf, ksize, u64_to_user_ptr(op->data_uptr),
				   op->data_len);
	if (rc == -E2BIG)
		vsva_err(err, "%s: payload bytes past %zu are not zero", what,
			 ksize);
	else if (rc == -EFAULT)
		vsva_err(err, "%s: cannot read the payload at 0x%llx", what,
			 op->data_uptr);
	if (rc)
		return rc;
	argsz = *(u32 *)kbuf;
	if (argsz != op->data_len) {
		vsva_err(err, "%s: payload argsz %u differs from data_len %u",
			 what, argsz, op->data_len);
		return -EINVAL;
	}
	return 0;
}

int vsva_uapi_bind(struct vsva_ctx *ctx, const struct vsva_nesting_op *op,
		   struct vsva_errmsg *err)
{
	struct vsva_gpasid_bind_data data;
	int rc;

	rc = vsva_copy_payload(ctx, op, &data, sizeof(data), VSVA_BIND_MIN,
			       "bind", err);
	if (rc)
		return rc;
	rc = vsva_check_bind_data(&data, op->flags & VSVA_RID_PASID_OK, err);
	if (rc)
		return rc;
	return __vsva_bind_gpasid(ctx, op->target_id, op->flags, &data, err);
}

int vsva_uapi_unbind(struct vsva_ctx *ctx, const struct vsva_nesting_op *op,
		     struct vsva_errmsg *err)
{
	struct vsva_gpasid_bind_data data;
	int rc;

	rc = vsva_copy_payload(ctx, op, &data, sizeof(data), VSVA_BIND_MIN,
			       "unbind", err);
	if (rc)
		return rc;
	/* A real 5.11 VMM sends only argsz, version, format and hpasid. */
	rc = vsva_check_bind_head(&data, "unbind",
				  op->flags & VSVA_RID_PASID_OK, err);
	if (rc)
		return rc;
	return __vsva_unbind_gpasid(ctx, op->target_id, op->flags,
				    data.hpasid, false, err);
}

int vsva_uapi_invalidate(struct vsva_ctx *ctx,
			 const struct vsva_nesting_op *op,
			 struct vsva_errmsg *err)
{
	struct vsva_cache_invalidate_info inv;
	unsigned int handled;
	int rc;

	rc = vsva_copy_payload(ctx, op, &inv, sizeof(inv), VSVA_INV_MIN,
			       "invalidate", err);
	if (rc)
		return rc;
	rc = vsva_check_inv_info(&inv, op->flags & VSVA_RID_PASID_OK, err);
	if (rc)
		return rc;
	return __vsva_cache_invalidate_user(ctx, op->target_id, op->flags,
					    &inv, 1, &handled, err);
}

int vsva_uapi_page_response(struct vsva_ctx *ctx,
			    const struct vsva_nesting_op *op,
			    struct vsva_errmsg *err)
{
	struct vsva_page_response msg;
	int rc;

	if (op->flags & VSVA_TARGET_DOMAIN) {
		vsva_err(err, "page_response: TARGET_DOMAIN is not allowed; name one device");
		return -EINVAL;
	}
	rc = vsva_copy_payload(ctx, op, &msg, sizeof(msg), VSVA_RESP_MIN,
			       "page_response", err);
	if (rc)
		return rc;
	rc = vsva_check_page_resp(&msg, err);
	if (rc)
		return rc;
	return __vsva_page_response(ctx, op->target_id, &msg, err);
}

/* Prefix @err's message with the batch entry index. */
static void vsva_batch_msg(struct vsva_errmsg *err, u32 idx)
{
	char tmp[sizeof(err->buf)];

	if (!err || !err->buf[0])
		return;
	strscpy(tmp, err->buf, sizeof(tmp));
	vsva_err(err, "batch entry %u: %s", idx, tmp);
}

/*
 * The kernel copy of a batch of @n entries: the context's buffer when no
 * other batch holds it (*@shared), grown to @n entries if it is smaller
 * (at least VSVA_INV_BUF_ENTRIES; at most VSVA_MAX_BATCH, 56 KiB, charged
 * to the caller's memory cgroup); else a new one.
 */
static struct vsva_cache_invalidate_info *
vsva_inv_buf_get(struct vsva_ctx *ctx, u32 n, bool *shared)
{
	struct vsva_cache_invalidate_info *buf;
	u32 len;

	*shared = false;
	if (mutex_trylock(&ctx->inv_buf_lock)) {
		if (n > ctx->inv_buf_len) {
			len = max_t(u32, n, VSVA_INV_BUF_ENTRIES);
			buf = kvmalloc_array(len, sizeof(*buf),
					     GFP_KERNEL_ACCOUNT);
			if (buf) {
				kvfree(ctx->inv_buf);
				ctx->inv_buf = buf;
				ctx->inv_buf_len = len;
			}
		}
		if (n <= ctx->inv_buf_len) {
			*shared = true;
			return ctx->inv_buf;
		}
		mutex_unlock(&ctx->inv_buf_lock);
	}
	return kvmalloc_array(n, sizeof(struct vsva_cache_invalidate_info),
			      GFP_KERNEL_ACCOUNT);
}

static void vsva_inv_buf_put(struct vsva_ctx *ctx,
			     struct vsva_cache_invalidate_info *inv,
			     bool shared)
{
	if (shared)
		mutex_unlock(&ctx->inv_buf_lock);
	else
		kvfree(inv);
}

static int vsva_invalidate_batch(struct vsva_ctx *ctx,
				 const struct vsva_cache_invalidate_batch *b,
				 u32 *handled, struct vsva_errmsg *err)
{
	const size_t ksize = sizeof(struct vsva_cache_invalidate_info);
	bool rid_ok = b->flags & VSVA_RID_PASID_OK;
	struct vsva_cache_invalidate_info *inv;
	unsigned int valid, done = 0;
	int rc = 0, vrc = 0;
	bool shared;
	u8 *arr;

	*handled = 0;
	/* The UAPI's bound, whatever the kernel's page size. */
	if (b->entry_len < ksize || b->entry_len > VSVA_MAX_PAYLOAD) {
		vsva_err(err, "batch: entry_len %u is outside [%zu, %u]",
			 b->entry_len, ksize, VSVA_MAX_PAYLOAD);
		return -EINVAL;
	}
	if (b->entry_num > VSVA_MAX_BATCH) {
		vsva_err(err, "batch: entry_num %u exceeds the maximum %u",
			 b->entry_num, VSVA_MAX_BATCH);
		return -EINVAL;
	}
	if (!b->entry_num)
		return 0;

	inv = vsva_inv_buf_get(ctx, b->entry_num, &shared);
	if (!inv)
		return -ENOMEM;
	/* The usual stride needs no second buffer: read straight into @inv. */
	if (b->entry_len == ksize) {
		arr = (u8 *)inv;
	} else {
		arr = kvmalloc_array(b->entry_num, b->entry_len,
				     GFP_KERNEL_ACCOUNT);
		if (!arr) {
			rc = -ENOMEM;
			goto out_free_inv;
		}
	}
	atomic64_inc(&ctx->counters.payload_copies);
	if (copy_from_user(arr, u64_to_user_ptr(b->data_uptr),
			   (size_t)b->entry_num * b->entry_len)) {
		vsva_err(err, "batch: cannot read %u entries at 0x%llx",
			 b->entry_num, b->data_uptr);
		rc = -EFAULT;
		goto out_free_arr;
	}

	/*
	 * Check up to the first bad entry; apply the good ones before it.
	 * The usual stride and entry take the short way.
	 */
	valid = 0;
	if (b->entry_len == ksize)
		valid = vsva_inv_fast_prefix(inv, b->entry_num, rid_ok);
	for (; valid < b->entry_num; valid++) {
		const u8 *e = arr + (size_t)valid * b->entry_len;
		u32 argsz;

		/* Any stride is allowed: the entry may be unaligned. */
		memcpy(&argsz, e, sizeof(argsz));

		if (argsz > b->entry_len) {
			vsva_err(err, "invalidate: argsz %u exceeds entry_len %u",
				 argsz, b->entry_len);
			vrc = -EINVAL;
			break;
		}
		if (b->entry_len > ksize &&
		    memchr_inv(e + ksize, 0, b->entry_len - ksize)) {
			vsva_err(err, "invalidate: bytes past %zu are not zero",
				 ksize);
			vrc = -E2BIG;
			break;
		}
		/* Bytes past argsz read as zero. */
		if (e != (const u8 *)&inv[valid])
			memcpy(&inv[valid], e, min_t(size_t, argsz, ksize));
		if (argsz < ksize)
			memset((u8 *)&inv[valid] + argsz, 0, ksize - argsz);
		vrc = vsva_check_inv_info(&inv[valid], rid_ok, err);
		if (vrc)
			break;
	}
	if (valid)
		rc = __vsva_cache_invalidate_user(ctx, b->target_id, b->flags,
						  inv, valid, &done, err);
	if (!rc)
		rc = vrc;
	if (rc)
		vsva_batch_msg(err, done);
	*handled = done;
out_free_arr:
	if (arr != (u8 *)inv)
		kvfree(arr);
out_free_inv:
	vsva_inv_buf_put(ctx, inv, shared);
	return rc;
}

int vsva_uapi_invalidate_batch(struct vsva_ctx *ctx,
			       const struct vsva_cache_invalidate_batch *b,
			       u32 *handled, struct vsva_errmsg *err)
{
	int rc = vsva_invalidate_batch(ctx, b, handled, err);

	trace_vsva_invalidate_batch(ctx->id, b->target_id, b->flags,
				    b->entry_num, *handled, rc);
	return rc;
}
