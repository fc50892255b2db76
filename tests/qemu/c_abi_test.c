/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C ABI compiles as plain C and works end to end in dry-run mode: a
 * guest PASID entry is bound, a P_IOTLB + wait batch is processed and the
 * status written, an invalid descriptor returns -EINVAL with a message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vsva-qemu.h"

static unsigned char ram[1 << 20] __attribute__((aligned(4096)));
static int failures;

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,  \
				__LINE__, #cond);                               \
			failures++;                                             \
		}                                                               \
	} while (0)

static unsigned rw_calls, status_writes;
#define STATUS_GPA 0x30000u

static int rw(void *opaque, uint64_t gpa, void *buf, size_t len, int is_write)
{
	(void)opaque;
	rw_calls++;
	if (gpa + len > sizeof(ram))
		return -1;
	if (is_write && gpa == STATUS_GPA)
		status_writes++;
	if (is_write)
		memcpy(ram + gpa, buf, len);
	else
		memcpy(buf, ram + gpa, len);
	return 0;
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

static vsva_qemu_ctx *open_sized(uint32_t size, const void *tail, size_t tail_len, int *rc)
{
	unsigned char buf[sizeof(struct vsva_qemu_open_args) + 16];
	struct vsva_qemu_open_args args;
	vsva_qemu_ctx *ctx = NULL;

	memset(buf, 0, sizeof(buf));
	memset(&args, 0, sizeof(args));
	args.dma_rw = rw;
	args.flags = VSVA_QEMU_OPEN_DRY_RUN;
	args.size = size;
	memcpy(buf, &args, size < sizeof(args) ? size : sizeof(args));
	if (tail)
		memcpy(buf + sizeof(args), tail, tail_len);
	*rc = vsva_qemu_open((const struct vsva_qemu_open_args *)buf, &ctx);
	return ctx;
}

/*
 * The kernel's extensibility rule on every struct of the C ABI: smaller =
 * older caller (zero-extended), larger = newer caller (accepted with a
 * zero tail, -E2BIG otherwise), below the minimum = -EINVAL.
 */
static void check_struct_sizes(void)
{
	const uint64_t zero[2] = { 0, 0 }, junk[2] = { 0, 1ull << 40 };
	vsva_qemu_ctx *ctx;
	vsva_qemu_dev *dev = NULL;
	int rc;

	/* Older caller: only the fields up to @opaque; defaults for the rest. */
	ctx = open_sized(VSVA_QEMU_OPEN_ARGS_MIN_SIZE, NULL, 0, &rc);
	CHECK(rc == 0 && ctx);
	if (ctx) {
		uint64_t d[4] = { 6 | (3u << 4) | (3u << 16) | (5ull << 32), 18, 0, 0 };
		uint64_t sre[8] = { 1 | (1u << 6), 3, 0x40000 | 1 | (1u << 2), 0, 0, 0, 0, 0 };
		struct vsva_qemu_desc_result small;

		/* default MAMV 18 applies: AM 18 is valid */
		CHECK(vsva_qemu_process_desc(ctx, d, 4, 1, NULL) == 0);
		/* and so do the default caps: SRE and FSPM=01b are accepted */
		CHECK(vsva_qemu_attach_device(ctx, 2, 2, 0, &dev) == 0);
		CHECK(vsva_qemu_bind_pasid_entry(dev, 5, sre) == 0);
		CHECK(vsva_qemu_detach_device(dev) == 0);
		/* output struct below its minimum */
		memset(&small, 0, sizeof(small));
		small.size = 8;
		CHECK(vsva_qemu_process_desc(ctx, d, 4, 1, &small) == -EINVAL);
		CHECK(vsva_qemu_close(ctx) == 0);
	}
	ctx = open_sized(VSVA_QEMU_OPEN_ARGS_MIN_SIZE - 8, NULL, 0, &rc);
	CHECK(rc == -EINVAL && !ctx);
	/* Newer caller: larger struct, zero tail accepted, else -E2BIG. */
	ctx = open_sized(sizeof(struct vsva_qemu_open_args) + 16, zero, sizeof(zero), &rc);
	CHECK(rc == 0 && ctx);
	ctx = ctx ? (vsva_qemu_close(ctx), NULL) : NULL;
	ctx = open_sized(sizeof(struct vsva_qemu_open_args) + 16, junk, sizeof(junk), &rc);
	CHECK(rc == -E2BIG && !ctx);

	ctx = open_sized(sizeof(struct vsva_qemu_open_args), NULL, 0, &rc);
	CHECK(rc == 0 && ctx);
	if (!ctx)
		return;
	CHECK(vsva_qemu_attach_device(ctx, 1, 1, 0, &dev) == 0);
	{
		/* Output from a newer caller: tail zeroed, its size kept. */
		unsigned char big[sizeof(struct vsva_qemu_stats) + 24];
		struct vsva_qemu_stats *st = (struct vsva_qemu_stats *)big;
		size_t i;
		int tail_zero = 1;

		memset(big, 0xa5, sizeof(big));
		st->size = sizeof(big);
		CHECK(vsva_qemu_get_stats(ctx, st) == 0);
		CHECK(st->size == sizeof(big));
		for (i = sizeof(struct vsva_qemu_stats); i < sizeof(big); i++)
			tail_zero &= big[i] == 0;
		CHECK(tail_zero);
		/* Older caller: only its part is written. */
		memset(big, 0xa5, sizeof(big));
		st->size = VSVA_QEMU_STATS_MIN_SIZE;
		CHECK(vsva_qemu_get_stats(ctx, st) == 0);
		CHECK(big[VSVA_QEMU_STATS_MIN_SIZE] == 0xa5);
		st->size = VSVA_QEMU_STATS_MIN_SIZE - 8;
		CHECK(vsva_qemu_get_stats(ctx, st) == -EINVAL);
	}
	{
		unsigned char buf[sizeof(struct vsva_qemu_page_resp) + 8];
		struct vsva_qemu_page_resp *pr = (struct vsva_qemu_page_resp *)buf;

		memset(buf, 0, sizeof(buf));
		pr->size = sizeof(buf);
		pr->code = VSVA_QEMU_RESP_SUCCESS;
		CHECK(vsva_qemu_page_response(dev, pr) == 0); /* zero tail */
		buf[sizeof(*pr) + 3] = 1;
		CHECK(vsva_qemu_page_response(dev, pr) == -E2BIG);
		pr->size = VSVA_QEMU_PAGE_RESP_MIN_SIZE - 16;
		CHECK(vsva_qemu_page_response(dev, pr) == -EINVAL);
		pr->size = sizeof(*pr);
		pr->flags = 1u << 9;
		CHECK(vsva_qemu_page_response(dev, pr) == -EOPNOTSUPP);
	}
	{
		struct vsva_qemu_event ev[2];

		CHECK(vsva_qemu_read_events(ctx, ev, VSVA_QEMU_EVENT_MIN_SIZE - 8, 2) == -EINVAL);
		CHECK(vsva_qemu_read_events(ctx, ev, sizeof(ev[0]), 2) == 0); /* dry run: none */
	}
	CHECK(vsva_qemu_close(ctx) == -EBUSY);
	CHECK(vsva_qemu_detach_device(dev) == 0);
	CHECK(vsva_qemu_close(ctx) == 0);
}

static vsva_qemu_ctx *open_caps(uint32_t caps)
{
	struct vsva_qemu_open_args args;
	vsva_qemu_ctx *ctx = NULL;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.dma_rw = rw;
	args.flags = VSVA_QEMU_OPEN_DRY_RUN;
	args.caps = caps;
	CHECK(vsva_qemu_open(&args, &ctx) == 0);
	return ctx;
}

/* caps = 0 means none: SRE and FSPM=01b only when advertised. */
static void check_caps_exact(void)
{
	uint64_t sre[8] = { 1 | (1u << 6), 3, 0x40000 | 1, 0, 0, 0, 0, 0 };
	uint64_t lvl5[8] = { 1 | (1u << 6), 3, 0x40000 | (1u << 2), 0, 0, 0, 0, 0 };
	vsva_qemu_ctx *ctx = open_caps(0);
	vsva_qemu_dev *dev = NULL;

	if (!ctx)
		return;
	CHECK(vsva_qemu_attach_device(ctx, 1, 1, 0, &dev) == 0);
	CHECK(vsva_qemu_bind_pasid_entry(dev, 5, sre) == -EINVAL);
	CHECK(strstr(vsva_qemu_last_error(ctx), "SRE") != NULL);
	CHECK(vsva_qemu_bind_pasid_entry(dev, 6, lvl5) == -EINVAL);
	CHECK(strstr(vsva_qemu_last_error(ctx), "FSPM") != NULL);
	CHECK(vsva_qemu_detach_device(dev) == 0);
	CHECK(vsva_qemu_close(ctx) == 0);

	ctx = open_caps(VSVA_QEMU_CAP_SRS); /* SRE yes, 5-level no */
	if (!ctx)
		return;
	CHECK(vsva_qemu_attach_device(ctx, 1, 1, 0, &dev) == 0);
	CHECK(vsva_qemu_bind_pasid_entry(dev, 5, sre) == 0);
	CHECK(vsva_qemu_bind_pasid_entry(dev, 6, lvl5) == -EINVAL);
	CHECK(vsva_qemu_detach_device(dev) == 0);
	CHECK(vsva_qemu_close(ctx) == 0);
}

static void get_stats(vsva_qemu_ctx *ctx, struct vsva_qemu_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	CHECK(vsva_qemu_get_stats(ctx, st) == 0);
}

static uint32_t fwd(vsva_qemu_ctx *ctx, uint64_t q0, uint64_t q1)
{
	uint64_t d[4] = { q0, q1, 0, 0 };
	struct vsva_qemu_desc_result res;

	memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	CHECK(vsva_qemu_process_desc(ctx, d, 4, 1, &res) == 0);
	return res.forwarded;
}

/* Guest PASID 0 = RID_PASID, in dry-run: bound, invalidated, unbound. */
static void check_rid_pasid(void)
{
	vsva_qemu_ctx *ctx = open_caps(VSVA_QEMU_CAP_DEFAULT);
	vsva_qemu_dev *dev = NULL, *other = NULL;
	struct vsva_qemu_translation tr;
	struct vsva_qemu_stats st;
	uint64_t pe[8] = { 1 | (1u << 6), 2, 0x40000, 0, 0, 0, 0, 0 };
	char b[8];
	uint32_t done;

	if (!ctx)
		return;
	CHECK(vsva_qemu_attach_device(ctx, 0x0100, 0x0100, 0, &dev) == 0);
	CHECK(vsva_qemu_attach_device(ctx, 0x0108, 0x0108, 0, &other) == 0);
	memset(ram + 0x50000, 0, 0x2000);
	put64(0x50000, 0x51000 | 1);
	memcpy(ram + 0x51000, pe, sizeof(pe)); /* entry 0: RID_PASID, DID 2 */
	CHECK(vsva_qemu_set_pasid_dir(dev, 1, 0x50000, 0) == 0);
	CHECK(vsva_qemu_set_pasid_dir(other, 1, 0x50000, 0) == 0);

	memset(&tr, 0, sizeof(tr));
	tr.size = sizeof(tr);
	/* Not bound yet: -ENOENT (QEMU then syncs PASID 0 and retries). */
	CHECK(vsva_qemu_emu_translate(dev, 0, 0x1000, VSVA_QEMU_XLATE_NO_PASID, &tr) == -ENOENT);
	CHECK(strstr(vsva_qemu_last_error(ctx), "RID_PASID") != NULL);
	CHECK(vsva_qemu_sync_pasid(dev, 0) == 0);
	/* Bound on @dev only: the other device still answers -ENOENT. */
	CHECK(vsva_qemu_emu_translate(other, 0, 0x1000, VSVA_QEMU_XLATE_NO_PASID, &tr) == -ENOENT);
	CHECK(vsva_qemu_emu_translate(dev, 0, 0x1000, VSVA_QEMU_XLATE_NO_PASID, &tr) ==
	      -EOPNOTSUPP); /* dry run: bound, but no emulated device */
	CHECK(vsva_qemu_emu_translate(dev, 5, 0x1000, VSVA_QEMU_XLATE_NO_PASID, &tr) == -EINVAL);
	CHECK(vsva_qemu_emu_translate(dev, 0, 0x1000, 0, &tr) == -EINVAL);
	CHECK(strstr(vsva_qemu_last_error(ctx), "VSVA_QEMU_XLATE_NO_PASID") != NULL);
	CHECK(vsva_qemu_emu_dma(dev, 3, 0x1000, b, sizeof(b), VSVA_QEMU_DMA_NO_PASID, &done) ==
	      -EINVAL);
	CHECK(vsva_qemu_emu_dma(other, 0, 0x1000, b, sizeof(b), VSVA_QEMU_DMA_NO_PASID, &done) ==
	      -ENOENT);
	CHECK(vsva_qemu_emu_dma(dev, 0, 0x1000, b, sizeof(b), VSVA_QEMU_DMA_NO_PASID, &done) ==
	      -EOPNOTSUPP);

	/* P_IOTLB PASID 0 (Linux 6.1 qi_flush_piotlb for DMA domains), IOTLB
	 * domain / global, DEVTLB without PASID, P_DEVTLB PASID 0. */
	CHECK(fwd(ctx, 6 | (2u << 4) | (2u << 16), 0) == 1);
	CHECK(fwd(ctx, 2 | (2u << 4) | (2u << 16), 0) == 1);
	CHECK(fwd(ctx, 2 | (1u << 4), 0) == 1);
	CHECK(fwd(ctx, 3 | (0x0100ull << 32), 0x5000) == 1);
	CHECK(fwd(ctx, 3 | (0x0108ull << 32), 0x5000) == 0); /* nothing bound there */
	CHECK(fwd(ctx, 8 | (0x0100u << 16), 0x6000) == 1);
	CHECK(vsva_qemu_flush(ctx) == 0);
	get_stats(ctx, &st);
	CHECK(st.binds == 1 && st.invalidations == 5);
	/* PC naming PASID 0 re-reads entry 0: cleared, so unbound. */
	memset(ram + 0x51000, 0, 64);
	CHECK(fwd(ctx, 7 | (1u << 4) | (2u << 16), 0) == 0);
	get_stats(ctx, &st);
	CHECK(st.unbinds == 1);
	CHECK(vsva_qemu_unbind(dev, 0) == -ENOENT);
	CHECK(vsva_qemu_detach_device(dev) == 0);
	CHECK(vsva_qemu_detach_device(other) == 0);
	CHECK(vsva_qemu_close(ctx) == 0);
}

/*
 * A changed entry is replaced (never unbound in between); a global PC
 * over the largest directory costs what is present.
 */
static void check_replace_and_global_pc(void)
{
	vsva_qemu_ctx *ctx = open_caps(VSVA_QEMU_CAP_DEFAULT);
	vsva_qemu_dev *dev = NULL;
	struct vsva_qemu_stats st;
	uint64_t pe[8] = { 1 | (1u << 6), 2, 0x40000, 0, 0, 0, 0, 0 };
	unsigned before;

	if (!ctx)
		return;
	CHECK(vsva_qemu_attach_device(ctx, 0x0100, 0x0100, 0, &dev) == 0);
	/* PDTS 7: 2^14 directory entries (128 KiB), two present, 3 PASIDs. */
	memset(ram + 0x60000, 0, 0x20000);
	memset(ram + 0x80000, 0, 0x2000);
	put64(0x60000, 0x80000 | 1);
	put64(0x60000 + 16383 * 8, 0x81000 | 1);
	memcpy(ram + 0x80000, pe, sizeof(pe));           /* PASID 0 */
	memcpy(ram + 0x80000 + 9 * 64, pe, sizeof(pe));  /* PASID 9 */
	memcpy(ram + 0x81000 + 63 * 64, pe, sizeof(pe)); /* PASID 2^20 - 1 */
	CHECK(vsva_qemu_set_pasid_dir(dev, 1, 0x60000, 7) == 0);
	before = rw_calls;
	CHECK(fwd(ctx, 7 | (3u << 4), 0) == 0); /* global PC */
	get_stats(ctx, &st);
	CHECK(st.binds == 3 && st.host_errors == 0);
	/* guest reads: the directory, 2 tables, 2 per PASID */
	CHECK(rw_calls - before <= 3 + 2 * 3);

	pe[2] = 0x48000; /* the guest points PASID 9 at another table */
	memcpy(ram + 0x80000 + 9 * 64, pe, sizeof(pe));
	CHECK(fwd(ctx, 7 | (1u << 4) | (2u << 16) | (9ull << 32), 0) == 0);
	get_stats(ctx, &st);
	CHECK(st.rebinds == 1 && st.unbinds == 0 && st.binds == 4);
	CHECK(vsva_qemu_detach_device(dev) == 0);
	CHECK(vsva_qemu_close(ctx) == 0);
}

int main(void)
{
	struct vsva_qemu_open_args args;
	vsva_qemu_ctx *ctx = NULL;
	vsva_qemu_dev *dev = NULL;
	struct vsva_qemu_desc_result res;
	struct vsva_qemu_stats st;
	uint64_t pe[8] = { 0 };
	uint64_t d[4] = { 0 };
	uint32_t status = 0;
	int rc;

	memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	CHECK(vsva_qemu_open(&args, &ctx) == -EINVAL); /* no dma_rw */
	CHECK(strstr(vsva_qemu_open_error(), "dma_rw") != NULL);
	args.dma_rw = rw;
	args.flags = 1u << 7;
	CHECK(vsva_qemu_open(&args, &ctx) == -EOPNOTSUPP);
	CHECK(strstr(vsva_qemu_open_error(), "unknown flags 0x80") != NULL);
	args.flags = VSVA_QEMU_OPEN_DRY_RUN;
	args.caps = 1u << 20;
	CHECK(vsva_qemu_open(&args, &ctx) == -EOPNOTSUPP);
	CHECK(strstr(vsva_qemu_open_error(), "capability") != NULL);
	args.caps = VSVA_QEMU_CAP_DEFAULT; /* the entries below use SRE */
	rc = vsva_qemu_open(&args, &ctx);
	CHECK(rc == 0 && ctx != NULL);
	CHECK(strcmp(vsva_qemu_open_error(), "") == 0);
	if (!ctx)
		return 1;

	CHECK(vsva_qemu_map_ram(ctx, 0, sizeof(ram), ram) == 0);
	CHECK(vsva_qemu_map_ram(ctx, 0x123, 0x1000, ram) == -EINVAL);
	CHECK(strlen(vsva_qemu_last_error(ctx)) > 0);
	CHECK(vsva_qemu_attach_device(ctx, 0x0100, 0x0100, 0, &dev) == 0);
	CHECK(vsva_qemu_attach_device(ctx, 0x0100, 0x0100, 0, &dev) == -EEXIST);

	/* PASID directory at 0x10000 (PDTS 0), table at 0x11000, PASID 5. */
	put64(0x10000, 0x11000 | 1);
	pe[0] = 1 | (1u << 6);           /* P, PGTT = first stage */
	pe[1] = 3;                       /* DID 3 */
	pe[2] = 0x40000 | 1;             /* FS root, SRE */
	memcpy(ram + 0x11000 + 5 * 64, pe, sizeof(pe));
	CHECK(vsva_qemu_set_pasid_dir(dev, 1, 0x10000, 0) == 0);
	CHECK(vsva_qemu_sync_pasid(dev, 5) == 0);
	CHECK(vsva_qemu_bind_pasid_entry(dev, 5, pe) == 0); /* identical: no-op */

	pe[1] = 3 | (1ull << 30); /* bit 94 (PWT in rev 3.x) */
	CHECK(vsva_qemu_bind_pasid_entry(dev, 6, pe) == -EINVAL);
	CHECK(strstr(vsva_qemu_last_error(ctx), "reserved") != NULL);

	/* P_IOTLB page-selective, AM 9, then a wait with SW and IF. */
	d[0] = 6 | (3u << 4) | (3u << 16) | (5ull << 32);
	d[1] = 0x200000 | 9;
	CHECK(vsva_qemu_process_desc(ctx, d, 4, 1, &res) == 0);
	CHECK(res.type == 6 && res.forwarded == 1 && res.flags == 0);
	d[0] = 5 | (1u << 4) | (1u << 5) | (0xabcdull << 32);
	d[1] = STATUS_GPA;
	status_writes = 0;
	CHECK(vsva_qemu_process_desc(ctx, d, 4, 1, &res) == 0);
	CHECK(res.flags == (VSVA_QEMU_DESC_WAIT | VSVA_QEMU_DESC_STATUS_WRITTEN |
			    VSVA_QEMU_DESC_INTERRUPT));
	memcpy(&status, ram + STATUS_GPA, 4);
	CHECK(status == 0xabcd);
	CHECK(status_writes == 1); /* once, by the library */
	/* A status write that faults: -EFAULT, the vIOMMU reports IQE. */
	d[1] = sizeof(ram) + 0x1000;
	CHECK(vsva_qemu_process_desc(ctx, d, 4, 1, &res) == -EFAULT);
	CHECK(strstr(vsva_qemu_last_error(ctx), "status write") != NULL);

	/* AM 19 > MAMV 18: invalid descriptor (IQE). */
	d[0] = 6 | (3u << 4) | (3u << 16) | (5ull << 32);
	d[1] = 19;
	CHECK(vsva_qemu_process_desc(ctx, d, 4, 1, &res) == -EINVAL);
	CHECK(strstr(vsva_qemu_last_error(ctx), "MAMV") != NULL);
	/* 128-bit descriptor in scalable mode: invalid. */
	CHECK(vsva_qemu_process_desc(ctx, d, 2, 1, &res) == -EINVAL);

	{
		struct vsva_qemu_page_resp pr;

		memset(&pr, 0, sizeof(pr));
		pr.size = sizeof(pr);
		pr.flags = VSVA_QEMU_PR_PASID_VALID | VSVA_QEMU_PR_LAST;
		pr.gpasid = 5;
		pr.grpid = 1;
		pr.code = VSVA_QEMU_RESP_FAILURE; /* 0xf: PCIe Response Failure */
		CHECK(vsva_qemu_page_response(dev, &pr) == 0); /* no such group: dropped */
		pr.code = 2;                                   /* reserved in PCIe */
		CHECK(vsva_qemu_page_response(dev, &pr) == -EINVAL);
	}
	CHECK(vsva_qemu_fault_fd(ctx) == -EOPNOTSUPP);
	{
		char b[8];
		uint32_t done = 7;

		CHECK(vsva_qemu_emu_dma(dev, 5, 0x1000, b, sizeof(b), 0, &done) == -EOPNOTSUPP);
		CHECK(done == 0);
		CHECK(vsva_qemu_emu_dma(dev, 9, 0x1000, b, sizeof(b), 0, &done) == -ENOENT);
	}

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	CHECK(vsva_qemu_get_stats(ctx, &st) == 0);
	CHECK(st.stray_responses == 1);
	CHECK(st.binds == 1 && st.submissions == 1 && st.invalidations == 1);
	CHECK(st.waits == 2 && st.invalid_descriptors == 2 && st.bad_entries == 1);

	CHECK(vsva_qemu_unbind(dev, 5) == 0);
	CHECK(vsva_qemu_unbind(dev, 5) == -ENOENT);
	/* Handle lifetime: close refuses while a device is attached and
	 * changes nothing; the device handle stays valid. */
	CHECK(vsva_qemu_close(ctx) == -EBUSY);
	CHECK(strstr(vsva_qemu_last_error(ctx), "attached") != NULL);
	CHECK(vsva_qemu_set_pasid_dir(dev, 0, 0, 0) == 0);
	CHECK(vsva_qemu_detach_device(dev) == 0);
	CHECK(vsva_qemu_close(ctx) == 0);
	CHECK(vsva_qemu_close(NULL) == -EINVAL);

	check_struct_sizes();
	check_caps_exact();
	check_rid_pasid();
	check_replace_and_global_pc();

	if (failures)
		fprintf(stderr, "c_abi_test: %d failure(s)\n", failures);
	else
		printf("c_abi_test: all checks passed\n");
	return failures ? 1 : 0;
}
