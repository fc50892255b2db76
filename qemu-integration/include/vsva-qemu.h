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
 * naming the field and the rule (vsva_qemu_open_error() for a failed open,
 * which has no context yet).  Not thread-safe per context: QEMU calls it
 * under the BQL (or the vIOMMU's own lock).
 *
 * Guest PASID 0 is RID_PASID: the PASID-table entry 0 that a guest in
 * scalable mode (ECAP.RPS=0) uses for its requests without PASID — the
 * DMA-API domain of every Linux guest.  It binds, syncs, unbinds and
 * invalidates like any other guest PASID when the kernel advertises
 * VSVA_FEAT_RID_PASID (else -EOPNOTSUPP); requests without PASID go through
 * it with VSVA_QEMU_XLATE_NO_PASID / VSVA_QEMU_DMA_NO_PASID.
 *
 * Handle lifetimes:
 * - a vsva_qemu_ctx lives from vsva_qemu_open() until a vsva_qemu_close()
 *   that returns 0.  Close fails with -EBUSY, changing nothing, while any
 *   device of the context is attached: detach them first.
 * - a vsva_qemu_dev lives from vsva_qemu_attach_device() until
 *   vsva_qemu_detach_device() returns (whatever it returns except -EINVAL
 *   for a NULL handle: the device is gone even when an unbind failed).
 * - the fd of vsva_qemu_fault_fd() belongs to the context: do not close it;
 *   it is closed by vsva_qemu_close().
 * - vsva_qemu_last_error()'s string is valid until the next call on the
 *   context.
 *
 * Structs (the kernel's rule, as copy_struct_from_user()): every struct
 * passed in or out starts with a uint32_t @size the caller sets to the
 * sizeof() it was compiled with.  A @size below the struct's *_MIN_SIZE is
 * -EINVAL.  Input structs: a smaller @size is an older caller, the missing
 * tail reads as zero (the default); a larger @size is a newer caller,
 * accepted when every byte this library does not know is zero, else -E2BIG.
 * Output structs: written up to min(@size, this library's size), a larger
 * caller's tail zeroed.  Arrays of structs take the element size the caller
 * knows as a parameter, with the same rule.  Unknown flag bits and non-zero
 * reserved fields fail with -EOPNOTSUPP.
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

/* Symbols of the shared library (hidden visibility, versioned VSVA_QEMU_1;
 * VSVA_QEMU_2 since 0.2: vsva_qemu_emu_translate, vsva_qemu_open_error). */
#if defined(VSVA_QEMU_BUILDING) && defined(__GNUC__)
#define VSVA_QEMU_EXPORT __attribute__((visibility("default")))
#else
#define VSVA_QEMU_EXPORT
#endif

/**
 * Library version: (major << 16) | (minor << 8) | patch.  0.2.0: RID_PASID
 * (guest PASID 0), exact @caps, vsva_qemu_open_error(), the NO_PASID flags.
 */
VSVA_QEMU_EXPORT uint32_t vsva_qemu_version(void);

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
/** ECAP.PRS: page requests; the page group response descriptor (type 9) is valid. */
#define VSVA_QEMU_CAP_PRS (1u << 5)
/**
 * Default for a caller whose struct vsva_qemu_open_args ends before @caps
 * (an older caller): what QEMU's intel_iommu with x-flts advertised.
 */
#define VSVA_QEMU_CAP_DEFAULT (VSVA_QEMU_CAP_FS5LP | VSVA_QEMU_CAP_SRS)

/**
 * struct vsva_qemu_open_args - vsva_qemu_open() arguments
 * @size: sizeof(struct vsva_qemu_open_args); at least
 *        VSVA_QEMU_OPEN_ARGS_MIN_SIZE (the fields up to @opaque: the rest
 *        defaults when absent)
 * @flags: VSVA_QEMU_OPEN_*
 * @dev_path: the vsva node; NULL for "/dev/vsva"
 * @dma_rw: guest-memory access (required)
 * @opaque: passed to @dma_rw
 * @haw: host address width advertised to the guest (0: 48)
 * @mamv: CAP.MAMV advertised (0: 18)
 * @caps: VSVA_QEMU_CAP_*: exactly what the virtual VT-d advertises to the
 *        guest; 0 means none.  Only a caller whose @size ends before @caps
 *        gets VSVA_QEMU_CAP_DEFAULT.  A PASID entry with SRE=1 needs
 *        VSVA_QEMU_CAP_SRS, FSPM=01b (5-level) VSVA_QEMU_CAP_FS5LP, EAFE=1
 *        VSVA_QEMU_CAP_EAFS (else -EINVAL and a sentence).
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
#define VSVA_QEMU_OPEN_ARGS_MIN_SIZE 32u /* offsetof(struct vsva_qemu_open_args, haw) */

/**
 * Open a VM context (and its stage-2 domain).  On failure the negative
 * errno is returned and vsva_qemu_open_error() says why.
 */
VSVA_QEMU_EXPORT int vsva_qemu_open(const struct vsva_qemu_open_args* args, vsva_qemu_ctx** out);
/**
 * Since VSVA_QEMU_2: the sentence of this thread's last failed
 * vsva_qemu_open() ("" after a successful one, or before any).  Thread-local:
 * valid until the next vsva_qemu_open() on the same thread.
 */
VSVA_QEMU_EXPORT const char* vsva_qemu_open_error(void);
/**
 * Unmaps guest RAM and frees the context.  -EBUSY (and nothing changes)
 * while a device is attached; -EINVAL for NULL.  After 0, @ctx is gone.
 */
VSVA_QEMU_EXPORT int vsva_qemu_close(vsva_qemu_ctx* ctx);
/** The last failure's sentence (empty after a success); valid until the next call. */
VSVA_QEMU_EXPORT const char* vsva_qemu_last_error(const vsva_qemu_ctx* ctx);

/** Map guest RAM [gpa, gpa+size) at @hva into stage 2 (memory listener region_add). */
VSVA_QEMU_EXPORT int vsva_qemu_map_ram(vsva_qemu_ctx* ctx, uint64_t gpa, uint64_t size, void* hva);
/** Unmap what vsva_qemu_map_ram() mapped at exactly @gpa (region_del). */
VSVA_QEMU_EXPORT int vsva_qemu_unmap_ram(vsva_qemu_ctx* ctx, uint64_t gpa);

/** Ask the host to enable ATS / PRI for the device. */
#define VSVA_QEMU_ATTACH_ATS (1u << 0)
#define VSVA_QEMU_ATTACH_PRI (1u << 1)

/**
 * Attach the host endpoint @host_rid as guest requester id @sid (the
 * device's source id behind the virtual VT-d).
 */
VSVA_QEMU_EXPORT int vsva_qemu_attach_device(vsva_qemu_ctx* ctx, uint16_t sid, uint16_t host_rid,
                                             uint32_t flags, vsva_qemu_dev** out);
/**
 * Unbind every PASID of the device and detach it.  @dev is freed when this
 * returns, whatever it returns (except -EINVAL for NULL).
 */
VSVA_QEMU_EXPORT int vsva_qemu_detach_device(vsva_qemu_dev* dev);

/**
 * The device's scalable-mode context entry changed: PASIDDIRPTR (a GPA)
 * and PDTS, or @present = 0 when the entry is gone (unbinds everything).
 */
VSVA_QEMU_EXPORT int vsva_qemu_set_pasid_dir(vsva_qemu_dev* dev, int present, uint64_t dir_gpa,
                                             uint32_t pdts);

/**
 * Bind stage 1 from a PASID table entry the caller read (@pe: the 512-bit
 * entry as eight little-endian qwords).  A changed entry rebinds (a replace
 * where the kernel has one: the PASID is never unbound in between), an
 * identical one is a no-op.  -EINVAL: malformed entry (reserved bits, PGTT,
 * FSPM, SRE / FSPM=01b / EAFE not advertised in @caps); -EOPNOTSUPP: PGTT
 * other than first-stage, or @gpasid 0 (RID_PASID) without
 * VSVA_FEAT_RID_PASID; -ENOENT: P=0.
 */
VSVA_QEMU_EXPORT int vsva_qemu_bind_pasid_entry(vsva_qemu_dev* dev, uint32_t gpasid,
                                                const uint64_t pe[8]);
/**
 * Re-read the guest's PASID entry through @dma_rw and bind / unbind to
 * match (@gpasid 0: RID_PASID, as for vsva_qemu_bind_pasid_entry()).  What a
 * vIOMMU without caching mode calls when vsva_qemu_emu_translate() answers
 * -ENOENT: such a guest sends no PASID-cache invalidation for a new entry.
 */
VSVA_QEMU_EXPORT int vsva_qemu_sync_pasid(vsva_qemu_dev* dev, uint32_t gpasid);
/** Unbind one guest PASID, 0 = RID_PASID (-ENOENT when not bound). */
VSVA_QEMU_EXPORT int vsva_qemu_unbind(vsva_qemu_dev* dev, uint32_t gpasid);

/* vsva_qemu_desc_result.flags */
#define VSVA_QEMU_DESC_WAIT (1u << 0)           /**< a wait: the batch was submitted */
#define VSVA_QEMU_DESC_STATUS_WRITTEN (1u << 1) /**< SW=1: status data written */
#define VSVA_QEMU_DESC_INTERRUPT (1u << 2)      /**< IF=1: raise the completion event */

/**
 * struct vsva_qemu_desc_result - what one descriptor did (output)
 * @size: sizeof(struct vsva_qemu_desc_result), set by the caller
 * @type: the descriptor type (1..9)
 * @flags: VSVA_QEMU_DESC_*
 * @forwarded: host invalidations it queued (page responses: 1 when forwarded)
 */
struct vsva_qemu_desc_result {
    uint32_t size;
    uint32_t type;
    uint32_t flags;
    uint32_t forwarded;
};
#define VSVA_QEMU_DESC_RESULT_MIN_SIZE 16u

/**
 * Process one invalidation descriptor (2 qwords when IQA.DW=0, 4 when
 * DW=1) in scalable (@scalable=1) or legacy mode.  Invalidations are
 * queued and submitted to the host at the next wait descriptor, one batch
 * per device: a device whose batch the host refuses does not keep the
 * other devices' invalidations from being submitted (counted in
 * host_errors; vsva_qemu_flush() returns the first such error).
 * Scalable mode, guest PASID 0 (RID_PASID): PC, P_IOTLB and P_DEVTLB
 * naming PASID 0, IOTLB (type 2) and DEVTLB (type 3, requests without
 * PASID) reach the RID_PASID binding.
 * The wait descriptor's status write (SW=1) is done here, once, through
 * @dma_rw: the vIOMMU must not write the status itself.  If that write
 * faults, -EFAULT (with a sentence): report an invalidation-queue error
 * (IQE) for the wait descriptor.
 * A page group response descriptor (type 9, valid with VSVA_QEMU_CAP_PRS)
 * answers a page request group read with vsva_qemu_read_events(): its
 * PCIe response code (0 success, 1 invalid request, 0xf response failure)
 * and private data go to the host.
 * -EINVAL: an invalid descriptor — report IQE and stop the queue there.
 * @res may be NULL; else res->size must be set.
 */
VSVA_QEMU_EXPORT int vsva_qemu_process_desc(vsva_qemu_ctx* ctx, const uint64_t* desc, uint32_t nqw,
                                            int scalable, struct vsva_qemu_desc_result* res);
/**
 * Submit queued invalidations now (end of a queue run without a wait), one
 * batch per device; every device's batch is tried, the first error returned.
 */
VSVA_QEMU_EXPORT int vsva_qemu_flush(vsva_qemu_ctx* ctx);

/**
 * The fd to poll for page requests and faults (-EOPNOTSUPP without a
 * kernel).  The queue is created at open, so no event raised before this
 * call is lost.  Owned by the context (see the lifetime rules above).
 */
VSVA_QEMU_EXPORT int vsva_qemu_fault_fd(vsva_qemu_ctx* ctx);

/* vsva_qemu_page_req.flags, vsva_qemu_page_resp.flags */
#define VSVA_QEMU_PR_PASID_VALID (1u << 0) /**< @gpasid is valid (PASID present) */
#define VSVA_QEMU_PR_LAST (1u << 1)        /**< last request of its group (LPIG) */
#define VSVA_QEMU_PR_PRIV_DATA (1u << 2)   /**< @private_data present (PDP) */
#define VSVA_QEMU_PR_EXEC (1u << 3)        /**< execute requested (request only) */
#define VSVA_QEMU_PR_PRIV (1u << 4)        /**< privileged mode requested (request only) */

/**
 * struct vsva_qemu_page_req - a page request, in guest terms
 * @sid: guest requester id
 * @flags: VSVA_QEMU_PR_*
 * @gpasid: guest PASID (with VSVA_QEMU_PR_PASID_VALID)
 * @grpid: page request group index, 9 bits (echo it in the response)
 * @perm: VSVA_FAULT_PERM_* requested
 * @reserved: zero
 * @addr: the page (IOVA, 4 KiB aligned)
 * @private_data: with VSVA_QEMU_PR_PRIV_DATA; the response must echo it
 * @desc: the page request descriptor to write into the guest's page
 *        request queue (256 bits, VT-d rev 3.x layout), built from the above
 *
 * A response is due (VT-d §7.7) when VSVA_QEMU_PR_LAST or
 * VSVA_QEMU_PR_PRIV_DATA is set.  If the vIOMMU cannot queue the request
 * (its page request queue is full: PRS.PRO), it must still answer such a
 * request, e.g. vsva_qemu_page_response() with VSVA_QEMU_RESP_SUCCESS so
 * the device retries.
 */
struct vsva_qemu_page_req {
    uint16_t sid;
    uint16_t flags;
    uint32_t gpasid;
    uint32_t grpid;
    uint32_t perm;
    uint64_t addr;
    uint64_t private_data[2];
    uint64_t desc[4];
};

/* vsva_qemu_fault.flags */
#define VSVA_QEMU_FAULT_PASID_VALID (1u << 0) /**< @gpasid is valid (PP) */
#define VSVA_QEMU_FAULT_WRITE (1u << 1)       /**< a write (else a read) */
#define VSVA_QEMU_FAULT_EXEC (1u << 2)        /**< an execute request */
#define VSVA_QEMU_FAULT_PRIV (1u << 3)        /**< a privileged request */

/**
 * struct vsva_qemu_fault - an unrecoverable fault for the vIOMMU's fault
 * recording (QEMU: vtd_report_fault())
 * @sid: guest requester id
 * @flags: VSVA_QEMU_FAULT_*
 * @gpasid: guest PASID (with VSVA_QEMU_FAULT_PASID_VALID)
 * @reason: the VT-d fault reason (FR), e.g. 0xc1 first-stage entry not present
 * @host_reason: the host's VSVA_FAULT_REASON_*
 * @reserved: zero
 * @addr: the faulting page (FI)
 */
struct vsva_qemu_fault {
    uint16_t sid;
    uint16_t flags;
    uint32_t gpasid;
    uint32_t reason;
    uint32_t host_reason;
    uint64_t reserved;
    uint64_t addr;
};

#define VSVA_QEMU_EVENT_PAGE_REQ 1 /**< @page_req is valid */
#define VSVA_QEMU_EVENT_FAULT 2    /**< @fault is valid */

/**
 * struct vsva_qemu_event - one event for the guest (output)
 * @type: VSVA_QEMU_EVENT_*
 * @lost: host events dropped just before this one (its queue overflowed):
 *        the vIOMMU reports an overflow (FSTS.PFO / PRS.PRO)
 * @page_req: for VSVA_QEMU_EVENT_PAGE_REQ
 * @fault: for VSVA_QEMU_EVENT_FAULT
 * @pad: fixes the size
 *
 * Events whose device or host PASID has no guest mapping never appear
 * here (never as a request without PASID): they are counted
 * (vsva_qemu_stats), and page requests among them answered INVALID.
 */
struct vsva_qemu_event {
    uint32_t type;
    uint32_t lost;
    union {
        struct vsva_qemu_page_req page_req;
        struct vsva_qemu_fault fault;
        uint8_t pad[88];
    };
};
#define VSVA_QEMU_EVENT_MIN_SIZE 96u

/**
 * Read up to @max pending events without blocking into @out, an array of
 * elements of @event_size bytes (sizeof(struct vsva_qemu_event) as the
 * caller knows it, at least VSVA_QEMU_EVENT_MIN_SIZE); returns how many.
 * Reading stops early, without losing any, at a lost-event mark it cannot
 * report in the same call.
 */
VSVA_QEMU_EXPORT int vsva_qemu_read_events(vsva_qemu_ctx* ctx, void* out, uint32_t event_size,
                                           uint32_t max);

/* Response codes: PCIe PRG response codes, as in the VT-d page group
 * response descriptor.  0x2..0xe are reserved (-EINVAL). */
#define VSVA_QEMU_RESP_SUCCESS 0x0
#define VSVA_QEMU_RESP_INVALID 0x1
#define VSVA_QEMU_RESP_FAILURE 0xf

/**
 * struct vsva_qemu_page_resp - the answer to a page request group (input)
 * @size: sizeof(struct vsva_qemu_page_resp)
 * @flags: VSVA_QEMU_PR_PASID_VALID, VSVA_QEMU_PR_LAST, VSVA_QEMU_PR_PRIV_DATA
 * @gpasid: the request's guest PASID (with VSVA_QEMU_PR_PASID_VALID)
 * @grpid: the request's group index
 * @code: VSVA_QEMU_RESP_*
 * @reserved: zero
 * @private_data: the request's, with VSVA_QEMU_PR_PRIV_DATA
 */
struct vsva_qemu_page_resp {
    uint32_t size;
    uint32_t flags;
    uint32_t gpasid;
    uint32_t grpid;
    uint32_t code;
    uint32_t reserved;
    uint64_t private_data[2];
};
#define VSVA_QEMU_PAGE_RESP_MIN_SIZE 40u

/**
 * Answer page request group @resp->grpid of @dev — what a page group
 * response descriptor does, for a vIOMMU that handles type 9 itself.  A
 * response to no pending group is dropped and counted (0).
 */
VSVA_QEMU_EXPORT int vsva_qemu_page_response(vsva_qemu_dev* dev,
                                             const struct vsva_qemu_page_resp* resp);

/* vsva_qemu_emu_dma() flags. */
#define VSVA_QEMU_DMA_WRITE (1u << 0) /**< the device writes (else reads) */
/** On a page fault with PRI, wait for the page response (SUCCESS retries). */
#define VSVA_QEMU_DMA_WAIT (1u << 1)
/**
 * Since 0.2: a request without PASID, through the RID_PASID binding
 * (guest PASID 0); @gpasid must be 0 (-EINVAL otherwise).
 */
#define VSVA_QEMU_DMA_NO_PASID (1u << 2)

/**
 * Emulated IOMMU only (VSVA_FEAT_EMU): device @dev accesses @len bytes at
 * @iova of guest PASID @gpasid, as a test device would.  0 when every byte
 * moved; -EFAULT when the access stopped at a translation fault (then
 * *@out_done says how many bytes moved and a page request may be pending);
 * -ENOENT when @gpasid (with VSVA_QEMU_DMA_NO_PASID: RID_PASID) is not
 * bound on @dev; -EOPNOTSUPP in dry-run mode.
 */
VSVA_QEMU_EXPORT int vsva_qemu_emu_dma(vsva_qemu_dev* dev, uint32_t gpasid, uint64_t iova,
                                       void* buf, uint32_t len, uint32_t flags, uint32_t* out_done);

/* vsva_qemu_emu_translate() flags. */
#define VSVA_QEMU_XLATE_WRITE (1u << 0) /**< for a write (else a read) */
/**
 * Since 0.2: a request without PASID (QEMU: a DMA of an emulated device
 * through its IOMMU memory region), through the RID_PASID binding (guest
 * PASID 0); @gpasid must be 0 (-EINVAL otherwise).
 */
#define VSVA_QEMU_XLATE_NO_PASID (1u << 1)

/* vsva_qemu_translation.flags */
#define VSVA_QEMU_XLATE_R (1u << 0)     /**< reads allowed through both stages */
#define VSVA_QEMU_XLATE_W (1u << 1)     /**< writes allowed without another walk */
#define VSVA_QEMU_XLATE_FAULT (1u << 2) /**< no translation: see @fault_reason */

/**
 * struct vsva_qemu_translation - what vsva_qemu_emu_translate() answered
 * (output; since VSVA_QEMU_2)
 * @size: sizeof(struct vsva_qemu_translation), set by the caller
 * @flags: VSVA_QEMU_XLATE_R, _W, _FAULT
 * @gpa: guest-physical address of the byte at the IOVA
 * @page_shift: log2 of the page that maps it: 12, 21 or 30
 * @fault_reason: with VSVA_QEMU_XLATE_FAULT, the VSVA_FAULT_REASON_* of
 *                <linux/vsva.h>
 */
struct vsva_qemu_translation {
    uint32_t size;
    uint32_t flags;
    uint64_t gpa;
    uint32_t page_shift;
    uint32_t fault_reason;
};
#define VSVA_QEMU_TRANSLATION_MIN_SIZE 24u

/**
 * Emulated IOMMU only (VSVA_FEAT_EMU_TRANSLATE), since VSVA_QEMU_2: what an
 * access of device @dev at @iova of guest PASID @gpasid translates to,
 * answered by vsva's emulated IOTLB / device TLB exactly as a DMA (a cached
 * entry is returned until invalidated, a miss walks) — what an IOMMU memory
 * region's translate callback asks instead of walking the tables itself.
 * 0 with @out filled; -EFAULT on a translation fault (@out->flags has
 * VSVA_QEMU_XLATE_FAULT; the fault is also recorded like a DMA fault);
 * -ENOENT when @gpasid (with VSVA_QEMU_XLATE_NO_PASID: RID_PASID) is not
 * bound on @dev — the vIOMMU may then vsva_qemu_sync_pasid() and retry;
 * -EOPNOTSUPP in dry-run mode or for unknown flags.
 */
VSVA_QEMU_EXPORT int vsva_qemu_emu_translate(vsva_qemu_dev* dev, uint32_t gpasid, uint64_t iova,
                                             uint32_t flags, struct vsva_qemu_translation* out);

/**
 * struct vsva_qemu_stats - counters of the context (output)
 * @size: sizeof(struct vsva_qemu_stats), set by the caller
 * @reserved: zero
 */
struct vsva_qemu_stats {
    uint32_t size;
    uint32_t reserved;
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
    uint64_t page_requests;          /**< delivered as events */
    uint64_t page_requests_unmapped; /**< no guest mapping: not delivered */
    uint64_t auto_responses;         /**< answered INVALID by the library */
    uint64_t page_responses;         /**< forwarded to the host */
    uint64_t stray_responses;        /**< to no pending group: dropped */
    uint64_t faults;                 /**< delivered as events */
    uint64_t faults_unmapped;        /**< no guest mapping: not delivered */
    uint64_t events_lost;            /**< sum of vsva_qemu_event.lost */
};
#define VSVA_QEMU_STATS_MIN_SIZE 88u
VSVA_QEMU_EXPORT int vsva_qemu_get_stats(const vsva_qemu_ctx* ctx, struct vsva_qemu_stats* out);

#ifdef __cplusplus
}
#endif

#endif /* VSVA_QEMU_H */
