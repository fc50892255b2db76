/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated nested IOMMU: the backend that always exists.
 *
 * Calling contract: arguments are kernel copies of the ioctl structs (argsz
 * and reserved tails already checked generically; the emulation checks its
 * own flags and fields).  The backend ops, vsva_emu_ctx_fini(),
 * vsva_emu_fault_prepare/abort(), vsva_emu_pasid_entry() and vsva_emu_debugfs_ctx()
 * are called with ctx->lock held.  vsva_emu_dma() is called WITHOUT
 * ctx->lock: it takes the lock itself around each page it moves and drops
 * it while it waits for a page response.  vsva_emu_ctx_init() runs before
 * the context is visible.
 */
#ifndef _VSVA_EMU_H
#define _VSVA_EMU_H

#include "../backend.h"

struct seq_file;
struct vsva_ctx;

extern const struct vsva_backend_ops vsva_emu_ops;

/* Module load / unload. */
int vsva_emu_init(void);
void vsva_emu_exit(void);

/*
 * Per context.  vsva_emu_ctx_fini() runs from release() after every unbind:
 * it answers pending page requests with INVALID and detaches the fault
 * queue, waking its readers (the fault fd stays valid until closed).
 */
int vsva_emu_ctx_init(struct vsva_ctx *ctx);
void vsva_emu_ctx_fini(struct vsva_ctx *ctx);

/*
 * VSVA_FAULT_ALLOC in two steps: make the queue and its file (-EBUSY when
 * the context has one), then either fd_install() it or, when the caller
 * cannot learn the fd, abort it.
 */
struct file *vsva_emu_fault_prepare(struct vsva_ctx *ctx);
void vsva_emu_fault_abort(struct vsva_ctx *ctx, struct file *file);

/* VSVA_EMU_DMA, VSVA_EMU_TRANSLATE, VSVA_EMU_PASID_ENTRY handlers. */
/* Called WITHOUT ctx->lock (see above). */
int vsva_emu_dma(struct vsva_ctx *ctx, struct vsva_emu_dma *cmd);
/*
 * @cmd's output could not be returned: withdraw the page request it left
 * pending (no WAIT), if its record is still unread.  Takes ctx->lock.
 */
void vsva_emu_dma_abort(struct vsva_ctx *ctx, const struct vsva_emu_dma *cmd);
/*
 * VSVA_EMU_TRANSLATE: takes ctx->lock itself; the abort withdraws a page
 * request whose output could not be returned, as vsva_emu_dma_abort().
 */
int vsva_emu_translate(struct vsva_ctx *ctx, struct vsva_emu_translate *cmd);
void vsva_emu_translate_abort(struct vsva_ctx *ctx,
			      const struct vsva_emu_translate *cmd);
int vsva_emu_pasid_entry(struct vsva_ctx *ctx,
			 struct vsva_emu_pasid_entry *cmd);

/* Page requests waiting for a response (debugfs, the release trace). */
unsigned int vsva_emu_pending_prqs(struct vsva_ctx *ctx);

/* debugfs: dump @ctx's emulated IOMMU state and counters. */
void vsva_emu_debugfs_ctx(struct seq_file *s, struct vsva_ctx *ctx);

#endif /* _VSVA_EMU_H */
