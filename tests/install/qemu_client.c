/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny QEMU-like C client of the *installed* libvsva-qemu, built with
 * `pkg-config --cflags --libs vsva-qemu` (tests/install/qemu-abi.sh): open
 * a dry-run context, attach, bind one PASID entry, process a P_IOTLB and a
 * wait, detach, close.  Exit 0 when every step returned what it should.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vsva-qemu.h>

static unsigned char ram[1 << 16];

static int rw(void *opaque, uint64_t gpa, void *buf, size_t len, int is_write)
{
	(void)opaque;
	if (gpa + len > sizeof(ram))
		return -1;
	if (is_write)
		memcpy(ram + gpa, buf, len);
	else
		memcpy(buf, ram + gpa, len);
	return 0;
}

#define STEP(expr, want)                                                         \
	do {                                                                     \
		int rc_ = (expr);                                                \
		if (rc_ != (want)) {                                             \
			fprintf(stderr, "%s = %d, want %d\n", #expr, rc_, (want)); \
			return 1;                                                \
		}                                                                \
	} while (0)

int main(void)
{
	struct vsva_qemu_open_args args;
	struct vsva_qemu_desc_result res;
	vsva_qemu_ctx *ctx = NULL;
	vsva_qemu_dev *dev = NULL;
	uint64_t pe[8] = { 1 | (1u << 6), 3, 0x4000, 0, 0, 0, 0, 0 };
	uint64_t d[4] = { 6 | (2u << 4) | (3u << 16) | (5ull << 32), 0, 0, 0 };
	uint64_t w[4] = { 5 | (1u << 5) | (0x77ull << 32), 0x8000, 0, 0 };
	uint32_t status = 0;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.flags = VSVA_QEMU_OPEN_DRY_RUN;
	args.dma_rw = rw;
	memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	if (vsva_qemu_version() != 0x200) {
		fprintf(stderr, "version %#x\n", vsva_qemu_version());
		return 1;
	}
	STEP(vsva_qemu_open(&args, &ctx), 0);
	STEP(vsva_qemu_attach_device(ctx, 0x10, 0x10, 0, &dev), 0);
	STEP(vsva_qemu_bind_pasid_entry(dev, 5, pe), 0);
	STEP(vsva_qemu_process_desc(ctx, d, 4, 1, &res), 0);
	STEP((int)res.forwarded, 1);
	STEP(vsva_qemu_process_desc(ctx, w, 4, 1, &res), 0);
	memcpy(&status, ram + 0x8000, 4);
	STEP((int)status, 0x77);
	STEP(vsva_qemu_close(ctx), -EBUSY);
	STEP(vsva_qemu_detach_device(dev), 0);
	STEP(vsva_qemu_close(ctx), 0);
	printf("qemu_client: ok\n");
	return 0;
}
