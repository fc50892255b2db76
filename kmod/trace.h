/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsva tracepoints: the "vsva" trace system (/sys/kernel/tracing/events/vsva/).
 * Documentation/tracepoints.md lists every event and its fields; `vsva trace`
 * prints them live.
 *
 * Every event carries the context id (debugfs ctx/<id>, `vsva stat`) and,
 * for a command, its result: 0 or the negative errno the caller got.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vsva

#if !defined(_VSVA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VSVA_TRACE_H

#include <linux/tracepoint.h>
#include <linux/vsva.h>

#define vsva_show_target(flags)						\
	(((flags) & VSVA_TARGET_DOMAIN) ? "domain" : "device")

#define vsva_show_granu(g)						\
	__print_symbolic(g,						\
			 { VSVA_INV_GRANU_DOMAIN, "domain" },		\
			 { VSVA_INV_GRANU_PASID, "pasid" },		\
			 { VSVA_INV_GRANU_ADDR, "addr" })

#define vsva_show_cache(c)						\
	__print_flags(c, "|",						\
		      { VSVA_CACHE_INV_TYPE_IOTLB, "iotlb" },		\
		      { VSVA_CACHE_INV_TYPE_DEV_IOTLB, "devtlb" },	\
		      { VSVA_CACHE_INV_TYPE_PASID, "pasid" })

/* A bind or an unbind of one PASID on one device or every device of a domain. */
DECLARE_EVENT_CLASS(vsva_bind_class,
	TP_PROTO(u32 ctx, u32 target, u32 flags, u32 pasid, u64 gpgd,
		 unsigned int devices, int result),
	TP_ARGS(ctx, target, flags, pasid, gpgd, devices, result),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, target)
		__field(u32, flags)
		__field(u32, pasid)
		__field(u64, gpgd)
		__field(unsigned int, devices)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->target = target;
		__entry->flags = flags;
		__entry->pasid = pasid;
		__entry->gpgd = gpgd;
		__entry->devices = devices;
		__entry->result = result;
	),
	TP_printk("ctx=%u %s=%u pasid=%u gpgd=0x%llx devices=%u result=%d",
		  __entry->ctx, vsva_show_target(__entry->flags),
		  __entry->target, __entry->pasid, __entry->gpgd,
		  __entry->devices, __entry->result)
);

DEFINE_EVENT(vsva_bind_class, vsva_bind,
	TP_PROTO(u32 ctx, u32 target, u32 flags, u32 pasid, u64 gpgd,
		 unsigned int devices, int result),
	TP_ARGS(ctx, target, flags, pasid, gpgd, devices, result)
);

DEFINE_EVENT(vsva_bind_class, vsva_unbind,
	TP_PROTO(u32 ctx, u32 target, u32 flags, u32 pasid, u64 gpgd,
		 unsigned int devices, int result),
	TP_ARGS(ctx, target, flags, pasid, gpgd, devices, result)
);

/*
 * One invalidation (alone or one entry of a batch).  @size: bytes covered
 * by an ADDR invalidation (granule_size * nb_granules), else 0.
 */
TRACE_EVENT(vsva_invalidate,
	TP_PROTO(u32 ctx, u32 target, u32 flags,
		 const struct vsva_cache_invalidate_info *inv, u32 pasid,
		 int result),
	TP_ARGS(ctx, target, flags, inv, pasid, result),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, target)
		__field(u32, flags)
		__field(u8, cache)
		__field(u8, granularity)
		__field(u32, pasid)
		__field(u64, addr)
		__field(u64, size)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->target = target;
		__entry->flags = flags;
		__entry->cache = inv->cache;
		__entry->granularity = inv->granularity;
		__entry->pasid = pasid;
		if (inv->granularity == VSVA_INV_GRANU_ADDR) {
			__entry->addr = inv->granu.addr_info.addr;
			__entry->size = inv->granu.addr_info.granule_size *
					inv->granu.addr_info.nb_granules;
		} else {
			__entry->addr = 0;
			__entry->size = 0;
		}
		__entry->result = result;
	),
	TP_printk("ctx=%u %s=%u cache=%s granu=%s pasid=%u addr=0x%llx size=0x%llx result=%d",
		  __entry->ctx, vsva_show_target(__entry->flags),
		  __entry->target, vsva_show_cache(__entry->cache),
		  vsva_show_granu(__entry->granularity), __entry->pasid,
		  __entry->addr, __entry->size, __entry->result)
);

/* One VSVA_CACHE_INVALIDATE_BATCH: @count entries, @done applied. */
TRACE_EVENT(vsva_invalidate_batch,
	TP_PROTO(u32 ctx, u32 target, u32 flags, u32 count, u32 done,
		 int result),
	TP_ARGS(ctx, target, flags, count, done, result),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, target)
		__field(u32, flags)
		__field(u32, count)
		__field(u32, done)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->target = target;
		__entry->flags = flags;
		__entry->count = count;
		__entry->done = done;
		__entry->result = result;
	),
	TP_printk("ctx=%u %s=%u count=%u done=%u result=%d",
		  __entry->ctx, vsva_show_target(__entry->flags),
		  __entry->target, __entry->count, __entry->done,
		  __entry->result)
);

/* A page request raised to the VMM (queued on the context's fault fd). */
TRACE_EVENT(vsva_page_request,
	TP_PROTO(u32 ctx, u32 dev, u32 pasid, u32 grpid, u64 addr, u32 perm),
	TP_ARGS(ctx, dev, pasid, grpid, addr, perm),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, dev)
		__field(u32, pasid)
		__field(u32, grpid)
		__field(u64, addr)
		__field(u32, perm)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->dev = dev;
		__entry->pasid = pasid;
		__entry->grpid = grpid;
		__entry->addr = addr;
		__entry->perm = perm;
	),
	TP_printk("ctx=%u dev=%u pasid=%u grpid=%u addr=0x%llx perm=0x%x",
		  __entry->ctx, __entry->dev, __entry->pasid, __entry->grpid,
		  __entry->addr, __entry->perm)
);

/* The VMM's answer to a page request (VSVA_PAGE_RESPONSE). */
TRACE_EVENT(vsva_page_response,
	TP_PROTO(u32 ctx, u32 dev, const struct vsva_page_response *msg,
		 int result),
	TP_ARGS(ctx, dev, msg, result),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, dev)
		__field(u32, pasid)
		__field(u32, grpid)
		__field(u32, code)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->dev = dev;
		__entry->pasid = (msg->flags & VSVA_PAGE_RESP_PASID_VALID) ?
				 msg->pasid : 0;
		__entry->grpid = msg->grpid;
		__entry->code = msg->code;
		__entry->result = result;
	),
	TP_printk("ctx=%u dev=%u pasid=%u grpid=%u code=%s result=%d",
		  __entry->ctx, __entry->dev, __entry->pasid, __entry->grpid,
		  __print_symbolic(__entry->code,
				   { VSVA_PAGE_RESP_SUCCESS, "success" },
				   { VSVA_PAGE_RESP_INVALID, "invalid" },
				   { VSVA_PAGE_RESP_FAILURE, "failure" }),
		  __entry->result)
);

/*
 * An unrecoverable fault reported to the VMM.  @queued: false when the
 * record was lost (no fault fd, or its queue full).
 */
TRACE_EVENT(vsva_fault,
	TP_PROTO(u32 ctx, u32 dev, const struct vsva_fault_unrecoverable *f,
		 bool queued),
	TP_ARGS(ctx, dev, f, queued),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(u32, dev)
		__field(u32, reason)
		__field(u32, pasid)
		__field(u32, perm)
		__field(u64, addr)
		__field(u64, fetch_addr)
		__field(bool, queued)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->dev = dev;
		__entry->reason = f->reason;
		__entry->pasid = f->pasid;
		__entry->perm = f->perm;
		__entry->addr = f->addr;
		__entry->fetch_addr = f->fetch_addr;
		__entry->queued = queued;
	),
	TP_printk("ctx=%u dev=%u reason=%u pasid=%u perm=0x%x addr=0x%llx fetch_addr=0x%llx queued=%d",
		  __entry->ctx, __entry->dev, __entry->reason, __entry->pasid,
		  __entry->perm, __entry->addr, __entry->fetch_addr,
		  __entry->queued)
);

/* A context released (last close of its fd): what the teardown released. */
TRACE_EVENT(vsva_ctx_release,
	TP_PROTO(u32 ctx, int pid, unsigned int bindings, unsigned int pasids,
		 unsigned int domains, unsigned int devices, u64 pinned_pages,
		 unsigned int page_requests),
	TP_ARGS(ctx, pid, bindings, pasids, domains, devices, pinned_pages,
		page_requests),
	TP_STRUCT__entry(
		__field(u32, ctx)
		__field(int, pid)
		__field(unsigned int, bindings)
		__field(unsigned int, pasids)
		__field(unsigned int, domains)
		__field(unsigned int, devices)
		__field(u64, pinned_pages)
		__field(unsigned int, page_requests)
	),
	TP_fast_assign(
		__entry->ctx = ctx;
		__entry->pid = pid;
		__entry->bindings = bindings;
		__entry->pasids = pasids;
		__entry->domains = domains;
		__entry->devices = devices;
		__entry->pinned_pages = pinned_pages;
		__entry->page_requests = page_requests;
	),
	TP_printk("ctx=%u pid=%d bindings=%u pasids=%u domains=%u devices=%u pinned_pages=%llu page_requests=%u",
		  __entry->ctx, __entry->pid, __entry->bindings,
		  __entry->pasids, __entry->domains, __entry->devices,
		  __entry->pinned_pages, __entry->page_requests)
);

#endif /* _VSVA_TRACE_H */

/* Out of tree: define_trace.h finds this file through these. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
