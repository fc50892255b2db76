// SPDX-License-Identifier: GPL-2.0
// The C ABI (vsva-qemu.h) over the VT-d adapter and libvsva.
#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>

#include <sys/ioctl.h>

#include <linux/vsva.h>

#include <fmt/format.h>

#include "vsva-qemu.h"
#include "vsva/qemu/adapter.h"
#ifdef VSVA_QEMU_HAVE_LIBVSVA
#include <vsva/emu.h>

#include "vsva/qemu/libvsva_host.h"
#endif

using namespace vsva::qemu;
using vsva::Result;

namespace {

class CallbackMemory final : public GuestMemory {
public:
    CallbackMemory(vsva_qemu_dma_rw_fn fn, void* opaque) : fn_(fn), opaque_(opaque) {}
    bool read(uint64_t gpa, void* dst, size_t len) override {
        return fn_(opaque_, gpa, dst, len, 0) == 0;
    }
    bool write(uint64_t gpa, const void* src, size_t len) override {
        return fn_(opaque_, gpa, const_cast<void*>(src), len, 1) == 0;
    }

private:
    vsva_qemu_dma_rw_fn fn_;
    void* opaque_;
};

// No kernel: every host call succeeds (bring-up, and the C ABI test).
class DryRunHost final : public HostIommu {
public:
    Result<uint32_t> alloc_pasid(uint32_t) override { return next_++; }
    Result<void> free_pasid(uint32_t) override { return {}; }
    Result<void> bind(const BindRequest&) override { return {}; }
    Result<void> unbind(const BindRequest&) override { return {}; }
    Result<BatchResult> invalidate(std::span<const Invalidation> b) override {
        return BatchResult{b.size(), b.size()};
    }
    Result<void> page_response(const HostPageResponse&) override { return {}; }
    [[nodiscard]] bool can_replace() const override { return true; }
    Result<void> replace(const BindRequest&, const BindRequest&) override { return {}; }

private:
    uint32_t next_ = 1;
};

// The kernel's struct rule (copy_struct_from_user): a smaller caller struct
// is an older caller (missing tail = zero), a larger one is accepted only
// when the bytes this library does not know are zero.
int copy_struct_in(void* dst, size_t ksize, const void* src, size_t usize) {
    const auto* u = static_cast<const unsigned char*>(src);
    if (usize > ksize) {
        if (std::any_of(u + ksize, u + usize, [](unsigned char c) { return c != 0; }))
            return -E2BIG;
        usize = ksize;
    }
    std::memset(dst, 0, ksize);
    std::memcpy(dst, src, usize);
    return 0;
}

// Outputs: up to the caller's size; a newer caller's tail is zeroed.
void copy_struct_out(void* dst, size_t usize, const void* src, size_t ksize) {
    std::memcpy(dst, src, std::min(usize, ksize));
    if (usize > ksize)
        std::memset(static_cast<unsigned char*>(dst) + ksize, 0, usize - ksize);
}

// The sentence of this thread's last failed vsva_qemu_open() ("" after a success).
std::string& open_error() {
    thread_local std::string s;
    return s;
}

} // namespace

struct vsva_qemu_dev {
    vsva_qemu_ctx* ctx = nullptr;
    uint16_t sid = 0;
    uint32_t host_id = 0;
#ifdef VSVA_QEMU_HAVE_LIBVSVA
    std::optional<vsva::Device> vdev;
#endif
};

struct vsva_qemu_ctx {
    std::string err;
    std::unique_ptr<CallbackMemory> mem;
#ifdef VSVA_QEMU_HAVE_LIBVSVA
    std::optional<vsva::Context> vctx;
    std::optional<vsva::Domain> dom;
    std::map<uint64_t, vsva::Mapping> maps;
    std::optional<vsva::FaultQueue> faults;
    LibvsvaHost* lhost = nullptr;
#endif
    std::unique_ptr<HostIommu> host;
    std::unique_ptr<VtdAdapter> ad;
    std::map<uint16_t, std::unique_ptr<vsva_qemu_dev>> devs;
    bool dry = false;
    uint32_t next_dry_dev = 1;
    uint64_t events_lost = 0;

    int fail(int err, std::string msg) {
        this->err = std::move(msg);
        return -err;
    }
    int fail(const vsva::Error& e) {
        // The adapter's own sentences stand alone; libvsva's say which call.
        return fail(e.code() ? e.code() : EIO,
                    e.op() == "vtd" && !e.message().empty() ? e.message() : e.to_string());
    }
    int ok() {
        err.clear();
        return 0;
    }
    int status(const Result<void>& s) {
        return s ? ok() : fail(s.error());
    }
};

namespace {

template <class F>
int guarded(vsva_qemu_ctx* ctx, F&& f) {
    if (!ctx)
        return -EINVAL;
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return ctx->fail(ENOMEM, "out of memory");
    }
}

} // namespace

namespace {

// The host PASID a request of @dev tags: the device's binding of @gpasid
// (RID_PASID, guest PASID 0, for a request without PASID).  Else the
// negative errno, with the sentence set.
tl::expected<uint32_t, int> request_pasid(vsva_qemu_dev* dev, uint32_t gpasid, bool no_pasid,
                                          const char* op, const char* flag) {
    vsva_qemu_ctx* ctx = dev->ctx;
    if (no_pasid && gpasid != 0)
        return tl::unexpected<int>(ctx->fail(
                EINVAL, fmt::format("{}: {} with guest PASID {} (must be 0)", op, flag, gpasid)));
    if (!no_pasid && gpasid == 0)
        return tl::unexpected<int>(
                ctx->fail(EINVAL, fmt::format("{}: guest PASID 0 is RID_PASID: a request without "
                                              "PASID takes {}",
                                              op, flag)));
    auto b = ctx->ad->binding(dev->sid, gpasid);
    if (!b)
        return tl::unexpected<int>(
                ctx->fail(ENOENT, no_pasid ? fmt::format("{}: RID_PASID (requests without PASID) "
                                                         "not bound on device {:04x}",
                                                         op, dev->sid)
                                           : fmt::format("{}: guest PASID {} not bound on device "
                                                         "{:04x}",
                                                         op, gpasid, dev->sid)));
    return b->hpasid;
}

#ifdef VSVA_QEMU_HAVE_LIBVSVA
// VSVA_EMU_DMA without PASID (VSVA_EMU_DMA_NO_PASID): libvsva's emu::dma()
// has no such flag, so the command is issued here.
Result<vsva::emu::DmaResult> emu_dma_no_pasid(const vsva::Context& vctx, const vsva::Device& dev,
                                              uint64_t iova, void* buf, uint32_t len,
                                              uint32_t flags) {
    vsva_emu_dma d = {};
    d.argsz = sizeof(d);
    d.flags = VSVA_EMU_DMA_NO_PASID | (flags & VSVA_QEMU_DMA_WRITE ? VSVA_EMU_DMA_WRITE : 0) |
              (flags & VSVA_QEMU_DMA_WAIT ? VSVA_EMU_DMA_WAIT : 0);
    d.dev_id = dev.id();
    d.pasid = kRidPasid;
    d.iova = iova;
    d.len = len;
    d.buf_uptr = reinterpret_cast<uintptr_t>(buf);
    if (ioctl(vctx.fd(), VSVA_EMU_DMA, &d) < 0)
        return vsva::fail(errno, "emu-dma", "VSVA_EMU_DMA_NO_PASID");
    vsva::emu::DmaResult res;
    res.done = d.out_done;
    res.faulted = d.out_flags & VSVA_EMU_DMA_FAULTED;
    res.page_request = d.out_flags & VSVA_EMU_DMA_PAGE_REQ;
    res.grpid = d.out_grpid;
    res.fault.dev_id = d.dev_id;
    res.fault.reason = d.out_fault.reason;
    res.fault.flags = d.out_fault.flags;
    res.fault.pasid = d.out_fault.pasid;
    res.fault.perm = d.out_fault.perm;
    res.fault.addr = d.out_fault.addr;
    res.fault.fetch_addr = d.out_fault.fetch_addr;
    return res;
}
#endif

// Every failure of vsva_qemu_open() leaves its sentence here.
int open_fail(int err, std::string msg) {
    try {
        open_error() = "open: " + std::move(msg);
    } catch (const std::bad_alloc&) {
        open_error().clear();
    }
    return -err;
}

[[maybe_unused]] int open_fail(const vsva::Error& e) {
    return open_fail(e.code() ? e.code() : EIO, e.to_string());
}

constexpr size_t kCapsEnd = offsetof(vsva_qemu_open_args, caps) + sizeof(uint32_t);

} // namespace

extern "C" {

int vsva_qemu_open(const struct vsva_qemu_open_args* args, vsva_qemu_ctx** out) {
    open_error().clear();
    if (!args || !out)
        return open_fail(EINVAL, !args ? "args is NULL" : "out is NULL");
    if (args->size < VSVA_QEMU_OPEN_ARGS_MIN_SIZE)
        return open_fail(EINVAL, fmt::format("args->size {} below VSVA_QEMU_OPEN_ARGS_MIN_SIZE {}",
                                             args->size, VSVA_QEMU_OPEN_ARGS_MIN_SIZE));
    vsva_qemu_open_args a;
    if (int rc = copy_struct_in(&a, sizeof(a), args, args->size))
        return open_fail(-rc, fmt::format("args->size {} is larger than this library's {} and "
                                          "the unknown tail is not zero",
                                          args->size, sizeof(a)));
    const uint32_t usize = args->size;
    args = &a;
    if (!args->dma_rw)
        return open_fail(EINVAL, "dma_rw is NULL (guest-memory access is required)");
    if (args->flags & ~VSVA_QEMU_OPEN_DRY_RUN)
        return open_fail(EOPNOTSUPP,
                         fmt::format("unknown flags {:#x}", args->flags & ~VSVA_QEMU_OPEN_DRY_RUN));
    if (args->reserved)
        return open_fail(EOPNOTSUPP, fmt::format("reserved is {:#x}, not 0", args->reserved));
    constexpr uint32_t kKnownCaps = VSVA_QEMU_CAP_FS5LP | VSVA_QEMU_CAP_SRS | VSVA_QEMU_CAP_EAFS |
                                    VSVA_QEMU_CAP_PDS | VSVA_QEMU_CAP_DIT | VSVA_QEMU_CAP_PRS;
    if (args->caps & ~kKnownCaps)
        return open_fail(EOPNOTSUPP,
                         fmt::format("unknown capability bits {:#x}", args->caps & ~kKnownCaps));
    *out = nullptr;
    try {
        auto ctx = std::make_unique<vsva_qemu_ctx>();
        ctx->mem = std::make_unique<CallbackMemory>(args->dma_rw, args->opaque);
        VtdCaps caps;
        // Exactly what the caller advertises (0 = none); the default only for
        // a caller whose struct ends before @caps.
        const uint32_t c = usize >= kCapsEnd ? args->caps : VSVA_QEMU_CAP_DEFAULT;
        caps.haw = args->haw ? args->haw : 48;
        caps.mamv = args->mamv ? args->mamv : 18;
        caps.fs5lp = c & VSVA_QEMU_CAP_FS5LP;
        caps.srs = c & VSVA_QEMU_CAP_SRS;
        caps.eafs = c & VSVA_QEMU_CAP_EAFS;
        caps.pds = c & VSVA_QEMU_CAP_PDS;
        caps.dit = c & VSVA_QEMU_CAP_DIT;
        caps.prs = c & VSVA_QEMU_CAP_PRS;
        if (caps.haw < 32 || caps.haw > 64 || caps.mamv > 63)
            return open_fail(EINVAL, fmt::format("haw {} (32..64) or mamv {} (0..63) out of range",
                                                 caps.haw, caps.mamv));
        if (args->flags & VSVA_QEMU_OPEN_DRY_RUN) {
            ctx->dry = true;
            ctx->host = std::make_unique<DryRunHost>();
        } else {
#ifdef VSVA_QEMU_HAVE_LIBVSVA
            vsva::OpenOptions o;
            if (args->dev_path)
                o.path = args->dev_path;
            o.require = vsva::Feature::Nesting;
            auto v = vsva::Context::open(o);
            if (!v)
                return open_fail(v.error());
            ctx->vctx.emplace(std::move(*v));
            auto d = ctx->vctx->create_domain();
            if (!d)
                return open_fail(d.error());
            ctx->dom.emplace(std::move(*d));
            // The fault queue must exist before the first fault: a page request
            // raised while the context has none is not queued for later.
            if (ctx->vctx->has(vsva::Feature::PageRequest)) {
                auto q = ctx->vctx->fault_queue();
                if (!q)
                    return open_fail(q.error());
                if (auto nb = q->set_nonblocking(true); !nb)
                    return open_fail(nb.error());
                ctx->faults.emplace(std::move(*q));
            }
            auto h = std::make_unique<LibvsvaHost>(*ctx->vctx);
            ctx->lhost = h.get();
            ctx->host = std::move(h);
#else
            return open_fail(EOPNOTSUPP, "built without libvsva: only VSVA_QEMU_OPEN_DRY_RUN");
#endif
        }
        ctx->ad = std::make_unique<VtdAdapter>(*ctx->host, *ctx->mem, caps);
        *out = ctx.release();
        return 0;
    } catch (const std::bad_alloc&) {
        return open_fail(ENOMEM, "out of memory");
    }
}

uint32_t vsva_qemu_version(void) {
    return (0u << 16) | (2u << 8) | 0u;
}

const char* vsva_qemu_open_error(void) {
    return open_error().c_str();
}

int vsva_qemu_close(vsva_qemu_ctx* ctx) {
    if (!ctx)
        return -EINVAL;
    if (!ctx->devs.empty()) {
        ctx->fail(EBUSY, fmt::format("close: {} device(s) still attached; detach them first",
                                     ctx->devs.size()));
        return -EBUSY;
    }
    ctx->ad.reset();
    ctx->host.reset(); // drops Pasids
#ifdef VSVA_QEMU_HAVE_LIBVSVA
    ctx->faults.reset();
    ctx->maps.clear();
    ctx->dom.reset();
    ctx->vctx.reset();
#endif
    delete ctx;
    return 0;
}

const char* vsva_qemu_last_error(const vsva_qemu_ctx* ctx) {
    return ctx ? ctx->err.c_str() : "";
}

int vsva_qemu_map_ram(vsva_qemu_ctx* ctx, uint64_t gpa, uint64_t size, void* hva) {
    return guarded(ctx, [&] {
        if ((gpa | size | reinterpret_cast<uintptr_t>(hva)) & 0xfff || !size)
            return ctx->fail(EINVAL,
                             fmt::format("map: GPA {:#x} size {:#x} must be non-zero, 4 KiB "
                                         "aligned",
                                         gpa, size));
        if (ctx->dry)
            return ctx->ok();
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        auto m = ctx->dom->map(gpa, hva, size);
        if (!m)
            return ctx->fail(m.error());
        ctx->maps.insert_or_assign(gpa, std::move(*m));
        return ctx->ok();
#else
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_unmap_ram(vsva_qemu_ctx* ctx, uint64_t gpa) {
    return guarded(ctx, [&] {
        if (ctx->dry)
            return ctx->ok();
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        auto it = ctx->maps.find(gpa);
        if (it == ctx->maps.end())
            return ctx->fail(ENOENT, fmt::format("unmap: nothing mapped at GPA {:#x}", gpa));
        auto r = it->second.unmap();
        ctx->maps.erase(it);
        if (!r)
            return ctx->fail(r.error());
        return ctx->ok();
#else
    (void)gpa;
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_attach_device(vsva_qemu_ctx* ctx, uint16_t sid, uint16_t host_rid, uint32_t flags,
                            vsva_qemu_dev** out) {
    return guarded(ctx, [&] {
        if (!out)
            return ctx->fail(EINVAL, "attach: out is NULL");
        if (flags & ~(VSVA_QEMU_ATTACH_ATS | VSVA_QEMU_ATTACH_PRI))
            return ctx->fail(EOPNOTSUPP, fmt::format("attach: unknown flags {:#x}", flags));
        if (ctx->devs.count(sid))
            return ctx->fail(EEXIST, fmt::format("attach: guest SID {:04x} already attached", sid));
        auto dev = std::make_unique<vsva_qemu_dev>();
        dev->ctx = ctx;
        dev->sid = sid;
        if (ctx->dry) {
            dev->host_id = ctx->next_dry_dev++;
        } else {
#ifdef VSVA_QEMU_HAVE_LIBVSVA
            vsva::AttachOptions o;
            o.enable_ats = flags & VSVA_QEMU_ATTACH_ATS;
            o.enable_pri = flags & VSVA_QEMU_ATTACH_PRI;
            auto d = ctx->dom->attach(host_rid, o);
            if (!d)
                return ctx->fail(d.error());
            dev->vdev.emplace(std::move(*d));
            dev->host_id = dev->vdev->id();
            ctx->lhost->add_device(*dev->vdev);
#else
      (void)host_rid;
      return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
        }
        if (auto s = ctx->ad->add_device(sid, dev->host_id); !s)
            return ctx->fail(s.error());
        *out = dev.get();
        ctx->devs.emplace(sid, std::move(dev));
        return ctx->ok();
    });
}

int vsva_qemu_detach_device(vsva_qemu_dev* dev) {
    if (!dev)
        return -EINVAL;
    vsva_qemu_ctx* ctx = dev->ctx;
    return guarded(ctx, [&] {
        Result<void> s = ctx->ad->remove_device(dev->sid);
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        if (ctx->lhost)
            ctx->lhost->remove_device(dev->host_id);
#endif
        ctx->devs.erase(dev->sid); // frees dev, detaches
        return ctx->status(s);
    });
}

int vsva_qemu_set_pasid_dir(vsva_qemu_dev* dev, int present, uint64_t dir_gpa, uint32_t pdts) {
    if (!dev)
        return -EINVAL;
    return guarded(dev->ctx, [&] {
        return dev->ctx->status(dev->ctx->ad->set_pasid_dir(
                dev->sid, present ? std::optional<uint64_t>(dir_gpa) : std::nullopt, pdts));
    });
}

int vsva_qemu_bind_pasid_entry(vsva_qemu_dev* dev, uint32_t gpasid, const uint64_t pe[8]) {
    if (!dev || !pe)
        return -EINVAL;
    return guarded(dev->ctx, [&] {
        PasidEntryRaw raw;
        for (int i = 0; i < 8; ++i)
            raw[i] = pe[i];
        return dev->ctx->status(dev->ctx->ad->bind_entry(dev->sid, gpasid, raw));
    });
}

int vsva_qemu_sync_pasid(vsva_qemu_dev* dev, uint32_t gpasid) {
    if (!dev)
        return -EINVAL;
    return guarded(dev->ctx,
                   [&] { return dev->ctx->status(dev->ctx->ad->sync_pasid(dev->sid, gpasid)); });
}

int vsva_qemu_unbind(vsva_qemu_dev* dev, uint32_t gpasid) {
    if (!dev)
        return -EINVAL;
    return guarded(dev->ctx,
                   [&] { return dev->ctx->status(dev->ctx->ad->unbind(dev->sid, gpasid)); });
}

int vsva_qemu_process_desc(vsva_qemu_ctx* ctx, const uint64_t* desc, uint32_t nqw, int scalable,
                           struct vsva_qemu_desc_result* res) {
    return guarded(ctx, [&] {
        if (res && res->size < VSVA_QEMU_DESC_RESULT_MIN_SIZE)
            return ctx->fail(EINVAL, fmt::format("descriptor result: size {} below {}", res->size,
                                                 VSVA_QEMU_DESC_RESULT_MIN_SIZE));
        if (!desc || (nqw != 2 && nqw != 4))
            return ctx->fail(EINVAL, fmt::format("descriptor of {} qwords (2 or 4)", nqw));
        auto r = ctx->ad->process(std::span<const uint64_t>(desc, nqw),
                                  QueueMode{scalable != 0, nqw == 4});
        if (!r)
            return ctx->fail(r.error());
        if (res) {
            vsva_qemu_desc_result k{};
            k.size = sizeof(k);
            k.type = r->type;
            k.flags = (r->wait ? VSVA_QEMU_DESC_WAIT : 0) |
                      (r->status_written ? VSVA_QEMU_DESC_STATUS_WRITTEN : 0) |
                      (r->interrupt ? VSVA_QEMU_DESC_INTERRUPT : 0);
            k.forwarded = static_cast<uint32_t>(r->forwarded);
            const uint32_t usize = res->size;
            copy_struct_out(res, usize, &k, sizeof(k));
            res->size = usize;
        }
        return ctx->ok();
    });
}

int vsva_qemu_flush(vsva_qemu_ctx* ctx) {
    return guarded(ctx, [&] { return ctx->status(ctx->ad->flush()); });
}

int vsva_qemu_fault_fd(vsva_qemu_ctx* ctx) {
    return guarded(ctx, [&] {
        if (ctx->dry)
            return ctx->fail(EOPNOTSUPP, "dry run: no fault queue");
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        if (!ctx->faults) {
            auto q = ctx->vctx->fault_queue();
            if (!q)
                return ctx->fail(q.error());
            if (auto r = q->set_nonblocking(true); !r)
                return ctx->fail(r.error());
            ctx->faults.emplace(std::move(*q));
        }
        ctx->ok();
        return ctx->faults->fd();
#else
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_read_events(vsva_qemu_ctx* ctx, void* out, uint32_t event_size, uint32_t max) {
    return guarded(ctx, [&] {
        if (!out && max)
            return ctx->fail(EINVAL, "events: out is NULL");
        if (event_size < VSVA_QEMU_EVENT_MIN_SIZE)
            return ctx->fail(EINVAL, fmt::format("events: element size {} below {}", event_size,
                                                 VSVA_QEMU_EVENT_MIN_SIZE));
        if (max > INT32_MAX / 2)
            max = INT32_MAX / 2;
        if (ctx->dry)
            return ctx->ok();
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        if (int fd = vsva_qemu_fault_fd(ctx); fd < 0)
            return fd;
        auto* dst = static_cast<unsigned char*>(out);
        uint32_t n = 0;
        uint32_t lost = 0;
        // One host record at a time: nothing read is ever dropped here.
        while (n < max) {
            vsva::FaultRecord rec;
            auto r = ctx->faults->read(std::span<vsva::FaultRecord>(&rec, 1));
            if (!r)
                return ctx->fail(r.error());
            if (*r == 0)
                break;
            lost += rec.lost;
            ctx->events_lost += rec.lost;
            vsva_qemu_event ev{};
            if (auto* pr = std::get_if<vsva::PageRequest>(&rec.fault)) {
                HostPageRequest h;
                h.dev = pr->dev_id;
                h.pasid_valid = pr->pasid_valid();
                h.hpasid = pr->pasid;
                h.grpid = pr->grpid;
                h.perm = pr->perm;
                h.last = pr->last_page();
                h.priv_valid = pr->flags & VSVA_FAULT_PAGE_REQUEST_PRIV_DATA;
                h.addr = pr->addr;
                h.priv[0] = pr->private_data[0];
                h.priv[1] = pr->private_data[1];
                auto g = ctx->ad->page_request(h);
                if (!g)
                    continue;
                ev.type = VSVA_QEMU_EVENT_PAGE_REQ;
                auto& o = ev.page_req;
                o.sid = g->req.rid;
                o.flags = static_cast<uint16_t>((g->req.pv ? VSVA_QEMU_PR_PASID_VALID : 0) |
                                                (g->req.lpig ? VSVA_QEMU_PR_LAST : 0) |
                                                (g->req.pdp ? VSVA_QEMU_PR_PRIV_DATA : 0) |
                                                (g->req.exe ? VSVA_QEMU_PR_EXEC : 0) |
                                                (g->req.pm ? VSVA_QEMU_PR_PRIV : 0));
                o.gpasid = g->req.pasid;
                o.grpid = g->req.prgi;
                o.perm = pr->perm;
                o.addr = g->req.addr;
                o.private_data[0] = g->req.priv[0];
                o.private_data[1] = g->req.priv[1];
                std::copy(g->desc.begin(), g->desc.end(), o.desc);
            } else {
                const auto& u = std::get<vsva::UnrecoverableFault>(rec.fault);
                HostFault h;
                h.dev = u.dev_id;
                h.reason = u.reason;
                h.pasid_valid = u.flags & VSVA_FAULT_UNRECOV_PASID_VALID;
                h.hpasid = u.pasid;
                h.perm = u.perm;
                h.addr_valid = u.flags & VSVA_FAULT_UNRECOV_ADDR_VALID;
                h.addr = u.addr;
                auto g = ctx->ad->fault(h);
                if (!g)
                    continue;
                ev.type = VSVA_QEMU_EVENT_FAULT;
                auto& o = ev.fault;
                o.sid = g->sid;
                o.flags = static_cast<uint16_t>((g->pasid_valid ? VSVA_QEMU_FAULT_PASID_VALID : 0) |
                                                (g->write ? VSVA_QEMU_FAULT_WRITE : 0) |
                                                (g->exec ? VSVA_QEMU_FAULT_EXEC : 0) |
                                                (g->priv ? VSVA_QEMU_FAULT_PRIV : 0));
                o.gpasid = g->gpasid;
                o.reason = g->reason;
                o.host_reason = g->host_reason;
                o.addr = g->addr;
            }
            ev.lost = lost;
            lost = 0;
            copy_struct_out(dst + size_t{n} * event_size, event_size, &ev, sizeof(ev));
            ++n;
        }
        ctx->ok();
        return static_cast<int>(n);
#else
    (void)event_size;
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_page_response(vsva_qemu_dev* dev, const struct vsva_qemu_page_resp* uresp) {
    if (!dev)
        return -EINVAL;
    vsva_qemu_ctx* ctx = dev->ctx;
    return guarded(ctx, [&] {
        if (!uresp)
            return ctx->fail(EINVAL, "page response: NULL");
        if (uresp->size < VSVA_QEMU_PAGE_RESP_MIN_SIZE)
            return ctx->fail(EINVAL, fmt::format("page response: size {} below {}", uresp->size,
                                                 VSVA_QEMU_PAGE_RESP_MIN_SIZE));
        vsva_qemu_page_resp r;
        if (int rc = copy_struct_in(&r, sizeof(r), uresp, uresp->size))
            return ctx->fail(-rc, "page response: unknown trailing bytes are not zero");
        const uint32_t known =
                VSVA_QEMU_PR_PASID_VALID | VSVA_QEMU_PR_LAST | VSVA_QEMU_PR_PRIV_DATA;
        if ((r.flags & ~known) || r.reserved)
            return ctx->fail(EOPNOTSUPP, fmt::format("page response: unknown flags {:#x} or "
                                                     "reserved {:#x}",
                                                     r.flags & ~known, r.reserved));
        if (r.grpid > 0x1ff || r.gpasid > kPasidMax)
            return ctx->fail(EINVAL, fmt::format("page response: group {} (9 bits) or PASID {} "
                                                 "(20 bits) out of range",
                                                 r.grpid, r.gpasid));
        PgrpRespDesc d;
        d.pv = r.flags & VSVA_QEMU_PR_PASID_VALID;
        d.pdp = r.flags & VSVA_QEMU_PR_PRIV_DATA;
        d.lpig = r.flags & VSVA_QEMU_PR_LAST;
        d.code = static_cast<uint8_t>(r.code > 0xff ? 0xff : r.code);
        d.rid = dev->sid;
        d.pasid = d.pv ? r.gpasid : 0;
        d.prgi = static_cast<uint16_t>(r.grpid);
        if (d.pdp) {
            d.priv[0] = r.private_data[0];
            d.priv[1] = r.private_data[1];
        }
        if (r.code > 0xf)
            return ctx->fail(EINVAL, fmt::format("page response: code {:#x} is not a PCIe PRG "
                                                 "response code",
                                                 r.code));
        return ctx->status(ctx->ad->page_response(d));
    });
}

int vsva_qemu_emu_dma(vsva_qemu_dev* dev, uint32_t gpasid, uint64_t iova, void* buf, uint32_t len,
                      uint32_t flags, uint32_t* out_done) {
    if (!dev)
        return -EINVAL;
    vsva_qemu_ctx* ctx = dev->ctx;
    return guarded(ctx, [&] {
        if (out_done)
            *out_done = 0;
        constexpr uint32_t kKnown =
                VSVA_QEMU_DMA_WRITE | VSVA_QEMU_DMA_WAIT | VSVA_QEMU_DMA_NO_PASID;
        if (flags & ~kKnown)
            return ctx->fail(EOPNOTSUPP,
                             fmt::format("emu dma: unknown flags {:#x}", flags & ~kKnown));
        if (!buf && len)
            return ctx->fail(EINVAL, "emu dma: buf is NULL");
        auto hp = request_pasid(dev, gpasid, flags & VSVA_QEMU_DMA_NO_PASID, "emu dma",
                                "VSVA_QEMU_DMA_NO_PASID");
        if (!hp)
            return hp.error();
        if (ctx->dry)
            return ctx->fail(EOPNOTSUPP, "dry run: no emulated device");
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        Result<vsva::emu::DmaResult> r;
        if (flags & VSVA_QEMU_DMA_NO_PASID) {
            r = emu_dma_no_pasid(*ctx->vctx, *dev->vdev, iova, buf, len, flags);
        } else {
            vsva::emu::DmaFlags f;
            f.write = flags & VSVA_QEMU_DMA_WRITE;
            f.wait = flags & VSVA_QEMU_DMA_WAIT;
            r = vsva::emu::dma(*dev->vdev, *hp, iova,
                               std::span<std::byte>(static_cast<std::byte*>(buf), len), f);
        }
        if (!r)
            return ctx->fail(r.error());
        if (out_done)
            *out_done = static_cast<uint32_t>(r->done);
        if (r->faulted)
            return ctx->fail(EFAULT,
                             fmt::format("emu dma: fault (reason {}) at {:#x} after {} bytes{}",
                                         r->fault.reason, r->fault.addr, r->done,
                                         r->page_request ? ", page request queued" : ""));
        return ctx->ok();
#else
    (void)iova;
    return ctx->fail(EOPNOTSUPP, "built without libvsva");
#endif
    });
}

int vsva_qemu_emu_translate(vsva_qemu_dev* dev, uint32_t gpasid, uint64_t iova, uint32_t flags,
                            struct vsva_qemu_translation* out) {
    if (!dev || !out || out->size < VSVA_QEMU_TRANSLATION_MIN_SIZE)
        return -EINVAL;
    vsva_qemu_ctx* ctx = dev->ctx;
    return guarded(ctx, [&] {
        const uint32_t usize = out->size;
        vsva_qemu_translation t = {};
        t.size = usize;
        auto done = [&](int rc) {
            copy_struct_out(out, usize, &t, sizeof(t));
            return rc;
        };
        constexpr uint32_t kKnown = VSVA_QEMU_XLATE_WRITE | VSVA_QEMU_XLATE_NO_PASID;
        if (flags & ~kKnown)
            return done(ctx->fail(EOPNOTSUPP, fmt::format("emu translate: unknown flags {:#x}",
                                                          flags & ~kKnown)));
        auto hp = request_pasid(dev, gpasid, flags & VSVA_QEMU_XLATE_NO_PASID, "emu translate",
                                "VSVA_QEMU_XLATE_NO_PASID");
        if (!hp)
            return done(hp.error());
        if (ctx->dry)
            return done(ctx->fail(EOPNOTSUPP, "dry run: no emulated device"));
#ifdef VSVA_QEMU_HAVE_LIBVSVA
        vsva::emu::TranslateFlags f;
        f.write = flags & VSVA_QEMU_XLATE_WRITE;
        f.no_pasid = flags & VSVA_QEMU_XLATE_NO_PASID;
        auto r = vsva::emu::translate(*dev->vdev, *hp, iova, f);
        if (!r)
            return done(ctx->fail(r.error()));
        t.gpa = r->gpa;
        t.page_shift = r->page_shift;
        t.flags = (r->read ? VSVA_QEMU_XLATE_R : 0) | (r->write ? VSVA_QEMU_XLATE_W : 0);
        if (r->faulted) {
            t.flags = VSVA_QEMU_XLATE_FAULT;
            t.fault_reason = r->fault.reason;
            return done(ctx->fail(EFAULT, fmt::format("emu translate: fault (reason {}) at {:#x}",
                                                      r->fault.reason, r->fault.addr)));
        }
        return done(ctx->ok());
#else
        (void)iova;
        return done(ctx->fail(EOPNOTSUPP, "built without libvsva"));
#endif
    });
}

int vsva_qemu_get_stats(const vsva_qemu_ctx* ctx, struct vsva_qemu_stats* out) {
    if (!ctx || !out || out->size < VSVA_QEMU_STATS_MIN_SIZE)
        return -EINVAL;
    const AdapterStats& s = ctx->ad->stats();
    vsva_qemu_stats k{};
    k.size = sizeof(k);
    for (uint64_t n : s.descriptors)
        k.descriptors += n;
    k.invalid_descriptors = s.invalid_descriptors;
    k.binds = s.binds;
    k.unbinds = s.unbinds;
    k.rebinds = s.rebinds;
    k.bad_entries = s.bad_entries;
    k.invalidations = s.invalidations;
    k.submissions = s.submissions;
    k.waits = s.waits;
    k.host_errors = s.host_errors;
    k.page_requests = s.page_requests;
    k.page_requests_unmapped = s.page_requests_unmapped;
    k.auto_responses = s.auto_responses;
    k.page_responses = s.page_responses;
    k.stray_responses = s.stray_responses;
    k.faults = s.faults;
    k.faults_unmapped = s.faults_unmapped;
    k.events_lost = ctx->events_lost;
    const uint32_t usize = out->size;
    copy_struct_out(out, usize, &k, sizeof(k));
    out->size = usize;
    return 0;
}

} // extern "C"
