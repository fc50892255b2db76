/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsva-qemu: a C ABI for QEMU's intel_iommu and host-IOMMU-device glue.
 *
 * One vsva_qemu_ctx per VM (one /dev/vsva context, one stage-2 domain);
 * one vsva_qemu_dev per passthrough device behind the virtual VT-d.  The
 * library decodes guest PASID entries and invalidation descriptors itself
 * (VT-d rev 5.10 rules) and forwards bind / unbind / invalidate to the host.
 * Documentation/qemu-integration.md shows where each call belongs in QEMU.
 *
 * Errors: every int-returning call returns 0 (or a count) on success and a
 * negative errno on failure; vsva_qemu_last_error() then returns a sentence
 * naming the field and the rule.  Not thread-safe per context: QEMU calls it
 * under the BQL (or the vIOMMU's own lock).
 *
 * Compiles as C99 and C++.
 */
#ifndef VSVA_QEMU_H
#define VSVA_QEMU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque: one VM. */
typedef struct vsva_qemu_ctx vsva_qemu_ctx;
/** Opaque: one device behind the virtual VT-d. */
typedef struct vsva_qemu_dev vsva_qemu_dev;

/**
 * Guest-memory access as the vIOMMU performs it (QEMU: address_space_rw()
 * on address_space_memory).  Returns 0 on success, non-zero on a fault.
 */
typedef int (*vsva_qemu_dma_rw_fn)(void* opaque, uint64_t gpa, void* buf, size_t len, int is_write);

/** No kernel: host calls succeed and are only counted (tests, bring-up). */
#define VSVA_QEMU_OPEN_DRY_RUN (1u << 0)

/* Capabilities the virtual VT-d advertises (gate PASID-entry bits). */
#define VSVA_QEMU_CAP_FS5LP (1u << 0) /**< 5-level first stage (FSPM=01b) */
#define VSVA_QEMU_CAP_SRS (1u << 1)   /**< supervisor requests (SRE) */
#define VSVA_QEMU_CAP_EAFS (1u << 2)  /**< extended accessed flag (EAFE) */
#define VSVA_QEMU_CAP_PDS (1u << 3)   /**< page-request drain in wait descriptors */
#define VSVA_QEMU_CAP_DIT (1u << 4)   /**< device-TLB throttling (PFSID) */
/** Default: what QEMU's intel_iommu with x-flts advertises. */
#define VSVA_QEMU_CAP_DEFAULT (VSVA_QEMU_CAP_FS5LP | VSVA_QEMU_CAP_SRS)

/**
 * struct vsva_qemu_open_args - vsva_qemu_open() arguments
 * @size: sizeof(struct vsva_qemu_open_args) (for extension)
 * @flags: VSVA_QEMU_OPEN_*
 * @dev_path: the vsva node; NULL for "/dev/vsva"
 * @dma_rw: guest-memory access (required)
 * @opaque: passed to @dma_rw
 * @haw: host address width advertised to the guest (0: 48)
 * @mamv: CAP.MAMV advertised (0: 18)
 * @caps: VSVA_QEMU_CAP_* (0: VSVA_QEMU_CAP_DEFAULT)
 */
struct vsva_qemu_open_args {
    uint32_t size;
    uint32_t flags;
    const char* dev_path;
    vsva_qemu_dma_rw_fn dma_rw;
    void* opaque;
    uint32_t haw;
    uint32_t mamv;
    uint32_t caps;
    uint32_t reserved;
};

/** Open a VM context (and its stage-2 domain). */
int vsva_qemu_open(const struct vsva_qemu_open_args* args, vsva_qemu_ctx** out);
/** Unbinds, detaches, unmaps and frees everything of the context. */
void vsva_qemu_close(vsva_qemu_ctx* ctx);
/** The last failure's sentence (empty after a success); valid until the next call. */
const char* vsva_qemu_last_error(const vsva_qemu_ctx* ctx);

/** Map guest RAM [gpa, gpa+size) at @hva into stage 2 (memory listener region_add). */
int vsva_qemu_map_ram(vsva_qemu_ctx* ctx, uint64_t gpa, uint64_t size, void* hva);
/** Unmap what vsva_qemu_map_ram() mapped at exactly @gpa (region_del). */
int vsva_qemu_unmap_ram(vsva_qemu_ctx* ctx, uint64_t gpa);

/** Ask the host to enable ATS / PRI for the device. */
#define VSVA_QEMU_ATTACH_ATS (1u << 0)
#define VSVA_QEMU_ATTACH_PRI (1u << 1)

/**
 * Attach the host endpoint @host_rid as guest requester id @sid (the
 * device's source id behind the virtual VT-d).
 */
int vsva_qemu_attach_device(vsva_qemu_ctx* ctx, uint16_t sid, uint16_t host_rid, uint32_t flags,
                            vsva_qemu_dev** out);
/** Unbind every PASID of the device and detach it; @dev is freed. */
int vsva_qemu_detach_device(vsva_qemu_dev* dev);

/**
 * The device's scalable-mode context entry changed: PASIDDIRPTR (a GPA)
 * and PDTS, or @present = 0 when the entry is gone (unbinds everything).
 */
int vsva_qemu_set_pasid_dir(vsva_qemu_dev* dev, int present, uint64_t dir_gpa, uint32_t pdts);

/**
 * Bind stage 1 from a PASID table entry the caller read (@pe: the 512-bit
 * entry as eight little-endian qwords).  A changed entry rebinds, an
 * identical one is a no-op.  -EINVAL: malformed entry (reserved bits, PGTT,
 * FSPM); -EOPNOTSUPP: PGTT other than first-stage; -ENOENT: P=0.
 */
int vsva_qemu_bind_pasid_entry(vsva_qemu_dev* dev, uint32_t gpasid, const uint64_t pe[8]);
/** Re-read the guest's PASID entry through @dma_rw and bind / unbind to match. */
int vsva_qemu_sync_pasid(vsva_qemu_dev* dev, uint32_t gpasid);
/** Unbind one guest PASID (-ENOENT when not bound). */
int vsva_qemu_unbind(vsva_qemu_dev* dev, uint32_t gpasid);

/* vsva_qemu_desc_result.flags */
#define VSVA_QEMU_DESC_WAIT (1u << 0)           /**< a wait: the batch was submitted */
#define VSVA_QEMU_DESC_STATUS_WRITTEN (1u << 1) /**< SW=1: status data written */
#define VSVA_QEMU_DESC_INTERRUPT (1u << 2)      /**< IF=1: raise the completion event */

/**
 * struct vsva_qemu_desc_result - what one descriptor did
 * @type: the descriptor type (1..8)
 * @flags: VSVA_QEMU_DESC_*
 * @forwarded: host invalidations it queued
 * @reserved: zero
 */
struct vsva_qemu_desc_result {
    uint32_t type;
    uint32_t flags;
    uint32_t forwarded;
    uint32_t reserved;
};

/**
 * Process one invalidation descriptor (2 qwords when IQA.DW=0, 4 when
 * DW=1) in scalable (@scalable=1) or legacy mode.  Invalidations are
 * queued and submitted to the host in one batch at the next wait
 * descriptor (which also performs its status write through @dma_rw).
 * -EINVAL: an invalid descriptor — report IQE and stop the queue there.
 * @res may be NULL.
 */
int vsva_qemu_process_desc(vsva_qemu_ctx* ctx, const uint64_t* desc, uint32_t nqw, int scalable,
                           struct vsva_qemu_desc_result* res);
/** Submit queued invalidations now (end of a queue run without a wait). */
int vsva_qemu_flush(vsva_qemu_ctx* ctx);

/**
 * The fd to poll for page requests (-EOPNOTSUPP without a kernel).  The
 * queue is created at open, so no page request raised before this call is
 * lost.
 */
int vsva_qemu_fault_fd(vsva_qemu_ctx* ctx);

/**
 * struct vsva_qemu_page_req - a page request, in guest terms
 * @sid: guest requester id
 * @pasid_valid: 1 when @gpasid is valid
 * @gpasid: guest PASID
 * @grpid: page request group index (echo it in the response)
 * @perm: VSVA_FAULT_PERM_* bits
 * @last: last request of the group
 * @addr: the page (IOVA)
 */
struct vsva_qemu_page_req {
    uint16_t sid;
    uint16_t pasid_valid;
    uint32_t gpasid;
    uint32_t grpid;
    uint32_t perm;
    uint32_t last;
    uint32_t reserved;
    uint64_t addr;
};

/** Read up to @max pending page requests without blocking; returns how many. */
int vsva_qemu_read_page_requests(vsva_qemu_ctx* ctx, struct vsva_qemu_page_req* out, uint32_t max);

/* Response codes (as PCI PRG response / VSVA_PAGE_RESP_*). */
#define VSVA_QEMU_RESP_SUCCESS 0
#define VSVA_QEMU_RESP_INVALID 1
#define VSVA_QEMU_RESP_FAILURE 2

/** Answer page request group @grpid of @gpasid on @dev. */
int vsva_qemu_page_response(vsva_qemu_dev* dev, uint32_t gpasid, uint32_t grpid, uint32_t code);

/* vsva_qemu_emu_dma() flags. */
#define VSVA_QEMU_DMA_WRITE (1u << 0) /**< the device writes (else reads) */

/**
 * Emulated IOMMU only (VSVA_FEAT_EMU): device @dev accesses @len bytes at
 * @iova of guest PASID @gpasid, as a test device would.  0 when every byte
 * moved; -EFAULT when the access stopped at a translation fault (then
 * *@out_done says how many bytes moved and a page request may be pending);
 * -ENOENT when @gpasid is not bound; -EOPNOTSUPP in dry-run mode.
 */
int vsva_qemu_emu_dma(vsva_qemu_dev* dev, uint32_t gpasid, uint64_t iova, void* buf, uint32_t len,
                      uint32_t flags, uint32_t* out_done);

/**
 * struct vsva_qemu_stats - counters of the context
 */
struct vsva_qemu_stats {
    uint64_t descriptors;
    uint64_t invalid_descriptors;
    uint64_t binds;
    uint64_t unbinds;
    uint64_t rebinds;
    uint64_t bad_entries;
    uint64_t invalidations;
    uint64_t submissions;
    uint64_t waits;
    uint64_t host_errors;
};
int vsva_qemu_get_stats(const vsva_qemu_ctx* ctx, struct vsva_qemu_stats* out);

#ifdef __cplusplus
}
#endif

#endif /* VSVA_QEMU_H */
